/* bridge.c: nng threads hand complete messages to the loop.
 *
 * Each REP context cycles: receive (nng thread) -> with the loop (the loop
 * owns req until bridge_reply) -> send (nng thread) -> receive. nng
 * callbacks only touch the inbox under the lock and wake the loop. */
#include "bridge.h"

#include <nng/protocol/reqrep0/rep.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "log.h"

enum { REQ_RECV, REQ_LOOP, REQ_SEND };

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void push(struct bridge *b, struct inbound *in)
{
    int drop;
    uv_mutex_lock(&b->lock);
    drop = b->closing;
    if (!drop) {
        in->next = NULL;
        if (b->tail) {
            b->tail->next = in;
        } else {
            b->head = in;
        }
        b->tail = in;
    }
    uv_mutex_unlock(&b->lock);
    if (drop) {
        if (in->msg) {
            nng_msg_free(in->msg);
        }
        mq_free(in);
        return;
    }
    uv_async_send(&b->wakeup); /* coalesced: one wake-up per burst */
}

void bridge_push_peer(struct bridge *b, nng_msg *msg)
{
    struct inbound *in = mq_malloc(sizeof *in);
    if (in == NULL) {
        nng_msg_free(msg); /* raft tolerates a lost message */
        return;
    }
    in->req = NULL;
    in->msg = msg;
    push(b, in);
}

static void req_cb(void *arg) /* nng thread */
{
    struct rpc_req *req = arg;
    int rv = nng_aio_result(req->aio);

    if (req->state == REQ_SEND) {
        if (rv != 0) {
            nng_msg_free(nng_aio_get_msg(req->aio));
        }
        if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
            return;
        }
        req->state = REQ_RECV;
        nng_ctx_recv(req->ctx, req->aio);
        return;
    }
    if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
        return;
    }
    if (rv != 0) {
        nng_ctx_recv(req->ctx, req->aio);
        return;
    }
    struct inbound *in = mq_malloc(sizeof *in);
    if (in == NULL) {
        nng_msg_free(nng_aio_get_msg(req->aio));
        nng_ctx_recv(req->ctx, req->aio);
        return;
    }
    req->msg = nng_aio_get_msg(req->aio);
    req->state = REQ_LOOP;
    req->start_ns = now_ns();
    in->req = req;
    in->msg = NULL;
    push(req->b, in);
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
        if (in->req != NULL) {
            struct rpc_req *req = in->req;
            b->on_request(b->arg, req, nng_msg_body(req->msg),
                          nng_msg_len(req->msg));
        } else {
            b->on_peer(b->arg, in->msg);
        }
        mq_free(in);
        in = next;
    }
}

void bridge_reply(struct rpc_req *req, nng_msg *reply)
{
    if (req->msg) {
        nng_msg_free(req->msg);
        req->msg = NULL;
    }
    req->loop_data = NULL;
    req->state = REQ_SEND;
    nng_aio_set_msg(req->aio, reply);
    nng_ctx_send(req->ctx, req->aio);
}

mq_err bridge_start(struct bridge *b, uv_loop_t *loop, const char *url,
                    size_t n_ctx, size_t max_bytes, bridge_request_cb on_req,
                    bridge_peer_cb on_peer, void *arg, struct errmsg *e)
{
    int rv;

    memset(b, 0, sizeof *b);
    b->loop = loop;
    b->on_request = on_req;
    b->on_peer = on_peer;
    b->arg = arg;
    uv_mutex_init(&b->lock);
    uv_async_init(loop, &b->wakeup, wakeup_cb);
    b->wakeup.data = b;

    if ((rv = nng_rep0_open(&b->rep)) != 0) {
        errmsg_set(e, "client socket: %s", nng_strerror(rv));
        return MQ_ERR_INTERNAL;
    }
    nng_socket_set_size(b->rep, NNG_OPT_RECVMAXSZ,
                        max_bytes > SIZE_MAX / BRIDGE_OVERSIZE_FACTOR
                            ? SIZE_MAX
                            : max_bytes * BRIDGE_OVERSIZE_FACTOR);
    b->reqs = mq_calloc(n_ctx, sizeof *b->reqs);
    if (b->reqs == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < n_ctx; i++) {
        struct rpc_req *req = &b->reqs[i];
        req->b = b;
        if ((rv = nng_aio_alloc(&req->aio, req_cb, req)) != 0 ||
            (rv = nng_ctx_open(&req->ctx, b->rep)) != 0) {
            errmsg_set(e, "client contexts: %s", nng_strerror(rv));
            return MQ_ERR_NO_MEMORY;
        }
        b->n_reqs++;
    }
    if ((rv = nng_listen(b->rep, url, NULL, 0)) != 0) {
        errmsg_set(e, "listen on client_url %s: %s", url, nng_strerror(rv));
        return MQ_ERR_INVALID;
    }
    for (size_t i = 0; i < b->n_reqs; i++) {
        b->reqs[i].state = REQ_RECV;
        nng_ctx_recv(b->reqs[i].ctx, b->reqs[i].aio);
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
    uv_mutex_unlock(&b->lock);
    while (in != NULL) {
        struct inbound *next = in->next;
        if (in->msg) {
            nng_msg_free(in->msg);
        }
        mq_free(in);
        in = next;
    }
    for (size_t i = 0; i < b->n_reqs; i++) {
        nng_aio_stop(b->reqs[i].aio);
    }
    nng_close(b->rep);
    for (size_t i = 0; i < b->n_reqs; i++) {
        struct rpc_req *req = &b->reqs[i];
        if (req->msg) {
            nng_msg_free(req->msg);
            req->msg = NULL;
        }
        nng_aio_free(req->aio);
    }
}

void bridge_close(struct bridge *b, uv_close_cb cb)
{
    mq_free(b->reqs);
    b->reqs = NULL;
    b->n_reqs = 0;
    uv_close((uv_handle_t *)&b->wakeup, cb);
}
