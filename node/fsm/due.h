/* due.h: what falls due when, for the time-driven work of the FSM (a
 * message past its queue's max_age, a status past its status_ttl_ms, a
 * delayed message reaching its deliver time), so that the leader can
 * propose the time then (node/rpc/ticker.c) instead of waiting for the
 * next command. Two min-heaps:
 *
 * - struct due_heap: items (one embedded in each queue) by their time, a
 *   lower bound of when something in that queue falls due; the FSM's heap
 *   of its queues, whose top is the FSM's next due time;
 * - struct due_times: (time, seq) pairs, a queue's delayed messages by
 *   deliver time.
 *
 * Derived state: rebuilt from the queues at restore, never in a snapshot,
 * never read by apply's decisions. Pure C, loop thread only. */
#ifndef MQ_DUE_H
#define MQ_DUE_H

#include <stddef.h>
#include <stdint.h>

#include "mq.h"

#define DUE_NOT_IN_HEAP SIZE_MAX

struct due_item {
    uint64_t at_ms; /* UINT64_MAX: nothing due */
    size_t idx;     /* position in its heap, or DUE_NOT_IN_HEAP */
};

struct due_heap {
    struct due_item **items;
    size_t len, cap;
};

void due_heap_init(struct due_heap *h);
void due_heap_close(struct due_heap *h);
/* Makes room for @n more items, so that the next @n due_heap_add cannot
 * fail. MQ_ERR_NO_MEMORY leaves @h unchanged. */
mq_err due_heap_reserve(struct due_heap *h, size_t n);
/* Adds @it (not in a heap) at it->at_ms; room must be reserved. */
void due_heap_add(struct due_heap *h, struct due_item *it);
/* Removes @it if it is in @h. */
void due_heap_remove(struct due_heap *h, struct due_item *it);
/* Sets @it's time to @at_ms, earlier or later. */
void due_heap_set(struct due_heap *h, struct due_item *it, uint64_t at_ms);
/* Sets @it's time to @at_ms if that is earlier. @h may be NULL (an item
 * not in a heap: only its time changes). */
void due_heap_lower(struct due_heap *h, struct due_item *it, uint64_t at_ms);
/* The earliest item, or NULL. */
static inline struct due_item *due_heap_top(const struct due_heap *h)
{
    return h->len ? h->items[0] : NULL;
}

struct due_time {
    uint64_t at_ms;
    uint64_t seq;
};

struct due_times {
    struct due_time *heap;
    size_t len, cap;
};

void due_times_init(struct due_times *t);
void due_times_close(struct due_times *t);
/* Makes room for @n more pairs, so that the next @n due_times_push cannot
 * fail. MQ_ERR_NO_MEMORY leaves @t unchanged. */
mq_err due_times_reserve(struct due_times *t, size_t n);
/* Adds (@at_ms, @seq); room must be reserved. */
void due_times_push(struct due_times *t, uint64_t at_ms, uint64_t seq);
/* The earliest pair, or NULL. */
static inline const struct due_time *due_times_top(const struct due_times *t)
{
    return t->len ? &t->heap[0] : NULL;
}
void due_times_pop(struct due_times *t);
/* Forgets every pair (keeps the memory). */
void due_times_clear(struct due_times *t);

#endif
