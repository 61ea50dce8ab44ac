/* test_client_outcomes.c: what a failed call tells its caller, against
 * scripted fake nodes (nng REP sockets on 127.0.0.1 whose every answer the
 * test chooses). A call that no node carried out fails with NOT_DONE (and
 * says "no quorum: N of M nodes reachable" when that is why); a call that
 * some node may have carried out fails with UNAVAILABLE or TIMEOUT, "outcome
 * unknown"; mq_ack says so too. mq_fetch_with ends by its own deadline and
 * says what the subscription has left; mq_leader names the leader. */
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

#define NODES_MAX 3

/* How a fake node answers. */
enum answer {
    ANS_OK,         /* as a leader that carried it out */
    ANS_NO_LEADER,  /* NOT_LEADER, knowing no leader */
    ANS_UNKNOWN,    /* UNAVAILABLE: leadership changed before commit */
    ANS_REFUSED,    /* NOT_DONE: refused before anything was done */
    ANS_MUTE,       /* no answer at all */
    ANS_UNKNOWN_1ST /* ANS_UNKNOWN to the first request, then no leader */
};

struct fnode {
    nng_socket sock;
    char url[64];
    pthread_t thread;
    _Atomic int answer; /* enum answer */
    _Atomic int requests;
    _Atomic int body;               /* of the last request */
    _Atomic uint32_t fetch_wait_ms; /* of the last fetch */
};

static struct fnode nodes[NODES_MAX];
static size_t n_nodes;

/* Bodies of an OK reply. */
struct okbuf {
    Mq__V1__PublishReply pr;
    Mq__V1__PublishResult res, *resp;
    Mq__V1__AckReply ar;
    Mq__V1__FetchReply fr;
    Mq__V1__MembersReply mr;
};

static void reply_ok(struct fnode *f, const Mq__V1__Request *req,
                     Mq__V1__Reply *rep, struct okbuf *b)
{
    Mq__V1__PublishReply *pr = &b->pr;
    Mq__V1__PublishResult *res = &b->res, **resp = &b->resp;
    Mq__V1__AckReply *ar = &b->ar;

    switch (req->body_case) {
    case MQ__V1__REQUEST__BODY_FETCH:
        f->fetch_wait_ms = req->fetch->max_wait_ms;
        b->fr.pending = 3;
        b->fr.in_flight = 2;
        b->fr.scheduled = 1;
        rep->body_case = MQ__V1__REPLY__BODY_FETCH;
        rep->fetch = &b->fr;
        break;
    case MQ__V1__REQUEST__BODY_MEMBERS:
        b->mr.leader_id = 1;
        b->mr.leader_url = f->url;
        rep->body_case = MQ__V1__REPLY__BODY_MEMBERS;
        rep->members = &b->mr;
        break;
    case MQ__V1__REQUEST__BODY_PUBLISH:
        res->seq = 7;
        res->id = req->publish->messages[0]->id;
        *resp = res;
        pr->results = resp;
        pr->n_results = 1;
        pr->index = 42;
        pr->durable = 1;
        rep->body_case = MQ__V1__REPLY__BODY_PUBLISH;
        rep->publish = pr;
        break;
    case MQ__V1__REQUEST__BODY_ACK:
        ar->done = (uint32_t)req->ack->n_seqs;
        rep->body_case = MQ__V1__REPLY__BODY_ACK;
        rep->ack = ar;
        break;
    default:
        break;
    }
}

