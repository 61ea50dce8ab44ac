/* rpc_read.c: reads any node serves from its applied state, followers
 * included: catch-up and replay reads of a queue, and message status by
 * id. Both say how far the node has applied. A read waits, bounded, until
 * the node has applied the index the client asks for (min_index: its own
 * last write, read-your-writes) and, on a follower, the commit index it
 * knew when the read came: a follower that is behind answers from a state
 * that has what it knew committed, or TIMEOUT (the client asks another
 * node), never "no longer known" for what it has not applied yet. A read
 * marked leader_only is answered NOT_LEADER by any other node. */
#include "rpc_read.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "errors.h"
#include "grants.h"
#include "hash.h"
#include "names.h"
#include "pbscan.h"
#include "rpc_auth.h"

#define READ_DEFAULT_MAX 100
#define READ_DEFAULT_WAIT_MS 5000
#define READ_MAX_WAIT_MS 60000

static uint64_t applied(const struct rpc *r)
{
    return raft_last_applied((struct raft *)&r->c->raft);
}

/* Answers a read with the messages of @q from the requested position,
 * encoding the Reply by hand: each message is its stored bytes plus seq,
 * times and attempt 0. */
static void reply_read(struct call *call, const struct queue *q)
{
    const Mq__V1__ReadRequest *in = call->in->read;
    struct rpc *r = call->rpc;
    uint32_t max = in->max_messages ? in->max_messages : READ_DEFAULT_MAX;
    uint64_t seq = in->from_seq;
    size_t inner = 0, n = 0;
    nng_msg *msg;

    if (seq == 0) {
        seq = in->from_time_ms ? ring_seq_at_time(&q->msgs, in->from_time_ms)
                               : q->msgs.first_seq;
    }
    if (seq < q->msgs.first_seq) {
        seq = q->msgs.first_seq;
    }
    uint64_t end = seq;
    for (; end <= q->msgs.last_seq && n < max; end++) {
        const struct msg *m = queue_get(q, end);
        if (m != NULL) {
            size_t len = msg_delivery_size(m, 0);
            inner += 1 + pb_varint_size(len) + len;
            n++;
        }
    }
    uint64_t idx = applied(r);
    uint64_t first = q->msgs.n_msgs ? q->msgs.first_seq : 0;
    inner += 1 + pb_varint_size(idx) + 1 + pb_varint_size(r->cfg->id) + 1 +
             pb_varint_size(first) + 1 + pb_varint_size(q->msgs.last_seq);
    if (nng_msg_alloc(&msg, 2 + pb_varint_size(inner) + inner) != 0) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "read: out of memory");
        return;
    }
    uint8_t *p = nng_msg_body(msg);
    p = pb_put_varint(p, (20 << 3) | 2); /* Reply.read */
    p = pb_put_varint(p, inner);
    for (uint64_t s = seq; s < end; s++) {
        const struct msg *m = queue_get(q, s);
        if (m != NULL) {
            *p++ = (1 << 3) | 2; /* ReadReply.messages */
            p = pb_put_varint(p, msg_delivery_size(m, 0));
            p = msg_encode_delivery(m, 0, p);
        }
    }
    p = pb_put_uint(p, 2, idx);
    p = pb_put_uint(p, 3, r->cfg->id);
    p = pb_put_uint(p, 4, first);
    p = pb_put_uint(p, 5, q->msgs.last_seq);
    nng_msg_chop(msg,
                 nng_msg_len(msg) - (size_t)(p - (uint8_t *)nng_msg_body(msg)));
    bridge_reply(call->req, msg);
    call_free(call);
}

static void answer_status(struct call *call);

/* Answers @call now: the node applied enough. */
static void answer(struct call *call)
{
    if (call->in->body_case == MQ__V1__REQUEST_RAW__BODY_MESSAGE_STATUS) {
        answer_status(call);
        return;
    }
    const struct queue *q = fsm_queue(call->rpc->f, call->qname);
    if (q == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND, "queue %s does not exist",
                         call->qname);
        return;
    }
    reply_read(call, q);
}

static void unlink_read(struct call *call)
{
    struct rpc *r = call->rpc;
    if (call->prev) {
        call->prev->next = call->next;
    } else {
        r->reads = call->next;
    }
    if (call->next) {
        call->next->prev = call->prev;
    } else {
        r->reads_tail = call->prev;
    }
    call->waiting = 0;
    if (--r->n_reads == 0) {
        uv_check_stop(&r->read_check);
    }
}

