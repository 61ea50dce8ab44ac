/* test_client_node.c: libmq against a tiny fake cluster: up to three nng
 * REP sockets on 127.0.0.1 that answer like mqd nodes (one of them leads,
 * the others answer NOT_LEADER), so that redirects, retries with the same
 * ids, non-retryable errors, async batching, fetch/ack, subscribe and
 * status are checked end to end through the public API. Each test starts
 * its own fake cluster on free ports. */
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
};

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
        return 0;
    default:
        return 1;
    }
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
    fr->messages = fake_alloc(f, (n + 1) * sizeof *fr->messages);
    for (size_t i = 0; i < n; i++) {
        Mq__V1__Delivery *d = fake_alloc(f, sizeof *d);
        char *id = fake_alloc(f, 32);
        mq__v1__delivery__init(d);
        d->seq = ++m->next_delivery;
        snprintf(id, 32, "m-%llu", (unsigned long long)d->seq);
        d->id = id;
        d->event = "order.created";
        d->payload.data = (uint8_t *)"payload";
        d->payload.len = 7;
        d->attempt = 1;
        d->published_at_ms = 1000 + d->seq;
        fr->messages[i] = d;
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

/* Fills @rep for @req. Returns 0 to send no reply at all. */
static int answer(struct fake *f, const Mq__V1__Request *req,
                  Mq__V1__Reply *rep)
{
    struct mini *m = f->mini;

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
    case MQ__V1__REQUEST__BODY_ACK:
        m->ack_requests++;
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
        send = answer(f, req, &rep);
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

static const mq_pub msg_x = {NULL, "order.created", NULL, 0, "x", 1};

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

static void test_publish_with_no_node_up_is_unavailable(void **state)
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
                     MQ_ERR_UNAVAILABLE);
    assert_true(now_ms() - t0 >= 400 && now_ms() - t0 < 2000);
    assert_msg_has("publish to orders: not connected to tcp://127.0.0.1:");
    assert_msg_has("gave up after 600 ms");
    assert_int_equal(res.err, MQ_ERR_UNAVAILABLE);
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
    assert_string_equal(mq_msg_queue(msgs[0]), "orders");
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
    assert_string_equal(st[2].url, "tcp://127.0.0.1:1");
    assert_int_equal(st[2].err, MQ_ERR_UNAVAILABLE);
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
    assert_int_equal(mq_cluster_status(c, &st, &n, 0), MQ_ERR_UNAVAILABLE);
    assert_null(st);
    assert_int_equal(n, 0);
    assert_msg_has("status: no node answered; not connected to "
                   "tcp://127.0.0.1:1");
    mq_client_close(c);
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
        cmocka_unit_test(test_publish_with_no_node_up_is_unavailable),
        cmocka_unit_test(test_publish_without_reply_is_timeout),
        cmocka_unit_test(test_async_publish_batches_and_calls_back_once),
        cmocka_unit_test(test_async_close_cancels_pending_once),
        cmocka_unit_test(test_async_full_pending_times_out),
        cmocka_unit_test(test_fetch_ack_and_nack_reach_the_leader),
        cmocka_unit_test(test_subscribe_acks_and_nacks_each_fetch_at_once),
        cmocka_unit_test(test_subscribe_stop_returns_within_a_fetch),
        cmocka_unit_test(test_subscribe_to_missing_sub_fails_without_starting),
        cmocka_unit_test(test_queue_admin_maps_replies),
        cmocka_unit_test(test_read_without_known_leader_asks_who_leads),
        cmocka_unit_test(test_cluster_status_asks_every_node_at_once),
        cmocka_unit_test(test_cluster_status_with_no_node_up_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