static void *fnode_main(void *arg)
{
    struct fnode *f = arg;

    for (;;) {
        Mq__V1__Reply rep = MQ__V1__REPLY__INIT;
        struct okbuf b = {
            .pr = MQ__V1__PUBLISH_REPLY__INIT,
            .res = MQ__V1__PUBLISH_RESULT__INIT,
            .ar = MQ__V1__ACK_REPLY__INIT,
            .fr = MQ__V1__FETCH_REPLY__INIT,
            .mr = MQ__V1__MEMBERS_REPLY__INIT,
        };
        Mq__V1__Request *req;
        char *buf;
        size_t len;
        int how, n;

        if (nng_recv(f->sock, &buf, &len, NNG_FLAG_ALLOC) != 0) {
            break; /* closed */
        }
        req = mq__v1__request__unpack(NULL, len, (uint8_t *)buf);
        nng_free(buf, len);
        if (req == NULL) {
            continue;
        }
        n = ++f->requests;
        f->body = (int)req->body_case;
        how = f->answer;
        if (how == ANS_UNKNOWN_1ST) {
            how = n == 1 ? ANS_UNKNOWN : ANS_NO_LEADER;
        }
        switch (how) {
        case ANS_OK:
            reply_ok(f, req, &rep, &b);
            break;
        case ANS_NO_LEADER:
            rep.status = MQ__V1__STATUS__STATUS_NOT_LEADER;
            rep.detail = "node 1 is not the leader and knows of none yet";
            break;
        case ANS_UNKNOWN:
            rep.status = MQ__V1__STATUS__STATUS_UNAVAILABLE;
            rep.detail = "leadership changed before the write committed";
            break;
        case ANS_REFUSED:
            rep.status = MQ__V1__STATUS__STATUS_NOT_DONE;
            rep.detail = "node 1 was just elected leader: retry";
            break;
        default:
            break;
        }
        if (how != ANS_MUTE) {
            len = mq__v1__reply__get_packed_size(&rep);
            buf = malloc(len + 1);
            mq__v1__reply__pack(&rep, (uint8_t *)buf);
            nng_send(f->sock, buf, len, 0);
            free(buf);
        }
        mq__v1__request__free_unpacked(req, NULL);
    }
    return NULL;
}

/* Starts @n fake nodes answering @how. */
static void fakes_start(size_t n, enum answer how)
{
    n_nodes = n;
    for (size_t i = 0; i < n; i++) {
        struct fnode *f = &nodes[i];
        nng_listener l;
        nng_sockaddr sa;

        memset(f, 0, sizeof *f);
        atomic_store(&f->answer, how);
        assert_int_equal(nng_rep0_open(&f->sock), 0);
        assert_int_equal(nng_listen(f->sock, "tcp://127.0.0.1:0", &l, 0), 0);
        assert_int_equal(nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa), 0);
        snprintf(f->url, sizeof f->url, "tcp://127.0.0.1:%u",
                 (unsigned)ntohs(sa.s_in.sa_port));
        assert_int_equal(pthread_create(&f->thread, NULL, fnode_main, f), 0);
    }
}

static void fakes_stop(void)
{
    for (size_t i = 0; i < n_nodes; i++) {
        nng_close(nodes[i].sock);
        pthread_join(nodes[i].thread, NULL);
    }
    n_nodes = 0;
}

/* A client on the fakes, then @down URLs where nothing listens. */
static mq_client *client_open(size_t down, uint32_t timeout_ms)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    char urls[512] = "";
    mq_client *c = NULL;

    for (size_t i = 0; i < n_nodes; i++) {
        strcat(urls, urls[0] ? "," : "");
        strcat(urls, nodes[i].url);
    }
    for (size_t i = 0; i < down; i++) {
        char url[64];
        /* Ports 1..: nothing listens there (not root). */
        snprintf(url, sizeof url, "%stcp://127.0.0.1:%zu", urls[0] ? "," : "",
                 i + 1);
        strcat(urls, url);
    }
    o.urls = urls;
    o.timeout_ms = timeout_ms;
    o.attempt_timeout_ms = 200;
    assert_int_equal(mq_client_open(&c, &o), MQ_OK);
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

static const mq_pub msg_x = {"order-1", "order.created", NULL, 0, "x", 1, 0};

static void test_publish_with_no_node_up_is_not_done(void **state)
{
    mq_client *c;
    mq_pub_result res;

    (void)state;
    c = client_open(3, 700);
    assert_int_equal(mq_publish(c, "orders", &msg_x, &res, 0), MQ_ERR_NOT_DONE);
    assert_int_equal(res.err, MQ_ERR_NOT_DONE);
    assert_msg_has("publish to orders: no quorum: 0 of 3 nodes "
                   "reachable");
    assert_msg_has("not done");
    assert_true(mq_err_retryable(MQ_ERR_NOT_DONE));
    mq_client_close(c);
}

