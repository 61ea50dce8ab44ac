/* http.c: mqd's HTTP endpoints (http.h): routing, the key hook, and the
 * exchange of figure snapshots between the loop thread (collect, publish)
 * and the handlers on nng threads (ask, wait without blocking, render). */
#include "http.h"

#include <string.h>
#include <time.h>

#include "alloc.h"
#include "certinfo.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "secret.h"
#include "textbuf.h"
#include "tlsconf.h"

/* A page larger than this is not built (a 503 says so). */
#define HTTP_PAGE_MAX (64u << 20)

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Loop side ---------------------------------------------------------------- */

static void publish(struct http *h)
{
    struct figures *fg = collect_figures(&h->src), *old;
    uv_mutex_lock(&h->lock);
    h->wanted = 0;
    if (fg == NULL) {
        uv_mutex_unlock(&h->lock);
        LOG_WARN("http: out of memory taking a snapshot of the figures");
        return;
    }
    old = h->current;
    h->current = fg;
    h->seq++;
    uv_mutex_unlock(&h->lock);
    figures_release(old);
}

static void ask_free_token(struct http_ask *a)
{
    if (a->token != NULL) {
        secret_wipe(a->token, a->len);
        mq_free(a->token);
        a->token = NULL;
        a->len = 0;
    }
}

/* Records the answer of @a (under h->lock). */
static void ask_answer(struct http_ask *a, mq_err err, int status,
                       const char *why)
{
    ask_free_token(a);
    if (a->abandoned) {
        a->abandoned = 0;
        a->state = HTTP_ASK_FREE;
        return;
    }
    a->err = err;
    a->status = err == MQ_OK ? 200 : status;
    snprintf(a->why, sizeof a->why, "%s", err == MQ_OK ? "" : why);
    a->state = HTTP_ASK_ANSWERED;
}

/* Checks @a if it is in state @expect (QUEUED; or PARKED, resumed) on
 * the loop: answers it, or leaves it PARKED. */
static void check_ask(struct http *h, struct http_ask *a, int expect)
{
    char why[sizeof a->why] = "";
    int parked = 0, status = 401;
    mq_err rv;
    uv_mutex_lock(&h->lock);
    if (a->state != expect) {
        uv_mutex_unlock(&h->lock);
        return;
    }
    a->state = HTTP_ASK_CHECKING;
    const char *token = a->token != NULL ? a->token : "";
    uv_mutex_unlock(&h->lock);
    /* CHECKING: no handler frees the token or reuses the ask meanwhile. */
    rv =
        h->auth.check(h->auth.arg, token, a, &parked, &status, why, sizeof why);
    uv_mutex_lock(&h->lock);
    if (rv == MQ_ERR_NOT_DONE && parked) {
        a->state = HTTP_ASK_PARKED;
    } else {
        ask_answer(a, rv, status, why);
    }
    uv_mutex_unlock(&h->lock);
}

void http_run_asks(struct http *h)
{
    for (size_t i = 0; i < HTTP_ASKS_MAX; i++) {
        check_ask(h, &h->asks[i], HTTP_ASK_QUEUED);
    }
}

int http_owns_ask(const struct http *h, const void *p)
{
    const char *c = p;
    return c >= (const char *)&h->asks[0] &&
           c < (const char *)&h->asks[HTTP_ASKS_MAX];
}

void http_auth_resume(struct http *h, void *ask, mq_err err, const char *why)
{
    struct http_ask *a = ask;
    if (h->stopped) { /* no handler, no lock any more */
        ask_free_token(a);
        a->state = HTTP_ASK_FREE;
        return;
    }
    if (err != MQ_OK) {
        uv_mutex_lock(&h->lock);
        if (a->state == HTTP_ASK_PARKED) {
            ask_answer(a, err == MQ_OK ? MQ_ERR_NOT_DONE : err,
                       err == MQ_ERR_UNAUTHENTICATED ? 401 : 503,
                       why != NULL ? why : "the node is stopping");
        }
        uv_mutex_unlock(&h->lock);
        return;
    }
    check_ask(h, a, HTTP_ASK_PARKED); /* the slow check is remembered now */
}

static void wake_cb(uv_async_t *a)
{
    struct http *h = a->data;
    int wanted;
    http_run_asks(h);
    uv_mutex_lock(&h->lock);
    wanted = h->wanted;
    uv_mutex_unlock(&h->lock);
    if (wanted) {
        publish(h);
    }
}

static void beat_cb(uv_timer_t *t)
{
    struct http *h = t->data;
    atomic_store(&h->beat_ms, mono_ms());
}

/* nng threads -------------------------------------------------------------- */

