/* bridge.h: the only place where nng's threads meet the loop thread. An
 * nng callback pushes a complete message onto the locked inbox and wakes
 * the loop with a uv_async_t; on the loop, the inbox is swapped out under
 * the lock and each message dispatched to its handler.
 *
 * Also owns the client-facing REP socket and its contexts, since their
 * receive/send cycle runs on nng threads. */
#ifndef MQ_BRIDGE_H
#define MQ_BRIDGE_H

#include <nng/nng.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "errmsg.h"
#include "mq.h"

struct bridge;

/* One client request in flight: owned by the loop from dispatch until
 * bridge_reply. */
struct rpc_req {
    struct bridge *b;
    nng_ctx ctx;
    nng_aio *aio;
    int state;    /* receiving, with the loop, sending */
    nng_msg *msg; /* the request, while with the loop */
    uint64_t start_ns;
    struct rpc_req *next; /* inbox link */
    void *loop_data;      /* for the loop's own use (waiting lists) */
};

/* An inbound message: a client request (req != NULL) or a peer message. */
struct inbound {
    struct inbound *next;
    struct rpc_req *req;
    nng_msg *msg;
};

typedef void (*bridge_request_cb)(void *arg, struct rpc_req *req,
                                  const void *data, size_t len);
typedef void (*bridge_peer_cb)(void *arg, nng_msg *msg);

struct bridge {
    uv_loop_t *loop;
    uv_async_t wakeup;
    uv_mutex_t lock;
    struct inbound *head, *tail; /* guarded by lock */
    int closing;                 /* guarded by lock */

    nng_socket rep;
    struct rpc_req *reqs;
    size_t n_reqs;

    bridge_request_cb on_request;
    bridge_peer_cb on_peer;
    void *arg;
};

/* nng closes a connection whose message is over the socket's receive
 * limit, without a word to either side. So that a request somewhat over
 * the node's limit gets an answer (TOO_LARGE, from the request handler)
 * instead, the client socket takes messages up to this many times the
 * limit; only past that does the connection close. */
#define BRIDGE_OVERSIZE_FACTOR 4

/* Starts serving clients at @url with @n_ctx contexts. Requests up to
 * BRIDGE_OVERSIZE_FACTOR times @max_bytes are handed to @on_req, which
 * must refuse those over @max_bytes. Loop thread. Returns MQ_OK or
 * MQ_ERR_INVALID (with @e naming the URL) when it cannot listen. */
mq_err bridge_start(struct bridge *b, uv_loop_t *loop, const char *url,
                    size_t n_ctx, size_t max_bytes, bridge_request_cb on_req,
                    bridge_peer_cb on_peer, void *arg, struct errmsg *e);

/* Checks that @url (the value of config key @key) can be listened on now:
 * listens and closes at once. Returns MQ_OK, or MQ_ERR_INVALID with @e
 * naming the key, the URL and why (e.g. "address in use"). For the start,
 * before anything is written to the data dir. */
mq_err bridge_check_listen(const char *url, const char *key, struct errmsg *e);

/* Called from nng threads: hands @msg (taken over) to the loop's peer
 * handler. */
void bridge_push_peer(struct bridge *b, nng_msg *msg);

/* Sends @reply (taken over) as the answer to @req, which then goes back to
 * receiving. Loop thread. */
void bridge_reply(struct rpc_req *req, nng_msg *reply);

/* Stops serving: no handler is called after it returns. Blocks until nng's
 * callbacks are done. Loop thread. */
void bridge_stop(struct bridge *b);

/* Frees what bridge_stop left; from the async handle's close callback. */
void bridge_close(struct bridge *b, uv_close_cb cb);

#endif
