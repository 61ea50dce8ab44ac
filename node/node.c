/* node.c: composition root. Start order: FSM, raft storage and peer
 * transport, group commit, request handling, the leader's ticker
 * (time-only entries), client socket, a check that the peer address is free
 * (raft listens there only after it bootstraps a new data dir), the HTTP
 * listener (http_url), raft (saying so when the config's members differ
 * from the data dir's), signals; then the supervisor is told that the node
 * serves (systemd's READY=1, when $NOTIFY_SOCKET is set).
 * Stop order (SIGINT/SIGTERM): the HTTP listener stops at once (it reads
 * raft's state, which is about to close; the supervisor is told
 * STOPPING=1); raft closes next, outside any raft
 * callback, failing what it had in flight (those requests are answered
 * UNAVAILABLE through the still-open client socket); then requests waiting,
 * the ticker, group commit, the keys checks (requests waiting for one are
 * refused), the client socket and the loop's handles. */
#include "node.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "alloc.h"
#include "auth.h"
#include "batch.h"
#include "bridge.h"
#include "consensus.h"
#include "fsm.h"
#include "http.h"
#include "join.h"
#include "log.h"
#include "lwatch.h"
#include "memtrim.h"
#include "peer.h"
#include "raft_heap.h"
#include "repair.h"
#include "rpc.h"
#include "rpc_auth.h"
#include "sdnotify.h"
#include "stopguard.h"
#include "ticker.h"
#include "tlsconf.h"
#include "wallclock.h"

struct node {
    uv_loop_t loop;
    const struct config *cfg;
    struct fsm *fsm;
    struct bridge bridge;
    struct peer peer;
    struct consensus cons;
    struct batch batch;
    struct rpc rpc;
    struct auth auth;
    struct ticker ticker;
    struct memtrim memtrim;
    struct http http;
    uv_signal_t sigint, sigterm, sighup;
    nng_tls_config *client_tls; /* the client listener's, tls+tcp:// */
    uv_timer_t removed_timer;
    uv_timer_t rejoin_timer;
    struct joiner *joiner; /* joining (`join`), or rejoining (repair.h) */
    struct lwatch *lwatch; /* brings back a listener nng stopped */
    int stopping;
    int bridge_started;
};

static void on_peer_msg(void *arg, nng_msg *msg)
{
    struct node *n = arg;
    peer_deliver(&n->peer, msg);
}

static void on_peer_event(void *arg, enum inbound_kind kind, uint32_t pipe)
{
    struct node *n = arg;
    peer_event(&n->peer, kind, pipe);
}

static void on_request(void *arg, struct rpc_req *req, const void *data,
                       size_t len)
{
    struct node *n = arg;
    rpc_handle(&n->rpc, req, data, len);
}

static void on_pipe_closed(void *arg, uint32_t pipe)
{
    struct node *n = arg;
    rpc_pipe_closed(&n->rpc, pipe);
}

static void on_leader(void *arg, int leader)
{
    struct node *n = arg;
    rpc_leader_changed(&n->rpc, leader);
}

static void raft_closed(struct consensus *c)
{
    struct node *n = (struct node *)((char *)c - offsetof(struct node, cons));
    rpc_close(&n->rpc);
    ticker_close(&n->ticker);
    memtrim_close(&n->memtrim);
    batch_close(&n->batch);
    rpc_auth_stop(&n->rpc);
    auth_close(&n->auth);
    if (n->bridge_started) {
        stopguard_step("closing the client socket", STOPGUARD_NNG);
        bridge_stop(&n->bridge);
        bridge_close(&n->bridge, NULL);
    }
    stopguard_step("ending the loop", STOPGUARD_WAIT);
    uv_close((uv_handle_t *)&n->sigint, NULL);
    uv_close((uv_handle_t *)&n->sigterm, NULL);
    uv_close((uv_handle_t *)&n->sighup, NULL);
    uv_close((uv_handle_t *)&n->removed_timer, NULL);
    uv_close((uv_handle_t *)&n->rejoin_timer, NULL);
    LOG_INFO("stopped");
}

