/* test_client_node.c: libmq against a tiny fake cluster: up to three nng
 * REP sockets on 127.0.0.1 that answer like mqd nodes (one of them leads,
 * the others answer writes with NOT_LEADER and reads themselves), so that
 * redirects, retries with the same ids, non-retryable errors, async
 * batching, fetch/ack and the other verbs, subscribe, status, follower
 * reads, namespaces, membership and leadership transfer are checked end to
 * end through the public API. Each test starts its own fake cluster on free
 * ports. */
#include <arpa/inet.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mq.h"
#include "mq.pb-c.h"

#include <cmocka.h>

#define FAKES_MAX 3
#define ALLOCS_MAX 20000
#define IDS_MAX 64
#define SEQS_MAX 64

struct mini;

struct fake {
    struct mini *mini;
    int index;
    nng_socket sock;
    char url[64];
    pthread_t thread;
    _Atomic int requests;
    _Atomic int writes;
    _Atomic int reads;        /* read and message status requests answered */
    _Atomic int mute;         /* answers nothing */
    uint32_t delay_ms;        /* wait before sending this reply */
    void *allocs[ALLOCS_MAX]; /* of the reply being built */
    size_t n_allocs;
};

/* The fake cluster's state, under lock. */
struct mini {
    pthread_mutex_t lock;
    struct fake fakes[FAKES_MAX];
    size_t n;
    int leader;      /* index; -1: election in progress */
    int tell_leader; /* NOT_LEADER carries the leader's URL */
    int drop;        /* the leader answers none of the next @drop writes */
    int fail_status; /* the leader answers writes with this status */
    const char *fail_detail;
    int msg_status; /* publish: every message gets this status */
    int dedup;      /* publish: remember ids, answer duplicates */
    uint64_t last_seq;
    char ids[IDS_MAX][MQ_ID_MAX + 1];
    uint64_t id_seqs[IDS_MAX];
    size_t n_ids;
    size_t publishes, max_batch;
    int deliveries; /* fetch: messages still to hand out */
    uint64_t next_delivery;
    uint32_t last_max_wait;
    uint64_t acked[SEQS_MAX], nacked[SEQS_MAX];
    size_t n_acked, n_nacked, ack_requests;
    uint64_t nack_delay;
    /* What the last request said, for the tests of names and fields. */
    char last_queue[MQ_QNAME_MAX + 1];
    Mq__V1__Request__BodyCase last_body;
    uint64_t last_delay; /* publish: the first message's delay */
    int last_atomic;
    uint64_t settled_seq; /* touch, term: the first seq */
    char last_text[64];   /* term's reason, cancel's id, redrive's to */
    uint32_t last_max;    /* read, redrive: max_messages */
    uint64_t last_min_index;
    uint32_t last_wait;
    int statuses;    /* message status: statuses answered (0: none) */
    int status_code; /* message status: answer with this status */
    /* Membership: node ids (node i+1 is fakes[i] when i < n), the changes
     * asked (adds, removes, transfers), and how they are answered. */
    uint64_t member_ids[8];
    size_t n_members;
    int adds, removes, transfers, member_asks;
    int change_busy;   /* answer this many changes NOT_DONE */
    int change_drop;   /* apply, but answer none of this many */
    int change_status; /* answer changes with this status */
    const char *change_detail;
    uint32_t add_delay_ms; /* node add: answered this late */
    int transfer_mode;     /* TRANSFER_* */
};

enum {
    TRANSFER_OK,         /* moves, answers with the members */
    TRANSFER_NOT_LEADER, /* moves, answers NOT_LEADER naming the new one */
    TRANSFER_INCOMPLETE, /* moves, answers UNAVAILABLE (not seen yet) */
};

#define FAKE_INDEX 4242 /* raft index of every publish */

static void *fake_alloc(struct fake *f, size_t size)
{
    void *p = calloc(1, size);

    assert_non_null(p);
    assert_true(f->n_allocs < ALLOCS_MAX);
    f->allocs[f->n_allocs++] = p;
    return p;
}

static int is_write(const Mq__V1__Request *req)
{
    switch (req->body_case) {
    case MQ__V1__REQUEST__BODY_QUEUE_INFO:
    case MQ__V1__REQUEST__BODY_QUEUE_LIST:
    case MQ__V1__REQUEST__BODY_SUB_INFO:
    case MQ__V1__REQUEST__BODY_SUB_LIST:
    case MQ__V1__REQUEST__BODY_STATUS:
    case MQ__V1__REQUEST__BODY_READ:
    case MQ__V1__REQUEST__BODY_MESSAGE_STATUS:
        return 0;
    default:
        return 1;
    }
}

static void note_queue(struct mini *m, const char *q)
{
    snprintf(m->last_queue, sizeof m->last_queue, "%s", q != NULL ? q : "");
}

static void note_text(struct mini *m, const char *t)
{
    snprintf(m->last_text, sizeof m->last_text, "%s", t != NULL ? t : "");
}

/* A delivery of seq @seq, as the node sends one. */
static Mq__V1__Delivery *fake_delivery(struct fake *f, uint64_t seq,
                                       uint32_t attempt)
{
    Mq__V1__Delivery *d = fake_alloc(f, sizeof *d);
    char *id = fake_alloc(f, 32);

    mq__v1__delivery__init(d);
    d->seq = seq;
    snprintf(id, 32, "m-%llu", (unsigned long long)seq);
    d->id = id;
    d->event = "order.created";
    d->payload.data = (uint8_t *)"payload";
    d->payload.len = 7;
    d->attempt = attempt;
    d->published_at_ms = 1000 + seq;
    d->deliver_at_ms = seq == 2 ? 90000 : 0; /* seq 2 was delayed */
    return d;
}

/* Reads: seqs from_seq (or 1) on, up to max_messages and seq 5. */
static void answer_read(struct fake *f, const Mq__V1__ReadRequest *in,
                        Mq__V1__Reply *rep)
{
    struct mini *m = f->mini;
    Mq__V1__ReadReply *rr = fake_alloc(f, sizeof *rr);
    uint64_t from = in->from_seq != 0 ? in->from_seq : 1;
    size_t n = 0;

    mq__v1__read_reply__init(rr);
    f->reads++;
    note_queue(m, in->queue);
    m->last_max = in->max_messages;
    m->last_min_index = in->min_index;
    m->last_wait = in->max_wait_ms;
    rr->messages = fake_alloc(f, 6 * sizeof *rr->messages);
    for (uint64_t seq = from; seq <= 5 && n < in->max_messages; seq++) {
        rr->messages[n++] = fake_delivery(f, seq, 0);
    }
    rr->n_messages = n;
    rr->applied_index = 900 + (uint64_t)f->index;
    rr->node_id = (uint64_t)f->index + 1;
    rr->first_seq = 1;
    rr->last_seq = 5;
    rep->body_case = MQ__V1__REPLY__BODY_READ;
    rep->read = rr;
}

static void answer_message_status(struct fake *f,
                                  const Mq__V1__MessageStatusRequest *in,
                                  Mq__V1__Reply *rep)
{
    struct mini *m = f->mini;
    Mq__V1__MessageStatusReply *sr = fake_alloc(f, sizeof *sr);

    f->reads++;
    note_queue(m, in->queue);
    note_text(m, in->id);
    m->last_min_index = in->min_index;
    m->last_wait = in->max_wait_ms;
    if (m->status_code != 0) {
        rep->status = (Mq__V1__Status)m->status_code;
        rep->detail = "message status o-1 in nosuch: no such queue";
        return;
    }
    mq__v1__message_status_reply__init(sr);
    sr->n_statuses = (size_t)m->statuses;
    sr->statuses = fake_alloc(f, 4 * sizeof *sr->statuses);
    for (int i = 0; i < m->statuses; i++) {
        Mq__V1__MessageStatus *st = fake_alloc(f, sizeof *st);
        mq__v1__message_status__init(st);
        st->queue = i == 0 ? "default/orders" : "default/orders.dlq";
        st->seq = 17 + (uint64_t)i;
        st->id = in->id;
        st->event = "order.created";
        st->published_at_ms = 1000;
        st->deliver_at_ms = 61000;
        st->state = i == 0 ? MQ__V1__MESSAGE_STATE__MSG_DEAD_LETTERED
                           : MQ__V1__MESSAGE_STATE__MSG_STORED;
        st->gone_at_ms = i == 0 ? 99000 : 0;
        if (i == 1) {
            static const char *const names[] = {"mailer", "audit"};
            st->n_subs = 2;
            st->subs = fake_alloc(f, 2 * sizeof *st->subs);
            for (int k = 0; k < 2; k++) {
                Mq__V1__SubStatus *ss = fake_alloc(f, sizeof *ss);
                mq__v1__sub_status__init(ss);
                ss->name = (char *)names[k];
                ss->state = k == 0 ? MQ__V1__SUB_STATE__SUB_DELIVERED
                                   : MQ__V1__SUB_STATE__SUB_FILTERED;
                ss->attempts = k == 0 ? 3 : 0;
                ss->last_delivery_ms = k == 0 ? 70000 : 0;
                st->subs[k] = ss;
            }
        }
        sr->statuses[i] = st;
    }
    sr->applied_index = 900;
    sr->node_id = (uint64_t)f->index + 1;
    rep->body_case = MQ__V1__REPLY__BODY_MESSAGE_STATUS;
    rep->message_status = sr;
}

static void answer_publish(struct fake *f, const Mq__V1__PublishRequest *in,
                           Mq__V1__Reply *rep)
{
    struct mini *m = f->mini;
    Mq__V1__PublishReply *pr = fake_alloc(f, sizeof *pr);
    Mq__V1__PublishResult **rs =
        fake_alloc(f, (in->n_messages + 1) * sizeof *rs);

    mq__v1__publish_reply__init(pr);
    m->publishes++;
    note_queue(m, in->queue);
    m->last_delay = in->n_messages > 0 ? in->messages[0]->delay_ms : 0;
    m->last_atomic = in->atomic;
    if (in->n_messages > m->max_batch) {
        m->max_batch = in->n_messages;
    }
    for (size_t i = 0; i < in->n_messages; i++) {
        Mq__V1__PublishResult *r = fake_alloc(f, sizeof *r);
        mq__v1__publish_result__init(r);
        r->id = in->messages[i]->id;
        r->status = (Mq__V1__Status)m->msg_status;
        if (m->msg_status != 0) {
            r->detail = "queue orders is full (max_messages 2)";
        } else if (m->dedup) {
            size_t k;
            for (k = 0; k < m->n_ids; k++) {
                if (strcmp(m->ids[k], r->id) == 0) {
                    break;
                }
            }
            if (k < m->n_ids) {
                r->duplicate = 1;
                r->seq = m->id_seqs[k];
            } else {
                assert_true(m->n_ids < IDS_MAX);
                snprintf(m->ids[m->n_ids], sizeof m->ids[0], "%s", r->id);
                r->seq = m->id_seqs[m->n_ids++] = ++m->last_seq;
            }
        } else {
            r->seq = ++m->last_seq;
        }
        rs[i] = r;
    }
    pr->results = rs;
    pr->n_results = in->n_messages;
    pr->durable = 1;
    pr->index = FAKE_INDEX;
    rep->body_case = MQ__V1__REPLY__BODY_PUBLISH;
    rep->publish = pr;
}

