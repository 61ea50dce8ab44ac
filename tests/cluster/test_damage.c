/* test_damage.c: damaged open log segments and term/vote files of a real
 * node (issue 8, items 4, 5 and 6). A node whose open segment holds valid
 * batches after a damaged one refuses to start, naming the file and the
 * byte, instead of dropping what it acknowledged; one whose damage lies in
 * space that never held an entry (a preallocated segment never written,
 * the zeros after the last batch) starts, logs it and serves everything.
 * A node whose raft metadata disagrees with mqd's checksummed copy of term
 * and vote, or whose copy fails its checksum, refuses naming the file; a
 * copy one write ahead (a crash between the two writes) is completed; a
 * data dir without the copy (an older mqd's) gets one. */
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

static uint64_t published;

static void count_failure(void *arg, const mq_pub_result *res)
{
    if (res->err != MQ_OK) {
        (*(int *)arg)++;
    }
}

/* Publishes @n messages (payload = id), ten per flush, so that they make
 * many log entries; all acknowledged. */
static void publish_n(mq_client *cl, const char *prefix, int n)
{
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

/* Starts node @i, which must refuse within 10 s with a line (written after
 * the start) holding each of the non-NULL @needles. */
static void assert_refuses(struct cluster *c, int i, const char *n1,
                           const char *n2)
{
    long mark = datadir_log_mark(c, i);
    assert_int_equal(cluster_restart(c, i), 0);
    int st = cluster_wait_exit(c, i, 10000);
    printf("node %d: exit status %d\n", c->nodes[i].id, st);
    assert_true(st > 0);
    assert_true(datadir_log_has_since(c, i, mark, n1));
    if (n2 != NULL) {
        assert_true(datadir_log_has_since(c, i, mark, n2));
    }
}

/* Starts node @i, which must start, log @needle and catch up. */
static void assert_starts(struct cluster *c, int i, const char *needle)
{
    long mark = datadir_log_mark(c, i);
    assert_int_equal(cluster_restart(c, i), 0);
    assert_int_equal(cluster_settle(c, 30000), 0);
    assert_int_equal(cluster_wait_exit(c, i, 0), -1);
    if (needle != NULL) {
        assert_true(datadir_log_has_since(c, i, mark, needle));
    }
}

/* A follower, killed with -9 so that its open segments stay open. */
static int kill_follower(struct cluster *c)
{
    assert_int_equal(cluster_settle(c, 30000), 0);
    int leader = cluster_wait_leader(c, 10000);
    assert_true(leader >= 0);
    int f = (leader + 1) % c->n;
    cluster_signal(c, f, SIGKILL);
    return f;
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

/* Item 4: raft_uv 0.15 would load the open segment up to the damaged
 * batch and drop the rest, entries this node acknowledged. */
static void test_damage_before_valid_batches_refuses(void **state)
{
    struct cluster *c = *state;
    static struct datadir_batches b;
    char name[64], path[1024], backup[1100], at[32];
    CLUSTER_TEST_BEGIN(c);
    mq_client *cl = cluster_client(c);
    publish_n(cl, "a", 300);
    int f = kill_follower(c);

    assert_int_equal(datadir_open_segment(c, f, 8, name, sizeof name), 0);
    datadir_path(c, f, name, path, sizeof path);
    assert_int_equal(datadir_batches(path, &b), 0);
    size_t k = b.n / 2;
    snprintf(backup, sizeof backup, "%s.bak", path);
    datadir_copy(path, backup);
    datadir_flip(path, b.at[k + 1] - 4, 0x10); /* batch k's last data */
    snprintf(at, sizeof at, "byte %zu", b.at[k]);
    printf("%s: %zu batches, damaged batch %zu at %s\n", name, b.n, k, at);
    assert_refuses(c, f, name, at);
    assert_true(datadir_log_has_since(c, f, 0, "valid batch follows"));

    /* Put back, it starts and serves every message. */
    datadir_copy(backup, path);
    unlink(backup);
    assert_starts(c, f, NULL);
    assert_node_serves(c, f);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

/* Item 6: two bits flipped in a preallocated open segment that was never
 * written. raft_uv refused it for good ("unexpected format version 0"). */
static void test_flips_in_unused_segment_recovered(void **state)
{
    struct cluster *c = *state;
    char name[64], path[1024];
    CLUSTER_TEST_BEGIN(c);
    mq_client *cl = cluster_client(c);
    publish_n(cl, "b", 100);
    int f = kill_follower(c);

    assert_int_equal(datadir_unused_open_segment(c, f, name, sizeof name), 0);
    datadir_path(c, f, name, path, sizeof path);
    datadir_flip(path, 40000, 0x04);
    datadir_flip(path, 5000000, 0x80);
    assert_starts(c, f, "holds no entry but non-zero bytes");
    assert_true(datadir_log_has_since(c, f, 0, name));
    publish_n(cl, "c", 50);
    assert_int_equal(cluster_settle(c, 30000), 0);
    assert_node_serves(c, f);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

/* Item 6: bits flipped in the zeros after the last batch of the segment
 * being written (one in the entry count where the next batch would go):
 * the entries before stay, the damage is logged. */
static void test_flips_in_zero_tail_recovered(void **state)
{
    struct cluster *c = *state;
    static struct datadir_batches b;
    char name[64], path[1024];
    CLUSTER_TEST_BEGIN(c);
    mq_client *cl = cluster_client(c);
    publish_n(cl, "d", 100);
    int f = kill_follower(c);

    assert_int_equal(datadir_open_segment(c, f, 4, name, sizeof name), 0);
    datadir_path(c, f, name, path, sizeof path);
    assert_int_equal(datadir_batches(path, &b), 0);
    assert_true(b.end + 8192 < b.file_len);
    datadir_flip(path, b.end + 8 + 2, 0x01); /* entry count 65536 */
    datadir_flip(path, b.end + 4096, 0x20);
    assert_starts(c, f, "keeping the");
    assert_node_serves(c, f);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

/* Item 5: raft's term and vote (metadata1/2) carry no checksum; mqd's copy
 * does. */
static void test_term_and_vote_damage_refuses(void **state)
{
    struct cluster *c = *state;
    struct datadir_meta m, orig;
    char name[16], path[1024], backup[1100];
    CLUSTER_TEST_BEGIN(c);
    mq_client *cl = cluster_client(c);
    publish_n(cl, "e", 20);
    int f = kill_follower(c);
    int cur = datadir_meta_current(c, f);
    assert_true(cur == 1 || cur == 2);
    assert_int_equal(datadir_meta_read(c, f, cur, &orig), 0);
    snprintf(name, sizeof name, "metadata%d", cur);

    /* Two bits flipped in the term: term 2 read as 268435458. */
    m = orig;
    m.term ^= (uint64_t)1 << 28;
    datadir_meta_write(c, f, cur, &m);
    assert_refuses(c, f, name, "mq-termvote");

    /* The vote changed: the node could vote twice in that term. */
    m = orig;
    m.vote = orig.vote == 3 ? 1 : 3;
    datadir_meta_write(c, f, cur, &m);
    assert_refuses(c, f, name, "disagrees");

    /* mqd's copy damaged. */
    datadir_meta_write(c, f, cur, &orig);
    datadir_path(c, f, "mq-termvote", path, sizeof path);
    snprintf(backup, sizeof backup, "%s.bak", path);
    datadir_copy(path, backup);
    datadir_flip(path, 17, 0x02);
    assert_refuses(c, f, "mq-termvote", "checksum");

    /* Put back, it starts with the term it had. */
    datadir_copy(backup, path);
    unlink(backup);
    assert_starts(c, f, NULL);
    uint64_t term = 0;
    assert_int_equal(datadir_node_status(c, f, &term, NULL, 0, NULL), 0);
    assert_true(term >= orig.term && term < orig.term + 100);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

/* A crash between mqd's copy and raft_uv's write leaves the copy one
 * write ahead: the node starts and completes raft_uv's write. */
static void test_copy_one_write_ahead_is_completed(void **state)
{
    struct cluster *c = *state;
    struct datadir_meta orig, m;
    CLUSTER_TEST_BEGIN(c);
    int f = kill_follower(c);
    int cur = datadir_meta_current(c, f);
    assert_int_equal(datadir_meta_read(c, f, cur, &orig), 0);

    /* raft_uv's next write (version + 1, in the other file) holds the
     * state before the last set_vote, or before the last set_term. */
    m = orig;
    m.version = orig.version + 1;
    if (orig.vote != 0) {
        m.vote = 0;
    } else {
        m.term = orig.term - 1;
        m.vote = 2;
    }
    datadir_meta_write(c, f, cur == 1 ? 2 : 1, &m);
    assert_starts(c, f, "interrupted");
    uint64_t term = 0;
    assert_int_equal(datadir_node_status(c, f, &term, NULL, 0, NULL), 0);
    assert_true(term >= orig.term);
    CLUSTER_TEST_PASSED(c);
}

/* A data dir of an mqd without the copy gets one, from raft_uv's values. */
static void test_copy_created_for_an_older_data_dir(void **state)
{
    struct cluster *c = *state;
    char path[1024];
    struct stat sb;
    CLUSTER_TEST_BEGIN(c);
    int f = kill_follower(c);
    datadir_path(c, f, "mq-termvote", path, sizeof path);
    assert_int_equal(unlink(path), 0);
    assert_starts(c, f, "created mq-termvote");
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, 32);
    assert_node_serves(c, f);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_damage_before_valid_batches_refuses),
        cmocka_unit_test(test_flips_in_unused_segment_recovered),
        cmocka_unit_test(test_flips_in_zero_tail_recovered),
        cmocka_unit_test(test_term_and_vote_damage_refuses),
        cmocka_unit_test(test_copy_one_write_ahead_is_completed),
        cmocka_unit_test(test_copy_created_for_an_older_data_dir),
    };
    return cmocka_run_group_tests(tests, setup, cluster_group_teardown);
}
