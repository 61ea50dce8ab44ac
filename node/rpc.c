/* rpc.c: client requests: decode, validate, route, reply.
 *
 * Happy path for a write: decode the Request, check it against this node's
 * applied state (so that bad input is refused before it reaches the log),
 * hand one op to batch.c, and answer from the FSM's result once the entry
 * is applied. Reads are answered at once from the applied state. Failure
 * modes: malformed bytes (PROTOCOL), invalid values (INVALID and friends,
 * naming the field), not leader (NOT_LEADER with the leader's URL),
 * leadership lost after proposing (UNAVAILABLE: retry with the same ids).
 * Every path replies exactly once and frees the call. */
#include "rpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "cmd.h"
#include "errors.h"
#include "log.h"
#include "names.h"
#include "pbconv.h"
#include "pbscan.h"
#include "rpc_call.h"

uint64_t rpc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Replies ------------------------------------------------------------------ */

void call_free(struct call *call)
{
    if (call == NULL) {
        return;
    }
    if (call->in) {
        mq__v1__request_raw__free_unpacked(call->in, &cmd_pb_alloc);
    }
    for (size_t i = 0; i < call->n_owned; i++) {
        mq_free(call->owned[i]);
    }
    mq_free(call->owned);
    mq_free(call->valid);
    mq_free(call->valid_at);
    mq_free(call->early);
    mq_free(call->ids);
    mq_free(call->arena);
    mq_free(call->name);
    mq_free(call);
}

void call_reply(struct call *call, const Mq__V1__Reply *reply)
{
    nng_msg *msg;
    size_t len = mq__v1__reply__get_packed_size(reply);
    if (nng_msg_alloc(&msg, len) != 0) {
        LOG_WARN("out of memory answering a request");
        Mq__V1__Reply oom = MQ__V1__REPLY__INIT;
        oom.status = MQ__V1__STATUS__STATUS_NO_MEMORY;
        len = mq__v1__reply__get_packed_size(&oom);
        if (nng_msg_alloc(&msg, len) != 0) {
            msg = NULL;
        } else {
            mq__v1__reply__pack(&oom, nng_msg_body(msg));
        }
    } else {
        mq__v1__reply__pack(reply, nng_msg_body(msg));
    }
    if (msg != NULL) {
        bridge_reply(call->req, msg);
    } else {
        nng_msg *empty;
        if (nng_msg_alloc(&empty, 0) == 0) {
            bridge_reply(call->req, empty);
        }
    }
    call_free(call);
}

void call_reply_error(struct call *call, mq_err err, const char *fmt, ...)
{
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    reply.status = err_to_status(err);
    reply.detail = detail;
    if (err != MQ_ERR_NOT_LEADER) {
        call->rpc->bad_requests++;
        LOG_DEBUG("request refused: %s: %s", mq_strerror(err), detail);
    }
    call_reply(call, &reply);
}

void call_reply_not_leader(struct call *call)
{
    struct rpc *r = call->rpc;
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    const char *url = NULL;
    char detail[512];
    uint64_t leader = consensus_leader(r->c, &url);

    if (leader != 0 && url != NULL && leader != r->cfg->id) {
        snprintf(detail, sizeof detail,
                 "node %llu is not the leader; node %llu at %s is",
                 (unsigned long long)r->cfg->id, (unsigned long long)leader,
                 url);
        reply.leader_url = (char *)url;
    } else {
        snprintf(detail, sizeof detail,
                 "node %llu is not the leader and knows of none yet",
                 (unsigned long long)r->cfg->id);
    }
    reply.status = MQ__V1__STATUS__STATUS_NOT_LEADER;
    reply.detail = detail;
    call_reply(call, &reply);
}

/* Arena for strings that live as long as the call. */
static char *arena_put(struct call *call, const char *s, size_t len)
{
    if (call->arena_len + len + 1 > call->arena_cap) {
        return NULL;
    }
    char *p = call->arena + call->arena_len;
    memcpy(p, s, len);
    p[len] = '\0';
    call->arena_len += len + 1;
    return p;
}

/* Publish ------------------------------------------------------------------ */

