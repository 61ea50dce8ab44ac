/* rpc_keywork.h: the node's own key work: proposing the bootstrap key when
 * this node has auth_bootstrap_key_file, leads, and the applied state has
 * authentication off; proposing a key's last-used time at most once a
 * minute (KEYS_USED_EVERY_MS) per key; telling the followers at once that
 * a key change is committed. Loop thread only. */
#ifndef MQ_RPC_KEYWORK_H
#define MQ_RPC_KEYWORK_H

#include <uv.h>

#include "keys.h"
#include "rpc.h"

/* A key's last-used time is proposed when it is this much older than a
 * use the leader sees. */
#define KEYS_USED_EVERY_MS 60000

/* Starts the work (a check handle on @loop). Returns MQ_OK or
 * MQ_ERR_NO_MEMORY. */
mq_err rpc_keys_start(struct rpc *r, uv_loop_t *loop);
/* Stops it (closes the handle). */
void rpc_keys_stop(struct rpc *r);

/* The leader saw @k used at wall time @now_ms: proposes its last-used
 * time if it is KEYS_USED_EVERY_MS old (once per key until applied). */
void rpc_keys_note_used(struct rpc *r, const struct key *k, uint64_t now_ms);

/* Proposes an entry without ops, so that the followers hear at once that
 * what was applied before it is committed, and apply it. Best effort: the
 * next heartbeat tells them otherwise. */
void rpc_keys_nudge(struct rpc *r);

#endif
