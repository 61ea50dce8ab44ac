/* nodesock.c: a node's REQ socket and one exchange on it (nodesock.h).
 *
 * nng 1.5.2's REQ0 behaviour this relies on: a ctx send completes only once
 * a connected pipe takes the message, so a send that times out was never
 * sent; with resends off, a pipe that closes after the send fails the
 * receive at once with NNG_ECONNRESET; closing the socket fails everything
 * with NNG_ECLOSED. */
#include "nodesock.h"

#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lasterr.h"
#include "retry.h"

#define NODESOCK_RECONNECT_MIN_MS 20
#define NODESOCK_RECONNECT_MAX_MS 500

static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    struct nodesock *ns = arg;

    (void)p;
    /* ADD_PRE, not ADD_POST: nng runs REM_POST for every pipe that ran
     * ADD_PRE, so the count stays balanced. */
    if (ev == NNG_PIPE_EV_ADD_PRE) {
        atomic_fetch_add(&ns->pipes, 1);
        atomic_store(&ns->ever, 1);
    } else if (ev == NNG_PIPE_EV_REM_POST) {
        atomic_fetch_sub(&ns->pipes, 1);
    }
}

int nodesock_connected(struct nodesock *ns)
{
    return atomic_load(&ns->pipes) > 0;
}

int nodesock_lost(struct nodesock *ns)
{
    return atomic_load(&ns->pipes) <= 0 && atomic_load(&ns->ever);
}

mq_err nodesock_new(struct nodesock **out, const char *url,
                    const struct tlsdiag_files *tls)
{
    struct nodesock *ns;
    nng_tls_config *tcfg = NULL;
    nng_dialer d;
    int rv;

    *out = NULL;
    if (strncmp(url, "tls+tcp://", 10) == 0) {
        static const struct tlsdiag_files none;
        mq_err err = tlsdiag_config(tls ? tls : &none, url, &tcfg);
        if (err != MQ_OK) {
            return err;
        }
    }
    ns = calloc(1, sizeof *ns);

    if (ns == NULL) {
        if (tcfg != NULL) {
            nng_tls_config_free(tcfg);
        }
        return lasterr_fail(MQ_ERR_NO_MEMORY, "out of memory");
    }
    snprintf(ns->url, sizeof ns->url, "%s", url);
    ns->tls = tls;
    pthread_mutex_init(&ns->tls_lock, NULL);
    atomic_init(&ns->pipes, 0);
    atomic_init(&ns->ever, 0);
    rv = nng_req0_open(&ns->sock);
    if (rv != 0) {
        if (tcfg != NULL) {
            nng_tls_config_free(tcfg);
        }
        pthread_mutex_destroy(&ns->tls_lock);
        free(ns);
        return lasterr_fail(rv == NNG_ENOMEM ? MQ_ERR_NO_MEMORY
                                             : MQ_ERR_INTERNAL,
                            "open socket for %s: %s", url, nng_strerror(rv));
    }
    if ((rv = nng_socket_set_ms(ns->sock, NNG_OPT_REQ_RESENDTIME,
                                NNG_DURATION_INFINITE)) != 0 ||
        (rv = nng_socket_set_size(ns->sock, NNG_OPT_RECVMAXSZ,
                                  NODESOCK_RECV_MAX)) != 0 ||
        (rv = nng_pipe_notify(ns->sock, NNG_PIPE_EV_ADD_PRE, pipe_cb, ns)) !=
            0 ||
        (rv = nng_pipe_notify(ns->sock, NNG_PIPE_EV_REM_POST, pipe_cb, ns)) !=
            0) {
        nng_close(ns->sock);
        if (tcfg != NULL) {
            nng_tls_config_free(tcfg);
        }
        pthread_mutex_destroy(&ns->tls_lock);
        free(ns);
        return lasterr_fail(MQ_ERR_INTERNAL, "set up socket for %s: %s", url,
                            nng_strerror(rv));
    }
    rv = nng_dialer_create(&d, ns->sock, url);
    if (rv == 0) {
        nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, NODESOCK_RECONNECT_MIN_MS);
        nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, NODESOCK_RECONNECT_MAX_MS);
        if (tcfg != NULL) {
            rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tcfg);
            if (rv == 0) { /* each request goes out at once */
                rv = nng_dialer_set_bool(d, NNG_OPT_TCP_NODELAY, true);
            }
        }
    }
    if (rv == 0) {
        rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
    }
    if (tcfg != NULL) {
        nng_tls_config_free(tcfg); /* the dialer holds its own */
    }
    if (rv != 0) {
        nng_close(ns->sock);
        pthread_mutex_destroy(&ns->tls_lock);
        free(ns);
        return lasterr_fail(rv == NNG_ENOMEM ? MQ_ERR_NO_MEMORY
                                             : MQ_ERR_INVALID,
                            "URL %s: %s", url, nng_strerror(rv));
    }
    *out = ns;
    return MQ_OK;
}