static void publish_done(void *arg, mq_err err, const struct fsm_op_result *r,
                         const struct fsm *f, uint64_t index)
{
    struct call *call = arg;
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__PublishReply pr = MQ__V1__PUBLISH_REPLY__INIT;
    Mq__V1__PublishResult *res = NULL, **resp = NULL;

    if (err == MQ_OK && r->err != MQ_OK) {
        call_reply_error(call, r->err, "publish to %s: %s",
                         call->body.pub.queue, r->e.msg);
        return;
    }
    if (err == MQ_ERR_NOT_LEADER) {
        call_reply_not_leader(call);
        return;
    }
    if (err != MQ_OK && err != MQ_ERR_INVALID) {
        call_reply_error(call, err,
                         "publish to %s: leadership changed before the "
                         "write committed; it may or may not be stored: "
                         "publish again with the same ids",
                         call->in->publish->queue);
        return;
    }
    res = mq_calloc(call->n_msgs, sizeof *res);
    resp = mq_calloc(call->n_msgs, sizeof *resp);
    if (res == NULL || resp == NULL) {
        mq_free(res);
        mq_free(resp);
        call_reply_error(call, MQ_ERR_NO_MEMORY, "publish: out of memory");
        return;
    }
    for (size_t i = 0; i < call->n_msgs; i++) {
        mq__v1__publish_result__init(&res[i]);
        res[i].status = err_to_status(call->early[i].err);
        res[i].detail = call->early[i].detail;
        res[i].id = call->ids[i];
        resp[i] = &res[i];
    }
    for (size_t k = 0; r != NULL && k < call->n_valid && k < r->n; k++) {
        const struct fsm_pub *p = &f->pubs[r->first + k];
        Mq__V1__PublishResult *out = &res[call->valid_at[k]];
        out->status = err_to_status(p->err);
        out->seq = p->seq;
        out->duplicate = p->duplicate;
        if (p->err != MQ_OK) {
            out->detail = arena_put(call, p->e.msg, strlen(p->e.msg));
        }
    }
    pr.results = resp;
    pr.n_results = call->n_msgs;
    pr.index = index;
    pr.durable = index != 0;
    reply.body_case = MQ__V1__REPLY__BODY_PUBLISH;
    reply.publish = &pr;
    call_reply(call, &reply);
    mq_free(res);
    mq_free(resp);
}

/* Appends a generated id to a message that came without one. */
static mq_err give_id(struct call *call, size_t i, ProtobufCBinaryData *m,
                      struct pub_view *v)
{
    struct rpc *r = call->rpc;
    char id[64];
    int n;

