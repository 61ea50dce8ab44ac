/* test_pubsub.c: 10,000 messages published asynchronously with ids; two
 * clients share one subscription and a third client reads another: each
 * subscription gets every message, and every message is acked. And libmq's
 * linger: with linger_ms 0 (the default) a lone asynchronous publish is
 * sent at once; with linger_ms 1500 it waits that long. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"
#include "drain.h"

#define N_MSGS 10000

struct tally {
    pthread_mutex_t lock;
    unsigned char seen[N_MSGS];
    size_t distinct;
    size_t redelivered;
};

struct consumer {
    struct cluster *c;
    const char *sub;
    struct tally *t;
    size_t got;
    struct drain_stats st;
};

static void count(void *arg, const mq_msg *m)
{
    struct consumer *co = arg;
    int i = atoi(mq_msg_id(m) + 4); /* "msg-<i>" */
    pthread_mutex_lock(&co->t->lock);
    if (i >= 0 && i < N_MSGS && !co->t->seen[i]) {
        co->t->seen[i] = 1;
        co->t->distinct++;
    }
    if (mq_msg_attempt(m) > 1) {
        co->t->redelivered++;
    }
    pthread_mutex_unlock(&co->t->lock);
    co->got++;
}

static void *consume(void *arg)
{
    struct consumer *co = arg;
    mq_client *cl = cluster_client(co->c);
    drain(cl, "orders", co->sub, 250, 5000, 90000, NULL, count, co, &co->st);
    mq_client_close(cl);
    return NULL;
}

struct pubcount {
    pthread_mutex_t lock;
    size_t ok, failed;
};

static void published(void *arg, const mq_pub_result *res)
{
    struct pubcount *pc = arg;
    pthread_mutex_lock(&pc->lock);
    if (res->err == MQ_OK) {
        pc->ok++;
    } else {
        pc->failed++;
    }
    pthread_mutex_unlock(&pc->lock);
}

static void test_every_subscription_gets_every_message(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    struct pubcount pc = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
    static struct tally t1, t2;
    char id[32], payload[64];

    CLUSTER_TEST_BEGIN(c);
    assert_non_null(cl);
    qc.name = "orders";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "orders";
    sc.start = MQ_START_FIRST;
    sc.name = "billing";
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    sc.name = "audit";
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);

    for (int i = 0; i < N_MSGS; i++) {
        mq_pub m = {0};
        snprintf(id, sizeof id, "msg-%d", i);
        snprintf(payload, sizeof payload, "order %d total %d", i, i * 7);
        m.id = id;
        m.event = "order.created";
        m.payload = payload;
        m.payload_len = strlen(payload);
        assert_int_equal(mq_publish_async(cl, "orders", &m, published, &pc),
                         MQ_OK);
    }
    assert_int_equal(mq_flush(cl, 60000), MQ_OK);
    assert_int_equal(pc.ok, N_MSGS);
    assert_int_equal(pc.failed, 0);

    pthread_mutex_init(&t1.lock, NULL);
    pthread_mutex_init(&t2.lock, NULL);
    struct consumer a = {c, "billing", &t1, 0, {0}};
    struct consumer b = {c, "billing", &t1, 0, {0}};
    struct consumer d = {c, "audit", &t2, 0, {0}};
    pthread_t ta, tb, td;
    pthread_create(&ta, NULL, consume, &a);
    pthread_create(&tb, NULL, consume, &b);
    pthread_create(&td, NULL, consume, &d);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_join(td, NULL);

    printf("billing: %zu + %zu deliveries, audit: %zu\n", a.got, b.got, d.got);
    assert_int_equal(t1.distinct, N_MSGS);
    assert_int_equal(t2.distinct, N_MSGS);
    /* Competing consumers share the subscription's messages. */
    assert_true(a.got > 0);
    assert_true(b.got > 0);
    assert_int_equal(t1.redelivered, 0);
    assert_int_equal(a.got + b.got, N_MSGS);
    assert_int_equal(d.got, N_MSGS);

    /* Every message acked: nothing pending, nothing in flight. */
    mq_sub_info si;
    assert_int_equal(mq_sub_info_get(cl, "orders", "billing", &si, 10000),
                     MQ_OK);
    assert_int_equal(si.ack_floor, N_MSGS);
    assert_int_equal(si.in_flight, 0);
    assert_int_equal(si.pending, 0);
    assert_int_equal(si.acked, N_MSGS);
    assert_int_equal(mq_sub_info_get(cl, "orders", "audit", &si, 10000), MQ_OK);
    assert_int_equal(si.ack_floor, N_MSGS);
    assert_int_equal(si.in_flight, 0);

    mq_queue_info qi;
    assert_int_equal(mq_queue_info_get(cl, "orders", &qi, 10000), MQ_OK);
    assert_int_equal(qi.last_seq, N_MSGS);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

struct answered {
    pthread_mutex_t lock;
    uint64_t at_ms; /* 0 until the callback ran */
    mq_err err;
};

static void answered_cb(void *arg, const mq_pub_result *res)
{
    struct answered *a = arg;
    pthread_mutex_lock(&a->lock);
    a->err = res->err;
    a->at_ms = test_now_ms();
    pthread_mutex_unlock(&a->lock);
}

/* Publishes one message asynchronously on a client with @linger_ms;
 * returns how long its answer took, in ms. */
static uint64_t lone_publish_ms(struct cluster *c, uint32_t linger_ms)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    struct answered a = {PTHREAD_MUTEX_INITIALIZER, 0, MQ_OK};
    mq_pub m = {0};
    uint64_t t0, at = 0;

    o.urls = c->urls;
    o.timeout_ms = 15000;
    o.linger_ms = linger_ms;
    assert_int_equal(mq_client_open(&cl, &o), MQ_OK);
    /* The client finds the leader first, so that only the linger counts. */
    assert_int_equal(mq_flush(cl, 5000), MQ_OK);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    qc.name = "lone";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    m.payload = "x";
    m.payload_len = 1;
    t0 = test_now_ms();
    assert_int_equal(mq_publish_async(cl, "lone", &m, answered_cb, &a), MQ_OK);
    for (int i = 0; i < 1000 && at == 0; i++) { /* 10 s at most */
        test_sleep_ms(10);
        pthread_mutex_lock(&a.lock);
        at = a.at_ms;
        pthread_mutex_unlock(&a.lock);
    }
    assert_true(at != 0);
    assert_int_equal(a.err, MQ_OK);
    mq_client_close(cl);
    return at - t0;
}

static void test_linger_zero_sends_at_once(void **state)
{
    struct cluster *c = *state;

    CLUSTER_TEST_BEGIN(c);
    uint64_t none = lone_publish_ms(c, 0);
    uint64_t lingered = lone_publish_ms(c, 1500);
    print_message("lone publish answered after %llu ms (linger 0), %llu ms "
                  "(linger 1500)\n",
                  (unsigned long long)none, (unsigned long long)lingered);
    assert_true(lingered >= 1400);
    assert_true(none < 1000);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_subscription_gets_every_message),
        cmocka_unit_test(test_linger_zero_sends_at_once),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
