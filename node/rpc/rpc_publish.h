/* rpc_publish.h: publish requests (one message or an atomic batch). Loop
 * thread only. */
#ifndef MQ_RPC_PUBLISH_H
#define MQ_RPC_PUBLISH_H

#include "call.h"

/* Checks, proposes and answers the publish in @call (once, then frees it). */
void rpc_publish(struct call *call);

#endif
