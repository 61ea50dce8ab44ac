/* join.c: asking a running cluster to add this node, or to remove it and
 * add it again (NodeAdd, NodeRemove and Status requests over nng REQ, as a
 * client would). */
#include "join.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "errors.h"
#include "log.h"
#include "mq.pb-c.h"
#include "pemfile.h"
#include "repair.h"
#include "tlsconf.h"

/* Adding waits for the new node to catch up, which may take a while. */
#define JOIN_REPLY_TIMEOUT_MS (10 * 60 * 1000)
#define STATUS_TIMEOUT_MS 3000
#define URLS_MAX 1024

struct joiner {
    const struct config *cfg;
    pthread_t thread;
    atomic_int stop;
    pthread_mutex_t mu; /* guards sock, sock_open and urls */
    nng_socket sock;
    int sock_open;
    char urls[URLS_MAX]; /* rejoin: client URLs to ask, comma-separated */
    atomic_uint phase;   /* rejoin: 1, 2, 3 (done) */
    _Atomic uint64_t floor;
    unsigned long waits; /* rejoin, its thread only: rounds without progress */
    char *token;         /* every request's key, or NULL */
};

/* Sleeps about @ms, or less when stopped. */
static void pause_ms(struct joiner *j, int ms)
{
    for (int i = 0; i < ms / 100 && !atomic_load(&j->stop); i++) {
        nng_msleep(100);
    }
}

/* Dials @url on j->sock; a tls+tcp:// one verifies the node against
 * tls_ca_file (or peer_tls_ca_file) and presents tls_cert_file when set.
 * Returns 0 or an nng error (a TLS file that does not load is logged). */
static int dial(struct joiner *j, const char *url)
{
    const struct config *cfg = j->cfg;
    struct errmsg e = ERRMSG_INIT;
    nng_tls_config *tls = NULL;
    nng_dialer d;
    int rv;

    if (tlsconf_is_tls_url(url)) {
        int own = cfg->tls_cert_file[0] != '\0';
        struct tlsconf_files f = {
            .cert_key = "tls_cert_file",
            .cert_file = own ? cfg->tls_cert_file : "",
            .key_key = "tls_key_file",
            .key_file = own ? cfg->tls_key_file : "",
            .ca_key = cfg->tls_ca_file[0] ? "tls_ca_file" : "peer_tls_ca_file",
            .ca_file =
                cfg->tls_ca_file[0] ? cfg->tls_ca_file : cfg->peer_tls_ca_file};
        char host[256];
        pemfile_url_host(url, host, sizeof host);
        if (tlsconf_client(&tls, &f, host, &e) != MQ_OK) {
            LOG_WARN("join: %s", e.msg);
            return NNG_EINVAL;
        }
    }
    if ((rv = nng_dialer_create(&d, j->sock, url)) == 0 &&
        (tls == NULL ||
         (rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tls)) == 0)) {
        rv = nng_dialer_start(d, 0);
    }
    if (tls != NULL) {
        nng_tls_config_free(tls); /* the dialer holds its own */
    }
    return rv;
}

/* One request to @url, waiting up to @timeout_ms for the reply. Returns
 * MQ_OK with *out set (the caller frees it), or the error; @redirect gets
 * the leader's URL when the reply names one. */
