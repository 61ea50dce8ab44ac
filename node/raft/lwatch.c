/* lwatch.c: probes this node's listeners and brings back one that stopped
 * accepting (lwatch.h). */
#include "lwatch.h"

#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "log.h"
#include "tlsconf.h"

#define PROBE_STEP_MS 1000 /* dial, TLS and header exchange: each */
#define POLL_MS 50

struct target {
    char what[32];
    char url[MQ_URL_MAX];
    char cert_file[512], key_file[512];
    uint16_t proto;
    nng_listener listener; /* guarded by lock */
    int stuck;             /* guarded by lock: the loop must restart it */
    int failed;            /* guarded by lock: its restart failed */
    int left;              /* loop thread: stuck and left as it is */
    lwatch_restart_cb restart;
    void *arg;
};

struct lwatch {
    uv_loop_t *loop;
    uv_async_t async;
    uv_thread_t thread;
    uv_mutex_t lock;
    uv_cond_t wake;
    int stopping; /* guarded by lock */
    int thread_started;
    struct target targets[LWATCH_MAX];
    size_t n; /* guarded by lock */
    _Atomic uint64_t restarts;
};

/* The scope of listener @id under @st. nng 1.5.2's nng_stat_find_listener
 * returns the first listener's scope whatever the id (its search below
 * the top ignores the id), so the tree is walked here: a listener's scope
 * has a child "id". */
static nng_stat *find_listener(nng_stat *st, int id)
{
    if (st == NULL) {
        return NULL;
    }
    if (nng_stat_type(st) == NNG_STAT_SCOPE &&
        strcmp(nng_stat_name(st), "listener") == 0) {
        for (nng_stat *c = nng_stat_child(st); c != NULL;
             c = nng_stat_next(c)) {
            if (strcmp(nng_stat_name(c), "id") == 0 &&
                nng_stat_value(c) == (uint64_t)id) {
                return st;
            }
        }
        return NULL;
    }
    for (nng_stat *c = nng_stat_child(st); c != NULL; c = nng_stat_next(c)) {
        nng_stat *r = find_listener(c, id);
        if (r != NULL) {
            return r;
        }
    }
    return NULL;
}

/* The listener's "accept" count, or -1 when nng has no statistics for it
 * (closed, or a build without statistics). */
static int64_t accepted(nng_listener l)
{
    nng_stat *all = NULL, *ls, *acc;
    int64_t v = -1;
    if (nng_stats_get(&all) != 0) {
        return -1;
    }
    if ((ls = find_listener(all, nng_listener_id(l))) != NULL &&
        (acc = nng_stat_find(ls, "accept")) != NULL) {
        v = (int64_t)nng_stat_value(acc);
    }
    nng_stats_free(all);
    return v;
}

/* One operation of a probe at a time, waited for with a bound: nng 1.5.2's
 * TLS does not always end an operation at its timeout (its cancel aborts
 * only an operation under way on the TCP side), so a wait past the bound
 * closes the stream, which ends every operation on it. */
struct probe_io {
    nng_aio *aio;
    uv_mutex_t lock;
    uv_cond_t done_cv;
    int done;
};

static void io_cb(void *arg)
{
    struct probe_io *io = arg;
    uv_mutex_lock(&io->lock);
    io->done = 1;
    uv_cond_signal(&io->done_cv);
    uv_mutex_unlock(&io->lock);
}

/* Waits for the operation started on io->aio (io->done was 0), at most
 * PROBE_STEP_MS; past that, closes @s or @d and waits for the end. Returns
 * nng's result. */
static int io_wait(struct probe_io *io, nng_stream *s, nng_stream_dialer *d)
{
    uint64_t end = uv_hrtime() + (uint64_t)PROBE_STEP_MS * 1000000u;
    uv_mutex_lock(&io->lock);
    while (!io->done && uv_hrtime() < end) {
        uv_cond_timedwait(&io->done_cv, &io->lock, 10 * 1000000u);
    }
    int late = !io->done;
    uv_mutex_unlock(&io->lock);
    if (late) {
        if (s != NULL) {
            nng_stream_close(s);
        } else {
            nng_stream_dialer_close(d);
        }
        nng_aio_wait(io->aio);
    }
    io->done = 0;
    return late ? NNG_ETIMEDOUT : nng_aio_result(io->aio);
}

