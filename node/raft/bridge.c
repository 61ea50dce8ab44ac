/* bridge.c: nng threads hand complete messages to the loop.
 *
 * A client request's context cycles: idle (in the pool) -> receiving (nng
 * thread) -> with the loop (the loop owns req until bridge_reply) ->
 * sending (nng thread) -> idle. The loop posts receives (refill) while
 * fewer than max_active requests are received or with it, parked ones not
 * counted; nng callbacks only touch the inbox and the pool under the lock
 * and wake the loop.
 *
 * Why one context per request on the cooked REP socket, and not the raw
 * one (xrep, requests and replies with their headers on the socket's
 * queues): in nng 1.5.2 a raw REP socket puts replies into a queue of 64
 * per connection and drops, without a word, what does not fit, so that
 * thousands of long polls of one connection answered at once would lose
 * most of their replies; the cooked socket makes a reply wait for its
 * connection instead. Its receive side reads a connection again as soon
 * as a context takes the connection's request, so with receives posted a
 * closed connection is seen and freed at once; past max_active it is seen
 * once the loop takes requests again. nng's SENDBUF and RECVBUF do not
 * apply to a cooked REP socket (it has no socket queues); the bounds are
 * max_active, the per-connection order of nng, and BRIDGE_SEND_TIMEOUT_MS.
 *
 * Failure modes: a context that cannot be made (out of memory) leaves
 * fewer receives posted, retried at the next refill; a reply that fails or
 * times out is counted (replies_not_sent); a connection the loop cannot
 * track (out of memory) is closed at once. */
#include "bridge.h"

#include <nng/protocol/reqrep0/rep.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "log.h"
#include "pipeabort.h"
#include "tlsconf.h"

enum { REQ_IDLE, REQ_RECV, REQ_LOOP, REQ_SEND };

/* Seconds between two warnings that requests wait at the limit. */
#define PAUSED_LOG_EVERY_MS 10000

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static nng_msg *take_msg(nng_aio *aio)
{
    nng_msg *m = nng_aio_get_msg(aio);
    nng_aio_set_msg(aio, NULL);
    return m;
}

/* Frees what @in holds when it cannot go to the loop. */
static void drop(struct inbound *in)
{
    if (in->kind == INBOUND_REQUEST) {
        /* Embedded in its req, which bridge_stop frees. */
        if (in->req->msg != NULL) {
            nng_msg_free(in->req->msg);
            in->req->msg = NULL;
        }
        return;
    }
    if (in->msg != NULL) {
        nng_msg_free(in->msg);
    }
    mq_free(in);
}

static void push(struct bridge *b, struct inbound *in)
{
    int closing;
    uv_mutex_lock(&b->lock);
    closing = b->closing;
    if (!closing) {
        in->next = NULL;
        if (b->tail) {
            b->tail->next = in;
        } else {
            b->head = in;
        }
        b->tail = in;
    }
    uv_mutex_unlock(&b->lock);
    if (closing) {
        drop(in);
        return;
    }
    uv_async_send(&b->wakeup); /* coalesced: one wake-up per burst */
}

void bridge_push_peer(struct bridge *b, nng_msg *msg)
{
    struct inbound *in;
    size_t len = nng_msg_len(msg);
    int full;

    uv_mutex_lock(&b->lock);
    full = b->peer_queued > 0 &&
           (b->peer_queued >= b->peer_max_queued ||
            b->peer_queued_bytes + len > b->peer_max_queued_bytes);
    if (!full) {
        b->peer_queued++;
        b->peer_queued_bytes += len;
    }
    uv_mutex_unlock(&b->lock);
    if (full) {
        atomic_fetch_add(&b->peer_dropped, 1);
        nng_msg_free(msg); /* raft tolerates a lost message */
        return;
    }
    in = mq_malloc(sizeof *in);
    if (in == NULL) {
        uv_mutex_lock(&b->lock);
        b->peer_queued--;
        b->peer_queued_bytes -= len;
        uv_mutex_unlock(&b->lock);
        atomic_fetch_add(&b->peer_dropped, 1);
        nng_msg_free(msg);
        return;
    }
    memset(in, 0, sizeof *in);
    in->kind = INBOUND_PEER;
    in->msg = msg;
    push(b, in);
}

