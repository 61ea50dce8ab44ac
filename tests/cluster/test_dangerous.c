/* test_dangerous.c: dangerous operations refuse what would do harm, and
 * say how to do it anyway.
 *
 * `mqctl queue redrive` (and mq_queue_redrive) refuses a source that is
 * not a dead-letter queue unless forced: an ordinary queue keeps its
 * messages for its subscribers. A dead-letter queue (named by another
 * queue, or holding dead letters) is redriven without force.
 *
 * A `node add` at an address where nothing runs blocks no later change:
 * `node remove` of that node cancels the add, and left alone the add is
 * abandoned (the standby removed) once it makes no progress for
 * member_catchup_timeout_ms; leadership moves freely after either.
 *
 * A request over the node's max_request_bytes gets TOO_LARGE naming both
 * sizes, logged once, with nothing stored: not a lost connection. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

static void publish(mq_client *cl, const char *queue, const char *id)
{
    mq_pub m = {0};
    m.id = id;
    m.event = "payment.made";
    m.payload = "42";
    m.payload_len = 2;
    assert_int_equal(mq_publish(cl, queue, &m, NULL, 10000), MQ_OK);
}

static uint64_t messages_in(mq_client *cl, const char *queue)
{
    mq_queue_info qi;
    assert_int_equal(mq_queue_info_get(cl, queue, &qi, 10000), MQ_OK);
    return qi.messages;
}

static void create_queue(mq_client *cl, const char *name)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    qc.name = name;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
}

static void test_redrive_refuses_a_live_queue_unless_forced(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    uint32_t moved = 99;
    uint64_t left = 0;
    char out[4096];

    CLUSTER_TEST_BEGIN(c);
    create_queue(cl, "payments");
    create_queue(cl, "orders");
    sc.queue = "payments";
    sc.name = "ledger";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    publish(cl, "payments", "p-1");
    publish(cl, "payments", "p-2");

    /* mqctl refuses, says why and how, and moves nothing. */
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "queue redrive payments --to orders"),
        1);
    assert_non_null(strstr(out, "not a dead-letter queue"));
    assert_non_null(strstr(out, "--force"));
    assert_int_equal(messages_in(cl, "payments"), 2);
    assert_int_equal(messages_in(cl, "orders"), 0);

    /* So does libmq, on the node. */
    assert_int_equal(
        mq_queue_redrive(cl, "payments", "orders", 10, &moved, &left, 10000),
        MQ_ERR_INVALID);
    assert_non_null(strstr(mq_errmsg(), "not a dead-letter queue"));
    assert_int_equal(messages_in(cl, "payments"), 2);

    /* Forced, it moves them. */
    assert_int_equal(mq_queue_redrive_flags(cl, "payments", "orders", 1,
                                            MQ_REDRIVE_FORCE, &moved, &left,
                                            10000),
                     MQ_OK);
    assert_int_equal(moved, 1);
    assert_int_equal(left, 1);
    assert_int_equal(cluster_mqctl(c, out, sizeof out,
                                   "queue redrive payments --to orders "
                                   "--force"),
                     0);
    assert_int_equal(messages_in(cl, "payments"), 0);
    assert_int_equal(messages_in(cl, "orders"), 2);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

static void test_redrive_of_a_dead_letter_queue_needs_no_force(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    mq_msg **msgs;
    size_t n;
    char out[4096];

    CLUSTER_TEST_BEGIN(c);
    create_queue(cl, "jobs");
    sc.queue = "jobs";
    sc.name = "runner";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    publish(cl, "jobs", "j-1");
    assert_int_equal(mq_fetch(cl, "jobs", "runner", 1, 2000, &msgs, &n), MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mq_term(cl, msgs[0], "bad input", 10000), MQ_OK);
    mq_msgs_free(msgs, n);
    assert_int_equal(messages_in(cl, "jobs.dlq"), 1);
    /* Named by jobs as its dead-letter queue. */
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "queue redrive jobs.dlq --to jobs"),
        0);
    assert_int_equal(messages_in(cl, "jobs.dlq"), 0);

    /* A queue that holds dead letters is one too, even when the queue
     * that sent them is gone. */
    assert_int_equal(mq_fetch(cl, "jobs", "runner", 1, 2000, &msgs, &n), MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mq_term(cl, msgs[0], "bad again", 10000), MQ_OK);
    mq_msgs_free(msgs, n);
    assert_int_equal(mq_queue_delete(cl, "jobs", 10000), MQ_OK);
    create_queue(cl, "retry");
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "queue redrive jobs.dlq --to retry"),
        0);
    assert_int_equal(messages_in(cl, "retry"), 1);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

