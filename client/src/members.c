/* members.c: membership and leadership, all answered by the leader
 * (CONN_LEADER: NOT_LEADER redirects and retryable errors, NOT_DONE
 * "another change is in progress" among them, are retried until the
 * deadline; INVALID, NOT_FOUND and EXISTS end a call at once).
 *
 * Happy paths: mq_members and mq_leader ask once. mq_node_add sends one request
 * that the leader answers once the new node is a voter, so its attempts last up
 * to the deadline instead of the attempt timeout. mq_node_remove lists the
 * members, then removes. mq_leader_transfer asks who leads, then sends one
 * transfer that the old leader answers once leadership has moved.
 *
 * Failure modes, and why each call is safe to repeat: the leader resumes an
 * add where it stands (a voter already in place succeeds). A remove whose
 * reply is lost (the leader removing itself) is retried and finds the node
 * gone: NOT_FOUND, which is success because the node was a member when the
 * call started. A transfer is never retried blindly (a second transfer
 * with target 0 would move leadership on again, possibly back): after a
 * failed attempt the leader is asked again who leads, and the call is done
 * once the target (or, with target 0, another node than the first leader)
 * leads; NOT_LEADER because leadership moved to the target during the
 * call ends that way too. */
#include "members.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "conn.h"
#include "lasterr.h"
#include "retry.h"

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src != NULL ? src : "");
}

void members_member_from_pb(mq_member *out, const Mq__V1__Member *pb,
                            uint64_t leader_id)
{
    memset(out, 0, sizeof *out);
    out->id = pb->id;
    copy_str(out->peer_url, sizeof out->peer_url, pb->peer_url);
    copy_str(out->client_url, sizeof out->client_url, pb->client_url);
    copy_str(out->role, sizeof out->role,
             pb->role != NULL && pb->role[0] != '\0' ? pb->role : "voter");
    out->leader = leader_id != 0 && pb->id == leader_id;
}

mq_err members_from_pb(const Mq__V1__MembersReply *pb, mq_member **out,
                       size_t *n)
{
    mq_member *list = calloc(pb->n_members + 1, sizeof *list);

    *out = NULL;
    *n = 0;
    if (list == NULL) {
        return lasterr_fail(MQ_ERR_NO_MEMORY, "list members: out of memory");
    }
    for (size_t i = 0; i < pb->n_members; i++) {
        members_member_from_pb(&list[i], pb->members[i], pb->leader_id);
    }
    *out = list;
    *n = pb->n_members;
    return MQ_OK;
}

int members_transfer_done(uint64_t target, uint64_t first, uint64_t now)
{
    if (target != 0) {
        return now == target;
    }
    return now != 0 && now != first;
}

/* ---- calls ----------------------------------------------------------- */

/* Time left until @deadline_ms, at least 1 ms (0 would mean "default"). */
static uint64_t time_left(uint64_t deadline_ms)
{
    uint64_t now = retry_now_ms();

    return deadline_ms > now ? deadline_ms - now : 1;
}

/* Runs @call with @req; with @want_members, the reply must carry a
 * MembersReply (else MQ_ERR_PROTOCOL). Sets *out as conn_call does. */
static mq_err members_call(mq_client *c, const struct conn_call *call,
                           const Mq__V1__Request *req, int want_members,
                           Mq__V1__Reply **out)
{
    mq_err rv = conn_call(c->conn, call, req, out);

    if (rv == MQ_OK && want_members &&
        ((*out)->body_case != MQ__V1__REPLY__BODY_MEMBERS ||
         (*out)->members == NULL)) {
        int got = (int)(*out)->body_case;
        mq__v1__reply__free_unpacked(*out, NULL);
        *out = NULL;
        return lasterr_fail(MQ_ERR_PROTOCOL,
                            "%s: the reply has body %d, not members",
                            call->what, got);
    }
    return rv;
}

/* Asks the leader for the members, as part of the call @what. */
static mq_err ask_members(mq_client *c, const char *what, uint64_t timeout_ms,
                          Mq__V1__Reply **out)
{
    Mq__V1__MembersRequest mr = MQ__V1__MEMBERS_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    struct conn_call call = {
        .what = what,
        .route = CONN_LEADER,
        .timeout_ms = timeout_ms,
    };

    req.body_case = MQ__V1__REQUEST__BODY_MEMBERS;
    req.members = &mr;
    return members_call(c, &call, &req, 1, out);
}

/* Node ids are raft ids: 1..UINT32_MAX (0 only where the call allows it,
 * @zero_ok). */