/* Sends (@send) or receives 8 bytes at @buf on @s. */
static int exchange(struct probe_io *io, nng_stream *s, uint8_t *buf, int send)
{
    size_t done = 0;
    while (done < 8) {
        nng_iov iov = {.iov_buf = buf + done, .iov_len = 8 - done};
        nng_aio_set_iov(io->aio, 1, &iov);
        if (send) {
            nng_stream_send(s, io->aio);
        } else {
            nng_stream_recv(s, io->aio);
        }
        if (io_wait(io, s, NULL) != 0 || nng_aio_count(io->aio) == 0) {
            return -1;
        }
        done += nng_aio_count(io->aio);
    }
    return 0;
}

static int stopping(struct lwatch *w)
{
    uv_mutex_lock(&w->lock);
    int s = w->stopping;
    uv_mutex_unlock(&w->lock);
    return s;
}

/* Probes @t (a copy; its listener as of now). Returns 1 when the listener
 * completed a header exchange and accepted nothing, else 0. */
static int probe_stuck(struct lwatch *w, const struct target *t)
{
    char host[256], url[MQ_URL_MAX + 16];
    int port, tls = tlsconf_is_tls_url(t->url), stuck = 0;
    nng_stream_dialer *d = NULL;
    nng_stream *s = NULL;
    nng_tls_config *cfg = NULL;
    struct probe_io io = {0};
    struct errmsg e = ERRMSG_INIT;
    uint8_t head[8] = {
        0, 'S', 'P', 0, (uint8_t)(t->proto >> 8), (uint8_t)(t->proto & 0xff),
        0, 0};
    int64_t before;

    if (!tlsconf_local_addr(t->listener, t->url, host, sizeof host, &port) ||
        (before = accepted(t->listener)) < 0) {
        return 0;
    }
    snprintf(url, sizeof url,
             strchr(host, ':') != NULL ? "%s://[%s]:%d" : "%s://%s:%d",
             tls ? "tls+tcp" : "tcp", host, port);
    uv_mutex_init(&io.lock);
    uv_cond_init(&io.done_cv);
    if (nng_aio_alloc(&io.aio, io_cb, &io) != 0 ||
        nng_stream_dialer_alloc(&d, url) != 0) {
        goto out;
    }
    if (tls && (tlsconf_probe(&cfg, t->cert_file, t->key_file, &e) != MQ_OK ||
                nng_stream_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg) != 0)) {
        goto out;
    }
    nng_aio_set_timeout(io.aio, PROBE_STEP_MS);
    nng_stream_dialer_dial(d, io.aio);
    if (io_wait(&io, NULL, d) != 0) {
        goto out;
    }
    s = nng_aio_get_output(io.aio, 0);
    if (exchange(&io, s, head, 1) != 0 || exchange(&io, s, head, 0) != 0 ||
        head[1] != 'S' || head[2] != 'P') {
        goto out; /* refused, or TLS that does not take our certificate */
    }
    /* The listener has its header and ours: a live one accepts. */
    stuck = 1;
    for (int ms = 0; ms < LWATCH_ACCEPT_MS && !stopping(w); ms += POLL_MS) {
        int64_t now = accepted(t->listener);
        if (now < 0 || now != before) {
            stuck = 0;
            break;
        }
        nng_msleep(POLL_MS);
    }
    if (stopping(w)) {
        stuck = 0;
    }
out:
    /* The aio before the stream and dialer it ran on: freeing it waits for
     * nng 1.5.2's timer thread, which may be about to call their cancel
     * function for an operation that has just completed. */
    if (io.aio != NULL) {
        nng_aio_free(io.aio);
    }
    if (s != NULL) {
        nng_stream_free(s);
    }
    if (d != NULL) {
        nng_stream_dialer_free(d);
    }
    if (cfg != NULL) {
        nng_tls_config_free(cfg);
    }
    uv_cond_destroy(&io.done_cv);
    uv_mutex_destroy(&io.lock);
    return stuck;
}

static void thread_main(void *arg)
{
    struct lwatch *w = arg;
    uv_mutex_lock(&w->lock);
    while (!w->stopping) {
        uv_cond_timedwait(&w->wake, &w->lock,
                          (uint64_t)LWATCH_EVERY_MS * 1000000u);
        for (size_t i = 0; i < w->n && !w->stopping; i++) {
            struct target t = w->targets[i];
            if (t.stuck) {
                continue; /* the loop has not restarted it yet */
            }
            if (t.failed) { /* not listening: the loop tries again */
                w->targets[i].stuck = 1;
                uv_async_send(&w->async);
                continue;
            }
            uv_mutex_unlock(&w->lock);
            int stuck = probe_stuck(w, &t);
            uv_mutex_lock(&w->lock);
            if (stuck && w->targets[i].listener.id == t.listener.id) {
                w->targets[i].stuck = 1;
                uv_async_send(&w->async);
            }
        }
    }
    uv_mutex_unlock(&w->lock);
}

