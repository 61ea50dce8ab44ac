/* status.c: mq_cluster_status and mq_cluster_status_all. Every node of
 * the user's list is asked at once (no redirects, no retries), each for at
 * most the attempt timeout; for _all, then every member that their answers
 * name and that was not asked, the same way, in rounds until no answer
 * names a member not asked (each round waits at most the attempt timeout;
 * a round asks only nodes not asked before, so there are few). */
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "conn.h"
#include "lasterr.h"

void status_from_pb(mq_node_status *out, const Mq__V1__StatusReply *r)
{
    out->id = r->node_id;
    snprintf(out->role, sizeof out->role, "%s", r->role != NULL ? r->role : "");
    out->term = r->term;
    out->commit_index = r->commit_index;
    out->applied_index = r->applied_index;
    out->last_index = r->last_index;
    out->snapshot_index = r->snapshot_index;
    out->leader_id = r->leader_id;
    snprintf(out->leader_url, sizeof out->leader_url, "%s",
             r->leader_url != NULL ? r->leader_url : "");
    out->log_bytes = r->log_bytes;
    out->snapshot_bytes = r->snapshot_bytes;
    out->disk_free_bytes = r->disk_free_bytes;
    out->memory_bytes = r->memory_bytes;
    out->memory_budget_bytes = r->memory_budget_bytes;
    out->ids_bytes = r->ids_bytes;
    out->ids_budget_bytes = r->ids_budget_bytes;
    out->ids_evicted = r->ids_evicted;
    out->clock_skew_node = r->clock_skew_node;
    out->clock_skew_ms = r->clock_skew_ms;
    out->connections = r->connections;
    out->waiting_fetches = r->waiting_fetches;
    out->requests_active = r->requests_active;
    out->replies_not_sent = r->replies_not_sent;
    out->auth = r->auth != 0;
    snprintf(out->key, sizeof out->key, "%s",
             r->key_name != NULL ? r->key_name : "");
    out->tls_cert_not_after_ms = r->tls_cert_not_after_ms;
    out->peer_tls_cert_not_after_ms = r->peer_tls_cert_not_after_ms;
    out->voters = 0;
    for (size_t i = 0; i < r->n_members; i++) {
        const char *role = r->members[i]->role;
        if (role == NULL || role[0] == '\0' || strcmp(role, "voter") == 0) {
            out->voters++;
        }
    }
}

/* A member named in an answer: its id and client URL. */
struct named {
    uint64_t id;
    char url[MQ_URL_MAX];
};

/* Fills @list[0..n) (url set) from @ans, frees the replies, and adds to
 * @named (*n_named, at most CONN_NODES_MAX; NULL: none) the members the
 * answers name that it does not hold yet. Returns how many answered. */
static size_t take_answers(mq_node_status *list, struct conn_answer *ans,
                           size_t n, struct named *named, size_t *n_named)
{
    size_t answered = 0;

    for (size_t i = 0; i < n; i++) {
        mq_node_status *s = &list[i];
        s->err = ans[i].err;
        if (ans[i].err == MQ_OK &&
            ans[i].reply->body_case != MQ__V1__REPLY__BODY_STATUS_REPLY) {
            s->err = MQ_ERR_PROTOCOL;
            snprintf(ans[i].why, sizeof ans[i].why,
                     "%s: the reply is not a status reply", s->url);
        }
        if (s->err == MQ_OK) {
            const Mq__V1__StatusReply *r = ans[i].reply->status_reply;
            status_from_pb(s, r);
            answered++;
            for (size_t k = 0; named != NULL && k < r->n_members; k++) {
                const Mq__V1__Member *m = r->members[k];
                size_t j = 0;
                while (j < *n_named && named[j].id != m->id) {
                    j++;
                }
                if (j == *n_named && j < CONN_NODES_MAX) {
                    named[j].id = m->id;
                    named[j].url[0] = '\0';
                    (*n_named)++;
                }
                if (j < *n_named && named[j].url[0] == '\0' &&
                    m->client_url != NULL) {
                    snprintf(named[j].url, sizeof named[j].url, "%s",
                             m->client_url);
                }
            }
        } else {
            snprintf(s->error, sizeof s->error, "%s", ans[i].why);
        }
        if (ans[i].reply != NULL) {
            mq__v1__reply__free_unpacked(ans[i].reply, NULL);
            ans[i].reply = NULL;
        }
    }
    return answered;
}

/* Whether member @m has an entry in @list[0..n): it answered there, or its
 * URL was asked (an entry that did not answer then gets its id); a member
 * whose client URL is not known counts as one of the entries that did not
 * answer, if any (it may be one of them). */
static int listed(mq_node_status *list, size_t n, const struct named *m)
{
    int unanswered = 0;

    for (size_t i = 0; i < n; i++) {
        if (list[i].err == MQ_OK && list[i].id == m->id) {
            return 1;
        }
        if (m->url[0] != '\0' && strcmp(list[i].url, m->url) == 0) {
            if (list[i].err != MQ_OK && list[i].id == 0) {
                list[i].id = m->id;
            }
            return 1;
        }
        unanswered |= list[i].err != MQ_OK && list[i].id == 0;
    }
    return m->url[0] == '\0' && unanswered;
}

/* Asks the members of @named (*@n_named) that @list[0..*n) lacks and
 * whose client URL is known, appending an entry for each (@list has room
 * for CONN_NODES_MAX more), and adds to @named the members their answers
 * name. An entry of a member that did not answer keeps the member's id.
 * Sets *asked to how many were asked; returns how many answered. */
