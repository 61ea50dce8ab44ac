/* test_idle_time.c: time-driven work on an idle cluster. With no traffic
 * at all after a publish, the leader proposes the time when something
 * becomes due: a message past its queue's max_age is dropped on time, the
 * status of a gone message is forgotten after its status_ttl_ms, a delayed
 * message's status turns pending when it is due, and a delayed message
 * reaches a fetch waiting for it on time, as does a message whose ack
 * deadline passed. (Apply used to
 * do all this only when the next, unrelated, command arrived.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

/* How late a time-driven change may come on an idle cluster. */
#define LATE_MS 1000

static void publish_one(mq_client *cl, const char *queue, const char *id,
                        uint64_t delay_ms)
{
    mq_pub m = {0};
    mq_pub_result res;
    m.id = id;
    m.event = "idle.test";
    m.payload = id;
    m.payload_len = strlen(id);
    m.delay_ms = delay_ms;
    assert_int_equal(mq_publish(cl, queue, &m, &res, 10000), MQ_OK);
    assert_int_equal(res.err, MQ_OK);
}

/* Milliseconds from @t0 until @queue holds no message (asked of the
 * leader every 20 ms), or -1 if it still holds one at @t0 + @limit_ms. */
static long wait_empty(mq_client *cl, const char *queue, uint64_t t0,
                       uint64_t limit_ms)
{
    while (test_wall_ms() < t0 + limit_ms) {
        mq_queue_info info;
        if (mq_queue_info_get(cl, queue, &info, 5000) == MQ_OK &&
            info.messages == 0) {
            return (long)(test_wall_ms() - t0);
        }
        test_sleep_ms(20);
    }
    return -1;
}

/* Milliseconds from @t0 until no node knows message @id any more, or -1
 * if one still does at @t0 + @limit_ms. Every node is asked: each applies
 * the leader's time alike. */
static long wait_forgotten(struct cluster *c, const char *id, uint64_t t0,
                           uint64_t limit_ms)
{
    mq_client *one[CLUSTER_MAX] = {NULL};
    long took = -1;
    for (int i = 0; i < c->n; i++) {
        mq_client_opts o = MQ_CLIENT_OPTS_INIT;
        o.urls = c->nodes[i].client_url;
        assert_int_equal(mq_client_open(&one[i], &o), MQ_OK);
    }
    while (took < 0 && test_wall_ms() < t0 + limit_ms) {
        int known = 0;
        for (int i = 0; i < c->n; i++) {
            mq_msg_status *st = NULL;
            size_t n = 0;
            mq_err rv = mq_message_status(one[i], id, NULL, &st, &n, 5000);
            known += rv != MQ_ERR_NOT_FOUND;
            mq_msg_status_free(st, n);
        }
        if (known == 0) {
            took = (long)(test_wall_ms() - t0);
        } else {
            test_sleep_ms(20);
        }
    }
    for (int i = 0; i < c->n; i++) {
        mq_client_close(one[i]);
    }
    return took;
}

static void test_idle_queue_expires_and_forgets_on_time(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    CLUSTER_TEST_BEGIN(c);
    qc.name = "aged";
    qc.max_age_ms = 1500;
    qc.status_ttl_ms = 2000;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);

    uint64_t t0 = test_wall_ms();
    publish_one(cl, "aged", "old-1", 0);
    /* Nothing else is sent: only the leader's own proposal of the time can
     * expire it. */
    long took = wait_empty(cl, "aged", t0, 1500 + LATE_MS + 3000);
    printf("expired by max_age 1500 ms after %ld ms\n", took);
    assert_true(took >= 1500 - 50); /* the node's clock, not ours */
    assert_true(took <= 1500 + LATE_MS);

    /* Its status says expired (on any node, once it applied the leader's
     * time), then, after status_ttl_ms, nothing. */
    uint64_t gone = 0, end = test_wall_ms() + 5000;
    while (gone == 0 && test_wall_ms() < end) {
        mq_msg_status *st = NULL;
        size_t n = 0;
        if (mq_message_status(cl, "old-1", "aged", &st, &n, 5000) == MQ_OK &&
            n == 1 && st[0].state == MQ_MSG_EXPIRED) {
            gone = st[0].gone_at_ms;
        }
        mq_msg_status_free(st, n);
    }
    assert_true(gone >= t0 + 1500 - 50);
    long forgot = wait_forgotten(c, "old-1", gone, 2000 + LATE_MS + 3000);
    printf("status forgotten %ld ms after the message went (ttl 2000)\n",
           forgot);
    assert_true(forgot >= 2000 - 50);
    assert_true(forgot <= 2000 + LATE_MS);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