void bridge_push_peer_event(struct bridge *b, enum inbound_kind kind,
                            uint32_t pipe)
{
    struct inbound *in = mq_malloc(sizeof *in);
    if (in == NULL) {
        return; /* a pipe's state is made when its first message comes */
    }
    memset(in, 0, sizeof *in);
    in->kind = kind;
    in->pipe = pipe;
    push(b, in);
}

/* A key for the remote address of @p (0 when it has none: ipc). */
static uint64_t remote_key(nng_pipe p)
{
    nng_sockaddr sa;
    if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0) {
        return 0;
    }
    switch (sa.s_family) {
    case NNG_AF_INET:
        return 0x100000000ull | sa.s_in.sa_addr;
    case NNG_AF_INET6: {
        uint64_t h = 1469598103934665603ull; /* FNV-1a of the address */
        for (int i = 0; i < 16; i++) {
            h = (h ^ sa.s_in6.sa_addr[i]) * 1099511628211ull;
        }
        return h | 1;
    }
    default:
        return 0;
    }
}

/* Forgets pending pipe @id (under the lock). */
static void pending_forget(struct bridge *b, uint32_t id)
{
    void *v = hmap_del(&b->pending_pipes, id);
    hmap_shrink(&b->pending_pipes);
    if (v != NULL) {
        uint64_t key = (uint64_t)(uintptr_t)v;
        uintptr_t n = (uintptr_t)hmap_get(&b->pending_hosts, key);
        if (n <= 1) {
            hmap_del(&b->pending_hosts, key);
            hmap_shrink(&b->pending_hosts);
        } else {
            hmap_put(&b->pending_hosts, key, (void *)(n - 1)); /* exists */
        }
    }
}

static void peer_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg) /* nng */
{
    struct bridge *b = arg;
    uint32_t id = nng_pipe_id(p);

    if (ev == NNG_PIPE_EV_ADD_PRE) {
        uint64_t key = remote_key(p);
        int refuse = 0;
        uv_mutex_lock(&b->lock);
        uintptr_t n = (uintptr_t)hmap_get(&b->pending_hosts, key | 1);
        if (n >= b->peer_max_pending ||
            hmap_reserve(&b->pending_hosts, 1) != MQ_OK ||
            hmap_reserve(&b->pending_pipes, 1) != MQ_OK) {
            refuse = 1;
        } else {
            hmap_put(&b->pending_hosts, key | 1, (void *)(n + 1));
            hmap_put(&b->pending_pipes, id, (void *)(uintptr_t)(key | 1));
        }
        uv_mutex_unlock(&b->lock);
        if (refuse) {
            atomic_fetch_add(&b->peer_refused, 1);
            nng_pipe_close(p); /* its REM_POST follows */
            return;
        }
        bridge_push_peer_event(b, INBOUND_PEER_PIPE_ADD, id);
        return;
    }
    uv_mutex_lock(&b->lock);
    pending_forget(b, id);
    uv_mutex_unlock(&b->lock);
    bridge_push_peer_event(b, INBOUND_PEER_PIPE_REM, id);
}

mq_err bridge_peer_watch(struct bridge *b, nng_socket pull, size_t max_pending,
                         struct errmsg *e)
{
    int rv;
    b->peer_max_pending = max_pending;
    if ((rv = nng_pipe_notify(pull, NNG_PIPE_EV_ADD_PRE, peer_pipe_cb, b)) !=
            0 ||
        (rv = nng_pipe_notify(pull, NNG_PIPE_EV_REM_POST, peer_pipe_cb, b)) !=
            0) {
        errmsg_set(e, "peer socket: %s", nng_strerror(rv));
        return MQ_ERR_INTERNAL;
    }
    return MQ_OK;
}

