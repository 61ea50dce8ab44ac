/* rpc_keys.h: key requests (create, update, rotate, revoke, info, list)
 * and the key work of the leader: proposing the bootstrap key when this
 * node has auth_bootstrap_key_file and the applied state has
 * authentication off, and proposing a key's last-used time at most once
 * a minute (KEYS_USED_EVERY_MS) per key. A new secret is drawn here, on
 * the leader (getrandom): only its hash goes into the log; the secret
 * goes back once, as a token in the reply. Loop thread only. */
#ifndef MQ_RPC_KEYS_H
#define MQ_RPC_KEYS_H

#include "call.h"

/* A key's last-used time is proposed when it is this much older than a
 * use the leader sees. */
#define KEYS_USED_EVERY_MS 60000

mq_err rpc_keys_start(struct rpc *r, uv_loop_t *loop);
void rpc_keys_stop(struct rpc *r);

void rpc_key_create(struct call *call);
void rpc_key_update(struct call *call);
void rpc_key_rotate(struct call *call);
void rpc_key_revoke(struct call *call);
void rpc_key_info(struct call *call);
void rpc_key_list(struct call *call);

/* The leader saw @k used at wall time @now_ms: proposes its last-used
 * time if it is KEYS_USED_EVERY_MS old (once per key until applied). */
void rpc_keys_note_used(struct rpc *r, const struct key *k, uint64_t now_ms);

#endif
