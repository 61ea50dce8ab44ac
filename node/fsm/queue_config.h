/* queue_config.h: a queue's settings, their defaults and their check.
 * Shared by the queue (queue.h) and its subscriptions, which take their
 * defaults from it (sub.h). Pure C. */
#ifndef MQ_QUEUE_CONFIG_H
#define MQ_QUEUE_CONFIG_H

#include <stdint.h>

#include "errmsg.h"
#include "mq.h"

/* Defaults for settings left 0. */
#define QUEUE_DEFAULT_MAX_MESSAGE_BYTES (1u << 20)
#define QUEUE_DEFAULT_DUPLICATE_WINDOW_MS 120000u
#define QUEUE_DEFAULT_ACK_TIMEOUT_MS 30000u
#define QUEUE_MAX_MESSAGE_BYTES_LIMIT (8u << 20)
#define QUEUE_MAX_SUBS 1024
#define QUEUE_DEFAULT_MAX_DELAY_MS (30ull * 24 * 3600 * 1000)
#define QUEUE_DEFAULT_STATUS_TTL_MS (7ull * 24 * 3600 * 1000)
#define QUEUE_DEFAULT_STATUS_MAX 1000000u

struct queue_config {
    char name[MQ_QNAME_MAX + 1]; /* "namespace/queue" */
    int retention;               /* MQ_RETENTION_* */
    int discard;                 /* MQ_DISCARD_* */
    uint64_t max_messages, max_bytes, max_age_ms;
    uint32_t max_message_bytes;
    uint64_t duplicate_window_ms;
    uint64_t ack_timeout_ms;
    uint32_t max_deliveries;
    uint64_t delay_ms, max_delay_ms;
    char dead_letter_queue[MQ_QNAME_MAX + 1]; /* resolved: never empty */
    uint64_t status_ttl_ms, status_max;
};

/* Fills defaults into @cfg and checks it (its name must already be a full
 * "namespace/queue" name). MQ_ERR_INVALID names the bad setting. */
mq_err queue_config_normalize(struct queue_config *cfg, struct errmsg *e);

#endif