void bridge_peer_pipe_bound(struct bridge *b, uint32_t pipe)
{
    uv_mutex_lock(&b->lock);
    pending_forget(b, pipe);
    uv_mutex_unlock(&b->lock);
}

void bridge_peer_stats(struct bridge *b, uint64_t *dropped, uint64_t *refused)
{
    *dropped = atomic_load(&b->peer_dropped);
    *refused = atomic_load(&b->peer_refused);
}

static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg) /* nng thread */
{
    struct bridge *b = arg;
    struct inbound *in;

    if (ev == NNG_PIPE_EV_ADD_PRE) {
        atomic_fetch_add(&b->n_conns, 1);
    } else {
        atomic_fetch_sub(&b->n_conns, 1);
        atomic_fetch_add(&b->n_closed, 1);
    }
    if ((in = mq_malloc(sizeof *in)) == NULL) {
        if (ev == NNG_PIPE_EV_ADD_PRE) {
            nng_pipe_close(p); /* untracked: refused (its REM_POST follows) */
        }
        /* A closing one's waiting fetches end at their deadline. */
        return;
    }
    memset(in, 0, sizeof *in);
    in->kind = ev == NNG_PIPE_EV_ADD_PRE ? INBOUND_PIPE_ADD : INBOUND_PIPE_REM;
    in->pipe = nng_pipe_id(p);
    push(b, in);
}

static void req_cb(void *arg) /* nng thread */
{
    struct rpc_req *req = arg;
    struct bridge *b = req->b;
    int rv = nng_aio_result(req->aio);

    if (req->state == REQ_SEND) {
        if (rv != 0) {
            nng_msg *m = take_msg(req->aio);
            if (m != NULL) {
                nng_msg_free(m);
            }
            if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
                return; /* stopping: bridge_stop frees req */
            }
            atomic_fetch_add(&b->n_not_sent, 1);
        }
        req->state = REQ_IDLE;
        uv_mutex_lock(&b->lock);
        req->idle_next = b->idle;
        b->idle = req;
        b->n_idle++;
        uv_mutex_unlock(&b->lock); /* req is the loop's from here */
        return;
    }
    if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
        return;
    }
    if (rv != 0) {
        nng_ctx_recv(req->ctx, req->aio);
        return;
    }
    req->msg = take_msg(req->aio);
    req->state = REQ_LOOP;
    req->start_ns = now_ns();
    req->in.kind = INBOUND_REQUEST;
    req->in.req = req;
    push(b, &req->in);
}

/* The pool ------------------------------------------------------------------
 */

static struct rpc_req *req_new(struct bridge *b)
{
    struct rpc_req *req = mq_calloc(1, sizeof *req);
    int rv;

    if (req == NULL) {
        return NULL;
    }
    req->b = b;
    if ((rv = nng_aio_alloc(&req->aio, req_cb, req)) != 0) {
        mq_free(req);
        return NULL;
    }
    if ((rv = nng_ctx_open(&req->ctx, b->rep)) != 0) {
        nng_aio_free(req->aio);
        mq_free(req);
        return NULL;
    }
    req->next = b->all;
    if (b->all != NULL) {
        b->all->prev = req;
    }
    b->all = req;
    b->n_reqs++;
    return req;
}

/* Frees @req, which no operation uses. Loop thread. */
static void req_free(struct bridge *b, struct rpc_req *req)
{
    if (req->prev != NULL) {
        req->prev->next = req->next;
    } else {
        b->all = req->next;
    }
    if (req->next != NULL) {
        req->next->prev = req->prev;
    }
    b->n_reqs--;
    nng_aio_free(req->aio); /* waits for a callback still returning */
    nng_ctx_close(req->ctx);
    if (req->msg != NULL) {
        nng_msg_free(req->msg);
    }
    mq_free(req);
}

