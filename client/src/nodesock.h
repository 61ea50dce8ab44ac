/* nodesock.h: one node's nng REQ0 socket, and one request/reply exchange on
 * it. The socket is dialed without blocking and redialed by nng (20 ms to
 * 500 ms apart); REQ resends are off (libmq retries by itself, on another
 * node if need be); connections up are counted from nng's pipe events.
 * Each exchange opens its own nng_ctx, so any number of threads share one
 * socket, and closes it at the end, so a late reply is dropped and never
 * mixed with the next request.
 *
 * Threads: any thread; nodesock_free once no exchange is in progress. */
#ifndef MQ_CLIENT_NODESOCK_H
#define MQ_CLIENT_NODESOCK_H

#include <nng/nng.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mq.h"
#include "mq.pb-c.h"
#include "tlsdiag.h"

/* Longest wait for a connection to a node that has none, per exchange of
 * a call that retries: nng keeps dialing in the background, so the next
 * round may find it connected. */
#define NODESOCK_CONNECT_WAIT_MS 300
/* Longest failure message of an exchange. */
#define NODESOCK_WHY_MAX 200
/* Largest reply accepted: a fetch of MQ_MAX_BATCH large messages. */
#define NODESOCK_RECV_MAX (256u << 20)

struct nodesock {
    char url[MQ_URL_MAX];
    nng_socket sock;
    _Atomic int pipes; /* connections up */
    _Atomic int ever;  /* 1 once a connection was up */
    /* tls+tcp://: the client's TLS files (the conn's, borrowed) and the
     * last reason found why the TLS connection fails (tlsdiag_probe). */
    const struct tlsdiag_files *tls;
    pthread_mutex_t tls_lock;
    uint64_t tls_probed_ms; /* retry_now_ms of the last probe; 0: none */
    char tls_why[NODESOCK_WHY_MAX];
};

/* Whether @ns is connected now; whether it was and lost its connections
 * (the node died or is cut off: nng keeps redialing it). */
int nodesock_connected(struct nodesock *ns);
int nodesock_lost(struct nodesock *ns);

/* Opens a socket for @url and starts dialing; a tls+tcp:// URL with @tls's
 * files (borrowed for the socket's life; NULL: none). Returns MQ_OK and
 * sets *out, MQ_ERR_INVALID when nng refuses the URL or a TLS file does
 * not load, MQ_ERR_NO_MEMORY or MQ_ERR_INTERNAL; mq_errmsg names the URL
 * or the file. */
mq_err nodesock_new(struct nodesock **out, const char *url,
                    const struct tlsdiag_files *tls);

/* Closes the socket: exchanges in progress end with MQ_ERR_CANCELED, and so
 * do those to come. Waits for nng's callbacks on it to return. */
void nodesock_close(struct nodesock *ns);

/* Frees @ns, closed first if it was not. NULL does nothing. */
void nodesock_free(struct nodesock *ns);

/* One exchange in progress. */
struct nodesock_xchg {
    struct nodesock *ns;
    nng_ctx ctx;
    nng_aio *aio;
    int has_ctx;
    uint64_t deadline_ms; /* monotonic end of the exchange */
    uint32_t send_wait_ms;
};

/* Starts sending @buf (@len bytes, copied) on @ns; the exchange ends at
 * @deadline_ms (retry_now_ms clock). A node without a connection gets at
 * most @connect_wait_ms to connect. Returns MQ_OK, or MQ_ERR_NO_MEMORY /
 * MQ_ERR_CANCELED (closed) with @why set. Either way nodesock_end must be
 * called. */
mq_err nodesock_start(struct nodesock_xchg *x, struct nodesock *ns,
                      const void *buf, size_t len, uint64_t deadline_ms,
                      uint32_t connect_wait_ms, char *why);

/* Waits for the send, then for the reply, and decodes it into *out (freed
 * with mq__v1__reply__free_unpacked). Returns MQ_OK; or, with @why set,
 * MQ_ERR_NOT_DONE (not connected in time: the request was not sent; for a
 * tls+tcp:// node whose TLS handshake fails, @why says why: "TLS handshake
 * with URL failed: certificate verify failed: expired"),
 * MQ_ERR_UNAVAILABLE (the connection dropped after the send: outcome
 * unknown), MQ_ERR_TIMEOUT (sent, no reply by the deadline: outcome
 * unknown), MQ_ERR_CANCELED (closed), MQ_ERR_PROTOCOL (a reply that does
 * not decode). */
mq_err nodesock_finish(struct nodesock_xchg *x, Mq__V1__Reply **out, char *why);

/* Releases the exchange's ctx and aio. */
void nodesock_end(struct nodesock_xchg *x);

#endif