    if (r->id_term != r->c->raft.current_term) {
        r->id_term = r->c->raft.current_term;
        r->id_counter = 0;
    }
    /* A term has one leader, so (term, counter) is unique in the cluster;
     * the node id makes it readable. */
    n = snprintf(id, sizeof id, "mq-%llu-%llu-%llu",
                 (unsigned long long)r->id_term, (unsigned long long)r->cfg->id,
                 (unsigned long long)++r->id_counter);
    uint8_t *buf = mq_malloc(m->len + 2 + (size_t)n);
    if (buf == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    memcpy(buf, m->data, m->len);
    uint8_t *end = pb_put_bytes(buf + m->len, 1, id, (size_t)n);
    call->owned[call->n_owned++] = buf;
    v->id_off = (uint32_t)(m->len + 2);
    v->id_len = (uint32_t)n;
    m->data = buf;
    m->len = (size_t)(end - buf);
    (void)i;
    return MQ_OK;
}

static void handle_publish(struct call *call)
{
    struct rpc *r = call->rpc;
    Mq__V1__PublishRequestRaw *in = call->in->publish;
    struct queue *q;
    size_t n = in->n_messages, bytes = 0;

    if (!consensus_is_leader(r->c)) {
        call_reply_not_leader(call);
        return;
    }
    const char *qname = in->queue ? in->queue : "";
    struct errmsg e = ERRMSG_INIT;
    if (name_check(qname, strlen(qname), "queue name", &e) != MQ_OK) {
        call_reply_error(call, MQ_ERR_INVALID, "%s", e.msg);
        return;
    }
    q = fsm_queue(r->f, qname);
    if (q == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND,
                         "publish to %s: queue does not exist", qname);
        return;
    }
    if (n == 0 || n > MQ_MAX_BATCH) {
        call_reply_error(call, MQ_ERR_INVALID,
                         "publish to %s: %zu messages, a batch takes 1..%d",
                         qname, n, MQ_MAX_BATCH);
        return;
    }
    call->n_msgs = n;
    call->early = mq_calloc(n, sizeof *call->early);
    call->ids = mq_calloc(n, sizeof *call->ids);
    call->valid = mq_calloc(n, sizeof *call->valid);
    call->valid_at = mq_calloc(n, sizeof *call->valid_at);
    call->owned = mq_calloc(n, sizeof *call->owned);
    call->arena_cap = n * (MQ_ID_MAX + 1 + 160);
    call->arena = mq_malloc(call->arena_cap);
    if (!call->early || !call->ids || !call->valid || !call->valid_at ||
        !call->owned || !call->arena) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "publish: out of memory");
        return;
    }
    uint64_t budget = r->cfg->memory_budget_bytes;
    int over_budget = fsm_mem_bytes(r->f) >= budget;
    for (size_t i = 0; i < n; i++) {
        ProtobufCBinaryData m = in->messages[i];
        struct pub_view v;
        struct errmsg me = ERRMSG_INIT;
        mq_err err = pub_scan(m.data, m.len, &v, &me);
        if (err == MQ_OK && m.len > q->cfg.max_message_bytes) {
            err = MQ_ERR_TOO_LARGE;
            errmsg_set(&me, "message is %zu bytes, queue %s takes at most %u",
                       m.len, qname, q->cfg.max_message_bytes);
        }
        if (err == MQ_OK && over_budget) {
            err = MQ_ERR_FULL;
            errmsg_set(&me, "node memory budget of %llu bytes is used up",
                       (unsigned long long)budget);
        }
        if (err == MQ_OK && v.id_len == 0) {
            err = give_id(call, i, &m, &v);
            if (err != MQ_OK) {
                errmsg_set(&me, "out of memory");
            }
        }
        if (err != MQ_OK) {
            call->early[i].err = err;
            call->early[i].detail = arena_put(call, me.msg, strlen(me.msg));
            continue;
        }
        call->ids[i] =
            arena_put(call, (const char *)m.data + v.id_off, v.id_len);
        call->valid_at[call->n_valid] = i;
        call->valid[call->n_valid++] = m;
        bytes += m.len;
    }
    if (call->n_valid == 0) {
        publish_done(call, MQ_ERR_INVALID, NULL, NULL, 0);
        return;
    }
    mq__v1__publish_op__init(&call->body.pub);
    call->body.pub.queue = in->queue;
    call->body.pub.messages = call->valid;
    call->body.pub.n_messages = call->n_valid;
    mq__v1__op__init(&call->op);
    call->op.op_case = MQ__V1__OP__OP_PUBLISH;
    call->op.publish = &call->body.pub;
    if (batch_add(r->batch, &call->op, bytes + 8 * call->n_valid, publish_done,
                  call) != MQ_OK) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "publish: out of memory");
    }
}

/* Reads ---------------------------------------------------------------------
 */

static void fill_queue_info(Mq__V1__QueueInfo *qi, Mq__V1__QueueConfig *qc,
                            const struct queue *q)
{
    mq__v1__queue_info__init(qi);
    pbconv_queue_to(qc, &q->cfg);
    qi->config = qc;
    qi->messages = q->n_msgs;
    qi->bytes = q->n_bytes;
    qi->first_seq = q->n_msgs ? q->first_seq : 0;
    qi->last_seq = q->last_seq;
    qi->subscriptions = (uint32_t)q->n_subs;
    qi->created_at_ms = q->created_at_ms;
}

