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

/* The key check, for when keys exist (node/auth/). @check runs on the
 * loop thread, for every request to an endpoint that is not open
 * (http_metrics_open, http_health_open): it gets the request's
 * Authorization header ("" if none; clients send "Bearer <key>") and
 * @ask, which identifies the request. MQ_OK serves the request;
 * MQ_ERR_NOT_DONE with *@parked set means a slow check runs and its
 * answer comes through http_auth_resume(@ask); any other code refuses it
 * with *@status (401, the default: no key or an unknown one; 403: a key
 * without the grant; 503: try again) and one line in @why for the client
 * (never the key itself). Refusals are counted in
 * mq_auth_refusals_total{listener="http"}. */
struct http_auth {
    mq_err (*check)(void *arg, const char *authorization, void *ask,
                    int *parked, int *status, char *why, size_t why_len);
    void *arg;
};

/* At most this many requests wait for their key check at once; more are
 * refused 503. */
#define HTTP_ASKS_MAX 32

/* A request's key check, between a handler and the loop (under h->lock). */
struct http_ask {
    int state;     /* HTTP_ASK_* */
    int abandoned; /* its handler gave up: freed when answered */
    char *token;   /* the Authorization header, a copy (wiped when freed) */
    size_t len;
    mq_err err;
    int status;
    char why[160];
};

enum {
    HTTP_ASK_FREE,
    HTTP_ASK_QUEUED,   /* for the loop to check */
    HTTP_ASK_CHECKING, /* the loop checks it */
    HTTP_ASK_PARKED,   /* a slow check runs: http_auth_resume answers */
    HTTP_ASK_ANSWERED  /* for the handler to take */
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
    int stopped; /* http_stop ran: parked key checks only free their ask */

    uv_mutex_t lock;
    struct figures *current; /* under lock */
    uint64_t seq;            /* under lock: snapshots published */
    int wanted;              /* under lock */

    struct http_ask asks[HTTP_ASKS_MAX]; /* under lock */

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

/* The loop's side of the key checks: checks every queued ask (called on
 * each wake-up; exposed for the unit tests). Loop thread. */
void http_run_asks(struct http *h);

/* Whether @p is one of @h's asks: the auth module's resume callback is
 * shared with the request path, which tells them apart with this. */
int http_owns_ask(const struct http *h, const void *p);

/* The end of a parked key check (auth_resume_cb): with @err MQ_OK the key
 * is checked again (now remembered), otherwise the request is refused
 * with @why. Loop thread; after http_stop it only frees the ask. */
void http_auth_resume(struct http *h, void *ask, mq_err err, const char *why);

/* Reads the https:// listener's certificate files again (SIGHUP, mqctl
 * node reload-tls) for the connections it accepts from now on. Returns
 * MQ_OK; MQ_ERR_NOT_FOUND when http_url is not https://; an error with @e
 * naming the file (the old settings stay). Loop thread; blocks up to a
 * second. */
mq_err http_reload_tls(struct http *h, struct errmsg *e);

/* Stops serving (waits for handlers running on nng threads to finish),
 * then closes the loop's handles. Loop thread. */
void http_stop(struct http *h);

#endif
