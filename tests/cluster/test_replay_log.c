/* test_replay_log.c: a node logs a change the state machine made once,
 * when it is made, not again each time a node replays its log. A dead
 * letter creates its queue's dead-letter queue: the leader logs
 * "created dead-letter queue"; after every node restarts (replaying the
 * entry from its log) nobody logs it again. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

#define NOTE "created dead-letter queue default/jobs.dlq"

/* Lines of node @i's log holding @needle. */
static int count_lines(struct cluster *c, int i, const char *needle)
{
    FILE *f = fopen(c->nodes[i].log, "r");
    char line[4096];
    int n = 0;
    while (f && fgets(line, sizeof line, f)) {
        n += strstr(line, needle) != NULL;
    }
    if (f) {
        fclose(f);
    }
    return n;
}

static int count_all(struct cluster *c, const char *needle)
{
    int n = 0;
    for (int i = 0; i < c->n; i++) {
        n += count_lines(c, i, needle);
    }
    return n;
}

static void test_restart_does_not_log_replayed_changes_again(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    CLUSTER_TEST_BEGIN(c);
    qc.name = "jobs";
    qc.max_deliveries = 1;
    qc.ack_timeout_ms = 200;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "jobs";
    sc.name = "w";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    mq_pub m = {0};
    mq_pub_result res;
    m.id = "job-1";
    m.payload = "x";
    m.payload_len = 1;
    assert_int_equal(mq_publish(cl, "jobs", &m, &res, 10000), MQ_OK);

    /* Delivered once, never acked: the next fetch after the deadline
     * dead-letters it, creating jobs.dlq. */
    mq_msg **msgs = NULL;
    size_t n = 0;
    assert_int_equal(mq_fetch(cl, "jobs", "w", 1, 2000, &msgs, &n), MQ_OK);
    assert_int_equal(n, 1);
    mq_msgs_free(msgs, n);
    msgs = NULL;
    n = 0;
    assert_int_equal(mq_fetch(cl, "jobs", "w", 1, 1000, &msgs, &n), MQ_OK);
    mq_msgs_free(msgs, n);
    mq_queue_info info;
    assert_int_equal(mq_queue_info_get(cl, "jobs.dlq", &info, 10000), MQ_OK);
    assert_int_equal(info.messages, 1);
    assert_int_equal(cluster_settle(c, 10000), 0);
    int before = count_all(c, NOTE);
    printf("lines before the restart: %d\n", before);
    assert_true(before >= 1);

    /* Every node restarts and replays the entry. */
    for (int i = 0; i < c->n; i++) {
        cluster_signal(c, i, SIGTERM);
    }
    for (int i = 0; i < c->n; i++) {
        assert_int_equal(cluster_restart(c, i), 0);
    }
    assert_true(cluster_wait_leader(c, 20000) >= 0);
    assert_int_equal(mq_queue_info_get(cl, "jobs.dlq", &info, 10000), MQ_OK);
    assert_int_equal(info.messages, 1);
    assert_int_equal(cluster_settle(c, 10000), 0);
    int after = count_all(c, NOTE);
    printf("lines after the restart: %d\n", after);
    assert_int_equal(after, before);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart_does_not_log_replayed_changes_again),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