static void answer_fetch(struct fake *f, const Mq__V1__FetchRequest *in,
                         Mq__V1__Reply *rep)
{
    struct mini *m = f->mini;
    Mq__V1__FetchReply *fr = fake_alloc(f, sizeof *fr);
    size_t n = (size_t)m->deliveries < in->max_messages ? (size_t)m->deliveries
                                                        : in->max_messages;

    mq__v1__fetch_reply__init(fr);
    m->last_max_wait = in->max_wait_ms;
    note_queue(m, in->queue);
    fr->messages = fake_alloc(f, (n + 1) * sizeof *fr->messages);
    for (size_t i = 0; i < n; i++) {
        fr->messages[i] = fake_delivery(f, ++m->next_delivery, 1);
    }
    fr->n_messages = n;
    m->deliveries -= (int)n;
    rep->body_case = MQ__V1__REPLY__BODY_FETCH;
    rep->fetch = fr;
}

static void record(uint64_t *to, size_t *n, const uint64_t *seqs, size_t k)
{
    for (size_t i = 0; i < k && *n < SEQS_MAX; i++) {
        to[(*n)++] = seqs[i];
    }
}

static void answer_status(struct fake *f, Mq__V1__Reply *rep)
{
    struct mini *m = f->mini;
    Mq__V1__StatusReply *s = fake_alloc(f, sizeof *s);

    mq__v1__status_reply__init(s);
    s->node_id = (uint64_t)f->index + 1;
    s->role = f->index == m->leader ? "leader" : "follower";
    s->term = 5;
    s->commit_index = 10;
    s->applied_index = 9;
    s->log_bytes = 1000 + (uint64_t)f->index;
    s->snapshot_bytes = 2000;
    s->disk_free_bytes = UINT64_C(5) << 40;
    s->memory_bytes = 3000;
    s->leader_id = m->leader >= 0 ? (uint64_t)m->leader + 1 : 0;
    s->leader_url = m->leader >= 0 ? m->fakes[m->leader].url : "";
    s->n_members = 3;
    s->members = fake_alloc(f, 3 * sizeof *s->members);
    for (int i = 0; i < 3; i++) {
        Mq__V1__Member *mb = fake_alloc(f, sizeof *mb);
        mq__v1__member__init(mb);
        mb->id = (uint64_t)i + 1;
        mb->role = "voter";
        s->members[i] = mb;
    }
    rep->body_case = MQ__V1__REPLY__BODY_STATUS_REPLY;
    rep->status_reply = s;
}

static void answer_members(struct fake *f, Mq__V1__Reply *rep)
{
    struct mini *m = f->mini;
    Mq__V1__MembersReply *mr = fake_alloc(f, sizeof *mr);

    mq__v1__members_reply__init(mr);
    mr->n_members = m->n_members;
    mr->members = fake_alloc(f, (m->n_members + 1) * sizeof *mr->members);
    for (size_t i = 0; i < m->n_members; i++) {
        Mq__V1__Member *mb = fake_alloc(f, sizeof *mb);
        char *peer = fake_alloc(f, 32);
        uint64_t id = m->member_ids[i];
        mq__v1__member__init(mb);
        mb->id = id;
        snprintf(peer, 32, "tcp://10.0.0.%llu:7100", (unsigned long long)id);
        mb->peer_url = peer;
        mb->client_url = id <= m->n ? m->fakes[id - 1].url : "";
        mb->role = id <= m->n ? "voter" : "standby";
        mr->members[i] = mb;
    }
    mr->leader_id = (uint64_t)m->leader + 1;
    mr->leader_url = m->fakes[m->leader].url;
    rep->body_case = MQ__V1__REPLY__BODY_MEMBERS;
    rep->members = mr;
}

static long member_at(const struct mini *m, uint64_t id)
{
    for (size_t i = 0; i < m->n_members; i++) {
        if (m->member_ids[i] == id) {
            return (long)i;
        }
    }
    return -1;
}

/* Node add, node remove and leader transfer on the leader, the way mqd
 * answers them. Returns 0 to send no reply. */
static int answer_change(struct fake *f, const Mq__V1__Request *req,
                         Mq__V1__Reply *rep)
{
    struct mini *m = f->mini;
    int drop = 0;

    if (m->change_busy > 0) {
        m->change_busy--;
        rep->status = MQ__V1__STATUS__STATUS_NOT_DONE;
        rep->detail = "another membership or leadership change is in "
                      "progress: retry";
        return 1;
    }
    if (m->change_status != 0) {
        rep->status = (Mq__V1__Status)m->change_status;
        rep->detail = (char *)m->change_detail;
        return 1;
    }
    if (m->change_drop > 0) {
        m->change_drop--;
        drop = 1;
    }
    switch (req->body_case) {
    case MQ__V1__REQUEST__BODY_NODE_ADD:
        m->adds++;
        f->delay_ms = m->add_delay_ms;
        if (member_at(m, req->node_add->id) < 0) {
            m->member_ids[m->n_members++] = req->node_add->id;
        }
        break;
    case MQ__V1__REQUEST__BODY_NODE_REMOVE: {
        long at = member_at(m, req->node_remove->id);
        m->removes++;
        if (at < 0) {
            rep->status = MQ__V1__STATUS__STATUS_NOT_FOUND;
            rep->detail = "node is not a member";
            return 1;
        }
        m->member_ids[at] = m->member_ids[--m->n_members];
        break;
    }
    default: { /* transfer */
        uint64_t to = req->leader_transfer->id;
        m->transfers++;
        if (to == 0) {
            to = (uint64_t)(m->leader + 1) % m->n + 1;
        }
        m->leader = (int)to - 1;
        if (m->transfer_mode == TRANSFER_NOT_LEADER) {
            rep->status = MQ__V1__STATUS__STATUS_NOT_LEADER;
            rep->detail = "not the leader";
            rep->leader_url = m->fakes[m->leader].url;
            return 1;
        }
        if (m->transfer_mode == TRANSFER_INCOMPLETE) {
            rep->status = MQ__V1__STATUS__STATUS_UNAVAILABLE;
            rep->detail = "leadership transfer did not complete within the "
                          "election timeout: retry";
            return 1;
        }
        break;
    }
    }
    if (drop) {
        return 0;
    }
    answer_members(f, rep);
    return 1;
}

