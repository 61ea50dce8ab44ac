/* rpc_fetch.c: fetch (long poll) and the fetches waiting.
 *
 * A fetch that finds messages available proposes a deliver op; the FSM
 * chooses the messages when the op is applied (so every replica records
 * the same deliveries) and the reply is built from that result. A fetch
 * that finds nothing waits (with max_wait_ms 0 it is answered empty at
 * once): it is parked in rpc->waiting (waitset.h) and in the bridge
 * (bridge_park), so that it holds no place among the requests being
 * handled, only its own memory. New messages in its queue, a nack, or a
 * delivery coming due wake it; its max_wait ends it with an empty answer.
 * Messages available are handed to the oldest waiting fetches of their
 * subscription first, and reserved (sub->reserved) while their deliver op
 * is in flight so that one message does not wake every waiter.
 *
 * Caps: a fetch that would wait is refused at once (TOO_MANY, naming the
 * cap) when max_waiting_per_sub fetches wait on its subscription or
 * max_waiting_fetches on the node; one that waited before keeps its place.
 * A waiting fetch ends, never leaks: answered at its deadline (empty),
 * when messages come (a delivery), when its subscription goes
 * (NOT_FOUND), when this node loses leadership (NOT_LEADER, through
 * rpc_fail_waiting), when the node stops (NOT_DONE), or dropped when its
 * connection closes (rpc_pipe_closed: nothing can reach its client). */
#include "rpc_fetch.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "errors.h"
#include "log.h"
#include "pbscan.h"

#define FETCH_MAX_WAIT_MS (5 * 60 * 1000)
#define WAIT_TICK_MS 20
/* A subscription with waiting fetches is looked at again at least this
 * often, for changes that no event announces. */
#define WAIT_RECHECK_MS 250
/* Seconds between two warnings that a cap refused fetches. */
#define REFUSED_LOG_EVERY_MS 10000

static struct call *call_of(struct waiter *w)
{
    return (struct call *)((char *)w - offsetof(struct call, waiter));
}

static const char *sub_of(const struct call *call)
{
    return call->in->fetch->sub ? call->in->fetch->sub : "";
}

/* Parks @call among the waiting fetches: it holds no place among the
 * requests being handled (bridge_park). MQ_ERR_NO_MEMORY leaves it as it
 * was. */
static mq_err wait_add(struct call *call)
{
    struct rpc *r = call->rpc;

    call->waiter.deadline_ms = call->deadline_ms;
    call->waiter.pipe = call->req->pipe;
    if (waitset_add(&r->waiting, &call->waiter, call->qname, sub_of(call)) !=
        MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    call->waiting = 1;
    bridge_park(call->req);
    if (waitset_count(&r->waiting) == 1) {
        uv_timer_start(&r->wait_timer, rpc_wait_timer_cb, WAIT_TICK_MS,
                       WAIT_TICK_MS);
    }
    return MQ_OK;
}

static void wait_remove(struct call *call)
{
    struct rpc *r = call->rpc;
    if (!call->waiting) {
        return;
    }
    waitset_remove(&r->waiting, &call->waiter);
    call->waiting = 0;
    bridge_unpark(call->req);
    if (waitset_count(&r->waiting) == 0) {
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
    if (res != NULL && res->n > 0) {
        stages_record(&call->rpc->c->stages, STAGE_DEL_TOTAL, call->woken_ns,
                      uv_hrtime());
    }
    call_free(call);
}

static int try_deliver(struct call *call);
static void wait_or_refuse(struct call *call, int admitted);

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
        /* New deliveries have due times: the fetches waiting on the
         * subscription look again when the first is due. */
        struct wait_group *g =
            waitset_group(&call->rpc->waiting, call->qname, sub_of(call));
        if (g != NULL && sub_next_due(s) < g->check_ms) {
            g->check_ms = sub_next_due(s);
        }
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
    wait_or_refuse(call, 1); /* others took them: keep waiting */
}

/* Proposes a deliver op if messages are available and not reserved by
 * other fetches. Returns 1 when @call left (proposing, or answered: its
 * subscription is gone, or out of memory), 0 when there was nothing for
 * it (it is as it was: waiting or not). */
static int try_deliver(struct call *call)
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
        return 1;
    }
    size_t avail = sub_available(s, &q->msgs, call_now_ms(),
                                 (size_t)(call->max + s->reserved));
    if (avail <= s->reserved) {
        return 0;
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
    stages_record(&r->c->stages, STAGE_DEL_WAKE, call->woken_ns, uv_hrtime());
    if (batch_add(r->batch, &call->op, 64, deliver_done, call) != MQ_OK) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "fetch: out of memory");
        return 1;
    }
    s->reserved += n;
    call->proposing = 1;
    return 1;
}

/* Warns (at most every REFUSED_LOG_EVERY_MS) that @cap refused fetches. */
static void log_refused(struct rpc *r, const char *what)
{
    uint64_t now = uv_now(r->wait_timer.loop);
    if (r->refused_logged_ms == 0 ||
        now - r->refused_logged_ms >= REFUSED_LOG_EVERY_MS) {
        r->refused_logged_ms = now;
        LOG_WARN("fetches refused: %s (and maybe others since)", what);
    }
}

/* Parks @call, found with nothing to deliver, until messages come or its
 * wait ends; a new fetch (@admitted 0) is refused (TOO_MANY) if a cap is
 * reached. One that waited before and took nothing (others took the
 * messages) is @admitted: it keeps its place, caps or not. */
