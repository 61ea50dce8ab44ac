/* test_delay.c: delayed delivery. A delayed message is stored at once and
 * delivered no earlier than published_at + delay: also when the leader is
 * killed in between (the new leader delivers it on time, not early and not
 * lost), when every node restarts, and when it waits in a snapshot: a
 * follower that lost its data installs the snapshot, every node restarts
 * from its own, and the node that installed it, made leader, delivers it
 * on time. It can be cancelled by id before it is due; a delay over the
 * queue's maximum is refused, naming the limit; a queue's default delay
 * applies to publishes without one. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

/* Long enough for snapshots, an install, a restart of every node and a
 * leader transfer to happen while the message waits. */
#define SNAP_DELAY_MS 10000

static void publish_delayed(mq_client *cl, const char *queue, const char *id,
                            uint64_t delay_ms, mq_pub_result *res)
{
    mq_pub m = {0};
    m.id = id;
    m.event = "mail.send";
    m.payload = id;
    m.payload_len = strlen(id);
    m.delay_ms = delay_ms;
    assert_int_equal(mq_publish(cl, queue, &m, res, 10000), MQ_OK);
}

/* Fetches one message within @wait_ms; NULL if none came. */
static mq_msg *fetch_one(mq_client *cl, const char *queue, uint32_t wait_ms)
{
    mq_msg **msgs = NULL;
    size_t n = 0;
    mq_msg *m = NULL;
    assert_int_equal(mq_fetch(cl, queue, "mailer", 1, wait_ms, &msgs, &n),
                     MQ_OK);
    if (n == 1) {
        m = msgs[0];
        msgs[0] = NULL;
    }
    mq_msgs_free(msgs, n);
    return m;
}

