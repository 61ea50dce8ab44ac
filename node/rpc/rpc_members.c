/* rpc_members.c: membership and leadership changes, on the leader.
 *
 * Adding node N at URL: raft_add (a spare), raft_assign to standby (it
 * replicates the log but does not vote), wait until its log has caught up
 * with the leader's, then raft_assign to voter (raft runs a last catch-up
 * round and then commits the change). Each step waits for the previous
 * configuration change to commit. Removing: raft_remove. Leadership
 * transfer: raft_transfer. One change at a time; a change fails when this
 * node loses leadership, and the caller can run it again: each step sees
 * what is already done (adding a voter already in place succeeds).
 *
 * The catch-up wait has a deadline, so that an add never blocks later
 * changes: a standby whose match index has not grown, and that has not
 * answered, for member_catchup_timeout_ms is removed again (the add is
 * abandoned, its caller told INVALID, and the removal runs as a change of
 * its own). A remove of the node being added cancels the add while it
 * waits for the catch-up; a change of anything else while an add waits is
 * refused NOT_DONE, naming the add. */
#include "rpc_members.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "errors.h"
#include "log.h"

#define CATCHUP_TICK_MS 100
/* Entries a standby may lack and still be promoted (raft then sends them
 * in its last catch-up round). */
#define CATCHUP_SLACK 64

enum { MC_ADD, MC_REMOVE, MC_TRANSFER, MC_ABANDON };
enum { STEP_ADD, STEP_STANDBY, STEP_CATCHUP, STEP_VOTER };

struct member_change {
    struct rpc *rpc;
    struct call *call;
    int kind, step;
    uint64_t id;
    char peer_url[MQ_URL_MAX];
    struct raft_change change;
    struct raft_transfer transfer;
    raft_index last_match;     /* the standby's, at its last progress */
    uint64_t last_progress_ms; /* loop time of it */
};

static const char *role_name(int role)
{
    static const char *const names[] = {"standby", "voter", "spare"};
    return role >= 0 && role <= 2 ? names[role] : "unknown";
}

mq_err rpc_members_fill(struct rpc *r, Mq__V1__Member **mem,
                        Mq__V1__Member ***memp, size_t *n)
{
    const struct raft_configuration *conf = &r->c->raft.configuration;
    *mem = mq_calloc(conf->n + 1, sizeof **mem);
    *memp = mq_calloc(conf->n + 1, sizeof **memp);
    *n = 0;
    if (*mem == NULL || *memp == NULL) {
        mq_free(*mem);
        mq_free(*memp);
        *mem = NULL;
        *memp = NULL;
        return MQ_ERR_NO_MEMORY;
    }
    for (unsigned i = 0; i < conf->n; i++) {
        const char *cu = peer_client_url(r->peer, conf->servers[i].id);
        Mq__V1__Member *m = &(*mem)[i];
        mq__v1__member__init(m);
        m->id = conf->servers[i].id;
        m->peer_url = conf->servers[i].address;
        m->client_url = (char *)(cu ? cu : "");
        m->role = (char *)role_name(conf->servers[i].role);
        (*memp)[i] = m;
    }
    *n = conf->n;
    return MQ_OK;
}

/* Answers with the members as this node knows them. */
static void reply_members(struct rpc *r, struct call *call)
{
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__MembersReply mr = MQ__V1__MEMBERS_REPLY__INIT;
    Mq__V1__Member *mem;
    Mq__V1__Member **memp;
    const char *url = NULL;

    if (rpc_members_fill(r, &mem, &memp, &mr.n_members) != MQ_OK) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "members: out of memory");
        return;
    }
    mr.members = memp;
    mr.leader_id = consensus_leader(r->c, &url);
    mr.leader_url = (char *)(url ? url : "");
    reply.body_case = MQ__V1__REPLY__BODY_MEMBERS;
    reply.members = &mr;
    call_reply(call, &reply);
    mq_free(mem);
    mq_free(memp);
}