/* Fills @rep for @req. Returns 0 to send no reply at all. */
static int answer(struct fake *f, const Mq__V1__Request *req,
                  Mq__V1__Reply *rep)
{
    struct mini *m = f->mini;

    if ((req->body_case == MQ__V1__REQUEST__BODY_READ &&
         req->read->leader_only) ||
        (req->body_case == MQ__V1__REQUEST__BODY_MESSAGE_STATUS &&
         req->message_status->leader_only)) {
        if (f->index != m->leader) {
            rep->status = MQ__V1__STATUS__STATUS_NOT_LEADER;
            rep->detail = "not the leader";
            if (m->tell_leader && m->leader >= 0) {
                rep->leader_url = m->fakes[m->leader].url;
            }
            return 1;
        }
    }
    if (is_write(req)) {
        f->writes++;
        if (f->index != m->leader) {
            rep->status = MQ__V1__STATUS__STATUS_NOT_LEADER;
            rep->detail = "not the leader";
            if (m->tell_leader && m->leader >= 0) {
                rep->leader_url = m->fakes[m->leader].url;
            }
            return 1;
        }
        if (m->drop > 0) {
            m->drop--;
            if (req->body_case == MQ__V1__REQUEST__BODY_PUBLISH) {
                Mq__V1__Reply lost = MQ__V1__REPLY__INIT;
                answer_publish(f, req->publish, &lost); /* stored, no reply */
            }
            return 0;
        }
        if (m->fail_status != 0) {
            rep->status = (Mq__V1__Status)m->fail_status;
            rep->detail = (char *)m->fail_detail;
            return 1;
        }
    }
    switch (req->body_case) {
    case MQ__V1__REQUEST__BODY_PUBLISH:
        answer_publish(f, req->publish, rep);
        break;
    case MQ__V1__REQUEST__BODY_FETCH:
        answer_fetch(f, req->fetch, rep);
        break;
    case MQ__V1__REQUEST__BODY_READ:
        answer_read(f, req->read, rep);
        break;
    case MQ__V1__REQUEST__BODY_MESSAGE_STATUS:
        answer_message_status(f, req->message_status, rep);
        break;
    case MQ__V1__REQUEST__BODY_TOUCH:
        note_queue(m, req->touch->queue);
        m->settled_seq = req->touch->n_seqs > 0 ? req->touch->seqs[0] : 0;
        break;
    case MQ__V1__REQUEST__BODY_TERM:
        note_queue(m, req->term->queue);
        m->settled_seq = req->term->n_seqs > 0 ? req->term->seqs[0] : 0;
        note_text(m, req->term->reason);
        break;
    case MQ__V1__REQUEST__BODY_CANCEL:
        note_queue(m, req->cancel->queue);
        note_text(m, req->cancel->id);
        rep->body_case = MQ__V1__REPLY__BODY_CANCEL;
        rep->cancel = fake_alloc(f, sizeof *rep->cancel);
        mq__v1__cancel_reply__init(rep->cancel);
        rep->cancel->queue = "default/orders";
        rep->cancel->seq = 31;
        break;
    case MQ__V1__REQUEST__BODY_QUEUE_PURGE:
        note_queue(m, req->queue_purge->name);
        break;
    case MQ__V1__REQUEST__BODY_REDRIVE:
        note_queue(m, req->redrive->from);
        note_text(m, req->redrive->to);
        m->last_max = req->redrive->max_messages;
        rep->body_case = MQ__V1__REPLY__BODY_REDRIVE;
        rep->redrive = fake_alloc(f, sizeof *rep->redrive);
        mq__v1__redrive_reply__init(rep->redrive);
        rep->redrive->moved = req->redrive->max_messages / 2;
        rep->redrive->remaining = 7;
        break;
    case MQ__V1__REQUEST__BODY_ACK:
        m->ack_requests++;
        note_queue(m, req->ack->queue);
        record(m->acked, &m->n_acked, req->ack->seqs, req->ack->n_seqs);
        rep->body_case = MQ__V1__REPLY__BODY_ACK;
        rep->ack = fake_alloc(f, sizeof *rep->ack);
        mq__v1__ack_reply__init(rep->ack);
        rep->ack->done = (uint32_t)req->ack->n_seqs;
        break;
    case MQ__V1__REQUEST__BODY_NACK:
        record(m->nacked, &m->n_nacked, req->nack->seqs, req->nack->n_seqs);
        m->nack_delay = req->nack->delay_ms;
        rep->body_case = MQ__V1__REPLY__BODY_ACK;
        rep->ack = fake_alloc(f, sizeof *rep->ack);
        mq__v1__ack_reply__init(rep->ack);
        break;
    case MQ__V1__REQUEST__BODY_STATUS:
        answer_status(f, rep);
        break;
    case MQ__V1__REQUEST__BODY_MEMBERS:
        m->member_asks++;
        answer_members(f, rep);
        break;
    case MQ__V1__REQUEST__BODY_NODE_ADD:
    case MQ__V1__REQUEST__BODY_NODE_REMOVE:
    case MQ__V1__REQUEST__BODY_LEADER_TRANSFER:
        return answer_change(f, req, rep);
    case MQ__V1__REQUEST__BODY_QUEUE_CREATE:
        rep->body_case = MQ__V1__REPLY__BODY_QUEUE;
        rep->queue = fake_alloc(f, sizeof *rep->queue);
        mq__v1__queue_info__init(rep->queue);
        rep->queue->config = req->queue_create->config;
        rep->queue->created_at_ms = 77;
        break;
    case MQ__V1__REQUEST__BODY_QUEUE_INFO:
        rep->status = MQ__V1__STATUS__STATUS_NOT_FOUND;
        rep->detail = "get queue nosuch: no such queue";
        break;
    case MQ__V1__REQUEST__BODY_SUB_INFO:
        if (strcmp(req->sub_info->name, "nosuch") == 0) {
            rep->status = MQ__V1__STATUS__STATUS_NOT_FOUND;
            rep->detail = "get subscription orders/nosuch: no such "
                          "subscription";
            break;
        }
        rep->body_case = MQ__V1__REPLY__BODY_SUB;
        rep->sub = fake_alloc(f, sizeof *rep->sub);
        mq__v1__sub_info__init(rep->sub);
        break;
    case MQ__V1__REQUEST__BODY_QUEUE_LIST: {
        Mq__V1__QueueListReply *l = fake_alloc(f, sizeof *l);
        mq__v1__queue_list_reply__init(l);
        l->n_queues = 2;
        l->queues = fake_alloc(f, 2 * sizeof *l->queues);
        for (int i = 0; i < 2; i++) {
            Mq__V1__QueueInfo *qi = fake_alloc(f, sizeof *qi);
            Mq__V1__QueueConfig *qc = fake_alloc(f, sizeof *qc);
            mq__v1__queue_info__init(qi);
            mq__v1__queue_config__init(qc);
            qc->name = i == 0 ? "orders" : "mails";
            qi->config = qc;
            qi->messages = (uint64_t)i + 10;
            l->queues[i] = qi;
        }
        rep->body_case = MQ__V1__REPLY__BODY_QUEUES;
        rep->queues = l;
        break;
    }
    default:
        break; /* deletes: status OK, no body */
    }
    return 1;
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;

    for (;;) {
        Mq__V1__Reply rep = MQ__V1__REPLY__INIT;
        Mq__V1__Request *req;
        char *buf;
        size_t len;
        int send;

        if (nng_recv(f->sock, &buf, &len, NNG_FLAG_ALLOC) != 0) {
            break; /* closed */
        }
        req = mq__v1__request__unpack(NULL, len, (uint8_t *)buf);
        nng_free(buf, len);
        assert_non_null(req);
        f->requests++;
        pthread_mutex_lock(&f->mini->lock);
        send = !f->mute && answer(f, req, &rep);
        f->mini->last_body = req->body_case;
        if (send) {
            len = mq__v1__reply__get_packed_size(&rep);
            buf = malloc(len + 1);
            mq__v1__reply__pack(&rep, (uint8_t *)buf);
        }
        for (size_t i = 0; i < f->n_allocs; i++) {
            free(f->allocs[i]);
        }
        f->n_allocs = 0;
        pthread_mutex_unlock(&f->mini->lock);
        mq__v1__request__free_unpacked(req, NULL);
        if (send) {
            if (f->delay_ms > 0) {
                struct timespec ts = {(time_t)(f->delay_ms / 1000),
                                      (long)(f->delay_ms % 1000) * 1000000L};
                nanosleep(&ts, NULL);
                f->delay_ms = 0;
            }
            nng_send(f->sock, buf, len, 0);
            free(buf);
        }
    }
    return NULL;
}

static void fake_start(struct mini *m, int i)
{
    struct fake *f = &m->fakes[i];
    nng_listener l;
    nng_sockaddr sa;

    f->mini = m;
    f->index = i;
    assert_int_equal(nng_rep0_open(&f->sock), 0);
    assert_int_equal(nng_listen(f->sock, "tcp://127.0.0.1:0", &l, 0), 0);
    assert_int_equal(nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa), 0);
    snprintf(f->url, sizeof f->url, "tcp://127.0.0.1:%u",
             (unsigned)ntohs(sa.s_in.sa_port));
    assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static struct mini *mini_start(size_t n, int leader)
{
    struct mini *m = calloc(1, sizeof *m);

    assert_non_null(m);
    pthread_mutex_init(&m->lock, NULL);
    m->n = n;
    m->leader = leader;
    m->tell_leader = 1;
    for (size_t i = 0; i < n; i++) {
        m->member_ids[m->n_members++] = (uint64_t)i + 1;
        fake_start(m, (int)i);
    }
    return m;
}

