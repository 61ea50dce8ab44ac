/* test_redelivery.c: a message not acked within its ack timeout is
 * delivered again (attempt 2), not before the timeout; once acked it is not
 * delivered again. A nack gives it back at once. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

static void test_unacked_message_is_delivered_again(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    mq_pub m = {0};
    mq_pub_result res;
    mq_msg **msgs = NULL;
    size_t n = 0;

    CLUSTER_TEST_BEGIN(c);
    qc.name = "tasks";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "tasks";
    sc.name = "runner";
    sc.ack_timeout_ms = 1500;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);

    m.id = "task-1";
    m.event = "task.created";
    m.payload = "resize image 7";
    m.payload_len = strlen("resize image 7");
    assert_int_equal(mq_publish(cl, "tasks", &m, &res, 10000), MQ_OK);
    assert_int_equal(res.seq, 1);

    assert_int_equal(mq_fetch(cl, "tasks", "runner", 10, 2000, &msgs, &n),
                     MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mq_msg_attempt(msgs[0]), 1);
    uint64_t first = test_now_ms();
    mq_msgs_free(msgs, n);

    /* Not acked: nothing else to deliver before the deadline... */
    assert_int_equal(mq_fetch(cl, "tasks", "runner", 10, 500, &msgs, &n),
                     MQ_OK);
    assert_int_equal(n, 0);
    mq_msgs_free(msgs, n);
    /* ...then the same message again, second attempt. */
    assert_int_equal(mq_fetch(cl, "tasks", "runner", 10, 5000, &msgs, &n),
                     MQ_OK);
    uint64_t again = test_now_ms() - first;
    assert_int_equal(n, 1);
    assert_int_equal(mq_msg_seq(msgs[0]), 1);
    assert_string_equal(mq_msg_id(msgs[0]), "task-1");
    assert_int_equal(mq_msg_attempt(msgs[0]), 2);
    assert_true(again >= 1400);
    printf("redelivered after %llu ms (ack timeout 1500 ms)\n",
           (unsigned long long)again);

    /* A nack gives it back at once: third attempt. */
    assert_int_equal(mq_nack(cl, msgs[0], 0, 10000), MQ_OK);
    mq_msgs_free(msgs, n);
    assert_int_equal(mq_fetch(cl, "tasks", "runner", 10, 1000, &msgs, &n),
                     MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mq_msg_attempt(msgs[0]), 3);

    /* Acked: never again, even after the timeout. */
    assert_int_equal(mq_ack(cl, msgs[0], 10000), MQ_OK);
    assert_int_equal(mq_ack(cl, msgs[0], 10000), MQ_OK); /* idempotent */
    mq_msgs_free(msgs, n);
    assert_int_equal(mq_fetch(cl, "tasks", "runner", 10, 2500, &msgs, &n),
                     MQ_OK);
    assert_int_equal(n, 0);
    mq_msgs_free(msgs, n);

    mq_sub_info si;
    assert_int_equal(mq_sub_info_get(cl, "tasks", "runner", &si, 5000), MQ_OK);
    assert_int_equal(si.delivered, 3);
    assert_int_equal(si.acked, 1);
    assert_int_equal(si.in_flight, 0);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

static void publish_range(mq_client *cl, int from, int to)
{
    for (int i = from; i <= to; i++) {
        char id[32];
        mq_pub m = {0};
        mq_header h = {"order", id};
        snprintf(id, sizeof id, "feed-%d", i);
        m.id = id;
        m.event = "feed.item";
        m.headers = &h;
        m.n_headers = 1;
        m.payload = id;
        m.payload_len = strlen(id);
        assert_int_equal(mq_publish(cl, "feed", &m, NULL, 10000), MQ_OK);
    }
}

/* A consumer that disconnects with messages unacked, while publishing goes
 * on and the leader changes, gets on its return everything it missed: the
 * unacked messages first (once their deadline passes), in order, then the
 * rest, in order, with their headers as published. */
static void test_returning_consumer_gets_what_it_missed(void **state)
{
    struct cluster *c = *state;
    mq_client *pub = cluster_client(c);
    mq_client *gone = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    mq_msg **msgs = NULL;
    size_t n = 0;

    CLUSTER_TEST_BEGIN(c);
    qc.name = "feed";
    assert_int_equal(mq_queue_create(pub, &qc, NULL, 10000), MQ_OK);
    sc.queue = "feed";
    sc.name = "reader";
    sc.ack_timeout_ms = 1500;
    assert_int_equal(mq_sub_create(pub, &sc, NULL, 10000), MQ_OK);
    publish_range(pub, 1, 10);
    /* Takes 3, acks 2 of them, and disconnects. */
    assert_int_equal(mq_fetch(gone, "feed", "reader", 3, 2000, &msgs, &n),
                     MQ_OK);
    assert_int_equal(n, 3);
    uint64_t fetched_at = test_now_ms();
    assert_int_equal(mq_ack(gone, msgs[1], 10000), MQ_OK);
    mq_msgs_free(msgs, n);
    mq_client_close(gone);

    publish_range(pub, 11, 20);
    int leader = cluster_leader(c);
    cluster_signal(c, leader, SIGKILL);
    assert_true(cluster_wait_leader(c, 10000) >= 0);

    /* It comes back once the deadline of what it took has passed. */
    while (test_now_ms() < fetched_at + 1600) {
        test_sleep_ms(50);
    }
    mq_client *back = cluster_client(c);
    uint64_t want[] = {1,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                       12, 13, 14, 15, 16, 17, 18, 19, 20};
    size_t k = 0;
    uint64_t end = test_now_ms() + 20000;
    while (k < sizeof want / sizeof want[0] && test_now_ms() < end) {
        assert_int_equal(mq_fetch(back, "feed", "reader", 5, 1000, &msgs, &n),
                         MQ_OK);
        for (size_t i = 0; i < n; i++, k++) {
            char id[32];
            assert_int_equal(mq_msg_seq(msgs[i]), want[k]);
            snprintf(id, sizeof id, "feed-%llu", (unsigned long long)want[k]);
            assert_string_equal(mq_msg_header(msgs[i], "order"), id);
            assert_int_equal(mq_msg_attempt(msgs[i]), want[k] <= 3 ? 2 : 1);
            assert_int_equal(mq_ack(back, msgs[i], 10000), MQ_OK);
        }
        mq_msgs_free(msgs, n);
    }
    assert_int_equal(k, sizeof want / sizeof want[0]);
    assert_int_equal(cluster_restart(c, leader), 0);
    mq_client_close(back);
    mq_client_close(pub);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unacked_message_is_delivered_again),
        cmocka_unit_test(test_returning_consumer_gets_what_it_missed),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