static struct rpc_req *take_idle(struct bridge *b)
{
    struct rpc_req *req;
    uv_mutex_lock(&b->lock);
    if ((req = b->idle) != NULL) {
        b->idle = req->idle_next;
        b->n_idle--;
    }
    uv_mutex_unlock(&b->lock);
    return req;
}

/* Frees idle contexts beyond BRIDGE_IDLE_KEEP. Loop thread. */
static void trim_idle(struct bridge *b)
{
    for (;;) {
        struct rpc_req *req = NULL;
        uv_mutex_lock(&b->lock);
        if (b->n_idle > BRIDGE_IDLE_KEEP) {
            req = b->idle;
            b->idle = req->idle_next;
            b->n_idle--;
        }
        uv_mutex_unlock(&b->lock);
        if (req == NULL) {
            return;
        }
        req_free(b, req);
    }
}

/* Posts receives while the loop may take more requests. Loop thread. */
static void refill(struct bridge *b)
{
    while (b->rep_open && b->n_receiving + b->n_active < b->max_active) {
        struct rpc_req *req = take_idle(b);
        if (req == NULL && (req = req_new(b)) == NULL) {
            break; /* out of memory: again at the next refill */
        }
        req->state = REQ_RECV;
        nng_aio_set_timeout(req->aio, NNG_DURATION_INFINITE);
        nng_ctx_recv(req->ctx, req->aio);
        b->n_receiving++;
    }
    if (b->rep_open && b->n_receiving == 0) {
        uint64_t now = uv_now(b->loop);
        b->n_paused++;
        if (b->paused_logged_ms == 0 ||
            now - b->paused_logged_ms >= PAUSED_LOG_EVERY_MS) {
            b->paused_logged_ms = now;
            LOG_WARN("client requests: %zu being handled, the limit "
                     "(rpc_contexts): new requests wait in their "
                     "connections",
                     b->n_active);
        }
    }
}

/* The loop ----------------------------------------------------------------- */

static void pipe_event(struct bridge *b, struct inbound *in)
{
    if (in->kind == INBOUND_PIPE_ADD) {
        if (hmap_put(&b->pipes, in->pipe, b) != MQ_OK) {
            nng_pipe p = NNG_PIPE_INITIALIZER;
            p.id = in->pipe;
            pipe_abort(p); /* untracked: refused (it may be sending) */
        }
        return;
    }
    if (hmap_del(&b->pipes, in->pipe) != NULL && b->on_pipe_closed) {
        b->on_pipe_closed(b->arg, in->pipe);
    }
    hmap_shrink(&b->pipes); /* after a burst of connections */
}

static void wakeup_cb(uv_async_t *h) /* loop thread */
{
    struct bridge *b = h->data;
    struct inbound *in;

    uv_mutex_lock(&b->lock);
    in = b->head;
    b->head = b->tail = NULL;
    uv_mutex_unlock(&b->lock);

    while (in != NULL) {
        struct inbound *next = in->next;
        switch (in->kind) {
        case INBOUND_REQUEST: {
            struct rpc_req *req = in->req;
            b->n_receiving--;
            b->n_active++;
            req->parked = 0;
            req->pipe = nng_pipe_id(nng_msg_get_pipe(req->msg));
            b->on_request(b->arg, req, nng_msg_body(req->msg),
                          nng_msg_len(req->msg));
            break;
        }
        case INBOUND_PEER:
            uv_mutex_lock(&b->lock);
            b->peer_queued--;
            b->peer_queued_bytes -= nng_msg_len(in->msg);
            uv_mutex_unlock(&b->lock);
            b->on_peer(b->arg, in->msg);
            mq_free(in);
            break;
        case INBOUND_PEER_PIPE_ADD:
        case INBOUND_PEER_PIPE_REM:
        case INBOUND_PEER_DIAL_UP:
            if (b->on_peer_event != NULL) {
                b->on_peer_event(b->arg, in->kind, in->pipe);
            }
            mq_free(in);
            break;
        case INBOUND_PIPE_ADD:
        case INBOUND_PIPE_REM:
            pipe_event(b, in);
            mq_free(in);
            break;
        }
        in = next;
    }
    refill(b);
    trim_idle(b);
}

