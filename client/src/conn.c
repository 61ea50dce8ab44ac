/* conn.c: which node a request goes to, and its retries (conn.h).
 *
 * Happy path: conn_call packs the request once and sends it to the known
 * leader, or for a follower read to the remembered reader or the first node
 * that is not the leader (for a read with no leader known, it first asks
 * the node at the cursor which node leads); the reply has status OK; a
 * write's answering node is remembered as the leader, a follower read's as
 * the reader.
 *
 * Failure modes, each a retryable error that moves the call to another node
 * as retry.h decides: the node is not connected in time (the request was
 * not sent), the connection drops after the send, no reply comes within the
 * attempt timeout (nodesock.h), or the reply's status is retryable
 * (NOT_LEADER with or without the leader's URL, NOT_DONE, TIMEOUT,
 * UNAVAILABLE). The request is resent unchanged, so a retried publish
 * carries the same ids and the node's dedup makes the retry harmless. A
 * non-retryable status ends the call at once with the node's detail.
 *
 * Out of time, the call says whether it may have been carried out: an
 * attempt whose node got the request and did not say "not done" (the
 * connection dropped after the send, no reply, a reply UNAVAILABLE or
 * TIMEOUT) makes the outcome unknown; otherwise (never sent, NOT_LEADER,
 * NOT_DONE) nothing was done, and the call fails with NOT_DONE. */
#include "conn.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "errors.h"
#include "lasterr.h"
#include "retry.h"

/* conn_call keeps the nodes it tried in a 64-bit mask. */
_Static_assert(CONN_NODES_MAX <= 64, "CONN_NODES_MAX must fit a uint64_t");

struct conn {
    pthread_mutex_t lock; /* guards nodes, n, leader, reader, cursor */
    pthread_cond_t wake;  /* broadcast on shutdown; monotonic clock */
    struct nodesock *nodes[CONN_NODES_MAX];
    size_t n;      /* grows only; nodes never move */
    size_t n_user; /* the user's URLs: nodes[0..n_user) */
    long leader;   /* index of the known leader, -1 */
    long reader;   /* the follower that answered the last follower read */
    size_t cursor; /* where a call starts when no leader is known */
    size_t spread; /* random: where follower reads start looking */
    _Atomic int closed;
    _Atomic uint64_t written; /* conn_written_index */
    uint32_t attempt_timeout_ms;
    char *token;              /* sent in every request; NULL: none */
    struct tlsdiag_files tls; /* for tls+tcp:// URLs */
};

mq_err conn_new(struct conn **out, char *const *urls, size_t n,
                uint32_t attempt_timeout_ms, const struct tlsdiag_files *tls)
{
    struct conn *cn;
    pthread_condattr_t ca;
    mq_err rv;

    *out = NULL;
    if (n == 0 || n > CONN_NODES_MAX) {
        return lasterr_fail(MQ_ERR_INVALID, "need 1..%d node URLs, not %zu",
                            CONN_NODES_MAX, n);
    }
    cn = calloc(1, sizeof *cn);
    if (cn == NULL) {
        return lasterr_fail(MQ_ERR_NO_MEMORY, "out of memory");
    }
    pthread_mutex_init(&cn->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cn->wake, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&cn->closed, 0);
    atomic_init(&cn->written, 0);
    cn->leader = -1;
    cn->reader = -1;
    /* Clients started together read from different followers. */
    if (getrandom(&cn->spread, sizeof cn->spread, GRND_NONBLOCK) !=
        (ssize_t)sizeof cn->spread) {
        cn->spread = (size_t)retry_now_ms() ^ (size_t)(uintptr_t)cn;
    }
    cn->attempt_timeout_ms = attempt_timeout_ms;
    if (tls != NULL) {
        cn->tls = *tls;
    }
    for (size_t i = 0; i < n; i++) {
        rv = nodesock_new(&cn->nodes[i], urls[i], &cn->tls);
        if (rv != MQ_OK) {
            conn_free(cn);
            return rv;
        }
        cn->n = i + 1;
    }
    cn->n_user = n;
    *out = cn;
    return MQ_OK;
}

void conn_shutdown(struct conn *cn)
{
    size_t n;

    pthread_mutex_lock(&cn->lock);
    if (atomic_exchange(&cn->closed, 1)) {
        pthread_mutex_unlock(&cn->lock);
        return;
    }
    n = cn->n;
    pthread_cond_broadcast(&cn->wake);
    pthread_mutex_unlock(&cn->lock);
    /* Outside the lock: nng_close waits for callbacks. No node is added
     * once closed is set, so nodes[0..n) is all of them. */
    for (size_t i = 0; i < n; i++) {
        nodesock_close(cn->nodes[i]);
    }
}

