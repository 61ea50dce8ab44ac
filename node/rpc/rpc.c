/* rpc.c: client requests: decode, validate, route, reply.
 *
 * Happy path for a write: decode the Request, check it against this node's
 * applied state (so that bad input is refused before it reaches the log),
 * hand one op to batch.c, and answer from the FSM's result once the entry
 * is applied. Reads are answered at once from the applied state. Failure
 * modes: malformed bytes (PROTOCOL), invalid values (INVALID and friends,
 * naming the field), not leader (NOT_LEADER with the leader's URL),
 * leadership lost after proposing (UNAVAILABLE: retry with the same ids).
 * Every path replies exactly once and frees the call. Queue and
 * subscription admin is in rpc_admin.c, fetch and acks in rpc_fetch.c,
 * catch-up reads and message status in rpc_read.c. */
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

const char *call_qname(struct call *call, const char *in,
                       char buf[MQ_QNAME_MAX + 1])
{
    struct errmsg e = ERRMSG_INIT;
    if (qname_normalize(in ? in : "", buf, &e) != MQ_OK) {
        call_reply_error(call, MQ_ERR_INVALID, "%s", e.msg);
        return NULL;
    }
    return buf;
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
        if (err == MQ_OK && v.delay_ms > q->cfg.max_delay_ms) {
            err = MQ_ERR_INVALID;
            errmsg_set(&me,
                       "delay of %llu ms is over queue %s max_delay_ms "
                       "%llu",
                       (unsigned long long)v.delay_ms, qname,
                       (unsigned long long)q->cfg.max_delay_ms);
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
    if (batch_add(r->batch, &call->op, bytes + 8 * call->n_valid, publish_done,
                  call) != MQ_OK) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "publish: out of memory");
    }
}

/* Dispatch ---------------------------------------------------------------- */

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
    if (r->c->removed) {
        call_reply_error(call, MQ_ERR_UNAVAILABLE,
                         "node %llu was removed from the cluster",
                         (unsigned long long)r->cfg->id);
        return;
    }
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
    int is_write = 1; /* or a read the leader answers */
    switch (call->in->body_case) {
    /* Served by any node from its applied state. Queue and subscription
     * info and lists go to the leader like writes, so that an operator
     * reads what was just changed. */
    case MQ__V1__REQUEST_RAW__BODY_STATUS:
    case MQ__V1__REQUEST_RAW__BODY_READ:
    case MQ__V1__REQUEST_RAW__BODY_MESSAGE_STATUS:
        is_write = 0;
        break;
    default:
        break;
    }
    if (is_write && !consensus_is_leader(r->c)) {
        call_reply_not_leader(call);
        return;
    }
    /* A leader just elected has not applied every committed entry yet: it
     * must not judge requests by that state (nor answer reads sent to the
     * leader for their freshness). */
    if (consensus_is_leader(r->c) && !consensus_leader_ready(r->c) &&
        call->in->body_case != MQ__V1__REQUEST_RAW__BODY_STATUS) {
        call_reply_error(call, MQ_ERR_UNAVAILABLE,
                         "node %llu was just elected leader and is applying "
                         "the log: retry",
                         (unsigned long long)r->cfg->id);
        return;
    }
    switch (call->in->body_case) {
    case MQ__V1__REQUEST_RAW__BODY_PUBLISH:
        handle_publish(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_CREATE:
        rpc_queue_create(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_INFO:
        rpc_queue_info(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_LIST:
        rpc_queue_list(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_DELETE:
        rpc_queue_delete(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_PURGE:
        rpc_queue_purge(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_REDRIVE:
        rpc_redrive(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_SUB_CREATE:
        rpc_sub_create(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_SUB_INFO:
        rpc_sub_info(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_SUB_LIST:
        rpc_sub_list(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_SUB_DELETE:
        rpc_sub_delete(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_FETCH:
        rpc_fetch(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_ACK:
        rpc_ack(call, SUB_ACK);
        break;
    case MQ__V1__REQUEST_RAW__BODY_NACK:
        rpc_ack(call, SUB_NACK);
        break;
    case MQ__V1__REQUEST_RAW__BODY_TOUCH:
        rpc_ack(call, SUB_TOUCH);
        break;
    case MQ__V1__REQUEST_RAW__BODY_TERM:
        rpc_ack(call, SUB_TERM);
        break;
    case MQ__V1__REQUEST_RAW__BODY_CANCEL:
        rpc_cancel(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_READ:
        rpc_read(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_MESSAGE_STATUS:
        rpc_message_status(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_STATUS:
        rpc_status(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_NODE_ADD:
        rpc_node_add(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_NODE_REMOVE:
        rpc_node_remove(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_LEADER_TRANSFER:
        rpc_leader_transfer(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_MEMBERS:
        rpc_members(call);
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
    uv_check_init(loop, &r->read_check);
    r->read_check.data = r;
    uv_timer_init(loop, &r->mc_timer);
    r->mc_timer.data = r;
}

void rpc_leader_changed(struct rpc *r, int leader)
{
    if (!leader) {
        rpc_members_leader_lost(r);
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
    rpc_reads_tick(r, UINT64_MAX);
    uv_timer_stop(&r->wait_timer);
    uv_close((uv_handle_t *)&r->wait_timer, NULL);
    uv_check_stop(&r->read_check);
    uv_close((uv_handle_t *)&r->read_check, NULL);
    rpc_members_close(r);
}
