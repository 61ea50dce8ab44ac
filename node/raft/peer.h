/* peer.h: our raft_io. Disk and timers are libraft's own raft_uv; raft
 * messages travel as protobuf PeerMessages over nng (a PULL socket at this
 * node's peer URL, a PUSH socket per other node) instead of raft_uv's TCP
 * transport.
 *
 * It also carries the node's guards against libraft 0.15 defects that sit
 * on the message path (see peer.c), lets only members speak on the peer
 * port (peer_auth.h: each connection bound to a member id by its hello,
 * signed when peer TLS is on), and learns each node's client URL (from the
 * signed hello with peer TLS, else from a member's first message). Loop
 * thread only, except the receive callback, which only hands messages to
 * the bridge. */
#ifndef MQ_PEER_H
#define MQ_PEER_H

#include <nng/nng.h>
#include <raft.h>
#include <raft/uv.h>
#include <stdint.h>
#include <uv.h>

#include "bridge.h"
#include "clockskew.h"
#include "config.h"
#include "errmsg.h"
#include "mq.h"
#include "peer_auth.h"
#include "peer_codec.h"
#include "peer_conns.h"
#include "peer_snap.h"
#include "peer_write.h"

struct peer_done;

struct peer_known {
    uint64_t id;
    char client_url[MQ_URL_MAX];
    char peer_url[MQ_URL_MAX]; /* the URL it was learnt with */
    int warned;                /* told that a change was ignored */
};

struct peer {
    struct raft_io io; /* what raft sees */
    struct raft_io uv; /* raft_uv: log, metadata, snapshots, timers */
    struct raft_uv_transport stub; /* never carries a message */
    uv_loop_t *loop;
    struct bridge *bridge;
    const struct config *cfg;
    struct peer_self self;
    raft_id id;

    raft_io_tick_cb tick_cb;
    raft_io_recv_cb recv_cb;
    raft_io_close_cb close_cb;

    nng_socket pull;
    nng_listener pull_listener;
    nng_tls_config *pull_tls; /* peer TLS: the listener's; or NULL */
    nng_aio *recv_aio;
    int pull_open;
    struct peer_conns conns; /* to the other nodes */
    struct peer_auth auth;   /* who may speak on the peer port */
    uv_timer_t sweep;        /* closes connections bound to nobody */

    struct peer_done *done_head, *done_tail;
    uv_idle_t idle;
    int closing;
    struct peer_snap snap;   /* snapshot files with our checksum */
    struct peer_write write; /* log writes and snapshot installs */
    int close_waiting;       /* raft_uv closed; the close waits for snap */

    /* libraft 0.15 guard (2): first log index of our term as leader (the
     * barrier's), 0 when not leader or not appended yet. */
    raft_index term_first_index;
    /* libraft 0.15 guard (2): while raft handles an AppendEntries, what it
     * asked (guard_cap_append_result). */
    int in_append;
    raft_index append_prev;
    uint64_t append_n;

    /* Called after each callback into raft (tick, message, I/O done), so
     * the node notices role changes. */
    void (*event_cb)(void *arg);
    void *event_arg;
    /* A voter told us we are not in its configuration (as of an index). */
    void (*not_member_cb)(void *arg, uint64_t from, uint64_t config_index);

    struct peer_known known[2 * CONFIG_MAX_MEMBERS];
    size_t n_known;

    /* Other nodes' clocks against ours (clockskew.h), and the term in
     * which we last said that we do not stand for election. */
    struct clockskew skew;
    uint64_t declined_term;
    uint64_t votes_refused;

    uint64_t msgs_in, msgs_out, bytes_in, bytes_out, dropped_out, bad_in;
    uint64_t last_in_ms; /* loop time raft last got a message; 0: never */
};

/* Sets up @p on @loop for the data dir of @cfg, and reads the peer TLS
 * files when peer_url is tls+tcp://. Returns MQ_OK, or an error with @e
 * naming the data dir or the file. */
mq_err peer_init(struct peer *p, uv_loop_t *loop, struct bridge *bridge,
                 const struct config *cfg, struct errmsg *e);

/* Handles one message from another node (loop thread; takes @msg). */
void peer_deliver(struct peer *p, nng_msg *msg);

/* An event of the peer port or of a connection to another node (bridge
 * callback, loop thread). */
void peer_event(struct peer *p, enum inbound_kind kind, uint32_t pipe);

/* Reads the peer TLS files again: the listener, the dialers and the hello
 * use them for new connections; open ones keep theirs. Returns MQ_OK, or
 * an error with @e (nothing changed). */
/* Closes the peer listener (its connections with it) and listens again
 * on peer_url, setting *l: for a listener that stopped accepting
 * (lwatch.h). Not while the connections it has still bring messages (one
 * in the last two election timeouts): dropping them would cut this node
 * off for nothing, and MQ_ERR_NOT_DONE says so. Loop thread. Returns
 * MQ_OK, or an error with @e. */
mq_err peer_relisten(struct peer *p, nng_listener *l, struct errmsg *e);

mq_err peer_reload_tls(struct peer *p, struct errmsg *e);

/* Client URL of node @id as learnt (peer.c's learn), or NULL. */
const char *peer_client_url(const struct peer *p, uint64_t id);

/* Whether this node's wall clock is more than max_clock_skew_ms ahead of
 * the clocks of a majority of the voters of @r's configuration (by fresh
 * measurements): then it must not lead. */
int peer_clock_ahead(struct peer *p, const struct raft *r);

/* How many voters of @r's configuration, this node included, it heard from
 * in the last @within_ms; *voters is set to their number. */
size_t peer_voters_heard(struct peer *p, const struct raft *r,
                         uint64_t within_ms, size_t *voters);

/* Frees what remains after raft closed the io. */
void peer_free(struct peer *p);

#endif
