/* rpc.h: client requests: decode, validate, route, reply. Writes go
 * through batch.c to raft and are answered when applied; reads are answered
 * from this node's applied state; a follower answers writes with
 * NOT_LEADER and the leader's client URL. Loop thread only. */
#ifndef MQ_RPC_H
#define MQ_RPC_H

#include <stdint.h>
#include <uv.h>

#include "batch.h"
#include "bridge.h"
#include "config.h"
#include "consensus.h"
#include "fsm.h"
#include "peer.h"
#include "rpc_stats.h"
#include "waitset.h"

struct auth;
struct call;
struct member_change;
struct rpc_keys;

struct rpc {
    struct bridge *bridge;
    struct consensus *c;
    struct batch *batch;
    struct fsm *f;
    struct peer *peer;
    const struct config *cfg;

    struct waitset waiting; /* fetches waiting for messages (rpc_fetch.c) */
    uv_timer_t wait_timer;
    uint64_t refused_logged_ms; /* last warning of a cap refusing fetches */

    struct member_change *mc; /* the membership change running, if any */
    uv_timer_t mc_timer;

    struct call *reads; /* catch-up reads waiting for min_index */
    struct call *reads_tail;
    size_t n_reads;
    uv_check_t read_check;

    /* Reloads the node's TLS files (node.c): MQ_OK with @detail saying
     * what was reloaded, or an error with @e. */
    mq_err (*reload_tls_cb)(void *arg, char *detail, size_t len,
                            struct errmsg *e);
    void *reload_tls_arg;

    uint64_t id_term, id_counter; /* ids generated for id-less messages */
    uint64_t requests, bad_requests;
    struct rpc_stats stats; /* for /metrics */
    int closing;

    struct auth *auth;     /* keys of requests (rpc_auth.c); NULL: none */
    struct rpc_keys *keys; /* key requests, bootstrap (rpc_keys.c) */
};

void rpc_init(struct rpc *r, uv_loop_t *loop, struct bridge *b,
              struct consensus *c, struct batch *batch, struct fsm *f,
              struct peer *p, const struct config *cfg);

/* Handles one request (bridge callback). */
void rpc_handle(void *arg, struct rpc_req *req, const void *data, size_t len);

/* Connection @pipe closed (bridge callback): the fetches it left waiting
 * are dropped (their answers could go nowhere). */
void rpc_pipe_closed(void *arg, uint32_t pipe);
/* Routes a decoded request whose key was checked (rpc_auth.c) to its
 * handler. */
void rpc_route(struct call *call);

/* Leadership changed: waiting fetches are answered NOT_LEADER on loss. */
void rpc_leader_changed(struct rpc *r, int leader);

/* New messages in @q (FSM callback), or messages given back by a nack:
 * wakes fetches waiting on it. */
void rpc_on_publish(void *arg, struct queue *q);

/* A change apply made (FSM callback, see fsm.h's on_note): logged at
 * @level by the leader once its barrier is applied, where the change is
 * new; at DEBUG elsewhere (a follower, or a log replayed at start). */
void rpc_on_note(void *arg, int level, const char *line);

/* Answers everything waiting with NOT_DONE and stops the timers. */
void rpc_close(struct rpc *r);

#endif
