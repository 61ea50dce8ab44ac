/* test_disk_use.c: disk use stays bounded by the live state plus the
 * trailing log. Far more bytes are published than the queue keeps (it keeps
 * the newest 100 messages); snapshots compact the log, and every node's log
 * and snapshot sizes, as mqctl status shows them, stay small. A restarted
 * node comes back from its compacted data dir with the same messages: read
 * from that node itself, they are the leader's, seq for seq and id for
 * id. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

#define MiB (1024ull * 1024ull)
#define PAYLOAD 1024
#define N_MSGS 120000 /* per round: about 125 MB of payload */
#define KEEP 100

/* The bound: the log applied since the last snapshot (snapshot_log_bytes,
 * 1 MiB, plus the entry that crossed it) and the trailing entries (2) kept
 * behind it; but raft_uv deletes only whole closed segment files, when a
 * snapshot is written, and libmq's batches make entries of up to 4 MiB: a
 * few such entries more stay until the next snapshot. Half of what one
 * round publishes, and it must not grow with a second round. */
#define LOG_BOUND (64 * MiB)
/* Two snapshots of the live state: 100 messages, their ids' and gone
 * messages' status records (at most 1000 each). */
#define SNAPSHOT_BOUND (8 * MiB)

static void count_failure(void *arg, const mq_pub_result *res)
{
    if (res->err != MQ_OK) {
        (*(int *)arg)++;
    }
}

static void assert_disk_bounded(struct cluster *c)
{
    mq_client *cl = cluster_client(c);
    mq_node_status *st = NULL;
    size_t n = 0;
    assert_int_equal(mq_cluster_status(cl, &st, &n, 5000), MQ_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        printf("node %llu: log %llu bytes, snapshots %llu bytes, snapshot "
               "index %llu\n",
               (unsigned long long)st[i].id,
               (unsigned long long)st[i].log_bytes,
               (unsigned long long)st[i].snapshot_bytes,
               (unsigned long long)st[i].snapshot_index);
        assert_int_equal(st[i].err, MQ_OK);
        assert_true(st[i].snapshot_index > 0);
        assert_true(st[i].snapshot_bytes > 0);
        assert_true(st[i].log_bytes < LOG_BOUND);
        assert_true(st[i].snapshot_bytes < SNAPSHOT_BOUND);
    }
    mq_status_free(st);
    mq_client_close(cl);

    /* mqctl says the same to an operator. */
    char out[4096];
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "status"), 0);
    assert_non_null(strstr(out, "LOG"));
    assert_non_null(strstr(out, "SNAPSHOTS"));
}

static void assert_keeps_newest(struct cluster *c, uint64_t last_seq)
{
    mq_client *cl = cluster_client(c);
    mq_queue_info info;
    assert_int_equal(mq_queue_info_get(cl, "churn", &info, 10000), MQ_OK);
    assert_int_equal(info.messages, KEEP);
    assert_int_equal(info.last_seq, last_seq);
    assert_int_equal(info.first_seq, last_seq - KEEP + 1);
    mq_client_close(cl);
}

/* The messages of "churn" as node @i serves them (a catch-up read, which
 * the node asked answers from its own state): the newest KEEP, ending at
 * @last_seq; their ids go to @ids. */
static void read_churn(struct cluster *c, int i, uint64_t last_seq,
                       char ids[KEEP][MQ_ID_MAX + 1])
{
    mq_client *cl = cluster_node_client(c, i);
    mq_read_opts ro = MQ_READ_OPTS_INIT;
    mq_read_info info;
    mq_msg **msgs = NULL;
    size_t n = 0;

    assert_non_null(cl);
    ro.max_messages = 2 * KEEP; /* from the first stored */
    assert_int_equal(mq_read(cl, "churn", &ro, &msgs, &n, &info, 10000), MQ_OK);
    printf("node %d serves %zu messages, seqs %llu..%llu\n", (int)info.node_id,
           n, (unsigned long long)info.first_seq,
           (unsigned long long)info.last_seq);
    assert_int_equal(info.node_id, (uint64_t)c->nodes[i].id);
    assert_int_equal(n, KEEP);
    assert_int_equal(info.first_seq, last_seq - KEEP + 1);
    assert_int_equal(info.last_seq, last_seq);
    for (size_t k = 0; k < n; k++) {
        size_t len = 0;
        assert_int_equal(mq_msg_seq(msgs[k]), last_seq - KEEP + 1 + k);
        assert_non_null(mq_msg_payload(msgs[k], &len));
        assert_int_equal(len, PAYLOAD);
        snprintf(ids[k], MQ_ID_MAX + 1, "%s", mq_msg_id(msgs[k]));
    }
    mq_msgs_free(msgs, n);
    mq_client_close(cl);
}