/* A handle still open when the loop ends is a bug: name it in the log. */
static void report_open_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    LOG_WARN("a %s handle is still open at exit%s",
             uv_handle_type_name(uv_handle_get_type(h)),
             uv_is_closing(h) ? " (closing)" : "");
}

static void stop(struct node *n)
{
    if (n->stopping) {
        return;
    }
    n->stopping = 1;
    if (sdnotify_send(n->cfg->notify_socket, "STOPPING=1") != 0) {
        LOG_WARN("cannot notify the supervisor (NOTIFY_SOCKET %s): %s",
                 n->cfg->notify_socket, strerror(errno));
    }
    stopguard_arm(n->cfg->stop_timeout_ms);
    stopguard_step("stopping the HTTP server", STOPGUARD_NNG);
    http_stop(&n->http);
    stopguard_step("stopping the listener watch", STOPGUARD_WAIT);
    lwatch_stop(n->lwatch);
    n->lwatch = NULL;
    uv_signal_stop(&n->sigint);
    uv_signal_stop(&n->sigterm);
    uv_signal_stop(&n->sighup);
    uv_timer_stop(&n->removed_timer);
    uv_timer_stop(&n->rejoin_timer);
    stopguard_step("closing the join socket", STOPGUARD_NNG);
    join_stop(n->joiner);
    n->joiner = NULL;
    stopguard_step("waiting for raft to close", STOPGUARD_WAIT);
    consensus_close(&n->cons, raft_closed);
}

/* A parked key check ended (auth.h): an HTTP request's, or a call's. */
static void auth_resume(void *ctx, void *arg, mq_err err, const char *why)
{
    struct node *n = ctx;
    if (http_owns_ask(&n->http, arg)) {
        http_auth_resume(&n->http, arg, err, why);
    } else {
        rpc_auth_resume(arg, err, why);
    }
}

static mq_err client_relisten_cb(void *arg, nng_listener *l, struct errmsg *e)
{
    struct node *n = arg;
    mq_err rv = bridge_relisten(&n->bridge, n->client_tls, e);
    *l = n->bridge.listener;
    return rv;
}

static mq_err peer_relisten_cb(void *arg, nng_listener *l, struct errmsg *e)
{
    struct node *n = arg;
    return peer_relisten(&n->peer, l, e);
}

/* Watches the client and peer listeners (lwatch.h). */
static mq_err watch_listeners(struct node *n, struct errmsg *e)
{
    const struct config *cfg = n->cfg;
    mq_err rv = lwatch_start(&n->lwatch, &n->loop, e);
    struct lwatch_target client = {
        .what = "client_url",
        .url = cfg->client_url,
        .listener = n->bridge.listener,
        .proto = LWATCH_PROTO_REQ,
        .cert_file = cfg->tls_cert_file,
        .key_file = cfg->tls_key_file,
        .restart = client_relisten_cb,
        .arg = n,
    };
    struct lwatch_target peer = {
        .what = "peer_url",
        .url = cfg->peer_url,
        .listener = n->peer.pull_listener,
        .proto = LWATCH_PROTO_PUSH,
        .cert_file = cfg->peer_tls_cert_file,
        .key_file = cfg->peer_tls_key_file,
        .restart = peer_relisten_cb,
        .arg = n,
    };
    if (rv == MQ_OK) {
        rv = lwatch_add(n->lwatch, &client, e);
    }
    if (rv == MQ_OK && n->peer.pull_open) {
        rv = lwatch_add(n->lwatch, &peer, e);
    }
    return rv;
}

static void signal_cb(uv_signal_t *h, int signum)
{
    LOG_INFO("signal %d: stopping", signum);
    stop(h->data);
}

