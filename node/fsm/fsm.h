/* fsm.h: the replicated state machine: every queue with its messages and
 * subscriptions, changed only by applying committed Commands. Apply reads
 * no clock and no randomness (time comes in the Command) so every replica
 * computes the same state. Loop thread only.
 *
 * The results of the last applied Command (ops, pubs, dels) stay readable
 * until the next one is applied: the leader's apply callback reads them to
 * answer the requests that made the Command. The messages that dels point
 * to stay readable as long, even if a later op of the same Command removed
 * them (the trash holds them). */
#ifndef MQ_FSM_H
#define MQ_FSM_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "evict.h"
#include "fsm_ctx.h"
#include "keys.h"
#include "mq.h"
#include "queue.h"
#include "sub.h"
#include "trash.h"

struct raft_fsm;
struct raft_buffer;

/* Result of one published message. */
struct fsm_pub {
    mq_err err;
    int duplicate;
    uint64_t seq;
    struct errmsg e; /* set when err != MQ_OK */
};

/* Result of one op of the Command. */
struct fsm_op_result {
    mq_err err;
    struct errmsg e;
    size_t first, n;        /* publish: fsm->pubs; deliver: fsm->dels */
    uint32_t done, already; /* ack and nack; redrive: moved */
    uint64_t seq;           /* cancel: the seq cancelled */
    const char *queue;      /* cancel: of this queue (valid until next apply) */
    uint64_t remaining;     /* redrive: messages left in the DLQ */
};

/* Work counters of this node (not replicated, not in snapshots). */
struct fsm_stats {
    uint64_t applied;        /* Commands applied */
    uint64_t queues_visited; /* queues apply looked at: due, touched, evicted */
    uint64_t ids_evicted;    /* ids and statuses forgotten for the bound */
};

struct fsm {
    struct queue **queues; /* sorted by name */
    size_t n_queues, queues_cap;
    uint64_t now_ms; /* clock of the last Command; never goes back */
    /* The trash and the memory totals, shared with the queues. */
    struct fsm_ctx ctx;
    /* The bound of ids and statuses the last Command brought (0: none),
     * and the queues by their oldest id or status (derived, evict.h). */
    uint64_t ids_budget_bytes;
    struct evict_heap ids_heap;
    struct fsm_stats stats;
    /* The queues the op being applied changed (trimmed after it). */
    struct queue *touched[8];
    size_t n_touched;

    struct fsm_op_result *ops;
    size_t n_ops, ops_cap;
    struct fsm_pub *pubs;
    size_t n_pubs, pubs_cap;
    struct delivery *dels;
    size_t n_dels, dels_cap;
    int holding_results; /* a trash hold keeps dels' messages readable */

    /* Called after a Command stored messages in @q, or when delayed
     * messages of @q became due (the leader wakes fetches). */
    void (*on_publish)(void *arg, struct queue *q);
    void *on_publish_arg;

    /* Called when apply makes a change an operator should hear of (a
     * dead-letter queue created, a dead letter dropped) with its log level
     * (LOG_LEVEL_*) and one line. Every replica calls it for every entry
     * it applies, its log's replay at start included: the node logs it
     * where the change is new (the leader, for entries after its barrier),
     * not again on each replay. NULL: nobody is told. */
    void (*on_note)(void *arg, int level, const char *line);
    void *on_note_arg;

    /* Derived (due.h): the queues by when something in them falls due. */
    struct due_heap due;

    /* The snapshot being taken, if any, and memory the last one left for
     * the next (snap_take.c). */
    void *snap;

    /* Keys and grants (keys.h, fsm_keys.c). */
    struct keys keys;
    void *snap_spare;
};

struct fsm *fsm_new(void);
void fsm_free(struct fsm *f);

/* Applies one log entry. Returns MQ_OK; MQ_ERR_PROTOCOL if the entry is not
 * a Command (it is then skipped alike on every replica, and the state is
 * unchanged); MQ_ERR_NO_MEMORY, also while decoding the entry, after which
 * this replica's state may be partial: the caller must stop the node (it
 * replays from its log when restarted). */
