/* test_autorepair.c: a node repairs its damaged data dir at start (auto_repair,
 * mqd --repair; issue 8, item 7). Only raft's metadata damaged: rewritten
 * from mqd's checksummed copy, the node starts as it was. A damaged log or
 * snapshot: the node keeps its term and vote, moves the damaged files
 * aside and rejoins as a new member (the cluster removes it, adds it as a
 * non-voter, catches it up and promotes it). Its term and vote damaged:
 * it forgets them and rejoins the same way; so does a node started with
 * --repair on an empty data dir (its state lost). Each time the cluster comes
 * back at full strength (three voters) without an operator, and the node
 * serves every acknowledged message. */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"
#include "datadir.h"

#define QUEUE "vault"
#define GROUP_EXTRA "--snapshot_threshold 64 --snapshot_trailing 16"

static uint64_t published;

static void count_failure(void *arg, const mq_pub_result *res)
{
    if (res->err != MQ_OK) {
        (*(int *)arg)++;
    }
}

static void publish_n(struct cluster *c, const char *prefix, int n)
{
    mq_client *cl = cluster_client(c);
    char id[32];
    int failed = 0;
    for (int i = 0; i < n; i++) {
        mq_pub m = {0};
        snprintf(id, sizeof id, "%s-%d", prefix, i);
        m.id = id;
        m.payload = id;
        m.payload_len = strlen(id);
        assert_int_equal(
            mq_publish_async(cl, QUEUE, &m, count_failure, &failed), MQ_OK);
        if (i % 10 == 9) {
            assert_int_equal(mq_flush(cl, 30000), MQ_OK);
        }
    }
    assert_int_equal(mq_flush(cl, 30000), MQ_OK);
    assert_int_equal(failed, 0);
    mq_client_close(cl);
    published += (uint64_t)n;
}

/* Node @i alone serves every message published so far, each intact. */
static void assert_node_serves(struct cluster *c, int i)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *one = NULL;
    uint64_t seen = 0, next = 1;
    uint64_t end = test_now_ms() + 30000;
    o.urls = c->nodes[i].client_url;
    assert_int_equal(mq_client_open(&one, &o), MQ_OK);
    while (seen < published && test_now_ms() < end) {
        mq_read_opts ro = MQ_READ_OPTS_INIT;
        mq_read_info info;
        mq_msg **msgs = NULL;
        size_t got = 0;
        ro.from_seq = next;
        ro.max_messages = 1000;
        if (mq_read(one, QUEUE, &ro, &msgs, &got, &info, 3000) != MQ_OK ||
            got == 0) {
            mq_msgs_free(msgs, got);
            test_sleep_ms(100);
            continue;
        }
        for (size_t k = 0; k < got; k++) {
            size_t len;
            const char *p = mq_msg_payload(msgs[k], &len);
            assert_int_equal(len, strlen(mq_msg_id(msgs[k])));
            assert_memory_equal(p, mq_msg_id(msgs[k]), len);
            next = mq_msg_seq(msgs[k]) + 1;
            seen++;
        }
        mq_msgs_free(msgs, got);
    }
    assert_int_equal(seen, published);
    mq_client_close(one);
}

/* A follower, stopped with kill -9. */
static int kill_follower(struct cluster *c)
{
    assert_int_equal(cluster_settle(c, 30000), 0);
    int leader = cluster_wait_leader(c, 10000);
    assert_true(leader >= 0);
    int f = (leader + 1) % c->n;
    cluster_signal(c, f, SIGKILL);
    return f;
}

/* Restarts node @i with auto_repair on (and @flag, may be NULL). */
static void restart_repairing(struct cluster *c, int i, const char *flag)
{
    char saved[sizeof c->extra];
    snprintf(saved, sizeof saved, "%s", c->extra);
    snprintf(c->extra, sizeof c->extra, "%s %s", saved,
             flag ? flag : "--auto_repair 1");
    assert_int_equal(cluster_restart(c, i), 0);
    snprintf(c->extra, sizeof c->extra, "%s", saved);
}

/* Waits until node @i says it rejoined, and the cluster is whole. */
static void assert_rejoins(struct cluster *c, int i, long mark)
{
    uint64_t end = test_now_ms() + 60000;
    while (test_now_ms() < end &&
           !datadir_log_has_since(c, i, mark, "rejoined the cluster")) {
        assert_int_equal(cluster_wait_exit(c, i, 0), -1);
        test_sleep_ms(100);
    }
    assert_true(datadir_log_has_since(c, i, mark, "rejoined the cluster"));
    assert_int_equal(datadir_full_strength(c, 3, 60000), 0);
    char path[1024];
    datadir_path(c, i, "mq-rejoin", path, sizeof path);
    assert_int_not_equal(access(path, F_OK), 0);
}

