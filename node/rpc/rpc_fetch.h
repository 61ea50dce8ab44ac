/* rpc_fetch.h: fetch (a long poll on a subscription) and ack, nack, touch and
 * term of delivered messages. Each handler answers @call exactly once and frees
 * it. Loop thread only. */
#ifndef MQ_RPC_FETCH_H
#define MQ_RPC_FETCH_H

#include "call.h"

void rpc_fetch(struct call *call);
/* Ack, nack, touch or term (SUB_ACK ... SUB_TERM). */
void rpc_ack(struct call *call, int mode);
void rpc_wait_timer_cb(uv_timer_t *t);
/* Hands messages of @q now available to the fetches waiting on it. */
void rpc_wake(struct rpc *r, const struct queue *q);
void rpc_fail_waiting(struct rpc *r, mq_err err);

#endif