static void fill_sub_info(Mq__V1__SubInfo *si, Mq__V1__SubConfig *sc,
                          const struct queue *q, const struct sub *s)
{
    mq__v1__sub_info__init(si);
    pbconv_sub_to(sc, &s->cfg, q->cfg.name);
    si->config = sc;
    si->next_seq = s->next_seq;
    si->ack_floor = sub_ack_floor(s);
    uint64_t from = s->next_seq < q->first_seq ? q->first_seq : s->next_seq;
    si->pending = q->last_seq >= from ? q->last_seq - from + 1 : 0;
    si->in_flight = sub_in_flight(s);
    si->delivered = s->delivered;
    si->acked = s->acked;
    si->created_at_ms = s->created_at_ms;
}

static void reply_queue_info(struct call *call, const struct queue *q)
{
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__QueueInfo qi;
    Mq__V1__QueueConfig qc;
    fill_queue_info(&qi, &qc, q);
    reply.body_case = MQ__V1__REPLY__BODY_QUEUE;
    reply.queue = &qi;
    call_reply(call, &reply);
}

static void reply_sub_info(struct call *call, const struct queue *q,
                           const struct sub *s)
{
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__SubInfo si;
    Mq__V1__SubConfig sc;
    fill_sub_info(&si, &sc, q, s);
    reply.body_case = MQ__V1__REPLY__BODY_SUB;
    reply.sub = &si;
    call_reply(call, &reply);
}

static void handle_queue_info(struct call *call)
{
    const char *name = call->in->queue_info->name;
    const struct queue *q = fsm_queue(call->rpc->f, name);
    if (q == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND, "queue %s does not exist",
                         name ? name : "");
        return;
    }
    reply_queue_info(call, q);
}

static void handle_queue_list(struct call *call)
{
    const struct fsm *f = call->rpc->f;
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__QueueListReply list = MQ__V1__QUEUE_LIST_REPLY__INIT;
    size_t n = f->n_queues;
    Mq__V1__QueueInfo *qi = mq_calloc(n, sizeof *qi);
    Mq__V1__QueueConfig *qc = mq_calloc(n, sizeof *qc);
    Mq__V1__QueueInfo **qp = mq_calloc(n, sizeof *qp);

    if (!qi || !qc || !qp) {
        mq_free(qi);
        mq_free(qc);
        mq_free(qp);
        call_reply_error(call, MQ_ERR_NO_MEMORY, "queue list: out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        fill_queue_info(&qi[i], &qc[i], f->queues[i]);
        qp[i] = &qi[i];
    }
    list.queues = qp;
    list.n_queues = n;
    reply.body_case = MQ__V1__REPLY__BODY_QUEUES;
    reply.queues = &list;
    call_reply(call, &reply);
    mq_free(qi);
    mq_free(qc);
    mq_free(qp);
}

static void handle_sub_info(struct call *call)
{
    const Mq__V1__SubInfoRequest *in = call->in->sub_info;
    const struct queue *q = fsm_queue(call->rpc->f, in->queue);
    const struct sub *s = q ? queue_sub(q, in->name ? in->name : "") : NULL;
    if (q == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND, "queue %s does not exist",
                         in->queue ? in->queue : "");
        return;
    }
    if (s == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND,
                         "subscription %s of queue %s does not exist",
                         in->name ? in->name : "", in->queue);
        return;
    }
    reply_sub_info(call, q, s);
}

