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

struct fsm {
    struct queue **queues; /* sorted by name */
    size_t n_queues;
    uint64_t now_ms; /* clock of the last Command; never goes back */
    struct trash trash;

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

    /* The snapshot being written, if any (see snapshot.c). */
    void *snap;

    /* Keys and grants (keys.h, fsm_keys.c). */
    struct keys keys;
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

/* Approximate memory held by stored messages and their indexes. */
uint64_t fsm_mem_bytes(const struct fsm *f);

/* Fills @rf with this FSM's raft_fsm callbacks (version 2). */
void fsm_raft(struct fsm *f, struct raft_fsm *rf);

/* Replaces the whole state with snapshot @buf. On failure the state is
 * unchanged and @e says why. (snapshot.c) */
mq_err fsm_restore(struct fsm *f, const void *buf, size_t len,
                   struct errmsg *e);

/* Serializes the state into @bufs (snapshot.c). Message records are
 * referenced, not copied: messages removed until fsm_snapshot_done are held
 * by the trash. */
mq_err fsm_snapshot(struct fsm *f, struct raft_buffer **bufs, unsigned *n_bufs);
void fsm_snapshot_done(struct fsm *f, struct raft_buffer **bufs,
                       unsigned *n_bufs);

/* Inserts @q (taken over on MQ_OK) in name order, and in the heap of what
 * falls due. (For restore.) */
mq_err fsm_add_queue(struct fsm *f, struct queue *q);

#endif