void conn_free(struct conn *cn)
{
    if (cn == NULL) {
        return;
    }
    conn_shutdown(cn);
    for (size_t i = 0; i < cn->n; i++) {
        nodesock_free(cn->nodes[i]);
    }
    if (cn->token != NULL) {
        explicit_bzero(cn->token, strlen(cn->token));
        free(cn->token);
    }
    pthread_cond_destroy(&cn->wake);
    pthread_mutex_destroy(&cn->lock);
    free(cn);
}

size_t conn_user_count(const struct conn *cn)
{
    return cn->n_user;
}

const char *conn_url(const struct conn *cn, size_t i)
{
    return cn->nodes[i]->url;
}

long conn_node_for(struct conn *cn, const char *url)
{
    long idx = -1;

    if (url == NULL || url[0] == '\0' || strlen(url) >= MQ_URL_MAX) {
        return -1;
    }
    pthread_mutex_lock(&cn->lock);
    for (size_t k = 0; k < cn->n && idx < 0; k++) {
        if (strcmp(cn->nodes[k]->url, url) == 0) {
            idx = (long)k;
        }
    }
    if (idx < 0 && cn->n < CONN_NODES_MAX && !atomic_load(&cn->closed)) {
        struct nodesock *ns;
        if (nodesock_new(&ns, url, &cn->tls) == MQ_OK) {
            cn->nodes[cn->n] = ns;
            idx = (long)cn->n++;
        }
    }
    pthread_mutex_unlock(&cn->lock);
    return idx;
}

uint64_t conn_written_index(struct conn *cn)
{
    return atomic_load(&cn->written);
}

void conn_note_written(struct conn *cn, uint64_t index)
{
    uint64_t v = atomic_load_explicit(&cn->written, memory_order_relaxed);

    while (index > v &&
           !atomic_compare_exchange_weak(&cn->written, &v, index)) {
    }
}

mq_err conn_sleep(struct conn *cn, uint32_t ms)
{
    struct timespec ts;
    mq_err rv = MQ_OK;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&cn->lock);
    while (!atomic_load(&cn->closed)) {
        if (pthread_cond_timedwait(&cn->wake, &cn->lock, &ts) != 0) {
            break; /* ETIMEDOUT */
        }
    }
    if (atomic_load(&cn->closed)) {
        rv = MQ_ERR_CANCELED;
    }
    pthread_mutex_unlock(&cn->lock);
    return rv;
}

/* ---- leader bookkeeping ---------------------------------------------- */

static struct nodesock *node_at(struct conn *cn, size_t i)
{
    struct nodesock *ns;

    pthread_mutex_lock(&cn->lock);
    ns = cn->nodes[i];
    pthread_mutex_unlock(&cn->lock);
    return ns;
}

static size_t node_count(struct conn *cn)
{
    size_t n;

    pthread_mutex_lock(&cn->lock);
    n = cn->n;
    pthread_mutex_unlock(&cn->lock);
    return n;
}

static long leader_of(struct conn *cn)
{
    long l;

    pthread_mutex_lock(&cn->lock);
    l = cn->leader;
    pthread_mutex_unlock(&cn->lock);
    return l;
}

static size_t pick_start(struct conn *cn)
{
    size_t i;

    pthread_mutex_lock(&cn->lock);
    i = cn->leader >= 0 ? (size_t)cn->leader : cn->cursor % cn->n;
    pthread_mutex_unlock(&cn->lock);
    return i;
}

/* Where a follower read starts: the reader if it is not the leader, else
 * the first node that is not the leader from a random one on (so that
 * clients spread over the followers), else the leader. */
static size_t pick_reader(struct conn *cn)
{
    size_t i;

    pthread_mutex_lock(&cn->lock);
    i = cn->cursor % cn->n;
    if (cn->reader >= 0 && cn->reader != cn->leader) {
        i = (size_t)cn->reader;
    } else {
        for (size_t k = 0; k < cn->n; k++) {
            size_t j = (cn->cursor + cn->spread + k) % cn->n;
            if ((long)j != cn->leader) {
                i = j;
                break;
            }
        }
    }
    pthread_mutex_unlock(&cn->lock);
    return i;
}

/* A follower read's next node after @next was chosen: not the leader while
 * a node in @tried (a bit per index) has not been tried. */
