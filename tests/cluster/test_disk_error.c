/* test_disk_error.c: a node whose disk fills up (writes fail with EFBIG)
 * stops with a clear error and a non-zero exit code rather than running on
 * with a broken log (libraft 0.15 guard 5); the two others go on serving,
 * nothing acknowledged is lost, and once there is room again the node
 * restarts from its disk and catches up. */
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

#define N_MSGS 1500
#define MSG_BYTES 32768

static void test_full_disk_stops_the_node_and_loses_nothing(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    static char payload[MSG_BYTES];

    CLUSTER_TEST_BEGIN(c);
    qc.name = "blobs";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "blobs";
    sc.name = "reader";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);

    int leader = cluster_leader(c);
    int f = (leader + 1) % c->n;
    cluster_signal(c, f, SIGTERM);
    /* Files may not grow past 4 MiB: the next 8 MiB log segment cannot be
     * allocated, as on a full disk. */
    c->nodes[f].fsize = 4ull << 20;
    assert_int_equal(cluster_restart(c, f), 0);

    memset(payload, 'p', sizeof payload);
    for (int i = 0; i < N_MSGS; i++) {
        char id[32];
        mq_pub m = {0};
        snprintf(id, sizeof id, "b-%d", i);
        m.id = id;
        m.payload = payload;
        m.payload_len = sizeof payload;
        assert_int_equal(mq_publish_async(cl, "blobs", &m, NULL, NULL), MQ_OK);
    }
    assert_int_equal(mq_flush(cl, 120000), MQ_OK);

    int code = cluster_wait_exit(c, f, 30000);
    printf("node %d exited with %d\n", f + 1, code);
    assert_int_equal(code, 1);
    assert_true(cluster_log_has(c, f, "raft I/O failed"));

    /* Room again: it restarts from its disk and catches up. */
    c->nodes[f].fsize = 0;
    assert_int_equal(cluster_restart(c, f), 0);
    mq_queue_info qi;
    assert_int_equal(mq_queue_info_get(cl, "blobs", &qi, 10000), MQ_OK);
    assert_int_equal(qi.messages, N_MSGS);
    assert_int_equal(cluster_settle(c, 60000), 0);

    struct drain_stats ds = {0};
    drain(cl, "blobs", "reader", 200, 2000, 60000, NULL, NULL, NULL, &ds);
    assert_int_equal(ds.messages, N_MSGS);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_disk_stops_the_node_and_loses_nothing),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
