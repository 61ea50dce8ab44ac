/* rpc_publish.c: publish requests. The messages of a request are checked
 * against the leader's applied state (size, names, delay, the node's
 * memory budget, which a repeat of a stored id passes), given an id when they
 * have none, and proposed as one publish op; the reply gives each message its
 * seq (or its original seq, flagged duplicate) once the op is applied. An
 * atomic request is stored whole or not at all. */
#include "rpc_publish.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "errors.h"
#include "hash.h"
#include "log.h"
#include "names.h"
#include "pbconv.h"
#include "pbscan.h"

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
    struct rpc_stats *stats = &call->rpc->stats;
    uint64_t start_ns = call->req->start_ns;
    struct stages *st = &call->rpc->c->stages;

    call->index = err == MQ_OK ? index : 0;
    if (err == MQ_OK) {
        /* Committed and applied: the commit latency of this publish. */
        histo_observe(&stats->publish_commit_ns, rpc_stats_now_ns() - start_ns);
    }

    if (err == MQ_OK && r->err != MQ_OK) {
        call_reply_error(call, r->err, "%s", r->e.msg);
        return;
    }
    if (err == MQ_ERR_NOT_LEADER) {
        call_reply_not_leader(call);
        return;
    }
    if (err != MQ_OK && err != MQ_ERR_INVALID) {
        call_reply_error(call, err,
                         "leadership changed before the write committed; "
                         "it may or may not be stored: publish again with "
                         "the same ids");
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
    histo_observe(&stats->publish_reply_ns, rpc_stats_now_ns() - start_ns);
    mq_free(res);
    mq_free(resp);
    if (index != 0) {
        stages_record(st, STAGE_PUB_TOTAL, start_ns, uv_hrtime());
    }
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

/* Whether message @m (described by @v) repeats an id @q remembers within
 * its duplicate window, judged by this leader's clock (the next Command's
 * time). Should the id leave the window before the op is applied, the FSM
 * stores the message: past the budget by that one message. */
static int stored_before(const struct queue *q, const ProtobufCBinaryData *m,
                         const struct pub_view *v)
{
    const struct dedup_entry *d;

    if (v->id_len == 0) {
        return 0; /* the node gives it a new id */
    }
    d = dedup_find(&q->dedup, hash128(m->data + v->id_off, v->id_len));
    return d != NULL && d->at_ms + q->cfg.duplicate_window_ms > call_now_ms();
}

/* An all-or-nothing batch with a bad message: none is proposed, and every
 * result names the first bad message. */
static void refuse_atomic(struct call *call)
{
    size_t bad = 0;
    while (call->early[bad].err == MQ_OK) {
        bad++;
    }
    char detail[400];
    snprintf(detail, sizeof detail, "batch refused: message %zu: %s", bad + 1,
             call->early[bad].detail ? call->early[bad].detail : "");
    for (size_t i = 0; i < call->n_msgs; i++) {
        call->early[i].err = call->early[bad].err;
        call->early[i].detail = arena_put(call, detail, strlen(detail));
    }
    call->n_valid = 0;
    publish_done(call, MQ_ERR_INVALID, NULL, NULL, 0);
}

void rpc_publish(struct call *call)
{
    struct rpc *r = call->rpc;
    Mq__V1__PublishRequestRaw *in = call->in->publish;
    struct queue *q;
    size_t n = in->n_messages, bytes = 0;

    if (!consensus_is_leader(r->c)) {
        call_reply_not_leader(call);
        return;
    }
    const char *qname = call_qname(call, in->queue, call->qname);
    if (qname == NULL) {
        return;
    }
    q = fsm_queue(r->f, qname);
    if (q == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND, "queue %s does not exist",
                         qname);
        return;
    }
    if (n == 0 || n > MQ_MAX_BATCH) {
        call_reply_error(call, MQ_ERR_INVALID,
                         "%zu messages, a batch takes 1..%d", n, MQ_MAX_BATCH);
        return;
    }
    call->n_msgs = n;
    call->early = mq_calloc(n, sizeof *call->early);
    call->ids = mq_calloc(n, sizeof *call->ids);
    call->valid = mq_calloc(n, sizeof *call->valid);
    call->valid_at = mq_calloc(n, sizeof *call->valid_at);
    call->owned = mq_calloc(n, sizeof *call->owned);
    call->arena_cap = n * (MQ_ID_MAX + 1 + 2 * ERRMSG_SIZE) + 512;
    call->arena = mq_malloc(call->arena_cap);
    if (!call->early || !call->ids || !call->valid || !call->valid_at ||
        !call->owned || !call->arena) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "publish: out of memory");
        return;
    }
    /* Stored messages only: remembered ids and statuses have a bound of
     * their own (fsm/evict.h) and never refuse a publish. */
    uint64_t budget = r->cfg->memory_budget_bytes;
    uint64_t used = fsm_mem_bytes(r->f);
    int over_budget = used >= budget;
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
        if (err == MQ_OK && v.delay_ms > q->cfg.max_delay_ms) {
            err = MQ_ERR_INVALID;
            errmsg_set(&me,
                       "delay of %llu ms is over queue %s max_delay_ms "
                       "%llu",
                       (unsigned long long)v.delay_ms, qname,
                       (unsigned long long)q->cfg.max_delay_ms);
        }
        /* A repeat of a stored id stores nothing: the FSM answers it with
         * the original seq, so no limit applies to it (an outbox retries
         * until it hears "stored"). */
        if (err == MQ_OK && over_budget && !stored_before(q, &m, &v)) {
            err = MQ_ERR_FULL;
            errmsg_set(&me,
                       "node memory budget is full: stored messages take "
                       "%llu bytes, memory_budget_bytes is %llu (%llu "
                       "over); consume or purge to make room",
                       (unsigned long long)used, (unsigned long long)budget,
                       (unsigned long long)(used - budget));
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
    if (in->atomic && call->n_valid < n) {
        refuse_atomic(call);
        return;
    }
    if (call->n_valid == 0) {
        publish_done(call, MQ_ERR_INVALID, NULL, NULL, 0);
        return;
    }
    mq__v1__publish_op__init(&call->body.pub);
    call->body.pub.queue = call->qname;
    call->body.pub.atomic = in->atomic;
    call->body.pub.messages = call->valid;
    call->body.pub.n_messages = call->n_valid;
    mq__v1__op__init(&call->op);
    call->op.op_case = MQ__V1__OP__OP_PUBLISH;
    call->op.publish = &call->body.pub;
    uint64_t now = uv_hrtime();
    stages_record(&r->c->stages, STAGE_PUB_BRIDGE, call->req->start_ns,
                  call->loop_ns);
    stages_record(&r->c->stages, STAGE_PUB_CHECK, call->loop_ns, now);
    if (batch_add(r->batch, &call->op, bytes + 8 * call->n_valid, publish_done,
                  call) != MQ_OK) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "publish: out of memory");
    }
}
