/* rpc_ack.h: ack, nack, touch and term of delivered messages. The handler
 * answers @call exactly once and frees it. Loop thread only. */
#ifndef MQ_RPC_ACK_H
#define MQ_RPC_ACK_H

#include "call.h"

/* Ack, nack, touch or term (SUB_ACK ... SUB_TERM). */
void rpc_ack(struct call *call, int mode);

#endif