static mq_err check_node_id(uint64_t id, int zero_ok, const char *what)
{
    if ((id == 0 && !zero_ok) || id > UINT32_MAX) {
        return lasterr_fail(MQ_ERR_INVALID, "%s: node id %llu is not 1..%u",
                            what, (unsigned long long)id, UINT32_MAX);
    }
    return MQ_OK;
}

MQ_API mq_err mq_node_add(mq_client *c, uint64_t id, const char *peer_url,
                          uint32_t timeout_ms)
{
    Mq__V1__NodeAddRequest na = MQ__V1__NODE_ADD_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    struct conn_call call = {.route = CONN_LEADER};
    char what[MQ_URL_MAX + 48];
    Mq__V1__Reply *r = NULL;
    uint64_t total;
    mq_err rv;

    if (c == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "add node: client is NULL");
    }
    if ((rv = check_node_id(id, 0, "add node")) != MQ_OK) {
        return rv;
    }
    if (peer_url == NULL || strstr(peer_url, "://") == NULL ||
        strlen(peer_url) >= MQ_URL_MAX) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "add node %llu: peer URL \"%.*s\" is not a URL "
                            "such as tcp://10.0.0.4:7100 (at most %d bytes)",
                            (unsigned long long)id, 64,
                            peer_url != NULL ? peer_url : "", MQ_URL_MAX - 1);
    }
    snprintf(what, sizeof what, "add node %llu at %s", (unsigned long long)id,
             peer_url);
    total = timeout_ms;
    if (total == 0) {
        total = c->opts.timeout_ms > MEMBERS_ADD_TIMEOUT_MS
                    ? c->opts.timeout_ms
                    : MEMBERS_ADD_TIMEOUT_MS;
    }
    call.what = what;
    call.timeout_ms = total;
    call.extra_ms = (uint32_t)total; /* the leader answers once caught up */
    na.id = id;
    na.peer_url = (char *)peer_url;
    req.body_case = MQ__V1__REQUEST__BODY_NODE_ADD;
    req.node_add = &na;
    rv = members_call(c, &call, &req, 0, &r);
    if (r != NULL) {
        mq__v1__reply__free_unpacked(r, NULL);
    }
    return rv;
}

MQ_API mq_err mq_node_remove(mq_client *c, uint64_t id, uint32_t timeout_ms)
{
    Mq__V1__NodeRemoveRequest nr = MQ__V1__NODE_REMOVE_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    struct conn_call call = {.route = CONN_LEADER};
    Mq__V1__Reply *r = NULL;
    char what[48];
    uint64_t deadline;
    int member = 0;
    mq_err rv;

    if (c == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "remove node: client is NULL");
    }
    if ((rv = check_node_id(id, 0, "remove node")) != MQ_OK) {
        return rv;
    }
    snprintf(what, sizeof what, "remove node %llu", (unsigned long long)id);
    deadline = retry_now_ms() + client_timeout(c, timeout_ms);
    if ((rv = ask_members(c, what, time_left(deadline), &r)) != MQ_OK) {
        return rv;
    }
    for (size_t i = 0; i < r->members->n_members; i++) {
        member |= r->members->members[i]->id == id;
    }
    mq__v1__reply__free_unpacked(r, NULL);
    r = NULL;
    if (!member) {
        return lasterr_fail(MQ_ERR_NOT_FOUND, "%s: node %llu is not a member",
                            what, (unsigned long long)id);
    }
    call.what = what;
    call.timeout_ms = time_left(deadline);
    nr.id = id;
    req.body_case = MQ__V1__REQUEST__BODY_NODE_REMOVE;
    req.node_remove = &nr;
    rv = members_call(c, &call, &req, 0, &r);
    if (r != NULL) {
        mq__v1__reply__free_unpacked(r, NULL);
    }
    /* It was a member when the call started: an earlier attempt of this
     * call, whose reply was lost, removed it. */
    return rv == MQ_ERR_NOT_FOUND ? MQ_OK : rv;
}

/* One transfer attempt, to the leader the client knows (ask_members just
 * found it), waiting up to @timeout_ms for the leader's answer. Sets
 * *leader on MQ_OK. */
static mq_err transfer_once(mq_client *c, const char *what, uint64_t id,
                            uint64_t timeout_ms, uint64_t *leader)
{
    Mq__V1__LeaderTransferRequest lt = MQ__V1__LEADER_TRANSFER_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    struct conn_call call = {
        .what = what,
        .route = CONN_LEADER,
        .timeout_ms = timeout_ms,
        .extra_ms = (uint32_t)timeout_ms, /* answered once it has moved */
        .once = 1,
    };
    Mq__V1__Reply *r = NULL;
    mq_err rv;

    lt.id = id;
    req.body_case = MQ__V1__REQUEST__BODY_LEADER_TRANSFER;
    req.leader_transfer = &lt;
    rv = members_call(c, &call, &req, 1, &r);
    if (rv == MQ_OK) {
        *leader = r->members->leader_id;
        mq__v1__reply__free_unpacked(r, NULL);
    }
    return rv;
}