void nodesock_close(struct nodesock *ns)
{
    nng_close(ns->sock); /* a second close returns NNG_ECLOSED: harmless */
}

void nodesock_free(struct nodesock *ns)
{
    if (ns != NULL) {
        nodesock_close(ns);
        pthread_mutex_destroy(&ns->tls_lock);
        free(ns);
    }
}

/* Milliseconds left until @deadline_ms, at least 1 (for nng, 0 would mean
 * "do not wait at all"). */
static uint32_t ms_until(uint64_t deadline_ms)
{
    uint64_t now = retry_now_ms();

    if (deadline_ms <= now) {
        return 1;
    }
    return deadline_ms - now > UINT32_MAX / 2 ? UINT32_MAX / 2
                                              : (uint32_t)(deadline_ms - now);
}

mq_err nodesock_start(struct nodesock_xchg *x, struct nodesock *ns,
                      const void *buf, size_t len, uint64_t deadline_ms,
                      uint32_t connect_wait_ms, char *why)
{
    nng_msg *m;
    int rv;

    memset(x, 0, sizeof *x);
    x->ns = ns;
    x->deadline_ms = deadline_ms;
    if (nng_aio_alloc(&x->aio, NULL, NULL) != 0 ||
        nng_msg_alloc(&m, len) != 0) {
        snprintf(why, NODESOCK_WHY_MAX, "out of memory");
        return MQ_ERR_NO_MEMORY;
    }
    memcpy(nng_msg_body(m), buf, len);
    if ((rv = nng_ctx_open(&x->ctx, ns->sock)) != 0) {
        nng_msg_free(m);
        snprintf(why, NODESOCK_WHY_MAX, "%s: %s", ns->url, nng_strerror(rv));
        return rv == NNG_ECLOSED ? MQ_ERR_CANCELED : MQ_ERR_NO_MEMORY;
    }
    x->has_ctx = 1;
    x->send_wait_ms = ms_until(deadline_ms);
    if (atomic_load(&ns->pipes) <= 0 && x->send_wait_ms > connect_wait_ms) {
        x->send_wait_ms = connect_wait_ms;
    }
    nng_aio_set_msg(x->aio, m);
    nng_aio_set_timeout(x->aio, (nng_duration)x->send_wait_ms);
    nng_ctx_send(x->ctx, x->aio);
    return MQ_OK;
}

/* Seconds a probe's finding is kept (one handshake per node and period). */
#define TLS_PROBE_EVERY_MS 2000
#define TLS_PROBE_TIMEOUT_MS 1000

/* For a tls+tcp:// node that is not connected: whether its TLS handshake
 * fails, and why (into @why). */