/* The cookie of a request waiting for a snapshot: the sequence number it
 * waits for (low 32 bits) and since when (bits 32 to 62: monotonic ms,
 * modulo 2^31). One waiting for its key check has bit 63 set, the ask's
 * index in bits 32 to 62 and since when in the low 32 bits (modulo
 * 2^32). */
#define MS31 0x7fffffffu
#define COOKIE(seq, ms) (((uint64_t)((ms)&MS31) << 32) | ((seq)&0xffffffffu))
#define AUTH_FLAG (1ull << 63)
#define AUTH_COOKIE(slot, ms)                                                  \
    (AUTH_FLAG | ((uint64_t)(slot) << 32) | ((ms)&0xffffffffu))

/* A snapshot for @cookie's request, or NULL with *@wait set: call again
 * then; or NULL with *@wait 0: none could be had in time. */
static struct figures *get_figures(struct http *h, uint64_t *cookie, int *wait)
{
    struct figures *fg = NULL;
    uint64_t now = mono_ms();
    int send = 0;

    *wait = 0;
    uv_mutex_lock(&h->lock);
    if (*cookie == 0) {
        if (h->current != NULL &&
            now - h->current->taken_mono_ms <= HTTP_FRESH_MS) {
            fg = h->current;
        } else {
            send = !h->wanted;
            h->wanted = 1;
            *cookie = COOKIE(h->seq + 1, now);
            *wait = HTTP_POLL_MS;
        }
    } else {
        uint64_t want = *cookie & 0xffffffffu;
        uint32_t since = (uint32_t)(*cookie >> 32) & MS31;
        if ((h->seq & 0xffffffffu) >= want && h->current != NULL) {
            fg = h->current;
        } else if ((((uint32_t)now - since) & MS31) < HTTP_WAIT_MS) {
            *wait = HTTP_POLL_MS;
        } else {
            fg = h->current; /* stale, or NULL: the loop did not answer */
        }
    }
    if (fg != NULL) {
        figures_hold(fg);
    }
    uv_mutex_unlock(&h->lock);
    if (send) {
        uv_async_send(&h->wake);
    }
    return fg;
}

/* Refuses the request with @status and @why. */
static void refuse(struct http *h, struct httpd_reply *rep, int status,
                   const char *why)
{
    char text[200];
    atomic_fetch_add(&h->auth_refused, 1);
    snprintf(text, sizeof text, "%s\n", why[0] ? why : "key refused");
    httpd_text(rep, status == 403 || status == 503 ? status : 401, text);
    if (rep->status == 401) {
        snprintf(rep->headers, sizeof rep->headers,
                 "WWW-Authenticate: Bearer realm=\"mq\"\r\n");
    }
}

/* The key check of a request, through the loop (http_run_asks). Returns 1
 * when it passed (*cookie is 0 again), 0 when @rep is the answer (a
 * refusal), or -1: call again (*cookie says which ask). */
static int key_check(struct http *h, const struct http_request *req,
                     uint64_t *cookie, struct httpd_reply *rep)
{
    uint32_t now = (uint32_t)mono_ms();
    struct http_ask *a = NULL;

    if ((*cookie & AUTH_FLAG) == 0) {
        const char *tok = req->authorization;
        size_t len = strlen(tok), i;
        char *copy = mq_malloc(len + 1);
        if (copy == NULL) {
            httpd_text(rep, 503, "out of memory\n");
            return 0;
        }
        memcpy(copy, tok, len + 1);
        uv_mutex_lock(&h->lock);
        for (i = 0; i < HTTP_ASKS_MAX && h->asks[i].state != HTTP_ASK_FREE;
             i++) {
        }
        if (i < HTTP_ASKS_MAX) {
            a = &h->asks[i];
            a->state = HTTP_ASK_QUEUED;
            a->abandoned = 0;
            a->token = copy;
            a->len = len;
        }
        uv_mutex_unlock(&h->lock);
        if (a == NULL) {
            secret_wipe(copy, len);
            mq_free(copy);
            refuse(h, rep, 503,
                   "too many requests wait for their key check: try again");
            return 0;
        }
        if (h->started) {
            uv_async_send(&h->wake);
        }
        *cookie = AUTH_COOKIE(i, now);
        return -1;
    }
    a = &h->asks[(*cookie >> 32) & MS31];
    uv_mutex_lock(&h->lock);
    if (a->state == HTTP_ASK_ANSWERED) {
        mq_err err = a->err;
        int status = a->status;
        char why[sizeof a->why];
        snprintf(why, sizeof why, "%s", a->why);
        a->state = HTTP_ASK_FREE;
        uv_mutex_unlock(&h->lock);
        if (err == MQ_OK) {
            *cookie = 0;
            return 1;
        }
        refuse(h, rep, status, why);
        return 0;
    }
    if (now - (uint32_t)*cookie < HTTP_WAIT_MS) {
        uv_mutex_unlock(&h->lock);
        return -1;
    }
    if (a->state == HTTP_ASK_QUEUED) {
        ask_free_token(a);
        a->state = HTTP_ASK_FREE;
    } else {
        a->abandoned = 1; /* the loop frees it when it answers */
    }
    uv_mutex_unlock(&h->lock);
    refuse(h, rep, 503, "the key check did not end in time: try again");
    return 0;
}

