/* batch.h: group commit. Operations that arrive in one loop iteration
 * become one Command, one raft entry; at most max_inflight_entries entries
 * are proposed and not yet applied, and operations arriving meanwhile wait
 * and go out together in the next entry. Loop thread only.
 *
 * Each operation's callback runs exactly once: after its entry is applied,
 * with the FSM's result for it, or with an error if the entry could not be
 * proposed or was not committed by this leader. */
#ifndef MQ_BATCH_H
#define MQ_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "consensus.h"
#include "fsm.h"
#include "histo.h"
#include "mq.h"
#include "raft.pb-c.h"

/* @err MQ_OK: the op was applied and @r (with @f for its ranges) holds its
 * result, valid during the call. Otherwise @r is NULL and @err says why:
 * MQ_ERR_NOT_LEADER (never proposed), MQ_ERR_UNAVAILABLE (proposed, then
 * leadership was lost: the outcome is unknown), MQ_ERR_NO_MEMORY. @index
 * is the raft index of the entry (0 when not proposed). */
typedef void (*batch_cb)(void *arg, mq_err err, const struct fsm_op_result *r,
                         const struct fsm *f, uint64_t index);

struct batch_item {
    Mq__V1__Op *op; /* borrowed until the callback */
    size_t bytes;
    batch_cb cb;
    void *arg;
    uint64_t batched_ns; /* when batch_add took it (stages.h) */
};

struct batch {
    struct consensus *c;
    struct fsm *f;
    const struct config *cfg;
    uv_check_t check; /* flushes after each loop iteration's events */
    uv_idle_t idle;   /* keeps the loop from sleeping while work waits */
    struct batch_item *items; /* waiting to be proposed */
    size_t n_items, cap_items;
    size_t inflight;          /* entries proposed, not yet applied */
    uint64_t entries, ops;    /* counters */
    struct histo entry_bytes; /* size of each entry proposed */
};

void batch_init(struct batch *b, uv_loop_t *loop, struct consensus *c,
                struct fsm *f, const struct config *cfg);

/* Queues @op (borrowed until @cb runs; about @bytes when encoded). Returns
 * MQ_OK, after which @cb runs exactly once, or MQ_ERR_NO_MEMORY without
 * calling it. */
mq_err batch_add(struct batch *b, Mq__V1__Op *op, size_t bytes, batch_cb cb,
                 void *arg);

/* Fails every waiting operation with @err (leadership lost, shutdown). */
void batch_fail_waiting(struct batch *b, mq_err err);

void batch_close(struct batch *b);

#endif