static void mini_stop(struct mini *m)
{
    for (size_t i = 0; i < m->n; i++) {
        nng_close(m->fakes[i].sock);
        pthread_join(m->fakes[i].thread, NULL);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* Opens a client on the fake nodes listed in @which ("012", "0", ...) and
 * @extra URLs, with short timeouts. */
static mq_client *open_client(struct mini *m, const char *which,
                              const char *extra, mq_client_opts *o)
{
    mq_client_opts def = MQ_CLIENT_OPTS_INIT;
    char urls[512] = "";
    mq_client *c;

    if (o == NULL) {
        o = &def;
    }
    for (const char *p = which; *p != '\0'; p++) {
        if (urls[0] != '\0') {
            strcat(urls, ",");
        }
        strcat(urls, m->fakes[*p - '0'].url);
    }
    if (extra != NULL) {
        if (urls[0] != '\0') {
            strcat(urls, ",");
        }
        strcat(urls, extra);
    }
    o->urls = urls;
    if (o->timeout_ms == 0) {
        o->timeout_ms = 3000;
    }
    if (o->attempt_timeout_ms == 0) {
        o->attempt_timeout_ms = 500;
    }
    assert_int_equal(mq_client_open(&c, o), MQ_OK);
    return c;
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void assert_msg_has(const char *words)
{
    if (strstr(mq_errmsg(), words) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", mq_errmsg(), words);
    }
}

static const mq_pub msg_x = {NULL, "order.created", NULL, 0, "x", 1, 0};

/* ---- publish ------------------------------------------------------- */

static void test_publish_follows_redirect_and_remembers_leader(void **state)
{
    struct mini *m = mini_start(3, 2);
    mq_client *c = open_client(m, "012", NULL, NULL);
    mq_pub_result res;

    (void)state;
    assert_int_equal(mq_publish(c, "orders", &msg_x, &res, 0), MQ_OK);
    assert_int_equal(res.err, MQ_OK);
    assert_int_equal(res.seq, 1);
    assert_int_equal(strlen(res.id) > 0, 1);
    assert_int_equal(m->fakes[0].writes, 1); /* NOT_LEADER, naming 2 */
    assert_int_equal(m->fakes[1].writes, 0);
    assert_int_equal(m->fakes[2].writes, 1);
    assert_int_equal(mq_publish(c, "orders", &msg_x, &res, 0), MQ_OK);
    assert_int_equal(res.seq, 2);
    assert_int_equal(m->fakes[0].writes, 1); /* straight to the leader */
    assert_int_equal(m->fakes[2].writes, 2);
    mq_client_close(c);
    mini_stop(m);
}

static void test_publish_without_leader_hint_tries_next_node(void **state)
{
    struct mini *m = mini_start(3, 1);
    mq_client *c = open_client(m, "012", NULL, NULL);

    (void)state;
    m->tell_leader = 0;
    assert_int_equal(mq_publish(c, "orders", &msg_x, NULL, 0), MQ_OK);
    assert_int_equal(m->fakes[0].writes, 1);
    assert_int_equal(m->fakes[1].writes, 1);
    assert_int_equal(m->fakes[2].writes, 0);
    mq_client_close(c);
    mini_stop(m);
}

static void test_publish_redirect_to_unlisted_node_opens_it(void **state)
{
    struct mini *m = mini_start(2, 1);
    mq_client *c = open_client(m, "0", NULL, NULL);
    mq_pub_result res;

    (void)state;
    assert_int_equal(mq_publish(c, "orders", &msg_x, &res, 0), MQ_OK);
    assert_int_equal(res.seq, 1);
    assert_int_equal(m->fakes[1].writes, 1);
    mq_client_close(c);
    mini_stop(m);
}

static void test_publish_follows_leader_change(void **state)
{
    struct mini *m = mini_start(3, 0);
    mq_client *c = open_client(m, "012", NULL, NULL);

    (void)state;
    assert_int_equal(mq_publish(c, "orders", &msg_x, NULL, 0), MQ_OK);
    pthread_mutex_lock(&m->lock);
    m->leader = 2;
    pthread_mutex_unlock(&m->lock);
    assert_int_equal(mq_publish(c, "orders", &msg_x, NULL, 0), MQ_OK);
    assert_int_equal(m->fakes[0].writes, 2);
    assert_int_equal(m->fakes[2].writes, 1);
    mq_client_close(c);
    mini_stop(m);
}

static void test_publish_retry_after_lost_reply_sends_same_id(void **state)
{
    struct mini *m = mini_start(3, 0);
    mq_client_opts o = {.attempt_timeout_ms = 200, .timeout_ms = 5000};
    mq_client *c = open_client(m, "012", NULL, &o);
    mq_pub_result res;

    (void)state;
    m->dedup = 1;
    m->drop = 1; /* stored, but the reply is lost */
    assert_int_equal(mq_publish(c, "orders", &msg_x, &res, 0), MQ_OK);
    assert_int_equal(res.err, MQ_OK);
    assert_int_equal(res.duplicate, 1);
    assert_int_equal(res.seq, 1);
    assert_int_equal(m->n_ids, 1); /* stored once, under the same id */
    assert_string_equal(m->ids[0], res.id);
    assert_int_equal(m->publishes, 2);
    mq_client_close(c);
    mini_stop(m);
}

static void test_publish_given_id_is_kept_through_batch(void **state)
{
    struct mini *m = mini_start(1, 0);
    mq_client *c = open_client(m, "0", NULL, NULL);
    mq_pub msgs[3] = {msg_x, msg_x, msg_x};
    mq_pub_result res[3];

    (void)state;
    m->dedup = 1;
    msgs[0].id = "outbox-1";
    msgs[2].id = "outbox-1";
    assert_int_equal(mq_publish_batch(c, "orders", msgs, 3, res, 0), MQ_OK);
    assert_string_equal(res[0].id, "outbox-1");
    assert_int_equal(res[0].seq, 1);
    assert_int_equal(res[1].seq, 2);
    assert_string_not_equal(res[1].id, "outbox-1");
    assert_string_equal(res[2].id, "outbox-1");
    assert_int_equal(res[2].duplicate, 1);
    assert_int_equal(res[2].seq, 1);
    mq_client_close(c);
    mini_stop(m);
}

static void test_publish_refused_returns_node_detail_at_once(void **state)
{
    struct mini *m = mini_start(3, 0);
    mq_client *c = open_client(m, "012", NULL, NULL);
    mq_pub_result res;

    (void)state;
    m->fail_status = MQ_ERR_NOT_FOUND;
    m->fail_detail = "queue orders does not exist";
    assert_int_equal(mq_publish(c, "orders", &msg_x, &res, 0),
                     MQ_ERR_NOT_FOUND);
    assert_string_equal(mq_errmsg(),
                        "publish to orders: queue orders does not exist");
    assert_int_equal(res.err, MQ_ERR_NOT_FOUND);
    assert_int_equal(m->fakes[0].requests, 1); /* not retried */
    assert_int_equal(m->fakes[1].requests, 0);
    /* The node's detail already names the operation: said once. */
    m->fail_detail = "publish to orders: queue orders does not exist";
    assert_int_equal(mq_publish(c, "orders", &msg_x, NULL, 0),
                     MQ_ERR_NOT_FOUND);
    assert_string_equal(mq_errmsg(),
                        "publish to orders: queue orders does not exist");
    mq_client_close(c);
    mini_stop(m);
}

static void test_publish_message_refused_gets_its_error(void **state)
{
    struct mini *m = mini_start(1, 0);
    mq_client *c = open_client(m, "0", NULL, NULL);
    mq_pub msgs[2] = {msg_x, msg_x};
    mq_pub_result res[2];

    (void)state;
    m->msg_status = MQ_ERR_FULL;
    assert_int_equal(mq_publish(c, "orders", &msg_x, res, 0), MQ_ERR_FULL);
    assert_string_equal(mq_errmsg(), "publish to orders: queue orders is "
                                     "full (max_messages 2)");
    /* A batch is answered: each message says what happened. */
    assert_int_equal(mq_publish_batch(c, "orders", msgs, 2, res, 0), MQ_OK);
    assert_int_equal(res[0].err, MQ_ERR_FULL);
    assert_int_equal(res[1].err, MQ_ERR_FULL);
    assert_int_equal(res[1].seq, 0);
    mq_client_close(c);
    mini_stop(m);
}

static void test_batch_sends_the_messages_that_pass_checks(void **state)
{
    struct mini *m = mini_start(1, 0);
    mq_client *c = open_client(m, "0", NULL, NULL);
    mq_pub msgs[3] = {msg_x, msg_x, msg_x};
    mq_pub_result res[3];

    (void)state;
    msgs[0].id = "ok-1";
    msgs[1].id = "bad-2";
    msgs[1].event = "bad..event";
    msgs[2].id = "ok-3";
    assert_int_equal(mq_publish_batch(c, "orders", msgs, 3, res, 0), MQ_OK);
    assert_int_equal(m->max_batch, 2); /* the bad one was not sent */
    assert_int_equal(res[0].err, MQ_OK);
    assert_int_equal(res[0].seq, 1);
    assert_string_equal(res[0].id, "ok-1");
    assert_int_equal(res[1].err, MQ_ERR_INVALID);
    assert_int_equal(res[1].seq, 0);
    assert_int_equal(res[1].durable, 0);
    assert_string_equal(res[1].id, "bad-2");
    assert_int_equal(res[2].err, MQ_OK);
    assert_int_equal(res[2].seq, 2);
    assert_int_equal(res[2].index, FAKE_INDEX);
    assert_msg_has("publish to orders: message 2: event name \"bad..event\" "
                   "has an empty token");
    /* All or nothing: nothing sent. */
    assert_int_equal(
        mq_publish_batch_flags(c, "orders", msgs, 3, MQ_PUBLISH_ATOMIC, res, 0),
        MQ_ERR_INVALID);
    assert_int_equal(m->publishes, 1);
    assert_int_equal(res[0].err, MQ_ERR_INVALID);
    mq_client_close(c);
    mini_stop(m);
}

static void test_publish_with_no_node_up_is_not_done(void **state)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_pub_result res;
    mq_client *c;
    uint64_t t0;

    (void)state;
    o.urls = "tcp://127.0.0.1:1,tcp://127.0.0.1:2";
    o.attempt_timeout_ms = 200;
    assert_int_equal(mq_client_open(&c, &o), MQ_OK);
    t0 = now_ms();
    assert_int_equal(mq_publish(c, "orders", &msg_x, &res, 600),
                     MQ_ERR_NOT_DONE);
    assert_true(now_ms() - t0 >= 400 && now_ms() - t0 < 2000);
    assert_msg_has("publish to orders: no quorum: 0 of 2 nodes reachable; "
                   "not done (not connected to tcp://127.0.0.1:");
    assert_msg_has("gave up after 600 ms");
    assert_int_equal(res.err, MQ_ERR_NOT_DONE);
    assert_true(strlen(res.id) > 0); /* to publish again with it */
    mq_client_close(c);
}

static void test_publish_without_reply_is_timeout(void **state)
{
    struct mini *m = mini_start(1, 0);
    mq_client_opts o = {.attempt_timeout_ms = 100};
    mq_client *c = open_client(m, "0", NULL, &o);

    (void)state;
    m->drop = 1000;
    assert_int_equal(mq_publish(c, "orders", &msg_x, NULL, 350),
                     MQ_ERR_TIMEOUT);
    assert_msg_has("no reply from tcp://127.0.0.1:");
    assert_true(m->publishes >= 2); /* retried within the deadline */
    mq_client_close(c);
    mini_stop(m);
}

/* ---- async publish ------------------------------------------------- */

#define ASYNC_N 5000

struct async_seen {
    _Atomic int calls;
    _Atomic int errors[16];
    uint8_t seqs[ASYNC_N + 1]; /* each seq seen once */
    pthread_mutex_t lock;
};

static void async_cb(void *arg, const mq_pub_result *res)
{
    struct async_seen *s = arg;

    s->calls++;
    s->errors[res->err < 16 ? res->err : 0]++;
    if (res->err == MQ_OK && res->seq <= ASYNC_N) {
        pthread_mutex_lock(&s->lock);
        s->seqs[res->seq]++;
        pthread_mutex_unlock(&s->lock);
    }
}

/* An async callback that checks the durability of the result. */
static void index_cb(void *arg, const mq_pub_result *res)
{
    struct async_seen *s = arg;

    async_cb(arg, res);
    if (!res->durable || res->index != FAKE_INDEX) {
        s->errors[15]++;
    }
}

static void test_async_publish_batches_and_calls_back_once(void **state)
{
    struct mini *m = mini_start(3, 1);
    mq_client_opts o = {.batch_max_messages = 100,
                        .max_inflight_batches = 4,
                        .max_pending_messages = 1000};
    mq_client *c = open_client(m, "012", NULL, &o);
    struct async_seen *s = calloc(1, sizeof *s);

    (void)state;
    pthread_mutex_init(&s->lock, NULL);
    for (int i = 0; i < ASYNC_N; i++) {
        assert_int_equal(mq_publish_async(c, "orders", &msg_x, async_cb, s),
                         MQ_OK);
    }
    assert_int_equal(mq_flush(c, 5000), MQ_OK);
    assert_int_equal(s->calls, ASYNC_N); /* every one done at flush */
    assert_int_equal(s->errors[MQ_OK], ASYNC_N);
    for (int i = 1; i <= ASYNC_N; i++) {
        assert_int_equal(s->seqs[i], 1);
    }
    assert_true(m->max_batch <= 100);
    assert_true(m->publishes >= ASYNC_N / 100);
    assert_true(m->publishes < ASYNC_N / 4); /* batched, not one by one */
    mq_client_close(c);
    assert_int_equal(s->calls, ASYNC_N); /* none called twice */
    pthread_mutex_destroy(&s->lock);
    free(s);
    mini_stop(m);
}

static void test_async_close_cancels_pending_once(void **state)
{
    struct mini *m = mini_start(1, 0);
    mq_client *c = open_client(m, "0", NULL, NULL);
    struct async_seen *s = calloc(1, sizeof *s);

    (void)state;
    pthread_mutex_init(&s->lock, NULL);
    m->drop = 1000; /* nothing is ever answered */
    for (int i = 0; i < 10; i++) {
        assert_int_equal(mq_publish_async(c, "orders", &msg_x, async_cb, s),
                         MQ_OK);
    }
    mq_client_close(c);
    assert_int_equal(s->calls, 10);
    assert_int_equal(s->errors[MQ_ERR_CANCELED], 10);
    pthread_mutex_destroy(&s->lock);
    free(s);
    mini_stop(m);
}

/* A callback that holds its sender thread until the test lets it go. */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int entered, open;
};

static void gate_cb(void *arg, const mq_pub_result *res)
{
    struct gate *g = arg;

    (void)res;
    pthread_mutex_lock(&g->lock);
    g->entered = 1;
    pthread_cond_broadcast(&g->cv);
    while (!g->open) {
        pthread_cond_wait(&g->cv, &g->lock);
    }
    pthread_mutex_unlock(&g->lock);
}

static void test_async_full_pending_times_out(void **state)
{
    struct mini *m = mini_start(1, 0);
    mq_client_opts o = {.max_pending_messages = 10,
                        .max_inflight_batches = 1,
                        .timeout_ms = 300};
    mq_client *c = open_client(m, "0", NULL, &o);
    struct async_seen *s = calloc(1, sizeof *s);
    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    uint64_t t0;

    (void)state;
    pthread_mutex_init(&s->lock, NULL);
    /* The only sender is held in a callback: nothing else gets sent. */
    assert_int_equal(mq_publish_async(c, "orders", &msg_x, gate_cb, &g), MQ_OK);
    pthread_mutex_lock(&g.lock);
    while (!g.entered) {
        pthread_cond_wait(&g.cv, &g.lock);
    }
    pthread_mutex_unlock(&g.lock);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(mq_publish_async(c, "orders", &msg_x, async_cb, s),
                         MQ_OK);
    }
    t0 = now_ms();
    assert_int_equal(mq_publish_async(c, "orders", &msg_x, async_cb, s),
                     MQ_ERR_TIMEOUT);
    assert_true(now_ms() - t0 >= 290);
    assert_string_equal(mq_errmsg(), "publish to orders: 10 messages are "
                                     "pending and none completed within "
                                     "300 ms");
    assert_int_equal(mq_flush(c, 50), MQ_ERR_TIMEOUT);
    assert_msg_has("flush: 10 messages still pending");
    pthread_mutex_lock(&g.lock);
    g.open = 1;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.lock);
    assert_int_equal(mq_flush(c, 2000), MQ_OK);
    assert_int_equal(s->calls, 10); /* the refused one is never called */
    assert_int_equal(s->errors[MQ_OK], 10);
    mq_client_close(c);
    pthread_mutex_destroy(&s->lock);
    free(s);
    mini_stop(m);
}

