/* queue_config.c: defaults and checks of a queue's settings. */
#include "queue_config.h"

#include <stdio.h>
#include <string.h>

#include "names.h"
#include "units.h"

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

void queue_config_set(struct queue_config *to, const struct queue_config *from,
                      uint32_t set)
{
#define COPY(bit, field)                                                       \
    if ((set & (bit)) != 0) {                                                  \
        to->field = from->field;                                               \
    }
    COPY(QUEUE_SET_DISCARD, discard)
    COPY(QUEUE_SET_MAX_MESSAGES, max_messages)
    COPY(QUEUE_SET_MAX_BYTES, max_bytes)
    COPY(QUEUE_SET_MAX_AGE, max_age_ms)
    COPY(QUEUE_SET_MAX_MESSAGE_BYTES, max_message_bytes)
    COPY(QUEUE_SET_DUPLICATE_WINDOW, duplicate_window_ms)
    COPY(QUEUE_SET_ACK_TIMEOUT, ack_timeout_ms)
    COPY(QUEUE_SET_MAX_DELIVERIES, max_deliveries)
    COPY(QUEUE_SET_DELAY, delay_ms)
    COPY(QUEUE_SET_MAX_DELAY, max_delay_ms)
    COPY(QUEUE_SET_STATUS_TTL, status_ttl_ms)
    COPY(QUEUE_SET_STATUS_MAX, status_max)
#undef COPY
    if ((set & QUEUE_SET_DEAD_LETTER_QUEUE) != 0) {
        memcpy(to->dead_letter_queue, from->dead_letter_queue,
               sizeof to->dead_letter_queue);
    }
}

/* How a setting reads in a message: sizes and durations with units. */
enum shown { SHOWN_NUMBER, SHOWN_SIZE, SHOWN_MS };

/* Appends "; NAME is HAVE, not WANT" to @out at *used. */
static void add_diff(char *out, size_t len, size_t *used, const char *name,
                     enum shown how, uint64_t have, uint64_t want)
{
    char h[UNITS_FORMAT_MAX], w[UNITS_FORMAT_MAX];

    if (how == SHOWN_SIZE) {
        units_size_format(have, h, sizeof h);
        units_size_format(want, w, sizeof w);
    } else if (how == SHOWN_MS) {
        units_duration_format(have, h, sizeof h);
        units_duration_format(want, w, sizeof w);
    } else {
        snprintf(h, sizeof h, "%llu", (unsigned long long)have);
        snprintf(w, sizeof w, "%llu", (unsigned long long)want);
    }
    if (*used < len) {
        *used +=
            (size_t)snprintf(out + *used, len - *used, "%s%s is %s, not %s",
                             *used ? "; " : "", name, h, w);
    }
}

int queue_config_diff(const struct queue_config *have,
                      const struct queue_config *want, char *out, size_t len)
{
    static const char *const retention[] = {"limits", "work"};
    static const char *const discard[] = {"old", "reject"};
    size_t used = 0;
    int n = 0;

    out[0] = '\0';
#define DIFF(field, how)                                                       \
    if (have->field != want->field) {                                          \
        add_diff(out, len, &used, #field, how, have->field, want->field);      \
        n++;                                                                   \
    }
    if (have->retention != want->retention && used < len) {
        used += (size_t)snprintf(out + used, len - used,
                                 "%sretention is %s, not %s", used ? "; " : "",
                                 retention[have->retention & 1],
                                 retention[want->retention & 1]);
        n++;
    }
    if (have->discard != want->discard && used < len) {
        used += (size_t)snprintf(
            out + used, len - used, "%sdiscard is %s, not %s", used ? "; " : "",
            discard[have->discard & 1], discard[want->discard & 1]);
        n++;
    }
    DIFF(max_messages, SHOWN_NUMBER)
    DIFF(max_bytes, SHOWN_SIZE)
    DIFF(max_age_ms, SHOWN_MS)
    DIFF(max_message_bytes, SHOWN_SIZE)
    DIFF(duplicate_window_ms, SHOWN_MS)
    DIFF(ack_timeout_ms, SHOWN_MS)
    DIFF(max_deliveries, SHOWN_NUMBER)
    DIFF(delay_ms, SHOWN_MS)
    DIFF(max_delay_ms, SHOWN_MS)
    DIFF(status_ttl_ms, SHOWN_MS)
    DIFF(status_max, SHOWN_NUMBER)
#undef DIFF
    if (strcmp(have->dead_letter_queue, want->dead_letter_queue) != 0 &&
        used < len) {
        used += (size_t)snprintf(
            out + used, len - used, "%sdead_letter_queue is %s, not %s",
            used ? "; " : "", have->dead_letter_queue, want->dead_letter_queue);
        n++;
    }
    return n;
}
