/* rpc_keys.h: key requests: create, update, rotate, revoke (writes, on
 * the leader, through the log) and info, list (reads of the leader's
 * applied keys). A new secret is drawn here, on the leader (getrandom):
 * only its hash goes into the log; the secret goes back once, as a token
 * in the reply. Each handler answers @call exactly once and frees it.
 * Loop thread only. */
#ifndef MQ_RPC_KEYS_H
#define MQ_RPC_KEYS_H

#include "call.h"

void rpc_key_create(struct call *call);
void rpc_key_update(struct call *call);
void rpc_key_rotate(struct call *call);
void rpc_key_revoke(struct call *call);
void rpc_key_info(struct call *call);
void rpc_key_list(struct call *call);

#endif