/* The client TLS files of @cfg. */
static struct tlsconf_files client_tls_files(const struct config *cfg)
{
    return (struct tlsconf_files){.cert_key = "tls_cert_file",
                                  .cert_file = cfg->tls_cert_file,
                                  .key_key = "tls_key_file",
                                  .key_file = cfg->tls_key_file,
                                  .ca_key = "tls_client_ca_file",
                                  .ca_file = cfg->tls_client_ca_file};
}

/* Reads the TLS files again (SIGHUP, mqctl node reload-tls): the client
 * listener and the peer transport get them for new connections; open
 * connections keep theirs. Files that do not load change nothing (the old
 * settings stay) and are reported. Returns MQ_OK with @detail saying what
 * was reloaded. */
static mq_err reload_tls(void *arg, char *detail, size_t len, struct errmsg *e)
{
    struct node *n = arg;
    const struct config *cfg = n->cfg;
    struct tlsconf_files f = client_tls_files(cfg);
    nng_tls_config *tls = NULL;
    size_t at = 0;
    mq_err rv;

    detail[0] = '\0';
    if (n->client_tls != NULL) {
        if ((rv = tlsconf_server(&tls, &f, e)) != MQ_OK ||
            (rv = bridge_set_tls(&n->bridge, tls, e)) != MQ_OK) {
            if (tls != NULL) {
                nng_tls_config_free(tls);
            }
            errmsg_wrap(e, "client TLS");
            return rv;
        }
        nng_tls_config_free(n->client_tls);
        n->client_tls = tls;
        at += (size_t)snprintf(detail + at, len - at,
                               "client certificate %s reloaded",
                               cfg->tls_cert_file);
    }
    if (cfg->peer_tls_cert_file[0] != '\0') {
        if ((rv = peer_reload_tls(&n->peer, e)) != MQ_OK) {
            errmsg_wrap(e, "peer TLS%s",
                        at ? " (client TLS was reloaded)" : "");
            return rv;
        }
        at += (size_t)snprintf(detail + at, len - at,
                               "%speer certificate %s reloaded", at ? "; " : "",
                               cfg->peer_tls_cert_file);
    }
    if (config_http_tls(cfg)) {
        if ((rv = http_reload_tls(&n->http, e)) != MQ_OK) {
            errmsg_wrap(e, "HTTPS (client and peer TLS were reloaded)");
            return rv;
        }
        at += (size_t)snprintf(detail + at, len - at,
                               "%sHTTPS certificate %s reloaded",
                               at ? "; " : "", cfg->tls_cert_file);
    }
    if (at == 0) {
        errmsg_set(e, "no TLS configured on node %llu",
                   (unsigned long long)cfg->id);
        return MQ_ERR_INVALID;
    }
    return MQ_OK;
}

static void sighup_cb(uv_signal_t *h, int signum)
{
    struct node *n = h->data;
    struct errmsg e = ERRMSG_INIT;
    char detail[256];
    (void)signum;
    if (reload_tls(n, detail, sizeof detail, &e) == MQ_OK) {
        LOG_INFO("SIGHUP: %s", detail);
    } else {
        LOG_ERROR("SIGHUP: %s; the old TLS settings stay", e.msg);
    }
}

static void removed_timer_cb(uv_timer_t *t)
{
    LOG_INFO("stopping: this node is no longer a member of the cluster");
    stop(t->data);
}

/* Removed from the cluster: requests are refused from now on (rpc.c); the
 * node stops (exit status 0, so that a supervisor does not restart it) a
 * moment later, once the remove's reply and the last messages to its peers
 * have gone out. */
static void on_removed(void *arg)
{
    struct node *n = arg;
    if (!n->stopping) {
        uv_timer_start(&n->removed_timer, removed_timer_cb, 500, 0);
    }
}