static void test_delayed_message_on_time_across_failover(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    mq_pub_result late, now, later;

    CLUSTER_TEST_BEGIN(c);
    qc.name = "mail";
    qc.max_delay_ms = 3600000;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "mail";
    sc.name = "mailer";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);

    uint64_t t0 = test_now_ms();
    publish_delayed(cl, "mail", "welcome-1", 3000, &late);
    publish_delayed(cl, "mail", "receipt-1", 0, &now);
    publish_delayed(cl, "mail", "reminder-1", 600000, &later);

    /* Stored at once: only the undelayed one is delivered now. */
    mq_msg *m = fetch_one(cl, "mail", 1000);
    assert_non_null(m);
    assert_string_equal(mq_msg_id(m), "receipt-1");
    assert_int_equal(mq_ack(cl, m, 10000), MQ_OK);
    mq_msg_free(m);

    /* The leader dies while welcome-1 waits. */
    int leader = cluster_leader(c);
    cluster_signal(c, leader, SIGKILL);
    assert_true(cluster_wait_leader(c, 10000) >= 0);

    m = fetch_one(cl, "mail", 6000);
    uint64_t got_at = test_now_ms();
    assert_non_null(m);
    assert_string_equal(mq_msg_id(m), "welcome-1");
    /* Not early: after published_at + delay, as the message says. */
    assert_true(got_at - t0 >= 3000);
    assert_true(mq_msg_deliver_at(m) >= mq_msg_published_at(m) + 3000);
    assert_true(test_wall_ms() >= mq_msg_deliver_at(m));
    printf("delivered %llu ms after publishing (delay 3000 ms)\n",
           (unsigned long long)(got_at - t0));
    assert_int_equal(mq_ack(cl, m, 10000), MQ_OK);
    mq_msg_free(m);

    /* Cancel the one not yet due, by id: it is never delivered. */
    uint64_t seq = 0;
    assert_int_equal(mq_cancel(cl, "reminder-1", NULL, &seq, 10000), MQ_OK);
    assert_int_equal(seq, later.seq);
    assert_int_equal(mq_cancel(cl, "reminder-1", NULL, NULL, 10000),
                     MQ_ERR_NOT_FOUND);
    /* Too late to cancel what was due already. */
    assert_int_equal(mq_cancel(cl, "welcome-1", "mail", NULL, 10000),
                     MQ_ERR_INVALID);
    assert_non_null(strstr(mq_errmsg(), "too late"));
    mq_msg_status *st = NULL;
    size_t n = 0;
    assert_int_equal(mq_message_status(cl, "reminder-1", NULL, &st, &n, 10000),
                     MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(st[0].state, MQ_MSG_CANCELLED);
    mq_msg_status_free(st, n);

    assert_int_equal(cluster_restart(c, leader), 0);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

static void test_delay_limits_defaults_and_restart(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    mq_pub_result res;

    CLUSTER_TEST_BEGIN(c);
    qc.name = "digest";
    qc.delay_ms = 2000;      /* default delay */
    qc.max_delay_ms = 60000; /* longest accepted */
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "digest";
    sc.name = "mailer";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);

    /* Over the maximum: refused, naming the limit; nothing stored. */
    mq_pub m = {0};
    m.id = "too-late";
    m.payload = "x";
    m.payload_len = 1;
    m.delay_ms = 120000;
    assert_int_equal(mq_publish(cl, "digest", &m, NULL, 10000), MQ_ERR_INVALID);
    assert_non_null(strstr(mq_errmsg(), "max_delay_ms 60000"));

    /* No delay given: the queue's default. */
    publish_delayed(cl, "digest", "daily-1", 0, &res);
    mq_queue_info qi;
    assert_int_equal(mq_queue_info_get(cl, "digest", &qi, 10000), MQ_OK);
    assert_int_equal(qi.messages, 1);
    assert_int_equal(qi.scheduled, 1);

    /* Every node restarts (kill -9) while it waits. */
    for (int i = 0; i < c->n; i++) {
        kill(c->nodes[i].pid, SIGKILL);
    }
    for (int i = 0; i < c->n; i++) {
        cluster_signal(c, i, SIGKILL);
        assert_int_equal(cluster_restart(c, i), 0);
    }
    assert_true(cluster_wait_leader(c, 20000) >= 0);

    mq_msg *got = fetch_one(cl, "digest", 8000);
    assert_non_null(got);
    assert_string_equal(mq_msg_id(got), "daily-1");
    assert_true(mq_msg_deliver_at(got) >= mq_msg_published_at(got) + 2000);
    /* Not early (the nodes' clocks are this machine's). */
    assert_true(test_wall_ms() >= mq_msg_deliver_at(got));
    mq_msg_free(got);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

/* The leader's commit index now. */
static uint64_t commit_index(mq_client *cl)
{
    mq_node_status *st = NULL;
    size_t n = 0;
    uint64_t commit = 0;
    assert_int_equal(mq_cluster_status(cl, &st, &n, 5000), MQ_OK);
    for (size_t i = 0; i < n; i++) {
        if (st[i].err == MQ_OK && strcmp(st[i].role, "leader") == 0) {
            commit = st[i].commit_index;
        }
    }
    mq_status_free(st);
    assert_true(commit > 0);
    return commit;
}

/* Writes (a subscription of queue "spare" created and deleted) until every
 * running node has a snapshot on disk at or past @index; up to 200
 * writes. */
static void snapshot_past(struct cluster *c, mq_client *cl, uint64_t index)
{
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    int done = 0;

    sc.queue = "spare";
    sc.name = "churn";
    for (int k = 0; k < 200 && !done; k++) {
        if (k % 2 == 0) {
            assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
        } else {
            assert_int_equal(mq_sub_delete(cl, "spare", "churn", 10000), MQ_OK);
        }
        mq_node_status *st = NULL;
        size_t n = 0;
        assert_int_equal(mq_cluster_status(cl, &st, &n, 5000), MQ_OK);
        done = n == (size_t)c->n;
        for (size_t i = 0; i < n; i++) {
            done &= st[i].err == MQ_OK && st[i].snapshot_index >= index;
        }
        mq_status_free(st);
    }
    assert_true(done);
}

static void test_delayed_message_through_snapshots(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    mq_pub_result res;
    char out[4096];
    int restores[CLUSTER_MAX];

    CLUSTER_TEST_BEGIN(c);
    qc.name = "later";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    qc.name = "spare";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "later";
    sc.name = "mailer";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    uint64_t published = test_wall_ms();
    publish_delayed(cl, "later", "snap-1", SNAP_DELAY_MS, &res);

    /* Every node snapshots it while it waits. */
    snapshot_past(c, cl, commit_index(cl));

    /* A follower loses its data and installs the leader's snapshot. */
    int leader = cluster_leader(c);
    assert_true(leader >= 0);
    int f = (leader + 1) % c->n;
    int installs = cluster_snapshot_installs(c, f);
    cluster_signal(c, f, SIGTERM);
    cluster_wipe(c, f);
    assert_int_equal(cluster_restart(c, f), 0);
    assert_int_equal(cluster_settle(c, 30000), 0);
    assert_true(cluster_snapshot_installs(c, f) > installs);
    /* Its own snapshot on disk now holds the message too. */
    snapshot_past(c, cl, commit_index(cl));

    /* Every node restarts (kill -9) from its snapshot. */
    for (int i = 0; i < c->n; i++) {
        restores[i] = cluster_log_count(c, i, "restoring a snapshot");
        kill(c->nodes[i].pid, SIGKILL);
    }
    for (int i = 0; i < c->n; i++) {
        cluster_signal(c, i, SIGKILL);
        assert_int_equal(cluster_restart(c, i), 0);
    }
    assert_true(cluster_wait_leader(c, 20000) >= 0);
    for (int i = 0; i < c->n; i++) {
        assert_true(cluster_log_count(c, i, "restoring a snapshot") >
                    restores[i]);
    }

    /* The node that installed the snapshot leads, and so decides when the
     * message is delivered. */
    char cmd[64];
    snprintf(cmd, sizeof cmd, "leader transfer %d", c->nodes[f].id);
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "%s", cmd), 0);
    assert_int_equal(cluster_wait_leader(c, 10000), f);

    /* Still waiting, not lost: the restored state has it scheduled (all
     * of the above took less than its delay). */
    mq_queue_info qi;
    assert_int_equal(mq_queue_info_get(cl, "later", &qi, 10000), MQ_OK);
    printf("restored %llu ms after publishing: %llu message(s), %llu "
           "scheduled\n",
           (unsigned long long)(test_wall_ms() - published),
           (unsigned long long)qi.messages, (unsigned long long)qi.scheduled);
    assert_true(test_wall_ms() < published + SNAP_DELAY_MS);
    assert_int_equal(qi.messages, 1);
    assert_int_equal(qi.scheduled, 1);
    /* Delivered when due, not before. */
    uint64_t due = 0;
    mq_msg *m = NULL;
    uint64_t end = test_now_ms() + SNAP_DELAY_MS + 10000;
    while (m == NULL && test_now_ms() < end) {
        m = fetch_one(cl, "later", 1000);
    }
    uint64_t got_wall = test_wall_ms();
    assert_non_null(m);
    due = mq_msg_deliver_at(m);
    printf("snap-1 delivered %lld ms after its due time (published at %llu, "
           "due %llu)\n",
           (long long)(got_wall - due),
           (unsigned long long)mq_msg_published_at(m), (unsigned long long)due);
    assert_string_equal(mq_msg_id(m), "snap-1");
    assert_int_equal(mq_msg_seq(m), res.seq);
    assert_int_equal(due, mq_msg_published_at(m) + SNAP_DELAY_MS);
    assert_true(got_wall >= due);
    assert_int_equal(mq_ack(cl, m, 10000), MQ_OK);
    mq_msg_free(m);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delayed_message_on_time_across_failover),
        cmocka_unit_test(test_delay_limits_defaults_and_restart),
        cmocka_unit_test(test_delayed_message_through_snapshots),
    };
    /* Snapshots every 8 entries, 2 kept behind: a wiped node installs one,
     * and a restart restores one. */
    cluster_group_extra = "--snapshot_threshold 8 --snapshot_trailing 2";
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