static void wait_or_refuse(struct call *call, int admitted)
{
    struct rpc *r = call->rpc;
    const struct config *cfg = r->cfg;
    char what[MQ_QNAME_MAX + MQ_NAME_MAX + 128];

    if (!bridge_req_connected(call->req)) {
        call_reply_gone(call); /* its connection closed meanwhile */
        return;
    }
    if (!consensus_is_leader(r->c)) {
        call_reply_not_leader(call); /* lost while its delivery committed */
        return;
    }
    if (!admitted) {
        const struct wait_group *g =
            waitset_group(&r->waiting, call->qname, sub_of(call));
        size_t n_sub = g != NULL ? g->n : 0;
        size_t n_all = waitset_count(&r->waiting);

        if (n_sub >= cfg->max_waiting_per_sub) {
            snprintf(what, sizeof what,
                     "%zu fetches already wait on subscription %s of %s "
                     "(max_waiting_per_sub %llu)",
                     n_sub, sub_of(call), call->qname,
                     (unsigned long long)cfg->max_waiting_per_sub);
            log_refused(r, what);
            call_reply_error(call, MQ_ERR_TOO_MANY, "%s", what);
            return;
        }
        if (n_all >= cfg->max_waiting_fetches) {
            snprintf(what, sizeof what,
                     "%zu fetches already wait on node %llu "
                     "(max_waiting_fetches %llu); none more on %s %s",
                     n_all, (unsigned long long)cfg->id,
                     (unsigned long long)cfg->max_waiting_fetches, call->qname,
                     sub_of(call));
            log_refused(r, what);
            call_reply_error(call, MQ_ERR_TOO_MANY, "%s", what);
            return;
        }
    }
    if (wait_add(call) != MQ_OK) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "fetch: out of memory");
    }
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
    call->woken_ns = call->loop_ns;
    if (try_deliver(call)) {
        return;
    }
    if (in->max_wait_ms == 0) {
        reply_deliveries(call, r->f, NULL); /* nothing, and no wait asked */
        return;
    }
    wait_or_refuse(call, 0);
}

/* Hands what the subscription of group @g has to its waiting fetches,
 * oldest first, until one finds nothing; they were woken at @now_ns. */
static void wake_group(struct wait_group *g, uint64_t now_ns)
{
    /* Each fetch that leaves may free @g with the last: count, do not
     * look at @g after that. */
    for (size_t n = g->n; n > 0; n--) {
        struct call *call = call_of(g->head);
        call->woken_ns = now_ns;
        if (!try_deliver(call)) {
            g->check_ms = 0; /* look again at the next tick */
            return;
        }
    }
}

void rpc_wake(struct rpc *r, const struct queue *q)
{
    if (waitset_count(&r->waiting) == 0) {
        return;
    }
    uint64_t now_ns = uv_hrtime();
    for (size_t j = 0; j < q->n_subs; j++) {
        struct wait_group *g =
            waitset_group(&r->waiting, q->cfg.name, q->subs[j]->cfg.name);
        if (g != NULL) {
            wake_group(g, now_ns);
        }
    }
}

/* Looks at the subscription of group @g: gone (its fetches are answered
 * NOT_FOUND), or with deliveries due again (handed out). */
static void check_group(struct rpc *r, struct wait_group *g, uint64_t now)
{
    struct queue *q = fsm_queue(r->f, g->queue);
    struct sub *s = q ? queue_sub(q, g->sub) : NULL;

    if (s == NULL) {
        for (size_t n = g->n; n > 0; n--) {
            try_deliver(call_of(g->head)); /* answers NOT_FOUND */
        }
        return;
    }
    uint64_t due = sub_next_due(s);
    g->check_ms = due < now + WAIT_RECHECK_MS ? due : now + WAIT_RECHECK_MS;
    if (due <= now) {
        wake_group(g, uv_hrtime());
    }
}

void rpc_wait_timer_cb(uv_timer_t *t)
{
    struct rpc *r = t->data;
    uint64_t now = call_now_ms();
    struct waiter *w;

    while ((w = waitset_expired(&r->waiting, now)) != NULL) {
        struct call *call = call_of(w);
        wait_remove(call);
        reply_deliveries(call, r->f, NULL);
    }
    /* Checking a group answers only its own fetches: the next group
     * stays. */
    struct wait_group *g = r->waiting.first_group;
    while (g != NULL) {
        struct wait_group *next = g->next;
        if (now >= g->check_ms) {
            check_group(r, g, now);
        }
        g = next;
    }
}

void rpc_fail_waiting(struct rpc *r, mq_err err)
{
    struct waiter *w;
    while ((w = waitset_any(&r->waiting)) != NULL) {
        struct call *call = call_of(w);
        wait_remove(call);
        if (err == MQ_ERR_NOT_LEADER) {
            call_reply_not_leader(call);
        } else {
            call_reply_error(call, err, "fetch: node %llu is shutting down",
                             (unsigned long long)r->cfg->id);
        }
    }
}

void rpc_pipe_closed(void *arg, uint32_t pipe)
{
    struct rpc *r = arg;
    struct waiter *w;
    while ((w = waitset_of_pipe(&r->waiting, pipe)) != NULL) {
        struct call *call = call_of(w);
        wait_remove(call);
        call_reply_gone(call);
    }
}