void bridge_park(struct rpc_req *req)
{
    struct bridge *b = req->b;
    if (!req->parked) {
        req->parked = 1;
        b->n_active--;
        b->n_parked++;
        refill(b);
    }
}

void bridge_unpark(struct rpc_req *req)
{
    struct bridge *b = req->b;
    if (req->parked) {
        req->parked = 0;
        b->n_parked--;
        b->n_active++;
    }
}

int bridge_req_connected(const struct rpc_req *req)
{
    return hmap_get(&req->b->pipes, req->pipe) != NULL;
}

void bridge_reply(struct rpc_req *req, nng_msg *reply)
{
    struct bridge *b = req->b;

    if (req->msg) {
        nng_msg_free(req->msg);
        req->msg = NULL;
    }
    if (req->parked) {
        b->n_parked--;
    } else {
        b->n_active--;
    }
    req->parked = 0;
    req->loop_data = NULL;
    if (reply == NULL) {
        /* No reply (out of memory): the context is free again; the
         * client's call times out. */
        atomic_fetch_add(&b->n_not_sent, 1);
        req->state = REQ_IDLE;
        uv_mutex_lock(&b->lock);
        req->idle_next = b->idle;
        b->idle = req;
        b->n_idle++;
        uv_mutex_unlock(&b->lock);
        refill(b);
        return;
    }
    req->state = REQ_SEND;
    nng_aio_set_msg(req->aio, reply);
    nng_aio_set_timeout(req->aio, BRIDGE_SEND_TIMEOUT_MS);
    nng_ctx_send(req->ctx, req->aio);
    refill(b);
}

void bridge_stats(const struct bridge *b, struct bridge_stats *out)
{
    out->connections = atomic_load(&b->n_conns);
    out->closed = atomic_load(&b->n_closed);
    out->active = b->n_active;
    out->parked = b->n_parked;
    out->receiving = b->n_receiving;
    out->contexts = b->n_reqs;
    out->replies_not_sent = atomic_load(&b->n_not_sent);
    out->paused = b->n_paused;
}

mq_err bridge_start(struct bridge *b, uv_loop_t *loop,
                    const struct bridge_opts *o, struct errmsg *e)
{
    int rv;

    memset(b, 0, sizeof *b);
    b->loop = loop;
    b->on_request = o->on_request;
    b->on_peer = o->on_peer;
    b->on_peer_event = o->on_peer_event;
    b->on_pipe_closed = o->on_pipe_closed;
    b->peer_max_queued = o->peer_max_queued ? o->peer_max_queued : 4096;
    b->peer_max_queued_bytes =
        o->peer_max_queued_bytes ? o->peer_max_queued_bytes : SIZE_MAX;
    hmap_init(&b->pending_hosts);
    hmap_init(&b->pending_pipes);
    atomic_init(&b->peer_dropped, 0);
    atomic_init(&b->peer_refused, 0);
    b->arg = o->arg;
    b->max_active = o->max_active;
    hmap_init(&b->pipes);
    atomic_init(&b->n_conns, 0);
    atomic_init(&b->n_closed, 0);
    atomic_init(&b->n_not_sent, 0);
    uv_mutex_init(&b->lock);
    uv_async_init(loop, &b->wakeup, wakeup_cb);
    b->wakeup.data = b;

    if ((rv = nng_rep0_open(&b->rep)) != 0) {
        errmsg_set(e, "client socket: %s", nng_strerror(rv));
        return MQ_ERR_INTERNAL;
    }
    b->rep_open = 1;
    nng_socket_set_size(b->rep, NNG_OPT_RECVMAXSZ,
                        o->max_bytes > SIZE_MAX / BRIDGE_OVERSIZE_FACTOR
                            ? SIZE_MAX
                            : o->max_bytes * BRIDGE_OVERSIZE_FACTOR);
    if ((rv = nng_pipe_notify(b->rep, NNG_PIPE_EV_ADD_PRE, pipe_cb, b)) != 0 ||
        (rv = nng_pipe_notify(b->rep, NNG_PIPE_EV_REM_POST, pipe_cb, b)) != 0) {
        errmsg_set(e, "client socket: %s", nng_strerror(rv));
        return MQ_ERR_INTERNAL;
    }
    snprintf(b->url, sizeof b->url, "%s", o->url);
    if ((rv = tlsconf_listen(&b->listener, b->rep, o->url, o->tls)) != 0) {
        errmsg_set(e, "listen on client_url %s: %s", o->url, nng_strerror(rv));
        return MQ_ERR_INVALID;
    }
    refill(b);
    if (b->n_receiving == 0) {
        errmsg_set(e, "client contexts: out of memory");
        return MQ_ERR_NO_MEMORY;
    }
    return MQ_OK;
}

