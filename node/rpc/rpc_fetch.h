/* rpc_fetch.h: fetch, a long poll on a subscription, and the fetches
 * waiting (rpc->waiting). The handler answers @call exactly once and frees
 * it. Loop thread only. */
#ifndef MQ_RPC_FETCH_H
#define MQ_RPC_FETCH_H

#include "call.h"

void rpc_fetch(struct call *call);
void rpc_wait_timer_cb(uv_timer_t *t);
/* Hands messages of @q now available to the fetches waiting on it. */
void rpc_wake(struct rpc *r, const struct queue *q);
void rpc_fail_waiting(struct rpc *r, mq_err err);

#endif