static size_t avoid_leader(struct conn *cn, size_t next, uint64_t tried)
{
    pthread_mutex_lock(&cn->lock);
    if ((long)next == cn->leader) {
        for (size_t k = 1; k < cn->n; k++) {
            size_t j = (next + k) % cn->n;
            if ((long)j != cn->leader && !(tried & (UINT64_C(1) << j))) {
                next = j;
                break;
            }
        }
    }
    pthread_mutex_unlock(&cn->lock);
    return next;
}

/* The next attempt's node, @next, unless it lost its connections (a dead
 * node: an attempt there would wait NODESOCK_CONNECT_WAIT_MS for nothing)
 * while another node is connected: then that one, which answers or names
 * the leader. During a failover this keeps a call off the dead leader. */
static size_t skip_lost(struct conn *cn, size_t next)
{
    pthread_mutex_lock(&cn->lock);
    if (next < cn->n && nodesock_lost(cn->nodes[next])) {
        for (size_t k = 1; k < cn->n; k++) {
            size_t j = (next + k) % cn->n;
            if (nodesock_connected(cn->nodes[j])) {
                next = j;
                break;
            }
        }
    }
    pthread_mutex_unlock(&cn->lock);
    return next;
}

static void note_leader(struct conn *cn, size_t i)
{
    pthread_mutex_lock(&cn->lock);
    cn->leader = (long)i;
    pthread_mutex_unlock(&cn->lock);
}

static void note_reader(struct conn *cn, size_t i)
{
    pthread_mutex_lock(&cn->lock);
    if ((long)i != cn->leader) {
        cn->reader = (long)i;
    }
    pthread_mutex_unlock(&cn->lock);
}

/* Node @i failed: start the next calls elsewhere. */
static void note_down(struct conn *cn, size_t i)
{
    pthread_mutex_lock(&cn->lock);
    if (cn->leader == (long)i) {
        cn->leader = -1;
    }
    if (cn->reader == (long)i) {
        cn->reader = -1;
    }
    if (cn->cursor % cn->n == i) {
        cn->cursor = i + 1;
    }
    pthread_mutex_unlock(&cn->lock);
}

/* Node @i named @url (may be "") as the leader. Returns the index of the
 * leader's node, opened now if it was not known, or -1. */
static long note_leader_url(struct conn *cn, size_t i, const char *url)
{
    long hint = -1;

    pthread_mutex_lock(&cn->lock);
    if (url != NULL && url[0] != '\0' && strlen(url) < MQ_URL_MAX) {
        for (size_t k = 0; k < cn->n; k++) {
            if (strcmp(cn->nodes[k]->url, url) == 0) {
                hint = (long)k;
                break;
            }
        }
        if (hint < 0 && cn->n < CONN_NODES_MAX && !atomic_load(&cn->closed)) {
            struct nodesock *ns;
            /* nng dials without blocking: cheap enough under the lock. */
            if (nodesock_new(&ns, url, &cn->tls) == MQ_OK) {
                cn->nodes[cn->n] = ns;
                hint = (long)cn->n++;
            }
        }
    }
    if (hint >= 0) {
        cn->leader = hint;
    } else if (cn->leader == (long)i) {
        cn->leader = -1;
    }
    pthread_mutex_unlock(&cn->lock);
    return hint;
}

mq_err conn_set_token(struct conn *cn, const char *token)
{
    char *copy = NULL;
    if (token != NULL && token[0] != '\0' && (copy = strdup(token)) == NULL) {
        return lasterr_fail(MQ_ERR_NO_MEMORY, "out of memory");
    }
    cn->token = copy;
    return MQ_OK;
}

/* ---- calls ----------------------------------------------------------- */

/* Packs @req with the client's token into a new buffer (freed with
 * free_request, which wipes the token: protobuf-c packs fields in number
 * order, so it is at the end). */