static void handle_sub_list(struct call *call)
{
    const struct fsm *f = call->rpc->f;
    const char *only = call->in->sub_list->queue;
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__SubListReply list = MQ__V1__SUB_LIST_REPLY__INIT;
    size_t n = 0;

    if (only && only[0] && fsm_queue(f, only) == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND, "queue %s does not exist",
                         only);
        return;
    }
    for (size_t i = 0; i < f->n_queues; i++) {
        if (!only || !only[0] || strcmp(only, f->queues[i]->cfg.name) == 0) {
            n += f->queues[i]->n_subs;
        }
    }
    Mq__V1__SubInfo *si = mq_calloc(n, sizeof *si);
    Mq__V1__SubConfig *sc = mq_calloc(n, sizeof *sc);
    Mq__V1__SubInfo **sp = mq_calloc(n, sizeof *sp);
    if (!si || !sc || !sp) {
        mq_free(si);
        mq_free(sc);
        mq_free(sp);
        call_reply_error(call, MQ_ERR_NO_MEMORY, "sub list: out of memory");
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < f->n_queues; i++) {
        const struct queue *q = f->queues[i];
        if (only && only[0] && strcmp(only, q->cfg.name) != 0) {
            continue;
        }
        for (size_t j = 0; j < q->n_subs; j++, k++) {
            fill_sub_info(&si[k], &sc[k], q, q->subs[j]);
            sp[k] = &si[k];
        }
    }
    list.subs = sp;
    list.n_subs = n;
    reply.body_case = MQ__V1__REPLY__BODY_SUBS;
    reply.subs = &list;
    call_reply(call, &reply);
    mq_free(si);
    mq_free(sc);
    mq_free(sp);
}

static void handle_status(struct call *call)
{
    struct rpc *r = call->rpc;
    struct raft *raft = &r->c->raft;
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__StatusReply st = MQ__V1__STATUS_REPLY__INIT;
    const struct raft_configuration *conf = &raft->configuration;
    Mq__V1__Member *mem = mq_calloc(conf->n, sizeof *mem);
    Mq__V1__Member **memp = mq_calloc(conf->n, sizeof *memp);
    static const char *const roles[] = {"standby", "voter", "spare"};
    const char *url = NULL;

    if ((conf->n && !mem) || (conf->n && !memp)) {
        mq_free(mem);
        mq_free(memp);
        call_reply_error(call, MQ_ERR_NO_MEMORY, "status: out of memory");
        return;
    }
    st.node_id = r->cfg->id;
    st.role = (char *)consensus_role(r->c);
    st.term = raft->current_term;
    st.commit_index = raft->commit_index;
    st.applied_index = raft_last_applied(raft);
    st.last_index = raft_last_index(raft);
    st.snapshot_index = raft->log.snapshot.last_index;
    st.leader_id = consensus_leader(r->c, &url);
    st.leader_url = (char *)(url ? url : "");
    st.client_url = (char *)r->cfg->client_url;
    for (unsigned i = 0; i < conf->n; i++) {
        const char *cu = peer_client_url(r->peer, conf->servers[i].id);
        mq__v1__member__init(&mem[i]);
        mem[i].id = conf->servers[i].id;
        mem[i].peer_url = conf->servers[i].address;
        mem[i].client_url = (char *)(cu ? cu : "");
        mem[i].role =
            (char *)(conf->servers[i].role >= 0 && conf->servers[i].role <= 2
                         ? roles[conf->servers[i].role]
                         : "unknown");
        memp[i] = &mem[i];
    }
    st.members = memp;
    st.n_members = conf->n;
    reply.body_case = MQ__V1__REPLY__BODY_STATUS_REPLY;
    reply.status_reply = &st;
    call_reply(call, &reply);
    mq_free(mem);
    mq_free(memp);
}

/* Admin writes --------------------------------------------------------------
 */

static void admin_done(void *arg, mq_err err, const struct fsm_op_result *r,
                       const struct fsm *f, uint64_t index)
{
    struct call *call = arg;
    (void)index;
    if (err == MQ_ERR_NOT_LEADER) {
        call_reply_not_leader(call);
        return;
    }
    if (err != MQ_OK) {
        call_reply_error(call, err,
                         "%s: leadership changed before the change "
                         "committed; it may or may not be made: retry",
                         call->name);
        return;
    }
    if (r->err != MQ_OK) {
        call_reply_error(call, r->err, "%s", r->e.msg);
        return;
    }
    const struct queue *q;
    const struct sub *s;
    switch (call->op.op_case) {
    case MQ__V1__OP__OP_QUEUE_CREATE:
        q = fsm_queue(f, call->qcfg.name);
        if (q) {
            reply_queue_info(call, q);
            return;
        }
        break;
    case MQ__V1__OP__OP_SUB_CREATE:
        q = fsm_queue(f, call->body.sc.queue);
        s = q ? queue_sub(q, call->scfg.name) : NULL;
        if (s) {
            reply_sub_info(call, q, s);
            return;
        }
        break;
    default:
        break;
    }
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    call_reply(call, &reply);
}

