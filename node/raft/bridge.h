/* bridge.h: the only place where nng's threads meet the loop thread. An
 * nng callback pushes a complete message onto the locked inbox and wakes
 * the loop with a uv_async_t; on the loop, the inbox is swapped out under
 * the lock and each message dispatched to its handler.
 *
 * Also owns the client-facing REP socket, since its receive/send cycle
 * runs on nng threads. Each request gets a context of its own (struct
 * rpc_req: an nng context and aio, pooled), which it keeps until its reply
 * is sent; a request with the loop holds nothing else. The loop keeps
 * receives posted for as many requests as it may still take: at most
 * @max_active requests are received and not yet answered, not counting
 * the parked ones (long polls waiting: bridge_park). Past that limit no
 * receive is posted, and new requests wait in their connections (TCP
 * back-pressure) instead of piling up in memory. A context whose reply is
 * sent goes back to the pool (idle list) from the nng thread; the loop
 * takes receivers from the pool, or makes new ones, and frees what the
 * pool holds beyond BRIDGE_IDLE_KEEP. Connections are tracked
 * (opened, closed) so that the loop can drop what waits for a closed one. */
#ifndef MQ_BRIDGE_H
#define MQ_BRIDGE_H

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "errmsg.h"
#include "hmap.h"
#include "mq.h"

struct bridge;

enum inbound_kind {
    INBOUND_REQUEST, /* a client request (embedded in its struct rpc_req) */
    INBOUND_PEER,    /* a peer message */
    INBOUND_PIPE_ADD,
    INBOUND_PIPE_REM, /* a client connection opened or closed */
    INBOUND_PEER_PIPE_ADD,
    INBOUND_PEER_PIPE_REM, /* a connection to the peer port opened, closed */
    INBOUND_PEER_DIAL_UP,  /* this node's connection to node (pipe) is up */
};

/* An inbound message or event. */
struct inbound {
    struct inbound *next;
    enum inbound_kind kind;
    struct rpc_req *req; /* INBOUND_REQUEST */
    nng_msg *msg;        /* INBOUND_PEER */
    uint32_t pipe;       /* INBOUND_PIPE_*, INBOUND_PEER_PIPE_*; node id */
};

/* One client request and its context. Owned by the loop from dispatch
 * until bridge_reply; between requests, by the bridge. */
struct rpc_req {
    struct bridge *b;
    nng_ctx ctx;
    nng_aio *aio;
    int state;     /* idle, receiving, with the loop, sending */
    int parked;    /* loop: waiting (bridge_park) */
    nng_msg *msg;  /* the request, while with the loop */
    uint32_t pipe; /* id of the connection it came on */
    uint64_t start_ns;
    struct inbound in;           /* its place in the inbox */
    struct rpc_req *idle_next;   /* idle list, under the lock */
    struct rpc_req *prev, *next; /* every request: loop thread */
    void *loop_data;             /* for the loop's own use */
};

typedef void (*bridge_request_cb)(void *arg, struct rpc_req *req,
                                  const void *data, size_t len);
typedef void (*bridge_peer_cb)(void *arg, nng_msg *msg);
/* An INBOUND_PEER_* event (@kind) about @pipe (a node id for DIAL_UP). */
typedef void (*bridge_peer_event_cb)(void *arg, enum inbound_kind kind,
                                     uint32_t pipe);
/* Connection @pipe closed: nothing more can be sent to it. */
typedef void (*bridge_pipe_cb)(void *arg, uint32_t pipe);

/* What the client side counts, for status and metrics. */
struct bridge_stats {
    uint64_t connections;      /* open now */
    uint64_t closed;           /* closed since the start */
    uint64_t active;           /* requests with the loop, not parked */
    uint64_t parked;           /* parked requests (waiting long polls) */
    uint64_t receiving;        /* receives posted */
    uint64_t contexts;         /* contexts allocated in all */
    uint64_t replies_not_sent; /* replies that failed or timed out */
    uint64_t paused;           /* times receiving stopped at the limit */
};

struct bridge {
    uv_loop_t *loop;
    uv_async_t wakeup;
    uv_mutex_t lock;
    struct inbound *head, *tail; /* guarded by lock */
    struct rpc_req *idle;        /* guarded by lock */
    size_t n_idle;               /* guarded by lock */
    int closing;                 /* guarded by lock */

    nng_socket rep;
    int rep_open;
    nng_listener listener; /* the client URL's */
    char url[MQ_URL_MAX];
    size_t max_active;
    struct rpc_req *all; /* every request and context: loop thread */
    size_t n_reqs, n_active, n_parked, n_receiving;
    struct hmap pipes; /* open connections, by pipe id: loop thread */
    uint64_t n_paused;
    uint64_t paused_logged_ms;
    _Atomic uint64_t n_conns, n_closed, n_not_sent;

    bridge_request_cb on_request;
    bridge_peer_cb on_peer;
    bridge_peer_event_cb on_peer_event;
    bridge_pipe_cb on_pipe_closed;
    void *arg;

    /* The peer port (bridge_peer_watch), guarded by lock: its messages
     * waiting in the inbox (count, bytes) and its bounds; connections not
     * yet known as a member's, per remote address (pending_hosts: address
     * key -> count) and by pipe (pending_pipes: pipe -> address key). */
    size_t peer_queued, peer_queued_bytes;
    size_t peer_max_queued, peer_max_queued_bytes, peer_max_pending;
    struct hmap pending_hosts, pending_pipes;
    /* Counts (atomic: read by status on the loop). */
    _Atomic uint64_t peer_dropped, peer_refused;
};