void rpc_reads_tick(struct rpc *r, uint64_t now_ms)
{
    uint64_t idx = applied(r);
    struct call *call = r->reads;
    while (call != NULL) {
        struct call *next = call->next;
        if (idx >= call->min_index) {
            unlink_read(call);
            answer(call);
        } else if (now_ms >= call->deadline_ms) {
            unlink_read(call);
            call_reply_error(call, MQ_ERR_TIMEOUT,
                             "node %llu has applied up to index %llu, not "
                             "yet %llu: try another node or later",
                             (unsigned long long)r->cfg->id,
                             (unsigned long long)idx,
                             (unsigned long long)call->min_index);
        }
        call = next;
    }
}

static void read_check_cb(uv_check_t *h)
{
    struct rpc *r = h->data;
    rpc_reads_tick(r, call_now_ms());
}

/* Answers @call once this node has applied @min_index (the client's) and,
 * on a follower, the commit index it knows now; waits up to @max_wait_ms
 * (0: the default) for that. Replies NOT_LEADER instead to a read marked
 * @leader_only that reached another node, and INVALID to a wait over the
 * limit. */
static void answer_when_applied(struct call *call, uint64_t min_index,
                                uint32_t max_wait_ms, int leader_only)
{
    struct rpc *r = call->rpc;

    if (leader_only && !consensus_is_leader(r->c)) {
        call_reply_not_leader(call);
        return;
    }
    if (max_wait_ms > READ_MAX_WAIT_MS) {
        call_reply_error(call, MQ_ERR_INVALID, "max_wait_ms %u is over %d",
                         max_wait_ms, READ_MAX_WAIT_MS);
        return;
    }
    if (!consensus_is_leader(r->c) && r->c->raft.commit_index > min_index) {
        min_index = r->c->raft.commit_index;
    }
    call->min_index = min_index;
    if (min_index <= applied(r)) {
        answer(call);
        return;
    }
    call->deadline_ms =
        call_now_ms() + (max_wait_ms ? max_wait_ms : READ_DEFAULT_WAIT_MS);
    call->waiting = 1;
    call->next = NULL;
    call->prev = r->reads_tail;
    if (r->reads_tail) {
        r->reads_tail->next = call;
    } else {
        r->reads = call;
    }
    r->reads_tail = call;
    if (r->n_reads++ == 0) {
        uv_check_start(&r->read_check, read_check_cb);
    }
}

void rpc_read(struct call *call)
{
    const Mq__V1__ReadRequest *in = call->in->read;

    if (call_qname(call, in->queue, call->qname) == NULL) {
        return;
    }
    if (in->max_messages > MQ_MAX_BATCH) {
        call_reply_error(call, MQ_ERR_INVALID, "max_messages %u is over %d",
                         in->max_messages, MQ_MAX_BATCH);
        return;
    }
    answer_when_applied(call, in->min_index, in->max_wait_ms, in->leader_only);
}

/* Message status ---------------------------------------------------------- */

/* Space for one status, and the strings it points to. */
struct status_slot {
    Mq__V1__MessageStatus st;
    char id[MQ_ID_MAX + 1];
    char event[MQ_EVENT_MAX + 1];
    Mq__V1__SubStatus *subs;
    Mq__V1__SubStatus **subp;
};

static mq_err fill_stored(struct status_slot *sl, const struct queue *q,
                          const struct msg *m, uint64_t now_ms)
{
    Mq__V1__MessageStatus *st = &sl->st;
    st->seq = m->rec.seq;
    st->published_at_ms = m->rec.published_at_ms;
    st->deliver_at_ms = m->rec.deliver_at_ms;
    st->state = MQ__V1__MESSAGE_STATE__MSG_STORED;
    snprintf(sl->event, sizeof sl->event, "%.*s", (int)m->event_len,
             m->blob + m->event_off);
    st->event = sl->event;
    sl->subs = mq_calloc(q->n_subs, sizeof *sl->subs);
    sl->subp = mq_calloc(q->n_subs, sizeof *sl->subp);
    if ((q->n_subs && sl->subs == NULL) || (q->n_subs && sl->subp == NULL)) {
        return MQ_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < q->n_subs; i++) {
        Mq__V1__SubStatus *ss = &sl->subs[i];
        uint32_t attempts;
        uint64_t last, acked, dead;
        mq__v1__sub_status__init(ss);
        ss->name = (char *)q->subs[i]->cfg.name;
        ss->state = (Mq__V1__SubState)sub_msg_state(
            q->subs[i], m, now_ms, &attempts, &last, &acked, &dead);
        ss->attempts = attempts;
        ss->last_delivery_ms = last;
        ss->acked_at_ms = acked;
        ss->dead_lettered_at_ms = dead;
        sl->subp[i] = ss;
    }
    st->subs = sl->subp;
    st->n_subs = q->n_subs;
    return MQ_OK;
}

