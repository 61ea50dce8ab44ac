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

/* The settings a queue update may change, as bits of QueueConfig's field
 * numbers (QueueUpdateRequest.set: 1 << number): all but name (1) and
 * retention (2). mq.h's MQ_QUEUE_SET_* are the same bits. */
#define QUEUE_SET_DISCARD MQ_QUEUE_SET_DISCARD
#define QUEUE_SET_MAX_MESSAGES MQ_QUEUE_SET_MAX_MESSAGES
#define QUEUE_SET_MAX_BYTES MQ_QUEUE_SET_MAX_BYTES
#define QUEUE_SET_MAX_AGE MQ_QUEUE_SET_MAX_AGE
#define QUEUE_SET_MAX_MESSAGE_BYTES MQ_QUEUE_SET_MAX_MESSAGE_BYTES
#define QUEUE_SET_DUPLICATE_WINDOW MQ_QUEUE_SET_DUPLICATE_WINDOW
#define QUEUE_SET_ACK_TIMEOUT MQ_QUEUE_SET_ACK_TIMEOUT
#define QUEUE_SET_MAX_DELIVERIES MQ_QUEUE_SET_MAX_DELIVERIES
#define QUEUE_SET_DELAY MQ_QUEUE_SET_DELAY
#define QUEUE_SET_MAX_DELAY MQ_QUEUE_SET_MAX_DELAY
#define QUEUE_SET_DEAD_LETTER_QUEUE MQ_QUEUE_SET_DEAD_LETTER_QUEUE
#define QUEUE_SET_STATUS_TTL MQ_QUEUE_SET_STATUS_TTL
#define QUEUE_SET_STATUS_MAX MQ_QUEUE_SET_STATUS_MAX
#define QUEUE_SET_ALL MQ_QUEUE_SET_ALL

/* Copies into @to the settings of @from that @set names (QUEUE_SET_*). */
void queue_config_set(struct queue_config *to, const struct queue_config *from,
                      uint32_t set);

/* Writes into @out (@len bytes) the settings where @want differs from
 * @have, as "max_messages is 1000, not 500; ack_timeout_ms is 30s, not
 * 1m" (sizes and durations with units). Returns how many differ. */
int queue_config_diff(const struct queue_config *have,
                      const struct queue_config *want, char *out, size_t len);

#endif
