/* queue.h: one queue: its settings, its stored messages by seq, the ids it
 * remembers and its subscriptions. Pure C (no I/O, no clock: time is
 * passed in from the command being applied). Loop thread only. */
#ifndef MQ_QUEUE_H
#define MQ_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "dedup.h"
#include "due.h"
#include "errmsg.h"
#include "evict.h"
#include "fsm_ctx.h"
#include "mq.h"
#include "msg.h"
#include "queue_config.h"
#include "ring.h"
#include "sub.h"
#include "tomb.h"
#include "trash.h"

/* What happened to a queue's messages since this node loaded the queue, for
 * /metrics: messages stored (published, dead letters moved in, redriven),
 * publishes of an id already stored, deliveries (first and repeated) and
 * repeated ones, acks, nacks, messages dead-lettered by a subscription, and
 * messages dropped by max_age or to make room. Derived: neither replicated
 * nor in snapshots, never read by apply; a restart or a snapshot install
 * starts them again at 0 (a counter reset, to Prometheus). */
struct queue_counts {
    uint64_t published, duplicates, delivered, redelivered, acked, nacked,
        dead_lettered, expired;
};

struct queue {
    /* What a snapshot copies on the loop first, together. */
    struct ring msgs; /* the stored messages by seq, and their counts */
    struct dedup dedup;
    struct tombs tombs; /* status of gone messages */
    struct sub **subs;
    size_t n_subs;
    struct fsm_ctx *ctx; /* borrowed from the FSM */
    /* Derived, neither replicated nor in snapshots (due.h): a lower bound
     * of when something in the queue falls due, the FSM's heap of queues
     * it is in (borrowed; NULL outside an FSM), and the delayed messages
     * by deliver time (some perhaps gone or due already). */
    struct due_item due;
    struct due_heap *due_heap;
    struct due_times delayed;
    /* Derived likewise (evict.h): a lower bound of the time of its oldest
     * remembered id or status, and the FSM's heap of queues by it. */
    struct evict_item ids;
    struct evict_heap *ids_heap;
    struct trash_link shell; /* once freed (see queue_free) */
    /* Generation of the last snapshot that took this queue (fsm_ctx.h). */
    uint64_t snap_gen;
    /* Settings: created_at_ms and cfg's name and retention never change;
     * the rest only by queue_set_config (queue update), once a snapshot
     * being taken has taken the queue with its settings of the moment
     * (queue_changing). */
    uint64_t created_at_ms;
    struct queue_config cfg;
    struct queue_counts counts;
};

/* Called before anything in @q changes (apply: an op on it, a trim, ids
 * forgotten): a snapshot being taken that has not taken @q yet takes it
 * first, as it was when the snapshot began (snap_take.c). */
static inline void queue_changing(struct queue *q)
{
    if (q->ctx->taking != NULL && q->snap_gen != q->ctx->snap_gen) {
        fsm_snap_take_queue(q->ctx, q);
    }
}

/* A new empty queue in the FSM of @ctx (not NULL); not part of a snapshot
 * being taken. */
struct queue *queue_new(const struct queue_config *cfg, uint64_t now_ms,
                        struct fsm_ctx *ctx);
/* Frees the queue, its messages (through the trash) and subscriptions.
 * While the trash holds, what is left is its settings and counters (its
 * shell: a snapshot's encoder reads them), freed when the hold ends. */
void queue_free(struct queue *q);

/* Gives @q the settings @cfg (normalized; the same name and retention)
 * at @now_ms, the Command's time. Lowered limits hold at once: under
 * discard "old" the oldest messages go (status expired) until the
 * max_messages and max_bytes hold; under "reject" nothing goes, and
 * publishes are refused until there is room; a lowered status_max drops
 * the oldest statuses. What falls due is worked out
 * again (the queue is due at @now_ms). MQ_ERR_NO_MEMORY leaves @q
 * unchanged. Call queue_changing(q) first. */
mq_err queue_set_config(struct queue *q, const struct queue_config *cfg,
                        uint64_t now_ms);

/* The oldest message subscription @s of @q has not acked: its first
 * delivery not acked (in flight, or waiting to be delivered again), else
 * the first stored message past its cursor (looking at most at 1024 empty
 * slots: removed messages leave them); NULL if none. */
