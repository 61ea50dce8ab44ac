/* call.c: one client request while the node works on it: its replies
 * (each call is answered exactly once, then freed; a write's carries the
 * raft index of its entry), the full queue name it names, and the wall
 * clock its waits use. */
#include "call.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "alloc.h"
#include "cmd.h"
#include "errors.h"
#include "log.h"
#include "names.h"
#include "wallclock.h"

uint64_t call_now_ms(void)
{
    return wallclock_ms();
}

void call_sub_counts(const struct queue *q, const struct sub *s,
                     struct call_sub_counts *out)
{
    uint64_t from =
        s->next_seq < q->msgs.first_seq ? q->msgs.first_seq : s->next_seq;
    out->pending = q->msgs.last_seq >= from ? q->msgs.last_seq - from + 1 : 0;
    out->scheduled = sub_scheduled(s);
    out->in_flight = sub_in_flight(s) - out->scheduled;
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

void call_reply(struct call *call, const Mq__V1__Reply *reply_in)
{
    Mq__V1__Reply copy = *reply_in;
    const Mq__V1__Reply *reply = &copy;
    nng_msg *msg;

    if (copy.status == MQ__V1__STATUS__STATUS_OK) {
        copy.index = call->index;
    }
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
    rpc_stats_reply(&call->rpc->stats, call->in ? (int)call->in->body_case : 0,
                    (int)copy.status);
    bridge_reply(call->req, msg); /* NULL: nothing could be made */
    call_free(call);
}

void call_reply_gone(struct call *call)
{
    nng_msg *empty;
    if (nng_msg_alloc(&empty, 0) != 0) {
        empty = NULL;
    }
    bridge_reply(call->req, empty);
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
