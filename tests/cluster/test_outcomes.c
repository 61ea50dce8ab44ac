/* test_outcomes.c: the client outcomes the outbox pattern depends on.
 *
 * A retried publish of an id already stored succeeds as a duplicate (its
 * original seq) even once the node's memory budget is used up or the
 * queue is full: the repeat stores nothing, so no limit applies to it. A
 * fetch with a deadline of its own says what the subscription has left
 * (pending, in flight, scheduled), also when it brings nothing; mq_leader
 * names the leader. */
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

/* Fetches from orders/billing with a deadline of its own; checks the
 * counts the leader says are left. Returns how many messages came. */
static size_t fetch_counts(mq_client *cl, uint32_t max, uint64_t pending,
                           uint64_t in_flight, uint64_t scheduled,
                           mq_msg ***msgs)
{
    mq_fetch_opts fo = MQ_FETCH_OPTS_INIT;
    mq_fetch_info info;
    size_t n = 0;

    fo.max_messages = max;
    fo.max_wait_ms = 200;
    assert_int_equal(
        mq_fetch_with(cl, "orders", "billing", &fo, msgs, &n, &info, 5000),
        MQ_OK);
    assert_int_equal(info.pending, pending);
    assert_int_equal(info.in_flight, in_flight);
    assert_int_equal(info.scheduled, scheduled);
    return n;
}

static void test_fetch_says_what_is_left_and_leader_is_named(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    char url[MQ_URL_MAX];
    uint64_t id = 0;
    mq_msg **msgs;

    CLUSTER_TEST_BEGIN(c);
    qc.name = "orders";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "orders";
    sc.name = "billing";
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    assert_int_equal(publish(cl, "orders", "o-1", "x", 1, NULL), MQ_OK);
    assert_int_equal(publish(cl, "orders", "o-2", "x", 1, NULL), MQ_OK);

    assert_int_equal(fetch_counts(cl, 1, 1, 1, 0, &msgs), 1);
    mq_msgs_free(msgs, 1);
    assert_int_equal(fetch_counts(cl, 1, 0, 2, 0, &msgs), 1);
    assert_int_equal(mq_nack(cl, msgs[0], 60000, 5000), MQ_OK);
    mq_msgs_free(msgs, 1);
    /* Nothing comes: one in flight, one waiting for its nack delay. */
    assert_int_equal(fetch_counts(cl, 10, 0, 1, 1, &msgs), 0);
    mq_msgs_free(msgs, 0);

    assert_int_equal(mq_leader(cl, &id, url, 5000), MQ_OK);
    int leader = cluster_leader(c);
    assert_true(leader >= 0);
    assert_int_equal(id, (uint64_t)c->nodes[leader].id);
    assert_string_equal(url, c->nodes[leader].client_url);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_into_full_reject_queue_is_a_duplicate),
        cmocka_unit_test(test_fetch_says_what_is_left_and_leader_is_named),
        cmocka_unit_test(test_retry_past_memory_budget_is_a_duplicate),
    };
    /* The smallest budget: a few large messages use it up. */
    cluster_group_extra = "--memory_budget_bytes 1048576";
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
