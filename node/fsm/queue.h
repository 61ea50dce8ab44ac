/* queue.h: one queue: its settings, its stored messages by seq, the ids it
 * remembers and its subscriptions. Pure C (no I/O, no clock: time is
 * passed in from the command being applied). Loop thread only. */
#ifndef MQ_QUEUE_H
#define MQ_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "dedup.h"
#include "errmsg.h"
#include "mq.h"
#include "msg.h"
#include "sub.h"
#include "tomb.h"
#include "trash.h"

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

struct queue {
    struct queue_config cfg;
    uint64_t created_at_ms;
    uint64_t first_seq; /* seq of ring slot 0; last_seq + 1 when empty */
    uint64_t last_seq;  /* last seq assigned, 0 before the first */
    struct msg **ring;  /* slots first_seq..last_seq; NULL: removed */
    size_t ring_cap, ring_head;
    uint64_t n_msgs, n_bytes;
    uint64_t n_delayed; /* stored with a delay (deliver_at > published_at) */
    struct dedup dedup;
    struct tombs tombs; /* status of gone messages */
    struct sub **subs;
    size_t n_subs;
    struct trash *trash; /* borrowed from the FSM */
};

/* Fills defaults into @cfg and checks it (its name must already be a full
 * "namespace/queue" name). MQ_ERR_INVALID names the bad setting. */
mq_err queue_config_normalize(struct queue_config *cfg, struct errmsg *e);

struct queue *queue_new(const struct queue_config *cfg, uint64_t now_ms,
                        struct trash *trash);
/* Frees the queue, its messages (through the trash) and subscriptions. */
void queue_free(struct queue *q);

/* Message @seq, or NULL if not stored. */
struct msg *queue_get(const struct queue *q, uint64_t seq);
static inline size_t queue_ring_len(const struct queue *q)
{
    return (size_t)(q->last_seq + 1 - q->first_seq);
}

/* Stores @m (taken over on MQ_OK) as seq last_seq + 1, which @m already
 * carries. Under discard "reject", MQ_ERR_FULL names the limit when the
 * queue is full and @q is unchanged; under "old" the oldest messages make
 * room. MQ_ERR_NO_MEMORY leaves @q unchanged. */
mq_err queue_append(struct queue *q, struct msg *m, struct errmsg *e);

/* Whether queue_append of a message of @bytes would fail with FULL. */
mq_err queue_check_room(const struct queue *q, size_t bytes, struct errmsg *e);

/* Makes the next seq @seq (>= last_seq + 1): the seqs skipped are empty
 * slots, as if removed. For restoring a snapshot. */
mq_err queue_skip_to(struct queue *q, uint64_t seq);

/* Removes message @seq if stored, remembering why (enum tomb_state) and
 * when for its status. MQ_ERR_NO_MEMORY if its status could not be
 * remembered (the message is removed all the same). */
mq_err queue_remove_why(struct queue *q, uint64_t seq, int why,
                        uint64_t now_ms);
/* queue_remove_why(..., TOMB_EXPIRED, its publish time). */
void queue_remove(struct queue *q, uint64_t seq);

/* Drops every stored message (status: purged). */
mq_err queue_purge(struct queue *q, uint64_t now_ms);

/* The first seq published at or after @t_ms, or last_seq + 1. */
uint64_t queue_seq_at_time(const struct queue *q, uint64_t t_ms);

/* Finds the stored message whose id is @id (@len bytes): in the ids
 * remembered for duplicates first, then by looking through the messages.
 * NULL if none. */
struct msg *queue_find_id(const struct queue *q, const char *id, size_t len);

/* Drops what retention says must go at @now_ms: messages past max_age, and
 * under "work" retention those every subscription has acked (or
 * dead-lettered); and forgets statuses past status_ttl_ms / status_max. */
mq_err queue_trim(struct queue *q, uint64_t now_ms);

struct sub *queue_sub(const struct queue *q, const char *name);
/* Adds @s (taken over on MQ_OK). */
mq_err queue_add_sub(struct queue *q, struct sub *s);
/* Removes and frees subscription @name; MQ_ERR_NOT_FOUND if none. */
mq_err queue_del_sub(struct queue *q, const char *name);

#endif
