/* rpc_fetch.c: fetch (long poll), ack and nack.
 *
 * A fetch that finds messages available proposes a deliver op; the FSM
 * chooses the messages when the op is applied (so every replica records
 * the same deliveries) and the reply is built from that result. A fetch
 * that finds nothing waits: new messages in its queue, a nack, or an ack
 * deadline passing wake it; its max_wait ends it with an empty answer.
 * Messages available are handed to the oldest waiting fetches first, and
 * reserved (sub->reserved) while their deliver op is in flight so that one
 * message does not wake every waiter. */
#include "rpc_fetch.h"

#include <string.h>

#include "alloc.h"
#include "errors.h"
#include "log.h"
#include "pbscan.h"

#define FETCH_MAX_WAIT_MS (5 * 60 * 1000)
#define WAIT_TICK_MS 20

static void wait_add(struct call *call)
{
    struct rpc *r = call->rpc;
    call->waiting = 1;
    call->next = NULL;
    call->prev = r->waiting_tail;
    if (r->waiting_tail) {
        r->waiting_tail->next = call;
    } else {
        r->waiting = call;
    }
    r->waiting_tail = call;
    if (r->n_waiting++ == 0) {
        uv_timer_start(&r->wait_timer, rpc_wait_timer_cb, WAIT_TICK_MS,
                       WAIT_TICK_MS);
    }
}

static void wait_remove(struct call *call)
{
    struct rpc *r = call->rpc;
    if (!call->waiting) {
        return;
    }
    if (call->prev) {
        call->prev->next = call->next;
    } else {
        r->waiting = call->next;
    }
    if (call->next) {
        call->next->prev = call->prev;
    } else {
        r->waiting_tail = call->prev;
    }
    call->waiting = 0;
    if (--r->n_waiting == 0) {
        uv_timer_stop(&r->wait_timer);
    }
}

/* Answers with the deliveries of @res, encoding the Reply by hand: each
 * delivery is the stored message bytes plus seq, time and attempt; then
 * the subscription's counts in this node's state (zero if it is gone). */
static void reply_deliveries(struct call *call, const struct fsm *f,
                             const struct fsm_op_result *res)
{
    const struct queue *q = fsm_queue(call->rpc->f, call->qname);
    const char *sname = call->in->fetch->sub ? call->in->fetch->sub : "";
    const struct sub *s = q ? queue_sub(q, sname) : NULL;
    struct call_sub_counts counts = {0, 0, 0};
    size_t inner = 0;
    nng_msg *msg;

    if (s != NULL) {
        call_sub_counts(q, s, &counts);
    }
    for (size_t i = 0; res && i < res->n; i++) {
        const struct delivery *d = &f->dels[res->first + i];
        size_t len = msg_delivery_size(d->m, d->attempt);
        inner += 1 + pb_varint_size(len) + len;
    }
    inner += 1 + pb_varint_size(counts.pending) + 1 +
             pb_varint_size(counts.in_flight) + 1 +
             pb_varint_size(counts.scheduled);
    if (nng_msg_alloc(&msg, 1 + pb_varint_size(inner) + inner + 1 +
                                pb_varint_size(call->index)) != 0) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "fetch: out of memory");
        return;
    }
    uint8_t *p = nng_msg_body(msg);
    *p++ = (15 << 3) | 2; /* Reply.fetch */
    p = pb_put_varint(p, inner);
    for (size_t i = 0; res && i < res->n; i++) {
        const struct delivery *d = &f->dels[res->first + i];
        *p++ = (1 << 3) | 2; /* FetchReply.messages */
        p = pb_put_varint(p, msg_delivery_size(d->m, d->attempt));
        p = msg_encode_delivery(d->m, d->attempt, p);
    }
    p = pb_put_uint(p, 2, counts.pending); /* FetchReply.pending ... */
    p = pb_put_uint(p, 3, counts.in_flight);
    p = pb_put_uint(p, 4, counts.scheduled);
    if (call->index != 0) {
        p = pb_put_uint(p, 4, call->index); /* Reply.index */
    }
    nng_msg_chop(msg,
                 nng_msg_len(msg) - (size_t)(p - (uint8_t *)nng_msg_body(msg)));
    bridge_reply(call->req, msg);
    call_free(call);
}

static void try_deliver(struct call *call);

static void deliver_done(void *arg, mq_err err, const struct fsm_op_result *r,
                         const struct fsm *f, uint64_t index)
{
    struct call *call = arg;
    const Mq__V1__FetchRequest *in = call->in->fetch;
    struct queue *q = fsm_queue(call->rpc->f, call->qname);
    struct sub *s = q ? queue_sub(q, in->sub) : NULL;

    call->proposing = 0;
    if (err == MQ_OK && index > call->index) {
        call->index = index; /* the deliveries' entry */
    }
    if (s != NULL) {
        s->reserved -= s->reserved < call->body.del.max_messages
                           ? s->reserved
                           : call->body.del.max_messages;
    }
    if (err == MQ_ERR_NOT_LEADER) {
        call_reply_not_leader(call);
        return;
    }
    if (err != MQ_OK) {
        call_reply_error(call, err,
                         "fetch from %s %s: leadership changed before the "
                         "delivery committed: fetch again",
                         call->qname, in->sub);
        return;
    }
    if (r->err != MQ_OK) {
        call_reply_error(call, r->err, "%s", r->e.msg);
        return;
    }
    if (r->n > 0 || call_now_ms() >= call->deadline_ms || call->rpc->closing) {
        reply_deliveries(call, f, r);
        return;
    }
    wait_add(call); /* others took them: keep waiting */
}

