/* test_corruption.c: damaged data files. A node whose log segment or
 * snapshot was corrupted or truncated refuses to start, naming the file;
 * with its data dir moved away it copies the state from its peers. A
 * leader whose snapshot file was damaged while it ran stops rather than
 * send it; another node leads and the follower still catches up. Nothing
 * acknowledged is lost on the way. */
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

#define N_MSGS 3000

/* The name (in @out) of a file of node @i's data dir for which @want
 * returns 1; the largest such file. Returns 0, or -1 if none. */
static int find_file(struct cluster *c, int i, int (*want)(const char *),
                     char *out, size_t len)
{
    DIR *d = opendir(c->nodes[i].dir);
    struct dirent *e;
    off_t best = -1;
    if (d == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        char path[1024];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", c->nodes[i].dir, e->d_name);
        if (want(e->d_name) && stat(path, &sb) == 0 && sb.st_size > best) {
            best = sb.st_size;
            snprintf(out, len, "%s", e->d_name);
        }
    }
    closedir(d);
    return best < 0 ? -1 : 0;
}

static int is_closed_segment(const char *name)
{
    unsigned long long a, b;
    char rest;
    return sscanf(name, "%llu-%llu%c", &a, &b, &rest) == 2;
}

static int is_snapshot_data(const char *name)
{
    size_t l = strlen(name);
    return strncmp(name, "snapshot-", 9) == 0 &&
           !(l > 5 && strcmp(name + l - 5, ".meta") == 0);
}

static void path_of(struct cluster *c, int i, const char *name, char *out,
                    size_t len)
{
    snprintf(out, len, "%s/%s", c->nodes[i].dir, name);
}

/* Flips one bit in the middle of @path. */
static void flip_bit(const char *path)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size > 64);
    assert_int_equal(fseek(f, size / 2, SEEK_SET), 0);
    int ch = fgetc(f);
    assert_int_equal(fseek(f, size / 2, SEEK_SET), 0);
    fputc(ch ^ 0x10, f);
    fclose(f);
}

static void truncate_half(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(truncate(path, sb.st_size / 2), 0);
}

/* Copies @from to @to (a backup of a file before it is damaged). */
static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[65536];
    size_t n;
    assert_non_null(in);
    assert_non_null(out);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        assert_int_equal(fwrite(buf, 1, n, out), n);
    }
    fclose(in);
    fclose(out);
}

/* Starts node @i, which must refuse: exit non-zero within 10 s with a log
 * line naming @name. */
static void assert_refuses(struct cluster *c, int i, const char *name)
{
    assert_int_equal(cluster_restart(c, i), 0);
    int st = cluster_wait_exit(c, i, 10000);
    printf("node %d with %s damaged: exit status %d\n", c->nodes[i].id, name,
           st);
    assert_true(st > 0);
    assert_true(cluster_log_has(c, i, name));
}

static void count_failure(void *arg, const mq_pub_result *res)
{
    if (res->err != MQ_OK) {
        (*(int *)arg)++;
    }
}

/* Publishes @n messages, each payload its id, all acknowledged; ten at a
 * time, so that they make many log entries (and snapshots). */
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
            mq_publish_async(cl, "vault", &m, count_failure, &failed), MQ_OK);
        if (i % 10 == 9) {
            assert_int_equal(mq_flush(cl, 30000), MQ_OK);
        }
    }
    assert_int_equal(mq_flush(cl, 30000), MQ_OK);
    assert_int_equal(failed, 0);
}

/* Node @i alone answers a read of the whole queue: @n messages, each
 * payload its id. */
static void assert_node_serves(struct cluster *c, int i, uint64_t n)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *one = NULL;
    uint64_t seen = 0, next = 1;
    uint64_t end = test_now_ms() + 30000;
    o.urls = c->nodes[i].client_url;
    assert_int_equal(mq_client_open(&one, &o), MQ_OK);
    while (seen < n && test_now_ms() < end) {
        mq_read_opts ro = MQ_READ_OPTS_INIT;
        mq_read_info info;
        mq_msg **msgs = NULL;
        size_t got = 0;
        ro.from_seq = next;
        ro.max_messages = 1000;
        if (mq_read(one, "vault", &ro, &msgs, &got, &info, 3000) != MQ_OK ||
            got == 0) {
            mq_msgs_free(msgs, got);
            test_sleep_ms(100);
            continue;
        }
        assert_int_equal(info.node_id, (uint64_t)c->nodes[i].id);
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
    assert_int_equal(seen, n);
    mq_client_close(one);
}

