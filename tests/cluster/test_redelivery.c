/* test_redelivery.c: a message not acked within its ack timeout is
 * delivered again (attempt 2), not before the timeout; once acked it is not
 * delivered again. A nack gives it back at once. */
#include <setjmp.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unacked_message_is_delivered_again),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