/* ---- fetch, ack, subscribe ----------------------------------------- */

static void test_fetch_ack_and_nack_reach_the_leader(void **state)
{
    struct mini *m = mini_start(2, 1);
    mq_client *c = open_client(m, "01", NULL, NULL);
    uint64_t seqs[2];
    mq_msg **msgs;
    size_t n, len;

    (void)state;
    m->deliveries = 3;
    assert_int_equal(mq_fetch(c, "orders", "mailer", 10, 50, &msgs, &n), MQ_OK);
    assert_int_equal(n, 3);
    assert_int_equal(m->last_max_wait, 50);
    assert_string_equal(mq_msg_queue(msgs[0]), "default/orders");
    assert_string_equal(mq_msg_sub(msgs[0]), "mailer");
    assert_string_equal(mq_msg_id(msgs[2]), "m-3");
    assert_int_equal(mq_msg_seq(msgs[2]), 3);
    assert_memory_equal(mq_msg_payload(msgs[1], &len), "payload", 7);
    assert_int_equal(mq_ack(c, msgs[0], 0), MQ_OK);
    seqs[0] = mq_msg_seq(msgs[1]);
    seqs[1] = mq_msg_seq(msgs[2]);
    assert_int_equal(mq_ack_seqs(c, "orders", "mailer", seqs, 2, 0), MQ_OK);
    assert_int_equal(mq_nack(c, msgs[1], 250, 0), MQ_OK);
    assert_int_equal(m->n_acked, 3);
    assert_int_equal(m->acked[0], 1);
    assert_int_equal(m->acked[2], 3);
    assert_int_equal(m->n_nacked, 1);
    assert_int_equal(m->nacked[0], 2);
    assert_int_equal(m->nack_delay, 250);
    mq_msgs_free(msgs, n);
    /* Nothing left: an empty answer, not an error. */
    assert_int_equal(mq_fetch(c, "orders", "mailer", 10, 10, &msgs, &n), MQ_OK);
    assert_int_equal(n, 0);
    mq_msgs_free(msgs, n);
    assert_int_equal(mq_fetch(c, "orders", "mailer", 0, 10, &msgs, &n),
                     MQ_ERR_INVALID);
    assert_msg_has("max_messages is 0");
    mq_client_close(c);
    mini_stop(m);
}

static _Atomic int sub_calls;

static mq_action sub_cb(void *arg, mq_msg *msg)
{
    (void)arg;
    sub_calls++;
    switch (mq_msg_seq(msg)) {
    case 2:
        return MQ_ACTION_NACK;
    case 3:
        mq_msg_free(msg); /* kept, and done with */
        return MQ_ACTION_KEEP;
    default:
        return MQ_ACTION_ACK;
    }
}

static void test_subscribe_acks_and_nacks_each_fetch_at_once(void **state)
{
    struct mini *m = mini_start(1, 0);
    mq_client *c = open_client(m, "0", NULL, NULL);
    mq_subscribe_opts so = {
        .batch = 10, .max_wait_ms = 20, .nack_delay_ms = 100};
    mq_subscriber *s;
    uint64_t deadline = now_ms() + 5000;
    int done = 0;

    (void)state;
    m->deliveries = 4;
    sub_calls = 0;
    assert_int_equal(mq_subscribe(c, "orders", "mailer", &so, sub_cb, NULL, &s),
                     MQ_OK);
    while (!done && now_ms() < deadline) {
        struct timespec ts = {0, 5000000};
        pthread_mutex_lock(&m->lock);
        done = m->n_acked == 2 && m->n_nacked == 1;
        pthread_mutex_unlock(&m->lock);
        nanosleep(&ts, NULL);
    }
    mq_subscriber_stop(s);
    assert_true(done);
    assert_int_equal(sub_calls, 4);
    assert_int_equal(m->ack_requests, 1); /* one request for the fetch */
    assert_int_equal(m->acked[0], 1);
    assert_int_equal(m->acked[1], 4);
    assert_int_equal(m->nacked[0], 2);
    assert_int_equal(m->nack_delay, 100);
    mq_client_close(c);
    mini_stop(m);
}

static void test_subscribe_stop_returns_within_a_fetch(void **state)
{
    struct mini *m = mini_start(1, 0);
    mq_client *c = open_client(m, "0", NULL, NULL);
    mq_subscribe_opts so = {.max_wait_ms = 50};
    mq_subscriber *s;
    uint64_t t0;

    (void)state;
    m->drop = 1000; /* fetches are never answered */
    assert_int_equal(mq_subscribe(c, "orders", "mailer", &so, sub_cb, NULL, &s),
                     MQ_OK);
    t0 = now_ms();
    mq_subscriber_stop(s); /* within max_wait + attempt timeout (500) */
    assert_true(now_ms() - t0 < 50 + 500 + 300);
    mq_client_close(c);
    mini_stop(m);
}

static void test_subscribe_to_missing_sub_fails_without_starting(void **state)
{
    struct mini *m = mini_start(1, 0);
    mq_client *c = open_client(m, "0", NULL, NULL);
    mq_subscriber *s = (mq_subscriber *)1;

    (void)state;
    assert_int_equal(
        mq_subscribe(c, "orders", "nosuch", NULL, sub_cb, NULL, &s),
        MQ_ERR_NOT_FOUND);
    assert_null(s);
    assert_string_equal(mq_errmsg(), "subscribe: get subscription "
                                     "orders/nosuch: no such subscription");
    assert_int_equal(m->fakes[0].writes, 0); /* no fetch was sent */
    assert_int_equal(
        mq_subscribe(c, "orders", "bad name", NULL, sub_cb, NULL, &s),
        MQ_ERR_INVALID);
    assert_msg_has("subscribe: subscription name has a character");
    mq_client_close(c);
    mini_stop(m);
}

/* ---- reads from followers ------------------------------------------ */

/* The fake node that answered reads, other than @not; -1 if none did. */
static int reader_of(struct mini *m, int not )
{
    for (size_t i = 0; i < m->n; i++) {
        if ((int)i != not &&m->fakes[i].reads > 0) {
            return (int)i;
        }
    }
    return -1;
}

static void test_read_goes_to_a_follower_and_stays_there(void **state)
{
    struct mini *m = mini_start(3, 1);
    mq_client *c = open_client(m, "012", NULL, NULL);
    mq_read_opts ro = MQ_READ_OPTS_INIT;
    mq_read_info info;
    mq_msg **msgs;
    size_t n;

    int f;

    (void)state;
    /* No leader known: node 0 is asked who leads (node 1), then a
     * follower, 0 or 2, answers the read itself. */
    assert_int_equal(mq_read(c, "orders", NULL, &msgs, &n, &info, 0), MQ_OK);
    assert_int_equal(n, 5);
    assert_int_equal(m->last_max, 100); /* the default */
    assert_int_equal(m->last_wait, 0);  /* no min_index: no wait */
    assert_int_equal(m->fakes[1].reads, 0);
    f = reader_of(m, 1);
    assert_true(f == 0 || f == 2);
    assert_int_equal(m->fakes[f].reads, 1);
    assert_int_equal(info.node_id, (uint64_t)f + 1);
    assert_int_equal(info.applied_index, 900 + (uint64_t)f);
    assert_int_equal(info.first_seq, 1);
    assert_int_equal(info.last_seq, 5);
    assert_string_equal(mq_msg_queue(msgs[0]), "default/orders");
    assert_string_equal(mq_msg_sub(msgs[0]), "");
    assert_int_equal(mq_msg_attempt(msgs[0]), 0);
    assert_true(mq_msg_deliver_at(msgs[1]) == 90000);
    assert_true(mq_msg_deliver_at(msgs[2]) == mq_msg_published_at(msgs[2]));
    /* A read message was not delivered: nothing to ack. */
    assert_int_equal(mq_ack(c, msgs[0], 0), MQ_ERR_INVALID);
    assert_msg_has("the message was read, not delivered");
    mq_msgs_free(msgs, n);
    /* The leader is known after a write; reads stay on the follower. */
    assert_int_equal(mq_publish(c, "orders", &msg_x, NULL, 0), MQ_OK);
    ro.from_seq = 4;
    ro.max_messages = 10;
    ro.min_index = FAKE_INDEX;
    assert_int_equal(mq_read(c, "orders", &ro, &msgs, &n, NULL, 0), MQ_OK);
    assert_int_equal(n, 2);
    assert_int_equal(mq_msg_seq(msgs[0]), 4);
    assert_int_equal(m->last_min_index, FAKE_INDEX);
    assert_int_equal(m->last_wait, 5000); /* the default wait */
    mq_msgs_free(msgs, n);
    assert_int_equal(m->fakes[f].reads, 2);
    assert_int_equal(m->fakes[1].reads, 0);
    assert_int_equal(m->fakes[2 - f].reads, 0);
    mq_client_close(c);
    mini_stop(m);
}