static void async_cb(uv_async_t *h)
{
    struct lwatch *w = h->data;
    for (size_t i = 0; i < LWATCH_MAX; i++) {
        struct target *t = &w->targets[i];
        uv_mutex_lock(&w->lock);
        int go = i < w->n && t->stuck && !w->stopping;
        nng_listener l = t->listener;
        uv_mutex_unlock(&w->lock);
        if (!go) {
            continue;
        }
        struct errmsg e = ERRMSG_INIT;
        mq_err rv = t->restart(t->arg, &l, &e);
        if (rv == MQ_ERR_NOT_DONE && !t->left) {
            LOG_WARN("%s %s: connections complete their handshake but are "
                     "never accepted (nng 1.5.2: a connection closed during "
                     "its negotiation stopped the listener); left as it is "
                     "for now: %s",
                     t->what, t->url, e.msg);
        } else if (rv == MQ_OK) {
            LOG_WARN("%s %s: connections completed their handshake but were "
                     "never accepted (nng 1.5.2: a connection closed during "
                     "its negotiation stopped the listener): listening again, "
                     "its open connections were dropped",
                     t->what, t->url);
            atomic_fetch_add(&w->restarts, 1);
        } else if (rv != MQ_ERR_NOT_DONE) {
            LOG_ERROR("%s %s: listening again: %s (tried again in %d ms)",
                      t->what, t->url, e.msg, LWATCH_EVERY_MS);
        }
        t->left = rv == MQ_ERR_NOT_DONE;
        uv_mutex_lock(&w->lock);
        t->listener = l;
        t->stuck = 0;
        t->failed = rv != MQ_OK && rv != MQ_ERR_NOT_DONE;
        uv_mutex_unlock(&w->lock);
    }
}

mq_err lwatch_start(struct lwatch **out, uv_loop_t *loop, struct errmsg *e)
{
    struct lwatch *w = mq_calloc(1, sizeof *w);
    *out = NULL;
    if (w == NULL) {
        errmsg_set(e, "listener watch: out of memory");
        return MQ_ERR_NO_MEMORY;
    }
    w->loop = loop;
    atomic_init(&w->restarts, 0);
    uv_mutex_init(&w->lock);
    uv_cond_init(&w->wake);
    uv_async_init(loop, &w->async, async_cb);
    w->async.data = w;
    if (uv_thread_create(&w->thread, thread_main, w) != 0) {
        errmsg_set(e, "listener watch: cannot start its thread");
        lwatch_stop(w);
        return MQ_ERR_INTERNAL;
    }
    w->thread_started = 1;
    *out = w;
    return MQ_OK;
}

mq_err lwatch_add(struct lwatch *w, const struct lwatch_target *t,
                  struct errmsg *e)
{
    uv_mutex_lock(&w->lock);
    if (w->n == LWATCH_MAX) {
        uv_mutex_unlock(&w->lock);
        errmsg_set(e, "listener watch: more than %d listeners", LWATCH_MAX);
        return MQ_ERR_INVALID;
    }
    struct target *x = &w->targets[w->n];
    memset(x, 0, sizeof *x);
    snprintf(x->what, sizeof x->what, "%s", t->what);
    snprintf(x->url, sizeof x->url, "%s", t->url);
    snprintf(x->cert_file, sizeof x->cert_file, "%s",
             t->cert_file != NULL ? t->cert_file : "");
    snprintf(x->key_file, sizeof x->key_file, "%s",
             t->key_file != NULL ? t->key_file : "");
    x->proto = t->proto;
    x->listener = t->listener;
    x->restart = t->restart;
    x->arg = t->arg;
    w->n++;
    uv_mutex_unlock(&w->lock);
    return MQ_OK;
}

uint64_t lwatch_restarts(const struct lwatch *w)
{
    return w != NULL ? atomic_load(&((struct lwatch *)w)->restarts) : 0;
}

static void close_cb(uv_handle_t *h)
{
    struct lwatch *w = h->data;
    uv_cond_destroy(&w->wake);
    uv_mutex_destroy(&w->lock);
    mq_free(w);
}

void lwatch_stop(struct lwatch *w)
{
    if (w == NULL) {
        return;
    }
    uv_mutex_lock(&w->lock);
    w->stopping = 1;
    uv_cond_signal(&w->wake);
    uv_mutex_unlock(&w->lock);
    if (w->thread_started) {
        uv_thread_join(&w->thread);
    }
    uv_close((uv_handle_t *)&w->async, close_cb);
}
