/* trash.h: frees memory of the state machine, or, while someone still
 * reads it, holds it until that is done. Two kinds of holds:
 *
 * - any hold (trash_hold): a snapshot being written, or the results of the
 *   last applied Command, which the leader reads after the apply (their
 *   deliveries point to messages, a cancel's result to its queue's name).
 *   Messages and the shells of queues and subscriptions (struct
 *   trash_link blocks: what is left of a queue or subscription once freed,
 *   its settings) wait while any hold is in force;
 * - a snapshot hold (trash_hold_snapshot, which is also a hold): the
 *   snapshot's encoder reads the chunks of the FIFOs of ids and statuses
 *   (fifo.h) on another thread, so chunks wait while a snapshot is taken
 *   and are freed at once otherwise.
 *
 * Holds nest. Loop thread (the encoder only reads what waits here). */
#ifndef MQ_TRASH_H
#define MQ_TRASH_H

#include <stddef.h>

#include "msg.h"

/* A freed block waiting in the trash; it lives inside the block itself. */
struct trash_link {
    struct trash_link *next;
    void *block;
};

struct trash {
    int holding;      /* number of holds in force */
    int snapshots;    /* of which snapshot holds */
    struct msg *head; /* held messages */
    size_t n_held;
    struct trash_link *blocks; /* held shells */
    struct trash_link *chunks; /* held chunks */
    size_t n_blocks, n_chunks;
};

#define TRASH_INIT                                                             \
    {                                                                          \
        0, 0, NULL, 0, NULL, NULL, 0, 0                                        \
    }

/* Frees @m now, or holds it while trash->holding. */
void trash_put(struct trash *t, struct msg *m);
/* Frees @block (whose link @link is inside it) now, or holds it while any
 * hold is in force. @t may be NULL: freed now. */
void trash_put_block(struct trash *t, struct trash_link *link, void *block);
/* Frees chunk @block (its link inside it) now, or holds it while a
 * snapshot hold is in force. @t may be NULL: freed now. */
void trash_put_chunk(struct trash *t, struct trash_link *link, void *block);
/* Whether chunks put now would wait (a snapshot hold is in force). */
static inline int trash_holds_chunks(const struct trash *t)
{
    return t != NULL && t->snapshots > 0;
}
/* Starts one hold. */
void trash_hold(struct trash *t);
/* Starts one snapshot hold (also a hold). */
void trash_hold_snapshot(struct trash *t);
/* Ends one hold (if any); when none is left, frees every held message and
 * block. */
void trash_release(struct trash *t);
/* Ends one snapshot hold: when none is left, frees the held chunks; then
 * as trash_release. */
void trash_release_snapshot(struct trash *t);
/* Frees everything held and ends every hold (the owner goes away). */
void trash_close(struct trash *t);

#endif