static void test_read_skips_a_silent_follower_before_the_leader(void **state)
{
    struct mini *m = mini_start(3, 1);
    mq_client_opts o = {.attempt_timeout_ms = 200};
    mq_client *c = open_client(m, "012", NULL, &o);
    mq_msg **msgs;
    size_t n;
    int f, other;

    (void)state;
    assert_int_equal(mq_publish(c, "orders", &msg_x, NULL, 0), MQ_OK);
    assert_int_equal(mq_read(c, "orders", NULL, &msgs, &n, NULL, 0), MQ_OK);
    mq_msgs_free(msgs, n);
    f = reader_of(m, 1);
    other = 2 - f;
    /* The reader falls silent: the other follower is tried before the
     * leader (which comes next in turn after node 0). */
    m->fakes[f].mute = 1;
    assert_int_equal(mq_read(c, "orders", NULL, &msgs, &n, NULL, 0), MQ_OK);
    mq_msgs_free(msgs, n);
    assert_int_equal(m->fakes[other].reads, 1);
    assert_int_equal(m->fakes[1].reads, 0);
    /* No follower answers: the leader does. */
    m->fakes[other].mute = 1;
    assert_int_equal(mq_read(c, "orders", NULL, &msgs, &n, NULL, 0), MQ_OK);
    mq_msgs_free(msgs, n);
    assert_int_equal(m->fakes[1].reads, 1);
    mq_client_close(c);
    mini_stop(m);
}

static void test_read_from_leader_when_asked(void **state)
{
    struct mini *m = mini_start(3, 2);
    mq_client_opts o = {.reads_from_leader = 1};
    mq_client *c = open_client(m, "012", NULL, &o);
    mq_msg_status *st;
    mq_msg **msgs;
    size_t n;

    (void)state;
    m->statuses = 1;
    assert_int_equal(mq_read(c, "orders", NULL, &msgs, &n, NULL, 0), MQ_OK);
    mq_msgs_free(msgs, n);
    assert_int_equal(mq_message_status(c, "o-1", NULL, &st, &n, 0), MQ_OK);
    mq_msg_status_free(st, n);
    assert_int_equal(m->fakes[2].reads, 2);
    assert_int_equal(m->fakes[0].reads + m->fakes[1].reads, 0);
    mq_client_close(c);
    mini_stop(m);
}