static mq_err call(struct joiner *j, const char *url, Mq__V1__Request *req,
                   int timeout_ms, Mq__V1__Reply **out, char *redirect,
                   size_t redirect_size)
{
    nng_msg *msg;
    mq_err rv = MQ_ERR_UNAVAILABLE;

    *out = NULL;
    redirect[0] = '\0';
    pthread_mutex_lock(&j->mu);
    if (atomic_load(&j->stop) || nng_req0_open(&j->sock) != 0) {
        pthread_mutex_unlock(&j->mu);
        return MQ_ERR_UNAVAILABLE;
    }
    j->sock_open = 1;
    pthread_mutex_unlock(&j->mu);
    nng_socket_set_ms(j->sock, NNG_OPT_RECVTIMEO, timeout_ms);
    nng_socket_set_ms(j->sock, NNG_OPT_SENDTIMEO, 5000);
    nng_socket_set_ms(j->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    nng_socket_set_size(j->sock, NNG_OPT_RECVMAXSZ, 1 << 20);
    req->token = j->token;
    if (dial(j, url) != 0 ||
        nng_msg_alloc(&msg, mq__v1__request__get_packed_size(req)) != 0) {
        goto out;
    }
    mq__v1__request__pack(req, nng_msg_body(msg));
    if (nng_sendmsg(j->sock, msg, 0) != 0) {
        nng_msg_free(msg);
        goto out;
    }
    if (nng_recvmsg(j->sock, &msg, 0) != 0) {
        goto out;
    }
    Mq__V1__Reply *reply =
        mq__v1__reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
    nng_msg_free(msg);
    if (reply == NULL) {
        rv = MQ_ERR_PROTOCOL;
        goto out;
    }
    rv = err_from_status(reply->status);
    if (reply->leader_url && reply->leader_url[0]) {
        snprintf(redirect, redirect_size, "%s", reply->leader_url);
    }
    if (rv == MQ_OK) {
        *out = reply;
    } else {
        if (req->body_case != MQ__V1__REQUEST__BODY_STATUS) {
            LOG_INFO("%s via %s: %s: %s",
                     req->body_case == MQ__V1__REQUEST__BODY_NODE_REMOVE
                         ? "rejoin (remove)"
                         : "join",
                     url, mq_strerror(rv), reply->detail ? reply->detail : "");
        }
        mq__v1__reply__free_unpacked(reply, NULL);
    }
out:
    pthread_mutex_lock(&j->mu);
    if (j->sock_open) {
        nng_close(j->sock);
        j->sock_open = 0;
    }
    pthread_mutex_unlock(&j->mu);
    return rv;
}

/* NodeAdd (or NodeRemove when @remove) for this node at @url. */
static mq_err ask(struct joiner *j, const char *url, int remove, char *redirect,
                  size_t redirect_size)
{
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__NodeAddRequest add = MQ__V1__NODE_ADD_REQUEST__INIT;
    Mq__V1__NodeRemoveRequest rm = MQ__V1__NODE_REMOVE_REQUEST__INIT;
    Mq__V1__Reply *reply;
    mq_err rv;

    if (remove) {
        rm.id = j->cfg->id;
        req.body_case = MQ__V1__REQUEST__BODY_NODE_REMOVE;
        req.node_remove = &rm;
    } else {
        add.id = j->cfg->id;
        add.peer_url = (char *)j->cfg->peer_url;
        req.body_case = MQ__V1__REQUEST__BODY_NODE_ADD;
        req.node_add = &add;
    }
    rv = call(j, url, &req, JOIN_REPLY_TIMEOUT_MS, &reply, redirect,
              redirect_size);
    if (reply != NULL) {
        mq__v1__reply__free_unpacked(reply, NULL);
    }
    return rv;
}

/* The status of the node at @url (the caller frees the reply), or NULL. */
static Mq__V1__Reply *status(struct joiner *j, const char *url)
{
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__StatusRequest st = MQ__V1__STATUS_REQUEST__INIT;
    Mq__V1__Reply *reply;
    char redirect[MQ_URL_MAX];
    req.body_case = MQ__V1__REQUEST__BODY_STATUS;
    req.status = &st;
    if (call(j, url, &req, STATUS_TIMEOUT_MS, &reply, redirect,
             sizeof redirect) != MQ_OK) {
        return NULL;
    }
    if (reply->body_case != MQ__V1__REPLY__BODY_STATUS_REPLY) {
        mq__v1__reply__free_unpacked(reply, NULL);
        return NULL;
    }
    return reply;
}

static void *join_main(void *arg)
{
    struct joiner *j = arg;
    char urls[sizeof j->cfg->join];
    char redirect[MQ_URL_MAX];
    const char *next = NULL;

    snprintf(urls, sizeof urls, "%s", j->cfg->join);
    LOG_INFO("asking the cluster at %s to add node %llu at %s", urls,
             (unsigned long long)j->cfg->id, j->cfg->peer_url);
    while (!atomic_load(&j->stop)) {
        char list[sizeof j->cfg->join];
        char *save = NULL;
        snprintf(list, sizeof list, "%s", urls);
        for (char *u = strtok_r(list, ",", &save);
             u != NULL && !atomic_load(&j->stop);
             u = strtok_r(NULL, ",", &save)) {
            const char *url = next ? next : u;
            char target[MQ_URL_MAX];
            snprintf(target, sizeof target, "%s", url);
            next = NULL;
            mq_err rv = ask(j, target, 0, redirect, sizeof redirect);
            if (rv == MQ_OK) {
                LOG_INFO("the cluster added node %llu as a voter",
                         (unsigned long long)j->cfg->id);
                return NULL;
            }
            if (rv == MQ_ERR_EXISTS || rv == MQ_ERR_INVALID) {
                LOG_ERROR("the cluster refuses to add node %llu: give it "
                          "another id or peer_url",
                          (unsigned long long)j->cfg->id);
                return NULL;
            }
            if (rv == MQ_ERR_UNAUTHENTICATED ||
                rv == MQ_ERR_PERMISSION_DENIED) {
                LOG_ERROR("the cluster has authentication on and refuses "
                          "node %llu's request to join (%s): give the node "
                          "the cluster's auth_bootstrap_key_file, or add it "
                          "with mqctl node add and an admin key",
                          (unsigned long long)j->cfg->id, mq_strerror(rv));
                return NULL;
            }
            if (redirect[0] != '\0') {
                next = redirect;
            }
        }
        pause_ms(j, 1000);
    }
    return NULL;
}

/* Rejoin ------------------------------------------------------------------ */

/* Adds @url to j->urls unless it is there, or is this node's own. */
static void add_url_locked(struct joiner *j, const char *url)
{
    size_t have = strlen(j->urls), n = strlen(url);
    const char *p = j->urls;
    if (n == 0 || strcmp(url, j->cfg->client_url) == 0) {
        return;
    }
    while ((p = strstr(p, url)) != NULL) {
        if ((p == j->urls || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) {
            return;
        }
        p += n;
    }
    if (have + n + 2 > sizeof j->urls) {
        return;
    }
    if (have > 0) {
        j->urls[have++] = ',';
    }
    memcpy(j->urls + have, url, n + 1);
}

void join_set_urls(struct joiner *j, const char *urls)
{
    char list[URLS_MAX];
    char *save = NULL;
    snprintf(list, sizeof list, "%s", urls);
    pthread_mutex_lock(&j->mu);
    for (char *u = strtok_r(list, ",", &save); u != NULL;
         u = strtok_r(NULL, ",", &save)) {
        add_url_locked(j, u);
    }
    pthread_mutex_unlock(&j->mu);
}

uint32_t join_progress(struct joiner *j, uint64_t *floor)
{
    uint32_t phase = atomic_load(&j->phase);
    if (floor) {
        *floor = atomic_load(&j->floor);
    }
    return phase;
}

/* The leader's status, found through the known URLs (NULL if none
 * answers as leader). Learns the members' client URLs on the way. */
static Mq__V1__Reply *find_leader(struct joiner *j)
{
    char list[URLS_MAX];
    char *save = NULL;
    Mq__V1__Reply *found = NULL;

    pthread_mutex_lock(&j->mu);
    snprintf(list, sizeof list, "%s", j->urls);
    pthread_mutex_unlock(&j->mu);
    for (char *u = strtok_r(list, ",", &save);
         u != NULL && found == NULL && !atomic_load(&j->stop);
         u = strtok_r(NULL, ",", &save)) {
        Mq__V1__Reply *r = status(j, u);
        for (int hop = 0; r != NULL && hop < 2; hop++) {
            Mq__V1__StatusReply *st = r->status_reply;
            pthread_mutex_lock(&j->mu);
            for (size_t i = 0; i < st->n_members; i++) {
                add_url_locked(j, st->members[i]->client_url);
            }
            pthread_mutex_unlock(&j->mu);
            if (strcmp(st->role, "leader") == 0) {
                found = r;
                break;
            }
            char leader[MQ_URL_MAX];
            snprintf(leader, sizeof leader, "%s", st->leader_url);
            mq__v1__reply__free_unpacked(r, NULL);
            r = leader[0] ? status(j, leader) : NULL;
        }
        if (found == NULL && r != NULL) {
            mq__v1__reply__free_unpacked(r, NULL);
        }
    }
    return found;
}

/* Whether enough voters answer that the configuration without this node
 * keeps a majority: the leader and the other voters that answer a status
 * request naming that leader are counted (a node rejoining too knows no
 * leader: it takes no raft message). Sets *missing to one not counted. */
static int others_answer(struct joiner *j, const Mq__V1__StatusReply *st,
                         uint64_t *missing)
{
    size_t voters = 0, up = 0;
    for (size_t i = 0; i < st->n_members; i++) {
        const Mq__V1__Member *m = st->members[i];
        if (m->id == j->cfg->id || strcmp(m->role, "voter") != 0) {
            continue;
        }
        voters++;
        if (m->id == st->node_id) {
            up++;
            continue;
        }
        Mq__V1__Reply *r = m->client_url[0] ? status(j, m->client_url) : NULL;
        if (r == NULL || r->status_reply->leader_id != st->node_id) {
            *missing = m->id;
        } else {
            up++;
        }
        if (r != NULL) {
            mq__v1__reply__free_unpacked(r, NULL);
        }
    }
    return up >= voters / 2 + 1;
}

/* One step of the rejoin against the leader whose status is @st. Returns
 * 1 when the phase moved on. */
static int rejoin_step(struct joiner *j, const char *leader,
                       const Mq__V1__StatusReply *st)
{
    char redirect[MQ_URL_MAX];
    uint64_t missing = 0;
    mq_err rv;

    if (atomic_load(&j->phase) == 1) {
        if (!others_answer(j, st, &missing)) {
            if (j->waits++ % 30 == 0) {
                LOG_INFO("rejoin: waiting for node %llu to answer before "
                         "asking the cluster to remove node %llu",
                         (unsigned long long)missing,
                         (unsigned long long)j->cfg->id);
            }
            return 0;
        }
        rv = ask(j, leader, 1, redirect, sizeof redirect);
        if (rv != MQ_OK && rv != MQ_ERR_NOT_FOUND) {
            return 0;
        }
        /* The removal is committed: any leader from now on has at least
         * the term of the one that committed it. */
        Mq__V1__Reply *r = status(j, leader);
        if (r == NULL) {
            return 0;
        }
        struct repair_marker m = {.phase = 2, .floor = r->status_reply->term};
        mq__v1__reply__free_unpacked(r, NULL);
        struct errmsg e = ERRMSG_INIT;
        pthread_mutex_lock(&j->mu);
        snprintf(m.urls, sizeof m.urls, "%s", j->urls);
        pthread_mutex_unlock(&j->mu);
        if (repair_marker_write(j->cfg->data_dir, &m, &e) != MQ_OK) {
            LOG_ERROR("rejoin: %s", e.msg);
            return 0;
        }
        LOG_INFO("rejoin: the cluster removed node %llu (term %llu); asking "
                 "to add it again",
                 (unsigned long long)j->cfg->id, (unsigned long long)m.floor);
        atomic_store(&j->floor, m.floor);
        atomic_store(&j->phase, 2);
        return 1;
    }
    rv = ask(j, leader, 0, redirect, sizeof redirect);
    if (rv != MQ_OK) {
        return 0;
    }
    LOG_INFO("rejoin: the cluster added node %llu again as a voter",
             (unsigned long long)j->cfg->id);
    atomic_store(&j->phase, 3);
    return 1;
}

static void *rejoin_main(void *arg)
{
    struct joiner *j = arg;

    LOG_INFO("rejoin: asking the cluster to remove node %llu and add it "
             "again as a new member (phase %u)",
             (unsigned long long)j->cfg->id, atomic_load(&j->phase));
    while (!atomic_load(&j->stop) && atomic_load(&j->phase) < 3) {
        Mq__V1__Reply *r = find_leader(j);
        if (r == NULL) {
            if (j->waits++ % 30 == 0) {
                LOG_INFO("rejoin: no leader found yet among the nodes heard "
                         "from");
            }
            pause_ms(j, 1000);
            continue;
        }
        char leader[MQ_URL_MAX];
        snprintf(leader, sizeof leader, "%s", r->status_reply->client_url);
        int moved = rejoin_step(j, leader, r->status_reply);
        mq__v1__reply__free_unpacked(r, NULL);
        if (!moved) {
            pause_ms(j, 1000);
        }
    }
    return NULL;
}

static void free_joiner(struct joiner *j)
{
    if (j->token != NULL) {
        memset(j->token, 0, strlen(j->token));
        mq_free(j->token);
    }
    mq_free(j);
}

static mq_err start(struct joiner **out, const struct config *cfg,
                    void *(*main_fn)(void *), uint32_t phase, uint64_t floor,
                    const char *urls, const char *token)
{
    struct joiner *j = mq_calloc(1, sizeof *j);
    if (j == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    if (token != NULL && token[0] != '\0' &&
        (j->token = mq_strdup(token)) == NULL) {
        mq_free(j);
        return MQ_ERR_NO_MEMORY;
    }
    j->cfg = cfg;
    atomic_init(&j->stop, 0);
    atomic_init(&j->phase, phase);
    atomic_init(&j->floor, floor);
    pthread_mutex_init(&j->mu, NULL);
    join_set_urls(j, urls);
    if (pthread_create(&j->thread, NULL, main_fn, j) != 0) {
        pthread_mutex_destroy(&j->mu);
        free_joiner(j);
        return MQ_ERR_NO_MEMORY;
    }
    *out = j;
    return MQ_OK;
}

mq_err join_start(struct joiner **out, const struct config *cfg,
                  const char *token)
{
    return start(out, cfg, join_main, 0, 0, "", token);
}

mq_err join_start_rejoin(struct joiner **out, const struct config *cfg,
                         uint32_t phase, uint64_t floor, const char *urls,
                         const char *token)
{
    return start(out, cfg, rejoin_main, phase, floor, urls, token);
}

void join_stop(struct joiner *j)
{
    if (j == NULL) {
        return;
    }
    atomic_store(&j->stop, 1);
    pthread_mutex_lock(&j->mu);
    if (j->sock_open) {
        nng_close(j->sock); /* ends a wait for a reply */
        j->sock_open = 0;
    }
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->thread, NULL);
    pthread_mutex_destroy(&j->mu);
    free_joiner(j);
}