static void test_one_node_of_three_without_leader_is_no_quorum(void **state)
{
    mq_client *c;

    (void)state;
    fakes_start(1, ANS_NO_LEADER);
    c = client_open(2, 800);
    assert_int_equal(mq_publish(c, "orders", &msg_x, NULL, 0), MQ_ERR_NOT_DONE);
    assert_msg_has("no quorum: 1 of 3 nodes reachable");
    assert_msg_has("knows no leader");
    assert_true(nodes[0].requests >= 1);
    mq_client_close(c);
    fakes_stop();
}

static void test_refused_by_the_node_is_not_done(void **state)
{
    mq_client *c;

    (void)state;
    fakes_start(1, ANS_REFUSED);
    c = client_open(0, 500);
    assert_int_equal(mq_publish(c, "orders", &msg_x, NULL, 0), MQ_ERR_NOT_DONE);
    assert_msg_has("not done");
    assert_msg_has("just elected");
    assert_true(nodes[0].requests >= 2); /* retried until the deadline */
    mq_client_close(c);
    fakes_stop();
}

static void test_leadership_lost_before_commit_is_unknown(void **state)
{
    mq_client *c;

    (void)state;
    fakes_start(1, ANS_UNKNOWN);
    c = client_open(0, 500);
    assert_int_equal(mq_publish(c, "orders", &msg_x, NULL, 0),
                     MQ_ERR_UNAVAILABLE);
    assert_msg_has("outcome unknown");
    mq_client_close(c);
    fakes_stop();
}

static void test_unknown_without_quorum_says_both(void **state)
{
    mq_client *c;

    (void)state;
    fakes_start(1, ANS_UNKNOWN);
    c = client_open(2, 700);
    assert_int_equal(mq_publish(c, "orders", &msg_x, NULL, 0),
                     MQ_ERR_UNAVAILABLE);
    assert_msg_has("outcome unknown");
    assert_msg_has("(no quorum: 1 of 3 nodes reachable)");
    mq_client_close(c);
    fakes_stop();
}

static void test_one_unknown_attempt_makes_the_call_unknown(void **state)
{
    mq_client *c;

    (void)state;
    fakes_start(1, ANS_UNKNOWN_1ST);
    c = client_open(0, 600);
    assert_int_equal(mq_publish(c, "orders", &msg_x, NULL, 0),
                     MQ_ERR_UNAVAILABLE);
    assert_true(nodes[0].requests >= 2); /* later attempts: no leader */
    assert_msg_has("outcome unknown");
    mq_client_close(c);
    fakes_stop();
}

static void test_no_answer_is_timeout_and_unknown(void **state)
{
    mq_client *c;

    (void)state;
    fakes_start(1, ANS_MUTE);
    c = client_open(0, 500);
    assert_int_equal(mq_publish(c, "orders", &msg_x, NULL, 0), MQ_ERR_TIMEOUT);
    assert_msg_has("outcome unknown");
    assert_msg_has("no reply from");
    mq_client_close(c);
    fakes_stop();
}

static void test_ack_says_unknown_when_it_may_be_applied(void **state)
{
    const uint64_t seq = 5;
    mq_client *c;

    (void)state;
    fakes_start(1, ANS_UNKNOWN);
    c = client_open(0, 500);
    assert_int_equal(mq_ack_seqs(c, "orders", "billing", &seq, 1, 0),
                     MQ_ERR_UNAVAILABLE);
    assert_msg_has("ack orders/billing seq 5: outcome unknown");
    assert_int_equal(nodes[0].body, MQ__V1__REQUEST__BODY_ACK);
    atomic_store(&nodes[0].answer, ANS_MUTE);
    assert_int_equal(mq_ack_seqs(c, "orders", "billing", &seq, 1, 0),
                     MQ_ERR_TIMEOUT);
    assert_msg_has("outcome unknown");
    atomic_store(&nodes[0].answer, ANS_OK);
    assert_int_equal(mq_ack_seqs(c, "orders", "billing", &seq, 1, 0), MQ_OK);
    mq_client_close(c);
    fakes_stop();
}

static void test_ack_with_no_node_up_is_not_done(void **state)
{
    const uint64_t seq = 5;
    mq_client *c;

    (void)state;
    c = client_open(2, 500);
    assert_int_equal(mq_ack_seqs(c, "orders", "billing", &seq, 1, 0),
                     MQ_ERR_NOT_DONE);
    assert_msg_has("ack orders/billing seq 5: no quorum: 0 of 2");
    mq_client_close(c);
}