static void propose_admin(struct call *call, const char *what)
{
    call->name = mq_strdup(what);
    if (call->name == NULL || batch_add(call->rpc->batch, &call->op, 256,
                                        admin_done, call) != MQ_OK) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "%s: out of memory", what);
    }
}

static void handle_queue_create(struct call *call)
{
    const Mq__V1__QueueConfig *in = call->in->queue_create->config;
    struct errmsg e = ERRMSG_INIT;
    const char *name = in && in->name ? in->name : "";
    char what[128];

    if (name_check(name, strlen(name), "queue name", &e) != MQ_OK) {
        call_reply_error(call, MQ_ERR_INVALID, "%s", e.msg);
        return;
    }
    pbconv_queue_from(&call->qcfg, in);
    mq_err rv = queue_config_normalize(&call->qcfg, &e);
    if (rv != MQ_OK) {
        call_reply_error(call, rv, "queue create %s: %s", name, e.msg);
        return;
    }
    pbconv_queue_to(&call->body.qc, &call->qcfg);
    mq__v1__op__init(&call->op);
    call->op.op_case = MQ__V1__OP__OP_QUEUE_CREATE;
    call->op.queue_create = &call->body.qc;
    snprintf(what, sizeof what, "queue create %s", name);
    propose_admin(call, what);
}

static void handle_queue_delete(struct call *call)
{
    const char *name = call->in->queue_delete->name;
    char what[128];
    if (fsm_queue(call->rpc->f, name) == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND, "queue %s does not exist",
                         name ? name : "");
        return;
    }
    mq__v1__op__init(&call->op);
    call->op.op_case = MQ__V1__OP__OP_QUEUE_DELETE;
    call->op.queue_delete = (char *)name;
    snprintf(what, sizeof what, "queue delete %s", name);
    propose_admin(call, what);
}

static void handle_sub_create(struct call *call)
{
    const Mq__V1__SubConfig *in = call->in->sub_create->config;
    struct errmsg e = ERRMSG_INIT;
    const char *qname = in && in->queue ? in->queue : "";
    const char *name = in && in->name ? in->name : "";
    const struct queue *q = fsm_queue(call->rpc->f, qname);
    char what[160];

    if (q == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND, "queue %s does not exist",
                         qname);
        return;
    }
    if (name_check(name, strlen(name), "subscription name", &e) != MQ_OK) {
        call_reply_error(call, MQ_ERR_INVALID, "%s", e.msg);
        return;
    }
    pbconv_sub_from(&call->scfg, in);
    mq_err rv = sub_config_normalize(&call->scfg, &q->cfg, &e);
    if (rv != MQ_OK) {
        call_reply_error(call, rv, "sub create %s %s: %s", qname, name, e.msg);
        return;
    }
    pbconv_sub_to(&call->body.sc, &call->scfg, qname);
    mq__v1__op__init(&call->op);
    call->op.op_case = MQ__V1__OP__OP_SUB_CREATE;
    call->op.sub_create = &call->body.sc;
    snprintf(what, sizeof what, "sub create %s %s", qname, name);
    propose_admin(call, what);
}

static void handle_sub_delete(struct call *call)
{
    const Mq__V1__SubDeleteRequest *in = call->in->sub_delete;
    const struct queue *q = fsm_queue(call->rpc->f, in->queue);
    char what[160];
    if (q == NULL || queue_sub(q, in->name ? in->name : "") == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND,
                         "subscription %s of queue %s does not exist",
                         in->name ? in->name : "", in->queue ? in->queue : "");
        return;
    }
    mq__v1__sub_ref__init(&call->body.ref);
    call->body.ref.queue = in->queue;
    call->body.ref.name = in->name;
    mq__v1__op__init(&call->op);
    call->op.op_case = MQ__V1__OP__OP_SUB_DELETE;
    call->op.sub_delete = &call->body.ref;
    snprintf(what, sizeof what, "sub delete %s %s", in->queue, in->name);
    propose_admin(call, what);
}

