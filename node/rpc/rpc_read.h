/* rpc_read.h: catch-up reads by seq or time and message status, answered from
 * this node's applied state once it has applied what the client saw (its
 * min_index) and, on a follower, what it knew to be committed when the
 * request came. Each handler answers @call exactly once and frees it. Loop
 * thread only. */
#ifndef MQ_RPC_READ_H
#define MQ_RPC_READ_H

#include "call.h"

void rpc_read(struct call *call);
void rpc_message_status(struct call *call);
/* Answers the reads waiting whose index is applied now, and those past
 * their wait (TIMEOUT). */
void rpc_reads_tick(struct rpc *r, uint64_t now_ms);

#endif
