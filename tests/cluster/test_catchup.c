/* test_catchup.c: wipe one follower's data dir and restart it: the leader
 * has compacted its log behind snapshots, so the follower catches up by
 * installing a snapshot; it then holds the same state and can be part of
 * the majority that stores new messages. */
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

static mq_client *client_of(struct cluster *c, int i)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    o.urls = c->nodes[i].client_url;
    o.timeout_ms = 5000;
    assert_int_equal(mq_client_open(&cl, &o), MQ_OK);
    return cl;
}

static void test_wiped_follower_catches_up_by_snapshot(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;

    CLUSTER_TEST_BEGIN(c);
    qc.name = "events";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "events";
    sc.name = "reader";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);

    /* One entry per publish: enough entries for several snapshots. */
    for (int i = 0; i < 400; i++) {
        char id[32], payload[64];
        mq_pub m = {0};
        snprintf(id, sizeof id, "e-%d", i);
        snprintf(payload, sizeof payload, "event number %d", i);
        m.id = id;
        m.payload = payload;
        m.payload_len = strlen(payload);
        assert_int_equal(mq_publish(cl, "events", &m, NULL, 10000), MQ_OK);
    }
    /* Acknowledge some, so that subscription state travels too. */
    mq_msg **msgs = NULL;
    size_t n = 0;
    assert_int_equal(mq_fetch(cl, "events", "reader", 100, 2000, &msgs, &n),
                     MQ_OK);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(mq_ack(cl, msgs[i], 10000), MQ_OK);
    }
    mq_msgs_free(msgs, n);

    int leader = cluster_leader(c);
    int f = (leader + 1) % c->n;
    cluster_signal(c, f, SIGTERM);
    cluster_wipe(c, f);
    assert_int_equal(cluster_restart(c, f), 0);

    /* It must reach the leader's commit index. */
    assert_int_equal(cluster_settle(c, 30000), 0);
    assert_true(cluster_log_has(c, f, "restoring a snapshot"));

    /* The follower answers reads from its own state: the same messages,
     * and the subscription's acks. */
    mq_client *fc = client_of(c, f);
    mq_read_opts ro = MQ_READ_OPTS_INIT;
    mq_read_info info;
    mq_msg **got = NULL;
    size_t n_got = 0;
    ro.max_messages = 1000;
    assert_int_equal(mq_read(fc, "events", &ro, &got, &n_got, &info, 5000),
                     MQ_OK);
    assert_int_equal(info.node_id, (uint64_t)c->nodes[f].id);
    assert_int_equal(n_got, 400);
    assert_int_equal(info.last_seq, 400);
    assert_string_equal(mq_msg_id(got[399]), "e-399");
    mq_msgs_free(got, n_got);
    mq_msg_status *st = NULL;
    size_t ns = 0;
    assert_int_equal(mq_message_status(fc, "e-0", "events", &st, &ns, 5000),
                     MQ_OK);
    assert_int_equal(st[0].subs[0].state, MQ_SUB_ACKED);
    mq_msg_status_free(st, ns);
    assert_int_equal(mq_message_status(fc, "e-399", "events", &st, &ns, 5000),
                     MQ_OK);
    assert_int_equal(st[0].subs[0].state, MQ_SUB_PENDING);
    mq_msg_status_free(st, ns);
    mq_client_close(fc);

    /* With the third node down, the restored follower is needed for a
     * majority: new publishes still succeed and everything is there. */
    int other = (f + 1) % c->n == leader ? (f + 2) % c->n : (f + 1) % c->n;
    cluster_signal(c, other, SIGKILL);
    for (int i = 400; i < 450; i++) {
        char id[32];
        mq_pub m = {0};
        snprintf(id, sizeof id, "e-%d", i);
        m.id = id;
        m.payload = "late";
        m.payload_len = 4;
        assert_int_equal(mq_publish(cl, "events", &m, NULL, 15000), MQ_OK);
    }
    struct drain_stats ds = {0};
    drain(cl, "events", "reader", 200, 2000, 30000, NULL, NULL, NULL, &ds);
    assert_int_equal(ds.messages, 450 - n);
    assert_int_equal(cluster_restart(c, other), 0);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wiped_follower_catches_up_by_snapshot),
    };
    /* Snapshot every 32 entries, keep 8 behind: a wiped node cannot catch
     * up from the log alone. */
    cluster_group_extra = "--snapshot_threshold 32 --snapshot_trailing 8";
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
