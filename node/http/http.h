/* http.h: mqd's HTTP listener (http_url): /metrics (Prometheus text),
 * /livez, /readyz and /healthz[?verbose], served by httpd.c on nng's
 * threads.
 *
 * The handlers never read the node's live state. The loop thread
 * publishes a snapshot of the figures (collect.c) when a handler asks for
 * one and the last is older than HTTP_FRESH_MS: the handler raises a flag
 * and wakes the loop (uv_async), and is called again every few
 * milliseconds (without blocking an nng thread) until the new snapshot is
 * there, or serves the last one after HTTP_WAIT_MS (503 if there is none).
 * Scrapes that come together share a snapshot. /livez needs no snapshot:
 * it answers 200 while the loop thread runs (a heartbeat it stamps every
 * 250 ms), and 503 only if it has not run for livez_stall_ms; a node that
 * is catching up, installing a snapshot or without a leader is live.
 *
 * Keys: an auth hook (struct http_auth) checks each request's
 * Authorization header when set; /metrics is left open with
 * http_metrics_open 1, the health endpoints with http_health_open 1. NULL
 * (no keys yet): everything is open.
 *
 * Threads and locks: http_start, http_stop and the loop side run on the
 * loop thread; handlers on nng threads. h->lock guards only the published
 * snapshot, its sequence number and the flag asking for one. */
#ifndef MQ_HTTP_H
#define MQ_HTTP_H

#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "collect.h"
#include "config.h"
#include "errmsg.h"
#include "figures.h"
#include "httpd.h"
#include "mq.h"

/* A snapshot younger than this is served as it is. */
#define HTTP_FRESH_MS 100
/* How long a handler waits for the loop to publish a snapshot. */
#define HTTP_WAIT_MS 2000
/* How often a waiting handler looks again. */
#define HTTP_POLL_MS 2

/* The key check, for when keys exist (node/auth/). @check runs on an nng
 * thread for every request to an endpoint that is not open
 * (http_metrics_open, http_health_open): it gets the request's path and
 * its Authorization header ("" if none; clients send "Bearer <key>").
 * MQ_OK serves the request; any other code refuses it with *@status (401,
 * the default: no key or an unknown one; 403: a key without the grant)
 * and one line in @why for the client (never the key itself). It must not
 * touch the loop thread's state: what it needs (key hashes, grants) it
 * keeps itself, published the way the figures are. Refusals are counted
 * in mq_auth_refusals_total{listener="http"}. */
struct http_auth {
    mq_err (*check)(void *arg, const char *path, const char *authorization,
                    int *status, char *why, size_t why_len);
    void *arg;
};

struct http {
    uv_loop_t *loop;
    const struct config *cfg;
    struct collect_sources src;
    struct http_auth auth; /* check NULL: open */
    struct httpd *server;
    uv_async_t wake; /* a handler wants a snapshot */
    uv_timer_t beat; /* stamps beat_ms, for /livez */
    int started;

    uv_mutex_t lock;
    struct figures *current; /* under lock */
    uint64_t seq;            /* under lock: snapshots published */
    int wanted;              /* under lock */

    _Atomic uint64_t beat_ms; /* monotonic ms of the loop's last beat */
    _Atomic uint64_t auth_refused;
    _Atomic uint64_t requests;
};

/* Starts the listener at cfg->http_url (nothing when it is empty) with
 * the figures of @src and the key check @auth (may be NULL). Loop thread.
 * Returns MQ_OK; MQ_ERR_INVALID with @e naming http_url when it cannot
 * listen; MQ_ERR_NO_MEMORY. */
mq_err http_start(struct http *h, uv_loop_t *loop,
                  const struct collect_sources *src,
                  const struct http_auth *auth, struct errmsg *e);

/* The handler of every request (httpd.h's httpd_handler, with @arg the
 * struct http): routes, checks the key, and answers from a snapshot.
 * Exposed for the unit tests. */
int http_handle(void *arg, const struct http_request *req, uint64_t *cookie,
                struct httpd_reply *rep);

/* Stops serving (waits for handlers running on nng threads to finish),
 * then closes the loop's handles. Loop thread. */
void http_stop(struct http *h);

#endif
