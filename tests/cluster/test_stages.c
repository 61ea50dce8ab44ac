/* test_stages.c: the latency breakdown each node keeps (node/base/stages.h)
 * and libmq's mq_cluster_stages: after synchronous publishes and a
 * delivery to a waiting fetch, the leader counts every publish in each of
 * its publish stages and its entries in the entry stages, the followers
 * count the entries they wrote, the delivery stages count the woken fetch;
 * percentiles stay within each stage's max; a second reading minus the
 * first is exactly what happened in between. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

#define N_PUB 50

static const mq_stage *stage_of(const mq_node_stages *ns, const char *name)
{
    for (size_t i = 0; i < ns->n; i++) {
        if (strcmp(ns->stages[i].name, name) == 0) {
            return &ns->stages[i];
        }
    }
    return NULL;
}

static uint64_t count_of(const mq_node_stages *ns, const char *name)
{
    const mq_stage *s = stage_of(ns, name);
    assert_non_null(s);
    return s->count;
}

static const mq_node_stages *by_role(const mq_node_stages *list, size_t n,
                                     const char *role, int nth)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i].err == MQ_OK && strcmp(list[i].role, role) == 0 &&
            nth-- == 0) {
            return &list[i];
        }
    }
    return NULL;
}

struct fetcher {
    mq_client *cl;
    size_t got;
    mq_err rv;
};

static void *fetch_thread(void *arg)
{
    struct fetcher *f = arg;
    mq_msg **msgs = NULL;

    f->rv = mq_fetch(f->cl, "stages", "s", 10, 10000, &msgs, &f->got);
    if (f->rv == MQ_OK && f->got > 0) {
        uint64_t seq = mq_msg_seq(msgs[0]);
        f->rv = mq_ack_seqs(f->cl, "stages", "s", &seq, 1, 5000);
    }
    mq_msgs_free(msgs, f->got);
    return NULL;
}

static void test_stages_count_what_the_nodes_did(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    mq_node_stages *before = NULL, *after = NULL;
    size_t n_before = 0, n_after = 0;
    mq_pub m = {0};
    struct fetcher f = {0};
    pthread_t t;

    CLUSTER_TEST_BEGIN(c);
    qc.name = "stages";
    qc.retention = MQ_RETENTION_WORK;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 5000), MQ_OK);
    sc.queue = "stages";
    sc.name = "s";
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 5000), MQ_OK);
    assert_int_equal(cluster_settle(c, 10000), 0);

    assert_int_equal(mq_cluster_stages(cl, &before, &n_before, 5000), MQ_OK);
    assert_int_equal(n_before, 3);
    const mq_node_stages *l0 = by_role(before, n_before, "leader", 0);
    assert_non_null(l0);
    /* The stages come in the order they happen, named and explained. */
    assert_string_equal(l0->stages[0].name, "pub.bridge");
    for (size_t i = 0; i < l0->n; i++) {
        assert_true(l0->stages[i].what[0] != '\0');
    }

    /* A fetch waits; then N_PUB synchronous publishes: the first wakes
     * it. */
    f.cl = cluster_client(c);
    assert_int_equal(pthread_create(&t, NULL, fetch_thread, &f), 0);
    test_sleep_ms(300);
    m.payload = "x";
    m.payload_len = 1;
    for (int i = 0; i < N_PUB; i++) {
        assert_int_equal(mq_publish(cl, "stages", &m, NULL, 5000), MQ_OK);
    }
    pthread_join(t, NULL);
    assert_int_equal(f.rv, MQ_OK);
    assert_true(f.got >= 1);
    mq_client_close(f.cl);
    assert_int_equal(cluster_settle(c, 10000), 0);

    assert_int_equal(mq_cluster_stages(cl, &after, &n_after, 5000), MQ_OK);
    const mq_node_stages *l1 = by_role(after, n_after, "leader", 0);
    assert_non_null(l1);
    assert_int_equal(l1->id, l0->id); /* no election in between */
    /* Every publish went through every publish stage of the leader. */
    const char *pub[] = {"pub.bridge", "pub.check", "pub.queue",
                         "pub.commit", "pub.reply", "pub.total"};
    for (size_t i = 0; i < sizeof pub / sizeof pub[0]; i++) {
        uint64_t d = count_of(l1, pub[i]) - count_of(l0, pub[i]);
        assert_true(d >= N_PUB);
        assert_true(d <= N_PUB + 5); /* the fetch's ack is not a publish */
    }
    /* Synchronous publishes one at a time: an entry each at least. */
    assert_true(count_of(l1, "entry.commit") - count_of(l0, "entry.commit") >=
                N_PUB);
    assert_true(count_of(l1, "entry.write") - count_of(l0, "entry.write") >=
                N_PUB);
    /* The woken fetch. */
    assert_true(count_of(l1, "del.total") - count_of(l0, "del.total") >= 1);
    assert_true(count_of(l1, "del.wake") - count_of(l0, "del.wake") >= 1);
    /* Both followers wrote the entries. */
    for (int k = 0; k < 2; k++) {
        const mq_node_stages *fa = by_role(after, n_after, "follower", k);
        assert_non_null(fa);
        const mq_node_stages *fb = NULL;
        for (size_t i = 0; i < n_before; i++) {
            if (before[i].id == fa->id) {
                fb = &before[i];
            }
        }
        assert_non_null(fb);
        assert_true(count_of(fa, "follower.write") -
                        count_of(fb, "follower.write") >=
                    N_PUB);
        assert_int_equal(count_of(fa, "pub.total"), count_of(fb, "pub.total"));
    }
    /* Percentiles stay within what was seen. */
    for (size_t i = 0; i < l1->n; i++) {
        const mq_stage *s = &l1->stages[i];
        if (s->count > 0) {
            uint64_t p50 = mq_stage_percentile(s, 50.0);
            uint64_t p99 = mq_stage_percentile(s, 99.0);
            assert_true(p50 <= p99);
            assert_true(p99 <= s->max_ns);
            assert_true(s->sum_ns >= s->count); /* at least 1 ns each */
        }
    }
    mq_cluster_stages_free(before, n_before);
    mq_cluster_stages_free(after, n_after);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stages_count_what_the_nodes_did),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