/* nng closes a connection whose message is over the socket's receive
 * limit, without a word to either side. So that a request somewhat over
 * the node's limit gets an answer (TOO_LARGE, from the request handler)
 * instead, the client socket takes messages up to this many times the
 * limit; only past that does the connection close. */
#define BRIDGE_OVERSIZE_FACTOR 4

/* A reply not taken by its connection in this time is dropped (and
 * counted): a client that does not read its replies holds a context no
 * longer. */
#define BRIDGE_SEND_TIMEOUT_MS 30000

/* Idle contexts kept for the next requests; more are freed. */
#define BRIDGE_IDLE_KEEP 256

struct bridge_opts {
    const char *url;
    /* A tls+tcp:// url's TLS configuration (borrowed: the listener holds
     * its own reference); NULL otherwise. */
    nng_tls_config *tls;
    size_t max_active; /* the limit on requests with the loop */
    size_t max_bytes;  /* max_request_bytes */
    bridge_request_cb on_request;
    bridge_peer_cb on_peer;
    bridge_peer_event_cb on_peer_event;
    bridge_pipe_cb on_pipe_closed;
    void *arg;
    /* Bounds of the peer inbox (messages, bytes): past either, a peer
     * message is dropped and counted (one is always taken). */
    size_t peer_max_queued, peer_max_queued_bytes;
};

/* Sets up the inbox and its wake-up on @loop, and starts serving clients
 * as @o says. Requests up to BRIDGE_OVERSIZE_FACTOR
 * times max_bytes are handed to on_request, which must refuse those over
 * max_bytes. Loop thread. Returns MQ_OK; MQ_ERR_INVALID (with @e naming
 * the URL) when it cannot listen; MQ_ERR_NO_MEMORY or MQ_ERR_INTERNAL. */
mq_err bridge_start(struct bridge *b, uv_loop_t *loop,
                    const struct bridge_opts *o, struct errmsg *e);

/* Gives the client listener (tls+tcp://) the TLS configuration @tls for
 * the connections it accepts from now on; open ones keep theirs. Loop
 * thread; blocks up to a second (tlsconf_listener_set). Returns MQ_OK;
 * MQ_ERR_INVALID when the client URL is not tls+tcp://; or an error from
 * nng, with @e. */
mq_err bridge_set_tls(struct bridge *b, nng_tls_config *tls, struct errmsg *e);

/* Closes the client listener (its connections with it) and listens again
 * on the same URL with @tls (NULL: tcp://): for a listener that stopped
 * accepting (lwatch.h). Loop thread. Returns MQ_OK, or MQ_ERR_INTERNAL
 * with @e. */
mq_err bridge_relisten(struct bridge *b, nng_tls_config *tls, struct errmsg *e);

/* Checks that @url (the value of config key @key) can be listened on now:
 * listens and closes at once. Returns MQ_OK, or MQ_ERR_INVALID with @e
 * naming the key, the URL and why (e.g. "address in use"). For the start,
 * before anything is written to the data dir. */
mq_err bridge_check_listen(const char *url, const char *key, struct errmsg *e);

/* Called from nng threads: hands @msg (taken over) to the loop's peer
 * handler; drops it (and counts it) when the peer inbox is at its bounds. */
void bridge_push_peer(struct bridge *b, nng_msg *msg);

/* Called from nng threads: hands the event @kind about @pipe to the loop's
 * on_peer_event. */
void bridge_push_peer_event(struct bridge *b, enum inbound_kind kind,
                            uint32_t pipe);

/* Watches the peer port's socket @pull: each connection is reported to
 * on_peer_event (INBOUND_PEER_PIPE_ADD, _REM), and counts as pending (not
 * yet a member's) until bridge_peer_pipe_bound; a connection past
 * @max_pending pending ones from its remote address is closed at once (and
 * counted). Loop thread, before @pull listens. */
mq_err bridge_peer_watch(struct bridge *b, nng_socket pull, size_t max_pending,
                         struct errmsg *e);

/* Connection @pipe of the peer port is a member's (its hello or first
 * message was accepted): it no longer counts as pending. Loop thread. */
void bridge_peer_pipe_bound(struct bridge *b, uint32_t pipe);

/* The peer port's counts: messages dropped at the inbox's bounds,
 * connections refused past max_pending. Any thread. */
void bridge_peer_stats(struct bridge *b, uint64_t *dropped, uint64_t *refused);

/* @req waits for something else (a long poll): it no longer counts against
 * max_active, and another request may be received in its place. Undone by
 * bridge_unpark (or ended by bridge_reply). Loop thread. */
void bridge_park(struct rpc_req *req);
void bridge_unpark(struct rpc_req *req);

/* Whether the connection @req came on is still open. Loop thread. */
int bridge_req_connected(const struct rpc_req *req);

/* Sends @reply (taken over) as the answer to @req; @req is the bridge's
 * again. A NULL @reply (none could be made) sends nothing and frees the
 * context all the same. Loop thread. */
void bridge_reply(struct rpc_req *req, nng_msg *reply);

/* The counts of struct bridge_stats. Loop thread. */
void bridge_stats(const struct bridge *b, struct bridge_stats *out);

/* Stops serving: no handler is called after it returns. Blocks until nng's
 * callbacks are done; frees every request. Loop thread. */
void bridge_stop(struct bridge *b);

/* Frees what bridge_stop left; from the async handle's close callback. */
void bridge_close(struct bridge *b, uv_close_cb cb);

#endif