/* Proposes a deliver op if messages are available and not reserved by
 * other fetches; otherwise leaves the call as it is. Returns with the call
 * either proposing or still waiting (or answered, if its sub vanished). */
static void try_deliver(struct call *call)
{
    struct rpc *r = call->rpc;
    const Mq__V1__FetchRequest *in = call->in->fetch;
    struct queue *q = fsm_queue(r->f, call->qname);
    struct sub *s = q ? queue_sub(q, in->sub) : NULL;

    if (s == NULL) {
        wait_remove(call);
        call_reply_error(call, MQ_ERR_NOT_FOUND,
                         "subscription %s of queue %s no longer "
                         "exists",
                         in->sub, call->qname);
        return;
    }
    size_t avail = sub_available(s, &q->msgs, call_now_ms(),
                                 (size_t)(call->max + s->reserved));
    if (avail <= s->reserved) {
        return;
    }
    size_t n = avail - s->reserved;
    if (n > call->max) {
        n = call->max;
    }
    wait_remove(call);
    mq__v1__deliver_op__init(&call->body.del);
    call->body.del.queue = call->qname;
    call->body.del.sub = in->sub;
    call->body.del.max_messages = (uint32_t)n;
    mq__v1__op__init(&call->op);
    call->op.op_case = MQ__V1__OP__OP_DELIVER;
    call->op.deliver = &call->body.del;
    if (batch_add(r->batch, &call->op, 64, deliver_done, call) != MQ_OK) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "fetch: out of memory");
        return;
    }
    s->reserved += n;
    call->proposing = 1;
}

void rpc_fetch(struct call *call)
{
    struct rpc *r = call->rpc;
    const Mq__V1__FetchRequest *in = call->in->fetch;
    if (call_qname(call, in->queue, call->qname) == NULL) {
        return;
    }
    const struct queue *q = fsm_queue(r->f, call->qname);

    if (q == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND, "queue %s does not exist",
                         call->qname);
        return;
    }
    if (queue_sub(q, in->sub ? in->sub : "") == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND,
                         "subscription %s of queue %s does not exist",
                         in->sub ? in->sub : "", call->qname);
        return;
    }
    if (in->max_messages == 0 || in->max_messages > MQ_MAX_BATCH) {
        call_reply_error(call, MQ_ERR_INVALID,
                         "max_messages %u is not in 1..%d", in->max_messages,
                         MQ_MAX_BATCH);
        return;
    }
    if (in->max_wait_ms > FETCH_MAX_WAIT_MS) {
        call_reply_error(call, MQ_ERR_INVALID, "max_wait_ms %u is over %d",
                         in->max_wait_ms, FETCH_MAX_WAIT_MS);
        return;
    }
    call->max = in->max_messages;
    call->deadline_ms = call_now_ms() + in->max_wait_ms;
    wait_add(call);
    try_deliver(call);
}

void rpc_wake(struct rpc *r, const char *queue)
{
    struct call *call = r->waiting;
    while (call != NULL) {
        struct call *next = call->next;
        if (queue == NULL || strcmp(call->qname, queue) == 0) {
            try_deliver(call);
        }
        call = next;
    }
}

void rpc_wait_timer_cb(uv_timer_t *t)
{
    struct rpc *r = t->data;
    uint64_t now = call_now_ms();
    struct call *call = r->waiting;

    while (call != NULL) {
        struct call *next = call->next;
        if (now >= call->deadline_ms) {
            wait_remove(call);
            reply_deliveries(call, r->f, NULL);
        } else {
            const Mq__V1__FetchRequest *in = call->in->fetch;
            struct queue *q = fsm_queue(r->f, call->qname);
            struct sub *s = q ? queue_sub(q, in->sub) : NULL;
            if (s == NULL || sub_next_due(s) <= now) {
                try_deliver(call);
            }
        }
        call = next;
    }
}

void rpc_fail_waiting(struct rpc *r, mq_err err)
{
    while (r->waiting != NULL) {
        struct call *call = r->waiting;
        wait_remove(call);
        if (err == MQ_ERR_NOT_LEADER) {
            call_reply_not_leader(call);
        } else {
            call_reply_error(call, err, "fetch: node %llu is shutting down",
                             (unsigned long long)r->cfg->id);
        }
    }
}

/* Ack and nack ---------------------------------------------------------------
 */

static const char *const verbs[] = {"ack", "nack", "touch", "term"};

static void ack_done(void *arg, mq_err err, const struct fsm_op_result *r,
                     const struct fsm *f, uint64_t index)
{
    struct call *call = arg;
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__AckReply ar = MQ__V1__ACK_REPLY__INIT;
    (void)f;
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
        rpc_wake(call->rpc, call->body.ack.queue);
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