/* Writes "id=url,..." of @conf into @buf (roles other than voter named). */
static void conf_text(const struct raft_configuration *conf, char *buf,
                      size_t len)
{
    size_t at = 0;

    buf[0] = '\0';
    for (unsigned i = 0; i < conf->n && at < len; i++) {
        const struct raft_server *s = &conf->servers[i];
        at += (size_t)snprintf(buf + at, len - at, "%s%llu=%s%s",
                               i > 0 ? "," : "", (unsigned long long)s->id,
                               s->address,
                               s->role == RAFT_STANDBY ? " (standby)"
                               : s->role == RAFT_SPARE ? " (spare)"
                                                       : "");
    }
}

/* A data dir's cluster has its own members: `members` only bootstraps a
 * new one. Says so when the config lists others, instead of ignoring
 * them silently. */
static void warn_changed_members(const struct consensus *c,
                                 const struct config *cfg)
{
    const struct raft_configuration *conf = &c->raft.configuration;
    int same = conf->n == cfg->n_members;
    char has[2048];

    if (cfg->join[0] != '\0' || conf->n == 0) {
        return;
    }
    for (unsigned i = 0; same && i < conf->n; i++) {
        const struct config_member *m = config_member(cfg, conf->servers[i].id);
        same = m != NULL && conf->servers[i].role == RAFT_VOTER &&
               strcmp(m->peer_url, conf->servers[i].address) == 0;
    }
    if (same) {
        return;
    }
    conf_text(conf, has, sizeof has);
    LOG_WARN("members: the config's %s differ from the cluster's in %s, %s: "
             "the data dir's are used (members only bootstraps a new data "
             "dir; change membership with mqctl node add and remove)",
             cfg->members_text, cfg->data_dir, has);
}

/* Rejoining after a repair (repair.h): hands join.c's thread the client
 * URLs heard from peers and moves raft's filter on as the thread gets the
 * node removed, then added again. */
static void rejoin_timer_cb(uv_timer_t *t)
{
    struct node *n = t->data;
    char urls[1024] = "";
    size_t len = 0;
    uint64_t floor = 0;
    uint32_t phase;

    for (size_t i = 0; i < n->peer.n_known; i++) {
        const char *u = n->peer.known[i].client_url;
        size_t l = strlen(u);
        if (l > 0 && len + l + 2 < sizeof urls) {
            len += (size_t)snprintf(urls + len, sizeof urls - len, "%s%s",
                                    len ? "," : "", u);
        }
    }
    join_set_urls(n->joiner, urls);
    phase = join_progress(n->joiner, &floor);
    if (phase >= 2 && n->cons.rejoin_phase < 2) {
        consensus_rejoin_removed(&n->cons, floor);
    }
    if (phase >= 3) {
        struct errmsg e = ERRMSG_INIT;
        uv_timer_stop(t);
        join_stop(n->joiner);
        n->joiner = NULL;
        consensus_rejoined(&n->cons);
        if (repair_marker_clear(n->cfg->data_dir, &e) != MQ_OK) {
            LOG_ERROR("rejoined, but %s: the next start rejoins again", e.msg);
        }
    }
}

static int make_dir(const char *path)
{
    char buf[sizeof((struct config *)0)->data_dir];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = '/';
        }
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
        return -1;
    }
    return 0;
}