static void test_read_on_one_follower_url_stays_on_it(void **state)
{
    struct mini *m = mini_start(3, 0);
    mq_client *c = open_client(m, "2", NULL, NULL);
    mq_read_info info;
    mq_msg **msgs;
    size_t n;

    (void)state;
    /* The client learns of the leader (node 0), and still reads from the
     * node it was given. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(mq_read(c, "orders", NULL, &msgs, &n, &info, 0),
                         MQ_OK);
        mq_msgs_free(msgs, n);
        assert_int_equal(info.node_id, 3);
    }
    assert_int_equal(m->fakes[2].reads, 3);
    assert_int_equal(m->fakes[0].reads, 0);
    mq_client_close(c);
    mini_stop(m);
}

/* ---- message status, cancel, the other verbs ----------------------- */

static void test_message_status_decodes_every_queue(void **state)
{
    struct mini *m = mini_start(2, 1);
    mq_client *c = open_client(m, "01", NULL, NULL);
    mq_msg_status *st = NULL;
    size_t n = 0;

    (void)state;
    m->statuses = 2;
    assert_int_equal(mq_message_status(c, "o-1", NULL, &st, &n, 0), MQ_OK);
    assert_int_equal(m->fakes[0].reads, 1); /* the follower */
    assert_int_equal(m->fakes[1].reads, 0);
    assert_string_equal(m->last_queue, "");
    assert_int_equal(n, 2);
    assert_string_equal(st[0].queue, "default/orders");
    assert_int_equal(st[0].seq, 17);
    assert_string_equal(st[0].id, "o-1");
    assert_string_equal(st[0].event, "order.created");
    assert_int_equal(st[0].published_at_ms, 1000);
    assert_int_equal(st[0].deliver_at_ms, 61000);
    assert_int_equal(st[0].state, MQ_MSG_DEAD_LETTERED);
    assert_int_equal(st[0].gone_at_ms, 99000);
    assert_int_equal(st[0].n_subs, 0);
    assert_null(st[0].subs);
    assert_string_equal(st[1].queue, "default/orders.dlq");
    assert_int_equal(st[1].state, MQ_MSG_STORED);
    assert_int_equal(st[1].n_subs, 2);
    assert_string_equal(st[1].subs[0].name, "mailer");
    assert_int_equal(st[1].subs[0].state, MQ_SUB_DELIVERED);
    assert_int_equal(st[1].subs[0].attempts, 3);
    assert_int_equal(st[1].subs[0].last_delivery_ms, 70000);
    assert_int_equal(st[1].subs[0].acked_at_ms, 0);
    assert_string_equal(st[1].subs[1].name, "audit");
    assert_int_equal(st[1].subs[1].state, MQ_SUB_FILTERED);
    mq_msg_status_free(st, n);
    mq_msg_status_free(NULL, 0);
    /* None: no longer known. */
    m->statuses = 0;
    assert_int_equal(mq_message_status(c, "o-2", "orders", &st, &n, 0),
                     MQ_ERR_NOT_FOUND);
    assert_string_equal(m->last_queue, "orders");
    assert_string_equal(mq_errmsg(), "message status o-2 in orders: no longer "
                                     "known (or never stored)");
    assert_null(st);
    assert_int_equal(n, 0);
    /* The node's own NOT_FOUND. */
    m->status_code = MQ_ERR_NOT_FOUND;
    assert_int_equal(mq_message_status(c, "o-1", "nosuch", &st, &n, 0),
                     MQ_ERR_NOT_FOUND);
    assert_string_equal(mq_errmsg(),
                        "message status o-1 in nosuch: no such queue");
    mq_client_close(c);
    mini_stop(m);
}

static void test_status_after_own_write_waits_for_it(void **state)
{
    struct mini *m = mini_start(3, 1);
    mq_client_opts o = {.attempt_timeout_ms = 400};
    mq_client *c = open_client(m, "012", NULL, &o);
    mq_msg_status *st;
    mq_msg **msgs;
    size_t n;

    (void)state;
    m->statuses = 1;
    /* Nothing written: a follower answers from what it has. */
    assert_int_equal(mq_message_status(c, "o-1", NULL, &st, &n, 0), MQ_OK);
    mq_msg_status_free(st, n);
    assert_int_equal(m->fakes[0].reads + m->fakes[2].reads, 1);
    assert_int_equal(m->fakes[1].reads, 0);
    assert_int_equal(m->last_min_index, 0);
    assert_int_equal(m->last_wait, 0);
    /* Published at FAKE_INDEX: the follower is asked to answer once it
     * has applied that (waiting half an attempt at most), reads alike. */
    assert_int_equal(mq_publish(c, "orders", &msg_x, NULL, 0), MQ_OK);
    assert_int_equal(mq_message_status(c, "o-1", NULL, &st, &n, 0), MQ_OK);
    mq_msg_status_free(st, n);
    assert_int_equal(m->fakes[0].reads + m->fakes[2].reads, 2);
    assert_int_equal(m->fakes[1].reads, 0);
    assert_int_equal(m->last_min_index, FAKE_INDEX);
    assert_int_equal(m->last_wait, 201);
    assert_int_equal(mq_read(c, "orders", NULL, &msgs, &n, NULL, 0), MQ_OK);
    mq_msgs_free(msgs, n);
    assert_int_equal(m->last_min_index, FAKE_INDEX);
    /* A follower's NOT_FOUND is its answer once it has applied the
     * write: final. */
    m->status_code = MQ_ERR_NOT_FOUND;
    assert_int_equal(mq_message_status(c, "o-1", NULL, &st, &n, 0),
                     MQ_ERR_NOT_FOUND);
    assert_int_equal(m->fakes[1].reads, 0);
    mq_client_close(c);
    mini_stop(m);
}

static void
test_settle_verbs_cancel_purge_redrive_reach_the_leader(void **state)
{
    struct mini *m = mini_start(2, 1);
    mq_client *c = open_client(m, "01", NULL, NULL);
    mq_msg **msgs;
    uint64_t seq, left;
    uint32_t moved;
    size_t n;

    (void)state;
    m->deliveries = 2;
    assert_int_equal(mq_fetch(c, "orders", "mailer", 10, 10, &msgs, &n), MQ_OK);
    assert_int_equal(n, 2);
    assert_string_equal(m->last_queue, "orders");
    assert_string_equal(mq_msg_queue(msgs[0]), "default/orders");
    assert_int_equal(mq_touch(c, msgs[0], 0), MQ_OK);
    assert_int_equal(m->last_body, MQ__V1__REQUEST__BODY_TOUCH);
    assert_string_equal(m->last_queue, "default/orders");
    assert_int_equal(m->settled_seq, 1);
    assert_int_equal(mq_term(c, msgs[1], "bad address", 0), MQ_OK);
    assert_int_equal(m->last_body, MQ__V1__REQUEST__BODY_TERM);
    assert_int_equal(m->settled_seq, 2);
    assert_string_equal(m->last_text, "bad address");
    assert_int_equal(mq_term(c, msgs[1], NULL, 0), MQ_OK);
    assert_string_equal(m->last_text, "");
    mq_msgs_free(msgs, n);
    assert_int_equal(mq_cancel(c, "o-9", NULL, &seq, 0), MQ_OK);
    assert_int_equal(m->last_body, MQ__V1__REQUEST__BODY_CANCEL);
    assert_string_equal(m->last_text, "o-9");
    assert_string_equal(m->last_queue, "");
    assert_int_equal(seq, 31);
    assert_int_equal(mq_queue_purge(c, "orders", 0), MQ_OK);
    assert_int_equal(m->last_body, MQ__V1__REQUEST__BODY_QUEUE_PURGE);
    assert_string_equal(m->last_queue, "orders");
    assert_int_equal(
        mq_queue_redrive(c, "orders.dlq", "orders", 100, &moved, &left, 0),
        MQ_OK);
    assert_string_equal(m->last_queue, "orders.dlq");
    assert_string_equal(m->last_text, "orders");
    assert_int_equal(m->last_max, 100);
    assert_int_equal(moved, 50);
    assert_int_equal(left, 7);
    assert_int_equal(m->fakes[0].writes, 1); /* the first, redirected */
    mq_client_close(c);
    mini_stop(m);
}

static void test_publish_carries_delay_atomic_and_gets_index(void **state)
{
    struct mini *m = mini_start(1, 0);
    mq_client *c = open_client(m, "0", NULL, NULL);
    mq_pub msgs[2] = {msg_x, msg_x};
    mq_pub_result res[2];
    struct async_seen *s = calloc(1, sizeof *s);

    (void)state;
    msgs[0].delay_ms = 86400000;
    assert_int_equal(mq_publish(c, "orders", &msgs[0], res, 0), MQ_OK);
    assert_int_equal(m->last_delay, 86400000);
    assert_int_equal(m->last_atomic, 0);
    assert_int_equal(res[0].durable, 1);
    assert_int_equal(res[0].index, FAKE_INDEX);
    assert_int_equal(
        mq_publish_batch_flags(c, "orders", msgs, 2, MQ_PUBLISH_ATOMIC, res, 0),
        MQ_OK);
    assert_int_equal(m->last_atomic, 1);
    assert_int_equal(res[1].durable, 1);
    assert_int_equal(res[1].index, FAKE_INDEX);
    /* A refused message got no durability. */
    m->msg_status = MQ_ERR_FULL;
    assert_int_equal(mq_publish_batch(c, "orders", msgs, 2, res, 0), MQ_OK);
    assert_int_equal(m->last_atomic, 0);
    assert_int_equal(res[0].durable, 0);
    assert_int_equal(res[0].index, 0);
    m->msg_status = 0;
    /* Asynchronous publishes carry the delay and get the index too. */
    pthread_mutex_init(&s->lock, NULL);
    msgs[0].delay_ms = 1500;
    assert_int_equal(mq_publish_async(c, "orders", &msgs[0], index_cb, s),
                     MQ_OK);
    assert_int_equal(mq_flush(c, 2000), MQ_OK);
    assert_int_equal(s->calls, 1);
    assert_int_equal(s->errors[MQ_OK], 1);
    assert_int_equal(m->last_delay, 1500);
    mq_client_close(c);
    pthread_mutex_destroy(&s->lock);
    free(s);
    mini_stop(m);
}

static void test_namespace_prefixes_names_without_one(void **state)
{
    struct mini *m = mini_start(1, 0);
    mq_client_opts o = {.ns = "prd"};
    mq_client *c = open_client(m, "0", NULL, &o);
    mq_queue_config qc = {.name = "orders", .dead_letter_queue = "dead"};
    mq_sub_info si;
    mq_msg **msgs;
    size_t n;

    (void)state;
    assert_int_equal(mq_publish(c, "orders", &msg_x, NULL, 0), MQ_OK);
    assert_string_equal(m->last_queue, "prd/orders");
    assert_int_equal(mq_publish(c, "stg/orders", &msg_x, NULL, 0), MQ_OK);
    assert_string_equal(m->last_queue, "stg/orders");
    assert_int_equal(mq_publish_async(c, "orders", &msg_x, NULL, NULL), MQ_OK);
    assert_int_equal(mq_flush(c, 2000), MQ_OK);
    assert_string_equal(m->last_queue, "prd/orders");
    m->deliveries = 1;
    assert_int_equal(mq_fetch(c, "orders", "mailer", 10, 10, &msgs, &n), MQ_OK);
    assert_string_equal(m->last_queue, "prd/orders");
    assert_string_equal(mq_msg_queue(msgs[0]), "prd/orders");
    assert_int_equal(mq_ack(c, msgs[0], 0), MQ_OK);
    assert_string_equal(m->last_queue, "prd/orders");
    mq_msgs_free(msgs, n);
    assert_int_equal(mq_ack_seqs(c, "orders", "mailer", (uint64_t[]){1}, 1, 0),
                     MQ_OK);
    assert_string_equal(m->last_queue, "prd/orders");
    assert_int_equal(mq_read(c, "orders", NULL, &msgs, &n, NULL, 0), MQ_OK);
    assert_string_equal(m->last_queue, "prd/orders");
    assert_string_equal(mq_msg_queue(msgs[0]), "prd/orders");
    mq_msgs_free(msgs, n);
    assert_int_equal(mq_queue_create(c, &qc, NULL, 0), MQ_OK);
    assert_int_equal(mq_sub_info_get(c, "orders", "mailer", &si, 0), MQ_OK);
    assert_int_equal(mq_queue_info_get(c, "orders", NULL, 0), MQ_ERR_INVALID);
    assert_int_equal(mq_queue_info_get(c, "orders", &(mq_queue_info){0}, 0),
                     MQ_ERR_NOT_FOUND);
    assert_string_equal(mq_errmsg(), "get queue prd/orders: get queue nosuch: "
                                     "no such queue");
    mq_client_close(c);
    mini_stop(m);
}

/* ---- admin and status ---------------------------------------------- */

static void test_queue_admin_maps_replies(void **state)
{
    struct mini *m = mini_start(2, 0);
    mq_client *c = open_client(m, "01", NULL, NULL);
    mq_queue_config cfg = {
        .name = "orders", .retention = MQ_RETENTION_WORK, .max_age_ms = 60000};
    mq_queue_info info, *list;
    size_t n;

    (void)state;
    assert_int_equal(mq_queue_create(c, &cfg, &info, 0), MQ_OK);
    assert_string_equal(info.name, "orders");
    assert_int_equal(info.retention, MQ_RETENTION_WORK);
    assert_int_equal(info.max_age_ms, 60000);
    assert_int_equal(info.created_at_ms, 77);
    assert_int_equal(mq_queue_list(c, &list, &n, 0), MQ_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[1].name, "mails");
    assert_int_equal(list[1].messages, 11);
    mq_queue_list_free(list);
    assert_int_equal(mq_queue_info_get(c, "nosuch", &info, 0),
                     MQ_ERR_NOT_FOUND);
    assert_string_equal(mq_errmsg(), "get queue nosuch: no such queue");
    assert_int_equal(mq_queue_delete(c, "orders", 0), MQ_OK);
    assert_int_equal(mq_sub_delete(c, "orders", "mailer", 0), MQ_OK);
    mq_client_close(c);
    mini_stop(m);
}

static void test_read_without_known_leader_asks_who_leads(void **state)
{
    struct mini *m = mini_start(2, 1);
    mq_client *c = open_client(m, "01", NULL, NULL);
    mq_queue_info *list;
    size_t n;

    (void)state;
    /* Node 0 is asked who leads (status), then node 1 answers the read,
     * so a read made just after a write sees it. */
    assert_int_equal(mq_queue_list(c, &list, &n, 0), MQ_OK);
    mq_queue_list_free(list);
    assert_int_equal(m->fakes[0].requests, 1);
    assert_int_equal(m->fakes[1].requests, 1);
    assert_int_equal(mq_queue_list(c, &list, &n, 0), MQ_OK);
    mq_queue_list_free(list);
    assert_int_equal(m->fakes[0].requests, 1); /* leader known now */
    assert_int_equal(m->fakes[1].requests, 2);
    mq_client_close(c);
    mini_stop(m);
}

static void test_cluster_status_asks_every_node_at_once(void **state)
{
    struct mini *m = mini_start(2, 1);
    mq_client_opts o = {.attempt_timeout_ms = 400};
    mq_client *c = open_client(m, "01", "tcp://127.0.0.1:1", &o);
    mq_node_status *st;
    size_t n;
    uint64_t t0 = now_ms();

    (void)state;
    assert_int_equal(mq_cluster_status(c, &st, &n, 0), MQ_OK);
    assert_true(now_ms() - t0 < 400 + 300); /* in parallel */
    assert_int_equal(n, 3);
    assert_int_equal(st[0].err, MQ_OK);
    assert_int_equal(st[0].id, 1);
    assert_string_equal(st[0].role, "follower");
    assert_string_equal(st[1].role, "leader");
    assert_int_equal(st[1].term, 5);
    assert_int_equal(st[1].commit_index, 10);
    assert_int_equal(st[1].applied_index, 9);
    assert_int_equal(st[1].voters, 3);
    assert_int_equal(st[0].leader_id, 2);
    assert_string_equal(st[0].leader_url, m->fakes[1].url);
    assert_string_equal(st[0].error, "");
    assert_int_equal(st[1].log_bytes, 1001);
    assert_int_equal(st[1].snapshot_bytes, 2000);
    assert_int_equal(st[1].disk_free_bytes, UINT64_C(5) << 40);
    assert_int_equal(st[1].memory_bytes, 3000);
    assert_string_equal(st[2].url, "tcp://127.0.0.1:1");
    assert_int_equal(st[2].err, MQ_ERR_NOT_DONE);
    assert_non_null(strstr(st[2].error, "tcp://127.0.0.1:1"));
    mq_status_free(st);
    mq_client_close(c);
    mini_stop(m);
}

static void test_cluster_status_with_no_node_up_fails(void **state)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_node_status *st = (mq_node_status *)1;
    mq_client *c;
    size_t n = 9;

    (void)state;
    o.urls = "tcp://127.0.0.1:1";
    o.attempt_timeout_ms = 200;
    assert_int_equal(mq_client_open(&c, &o), MQ_OK);
    assert_int_equal(mq_cluster_status(c, &st, &n, 0), MQ_ERR_NOT_DONE);
    assert_null(st);
    assert_int_equal(n, 0);
    assert_msg_has("status: no node answered; not connected to "
                   "tcp://127.0.0.1:1");
    mq_client_close(c);
}

/* ---- membership and leadership ------------------------------------- */

static void test_members_come_from_the_leader_and_mark_it(void **state)
{
    struct mini *m = mini_start(3, 2);
    mq_client *c = open_client(m, "012", NULL, NULL);
    mq_member *list = (mq_member *)1;
    size_t n = 9;

    (void)state;
    assert_int_equal(mq_members(c, &list, &n, 0), MQ_OK);
    assert_int_equal(n, 3);
    assert_int_equal(m->member_asks, 1);
    assert_int_equal(m->fakes[2].writes, 1); /* redirected to the leader */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(list[i].id, i + 1);
        assert_string_equal(list[i].role, "voter");
        assert_string_equal(list[i].client_url, m->fakes[i].url);
        assert_int_equal(list[i].leader, i == 2);
    }
    assert_string_equal(list[0].peer_url, "tcp://10.0.0.1:7100");
    mq_members_free(list);
    mq_client_close(c);
    mini_stop(m);
}

