/* httpd.c: the bounded HTTP server (httpd.h).
 *
 * A connection goes READ -> (WAIT ->)* WRITE -> closed, driven by one aio:
 * reads append to a buffer of max_request_bytes until httpreq_parse finds
 * the whole head; the handler answers, or asks to be called again (the
 * aio sleeps meanwhile); the answer is written whole; then the stream is
 * closed. Every step carries what is left of the connection's deadline.
 * Failure modes: a read or write error or the deadline closes the
 * connection without an answer; a bad head is answered with its status;
 * a full buffer with 431; the server stopping closes everything.
 *
 * Locking: h->lock guards the list of connections, their count and
 * h->closing. A connection leaves the list before its stream is freed, so
 * that httpd_stop only ever closes live streams. */
#include "httpd.h"

#include <nng/nng.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "alloc.h"
#include "log.h"
#include "tlsconf.h"

enum conn_state { C_READ, C_WAIT, C_WRITE };

struct hconn {
    struct httpd *h;
    nng_stream *s;
    nng_aio *aio;
    enum conn_state state;
    uint64_t deadline;
    char *buf;
    size_t len, cap;
    char *out;
    size_t out_len, out_at;
    uint64_t cookie;
    int head; /* a HEAD request: no body written */
    struct http_request req;
    struct hconn *prev, *next; /* under h->lock */
};

struct httpd {
    struct httpd_opts o;
    nng_stream_listener *l;
    nng_aio *accept_aio; /* accepts, or waits a moment after an error */
    int accept_waiting;  /* accept_aio is sleeping, not accepting */
    uv_mutex_t lock;
    uv_cond_t gone;      /* n_conns fell to 0 */
    struct hconn *conns; /* under lock */
    size_t n_conns;      /* under lock: not yet freed */
    int closing;         /* under lock */
    _Atomic uint64_t open, accepted, refused, timeouts, too_large;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return status < 400 ? "OK" : "Error";
    }
}

void httpd_text(struct httpd_reply *rep, int status, const char *text)
{
    rep->status = status;
    rep->content_type = "text/plain; charset=utf-8";
    rep->body = mq_strdup(text);
    rep->len = rep->body ? strlen(text) : 0;
}

/* Frees @c: takes it off the list first, then frees its stream and aio
 * (reaped: this runs in the aio's own callback). */
static void conn_end(struct hconn *c)
{
    struct httpd *h = c->h;
    uv_mutex_lock(&h->lock);
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        h->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    uv_mutex_unlock(&h->lock);
    nng_stream_close(c->s);
    nng_stream_free(c->s);
    nng_aio_reap(c->aio);
    mq_free(c->buf);
    mq_free(c->out);
    atomic_fetch_sub(&h->open, 1);
    uv_mutex_lock(&h->lock);
    if (--h->n_conns == 0 && h->closing) {
        uv_cond_broadcast(&h->gone);
    }
    uv_mutex_unlock(&h->lock);
    mq_free(c);
}

/* What is left of @c's time, or 0 (then it is counted as timed out). */
static nng_duration remaining(struct hconn *c)
{
    uint64_t now = mono_ms();
    if (now >= c->deadline) {
        atomic_fetch_add(&c->h->timeouts, 1);
        return 0;
    }
    return (nng_duration)(c->deadline - now);
}

static void conn_read(struct hconn *c)
{
    nng_duration left = remaining(c);
    nng_iov iov = {c->buf + c->len, c->cap - c->len};
    if (left == 0) {
        conn_end(c);
        return;
    }
    c->state = C_READ;
    nng_aio_set_iov(c->aio, 1, &iov);
    nng_aio_set_timeout(c->aio, left);
    nng_stream_recv(c->s, c->aio);
}

static void conn_write_more(struct hconn *c)
{
    nng_duration left = remaining(c);
    nng_iov iov = {c->out + c->out_at, c->out_len - c->out_at};
    if (left == 0) {
        conn_end(c);
        return;
    }
    nng_aio_set_iov(c->aio, 1, &iov);
    nng_aio_set_timeout(c->aio, left);
    nng_stream_send(c->s, c->aio);
}