int node_run(const struct config *cfg)
{
    struct node *n = mq_calloc(1, sizeof *n);
    struct errmsg e = ERRMSG_INIT;
    int code = 1;

    if (n == NULL) {
        LOG_ERROR("out of memory");
        return 1;
    }
    n->cfg = cfg;
    signal(SIGPIPE, SIG_IGN);
    raft_heap_install();
    log_set_node(cfg->id);
    if (cfg->test_clock_offset_ms != 0) {
        wallclock_set_offset_ms(cfg->test_clock_offset_ms);
        LOG_WARN("test hook: this node's clock is shifted by %lld ms",
                 (long long)cfg->test_clock_offset_ms);
    }
    if (make_dir(cfg->data_dir) != 0) {
        LOG_ERROR("data_dir: cannot create %s: %s", cfg->data_dir,
                  strerror(errno));
        mq_free(n);
        return 1;
    }
    /* Before raft reads a byte of the data dir. */
    if (cfg->auto_repair && repair_run(cfg, &e) != MQ_OK) {
        LOG_ERROR("%s", e.msg);
        mq_free(n);
        return 1;
    }
    uv_loop_init(&n->loop);
    /* Signals first: one that arrives while the node starts is handled
     * (a clean stop) once the loop runs. */
    uv_signal_init(&n->loop, &n->sigint);
    uv_signal_init(&n->loop, &n->sigterm);
    uv_signal_init(&n->loop, &n->sighup);
    n->sigint.data = n->sigterm.data = n->sighup.data = n;
    uv_signal_start(&n->sigint, signal_cb, SIGINT);
    uv_signal_start(&n->sigterm, signal_cb, SIGTERM);
    uv_signal_start(&n->sighup, sighup_cb, SIGHUP);
    {
        /* A supervisor (or test) may start us with these blocked, so that
         * one sent during start-up waits for the handlers above. */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGHUP);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    }
    uv_timer_init(&n->loop, &n->removed_timer);
    n->removed_timer.data = n;
    uv_timer_init(&n->loop, &n->rejoin_timer);
    n->rejoin_timer.data = n;
    n->fsm = fsm_new();
    if (n->fsm == NULL) {
        LOG_ERROR("out of memory");
        goto out;
    }
    n->fsm->on_publish = rpc_on_publish;
    n->fsm->on_publish_arg = &n->rpc;
    n->fsm->on_note = rpc_on_note;
    n->fsm->on_note_arg = &n->rpc;
    if (auth_init(&n->auth, &n->loop, &n->fsm->keys, cfg->data_dir,
                  cfg->auth_bootstrap_key_file, auth_resume, n, &e) != MQ_OK) {
        LOG_ERROR("%s", e.msg);
        goto out;
    }
    /* The bridge's loop side (inbox and wake-up) must exist before the peer
     * socket can receive; the client socket opens last. */
    memset(&n->bridge, 0, sizeof n->bridge);
    if (peer_init(&n->peer, &n->loop, &n->bridge, cfg, &e) != MQ_OK) {
        LOG_ERROR("%s", e.msg);
        goto out;
    }
    batch_init(&n->batch, &n->loop, &n->cons, n->fsm, cfg);
    rpc_init(&n->rpc, &n->loop, &n->bridge, &n->cons, &n->batch, n->fsm,
             &n->peer, cfg);
    if (rpc_auth_start(&n->rpc, &n->auth, &n->loop) != MQ_OK) {
        LOG_ERROR("out of memory");
        goto out;
    }
    ticker_init(&n->ticker, &n->loop, &n->cons, n->fsm);
    n->rpc.reload_tls_cb = reload_tls;
    n->rpc.reload_tls_arg = n;
    if (tlsconf_is_tls_url(cfg->client_url)) {
        struct tlsconf_files f = client_tls_files(cfg);
        if (tlsconf_server(&n->client_tls, &f, &e) != MQ_OK) {
            LOG_ERROR("client TLS: %s", e.msg);
            goto out;
        }
    }
    struct bridge_opts bo = {
        .url = cfg->client_url,
        .tls = n->client_tls,
        .max_active = (size_t)cfg->rpc_contexts,
        .max_bytes = (size_t)cfg->max_request_bytes,
        .on_request = on_request,
        .on_peer = on_peer_msg,
        .on_peer_event = on_peer_event,
        .peer_max_queued = (size_t)cfg->peer_inbox_max_messages,
        .peer_max_queued_bytes = (size_t)cfg->peer_inbox_max_bytes,
        .on_pipe_closed = on_pipe_closed,
        .arg = n,
    };
    if (bridge_start(&n->bridge, &n->loop, &bo, &e) != MQ_OK) {
        LOG_ERROR("%s", e.msg);
        goto out;
    }
    n->bridge_started = 1;
    memtrim_start(&n->memtrim, &n->loop, n->fsm, &n->bridge, &n->cons);
    /* raft listens on peer_url only once it has started, after it wrote a
     * new cluster's bootstrap: a taken address must stop us before. */
    if (bridge_check_listen(cfg->peer_url, "peer_url", &e) != MQ_OK) {
        LOG_ERROR("%s", e.msg);
        goto out;
    }
    struct collect_sources src = {
        .cfg = cfg,
        .fsm = n->fsm,
        .cons = &n->cons,
        .peer = &n->peer,
        .rpc = &n->rpc,
        .bridge = &n->bridge,
        .batch = &n->batch,
    };
    struct http_auth ha = {.check = rpc_auth_http, .arg = &n->rpc};
    if (http_start(&n->http, &n->loop, &src, &ha, &e) != MQ_OK) {
        LOG_ERROR("%s", e.msg);
        goto out;
    }
    if (consensus_start(&n->cons, &n->loop, &n->peer, n->fsm, cfg, &e) !=
        MQ_OK) {
        LOG_ERROR("%s", e.msg);
        goto out;
    }
    if (watch_listeners(n, &e) != MQ_OK) {
        LOG_ERROR("%s", e.msg);
        goto out;
    }
    warn_changed_members(&n->cons, cfg);
    n->cons.leader_cb = on_leader;
    n->cons.leader_arg = n;
    n->cons.removed_cb = on_removed;
    if (n->cons.removed) {
        on_removed(n);
    } else if (n->cons.rejoining) {
        struct repair_marker mk;
        struct errmsg me = ERRMSG_INIT;
        repair_marker_read(cfg->data_dir, &mk, &me); /* URLs, if any */
        if (join_start_rejoin(&n->joiner, cfg, n->cons.rejoin_phase,
                              n->cons.rejoin_floor, mk.urls,
                              auth_bootstrap_secret(&n->auth)) != MQ_OK) {
            LOG_ERROR("rejoin: out of memory");
            goto out;
        }
        uv_timer_start(&n->rejoin_timer, rejoin_timer_cb, 200, 200);
    } else if (cfg->join[0] != '\0' && !n->cons.was_member &&
               join_start(&n->joiner, cfg, auth_bootstrap_secret(&n->auth)) !=
                   MQ_OK) {
        LOG_ERROR("join: out of memory");
        goto out;
    }
    LOG_INFO("mqd %s serving clients at %s, peers at %s%s%s", MQ_VERSION_STRING,
             cfg->client_url, cfg->peer_url,
             cfg->http_url[0] ? ", HTTP at " : "", cfg->http_url);
    {
        char state[MQ_URL_MAX + 64];
        snprintf(state, sizeof state,
                 "READY=1\nSTATUS=serving clients at %s\nMAINPID=%ld",
                 cfg->client_url, (long)getpid());
        if (sdnotify_send(cfg->notify_socket, state) != 0) {
            LOG_WARN("cannot notify the supervisor (NOTIFY_SOCKET %s): %s",
                     cfg->notify_socket, strerror(errno));
        }
    }
    uv_run(&n->loop, UV_RUN_DEFAULT);
    code = 0;
out:
    if (code != 0) {
        /* Start-up failed part-way: nothing was served; exit without
         * unwinding raft (the process ends). */
        _exit(1);
    }
    stopguard_step("closing the join socket", STOPGUARD_NNG);
    join_stop(n->joiner);
    stopguard_disarm(); /* what follows frees memory */
    if (uv_loop_close(&n->loop) != 0) {
        uv_walk(&n->loop, report_open_handle, NULL);
    }
    fsm_free(n->fsm);
    if (n->client_tls != NULL) {
        nng_tls_config_free(n->client_tls);
    }
    mq_free(n);
    return code;
}