static void finish(struct member_change *mc, mq_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Ends the change: answers its call, if it still has one (members on
 * success), and frees it. */
static void finish(struct member_change *mc, mq_err err, const char *fmt, ...)
{
    struct rpc *r = mc->rpc;
    struct call *call = mc->call;
    char detail[400];
    va_list ap;

    r->mc = NULL;
    uv_timer_stop(&r->mc_timer);
    mq_free(mc);
    if (err == MQ_OK) {
        if (call != NULL) {
            reply_members(r, call);
        }
        return;
    }
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    LOG_WARN("membership change failed: %s", detail);
    if (call != NULL) {
        call_reply_error(call, err, "%s", detail);
    }
}

static mq_err err_from_raft(int rv)
{
    switch (rv) {
    case RAFT_NOTLEADER:
    case RAFT_LEADERSHIPLOST:
        return MQ_ERR_NOT_LEADER;
    case RAFT_NOMEM:
        return MQ_ERR_NO_MEMORY;
    case RAFT_BADID:
    case RAFT_NOTFOUND:
        return MQ_ERR_NOT_FOUND;
    case RAFT_DUPLICATEID:
    case RAFT_DUPLICATEADDRESS:
        return MQ_ERR_EXISTS;
    case RAFT_CANTCHANGE:
        return MQ_ERR_NOT_DONE; /* raft refused the step: retry */
    default:
        return MQ_ERR_INTERNAL;
    }
}

static void step(struct member_change *mc);

static void change_cb(struct raft_change *req, int status)
{
    struct member_change *mc = req->data;
    if (status != 0) {
        mq_err err = err_from_raft(status);
        /* Proposed, then not committed here: it may still commit. */
        finish(mc, err == MQ_ERR_NOT_LEADER ? MQ_ERR_UNAVAILABLE : err,
               "node %llu: the configuration change did not commit: %s",
               (unsigned long long)mc->id, raft_strerror(status));
        return;
    }
    mc->step++;
    step(mc);
}

/* Whether the standby's log is close enough to the leader's: it has
 * answered with a match (a node that never answered is not caught up, even
 * in a short log) within CATCHUP_SLACK of the leader's last entry. Notes
 * its progress in @mc: a match that grew, or an answer within the election
 * timeout. */
static int caught_up(struct member_change *mc, uint64_t now_ms)
{
    struct raft *r = &mc->rpc->c->raft;
    raft_index last = raft_last_index(r);
    for (unsigned i = 0; i < r->configuration.n; i++) {
        if (r->configuration.servers[i].id == mc->id) {
            const struct raft_progress *p = &r->leader_state.progress[i];
            if (p->match_index > mc->last_match || p->recent_recv) {
                mc->last_match = p->match_index;
                mc->last_progress_ms = now_ms;
            }
            return p->match_index > 0 && p->match_index + CATCHUP_SLACK >= last;
        }
    }
    return 0;
}

/* The add made no progress for member_catchup_timeout_ms: its caller is
 * told, and the standby is removed as a change of its own. */
static void abandon(struct member_change *mc)
{
    struct rpc *r = mc->rpc;
    char detail[400];
    int rv;

    uv_timer_stop(&r->mc_timer);
    snprintf(detail, sizeof detail,
             "add of node %llu abandoned: at %s it caught up no further for "
             "%llu ms (does a node run there, and can this node reach it?); "
             "node %llu is removed again: start it, then add it again",
             (unsigned long long)mc->id, mc->peer_url,
             (unsigned long long)r->cfg->member_catchup_timeout_ms,
             (unsigned long long)mc->id);
    LOG_WARN("%s", detail);
    if (mc->call != NULL) {
        call_reply_error(mc->call, MQ_ERR_INVALID, "%s", detail);
        mc->call = NULL;
    }
    mc->kind = MC_ABANDON;
    mc->step = STEP_VOTER; /* change_cb moves it past the last step */
    mc->change.data = mc;
    rv = raft_remove(&r->c->raft, &mc->change, mc->id, change_cb);
    if (rv != 0) {
        finish(mc, err_from_raft(rv), "remove node %llu after its add: %s",
               (unsigned long long)mc->id, raft_errmsg(&r->c->raft));
    }
}

static void catchup_tick(uv_timer_t *t)
{
    struct rpc *r = t->data;
    struct member_change *mc = r->mc;
    uint64_t now = uv_now(t->loop);

    if (mc == NULL || mc->step != STEP_CATCHUP) {
        uv_timer_stop(t);
        return;
    }
    if (!consensus_is_leader(r->c)) {
        finish(mc, MQ_ERR_UNAVAILABLE,
               "node %llu: leadership lost while it caught up as a standby: "
               "add it again to go on",
               (unsigned long long)mc->id);
        return;
    }
    if (caught_up(mc, now)) {
        uv_timer_stop(t);
        mc->step = STEP_VOTER;
        step(mc);
    } else if (now - mc->last_progress_ms >=
               r->cfg->member_catchup_timeout_ms) {
        abandon(mc);
    }
}

/* Runs the next step of adding a node. */
static void step(struct member_change *mc)
{
    struct raft *r = &mc->rpc->c->raft;
    int rv = 0;

    mc->change.data = mc;
    switch (mc->step) {
    case STEP_ADD:
        LOG_INFO("adding node %llu at %s", (unsigned long long)mc->id,
                 mc->peer_url);
        rv = raft_add(r, &mc->change, mc->id, mc->peer_url, change_cb);
        break;
    case STEP_STANDBY:
        rv = raft_assign(r, &mc->change, mc->id, RAFT_STANDBY, change_cb);
        break;
    case STEP_CATCHUP:
        LOG_INFO("node %llu replicates as a standby; promoting it once it "
                 "has caught up (the add is abandoned after %llu ms without "
                 "progress)",
                 (unsigned long long)mc->id,
                 (unsigned long long)mc->rpc->cfg->member_catchup_timeout_ms);
        mc->last_match = 0;
        mc->last_progress_ms = uv_now(mc->rpc->mc_timer.loop);
        uv_timer_start(&mc->rpc->mc_timer, catchup_tick, CATCHUP_TICK_MS,
                       CATCHUP_TICK_MS);
        return;
    case STEP_VOTER:
        rv = raft_assign(r, &mc->change, mc->id, RAFT_VOTER, change_cb);
        break;
    default:
        if (mc->kind == MC_ADD) {
            LOG_INFO("node %llu is a voter", (unsigned long long)mc->id);
        } else {
            LOG_INFO("node %llu removed", (unsigned long long)mc->id);
        }
        finish(mc, MQ_OK, "%s", "");
        return;
    }
    if (rv != 0) {
        finish(mc, err_from_raft(rv), "node %llu: %s",
               (unsigned long long)mc->id, raft_errmsg(r));
    }
}

static struct member_change *begin(struct call *call, int kind, uint64_t id)
{
    struct rpc *r = call->rpc;
    if (r->mc != NULL && r->mc->kind == MC_ADD && r->mc->step == STEP_CATCHUP) {
        call_reply_error(call, MQ_ERR_NOT_DONE,
                         "node %llu is being added and catches up as a "
                         "standby (abandoned after %llu ms without progress; "
                         "`mqctl node remove %llu` cancels it): retry",
                         (unsigned long long)r->mc->id,
                         (unsigned long long)r->cfg->member_catchup_timeout_ms,
                         (unsigned long long)r->mc->id);
        return NULL;
    }
    if (r->mc != NULL) {
        call_reply_error(call, MQ_ERR_NOT_DONE,
                         "another membership or leadership change is in "
                         "progress: retry");
        return NULL;
    }
    struct member_change *mc = mq_calloc(1, sizeof *mc);
    if (mc == NULL) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "out of memory");
        return NULL;
    }
    mc->rpc = r;
    mc->call = call;
    mc->kind = kind;
    mc->id = id;
    r->mc = mc;
    return mc;
}