/* Fills @sl with what @q knows of @id; 0 if it knows nothing. */
static int lookup(struct status_slot *sl, const struct queue *q, const char *id,
                  uint64_t now_ms, mq_err *rv)
{
    size_t len = strlen(id);
    const struct msg *m = queue_find_id(q, id, len);
    mq__v1__message_status__init(&sl->st);
    sl->st.queue = (char *)q->cfg.name;
    snprintf(sl->id, sizeof sl->id, "%s", id);
    sl->st.id = sl->id;
    if (m != NULL) {
        *rv = fill_stored(sl, q, m, now_ms);
        return 1;
    }
    const struct tomb *t = tombs_find(&q->tombs, hash128(id, len));
    if (t == NULL) {
        return 0;
    }
    sl->st.seq = t->seq;
    sl->st.published_at_ms = t->published_at_ms;
    sl->st.state = (Mq__V1__MessageState)tomb_state(t);
    sl->st.gone_at_ms = tomb_gone_at(t);
    sl->st.event = (char *)"";
    return 1;
}

void rpc_message_status(struct call *call)
{
    const Mq__V1__MessageStatusRequest *in = call->in->message_status;
    const char *id = in->id ? in->id : "";
    struct errmsg e = ERRMSG_INIT;

    if (id_check(id, strlen(id), &e) != MQ_OK) {
        call_reply_error(call, MQ_ERR_INVALID, "%s", e.msg);
        return;
    }
    if (in->queue && in->queue[0] &&
        call_qname(call, in->queue, call->qname) == NULL) {
        return;
    }
    answer_when_applied(call, in->min_index, in->max_wait_ms, in->leader_only);
}

/* Answers a message status from the applied state. */
static void answer_status(struct call *call)
{
    struct rpc *r = call->rpc;
    const Mq__V1__MessageStatusRequest *in = call->in->message_status;
    const char *id = in->id ? in->id : "";
    const struct queue *only = NULL;
    mq_err rv = MQ_OK;

    if (in->queue && in->queue[0]) {
        if ((only = fsm_queue(r->f, call->qname)) == NULL) {
            call_reply_error(call, MQ_ERR_NOT_FOUND, "queue %s does not exist",
                             call->qname);
            return;
        }
    }
    size_t cap = only ? 1 : r->f->n_queues, n = 0;
    struct status_slot *slots = mq_calloc(cap ? cap : 1, sizeof *slots);
    Mq__V1__MessageStatus **sp = mq_calloc(cap ? cap : 1, sizeof *sp);
    if (slots == NULL || sp == NULL) {
        rv = MQ_ERR_NO_MEMORY;
    }
    for (size_t i = 0; rv == MQ_OK && i < r->f->n_queues; i++) {
        const struct queue *q = r->f->queues[i];
        /* Without a queue named, only the queues the key may read. */
        if ((only == NULL ? rpc_auth_may(call, GRANT_CONSUME, q->cfg.name)
                          : q == only) &&
            lookup(&slots[n], q, id, r->f->now_ms, &rv)) {
            sp[n] = &slots[n].st;
            n++;
        }
    }
    if (rv != MQ_OK) {
        call_reply_error(call, rv, "message status: out of memory");
    } else if (n == 0) {
        call_reply_error(call, MQ_ERR_NOT_FOUND,
                         "message %s: no longer known (or never stored)%s%s",
                         id, only ? " in queue " : "",
                         only ? only->cfg.name : "");
    } else {
        Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
        Mq__V1__MessageStatusReply ms = MQ__V1__MESSAGE_STATUS_REPLY__INIT;
        ms.statuses = sp;
        ms.n_statuses = n;
        ms.applied_index = applied(r);
        ms.node_id = r->cfg->id;
        reply.body_case = MQ__V1__REPLY__BODY_MESSAGE_STATUS;
        reply.message_status = &ms;
        call_reply(call, &reply);
    }
    for (size_t i = 0; slots && i < cap; i++) {
        mq_free(slots[i].subs);
        mq_free(slots[i].subp);
    }
    mq_free(slots);
    mq_free(sp);
}
