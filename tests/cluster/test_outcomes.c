/* test_outcomes.c: the client outcomes the outbox pattern depends on.
 *
 * A retried publish of an id already stored succeeds as a duplicate (its
 * original seq) even once the node's memory budget is used up or the
 * queue is full: the repeat stores nothing, so no limit applies to it. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

#define BIG_BYTES (200 * 1024)

static mq_err publish(mq_client *cl, const char *queue, const char *id,
                      const void *payload, size_t len, mq_pub_result *res)
{
    mq_pub m = {0};
    m.id = id;
    m.event = "order.created";
    m.payload = payload;
    m.payload_len = len;
    return mq_publish(cl, queue, &m, res, 15000);
}

/* Publishes large messages into @queue until the node says FULL. */
static void fill_until_full(mq_client *cl, const char *queue)
{
    char *big = malloc(BIG_BYTES);
    mq_err rv = MQ_OK;

    assert_non_null(big);
    memset(big, 'b', BIG_BYTES);
    for (int i = 0; i < 100 && rv == MQ_OK; i++) {
        char id[32];
        snprintf(id, sizeof id, "%s-filler-%d", queue, i);
        rv = publish(cl, queue, id, big, BIG_BYTES, NULL);
    }
    free(big);
    assert_int_equal(rv, MQ_ERR_FULL);
}

static void test_retry_past_memory_budget_is_a_duplicate(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_pub_result first, again;

    CLUSTER_TEST_BEGIN(c);
    qc.name = "outbox";
    qc.max_message_bytes = 1024 * 1024;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    assert_int_equal(publish(cl, "outbox", "order-1", "x", 1, &first), MQ_OK);
    assert_int_equal(first.duplicate, 0);
    fill_until_full(cl, "outbox");
    assert_non_null(strstr(mq_errmsg(), "memory budget"));

    /* The retry of a stored id: its original seq, flagged duplicate. */
    assert_int_equal(publish(cl, "outbox", "order-1", "x", 1, &again), MQ_OK);
    assert_int_equal(again.duplicate, 1);
    assert_int_equal(again.seq, first.seq);

    /* An all-or-nothing batch of stored ids only is a duplicate too. */
    mq_pub m = {0};
    mq_pub_result res;
    m.id = "order-1";
    m.payload = "x";
    m.payload_len = 1;
    assert_int_equal(mq_publish_batch_flags(cl, "outbox", &m, 1,
                                            MQ_PUBLISH_ATOMIC, &res, 15000),
                     MQ_OK);
    assert_int_equal(res.err, MQ_OK);
    assert_int_equal(res.duplicate, 1);
    assert_int_equal(res.seq, first.seq);

    /* A new id is still refused. */
    assert_int_equal(publish(cl, "outbox", "order-2", "x", 1, NULL),
                     MQ_ERR_FULL);
    assert_int_equal(mq_queue_delete(cl, "outbox", 10000), MQ_OK);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

static void test_retry_into_full_reject_queue_is_a_duplicate(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_pub_result first, again;

    CLUSTER_TEST_BEGIN(c);
    qc.name = "bounded";
    qc.max_messages = 1;
    qc.discard = MQ_DISCARD_REJECT;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    assert_int_equal(publish(cl, "bounded", "b-1", "x", 1, &first), MQ_OK);
    assert_int_equal(publish(cl, "bounded", "b-2", "x", 1, NULL), MQ_ERR_FULL);
    assert_int_equal(publish(cl, "bounded", "b-1", "x", 1, &again), MQ_OK);
    assert_int_equal(again.duplicate, 1);
    assert_int_equal(again.seq, first.seq);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_into_full_reject_queue_is_a_duplicate),
        cmocka_unit_test(test_retry_past_memory_budget_is_a_duplicate),
    };
    /* The smallest budget: a few large messages use it up. */
    cluster_group_extra = "--memory_budget_bytes 1048576";
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