void rpc_node_add(struct call *call)
{
    struct rpc *r = call->rpc;
    const Mq__V1__NodeAddRequest *in = call->in->node_add;
    const char *url = in->peer_url ? in->peer_url : "";
    const struct raft_configuration *conf = &r->c->raft.configuration;

    if (in->id == 0 || in->id > UINT32_MAX) {
        call_reply_error(call, MQ_ERR_INVALID, "node id %llu is not 1..%u",
                         (unsigned long long)in->id, UINT32_MAX);
        return;
    }
    if (strstr(url, "://") == NULL || strlen(url) >= MQ_URL_MAX) {
        call_reply_error(call, MQ_ERR_INVALID,
                         "peer URL \"%s\" is not an nng URL", url);
        return;
    }
    int step_from = STEP_ADD;
    for (unsigned i = 0; i < conf->n; i++) {
        const struct raft_server *s = &conf->servers[i];
        if (s->id == in->id && strcmp(s->address, url) != 0) {
            call_reply_error(call, MQ_ERR_EXISTS,
                             "node %llu is a member at %s, not %s",
                             (unsigned long long)s->id, s->address, url);
            return;
        }
        if (s->id != in->id && strcmp(s->address, url) == 0) {
            call_reply_error(call, MQ_ERR_EXISTS,
                             "%s is the address of node %llu", url,
                             (unsigned long long)s->id);
            return;
        }
        if (s->id == in->id) {
            step_from = s->role == RAFT_VOTER     ? STEP_VOTER + 1
                        : s->role == RAFT_STANDBY ? STEP_CATCHUP
                                                  : STEP_STANDBY;
        }
    }
    struct member_change *mc = begin(call, MC_ADD, in->id);
    if (mc != NULL) {
        snprintf(mc->peer_url, sizeof mc->peer_url, "%s", url);
        mc->step = step_from;
        step(mc);
    }
}