/* The leader's commit index now. */
static uint64_t commit_index(struct cluster *c)
{
    mq_client *cl = cluster_client(c);
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
    mq_client_close(cl);
    assert_true(commit > 0);
    return commit;
}

/* Publishes to another queue until every node has taken a snapshot past
 * @index, so that what was stored up to @index is in every node's latest
 * snapshot; up to 60 s. */
static void snapshot_past(mq_client *cl, uint64_t index)
{
    static char payload[PAYLOAD];
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    uint64_t end = test_now_ms() + 60000;
    int done = 0, failed = 0;

    qc.name = "filler";
    qc.max_messages = 10;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    memset(payload, 'f', sizeof payload);
    while (!done && test_now_ms() < end) {
        for (int i = 0; i < 1000; i++) {
            mq_pub m = {0};
            m.payload = payload;
            m.payload_len = sizeof payload;
            assert_int_equal(
                mq_publish_async(cl, "filler", &m, count_failure, &failed),
                MQ_OK);
        }
        assert_int_equal(mq_flush(cl, 30000), MQ_OK);
        assert_int_equal(failed, 0);
        mq_node_status *st = NULL;
        size_t n = 0;
        assert_int_equal(mq_cluster_status(cl, &st, &n, 5000), MQ_OK);
        done = n == 3;
        for (size_t i = 0; i < n; i++) {
            done &= st[i].err == MQ_OK && st[i].snapshot_index > index;
        }
        mq_status_free(st);
    }
    assert_true(done);
}

static void test_disk_use_stays_bounded(void **state)
{
    struct cluster *c = *state;
    static char payload[PAYLOAD];
    int failed = 0;
    CLUSTER_TEST_BEGIN(c);
    /* The queue remembers ids for 1 s only (so that the snapshots stay
     * small): a batch retried after that would be stored again. Nothing
     * fails here, so a slow answer (a sanitizer build taking a snapshot) is
     * waited for rather than retried. */
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    o.urls = c->urls;
    o.attempt_timeout_ms = 60000;
    assert_int_equal(mq_client_open(&cl, &o), MQ_OK);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    qc.name = "churn";
    qc.max_messages = KEEP;
    qc.duplicate_window_ms = 1000;
    qc.status_max = 1000;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);

    memset(payload, 'x', sizeof payload);
    for (int round = 1; round <= 2; round++) {
        for (int i = 0; i < N_MSGS; i++) {
            mq_pub m = {0};
            m.payload = payload;
            m.payload_len = sizeof payload;
            assert_int_equal(
                mq_publish_async(cl, "churn", &m, count_failure, &failed),
                MQ_OK);
        }
        assert_int_equal(mq_flush(cl, 120000), MQ_OK);
        assert_int_equal(failed, 0);
        assert_int_equal(cluster_settle(c, 30000), 0);
        printf("after round %d:\n", round);
        assert_keeps_newest(c, (uint64_t)round * N_MSGS);
        assert_disk_bounded(c);
    }

    /* A follower restarts from its compacted data dir, and serves the
     * leader's messages itself. Its latest snapshot holds them: it restores
     * them from there. */
    static char before[KEEP][MQ_ID_MAX + 1], after[KEEP][MQ_ID_MAX + 1];
    snapshot_past(cl, commit_index(c));
    assert_int_equal(cluster_settle(c, 30000), 0);
    int leader = cluster_leader(c);
    int f = (leader + 1) % 3;
    read_churn(c, leader, 2 * N_MSGS, before);
    cluster_signal(c, f, SIGTERM);
    assert_int_equal(c->nodes[f].exit_status, 0);
    assert_int_equal(cluster_restart(c, f), 0);
    assert_int_equal(cluster_settle(c, 30000), 0);
    assert_disk_bounded(c);
    assert_keeps_newest(c, 2 * N_MSGS);
    read_churn(c, f, 2 * N_MSGS, after);
    for (int k = 0; k < KEEP; k++) {
        assert_string_equal(after[k], before[k]);
    }
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disk_use_stays_bounded),
    };
    cluster_group_extra = "--snapshot_log_bytes 1048576 --snapshot_trailing 2";
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