static mq_err pack_request(const struct conn *cn, const Mq__V1__Request *req,
                           uint8_t **buf, size_t *len)
{
    Mq__V1__Request copy = *req;
    if (cn->token != NULL) {
        copy.token = cn->token;
    }
    *len = mq__v1__request__get_packed_size(&copy);
    *buf = malloc(*len == 0 ? 1 : *len);
    if (*buf == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    mq__v1__request__pack(&copy, *buf);
    return MQ_OK;
}

static void free_request(const struct conn *cn, uint8_t *buf, size_t len)
{
    if (buf != NULL && cn->token != NULL) {
        size_t tail = strlen(cn->token) + 4; /* the field's tag and length */
        explicit_bzero(buf + (len > tail ? len - tail : 0),
                       len > tail ? tail : len);
    }
    free(buf);
}

/* One exchange of @buf with node @i, ending by @deadline_ms. */
static mq_err exchange(struct conn *cn, size_t i, const uint8_t *buf,
                       size_t len, uint64_t deadline_ms, Mq__V1__Reply **out,
                       char *why)
{
    struct nodesock_xchg x;
    mq_err rv;

    rv = nodesock_start(&x, node_at(cn, i), buf, len, deadline_ms,
                        NODESOCK_CONNECT_WAIT_MS, why);
    if (rv == MQ_OK) {
        rv = nodesock_finish(&x, out, why);
    }
    nodesock_end(&x);
    if (rv == MQ_ERR_UNAVAILABLE || rv == MQ_ERR_TIMEOUT ||
        rv == MQ_ERR_NOT_DONE) {
        note_down(cn, i);
    }
    return rv;
}

/* Reads want the freshest node, the leader, and follower reads want to
 * avoid it. With none known, asks the node at the cursor which node leads
 * (one StatusRequest, one attempt). A failure only means the read starts at
 * that node anyway. */
static void discover_leader(struct conn *cn, uint64_t deadline_ms)
{
    Mq__V1__StatusRequest sr = MQ__V1__STATUS_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    char why[CONN_WHY_MAX];
    uint8_t *buf;
    size_t len;
    uint64_t end = retry_now_ms() + cn->attempt_timeout_ms;
    size_t i = pick_start(cn);
    Mq__V1__Reply *r;
    mq_err rv;

    req.body_case = MQ__V1__REQUEST__BODY_STATUS;
    req.status = &sr;
    if (pack_request(cn, &req, &buf, &len) != MQ_OK) {
        return;
    }
    if (end > deadline_ms) {
        end = deadline_ms;
    }
    rv = exchange(cn, i, buf, len, end, &r, why);
    free_request(cn, buf, len);
    if (rv != MQ_OK) {
        return;
    }
    if (r->status == MQ__V1__STATUS__STATUS_OK &&
        r->body_case == MQ__V1__REPLY__BODY_STATUS_REPLY) {
        const Mq__V1__StatusReply *s = r->status_reply;
        if (s->role != NULL && strcmp(s->role, "leader") == 0) {
            note_leader(cn, i);
        } else {
            note_leader_url(cn, i, s->leader_url);
        }
    }
    mq__v1__reply__free_unpacked(r, NULL);
}

/* Sets mq_errmsg for a reply's non-retryable status. The node's detail
 * may already start with our context; it is not repeated then. */
static void fail_from_reply(const char *what, const Mq__V1__Reply *r, mq_err st)
{
    const char *detail =
        r->detail != NULL && r->detail[0] != '\0' ? r->detail : mq_strerror(st);
    size_t wlen = strlen(what);

    if (strncmp(detail, what, wlen) == 0 && detail[wlen] == ':') {
        lasterr_set("%s", detail);
    } else {
        lasterr_set("%s: %s", what, detail);
    }
}

/* One attempt of @call on node @i. On MQ_OK *out is a reply with status OK;
 * a retryable status is returned as the error with *hint set. Sets node
 * @i's bit in *answered when it replied at all. */
static mq_err attempt(struct conn *cn, const struct conn_call *call, size_t i,
                      const uint8_t *buf, size_t len, uint64_t deadline_ms,
                      Mq__V1__Reply **out, long *hint, uint64_t *answered,
                      char *why)
{
    const char *url = node_at(cn, i)->url;
    Mq__V1__Reply *r;
    mq_err rv, st;

    *out = NULL;
    *hint = -1;
    rv = exchange(cn, i, buf, len, deadline_ms, &r, why);
    if (rv != MQ_OK) {
        return rv;
    }
    *answered |= UINT64_C(1) << i;
    st = err_from_status(r->status);
    if (st == MQ_OK) {
        conn_note_written(cn, r->index); /* a write's entry, or 0 */
        if (call->route == CONN_LEADER) {
            note_leader(cn, i);
        } else if (call->route == CONN_FOLLOWER) {
            note_reader(cn, i);
        }
        *out = r;
        return MQ_OK;
    }
    if (!mq_err_retryable(st)) {
        fail_from_reply(call->what, r, st);
        mq__v1__reply__free_unpacked(r, NULL);
        return st;
    }
    if (st == MQ_ERR_NOT_LEADER) {
        *hint = note_leader_url(cn, i, r->leader_url);
        snprintf(why, CONN_WHY_MAX, "%s is not the leader%s%s", url,
                 *hint >= 0 ? "; leader is " : " and knows no leader",
                 *hint >= 0 ? r->leader_url : "");
    } else {
        note_down(cn, i);
        snprintf(why, CONN_WHY_MAX, "%s: %s", url,
                 r->detail != NULL && r->detail[0] != '\0' ? r->detail
                                                           : mq_strerror(st));
    }
    mq__v1__reply__free_unpacked(r, NULL);
    return st;
}

/* Whether a failed attempt's @rv leaves its outcome unknown: the node got
 * the request and may have carried it out. The other retryable failures
 * (not sent, NOT_LEADER, NOT_DONE) are certainly not done. */
static int outcome_unknown(mq_err rv)
{
    return rv == MQ_ERR_UNAVAILABLE || rv == MQ_ERR_TIMEOUT;
}

/* The nodes that answered during a call (@answered, a bit per index) or
 * are connected now, and (*n) how many nodes the client knows. */
static size_t count_reachable(struct conn *cn, uint64_t answered, size_t *n)
{
    size_t reach = 0;

    pthread_mutex_lock(&cn->lock);
    *n = cn->n;
    for (size_t i = 0; i < cn->n; i++) {
        reach += (answered & (UINT64_C(1) << i)) != 0 ||
                 nodesock_connected(cn->nodes[i]);
    }
    pthread_mutex_unlock(&cn->lock);
    return reach;
}

/* Ends a call whose retries ran out of time: UNAVAILABLE or TIMEOUT
 * (@unknown, the last attempt that may have been carried out) if any
 * attempt may have been, else NOT_DONE, saying "no quorum" when at most
 * half of the nodes known could be reached. */
static mq_err give_up(struct conn *cn, const struct conn_call *call,
                      mq_err unknown, uint64_t answered, const char *said,
                      const char *why)
{
    unsigned long long ms = (unsigned long long)call->timeout_ms;
    size_t n, reach = count_reachable(cn, answered, &n);
    int quorum_lost = n >= 2 && 2 * reach <= n;

    if (unknown != MQ_OK) {
        char quorum[64] = "";
        if (quorum_lost) {
            snprintf(quorum, sizeof quorum,
                     " (no quorum: %zu of %zu nodes reachable)", reach, n);
        }
        return lasterr_fail(unknown,
                            "%s: outcome unknown, it may have been carried "
                            "out: %s%s; gave up after %llu ms",
                            call->what, why, quorum, ms);
    }
    if (quorum_lost) {
        return lasterr_fail(MQ_ERR_NOT_DONE,
                            "%s: no quorum: %zu of %zu nodes reachable; not "
                            "done (%s%s%s); gave up after %llu ms",
                            call->what, reach, n, said, said[0] ? "; " : "",
                            why, ms);
    }
    return lasterr_fail(MQ_ERR_NOT_DONE,
                        "%s: not done: %s; gave up after %llu ms", call->what,
                        why, ms);
}

mq_err conn_call(struct conn *cn, const struct conn_call *call,
                 const Mq__V1__Request *req, Mq__V1__Reply **out)
{
    char why[CONN_WHY_MAX] = "", said[CONN_WHY_MAX] = "";
    struct retry r;
    struct retry_step step;
    uint8_t *buf;
    size_t len, i;
    uint64_t now, tried = 0, answered = 0; /* a bit per node index */
    mq_err rv, unknown = MQ_OK;

    *out = NULL;
    if (pack_request(cn, req, &buf, &len) != MQ_OK) {
        return lasterr_fail(MQ_ERR_NO_MEMORY, "%s: out of memory", call->what);
    }
    now = retry_now_ms();
    retry_init(&r, now, call->timeout_ms);
    if (call->route != CONN_LEADER && leader_of(cn) < 0) {
        discover_leader(cn, r.deadline_ms);
        now = retry_now_ms();
    }
    i = call->route == CONN_FOLLOWER ? pick_reader(cn) : pick_start(cn);
    i = skip_lost(cn, i);
    for (;;) {
        uint64_t attempt_end = now + cn->attempt_timeout_ms + call->extra_ms;
        long hint;

        if (call->stop != NULL && atomic_load(call->stop)) {
            rv = MQ_ERR_CANCELED;
            snprintf(why, sizeof why, "stopped");
            break;
        }
        if (attempt_end > r.deadline_ms) {
            attempt_end = r.deadline_ms;
        }
        uint64_t answered_before = answered;
        tried |= UINT64_C(1) << i;
        rv = attempt(cn, call, i, buf, len, attempt_end, out, &hint, &answered,
                     why);
        if (rv == MQ_OK) {
            free_request(cn, buf, len);
            return MQ_OK;
        }
        if (!mq_err_retryable(rv)) {
            free_request(cn, buf, len);
            if (rv == MQ_ERR_CANCELED) {
                return lasterr_fail(rv, "%s: canceled: the client is closing",
                                    call->what);
            }
            if (rv == MQ_ERR_PROTOCOL || rv == MQ_ERR_NO_MEMORY) {
                lasterr_set("%s: %s", call->what, why);
            }
            return rv; /* else mq_errmsg was set from the reply */
        }
        if (call->once) {
            free_request(cn, buf, len);
            return lasterr_fail(rv, "%s: %s", call->what, why);
        }
        if (outcome_unknown(rv)) {
            unknown = rv;
        }
        if (answered != answered_before) {
            /* What a reachable node said, for "no quorum". */
            snprintf(said, sizeof said, "%s", why);
        }
        now = retry_now_ms();
        if (retry_next(&r, now, node_count(cn), i, hint, &step) != 0) {
            break;
        }
        if (step.delay_ms > 0 &&
            conn_sleep(cn, step.delay_ms) == MQ_ERR_CANCELED) {
            rv = MQ_ERR_CANCELED;
            snprintf(why, sizeof why, "the client is closing");
            break;
        }
        i = call->route == CONN_FOLLOWER ? avoid_leader(cn, step.node, tried)
                                         : step.node;
        i = skip_lost(cn, i);
        now = retry_now_ms();
    }
    free_request(cn, buf, len);
    if (rv == MQ_ERR_CANCELED) {
        return lasterr_fail(rv, "%s: canceled: %s", call->what, why);
    }
    return give_up(cn, call, unknown, answered,
                   strcmp(said, why) != 0 ? said : "", why);
}

void conn_ask_each(struct conn *cn, const Mq__V1__Request *req,
                   uint32_t timeout_ms, struct conn_answer *ans)
{
    size_t idx[CONN_NODES_MAX];

    for (size_t i = 0; i < cn->n_user; i++) {
        idx[i] = i;
    }
    conn_ask_nodes(cn, req, idx, cn->n_user, timeout_ms, ans);
}

void conn_ask_nodes(struct conn *cn, const Mq__V1__Request *req,
                    const size_t *idx, size_t n, uint32_t timeout_ms,
                    struct conn_answer *ans)
{
    struct nodesock_xchg x[CONN_NODES_MAX];
    struct nodesock *ns[CONN_NODES_MAX];
    uint64_t deadline = retry_now_ms() + timeout_ms;
    uint8_t *buf;
    size_t len;

    for (size_t i = 0; i < n; i++) {
        ans[i].err = MQ_ERR_NO_MEMORY;
        ans[i].reply = NULL;
        snprintf(ans[i].why, sizeof ans[i].why, "out of memory");
        ns[i] = node_at(cn, idx[i]);
    }
    if (pack_request(cn, req, &buf, &len) != MQ_OK) {
        return;
    }
    /* Every send first, so that the nodes answer in parallel. No retry
     * follows, so a node gets longer to connect than in conn_call. */
    for (size_t i = 0; i < n; i++) {
        ans[i].err = nodesock_start(&x[i], ns[i], buf, len, deadline,
                                    CONN_ASK_CONNECT_WAIT_MS, ans[i].why);
    }
    for (size_t i = 0; i < n; i++) {
        Mq__V1__Reply *r = NULL;
        if (ans[i].err == MQ_OK) {
            ans[i].err = nodesock_finish(&x[i], &r, ans[i].why);
        }
        nodesock_end(&x[i]);
        if (ans[i].err == MQ_OK && r->status != MQ__V1__STATUS__STATUS_OK) {
            ans[i].err = err_from_status(r->status);
            snprintf(ans[i].why, sizeof ans[i].why, "%s: %s", ns[i]->url,
                     r->detail != NULL && r->detail[0] != '\0'
                         ? r->detail
                         : mq_strerror(ans[i].err));
            mq__v1__reply__free_unpacked(r, NULL);
            r = NULL;
        }
        ans[i].reply = r;
    }
    free_request(cn, buf, len);
}