static void test_node_add_waits_past_the_attempt_timeout(void **state)
{
    struct mini *m = mini_start(2, 0);
    mq_client_opts o = {.attempt_timeout_ms = 200, .timeout_ms = 5000};
    mq_client *c = open_client(m, "01", NULL, &o);
    mq_member *list;
    size_t n;

    (void)state;
    m->add_delay_ms = 600; /* the new node catches up */
    assert_int_equal(mq_node_add(c, 4, "tcp://10.0.0.4:7100", 0), MQ_OK);
    assert_int_equal(m->adds, 1); /* one attempt, not retried */
    assert_int_equal(mq_members(c, &list, &n, 0), MQ_OK);
    assert_int_equal(n, 3);
    assert_int_equal(list[2].id, 4);
    assert_string_equal(list[2].role, "standby");
    assert_string_equal(list[2].client_url, "");
    mq_members_free(list);
    mq_client_close(c);
    mini_stop(m);
}

static void test_node_add_retries_while_busy_then_errors_are_final(void **state)
{
    struct mini *m = mini_start(3, 1);
    mq_client *c = open_client(m, "012", NULL, NULL);

    (void)state;
    m->change_busy = 2; /* another change is in progress */
    assert_int_equal(mq_node_add(c, 4, "tcp://10.0.0.4:7100", 0), MQ_OK);
    assert_int_equal(m->adds, 1);
    /* Refused by the leader: no retry. */
    m->fakes[1].writes = 0;
    m->change_status = MQ__V1__STATUS__STATUS_EXISTS;
    m->change_detail = "node 4 is a member at tcp://10.0.0.4:7100, not "
                       "tcp://10.0.0.5:7100";
    assert_int_equal(mq_node_add(c, 4, "tcp://10.0.0.5:7100", 0),
                     MQ_ERR_EXISTS);
    assert_string_equal(mq_errmsg(), "add node 4 at tcp://10.0.0.5:7100: "
                                     "node 4 is a member at "
                                     "tcp://10.0.0.4:7100, not "
                                     "tcp://10.0.0.5:7100");
    assert_int_equal(m->fakes[1].writes, 1); /* no retry */
    m->change_status = 0;
    /* Refused locally: nothing sent. */
    m->fakes[1].requests = 0;
    assert_int_equal(mq_node_add(c, 0, "tcp://10.0.0.4:7100", 0),
                     MQ_ERR_INVALID);
    assert_msg_has("add node: node id 0 is not 1..4294967295");
    assert_int_equal(mq_node_add(c, 5, "10.0.0.5", 0), MQ_ERR_INVALID);
    assert_msg_has("add node 5: peer URL \"10.0.0.5\" is not a URL");
    assert_int_equal(mq_node_add(c, 5, NULL, 0), MQ_ERR_INVALID);
    assert_int_equal(m->fakes[1].requests, 0);
    mq_client_close(c);
    mini_stop(m);
}

static void test_node_add_busy_until_the_deadline_is_not_done(void **state)
{
    struct mini *m = mini_start(1, 0);
    mq_client *c = open_client(m, "0", NULL, NULL);

    (void)state;
    m->change_busy = 1000000;
    assert_int_equal(mq_node_add(c, 4, "tcp://10.0.0.4:7100", 300),
                     MQ_ERR_NOT_DONE);
    assert_msg_has("add node 4 at tcp://10.0.0.4:7100: ");
    assert_msg_has("in progress: retry; gave up after 300 ms");
    assert_int_equal(m->adds, 0);
    mq_client_close(c);
    mini_stop(m);
}

static void test_node_remove_with_lost_reply_succeeds_on_retry(void **state)
{
    struct mini *m = mini_start(3, 0);
    mq_client_opts o = {.attempt_timeout_ms = 200, .timeout_ms = 5000};
    mq_client *c = open_client(m, "012", NULL, &o);

    (void)state;
    m->change_drop = 1; /* removed, but the reply is lost */
    assert_int_equal(mq_node_remove(c, 3, 0), MQ_OK);
    assert_int_equal(m->removes, 2); /* the retry found it gone */
    assert_int_equal(m->n_members, 2);
    assert_int_equal(member_at(m, 3), -1);
    mq_client_close(c);
    mini_stop(m);
}

static void test_node_remove_of_a_non_member_is_not_found(void **state)
{
    struct mini *m = mini_start(2, 0);
    mq_client *c = open_client(m, "01", NULL, NULL);

    (void)state;
    assert_int_equal(mq_node_remove(c, 9, 0), MQ_ERR_NOT_FOUND);
    assert_string_equal(mq_errmsg(), "remove node 9: node 9 is not a member");
    assert_int_equal(m->removes, 0); /* the members list said so */
    assert_int_equal(m->n_members, 2);
    assert_int_equal(mq_node_remove(c, 0, 0), MQ_ERR_INVALID);
    mq_client_close(c);
    mini_stop(m);
}

static void test_leader_transfer_reports_the_new_leader(void **state)
{
    struct mini *m = mini_start(3, 2);
    mq_client *c = open_client(m, "012", NULL, NULL);
    uint64_t leader = 99;

    (void)state;
    assert_int_equal(mq_leader_transfer(c, 1, &leader, 0), MQ_OK);
    assert_int_equal(leader, 1);
    assert_int_equal(m->leader, 0);
    assert_int_equal(m->transfers, 1);
    /* To the leader itself: nothing to move. */
    assert_int_equal(mq_leader_transfer(c, 1, &leader, 0), MQ_OK);
    assert_int_equal(leader, 1);
    assert_int_equal(m->transfers, 1);
    /* Not a voter: final. */
    m->change_status = MQ__V1__STATUS__STATUS_NOT_FOUND;
    m->change_detail = "node 7 is not a voter";
    assert_int_equal(mq_leader_transfer(c, 7, &leader, 0), MQ_ERR_NOT_FOUND);
    assert_int_equal(leader, 0);
    assert_msg_has("transfer leadership to node 7: node 7 is not a voter");
    mq_client_close(c);
    mini_stop(m);
}

static void test_leader_transfer_not_leader_to_target_succeeds(void **state)
{
    struct mini *m = mini_start(3, 0);
    mq_client *c = open_client(m, "012", NULL, NULL);
    uint64_t leader = 0;

    (void)state;
    m->transfer_mode = TRANSFER_NOT_LEADER; /* moved during the call */
    assert_int_equal(mq_leader_transfer(c, 3, &leader, 0), MQ_OK);
    assert_int_equal(leader, 3);
    assert_int_equal(m->transfers, 1);
    mq_client_close(c);
    mini_stop(m);
}

static void test_leader_transfer_to_any_never_moves_twice(void **state)
{
    struct mini *m = mini_start(3, 0);
    mq_client *c = open_client(m, "012", NULL, NULL);
    uint64_t leader = 0;

    (void)state;
    /* The leader answers "did not complete", but leadership moved: a
     * second transfer to "any" would move it on. */
    m->transfer_mode = TRANSFER_INCOMPLETE;
    assert_int_equal(mq_leader_transfer(c, 0, &leader, 0), MQ_OK);
    assert_int_equal(leader, 2);
    assert_int_equal(m->transfers, 1);
    assert_int_equal(m->leader, 1);
    mq_client_close(c);
    mini_stop(m);
}

static void test_leader_transfer_that_never_completes_gives_up(void **state)
{
    struct mini *m = mini_start(2, 0);
    mq_client *c = open_client(m, "01", NULL, NULL);
    uint64_t leader = 5;

    (void)state;
    m->change_busy = 1000000;
    assert_int_equal(mq_leader_transfer(c, 2, &leader, 400), MQ_ERR_NOT_DONE);
    assert_int_equal(leader, 0);
    assert_msg_has("transfer leadership to node 2: ");
    assert_msg_has("gave up after");
    assert_int_equal(m->leader, 0);
    mq_client_close(c);
    mini_stop(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_follows_redirect_and_remembers_leader),
        cmocka_unit_test(test_publish_without_leader_hint_tries_next_node),
        cmocka_unit_test(test_publish_redirect_to_unlisted_node_opens_it),
        cmocka_unit_test(test_publish_follows_leader_change),
        cmocka_unit_test(test_publish_retry_after_lost_reply_sends_same_id),
        cmocka_unit_test(test_publish_given_id_is_kept_through_batch),
        cmocka_unit_test(test_publish_refused_returns_node_detail_at_once),
        cmocka_unit_test(test_publish_message_refused_gets_its_error),
        cmocka_unit_test(test_batch_sends_the_messages_that_pass_checks),
        cmocka_unit_test(test_publish_with_no_node_up_is_not_done),
        cmocka_unit_test(test_publish_without_reply_is_timeout),
        cmocka_unit_test(test_async_publish_batches_and_calls_back_once),
        cmocka_unit_test(test_async_close_cancels_pending_once),
        cmocka_unit_test(test_async_full_pending_times_out),
        cmocka_unit_test(test_fetch_ack_and_nack_reach_the_leader),
        cmocka_unit_test(test_subscribe_acks_and_nacks_each_fetch_at_once),
        cmocka_unit_test(test_subscribe_stop_returns_within_a_fetch),
        cmocka_unit_test(test_subscribe_to_missing_sub_fails_without_starting),
        cmocka_unit_test(test_read_goes_to_a_follower_and_stays_there),
        cmocka_unit_test(test_read_skips_a_silent_follower_before_the_leader),
        cmocka_unit_test(test_read_from_leader_when_asked),
        cmocka_unit_test(test_read_on_one_follower_url_stays_on_it),
        cmocka_unit_test(test_message_status_decodes_every_queue),
        cmocka_unit_test(test_status_after_own_write_waits_for_it),
        cmocka_unit_test(
            test_settle_verbs_cancel_purge_redrive_reach_the_leader),
        cmocka_unit_test(test_publish_carries_delay_atomic_and_gets_index),
        cmocka_unit_test(test_namespace_prefixes_names_without_one),
        cmocka_unit_test(test_queue_admin_maps_replies),
        cmocka_unit_test(test_read_without_known_leader_asks_who_leads),
        cmocka_unit_test(test_cluster_status_asks_every_node_at_once),
        cmocka_unit_test(test_cluster_status_with_no_node_up_fails),
        cmocka_unit_test(test_members_come_from_the_leader_and_mark_it),
        cmocka_unit_test(test_node_add_waits_past_the_attempt_timeout),
        cmocka_unit_test(
            test_node_add_retries_while_busy_then_errors_are_final),
        cmocka_unit_test(test_node_add_busy_until_the_deadline_is_not_done),
        cmocka_unit_test(test_node_remove_with_lost_reply_succeeds_on_retry),
        cmocka_unit_test(test_node_remove_of_a_non_member_is_not_found),
        cmocka_unit_test(test_leader_transfer_reports_the_new_leader),
        cmocka_unit_test(test_leader_transfer_not_leader_to_target_succeeds),
        cmocka_unit_test(test_leader_transfer_to_any_never_moves_twice),
        cmocka_unit_test(test_leader_transfer_that_never_completes_gives_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
