/* test_failover.c: kill -9 the leader while clients publish: a new leader is
 * elected within 5 s, and every publish that was acknowledged is delivered
 * afterwards. The killed node comes back and catches up. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"
#include "drain.h"

#define MAX_MSGS 200000

struct pub_state {
    struct cluster *c;
    volatile int stop;
    int worker;
    unsigned char *acked; /* acked[i]: publish i was acknowledged */
    size_t n_acked, n_failed, n_sent;
};

static void *publisher(void *arg)
{
    struct pub_state *ps = arg;
    mq_client *cl = cluster_client(ps->c);
    char id[32], payload[32];
    for (int k = 0; !ps->stop && k < MAX_MSGS / 2; k++) {
        int i = ps->worker * (MAX_MSGS / 2) + k;
        mq_pub m = {0};
        mq_pub_result res;
        snprintf(id, sizeof id, "p-%d", i);
        snprintf(payload, sizeof payload, "value-%d", i);
        m.id = id;
        m.event = "value.set";
        m.payload = payload;
        m.payload_len = strlen(payload);
        ps->n_sent++;
        mq_err rv = mq_publish(cl, "values", &m, &res, 15000);
        if (rv == MQ_OK) {
            ps->acked[i] = 1;
            ps->n_acked++;
        } else {
            ps->n_failed++;
        }
    }
    mq_client_close(cl);
    return NULL;
}

struct seen {
    unsigned char *got;
    size_t dup;
};

static void mark(void *arg, const mq_msg *m)
{
    struct seen *s = arg;
    int i = atoi(mq_msg_id(m) + 2);
    if (i >= 0 && i < MAX_MSGS) {
        if (s->got[i]) {
            s->dup++;
        }
        s->got[i] = 1;
    }
}

static void test_leader_kill_loses_no_acked_publish(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    unsigned char *acked = calloc(MAX_MSGS, 1);
    struct pub_state ps[2];
    pthread_t th[2];

    CLUSTER_TEST_BEGIN(c);
    qc.name = "values";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "values";
    sc.name = "checker";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);

    for (int w = 0; w < 2; w++) {
        memset(&ps[w], 0, sizeof ps[w]);
        ps[w].c = c;
        ps[w].worker = w;
        ps[w].acked = acked;
        pthread_create(&th[w], NULL, publisher, &ps[w]);
    }
    test_sleep_ms(1500);
    int leader = cluster_leader(c);
    assert_true(leader >= 0);
    uint64_t killed_at = test_now_ms();
    cluster_signal(c, leader, SIGKILL);
    int next = cluster_wait_leader(c, 5000);
    uint64_t elected_in = test_now_ms() - killed_at;
    printf("leader %d killed; node %d elected after %llu ms\n", leader + 1,
           next + 1, (unsigned long long)elected_in);
    assert_true(next >= 0);
    assert_true(next != leader);
    assert_true(elected_in < 5000);

    test_sleep_ms(1500); /* publishing goes on through the new leader */
    for (int w = 0; w < 2; w++) {
        ps[w].stop = 1;
        pthread_join(th[w], NULL);
    }
    size_t n_acked = ps[0].n_acked + ps[1].n_acked;
    printf("publishes: %zu sent, %zu acknowledged, %zu failed\n",
           ps[0].n_sent + ps[1].n_sent, n_acked,
           ps[0].n_failed + ps[1].n_failed);
    assert_true(n_acked > 100);

    /* The killed node comes back and catches up. */
    assert_int_equal(cluster_restart(c, leader), 0);

    struct seen seen = {calloc(MAX_MSGS, 1), 0};
    struct drain_stats st = {0};
    drain(cl, "values", "checker", 500, 3000, 60000, NULL, mark, &seen, &st);
    size_t lost = 0;
    for (int i = 0; i < MAX_MSGS; i++) {
        if (acked[i] && !seen.got[i]) {
            if (lost < 10) {
                printf("lost: p-%d\n", i);
            }
            lost++;
        }
    }
    printf("delivered %zu, duplicates %zu, lost %zu\n", st.messages, seen.dup,
           lost);
    assert_int_equal(lost, 0);

    mq_queue_info qi;
    assert_int_equal(mq_queue_info_get(cl, "values", &qi, 10000), MQ_OK);
    /* Stored once per id: publishes retried across the failover are
     * deduplicated by id. */
    assert_true(qi.messages >= n_acked);
    assert_true(qi.messages <= ps[0].n_sent + ps[1].n_sent);
    free(seen.got);
    free(acked);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leader_kill_loses_no_acked_publish),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
