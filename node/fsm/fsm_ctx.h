/* fsm_ctx.h: what the parts of one state machine share: the trash, where
 * freed memory waits while a snapshot or the last results read it
 * (trash.h), and the memory totals, which the parts keep up to date as
 * they change, so that reading them costs nothing whatever the number of
 * queues. Queues and subscriptions borrow their FSM's (NULL for one made
 * alone: nothing is counted, memory is freed at once). Loop thread. */
#ifndef MQ_FSM_CTX_H
#define MQ_FSM_CTX_H

#include <stdint.h>

#include "trash.h"

struct fsm_ctx {
    struct trash trash;
    /* Stored messages and their indexes: msg_size + RING_MSG_OVERHEAD per
     * message, SUB_PENDING_BYTES per pending delivery, SUBHIST_DEAD_BYTES
     * per dead letter remembered. What the node's memory budget limits. */
    uint64_t msg_bytes;
    /* Remembered ids and statuses of gone messages, at their nominal size
     * (DEDUP_NOMINAL_BYTES, TOMB_NOMINAL_BYTES, SUBHIST_ACK_NOMINAL_BYTES
     * per record): replicated state alone decides it, so every replica
     * counts the same. What the bound of ids and statuses limits
     * (evict.h). */
    uint64_t ids_bytes;
    /* The snapshot being taken (snap_take.c), NULL if none, and its
     * generation: a queue whose snap_gen differs is not taken yet, and
     * must be (fsm_snap_take_queue) before anything in it changes. */
    void *taking;
    uint64_t snap_gen;
};

struct queue;

/* Takes @q into the snapshot being taken, as it is now (it has not
 * changed since the snapshot began). Loop thread; never fails (out of
 * memory fails the snapshot, not the caller). (snap_take.c) */
void fsm_snap_take_queue(struct fsm_ctx *ctx, struct queue *q);

#endif