static int has_damaged_dir(const char *name)
{
    return strncmp(name, "damaged-", 8) == 0;
}

static int setup(void **state)
{
    if (cluster_group_setup(state) != 0) {
        return -1;
    }
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    qc.name = QUEUE;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    mq_client_close(cl);
    return 0;
}

/* raft_uv's metadata damaged, the copy and the log intact: rewritten in
 * place, no rejoin. */
static void test_metadata_rewritten_from_the_copy(void **state)
{
    struct cluster *c = *state;
    struct datadir_meta m, orig;
    CLUSTER_TEST_BEGIN(c);
    publish_n(c, "a", 100);
    int f = kill_follower(c);
    int cur = datadir_meta_current(c, f);
    assert_int_equal(datadir_meta_read(c, f, cur, &orig), 0);
    m = orig;
    m.term ^= (uint64_t)1 << 28;
    datadir_meta_write(c, f, cur, &m);

    long mark = datadir_log_mark(c, f);
    restart_repairing(c, f, NULL);
    assert_int_equal(datadir_full_strength(c, 3, 30000), 0);
    assert_true(datadir_log_has_since(c, f, mark, "rewrote raft's metadata"));
    assert_false(datadir_log_has_since(c, f, mark, "rejoin"));
    uint64_t term = 0;
    assert_int_equal(datadir_node_status(c, f, &term, NULL, 0, NULL), 0);
    assert_true(term >= orig.term && term < orig.term + 100);
    assert_node_serves(c, f);
    CLUSTER_TEST_PASSED(c);
}

/* A damaged batch with valid ones after it: the log goes aside, the term
 * and vote stay, the node rejoins. */
static void test_damaged_log_rejoins_keeping_term(void **state)
{
    struct cluster *c = *state;
    static struct datadir_batches b;
    struct datadir_meta orig;
    char name[64], path[1024];
    CLUSTER_TEST_BEGIN(c);
    publish_n(c, "b", 200);
    int f = kill_follower(c);
    assert_int_equal(datadir_meta_read(c, f, datadir_meta_current(c, f), &orig),
                     0);
    assert_int_equal(datadir_open_segment(c, f, 8, name, sizeof name), 0);
    datadir_path(c, f, name, path, sizeof path);
    assert_int_equal(datadir_batches(path, &b), 0);
    datadir_flip(path, b.at[b.n / 2 + 1] - 4, 0x10);

    long mark = datadir_log_mark(c, f);
    restart_repairing(c, f, NULL);
    assert_rejoins(c, f, mark);
    assert_true(datadir_log_has_since(c, f, mark, name));
    assert_true(datadir_log_has_since(c, f, mark, "kept the term"));
    assert_int_equal(datadir_find(c, f, has_damaged_dir, name, sizeof name), 0);
    uint64_t term = 0;
    assert_int_equal(datadir_node_status(c, f, &term, NULL, 0, NULL), 0);
    assert_true(term >= orig.term);
    publish_n(c, "c", 50);
    assert_int_equal(cluster_settle(c, 30000), 0);
    assert_node_serves(c, f);
    CLUSTER_TEST_PASSED(c);
}

/* mqd's copy of the term and vote damaged: they cannot be trusted; the
 * node forgets everything and rejoins as a new member. */
static void test_damaged_term_and_vote_rejoins_as_new(void **state)
{
    struct cluster *c = *state;
    char path[1024];
    CLUSTER_TEST_BEGIN(c);
    publish_n(c, "d", 100);
    int f = kill_follower(c);
    datadir_path(c, f, "mq-termvote", path, sizeof path);
    datadir_flip(path, 9, 0x01);

    long mark = datadir_log_mark(c, f);
    long lmark[3];
    for (int i = 0; i < 3; i++) {
        lmark[i] = datadir_log_mark(c, i);
    }
    restart_repairing(c, f, NULL);
    assert_rejoins(c, f, mark);
    assert_true(datadir_log_has_since(c, f, mark, "could not be trusted"));
    /* The leader removed it and added it again. */
    int removed = 0, added = 0;
    for (int i = 0; i < 3; i++) {
        char what[64];
        snprintf(what, sizeof what, "removing node %d", c->nodes[f].id);
        removed |= datadir_log_has_since(c, i, lmark[i], what);
        snprintf(what, sizeof what, "adding node %d", c->nodes[f].id);
        added |= datadir_log_has_since(c, i, lmark[i], what);
    }
    assert_true(removed && added);
    assert_node_serves(c, f);
    CLUSTER_TEST_PASSED(c);
}

