/* rpc_nodestatus.h: the node's status (rpc_nodestatus.c). Answers @call
 * exactly once and frees it. Loop thread only. */
#ifndef MQ_RPC_NODESTATUS_H
#define MQ_RPC_NODESTATUS_H

#include "call.h"

void rpc_status(struct call *call);

#endif
