/* collect.h: takes a snapshot of the node's figures (figures.h) from the
 * parts that hold them: raft and consensus, the peer transport and its
 * log writes, the state machine, the request path and the client bridge.
 * Loop thread only: it reads live state. */
#ifndef MQ_COLLECT_H
#define MQ_COLLECT_H

#include "batch.h"
#include "bridge.h"
#include "config.h"
#include "consensus.h"
#include "figures.h"
#include "fsm.h"
#include "peer.h"
#include "rpc.h"

/* Where the figures come from; borrowed for the node's life. */
struct collect_sources {
    const struct config *cfg;
    struct fsm *fsm;
    struct consensus *cons;
    struct peer *peer;
    struct rpc *rpc;
    struct bridge *bridge;
    struct batch *batch;
};

/* A new snapshot (one reference, the caller's), or NULL when out of
 * memory. Costs one pass over the queues and their subscriptions, a sort
 * of the queues by size, and a read of the data dir (a few dozen
 * entries). */
struct figures *collect_figures(const struct collect_sources *s);

/* The queue and subscription rows of @f into @fg (which has none yet):
 * the @max_listed largest queues, the rest summed; ages against the wall
 * clock @now_ms. MQ_ERR_NO_MEMORY: the caller frees @fg. Loop thread. */
mq_err collect_queue_rows(struct figures *fg, const struct fsm *f,
                          uint64_t max_listed, uint64_t now_ms);

#endif