const struct msg *queue_sub_oldest(const struct queue *q, const struct sub *s);

/* Message @seq, or NULL if not stored. */
static inline struct msg *queue_get(const struct queue *q, uint64_t seq)
{
    return ring_get(&q->msgs, seq);
}

/* Stores @m (taken over on MQ_OK) as seq last_seq + 1, which @m already
 * carries. Under discard "reject", MQ_ERR_FULL names the limit and by how
 * much it would be passed when the queue is full, and @q is unchanged;
 * under "old" (or with @force, a message moved from another queue, whatever
 * the discard policy) the oldest messages make room (status expired, at
 * @m's publish time), down to @m alone if need be. MQ_ERR_NO_MEMORY leaves
 * the messages and statuses of @q unchanged (all the allocations come
 * first). */
mq_err queue_append(struct queue *q, struct msg *m, int force,
                    struct errmsg *e);

/* Stores @m (taken over on MQ_OK) as restored from a snapshot: at its
 * seq, which must be above last_seq, with no limit checked and nothing
 * discarded. Limits are checked when a Command is applied, never at
 * restore: apply can leave a queue past them (a dead letter or a redrive
 * stores "with force"), and a snapshot of any state apply produced must
 * restore. MQ_ERR_NO_MEMORY leaves @q unchanged. */
mq_err queue_restore_msg(struct queue *q, struct msg *m);

/* Whether queue_append of a message of @bytes would fail with FULL. */
mq_err queue_check_room(const struct queue *q, size_t bytes, struct errmsg *e);

/* Makes the next seq @seq (>= last_seq + 1): the seqs skipped are empty
 * slots, as if removed. For restoring a snapshot. */
mq_err queue_skip_to(struct queue *q, uint64_t seq);

/* Removes message @seq if stored, remembering why (enum tomb_state) and
 * when for its status. MQ_ERR_NO_MEMORY if there was no room for its
 * status: the message is then still stored and @q unchanged. */
mq_err queue_remove_why(struct queue *q, uint64_t seq, int why,
                        uint64_t now_ms);
/* queue_remove_why(..., TOMB_EXPIRED, its publish time). */
mq_err queue_remove(struct queue *q, uint64_t seq);

/* Drops every stored message (status: purged). MQ_ERR_NO_MEMORY leaves @q
 * unchanged. */
mq_err queue_purge(struct queue *q, uint64_t now_ms);

/* Finds the stored message whose id is @id (@len bytes): in the ids
 * remembered for duplicates first, then by looking through the messages.
 * NULL if none. */
struct msg *queue_find_id(const struct queue *q, const char *id, size_t len);

/* Drops what retention says must go at @now_ms: messages past max_age, and
 * under "work" retention those every subscription has acked (or
 * dead-lettered); forgets ids past the duplicate window and statuses past
 * status_ttl_ms / status_max, and gives back the memory they held.
 * MQ_ERR_NO_MEMORY (no room for a status) may come after some messages
 * went: the state is then partial, and the FSM's caller stops the node. */
mq_err queue_trim(struct queue *q, uint64_t now_ms);

/* When the next time-driven change of @q falls due after @now_ms: its
 * oldest message passing max_age, its oldest status passing
 * status_ttl_ms, its oldest remembered id leaving the duplicate window,
 * or a delayed message reaching its deliver time; UINT64_MAX if none.
 * Forgets the delayed messages due by @now_ms and sets *@became_due if
 * any of them is still stored (a waiting fetch may take it now). Loop
 * thread; changes only derived state. */
uint64_t queue_next_due(struct queue *q, uint64_t now_ms, int *became_due);

/* A remembered id or status of @q was added at @at_ms: lowers the bound
 * its item in the heap of ids and statuses keeps (evict.h). */
void queue_ids_added(struct queue *q, uint64_t at_ms);

struct sub *queue_sub(const struct queue *q, const char *name);
/* Adds @s (taken over on MQ_OK). */
mq_err queue_add_sub(struct queue *q, struct sub *s);
/* Removes and frees subscription @name; MQ_ERR_NOT_FOUND if none. */
mq_err queue_del_sub(struct queue *q, const char *name);

#endif