static int tls_why(struct nodesock *ns, char *why)
{
    char found[NODESOCK_WHY_MAX];
    uint64_t now = retry_now_ms();
    int failed;

    if (ns->tls == NULL || strncmp(ns->url, "tls+tcp://", 10) != 0) {
        return 0;
    }
    pthread_mutex_lock(&ns->tls_lock);
    if (ns->tls_probed_ms != 0 &&
        now - ns->tls_probed_ms < TLS_PROBE_EVERY_MS) {
        failed = ns->tls_why[0] != '\0';
        snprintf(why, NODESOCK_WHY_MAX, "%s", ns->tls_why);
        pthread_mutex_unlock(&ns->tls_lock);
        return failed;
    }
    pthread_mutex_unlock(&ns->tls_lock);
    /* Outside the lock: a probe takes up to TLS_PROBE_TIMEOUT_MS. */
    failed = tlsdiag_probe(ns->tls, ns->url, TLS_PROBE_TIMEOUT_MS, found,
                           sizeof found);
    pthread_mutex_lock(&ns->tls_lock);
    ns->tls_probed_ms = retry_now_ms();
    if (failed) {
        snprintf(ns->tls_why, sizeof ns->tls_why,
                 "TLS handshake with %s failed: %s", ns->url, found);
    } else {
        ns->tls_why[0] = '\0';
    }
    snprintf(why, NODESOCK_WHY_MAX, "%s", ns->tls_why);
    pthread_mutex_unlock(&ns->tls_lock);
    return failed;
}

mq_err nodesock_finish(struct nodesock_xchg *x, Mq__V1__Reply **out, char *why)
{
    const char *url = x->ns->url;
    uint32_t wait_ms;
    nng_msg *m;
    int rv;

    *out = NULL;
    nng_aio_wait(x->aio);
    if ((rv = nng_aio_result(x->aio)) != 0) {
        m = nng_aio_get_msg(x->aio); /* still ours on failure */
        if (m != NULL) {
            nng_msg_free(m);
        }
        if (rv == NNG_ETIMEDOUT && tls_why(x->ns, why)) {
            /* why says why the TLS connection fails */
        } else if (rv == NNG_ETIMEDOUT) {
            snprintf(why, NODESOCK_WHY_MAX,
                     "not connected to %s (waited %u ms)", url,
                     x->send_wait_ms);
        } else {
            snprintf(why, NODESOCK_WHY_MAX, "send to %s: %s", url,
                     nng_strerror(rv));
        }
        /* No pipe took the message: the node never saw it. */
        return rv == NNG_ECLOSED ? MQ_ERR_CANCELED : MQ_ERR_NOT_DONE;
    }
    wait_ms = ms_until(x->deadline_ms);
    nng_aio_set_timeout(x->aio, (nng_duration)wait_ms);
    nng_ctx_recv(x->ctx, x->aio);
    nng_aio_wait(x->aio);
    if ((rv = nng_aio_result(x->aio)) != 0) {
        if (rv == NNG_ETIMEDOUT) {
            snprintf(why, NODESOCK_WHY_MAX, "no reply from %s within %u ms",
                     url, wait_ms);
            return MQ_ERR_TIMEOUT;
        }
        snprintf(why, NODESOCK_WHY_MAX,
                 "connection to %s lost before its reply (%s)", url,
                 nng_strerror(rv));
        return rv == NNG_ECLOSED ? MQ_ERR_CANCELED : MQ_ERR_UNAVAILABLE;
    }
    m = nng_aio_get_msg(x->aio);
    *out = mq__v1__reply__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
    nng_msg_free(m);
    if (*out == NULL) {
        snprintf(why, NODESOCK_WHY_MAX, "reply from %s does not decode", url);
        return MQ_ERR_PROTOCOL;
    }
    return MQ_OK;
}

void nodesock_end(struct nodesock_xchg *x)
{
    /* The aio first: nng 1.5.2's timer thread may be about to call the
     * cancel function of a receive that just completed, with the context
     * as its argument; freeing the aio waits for it, closing the context
     * does not (the context would be freed under it). */
    if (x->aio != NULL) {
        nng_aio_free(x->aio);
        x->aio = NULL;
    }
    if (x->has_ctx) {
        nng_ctx_close(x->ctx);
        x->has_ctx = 0;
    }
}