MQ_API mq_err mq_leader_transfer(mq_client *c, uint64_t id, uint64_t *leader,
                                 uint32_t timeout_ms)
{
    char what[48], why[LASTERR_SIZE] = "";
    uint64_t total, first = 0, now_leader = 0;
    struct retry backoff;
    struct retry_step step;
    int first_round = 1;
    mq_err rv, unknown = MQ_OK;

    if (leader != NULL) {
        *leader = 0;
    }
    if (c == NULL) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "transfer leadership: client is NULL");
    }
    if ((rv = check_node_id(id, 1, "transfer leadership")) != MQ_OK) {
        return rv;
    }
    if (id != 0) {
        snprintf(what, sizeof what, "transfer leadership to node %llu",
                 (unsigned long long)id);
    } else {
        snprintf(what, sizeof what, "transfer leadership");
    }
    total = client_timeout(c, timeout_ms);
    retry_init(&backoff, retry_now_ms(), total);
    for (;;) {
        Mq__V1__Reply *r;

        rv = ask_members(c, what, time_left(backoff.deadline_ms), &r);
        if (rv != MQ_OK) {
            return rv;
        }
        now_leader = r->members->leader_id;
        mq__v1__reply__free_unpacked(r, NULL);
        if (first_round) {
            first = now_leader;
            first_round = 0;
        }
        if (members_transfer_done(id, first, now_leader)) {
            rv = MQ_OK;
            break;
        }
        rv = transfer_once(c, what, id, time_left(backoff.deadline_ms),
                           &now_leader);
        if (rv == MQ_OK || !mq_err_retryable(rv)) {
            break;
        }
        if (rv == MQ_ERR_TIMEOUT || rv == MQ_ERR_UNAVAILABLE) {
            unknown = rv; /* the transfer may still complete */
        }
        snprintf(why, sizeof why, "%s", mq_errmsg());
        if (retry_next(&backoff, retry_now_ms(), 1, 0, -1, &step) != 0) {
            /* Out of time: NOT_DONE if no attempt may have moved it. */
            return lasterr_fail(unknown != MQ_OK ? unknown : MQ_ERR_NOT_DONE,
                                "%s; gave up after %llu ms", why,
                                (unsigned long long)total);
        }
        if (conn_sleep(c->conn, step.delay_ms) == MQ_ERR_CANCELED) {
            return lasterr_fail(MQ_ERR_CANCELED,
                                "%s: canceled: the client is closing", what);
        }
    }
    if (rv == MQ_OK && leader != NULL) {
        *leader = now_leader;
    }
    return rv;
}

MQ_API mq_err mq_members(mq_client *c, mq_member **out, size_t *n,
                         uint32_t timeout_ms)
{
    Mq__V1__Reply *r = NULL;
    mq_err rv;

    if (c == NULL || out == NULL || n == NULL) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "list members: an argument is NULL");
    }
    *out = NULL;
    *n = 0;
    rv = ask_members(c, "list members", client_timeout(c, timeout_ms), &r);
    if (rv == MQ_OK) {
        rv = members_from_pb(r->members, out, n);
        mq__v1__reply__free_unpacked(r, NULL);
    }
    return rv;
}

MQ_API void mq_members_free(mq_member *list)
{
    free(list);
}

MQ_API mq_err mq_leader(mq_client *c, uint64_t *id, char *url,
                        uint32_t timeout_ms)
{
    Mq__V1__Reply *r = NULL;
    mq_err rv;

    if (id != NULL) {
        *id = 0;
    }
    if (url != NULL) {
        url[0] = '\0';
    }
    if (c == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "find the leader: client is NULL");
    }
    rv = ask_members(c, "find the leader", client_timeout(c, timeout_ms), &r);
    if (rv != MQ_OK) {
        return rv;
    }
    if (r->members->leader_id == 0) {
        /* Answered by a leader that no longer is: ask again later. */
        mq__v1__reply__free_unpacked(r, NULL);
        return lasterr_fail(MQ_ERR_NOT_DONE,
                            "find the leader: the node asked no longer leads");
    }
    if (id != NULL) {
        *id = r->members->leader_id;
    }
    if (url != NULL) {
        snprintf(url, MQ_URL_MAX, "%s",
                 r->members->leader_url != NULL ? r->members->leader_url : "");
    }
    mq__v1__reply__free_unpacked(r, NULL);
    return MQ_OK;
}
