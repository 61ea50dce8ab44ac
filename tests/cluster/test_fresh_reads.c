/* test_fresh_reads.c: reads right after a write see the write.
 *
 * mqctl answers its reads from the leader by default, so `mqctl publish
 * --id X` followed at once by `mqctl message status X` finds X, and
 * status after `mqctl message cancel X` says cancelled, every time. Within
 * one libmq client, follower reads pass the index of the client's own last
 * write (a publish, a cancel, an ack): the follower waits until it has
 * applied that far, and never answers from an older state. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

#define ROUNDS 10

static void test_mqctl_reads_its_own_writes(void **state)
{
    struct cluster *c = *state;
    char out[8192];

    CLUSTER_TEST_BEGIN(c);
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "queue create mail"), 0);
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "sub create mail sender"), 0);
    for (int i = 0; i < ROUNDS; i++) {
        assert_int_equal(cluster_mqctl(c, out, sizeof out,
                                       "publish mail mail.welcome hi --id "
                                       "w-%d --delay 1h",
                                       i),
                         0);
        assert_int_equal(
            cluster_mqctl(c, out, sizeof out, "message status w-%d", i), 0);
        assert_non_null(strstr(out, "scheduled"));
        assert_int_equal(
            cluster_mqctl(c, out, sizeof out, "message cancel w-%d", i), 0);
        assert_int_equal(
            cluster_mqctl(c, out, sizeof out, "message status w-%d", i), 0);
        if (strstr(out, "cancelled") == NULL) {
            fail_msg("round %d: status after cancel: %s", i, out);
        }
    }
    /* Any node, on request: still answers (maybe a moment behind). */
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "--any-node message status w-0"), 0);
    CLUSTER_TEST_PASSED(c);
}

static const mq_sub_status *sub_of(const mq_msg_status *st, const char *name)
{
    for (size_t i = 0; i < st->n_subs; i++) {
        if (strcmp(st->subs[i].name, name) == 0) {
            return &st->subs[i];
        }
    }
    return NULL;
}

/* A client whose reads go to followers (libmq's default). */
static mq_client *follower_reader(struct cluster *c)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    o.urls = c->urls;
    o.timeout_ms = 10000;
    assert_int_equal(mq_client_open(&cl, &o), MQ_OK);
    return cl;
}

static void test_client_follower_reads_see_its_writes(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = follower_reader(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;

    CLUSTER_TEST_BEGIN(c);
    qc.name = "events";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "events";
    sc.name = "audit";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    for (int i = 0; i < ROUNDS; i++) {
        char id[32];
        mq_pub m = {0};
        mq_msg_status *st;
        mq_read_info ri;
        mq_msg **msgs;
        size_t n;

        snprintf(id, sizeof id, "e-%d", i);
        m.id = id;
        m.payload = "x";
        m.payload_len = 1;
        m.delay_ms = 3600 * 1000;
        assert_int_equal(mq_publish(cl, "events", &m, NULL, 10000), MQ_OK);
        assert_int_equal(mq_message_status(cl, id, NULL, &st, &n, 10000),
                         MQ_OK);
        assert_int_equal(st[0].state, MQ_MSG_STORED);
        mq_msg_status_free(st, n);

        /* A read sees it too (the ones before it are cancelled). */
        assert_int_equal(mq_read(cl, "events", NULL, &msgs, &n, &ri, 10000),
                         MQ_OK);
        assert_int_equal(n, 1);
        assert_string_equal(mq_msg_id(msgs[0]), id);
        mq_msgs_free(msgs, n);

        /* A cancel is a write: the status after it says so. */
        assert_int_equal(mq_cancel(cl, id, "events", NULL, 10000), MQ_OK);
        assert_int_equal(mq_message_status(cl, id, NULL, &st, &n, 10000),
                         MQ_OK);
        assert_int_equal(st[0].state, MQ_MSG_CANCELLED);
        mq_msg_status_free(st, n);
    }

    /* An ack too. */
    mq_pub m = {0};
    mq_msg **msgs;
    mq_msg_status *st;
    size_t n;
    m.id = "e-acked";
    m.payload = "x";
    m.payload_len = 1;
    assert_int_equal(mq_publish(cl, "events", &m, NULL, 10000), MQ_OK);
    assert_int_equal(mq_fetch(cl, "events", "audit", 1, 5000, &msgs, &n),
                     MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mq_ack(cl, msgs[0], 10000), MQ_OK);
    mq_msgs_free(msgs, n);
    assert_int_equal(mq_message_status(cl, "e-acked", "events", &st, &n, 10000),
                     MQ_OK);
    assert_int_equal(sub_of(&st[0], "audit")->state, MQ_SUB_ACKED);
    mq_msg_status_free(st, n);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mqctl_reads_its_own_writes),
        cmocka_unit_test(test_client_follower_reads_see_its_writes),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
