/* ring.h: a queue's stored messages by seq, in a ring of slots. Removing a
 * message from the middle leaves a NULL slot; the front is trimmed so that
 * the first slot always holds a message (or the ring is empty). The queue
 * owns the ring (queue.h); subscriptions read it (sub.h). Pure C, loop
 * thread only. */
#ifndef MQ_RING_H
#define MQ_RING_H

#include <stddef.h>
#include <stdint.h>

#include "mq.h"
#include "msg.h"

/* Bytes counted per stored message besides msg_size (its slot and the
 * allocator's header). */
#define RING_MSG_OVERHEAD 16u

struct ring {
    struct msg **slots; /* slots first_seq..last_seq; NULL: removed */
    size_t cap, head;   /* cap is 0 or a power of two */
    uint64_t first_seq; /* seq of slot head; last_seq + 1 when empty */
    uint64_t last_seq;  /* last seq assigned, 0 before the first */
    uint64_t n_msgs, n_bytes;
    uint64_t n_delayed; /* stored with a delay (deliver_at > published_at) */
    /* Counts msg_size + RING_MSG_OVERHEAD per stored message (the FSM's
     * memory total); may be NULL. */
    uint64_t *acct;
};

/* An empty ring whose next seq is 1, counting in *@acct (may be NULL). */
void ring_init(struct ring *r, uint64_t *acct);
/* Frees the slots; the messages are the caller's (see ring_take), and no
 * longer counted. */
void ring_close(struct ring *r);

static inline size_t ring_len(const struct ring *r)
{
    return (size_t)(r->last_seq + 1 - r->first_seq);
}

/* Message @seq, or NULL if not stored. */
static inline struct msg *ring_get(const struct ring *r, uint64_t seq)
{
    if (seq < r->first_seq || seq > r->last_seq) {
        return NULL;
    }
    return r->slots[(r->head + (size_t)(seq - r->first_seq)) & (r->cap - 1)];
}

/* Stores @m (kept, not copied) as seq m->rec.seq, which must be above
 * last_seq. MQ_ERR_NO_MEMORY leaves @r unchanged. */
mq_err ring_put(struct ring *r, struct msg *m);

/* Removes message @seq and returns it (the caller's now), or NULL if it is
 * not stored. Gives back slots a ring much longer than its span no longer
 * needs (when that allocation fails, keeps them). */
struct msg *ring_take(struct ring *r, uint64_t seq);

/* Makes the next seq @seq (>= last_seq + 1): the seqs skipped are empty
 * slots, as if removed. MQ_ERR_NO_MEMORY leaves @r unchanged. */
mq_err ring_skip_to(struct ring *r, uint64_t seq);

/* The first seq published at or after @t_ms, or last_seq + 1. */
uint64_t ring_seq_at_time(const struct ring *r, uint64_t t_ms);

#endif
