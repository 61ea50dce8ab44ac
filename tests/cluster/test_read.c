/* test_read.c: catch-up and replay reads are served by any node, followers
 * included, from their applied state, saying how far they applied; a
 * reader passing the index of its last write reads its write even from a
 * follower; reads by seq and by time; through `mqctl read`; a follower
 * restarted from its disk serves the same. Subscription positions do not
 * move. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

#define N_MSGS 2500

static mq_client *client_on(struct cluster *c, int i)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    o.urls = c->nodes[i].client_url;
    o.timeout_ms = 10000;
    assert_int_equal(mq_client_open(&cl, &o), MQ_OK);
    return cl;
}

/* Reads the whole queue from @cl in batches; checks seqs 1..N in order. */
static void read_all(mq_client *cl, mq_read_info *info)
{
    uint64_t next = 1;
    while (next <= N_MSGS) {
        mq_read_opts ro = MQ_READ_OPTS_INIT;
        mq_msg **msgs = NULL;
        size_t n = 0;
        ro.from_seq = next;
        ro.max_messages = 1000;
        assert_int_equal(mq_read(cl, "history", &ro, &msgs, &n, info, 10000),
                         MQ_OK);
        assert_true(n > 0);
        for (size_t i = 0; i < n && next <= N_MSGS; i++) {
            char id[32];
            snprintf(id, sizeof id, "h-%llu", (unsigned long long)next);
            assert_int_equal(mq_msg_seq(msgs[i]), next);
            assert_string_equal(mq_msg_id(msgs[i]), id);
            assert_int_equal(mq_msg_attempt(msgs[i]), 0);
            next++;
        }
        mq_msgs_free(msgs, n);
    }
}

static void test_reads_from_followers(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    mq_pub_result res;
    uint64_t mid_time = 0;

    CLUSTER_TEST_BEGIN(c);
    qc.name = "history";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "history";
    sc.name = "auditor";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    for (int i = 1; i <= N_MSGS; i++) {
        char id[32];
        mq_pub m = {0};
        snprintf(id, sizeof id, "h-%d", i);
        m.id = id;
        m.payload = id;
        m.payload_len = strlen(id);
        assert_int_equal(mq_publish_async(cl, "history", &m, NULL, NULL),
                         MQ_OK);
        if (i == N_MSGS / 2) {
            assert_int_equal(mq_flush(cl, 30000), MQ_OK);
            test_sleep_ms(20);
            mid_time = test_wall_ms();
            test_sleep_ms(20);
        }
    }
    assert_int_equal(mq_flush(cl, 30000), MQ_OK);

    int leader = cluster_leader(c);
    int f = (leader + 1) % c->n;
    mq_client *fc = client_on(c, f);

    /* Read-your-writes on a follower: a write's index, then a read. */
    mq_pub m = {0};
    m.id = "h-last";
    m.payload = "last";
    m.payload_len = 4;
    assert_int_equal(mq_publish(cl, "history", &m, &res, 10000), MQ_OK);
    mq_read_opts ro = MQ_READ_OPTS_INIT;
    mq_msg **msgs = NULL;
    size_t n = 0;
    mq_read_info info;
    ro.from_seq = res.seq;
    ro.min_index = res.index;
    assert_int_equal(mq_read(fc, "history", &ro, &msgs, &n, &info, 10000),
                     MQ_OK);
    assert_int_equal(n, 1);
    assert_string_equal(mq_msg_id(msgs[0]), "h-last");
    assert_true(info.applied_index >= res.index);
    assert_int_equal(info.node_id, (uint64_t)c->nodes[f].id);
    mq_msgs_free(msgs, n);

    /* The whole backlog from the follower, in order. */
    read_all(fc, &info);
    assert_true(info.applied_index >= res.index);

    /* By time: the first message published after mid_time. */
    mq_read_opts rt = MQ_READ_OPTS_INIT;
    rt.from_time_ms = mid_time;
    rt.max_messages = 1;
    assert_int_equal(mq_read(fc, "history", &rt, &msgs, &n, NULL, 10000),
                     MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mq_msg_seq(msgs[0]), N_MSGS / 2 + 1);
    mq_msgs_free(msgs, n);

    /* Through mqctl (which reads from a follower too). */
    char out[8192];
    char *argv[] = {"read",    "history", "--from-seq", "10",
                    "--count", "3",       NULL};
    assert_int_equal(cluster_mqctlv(c, out, sizeof out, argv), 0);
    assert_non_null(strstr(out, "h-10"));
    assert_non_null(strstr(out, "h-12"));
    assert_null(strstr(out, "h-13"));

    /* The follower restarts from its disk and serves the same. */
    mq_client_close(fc);
    cluster_signal(c, f, SIGKILL);
    assert_int_equal(cluster_restart(c, f), 0);
    assert_int_equal(cluster_settle(c, 20000), 0);
    fc = client_on(c, f);
    read_all(fc, &info);

    /* Reading moved no subscription. */
    mq_sub_info si;
    assert_int_equal(mq_sub_info_get(cl, "history", "auditor", &si, 10000),
                     MQ_OK);
    assert_int_equal(si.next_seq, 1);
    assert_int_equal(si.delivered, 0);
    mq_client_close(fc);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_from_followers),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