/* Whether node @id is a member, as the leader says. */
static int is_member(mq_client *cl, uint64_t id)
{
    mq_member *m;
    size_t n;
    int found = 0;

    assert_int_equal(mq_members(cl, &m, &n, 10000), MQ_OK);
    for (size_t i = 0; i < n; i++) {
        found |= m[i].id == id;
    }
    mq_members_free(m);
    return found;
}

static void test_failed_node_add_blocks_nothing(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    char out[4096];
    uint64_t t0;

    CLUSTER_TEST_BEGIN(c);
    create_queue(cl, "log");
    /* More entries than a standby may lack and still be promoted. */
    for (int i = 0; i < 80; i++) {
        char id[16];
        snprintf(id, sizeof id, "l-%d", i);
        publish(cl, "log", id);
    }
    /* Nothing runs at port 1: the add waits for a catch-up that never
     * comes, and the client gives up first. */
    assert_int_equal(cluster_mqctl(c, out, sizeof out,
                                   "--timeout 1s node add 4 "
                                   "tcp://127.0.0.1:1"),
                     1);
    assert_true(is_member(cl, 4));
    /* Removing it cancels the add; then leadership moves freely. */
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "node remove 4"), 0);
    assert_false(is_member(cl, 4));
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "leader transfer"), 0);

    /* Left alone, an add that makes no progress is abandoned by its
     * deadline (--member_catchup_timeout_ms 6000), the standby removed. */
    t0 = test_now_ms();
    assert_int_equal(cluster_mqctl(c, out, sizeof out,
                                   "--timeout 30s node add 5 "
                                   "tcp://127.0.0.1:2"),
                     1);
    assert_true(test_now_ms() - t0 < 25000);
    assert_non_null(strstr(out, "abandoned"));
    for (int i = 0; i < 100 && is_member(cl, 5); i++) {
        test_sleep_ms(100);
    }
    assert_false(is_member(cl, 5));
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "leader transfer"), 0);
    int logged = 0;
    for (int i = 0; i < c->n; i++) {
        logged |= cluster_log_has(c, i, "add of node 5 abandoned");
    }
    assert_true(logged);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

/* Lines of node @i's log that contain @needle. */
static int log_count(struct cluster *c, int i, const char *needle)
{
    FILE *f = fopen(c->nodes[i].log, "r");
    char line[4096];
    int n = 0;

    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        n += strstr(line, needle) != NULL;
    }
    if (f != NULL) {
        fclose(f);
    }
    return n;
}

static void test_oversized_request_is_too_large(void **state)
{
    struct cluster *c = *state;
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    const size_t len = 20u * 1000 * 1000; /* over max_request_bytes 16 MiB */
    char *big = malloc(len);
    mq_pub m = {0};
    int logged = 0;

    CLUSTER_TEST_BEGIN(c);
    /* One attempt: a slow machine must not make the client send it twice. */
    o.urls = c->urls;
    o.attempt_timeout_ms = 20000;
    o.timeout_ms = 25000;
    assert_int_equal(mq_client_open(&cl, &o), MQ_OK);
    assert_non_null(big);
    memset(big, 'z', len);
    create_queue(cl, "uploads");
    m.id = "big-1";
    m.payload = big;
    m.payload_len = len;
    /* Refused as too large, naming both sizes: not a lost connection. */
    assert_int_equal(mq_publish(cl, "uploads", &m, NULL, 0), MQ_ERR_TOO_LARGE);
    assert_non_null(strstr(mq_errmsg(), "20000"));
    assert_non_null(strstr(mq_errmsg(), "16777216"));
    assert_null(strstr(mq_errmsg(), "connection"));
    assert_int_equal(messages_in(cl, "uploads"), 0);
    for (int i = 0; i < c->n; i++) {
        logged += log_count(c, i, "over max_request_bytes");
    }
    assert_int_equal(logged, 1);
    /* The connection still serves. */
    m.id = "small-1";
    m.payload = "s";
    m.payload_len = 1;
    assert_int_equal(mq_publish(cl, "uploads", &m, NULL, 10000), MQ_OK);
    free(big);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redrive_refuses_a_live_queue_unless_forced),
        cmocka_unit_test(test_redrive_of_a_dead_letter_queue_needs_no_force),
        cmocka_unit_test(test_failed_node_add_blocks_nothing),
        cmocka_unit_test(test_oversized_request_is_too_large),
    };
    /* An add that makes no progress is abandoned after 6 s. */
    cluster_group_extra = "--member_catchup_timeout_ms 6000";
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