static size_t ask_round(mq_client *c, const Mq__V1__Request *req, uint32_t wait,
                        mq_node_status *list, size_t *n, size_t room,
                        struct named *named, size_t *n_named, size_t *asked)
{
    struct conn_answer ans[CONN_NODES_MAX];
    size_t idx[CONN_NODES_MAX], k_asked = 0, answered = 0;
    mq_node_status *first = &list[*n];

    for (size_t k = 0; k < *n_named && k_asked < room; k++) {
        const struct named *m = &named[k];
        long i;
        if (m->url[0] == '\0' || listed(list, *n + k_asked, m) ||
            (i = conn_node_for(c->conn, m->url)) < 0) {
            continue;
        }
        mq_node_status *s = &first[k_asked];
        memset(s, 0, sizeof *s);
        s->id = m->id;
        snprintf(s->url, sizeof s->url, "%s", conn_url(c->conn, (size_t)i));
        idx[k_asked++] = (size_t)i;
    }
    if (k_asked > 0) {
        conn_ask_nodes(c->conn, req, idx, k_asked, wait, ans);
        answered = take_answers(first, ans, k_asked, named, n_named);
    }
    *n += k_asked;
    *asked = k_asked;
    return answered;
}

/* Asks, in rounds, every member that the answers name and @list[0..*n)
 * lacks (a follower may know the client URL of the leader alone; the
 * leader knows every member's), then appends an entry for each member
 * still missing that cannot be asked (no client URL known, no socket
 * left). @list has room for CONN_NODES_MAX more. Returns how many
 * answered. */
static size_t ask_members(mq_client *c, const Mq__V1__Request *req,
                          uint32_t wait, mq_node_status *list, size_t *n,
                          struct named *named, size_t *n_named)
{
    size_t start = *n, answered = 0, asked;

    do {
        answered +=
            ask_round(c, req, wait, list, n, CONN_NODES_MAX - (*n - start),
                      named, n_named, &asked);
    } while (asked > 0 && *n - start < CONN_NODES_MAX);
    for (size_t k = 0; k < *n_named && *n - start < CONN_NODES_MAX; k++) {
        const struct named *m = &named[k];
        if (listed(list, *n, m)) {
            continue;
        }
        mq_node_status *s = &list[(*n)++];
        memset(s, 0, sizeof *s);
        s->id = m->id;
        s->err = MQ_ERR_UNAVAILABLE;
        snprintf(s->url, sizeof s->url, "%s", m->url);
        if (m->url[0] == '\0') {
            snprintf(s->error, sizeof s->error,
                     "node %llu: its client URL is not known yet",
                     (unsigned long long)s->id);
        } else {
            snprintf(s->error, sizeof s->error, "node %llu: %s: not asked",
                     (unsigned long long)s->id, s->url);
        }
    }
    return answered;
}

/* mq_cluster_status, and with @members mq_cluster_status_all. */
static mq_err cluster_status(mq_client *c, int members, mq_node_status **out,
                             size_t *n, uint32_t timeout_ms)
{
    Mq__V1__StatusRequest sr = MQ__V1__STATUS_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    struct named named[CONN_NODES_MAX];
    struct conn_answer *ans;
    mq_node_status *list;
    size_t count, answered, n_named = 0;
    uint64_t wait;

    if (c == NULL || out == NULL || n == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "status: an argument is NULL");
    }
    *out = NULL;
    *n = 0;
    count = conn_user_count(c->conn);
    list = calloc(count + (members ? CONN_NODES_MAX : 0), sizeof *list);
    ans = calloc(count, sizeof *ans);
    if (list == NULL || ans == NULL) {
        free(list);
        free(ans);
        return lasterr_fail(MQ_ERR_NO_MEMORY, "status: out of memory");
    }
    wait = client_timeout(c, timeout_ms);
    if (wait > c->opts.attempt_timeout_ms) {
        wait = c->opts.attempt_timeout_ms;
    }
    req.body_case = MQ__V1__REQUEST__BODY_STATUS;
    req.status = &sr;
    conn_ask_each(c->conn, &req, (uint32_t)wait, ans);
    for (size_t i = 0; i < count; i++) {
        snprintf(list[i].url, sizeof list[i].url, "%s", conn_url(c->conn, i));
    }
    answered = take_answers(list, ans, count, members ? named : NULL, &n_named);
    free(ans);
    if (members) {
        answered +=
            ask_members(c, &req, (uint32_t)wait, list, &count, named, &n_named);
    }
    if (answered == 0) {
        mq_err rv = MQ_ERR_NOT_DONE;
        char msg[LASTERR_SIZE];
        size_t len =
            (size_t)snprintf(msg, sizeof msg, "status: no node answered");
        for (size_t i = 0; i < count; i++) {
            if (len < sizeof msg) {
                len += (size_t)snprintf(msg + len, sizeof msg - len, "; %s",
                                        list[i].error);
            }
            if (list[i].err == MQ_ERR_TIMEOUT) {
                rv = MQ_ERR_TIMEOUT;
            }
        }
        lasterr_set("%s", msg);
        free(list);
        return rv;
    }
    *out = list;
    *n = count;
    return MQ_OK;
}

MQ_API mq_err mq_cluster_status(mq_client *c, mq_node_status **out, size_t *n,
                                uint32_t timeout_ms)
{
    return cluster_status(c, 0, out, n, timeout_ms);
}

MQ_API mq_err mq_cluster_status_all(mq_client *c, mq_node_status **out,
                                    size_t *n, uint32_t timeout_ms)
{
    return cluster_status(c, 1, out, n, timeout_ms);
}

MQ_API void mq_status_free(mq_node_status *list)
{
    free(list);
}
