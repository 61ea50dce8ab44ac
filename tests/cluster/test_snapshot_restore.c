/* test_snapshot_restore.c: a follower that cannot restore the snapshot the
 * leader sends it stops, naming why, instead of running on without its
 * log (libraft 0.15 treats a failed restore on a follower as harmless, and
 * the follower was wedged). The snapshot here carries a valid checksum, so
 * that the leader sends it, but a state the node cannot read. Once the
 * leader's snapshot is readable again, the follower comes back, with
 * nothing acknowledged lost. */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

#define N_MSGS 600

/* CRC-32C (Castagnoli), as the node's snapshot trailer uses. */
static uint32_t crc32c_bits(const uint8_t *p, size_t n)
{
    uint32_t c = ~0u;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++) {
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        }
    }
    return ~c;
}

/* Rewrites @path as a snapshot with a good header and checksum trailer and
 * one queue record that is not a QueueSnap. */
static void write_unreadable_snapshot(const char *path)
{
    uint8_t buf[64];
    size_t n = 0;
    uint64_t clock = test_wall_ms();
    uint32_t one = 1, zero = 0, four = 4;
    memcpy(buf + n, "MQSNAP01", 8);
    n += 8;
    memcpy(buf + n, &clock, 8);
    n += 8;
    memcpy(buf + n, &one, 4);
    n += 4;
    memcpy(buf + n, &zero, 4);
    n += 4;
    memcpy(buf + n, &four, 4); /* a queue record of 4 bytes */
    n += 4;
    memcpy(buf + n, &zero, 4);
    n += 4;
    memset(buf + n, 0xff, 4); /* that protobuf-c refuses */
    n += 4;
    uint32_t crc = crc32c_bits(buf, n);
    memcpy(buf + n, "MQSNCRC1", 8);
    n += 8;
    memcpy(buf + n, &crc, 4);
    n += 4;
    memcpy(buf + n, &zero, 4);
    n += 4;
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Reads @path whole into a malloc'd buffer. */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size > 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)size);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static void write_file(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

#define MAX_SNAPS 8

/* The snapshot data files of a node, as they were before spoil_snapshots. */
struct saved {
    char path[MAX_SNAPS][1024];
    uint8_t *data[MAX_SNAPS];
    size_t len[MAX_SNAPS];
    int n;
};

/* Rewrites every snapshot data file of node @i, keeping the old contents
 * in @sv. */
static void spoil_snapshots(struct cluster *c, int i, struct saved *sv)
{
    DIR *d = opendir(c->nodes[i].dir);
    struct dirent *e;
    assert_non_null(d);
    sv->n = 0;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (strncmp(e->d_name, "snapshot-", 9) == 0 &&
            !(l > 5 && strcmp(e->d_name + l - 5, ".meta") == 0)) {
            assert_true(sv->n < MAX_SNAPS);
            char *path = sv->path[sv->n];
            snprintf(path, sizeof sv->path[0], "%s/%s", c->nodes[i].dir,
                     e->d_name);
            sv->data[sv->n] = read_file(path, &sv->len[sv->n]);
            write_unreadable_snapshot(path);
            sv->n++;
        }
    }
    closedir(d);
}

static void unspoil_snapshots(struct saved *sv)
{
    for (int k = 0; k < sv->n; k++) {
        write_file(sv->path[k], sv->data[k], sv->len[k]);
        free(sv->data[k]);
    }
    sv->n = 0;
}

/* Publishes @n messages to "q", one at a time (one log entry each). */
static void publish_n(mq_client *cl, const char *prefix, int n)
{
    char id[32];
    for (int i = 0; i < n; i++) {
        mq_pub m = {0};
        mq_pub_result res;
        snprintf(id, sizeof id, "%s-%d", prefix, i);
        m.id = id;
        m.payload = id;
        m.payload_len = strlen(id);
        assert_int_equal(mq_publish(cl, "q", &m, &res, 10000), MQ_OK);
    }
}

/* Node @i alone reports @n messages in "q". */
static void assert_node_has(struct cluster *c, int i, uint64_t n)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *one = NULL;
    uint64_t got = 0;
    uint64_t end = test_now_ms() + 30000;
    o.urls = c->nodes[i].client_url;
    assert_int_equal(mq_client_open(&one, &o), MQ_OK);
    while (test_now_ms() < end) {
        mq_read_opts ro = MQ_READ_OPTS_INIT;
        mq_read_info info;
        mq_msg **msgs = NULL;
        size_t k = 0;
        ro.from_seq = n;
        ro.max_messages = 1;
        if (mq_read(one, "q", &ro, &msgs, &k, &info, 3000) == MQ_OK && k == 1) {
            got = mq_msg_seq(msgs[0]);
            mq_msgs_free(msgs, k);
            break;
        }
        mq_msgs_free(msgs, k);
        test_sleep_ms(100);
    }
    assert_int_equal(got, n);
    mq_client_close(one);
}

static void test_follower_stops_on_unrestorable_snapshot(void **state)
{
    struct cluster *c = *state;
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    CLUSTER_TEST_BEGIN(c);
    mq_client *cl = cluster_client(c);
    qc.name = "q";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    publish_n(cl, "m", N_MSGS);
    int leader = cluster_wait_leader(c, 10000);
    assert_true(leader >= 0);
    int f = (leader + 1) % 3, third = (leader + 2) % 3;

    /* A follower that lost its data needs the leader's snapshot, which
     * the node cannot read (its checksum is right, so it is sent). */
    static struct saved sv;
    cluster_signal(c, f, SIGTERM);
    cluster_wipe(c, f);
    spoil_snapshots(c, leader, &sv);
    assert_true(sv.n > 0);
    assert_int_equal(cluster_restart(c, f), 0);
    int st = cluster_wait_exit(c, f, 20000);
    printf("node %d could not restore the snapshot: exit status %d\n",
           c->nodes[f].id, st);
    unspoil_snapshots(&sv);
    assert_int_equal(st, 1);
    assert_true(cluster_log_has(c, f, "cannot restore the snapshot"));
    assert_true(cluster_log_has(c, f, "malformed queue record"));

    /* With the leader's snapshot readable again, the follower comes back
     * and catches up. */
    cluster_wipe(c, f);
    assert_int_equal(cluster_restart(c, f), 0);
    publish_n(cl, "n", 20);
    assert_int_equal(cluster_settle(c, 30000), 0);
    assert_node_has(c, leader, N_MSGS + 20);
    assert_node_has(c, f, N_MSGS + 20);
    assert_node_has(c, third, N_MSGS + 20);
    /* The restored snapshot's buffer, freed, goes back to the system
     * (memtrim.h: nothing else would trim on this fresh node). */
    uint64_t t0 = test_now_ms();
    while (!cluster_log_has(c, f, "gave memory back to the system") &&
           test_now_ms() - t0 < 5000) {
        test_sleep_ms(100);
    }
    assert_true(cluster_log_has(c, f, "gave memory back to the system"));
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_follower_stops_on_unrestorable_snapshot),
    };
    /* Small snapshots often, so that a wiped follower needs one. */
    cluster_group_extra = "--snapshot_threshold 256 --snapshot_trailing 128";
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
