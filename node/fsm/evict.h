/* evict.h: the node's bound of remembered ids and statuses.
 *
 * The ids a queue remembers for duplicates (dedup.h), the statuses of its
 * gone messages (tomb.h) and its subscriptions' recent acks (subhist.h)
 * count in the FSM's ids_bytes at a nominal size per record (fsm_ctx.h).
 * When a Command brings a bound (the leader's ids_budget_bytes) and the
 * total is past it, apply forgets the oldest records of the whole node
 * until it is not: a publish is never refused for them, and a status
 * lookup of what was forgotten says "no longer known".
 *
 * Which records go is decided by replicated state alone, so that every
 * replica (and a copy restored from a snapshot) forgets the same: records
 * go in order of their time (when the id was stored, the message went, the
 * ack was made), ties broken by queue name, then dedup before statuses
 * before each subscription's acks in the order of the queue's
 * subscriptions; within one FIFO, oldest first.
 *
 * To find the queue holding the oldest record without looking at every
 * queue, the queues sit in a min-heap by a lower bound of their oldest
 * record's time (lowered as records are added, raised lazily when a queue
 * reaches the top): derived state, rebuilt at restore, never in a
 * snapshot, and never the basis of a decision (the exact times are, worked
 * out for the queue at the top). Pure C, loop thread only. */
#ifndef MQ_EVICT_H
#define MQ_EVICT_H

#include <stddef.h>
#include <stdint.h>

#include "mq.h"

#define EVICT_NOT_IN_HEAP SIZE_MAX
/* At most this many records are forgotten per applied Command (a bound
 * lowered a lot is reached over several Commands, none long). */
#define EVICT_MAX_PER_APPLY (1u << 18)

struct evict_item {
    uint64_t at_ms; /* lower bound; UINT64_MAX: nothing remembered */
    size_t idx;     /* position in its heap, or EVICT_NOT_IN_HEAP */
};

struct evict_heap {
    struct evict_item **items;
    size_t len, cap;
};

struct fsm_ctx;

void evict_heap_init(struct evict_heap *h);
void evict_heap_close(struct evict_heap *h);
/* Makes room for @n more items. MQ_ERR_NO_MEMORY leaves @h unchanged. */
mq_err evict_heap_reserve(struct evict_heap *h, size_t n);
/* Adds the item of a queue (room reserved), at the exact time of its
 * oldest record. */
void evict_heap_add(struct evict_heap *h, struct evict_item *it);
/* Removes @it if it is in @h. */
void evict_heap_remove(struct evict_heap *h, struct evict_item *it);
/* Lowers @it's bound to @at_ms if that is earlier. @h may be NULL. */
void evict_lower(struct evict_heap *h, struct evict_item *it, uint64_t at_ms);

/* The time of the oldest record of the queue whose item is @it, or
 * UINT64_MAX. */
uint64_t evict_oldest(const struct evict_item *it);

/* Forgets the oldest records of the queues of @h while ctx->ids_bytes is
 * over @budget_bytes (0: no bound), at most EVICT_MAX_PER_APPLY. Returns
 * how many went. Never allocates nor fails (it may give memory back). */
uint64_t evict_run(struct evict_heap *h, struct fsm_ctx *ctx,
                   uint64_t budget_bytes);

#endif