void rpc_node_remove(struct call *call)
{
    struct rpc *r = call->rpc;
    uint64_t id = call->in->node_remove->id;
    if (consensus_member_role(r->c, id) < 0) {
        call_reply_error(call, MQ_ERR_NOT_FOUND, "node %llu is not a member",
                         (unsigned long long)id);
        return;
    }
    if (r->mc != NULL && r->mc->kind == MC_ADD && r->mc->id == id &&
        r->mc->step == STEP_CATCHUP) {
        /* No raft change is in flight while the add waits: end it. */
        LOG_INFO("add of node %llu cancelled by its removal",
                 (unsigned long long)id);
        finish(r->mc, MQ_ERR_INVALID,
               "add of node %llu cancelled: the node is being removed",
               (unsigned long long)id);
    }
    struct member_change *mc = begin(call, MC_REMOVE, id);
    if (mc == NULL) {
        return;
    }
    LOG_INFO("removing node %llu", (unsigned long long)id);
    mc->change.data = mc;
    mc->step = STEP_VOTER; /* change_cb moves it past the last step */
    int rv = raft_remove(&r->c->raft, &mc->change, id, change_cb);
    if (rv != 0) {
        finish(mc, err_from_raft(rv), "remove node %llu: %s",
               (unsigned long long)id, raft_errmsg(&r->c->raft));
    }
}

static void transfer_cb(struct raft_transfer *req)
{
    struct member_change *mc = req->data;
    struct rpc *r = mc->rpc;
    uint64_t leader = consensus_leader(r->c, NULL);
    if (leader != 0 && leader != r->cfg->id &&
        (mc->id == 0 || leader == mc->id)) {
        LOG_INFO("leadership moved to node %llu", (unsigned long long)leader);
        finish(mc, MQ_OK, "%s", "");
        return;
    }
    finish(mc, MQ_ERR_UNAVAILABLE,
           "leadership transfer to node %llu did not complete within the "
           "election timeout (the leader is node %llu): retry",
           (unsigned long long)mc->id, (unsigned long long)leader);
}

void rpc_leader_transfer(struct call *call)
{
    struct rpc *r = call->rpc;
    uint64_t id = call->in->leader_transfer->id;
    if (id != 0 && consensus_member_role(r->c, id) != RAFT_VOTER) {
        call_reply_error(call, MQ_ERR_NOT_FOUND, "node %llu is not a voter",
                         (unsigned long long)id);
        return;
    }
    if (id == r->cfg->id) {
        reply_members(r, call); /* already there */
        return;
    }
    struct member_change *mc = begin(call, MC_TRANSFER, id);
    if (mc == NULL) {
        return;
    }
    LOG_INFO("transferring leadership to node %llu (0: the most up-to-date)",
             (unsigned long long)id);
    mc->transfer.data = mc;
    int rv = raft_transfer(&r->c->raft, &mc->transfer, id, transfer_cb);
    if (rv != 0) {
        finish(mc, err_from_raft(rv), "transfer leadership: %s",
               raft_errmsg(&r->c->raft));
    }
}

void rpc_members(struct call *call)
{
    reply_members(call->rpc, call);
}

void rpc_members_close(struct rpc *r)
{
    if (r->mc != NULL) {
        finish(r->mc, MQ_ERR_UNAVAILABLE, "node %llu is shutting down",
               (unsigned long long)r->cfg->id);
    }
    uv_close((uv_handle_t *)&r->mc_timer, NULL);
}

void rpc_members_leader_lost(struct rpc *r)
{
    /* raft fails pending configuration changes itself (change_cb); only the
     * wait for a standby to catch up needs ending here. */
    if (r->mc != NULL && r->mc->step == STEP_CATCHUP) {
        finish(r->mc, MQ_ERR_UNAVAILABLE,
               "node %llu: leadership lost while it caught up as a standby: "
               "add it again to go on",
               (unsigned long long)r->mc->id);
    }
}