static void test_idle_delayed_message_due_on_time(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    CLUSTER_TEST_BEGIN(c);
    qc.name = "later";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "later";
    sc.name = "s";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);

    /* Nobody fetches: the status (asked of the leader) turns from
     * scheduled to pending when the message is due. */
    uint64_t t0 = test_wall_ms();
    publish_one(cl, "later", "soon-0", 1000);
    long took = -1;
    while (took < 0 && test_wall_ms() < t0 + 1000 + LATE_MS + 3000) {
        mq_msg_status *st = NULL;
        size_t k = 0;
        if (mq_message_status(cl, "soon-0", "later", &st, &k, 5000) == MQ_OK &&
            k == 1 && st[0].n_subs == 1 &&
            st[0].subs[0].state == MQ_SUB_PENDING) {
            took = (long)(test_wall_ms() - t0);
        }
        mq_msg_status_free(st, k);
        if (took < 0) {
            test_sleep_ms(20);
        }
    }
    printf("delayed 1000 ms: pending after %ld ms\n", took);
    assert_true(took >= 1000 - 50);
    assert_true(took <= 1000 + LATE_MS);
    mq_msg **msgs = NULL;
    size_t n = 0;
    assert_int_equal(mq_fetch(cl, "later", "s", 1, 1000, &msgs, &n), MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mq_ack(cl, msgs[0], 10000), MQ_OK);
    mq_msgs_free(msgs, n);

    /* A fetch waits for a delayed message, and gets it on time. */
    publish_one(cl, "later", "soon-1", 1500);
    t0 = test_wall_ms();
    msgs = NULL;
    n = 0;
    assert_int_equal(mq_fetch(cl, "later", "s", 1, 6000, &msgs, &n), MQ_OK);
    uint64_t t1 = test_wall_ms();
    assert_int_equal(n, 1);
    uint64_t due = mq_msg_deliver_at(msgs[0]);
    printf("delayed message due at +%lld ms, fetched at +%lld ms\n",
           (long long)(due - t0), (long long)(t1 - t0));
    assert_true(t1 + 50 >= due);
    assert_true(t1 <= due + LATE_MS);
    assert_int_equal(mq_ack(cl, msgs[0], 10000), MQ_OK);
    mq_msgs_free(msgs, n);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

static void
test_idle_ack_timeout_redelivers_to_waiting_fetch_on_time(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    CLUSTER_TEST_BEGIN(c);
    qc.name = "unacked";
    qc.ack_timeout_ms = 1000;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "unacked";
    sc.name = "s";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    publish_one(cl, "unacked", "u-1", 0);

    mq_msg **msgs = NULL;
    size_t n = 0;
    assert_int_equal(mq_fetch(cl, "unacked", "s", 1, 1000, &msgs, &n), MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mq_msg_attempt(msgs[0]), 1);
    mq_msgs_free(msgs, n);
    uint64_t t0 = test_wall_ms();
    /* Not acked: a fetch waiting on the idle queue gets it again once its
     * ack deadline passes. */
    msgs = NULL;
    n = 0;
    assert_int_equal(mq_fetch(cl, "unacked", "s", 1, 6000, &msgs, &n), MQ_OK);
    uint64_t took = test_wall_ms() - t0;
    printf("redelivered after %llu ms (ack timeout 1000 ms)\n",
           (unsigned long long)took);
    assert_int_equal(n, 1);
    assert_int_equal(mq_msg_attempt(msgs[0]), 2);
    assert_true(took + 50 >= 1000);
    assert_true(took <= 1000 + LATE_MS);
    assert_int_equal(mq_ack(cl, msgs[0], 10000), MQ_OK);
    mq_msgs_free(msgs, n);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_queue_expires_and_forgets_on_time),
        cmocka_unit_test(test_idle_delayed_message_due_on_time),
        cmocka_unit_test(
            test_idle_ack_timeout_redelivers_to_waiting_fetch_on_time),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
