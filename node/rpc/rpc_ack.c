/* rpc_ack.c: ack, nack, touch and term of delivered messages.
 *
 * Each is checked against the leader's applied state (the subscription
 * exists, every seq was delivered) and proposed as one ack op; the reply
 * says how many were settled now and how many were already. A nack that
 * gives messages back wakes the fetches waiting on the queue. Failure
 * modes: NOT_FOUND, INVALID (naming the seq), NOT_LEADER, and leadership
 * lost before commit (the outcome is unknown: send it again; acks are
 * idempotent). */
#include "rpc_ack.h"

#include <string.h>

static const char *const verbs[] = {"ack", "nack", "touch", "term"};

static void ack_done(void *arg, mq_err err, const struct fsm_op_result *r,
                     const struct fsm *f, uint64_t index)
{
    struct call *call = arg;
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__AckReply ar = MQ__V1__ACK_REPLY__INIT;
    call->index = err == MQ_OK ? index : 0;

    if (err == MQ_ERR_NOT_LEADER) {
        call_reply_not_leader(call);
        return;
    }
    if (err != MQ_OK) {
        call_reply_error(call, err,
                         "%s to %s %s: leadership changed before it "
                         "committed; it may or may not have been applied: "
                         "send it again",
                         verbs[call->body.ack.mode], call->body.ack.queue,
                         call->body.ack.sub);
        return;
    }
    if (r->err != MQ_OK) {
        call_reply_error(call, r->err, "%s", r->e.msg);
        return;
    }
    if (call->body.ack.mode == MQ__V1__ACK_MODE__NACK && r->done > 0) {
        struct queue *q = fsm_queue(f, call->body.ack.queue);
        if (q != NULL) {
            rpc_on_publish(call->rpc, q); /* given back: available */
        }
    }
    ar.done = r->done;
    ar.already = r->already;
    reply.body_case = MQ__V1__REPLY__BODY_ACK;
    reply.ack = &ar;
    call_reply(call, &reply);
}

void rpc_ack(struct call *call, int mode)
{
    struct rpc *r = call->rpc;
    const char *qname, *sname, *reason = "";
    const uint64_t *seqs;
    size_t n;
    uint64_t delay = 0;

    switch (mode) {
    case SUB_NACK: {
        const Mq__V1__NackRequest *in = call->in->nack;
        qname = in->queue;
        sname = in->sub;
        seqs = in->seqs;
        n = in->n_seqs;
        delay = in->delay_ms;
        break;
    }
    case SUB_TOUCH: {
        const Mq__V1__TouchRequest *in = call->in->touch;
        qname = in->queue;
        sname = in->sub;
        seqs = in->seqs;
        n = in->n_seqs;
        break;
    }
    case SUB_TERM: {
        const Mq__V1__TermRequest *in = call->in->term;
        qname = in->queue;
        sname = in->sub;
        seqs = in->seqs;
        n = in->n_seqs;
        reason = in->reason ? in->reason : "";
        break;
    }
    default: {
        const Mq__V1__AckRequest *in = call->in->ack;
        qname = in->queue;
        sname = in->sub;
        seqs = in->seqs;
        n = in->n_seqs;
        break;
    }
    }
    if (call_qname(call, qname, call->qname) == NULL) {
        return;
    }
    const struct queue *q = fsm_queue(r->f, call->qname);
    const struct sub *s = q ? queue_sub(q, sname ? sname : "") : NULL;
    struct errmsg e = ERRMSG_INIT;

    if (q == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND, "queue %s does not exist",
                         call->qname);
        return;
    }
    if (s == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND,
                         "subscription %s of queue %s does not exist",
                         sname ? sname : "", call->qname);
        return;
    }
    if (n == 0 || n > MQ_MAX_BATCH) {
        call_reply_error(call, MQ_ERR_INVALID, "%zu seqs, 1..%d allowed", n,
                         MQ_MAX_BATCH);
        return;
    }
    if (strlen(reason) > 128) {
        call_reply_error(call, MQ_ERR_INVALID,
                         "a term reason takes at most 128 bytes");
        return;
    }
    if (sub_check_seqs(s, seqs, n, &e) != MQ_OK) {
        call_reply_error(call, MQ_ERR_INVALID, "%s", e.msg);
        return;
    }
    mq__v1__ack_op__init(&call->body.ack);
    call->body.ack.queue = call->qname;
    call->body.ack.sub = (char *)sname;
    call->body.ack.seqs = (uint64_t *)seqs;
    call->body.ack.n_seqs = n;
    call->body.ack.mode = (Mq__V1__AckMode)mode;
    call->body.ack.delay_ms = delay;
    call->body.ack.reason = (char *)reason;
    mq__v1__op__init(&call->op);
    call->op.op_case = MQ__V1__OP__OP_ACK;
    call->op.ack = &call->body.ack;
    if (batch_add(r->batch, &call->op, 32 + 10 * n + strlen(reason), ack_done,
                  call) != MQ_OK) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "%s: out of memory",
                         verbs[mode]);
    }
}