/* Writes @rep (its body taken over) and then closes. */
static void conn_reply(struct hconn *c, struct httpd_reply *rep)
{
    char head[768];
    size_t body = c->head ? 0 : rep->len;
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nCache-Control: no-store\r\n"
                     "Connection: close\r\n%s\r\n",
                     rep->status, reason(rep->status),
                     rep->content_type ? rep->content_type
                                       : "text/plain; charset=utf-8",
                     rep->len, rep->headers);
    if (n < 0 || (size_t)n >= sizeof head) {
        n = 0;
    }
    c->out = mq_malloc((size_t)n + body + 1);
    if (c->out == NULL || n == 0) {
        mq_free(rep->body);
        conn_end(c);
        return;
    }
    memcpy(c->out, head, (size_t)n);
    if (body > 0) {
        memcpy(c->out + n, rep->body, body);
    }
    mq_free(rep->body);
    rep->body = NULL;
    c->out_len = (size_t)n + body;
    c->out_at = 0;
    c->state = C_WRITE;
    conn_write_more(c);
}

static void conn_error(struct hconn *c, int status, const char *why)
{
    struct httpd_reply rep;
    char text[192];
    memset(&rep, 0, sizeof rep);
    snprintf(text, sizeof text, "%s\n", why);
    httpd_text(&rep, status, text);
    conn_reply(c, &rep);
}

static void conn_handle(struct hconn *c)
{
    struct httpd_reply rep;
    int wait;
    memset(&rep, 0, sizeof rep);
    wait = c->h->o.handler(c->h->o.arg, &c->req, &c->cookie, &rep);
    if (wait <= 0) {
        conn_reply(c, &rep);
        return;
    }
    if (mono_ms() + (uint64_t)wait >= c->deadline) {
        conn_error(c, 503, "the node did not answer in time");
        return;
    }
    c->state = C_WAIT;
    nng_aio_set_timeout(c->aio, NNG_DURATION_INFINITE);
    nng_sleep_aio((nng_duration)wait, c->aio);
}

static void conn_parse(struct hconn *c)
{
    switch (httpreq_parse(c->buf, c->len, &c->req)) {
    case HTTPREQ_MORE:
        if (c->len == c->cap) {
            atomic_fetch_add(&c->h->too_large, 1);
            conn_error(c, 431,
                       "request head larger than http_max_request_bytes");
            return;
        }
        conn_read(c);
        return;
    case HTTPREQ_BAD:
        conn_error(c, c->req.status, c->req.why);
        return;
    case HTTPREQ_OK:
        break;
    }
    if (strcmp(c->req.method, "GET") != 0 &&
        strcmp(c->req.method, "HEAD") != 0) {
        struct httpd_reply rep;
        memset(&rep, 0, sizeof rep);
        httpd_text(&rep, 405, "only GET and HEAD are served\n");
        snprintf(rep.headers, sizeof rep.headers, "Allow: GET, HEAD\r\n");
        conn_reply(c, &rep);
        return;
    }
    c->head = strcmp(c->req.method, "HEAD") == 0;
    conn_handle(c);
}

static void conn_cb(void *arg)
{
    struct hconn *c = arg;
    int rv = nng_aio_result(c->aio);
    int closing;

    uv_mutex_lock(&c->h->lock);
    closing = c->h->closing;
    uv_mutex_unlock(&c->h->lock);
    if (closing) {
        conn_end(c);
        return;
    }
    switch (c->state) {
    case C_READ:
        if (rv != 0) {
            if (rv == NNG_ETIMEDOUT) {
                atomic_fetch_add(&c->h->timeouts, 1);
            }
            conn_end(c);
            return;
        }
        c->len += nng_aio_count(c->aio);
        conn_parse(c);
        return;
    case C_WAIT:
        if (rv != 0) {
            conn_end(c);
            return;
        }
        conn_handle(c);
        return;
    case C_WRITE:
        if (rv != 0) {
            if (rv == NNG_ETIMEDOUT) {
                atomic_fetch_add(&c->h->timeouts, 1);
            }
            conn_end(c);
            return;
        }
        c->out_at += nng_aio_count(c->aio);
        if (c->out_at < c->out_len) {
            conn_write_more(c);
        } else {
            conn_end(c);
        }
        return;
    }
}

/* Takes accepted stream @s: a new connection, or closed at once past the
 * cap (or while stopping). */