static void test_fetch_ends_by_its_own_deadline(void **state)
{
    mq_fetch_opts fo = MQ_FETCH_OPTS_INIT;
    mq_msg **msgs;
    size_t n;
    uint64_t t0;
    mq_client *c;

    (void)state;
    fakes_start(1, ANS_MUTE);
    c = client_open(0, 10000); /* the client's own deadline is long */
    fo.max_wait_ms = 20000;
    t0 = now_ms();
    assert_int_equal(
        mq_fetch_with(c, "orders", "billing", &fo, &msgs, &n, NULL, 400),
        MQ_ERR_TIMEOUT);
    assert_true(now_ms() - t0 < 1500);
    /* The node was asked to hold it no longer than the deadline allows. */
    atomic_store(&nodes[0].answer, ANS_OK);
    assert_int_equal(
        mq_fetch_with(c, "orders", "billing", &fo, &msgs, &n, NULL, 400),
        MQ_OK);
    assert_true(nodes[0].fetch_wait_ms > 0 && nodes[0].fetch_wait_ms <= 300);
    mq_msgs_free(msgs, n);
    mq_client_close(c);
    fakes_stop();
}

static void test_empty_fetch_says_what_is_left(void **state)
{
    mq_fetch_opts fo = MQ_FETCH_OPTS_INIT;
    mq_fetch_info info;
    mq_msg **msgs;
    size_t n = 9;
    mq_client *c;

    (void)state;
    fakes_start(1, ANS_OK);
    c = client_open(0, 2000);
    fo.max_wait_ms = 100;
    assert_int_equal(
        mq_fetch_with(c, "orders", "billing", &fo, &msgs, &n, &info, 0), MQ_OK);
    assert_int_equal(n, 0);
    assert_int_equal(nodes[0].fetch_wait_ms, 100);
    assert_int_equal(info.pending, 3);
    assert_int_equal(info.in_flight, 2);
    assert_int_equal(info.scheduled, 1);
    mq_msgs_free(msgs, n);
    fo.max_messages = MQ_MAX_BATCH + 1;
    assert_int_equal(
        mq_fetch_with(c, "orders", "billing", &fo, &msgs, &n, &info, 0),
        MQ_ERR_INVALID);
    mq_client_close(c);
    fakes_stop();
}

static void test_leader_names_id_and_url(void **state)
{
    char url[MQ_URL_MAX];
    uint64_t id = 0;
    mq_client *c;

    (void)state;
    fakes_start(1, ANS_OK);
    c = client_open(0, 2000);
    assert_int_equal(mq_leader(c, &id, url, 0), MQ_OK);
    assert_int_equal(id, 1);
    assert_string_equal(url, nodes[0].url);
    assert_int_equal(nodes[0].body, MQ__V1__REQUEST__BODY_MEMBERS);
    mq_client_close(c);
    fakes_stop();
    c = client_open(3, 500);
    assert_int_equal(mq_leader(c, &id, url, 0), MQ_ERR_NOT_DONE);
    assert_int_equal(id, 0);
    assert_msg_has("find the leader: no quorum: 0 of 3 nodes reachable");
    mq_client_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_with_no_node_up_is_not_done),
        cmocka_unit_test(test_one_node_of_three_without_leader_is_no_quorum),
        cmocka_unit_test(test_refused_by_the_node_is_not_done),
        cmocka_unit_test(test_leadership_lost_before_commit_is_unknown),
        cmocka_unit_test(test_unknown_without_quorum_says_both),
        cmocka_unit_test(test_one_unknown_attempt_makes_the_call_unknown),
        cmocka_unit_test(test_no_answer_is_timeout_and_unknown),
        cmocka_unit_test(test_ack_says_unknown_when_it_may_be_applied),
        cmocka_unit_test(test_ack_with_no_node_up_is_not_done),
        cmocka_unit_test(test_fetch_ends_by_its_own_deadline),
        cmocka_unit_test(test_empty_fetch_says_what_is_left),
        cmocka_unit_test(test_leader_names_id_and_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