static void test_damaged_files_refuse_then_recover(void **state)
{
    struct cluster *c = *state;
    char name[256], path[1024], backup[1100];
    CLUSTER_TEST_BEGIN(c);
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    qc.name = "vault";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    publish_n(cl, "a", N_MSGS);
    assert_int_equal(cluster_settle(c, 20000), 0);

    int leader = cluster_leader(c);
    int f = (leader + 1) % 3;
    cluster_signal(c, f, SIGTERM);
    assert_int_equal(c->nodes[f].exit_status, 0);

    /* A bit flipped in a closed log segment. */
    assert_int_equal(find_file(c, f, is_closed_segment, name, sizeof name), 0);
    path_of(c, f, name, path, sizeof path);
    snprintf(backup, sizeof backup, "%s.bak", path);
    copy_file(path, backup);
    flip_bit(path);
    assert_refuses(c, f, name);

    /* The segment cut short. */
    copy_file(backup, path);
    truncate_half(path);
    assert_refuses(c, f, name);

    /* Put back as it was, the node starts and serves again. */
    copy_file(backup, path);
    unlink(backup);
    assert_int_equal(cluster_restart(c, f), 0);
    assert_int_equal(cluster_settle(c, 20000), 0);
    assert_node_serves(c, f, N_MSGS);
    cluster_signal(c, f, SIGTERM);

    /* A bit flipped in the snapshot's data. */
    assert_int_equal(find_file(c, f, is_snapshot_data, name, sizeof name), 0);
    path_of(c, f, name, path, sizeof path);
    flip_bit(path);
    assert_refuses(c, f, name);
    assert_true(cluster_log_has(c, f, "corrupted"));

    /* The snapshot cut short. */
    truncate_half(path);
    assert_refuses(c, f, name);

    /* The operator moves the data dir away: the node copies the state
     * from its peers and serves every acknowledged message. */
    cluster_wipe(c, f);
    assert_int_equal(cluster_restart(c, f), 0);
    publish_n(cl, "b", 500);
    assert_int_equal(cluster_settle(c, 30000), 0);
    assert_node_serves(c, f, N_MSGS + 500);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

static void test_leader_never_sends_a_damaged_snapshot(void **state)
{
    struct cluster *c = *state;
    char name[256], path[1024];
    CLUSTER_TEST_BEGIN(c);
    mq_client *cl = cluster_client(c);
    uint64_t have = N_MSGS + 500; /* from the test before */
    int leader = cluster_wait_leader(c, 10000);
    assert_true(leader >= 0);
    int f = (leader + 1) % 3;

    /* The leader's snapshot is damaged on disk while it runs; a follower
     * that lost everything needs that snapshot. */
    assert_int_equal(find_file(c, leader, is_snapshot_data, name, sizeof name),
                     0);
    path_of(c, leader, name, path, sizeof path);
    cluster_signal(c, f, SIGTERM);
    flip_bit(path);
    cluster_wipe(c, f);
    assert_int_equal(cluster_restart(c, f), 0);

    /* The leader stops, naming the file, instead of sending it. */
    int st = cluster_wait_exit(c, leader, 20000);
    printf("leader %d read its damaged snapshot: exit status %d\n",
           c->nodes[leader].id, st);
    assert_int_equal(st, 1);
    assert_true(cluster_log_has(c, leader, name));

    /* The third node leads; the follower catches up from it. */
    int next = cluster_wait_leader(c, 10000);
    assert_true(next >= 0 && next != leader);
    publish_n(cl, "c", 200);
    have += 200;
    assert_node_serves(c, f, have);

    /* The old leader, its data dir moved away, comes back too. */
    cluster_wipe(c, leader);
    assert_int_equal(cluster_restart(c, leader), 0);
    assert_int_equal(cluster_settle(c, 30000), 0);
    assert_node_serves(c, leader, have);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_damaged_files_refuse_then_recover),
        cmocka_unit_test(test_leader_never_sends_a_damaged_snapshot),
    };
    /* Small snapshots often, so that every node has closed segments and a
     * snapshot file. */
    cluster_group_extra = "--snapshot_threshold 256 --snapshot_trailing 128";
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