static int path_is_open(const struct http *h, const char *path)
{
    if (strcmp(path, "/metrics") == 0) {
        return h->cfg->http_metrics_open != 0;
    }
    return h->cfg->http_health_open != 0;
}

static void page(struct httpd_reply *rep, int status, const char *type,
                 struct textbuf *tb)
{
    size_t len = 0;
    char *p = textbuf_take(tb, &len);
    if (p == NULL) {
        httpd_text(rep, 503, "out of memory building the page\n");
        return;
    }
    rep->status = status;
    rep->content_type = type;
    rep->body = p;
    rep->len = len;
}

/* When the certificates of @path (config key @key) expire, ms since the
 * epoch; 0 without a file or when it does not parse (the node says so
 * when it loads it). Read at each scrape, on the handler's thread. */
static uint64_t cert_expiry(const char *key, const char *path)
{
    struct errmsg e = ERRMSG_INIT;
    uint64_t ms = 0;
    if (path[0] == '\0' || certinfo_not_after(key, path, &ms, &e) != MQ_OK) {
        return 0;
    }
    return ms;
}

static void serve_metrics(struct http *h, const struct figures *fg,
                          struct httpd_reply *rep)
{
    struct metrics_http mh;
    struct httpd_stats st;
    struct textbuf tb;

    memset(&st, 0, sizeof st);
    if (h->server != NULL) {
        httpd_stats(h->server, &st);
    }
    mh.connections = st.connections;
    mh.accepted = st.accepted;
    mh.refused = st.refused;
    mh.timeouts = st.timeouts;
    mh.too_large = st.too_large;
    mh.auth_refused = atomic_load(&h->auth_refused);
    mh.figures_age_ms = mono_ms() - fg->taken_mono_ms;
    mh.cert_client_ms = cert_expiry("tls_cert_file", h->cfg->tls_cert_file);
    mh.cert_peer_ms =
        cert_expiry("peer_tls_cert_file", h->cfg->peer_tls_cert_file);
    textbuf_init(&tb, HTTP_PAGE_MAX);
    metrics_render(fg, &mh, &tb);
    page(rep, 200, "text/plain; version=0.0.4; charset=utf-8", &tb);
}

static void serve_health(const struct figures *fg, int verbose, int ready_only,
                         struct httpd_reply *rep)
{
    struct health hl;
    struct textbuf tb;

    health_evaluate(fg, &hl);
    textbuf_init(&tb, 0);
    if (verbose) {
        health_json(&hl, fg, &tb);
        page(rep, hl.ready ? 200 : 503, "application/json", &tb);
        return;
    }
    if (hl.ready) {
        textbuf_printf(&tb, "%s\n", ready_only ? "ready" : "ok");
    } else {
        textbuf_printf(&tb, "not ready: %s\n", hl.reason);
    }
    page(rep, hl.ready ? 200 : 503, "text/plain; charset=utf-8", &tb);
}

static int serve_livez(struct http *h, struct httpd_reply *rep)
{
    uint64_t stall = h->cfg->livez_stall_ms;
    uint64_t since = mono_ms() - atomic_load(&h->beat_ms);
    char text[160];
    if (stall != 0 && since > stall) {
        snprintf(text, sizeof text,
                 "not live: the node's loop thread has not run for %llu ms "
                 "(livez_stall_ms %llu)\n",
                 (unsigned long long)since, (unsigned long long)stall);
        httpd_text(rep, 503, text);
    } else {
        httpd_text(rep, 200, "live\n");
    }
    return 0;
}

int http_handle(void *arg, const struct http_request *req, uint64_t *cookie,
                struct httpd_reply *rep)
{
    struct http *h = arg;
    const char *path = req->path;
    struct figures *fg;
    int wait;

