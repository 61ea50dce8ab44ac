/* rpc_stats.h: what the request path counts and measures, for /metrics:
 * replies by request kind and status, and the latency of publishes from
 * the moment the node received the request to the moment their entry was
 * applied (committed) and to the moment the reply was handed to the
 * connection. Plain numbers, copied by the loop into the figures it
 * publishes (node/http/). Loop thread only. */
#ifndef MQ_RPC_STATS_H
#define MQ_RPC_STATS_H

#include <stdint.h>

#include "histo.h"

/* Request kinds are the Request body's field numbers (0: a request that
 * could not be decoded); statuses are mq.proto's Status values. Larger
 * ones are counted in the last slot. */
#define RPC_STATS_KINDS 48
#define RPC_STATS_STATUSES 24

struct rpc_stats {
    uint64_t replies[RPC_STATS_KINDS][RPC_STATS_STATUSES];
    struct histo publish_commit_ns; /* received -> applied */
    struct histo publish_reply_ns;  /* received -> reply sent */
};

void rpc_stats_init(struct rpc_stats *s);

/* Counts one reply of status @status to a request of kind @kind. */
void rpc_stats_reply(struct rpc_stats *s, int kind, int status);

/* The name of request kind @kind ("publish", "queue_create", ...; "none"
 * for a request not decoded, "other" for one unknown), and of status
 * @status ("OK", "NOT_FOUND", ...; "OTHER"). Static strings; any thread. */
const char *rpc_stats_kind_name(int kind);
const char *rpc_stats_status_name(int status);

/* The monotonic clock in ns, as the bridge stamps requests (start_ns). */
uint64_t rpc_stats_now_ns(void);

#endif
