/* httpd.h: a small HTTP/1.1 server on nng's stream API (nng_stream_listener,
 * so that https:// is the same code with nng's TLS config on the
 * listener), answering one request per connection (Connection: close).
 *
 * Bounded, whatever clients do: at most max_connections connections at
 * once (more are closed as soon as they are accepted, and counted); a
 * request head of at most max_request_bytes (else 431); every connection
 * must send its request and take its answer within timeout_ms of being
 * accepted (else it is closed, and counted); no request body. Memory per
 * connection: max_request_bytes plus the answer.
 *
 * nng 1.5.2's own HTTP server (nng_http_server) cannot be bounded so: it
 * sets no timeout on reading a request (a client that sends nothing holds
 * its connection forever), has no cap on connections, and keeps every
 * header line a client sends in a list of its own.
 *
 * Threads: everything runs on nng's threads, the handler included; it
 * must not block (it may ask to be called again a little later instead:
 * see httpd_handler). */
#ifndef MQ_HTTPD_H
#define MQ_HTTPD_H

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "httpreq.h"
#include "mq.h"

struct httpd;

/* What a handler answers. */
struct httpd_reply {
    int status;
    const char *content_type; /* static; NULL: text/plain */
    char *body;               /* mq_malloc'd, taken over; NULL: empty */
    size_t len;
    char headers[256]; /* more header lines, each ending in CRLF */
};

/* Handles @req (HEAD and GET alike: the server leaves out HEAD's body).
 * Returns 0 with @rep filled; or a positive number of milliseconds after
 * which it wants to be called again for the same request (waiting for
 * another thread, without blocking nng's): @cookie, 0 at the first call,
 * is the handler's to keep state in between. Past the connection's
 * deadline the server answers 503 itself. Runs on an nng thread. */
typedef int (*httpd_handler)(void *arg, const struct http_request *req,
                             uint64_t *cookie, struct httpd_reply *rep);

struct httpd_opts {
    const char *addr;    /* nng stream URL to listen on: tcp://HOST:PORT, or
                            tls+tcp://HOST:PORT with @tls */
    nng_tls_config *tls; /* borrowed (nng holds its own); NULL: tcp:// */
    size_t max_connections;
    size_t max_request_bytes;
    uint64_t timeout_ms;
    httpd_handler handler;
    void *arg;
};

struct httpd_stats {
    uint64_t connections; /* open now */
    uint64_t accepted, refused, timeouts, too_large;
};

/* Listens at o->addr and serves. Returns MQ_OK and sets *out; or
 * MQ_ERR_INVALID with @e naming the address and why (in use, bad);
 * MQ_ERR_NO_MEMORY. */
mq_err httpd_start(struct httpd **out, const struct httpd_opts *o,
                   struct errmsg *e);

/* Gives a tls+tcp:// server the TLS configuration @tls for the
 * connections it accepts from now on (tlsconf_stream_listener_set; blocks
 * up to a second). Returns MQ_OK, or an error with @e. */
mq_err httpd_set_tls(struct httpd *h, nng_tls_config *tls, struct errmsg *e);

/* The server's counts. Any thread. */
void httpd_stats(struct httpd *h, struct httpd_stats *out);

/* Stops listening, closes every connection and frees @h. Blocks until no
 * callback (and so no handler) runs any more. Not from an nng callback.
 * NULL does nothing. */
void httpd_stop(struct httpd *h);

/* Builds a plain-text answer @text with @status. */
void httpd_text(struct httpd_reply *rep, int status, const char *text);

#endif