mq_err bridge_set_tls(struct bridge *b, nng_tls_config *tls, struct errmsg *e)
{
    if (!b->rep_open || !tlsconf_is_tls_url(b->url)) {
        errmsg_set(e, "client_url %s is not a tls+tcp:// URL", b->url);
        return MQ_ERR_INVALID;
    }
    return tlsconf_listener_set(b->listener, b->url, tls, e);
}

mq_err bridge_relisten(struct bridge *b, nng_tls_config *tls, struct errmsg *e)
{
    int rv;
    nng_listener_close(b->listener);
    if ((rv = tlsconf_listen(&b->listener, b->rep, b->url, tls)) != 0) {
        errmsg_set(e, "listen on client_url %s: %s", b->url, nng_strerror(rv));
        return MQ_ERR_INTERNAL;
    }
    return MQ_OK;
}

mq_err bridge_check_listen(const char *url, const char *key, struct errmsg *e)
{
    nng_socket s;
    int rv;

    if ((rv = nng_rep0_open(&s)) != 0) {
        errmsg_set(e, "%s %s: socket: %s", key, url, nng_strerror(rv));
        return MQ_ERR_INTERNAL;
    }
    rv = nng_listen(s, url, NULL, 0);
    nng_close(s);
    if (rv != 0) {
        errmsg_set(e, "listen on %s %s: %s", key, url, nng_strerror(rv));
        return MQ_ERR_INVALID;
    }
    return MQ_OK;
}

void bridge_stop(struct bridge *b)
{
    struct inbound *in;

    uv_mutex_lock(&b->lock);
    b->closing = 1;
    in = b->head;
    b->head = b->tail = NULL;
    b->idle = NULL; /* every req is on the all list too */
    b->n_idle = 0;
    uv_mutex_unlock(&b->lock);
    while (in != NULL) {
        struct inbound *next = in->next;
        drop(in);
        in = next;
    }
    /* Stop every operation first, so that no callback starts another on a
     * socket being closed; then close (pipe callbacks end there). */
    for (struct rpc_req *req = b->all; req != NULL; req = req->next) {
        nng_aio_stop(req->aio);
    }
    if (b->rep_open) {
        nng_close(b->rep);
        b->rep_open = 0;
    }
    while (b->all != NULL) {
        struct rpc_req *req = b->all;
        nng_msg *m = take_msg(req->aio);
        if (m != NULL) {
            nng_msg_free(m);
        }
        b->all = req->next;
        nng_aio_free(req->aio);
        if (req->msg != NULL) {
            nng_msg_free(req->msg);
        }
        mq_free(req);
    }
    b->n_reqs = b->n_active = b->n_parked = b->n_receiving = 0;
    hmap_close(&b->pipes);
    uv_mutex_lock(&b->lock);
    hmap_close(&b->pending_hosts);
    hmap_close(&b->pending_pipes);
    uv_mutex_unlock(&b->lock);
}

void bridge_close(struct bridge *b, uv_close_cb cb)
{
    uv_close((uv_handle_t *)&b->wakeup, cb);
}