static void conn_start(struct httpd *h, nng_stream *s)
{
    struct hconn *c = NULL;

    atomic_fetch_add(&h->accepted, 1);
    uv_mutex_lock(&h->lock);
    if (!h->closing && h->n_conns < h->o.max_connections) {
        c = mq_calloc(1, sizeof *c);
        if (c != NULL) {
            c->buf = mq_malloc(h->o.max_request_bytes);
        }
        if (c != NULL &&
            (c->buf == NULL || nng_aio_alloc(&c->aio, conn_cb, c) != 0)) {
            mq_free(c->buf);
            mq_free(c);
            c = NULL;
        }
        if (c != NULL) {
            c->h = h;
            c->s = s;
            c->cap = h->o.max_request_bytes;
            c->deadline = mono_ms() + (uint64_t)h->o.timeout_ms;
            c->next = h->conns;
            if (h->conns) {
                h->conns->prev = c;
            }
            h->conns = c;
            h->n_conns++;
            atomic_fetch_add(&h->open, 1);
        }
    }
    uv_mutex_unlock(&h->lock);
    if (c == NULL) {
        atomic_fetch_add(&h->refused, 1);
        nng_stream_close(s);
        nng_stream_free(s);
        return;
    }
    conn_read(c);
}

static void accept_cb(void *arg)
{
    struct httpd *h = arg;
    int rv = nng_aio_result(h->accept_aio);
    int closing;

    uv_mutex_lock(&h->lock);
    closing = h->closing;
    uv_mutex_unlock(&h->lock);
    if (h->accept_waiting) {
        h->accept_waiting = 0;
        if (!closing && rv == 0) {
            nng_stream_listener_accept(h->l, h->accept_aio);
        }
        return;
    }
    if (rv == 0) {
        conn_start(h, nng_aio_get_output(h->accept_aio, 0));
    }
    if (closing || rv == NNG_ECLOSED) {
        return;
    }
    if (rv != 0) {
        /* Out of descriptors or memory: try again a moment later rather
         * than spin. */
        h->accept_waiting = 1;
        nng_sleep_aio(100, h->accept_aio);
        return;
    }
    nng_stream_listener_accept(h->l, h->accept_aio);
}

mq_err httpd_start(struct httpd **out, const struct httpd_opts *o,
                   struct errmsg *e)
{
    struct httpd *h = mq_calloc(1, sizeof *h);
    int rv;

    *out = NULL;
    if (h == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    h->o = *o;
    uv_mutex_init(&h->lock);
    uv_cond_init(&h->gone);
    if ((rv = nng_aio_alloc(&h->accept_aio, accept_cb, h)) != 0) {
        uv_cond_destroy(&h->gone);
        uv_mutex_destroy(&h->lock);
        mq_free(h);
        return MQ_ERR_NO_MEMORY;
    }
    if ((rv = nng_stream_listener_alloc(&h->l, o->addr)) != 0 ||
        (o->tls != NULL && (rv = nng_stream_listener_set_ptr(
                                h->l, NNG_OPT_TLS_CONFIG, o->tls)) != 0) ||
        (rv = nng_stream_listener_listen(h->l)) != 0) {
        errmsg_set(e, "cannot listen at %s: %s", o->addr, nng_strerror(rv));
        nng_stream_listener_free(h->l);
        nng_aio_free(h->accept_aio);
        uv_cond_destroy(&h->gone);
        uv_mutex_destroy(&h->lock);
        mq_free(h);
        return MQ_ERR_INVALID;
    }
    nng_stream_listener_accept(h->l, h->accept_aio);
    *out = h;
    return MQ_OK;
}

mq_err httpd_set_tls(struct httpd *h, nng_tls_config *tls, struct errmsg *e)
{
    return tlsconf_stream_listener_set(h->l, h->o.addr, tls, e);
}

void httpd_stats(struct httpd *h, struct httpd_stats *out)
{
    out->connections = atomic_load(&h->open);
    out->accepted = atomic_load(&h->accepted);
    out->refused = atomic_load(&h->refused);
    out->timeouts = atomic_load(&h->timeouts);
    out->too_large = atomic_load(&h->too_large);
}

void httpd_stop(struct httpd *h)
{
    if (h == NULL) {
        return;
    }
    uv_mutex_lock(&h->lock);
    h->closing = 1;
    for (struct hconn *c = h->conns; c != NULL; c = c->next) {
        /* Ends what the aio is doing (a read, a write or a wait); the
         * callback then sees closing and frees the connection. */
        nng_stream_close(c->s);
        nng_aio_abort(c->aio, NNG_ECLOSED);
    }
    uv_mutex_unlock(&h->lock);
    nng_stream_listener_close(h->l);
    nng_aio_stop(h->accept_aio);
    uv_mutex_lock(&h->lock);
    while (h->n_conns > 0) {
        uv_cond_wait(&h->gone, &h->lock);
    }
    uv_mutex_unlock(&h->lock);
    nng_aio_free(h->accept_aio);
    nng_stream_listener_free(h->l);
    uv_cond_destroy(&h->gone);
    uv_mutex_destroy(&h->lock);
    mq_free(h);
}