/* The snapshot damaged, without auto_repair: refused; then mqd --repair. */
static void test_damaged_snapshot_refused_then_repair_flag(void **state)
{
    struct cluster *c = *state;
    char name[256], path[1024];
    CLUSTER_TEST_BEGIN(c);
    publish_n(c, "e", 300);
    int f = kill_follower(c);
    assert_int_equal(
        datadir_find(c, f, datadir_is_snapshot_data, name, sizeof name), 0);
    datadir_path(c, f, name, path, sizeof path);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    datadir_flip(path, (size_t)sb.st_size / 2, 0x08);

    long mark = datadir_log_mark(c, f);
    assert_int_equal(cluster_restart(c, f), 0);
    assert_true(cluster_wait_exit(c, f, 10000) > 0);
    assert_true(datadir_log_has_since(c, f, mark, name));

    mark = datadir_log_mark(c, f);
    restart_repairing(c, f, "--repair");
    assert_rejoins(c, f, mark);
    assert_true(datadir_log_has_since(c, f, mark, "is corrupted"));
    assert_node_serves(c, f);
    CLUSTER_TEST_PASSED(c);
}

/* The data dir lost (moved away, a disk replaced): started with --repair
 * on an empty dir, the node rejoins as a new member instead of coming back
 * as a voter that forgot its term, its vote and what it acknowledged. */
static void test_lost_data_dir_rejoins_with_repair_flag(void **state)
{
    struct cluster *c = *state;
    CLUSTER_TEST_BEGIN(c);
    publish_n(c, "f", 100);
    int f = kill_follower(c);
    cluster_wipe(c, f);
    long mark = datadir_log_mark(c, f);
    restart_repairing(c, f, "--repair");
    assert_rejoins(c, f, mark);
    assert_true(datadir_log_has_since(c, f, mark, "lost its state"));
    assert_false(datadir_log_has_since(c, f, mark, "bootstrapped"));
    assert_node_serves(c, f);
    CLUSTER_TEST_PASSED(c);
}

/* Two of three damaged at once: no majority is left to remove and add
 * nodes, and neither asks; nothing acknowledged is given up. (Last: it
 * leaves the cluster without a leader.) */
static void test_majority_damaged_waits(void **state)
{
    struct cluster *c = *state;
    char path[1024];
    long mark[3];
    CLUSTER_TEST_BEGIN(c);
    publish_n(c, "g", 50);
    assert_int_equal(cluster_settle(c, 30000), 0);
    int leader = cluster_wait_leader(c, 10000);
    assert_true(leader >= 0);
    for (int k = 1; k <= 2; k++) {
        int f = (leader + k) % 3;
        cluster_signal(c, f, SIGKILL);
        datadir_path(c, f, "mq-termvote", path, sizeof path);
        datadir_flip(path, 9, 0x01);
    }
    for (int k = 1; k <= 2; k++) {
        int f = (leader + k) % 3;
        mark[f] = datadir_log_mark(c, f);
        restart_repairing(c, f, NULL);
    }
    mark[leader] = datadir_log_mark(c, leader);
    test_sleep_ms(5000);
    for (int k = 1; k <= 2; k++) {
        int f = (leader + k) % 3;
        assert_int_equal(cluster_wait_exit(c, f, 0), -1);
        assert_true(datadir_log_has_since(c, f, mark[f], "rejoining after"));
        assert_false(
            datadir_log_has_since(c, f, mark[f], "the cluster removed"));
    }
    assert_false(
        datadir_log_has_since(c, leader, mark[leader], "removing node"));
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata_rewritten_from_the_copy),
        cmocka_unit_test(test_damaged_log_rejoins_keeping_term),
        cmocka_unit_test(test_damaged_term_and_vote_rejoins_as_new),
        cmocka_unit_test(test_damaged_snapshot_refused_then_repair_flag),
        cmocka_unit_test(test_lost_data_dir_rejoins_with_repair_flag),
        cmocka_unit_test(test_majority_damaged_waits),
    };
    cluster_group_extra = GROUP_EXTRA;
    return cmocka_run_group_tests(tests, setup, cluster_group_teardown);
}
