/* rpc_read.h: catch-up reads by seq or time and message status, answered from
 * this node's applied state once it has applied what the client saw. Each
 * handler answers @call exactly once and frees it. Loop thread only. */
#ifndef MQ_RPC_READ_H
#define MQ_RPC_READ_H

#include "call.h"

void rpc_read(struct call *call);
void rpc_message_status(struct call *call);
/* Answers reads waiting for @index to be applied, and those past their
 * wait. */
void rpc_reads_applied(struct rpc *r, uint64_t index);
void rpc_reads_tick(struct rpc *r, uint64_t now_ms);

#endif