/* Dispatch ------------------------------------------------------------------
 */

void rpc_handle(void *arg, struct rpc_req *req, const void *data, size_t len)
{
    struct rpc *r = arg;
    struct call *call = mq_calloc(1, sizeof *call);

    r->requests++;
    if (call == NULL) {
        nng_msg *empty;
        if (nng_msg_alloc(&empty, 0) == 0) {
            bridge_reply(req, empty);
        }
        return;
    }
    call->rpc = r;
    call->req = req;
    if (r->closing) {
        call_reply_error(call, MQ_ERR_UNAVAILABLE, "node %llu is shutting down",
                         (unsigned long long)r->cfg->id);
        return;
    }
    call->in = mq__v1__request_raw__unpack(&cmd_pb_alloc, len, data);
    if (call->in == NULL) {
        call_reply_error(call, MQ_ERR_PROTOCOL,
                         "request of %zu bytes is not an mq request", len);
        return;
    }
    int is_write = 1;
    switch (call->in->body_case) {
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_INFO:
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_LIST:
    case MQ__V1__REQUEST_RAW__BODY_SUB_INFO:
    case MQ__V1__REQUEST_RAW__BODY_SUB_LIST:
    case MQ__V1__REQUEST_RAW__BODY_STATUS:
        is_write = 0;
        break;
    default:
        break;
    }
    if (is_write && !consensus_is_leader(r->c)) {
        call_reply_not_leader(call);
        return;
    }
    switch (call->in->body_case) {
    case MQ__V1__REQUEST_RAW__BODY_PUBLISH:
        handle_publish(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_CREATE:
        handle_queue_create(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_INFO:
        handle_queue_info(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_LIST:
        handle_queue_list(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_DELETE:
        handle_queue_delete(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_SUB_CREATE:
        handle_sub_create(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_SUB_INFO:
        handle_sub_info(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_SUB_LIST:
        handle_sub_list(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_SUB_DELETE:
        handle_sub_delete(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_FETCH:
        rpc_fetch(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_ACK:
        rpc_ack(call, 0);
        break;
    case MQ__V1__REQUEST_RAW__BODY_NACK:
        rpc_ack(call, 1);
        break;
    case MQ__V1__REQUEST_RAW__BODY_STATUS:
        handle_status(call);
        break;
    default:
        call_reply_error(call, MQ_ERR_PROTOCOL, "request has no known body");
        break;
    }
}

void rpc_init(struct rpc *r, uv_loop_t *loop, struct bridge *b,
              struct consensus *c, struct batch *batch, struct fsm *f,
              struct peer *p, const struct config *cfg)
{
    memset(r, 0, sizeof *r);
    r->bridge = b;
    r->c = c;
    r->batch = batch;
    r->f = f;
    r->peer = p;
    r->cfg = cfg;
    uv_timer_init(loop, &r->wait_timer);
    r->wait_timer.data = r;
}

void rpc_leader_changed(struct rpc *r, int leader)
{
    if (!leader) {
        rpc_fail_waiting(r, MQ_ERR_NOT_LEADER);
        batch_fail_waiting(r->batch, MQ_ERR_NOT_LEADER);
        /* Reservations were for deliveries this leader proposed. */
        for (size_t i = 0; i < r->f->n_queues; i++) {
            for (size_t j = 0; j < r->f->queues[i]->n_subs; j++) {
                r->f->queues[i]->subs[j]->reserved = 0;
            }
        }
    }
}

void rpc_on_publish(void *arg, struct queue *q)
{
    struct rpc *r = arg;
    if (r->n_waiting > 0) {
        rpc_wake(r, q->cfg.name);
    }
}

void rpc_close(struct rpc *r)
{
    r->closing = 1;
    rpc_fail_waiting(r, MQ_ERR_UNAVAILABLE);
    uv_timer_stop(&r->wait_timer);
    uv_close((uv_handle_t *)&r->wait_timer, NULL);
}
