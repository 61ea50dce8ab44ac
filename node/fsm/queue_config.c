/* queue_config.c: defaults and checks of a queue's settings. */
#include "queue_config.h"

#include <stdio.h>
#include <string.h>

#include "names.h"

mq_err queue_config_normalize(struct queue_config *cfg, struct errmsg *e)
{
    char full[MQ_QNAME_MAX + 1];
    mq_err rv = qname_normalize(cfg->name, full, e);
    if (rv != MQ_OK) {
        return rv;
    }
    memcpy(cfg->name, full, sizeof full);
    if (cfg->retention != MQ_RETENTION_LIMITS &&
        cfg->retention != MQ_RETENTION_WORK) {
        errmsg_set(e, "retention must be limits or work");
        return MQ_ERR_INVALID;
    }
    if (cfg->discard != MQ_DISCARD_OLD && cfg->discard != MQ_DISCARD_REJECT) {
        errmsg_set(e, "discard must be old or reject");
        return MQ_ERR_INVALID;
    }
    if (cfg->max_message_bytes == 0) {
        cfg->max_message_bytes = QUEUE_DEFAULT_MAX_MESSAGE_BYTES;
    }
    if (cfg->max_message_bytes > QUEUE_MAX_MESSAGE_BYTES_LIMIT) {
        errmsg_set(e, "max_message_bytes %u is over the limit of %u",
                   cfg->max_message_bytes, QUEUE_MAX_MESSAGE_BYTES_LIMIT);
        return MQ_ERR_INVALID;
    }
    if (cfg->duplicate_window_ms == 0) {
        cfg->duplicate_window_ms = QUEUE_DEFAULT_DUPLICATE_WINDOW_MS;
    }
    if (cfg->ack_timeout_ms == 0) {
        cfg->ack_timeout_ms = QUEUE_DEFAULT_ACK_TIMEOUT_MS;
    }
    if (cfg->max_delay_ms == 0) {
        cfg->max_delay_ms = QUEUE_DEFAULT_MAX_DELAY_MS;
    }
    if (cfg->delay_ms > cfg->max_delay_ms) {
        errmsg_set(e, "delay_ms %llu is over max_delay_ms %llu",
                   (unsigned long long)cfg->delay_ms,
                   (unsigned long long)cfg->max_delay_ms);
        return MQ_ERR_INVALID;
    }
    if (cfg->status_ttl_ms == 0) {
        cfg->status_ttl_ms = QUEUE_DEFAULT_STATUS_TTL_MS;
    }
    if (cfg->status_max == 0) {
        cfg->status_max = QUEUE_DEFAULT_STATUS_MAX;
    }
    if (cfg->dead_letter_queue[0] == '\0') {
        /* "<ns>/<name>.dlq"; a name too long for the suffix keeps 60
         * characters of it. */
        const char *slash = strchr(full, '/');
        snprintf(cfg->dead_letter_queue, sizeof cfg->dead_letter_queue,
                 "%.*s/%.*s.dlq", (int)(slash - full), full, MQ_NAME_MAX - 4,
                 slash + 1);
    } else {
        char dlq[MQ_QNAME_MAX + 1];
        rv = qname_normalize(cfg->dead_letter_queue, dlq, e);
        if (rv != MQ_OK) {
            errmsg_wrap(e, "dead_letter_queue");
            return rv;
        }
        memcpy(cfg->dead_letter_queue, dlq, sizeof dlq);
    }
    if (strcmp(cfg->dead_letter_queue, cfg->name) == 0) {
        errmsg_set(e, "a queue cannot be its own dead-letter queue");
        return MQ_ERR_INVALID;
    }
    return MQ_OK;
}