    if (*cookie == 0) {
        atomic_fetch_add(&h->requests, 1);
    }
    if (strcmp(path, "/metrics") != 0 && strcmp(path, "/livez") != 0 &&
        strcmp(path, "/readyz") != 0 && strcmp(path, "/healthz") != 0) {
        httpd_text(rep, 404,
                   "not found: mqd serves /metrics, /livez, /readyz and "
                   "/healthz[?verbose]\n");
        return 0;
    }
    if ((*cookie == 0 || (*cookie & AUTH_FLAG) != 0) && h->auth.check != NULL &&
        !path_is_open(h, path)) {
        int k = key_check(h, req, cookie, rep);
        if (k <= 0) {
            return k < 0 ? HTTP_POLL_MS : 0;
        }
    }
    if (strcmp(path, "/livez") == 0) {
        return serve_livez(h, rep);
    }
    fg = get_figures(h, cookie, &wait);
    if (fg == NULL) {
        if (wait > 0) {
            return wait;
        }
        httpd_text(rep, 503,
                   "not ready: the node's loop thread did not publish its "
                   "figures in time\n");
        return 0;
    }
    if (strcmp(path, "/metrics") == 0) {
        serve_metrics(h, fg, rep);
    } else {
        serve_health(fg, httpreq_has_param(req->query, "verbose"),
                     strcmp(path, "/readyz") == 0, rep);
    }
    figures_release(fg);
    return 0;
}

/* Start and stop ----------------------------------------------------------- */

/* The https:// listener's configuration: the client certificate
 * (tls_cert_file, tls_key_file); no client certificate asked for (keys
 * say who may read). */
static mq_err server_tls(struct http *h, nng_tls_config **out, struct errmsg *e)
{
    struct tlsconf_files f = {.cert_key = "tls_cert_file",
                              .cert_file = h->cfg->tls_cert_file,
                              .key_key = "tls_key_file",
                              .key_file = h->cfg->tls_key_file};
    mq_err rv = tlsconf_server(out, &f, e);
    if (rv != MQ_OK) {
        errmsg_wrap(e, "http_url %s", h->cfg->http_url);
    }
    return rv;
}

mq_err http_reload_tls(struct http *h, struct errmsg *e)
{
    nng_tls_config *tls = NULL;
    mq_err rv;
    if (!h->started || !config_http_tls(h->cfg)) {
        return MQ_ERR_NOT_FOUND;
    }
    if ((rv = server_tls(h, &tls, e)) != MQ_OK) {
        return rv;
    }
    rv = httpd_set_tls(h->server, tls, e);
    nng_tls_config_free(tls);
    return rv;
}

mq_err http_start(struct http *h, uv_loop_t *loop,
                  const struct collect_sources *src,
                  const struct http_auth *auth, struct errmsg *e)
{
    char addr[MQ_URL_MAX + 8];
    struct httpd_opts o;
    mq_err rv;

    memset(h, 0, sizeof *h);
    h->loop = loop;
    h->cfg = src->cfg;
    h->src = *src;
    if (auth != NULL) {
        h->auth = *auth;
    }
    if (h->cfg->http_url[0] == '\0') {
        return MQ_OK;
    }
    snprintf(addr, sizeof addr, "%s://%s",
             config_http_tls(h->cfg) ? "tls+tcp" : "tcp",
             config_http_hostport(h->cfg));
    nng_tls_config *tls = NULL;
    if (config_http_tls(h->cfg) && (rv = server_tls(h, &tls, e)) != MQ_OK) {
        return rv;
    }
    uv_mutex_init(&h->lock);
    uv_async_init(loop, &h->wake, wake_cb);
    h->wake.data = h;
    uv_timer_init(loop, &h->beat);
    h->beat.data = h;
    atomic_store(&h->beat_ms, mono_ms());
    uv_timer_start(&h->beat, beat_cb, 250, 250);
    h->started = 1;
    o = (struct httpd_opts){
        .addr = addr,
        .max_connections = (size_t)h->cfg->http_max_connections,
        .max_request_bytes = (size_t)h->cfg->http_max_request_bytes,
        .timeout_ms = h->cfg->http_timeout_ms,
        .handler = http_handle,
        .arg = h,
        .tls = tls,
    };
    rv = httpd_start(&h->server, &o, e);
    if (tls != NULL) {
        nng_tls_config_free(tls); /* the listener holds its own */
    }
    if (rv != MQ_OK) {
        errmsg_wrap(e, "http_url %s", h->cfg->http_url);
        return rv;
    }
    return MQ_OK;
}

void http_stop(struct http *h)
{
    if (!h->started) {
        return;
    }
    h->started = 0;
    httpd_stop(h->server); /* no handler runs after this */
    h->server = NULL;
    uv_timer_stop(&h->beat);
    uv_close((uv_handle_t *)&h->beat, NULL);
    uv_close((uv_handle_t *)&h->wake, NULL);
    for (size_t i = 0; i < HTTP_ASKS_MAX; i++) {
        if (h->asks[i].state != HTTP_ASK_PARKED) { /* parked: auth resumes */
            ask_free_token(&h->asks[i]);
            h->asks[i].state = HTTP_ASK_FREE;
        }
    }
    h->stopped = 1;
    figures_release(h->current);
    h->current = NULL;
    uv_mutex_destroy(&h->lock);
}