mq_err fsm_apply(struct fsm *f, const void *buf, size_t len, struct errmsg *e);

/* The earliest time at which a Command would change the state by its time
 * alone (a message past its queue's max_age, a status past its
 * status_ttl_ms, a delayed message reaching its deliver time), or
 * UINT64_MAX if nothing is due. Always later than now_ms: the leader
 * proposes a Command without ops when it comes (node/rpc/ticker.c), so that
 * an idle cluster expires and delivers on time. Constant time. */
uint64_t fsm_next_due(const struct fsm *f);

/* Queue @name ("namespace/queue", or a bare name in namespace "default"),
 * or NULL. */
struct queue *fsm_queue(const struct fsm *f, const char *name);

/* Approximate memory held by stored messages and their indexes (what the
 * node's memory budget limits). Constant time. */
static inline uint64_t fsm_mem_bytes(const struct fsm *f)
{
    return f->ctx.msg_bytes;
}

/* Memory of the remembered ids and statuses, at their nominal size (what
 * the bound of ids and statuses limits, evict.h). Constant time. */
static inline uint64_t fsm_ids_bytes(const struct fsm *f)
{
    return f->ctx.ids_bytes;
}

/* Fills @rf with this FSM's raft_fsm callbacks (version 3: the snapshot
 * is taken on the loop and encoded on raft's thread pool). */
void fsm_raft(struct fsm *f, struct raft_fsm *rf);

/* Replaces the whole state with snapshot @buf. On failure the state is
 * unchanged and @e says why. (snapshot.c) */
mq_err fsm_restore(struct fsm *f, const void *buf, size_t len,
                   struct errmsg *e);

/* Taking a snapshot (snap_take.c):
 *
 * fsm_snapshot, on the loop, begins it: it copies the list of queues (a
 * pointer each) and the clock, and holds the trash. Sets *@bufs to NULL
 * and *@n_bufs to 0.
 *
 * fsm_snapshot_step, on the loop, takes up to @max_queues more queues as
 * they were when the snapshot began, at memory-copy speed and without
 * encoding: each queue's counters, its message pointers (the messages
 * never change, and the trash holds those removed), its pending
 * deliveries and dead letters, and views of its FIFOs of ids and statuses
 * (their chunks held likewise). Between steps apply goes on: a queue about
 * to change is taken first (queue_changing). Returns 1 once every queue
 * is taken, 0 while some are left. Settings are read later from the
 * queues and subscriptions, whose shells the trash keeps should they be
 * deleted meanwhile.
 *
 * fsm_snapshot_encode, on any one thread once every queue is taken, while
 * apply goes on: encodes what was taken into @bufs (the snapshot format
 * of snapshot.h: small buffers of its own, message records by reference).
 * Touches nothing apply changes.
 *
 * fsm_snapshot_done, on the loop, after raft wrote the buffers (or gave
 * up): frees what the others made and ends the hold.
 *
 * MQ_ERR_INTERNAL if a snapshot is already being taken (fsm_snapshot) or
 * none is ready to encode, MQ_ERR_NO_MEMORY, MQ_ERR_TOO_LARGE (more
 * buffers than raft takes). After fsm_snapshot succeeded,
 * fsm_snapshot_done must follow, whatever the others said. */
mq_err fsm_snapshot(struct fsm *f, struct raft_buffer **bufs, unsigned *n_bufs);
int fsm_snapshot_step(struct fsm *f, size_t max_queues);
mq_err fsm_snapshot_encode(struct fsm *f, struct raft_buffer **bufs,
                           unsigned *n_bufs);
void fsm_snapshot_done(struct fsm *f, struct raft_buffer **bufs,
                       unsigned *n_bufs);

/* Inserts @q (taken over on MQ_OK) in name order, and in the heaps of what
 * falls due and of ids and statuses. (For restore.) */
mq_err fsm_add_queue(struct fsm *f, struct queue *q);

#endif
