/* test_mqctl.c: mqctl's operator commands against a real three-node
 * cluster: queue update changes a queue's settings on every node (a new
 * leader has them after the old one is killed), lowered limits hold at
 * once, and a create with other settings names those that differ; status
 * given one URL shows every member, a stopped one too; check passes on a
 * healthy cluster, names the stage that fails with one and with two of
 * three nodes stopped, and says which nodes are quorum-critical; top
 * shows a subscription's lag as sub info does, and publish rates while a
 * publisher runs. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

static void publish_n(mq_client *cl, const char *queue, int n)
{
    for (int i = 0; i < n; i++) {
        mq_pub m = {0};
        mq_pub_result res;
        m.event = "order.created";
        m.payload = "body";
        m.payload_len = 4;
        assert_int_equal(mq_publish(cl, queue, &m, &res, 15000), MQ_OK);
    }
}

static void
test_queue_update_replicated_and_create_names_differences(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_info qi;
    char out[4096];

    CLUSTER_TEST_BEGIN(c);
    assert_int_equal(cluster_mqctl(c, out, sizeof out,
                                   "queue create orders --max-messages 1000"),
                     0);
    publish_n(cl, "orders", 5);

    /* Lowered under discard old: the three oldest go at once. */
    assert_int_equal(cluster_mqctl(c, out, sizeof out,
                                   "--json queue update orders "
                                   "--max-messages 2 --ack-timeout 1m "
                                   "--dead-letter-queue orders-dead"),
                     0);
    assert_non_null(strstr(out, "\"max_messages\":2"));
    assert_non_null(strstr(out, "\"ack_timeout_ms\":60000"));
    assert_non_null(strstr(out, "\"messages\":2"));
    assert_non_null(
        strstr(out, "\"dead_letter_queue\":\"default/orders-dead\""));

    /* Every node applied it: the next leader has the new settings. */
    assert_int_equal(cluster_settle(c, 10000), 0);
    int leader = cluster_leader(c);
    assert_true(leader >= 0);
    cluster_signal(c, leader, SIGKILL);
    assert_true(cluster_wait_leader(c, 20000) >= 0);
    assert_int_equal(mq_queue_info_get(cl, "orders", &qi, 20000), MQ_OK);
    assert_int_equal(qi.max_messages, 2);
    assert_int_equal(qi.ack_timeout_ms, 60000);
    assert_int_equal(qi.messages, 2);
    assert_int_equal(qi.first_seq, 4);
    assert_string_equal(qi.dead_letter_queue, "default/orders-dead");
    assert_int_equal(cluster_restart(c, leader), 0);

    /* A create with other settings names them and changes nothing. */
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out,
                      "queue create orders --max-messages 1000 --ack-timeout "
                      "1m --dead-letter-queue orders-dead --max-bytes 1MiB"),
        1);
    assert_non_null(strstr(out, "exists with other settings"));
    assert_non_null(strstr(out, "max_messages is 2, not 1000"));
    assert_non_null(strstr(out, "max_bytes is 0, not 1MiB"));
    assert_null(strstr(out, "ack_timeout_ms is"));
    assert_non_null(strstr(out, "hint: mqctl queue update orders"));

    /* Bad updates: a usage error, or the node's refusal; nothing changes. */
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "queue update orders"),
                     2);
    assert_non_null(strstr(out, "at least one setting"));
    assert_int_equal(cluster_mqctl(c, out, sizeof out,
                                   "queue update orders --retention work"),
                     2);
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "queue update nope --max-messages 1"),
        1);
    assert_non_null(strstr(out, "queue default/nope does not exist"));
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "queue update orders --delay 40d"),
        1);
    assert_non_null(strstr(out, "delay_ms"));
    assert_int_equal(cluster_mqctl(c, out, sizeof out,
                                   "queue update orders --dead-letter-queue "
                                   "orders"),
                     1);
    assert_non_null(strstr(out, "its own dead-letter queue"));
    assert_int_equal(mq_queue_info_get(cl, "orders", &qi, 20000), MQ_OK);
    assert_int_equal(qi.max_messages, 2);
    assert_int_equal(qi.delay_ms, 0);
    assert_string_equal(qi.dead_letter_queue, "default/orders-dead");
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

/* Runs mqctl with @args until it exits 0, for up to 15 s (an election
 * after a restart may leave no leader for a moment). Returns the last
 * exit code. */
static int mqctl_until_ok(struct cluster *c, char *out, size_t len,
                          const char *args)
{
    uint64_t deadline = test_now_ms() + 15000;
    int rc;
    while ((rc = cluster_mqctl(c, out, len, "%s", args)) != 0 &&
           test_now_ms() < deadline) {
        test_sleep_ms(200);
    }
    return rc;
}

/* How many times @needle occurs in @hay. */
static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p != NULL;
         p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

static void test_status_given_one_url_shows_every_member(void **state)
{
    struct cluster *c = *state;
    char out[8192], row[64];

    CLUSTER_TEST_BEGIN(c);
    assert_true(cluster_wait_leader(c, 20000) >= 0);
    /* The last -s wins: only node 2's URL is given. */
    char args[128];
    snprintf(args, sizeof args, "-s %s --json status", c->nodes[1].client_url);
    int rc = mqctl_until_ok(c, out, sizeof out, args);
    if (rc != 0) {
        fail_msg("status given one URL: %d\n%s", rc, out);
    }
    assert_int_equal(count_of(out, "\"ok\":true"), 3);
    for (int i = 0; i < 3; i++) {
        snprintf(row, sizeof row, "\"url\":\"%s\"", c->nodes[i].client_url);
        assert_non_null(strstr(out, row));
    }
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "-s %s status",
                                   c->nodes[1].client_url),
                     0);
    for (int i = 0; i < 3; i++) {
        assert_non_null(strstr(out, c->nodes[i].client_url));
    }

    /* A member that is down has its row too, with its id. */
    int down = cluster_leader(c) == 2 ? 1 : 2;
    int ask = down == 1 ? 2 : 1;
    cluster_signal(c, down, SIGTERM);
    assert_true(cluster_wait_leader(c, 20000) >= 0);
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "-s %s --json status",
                                   c->nodes[ask].client_url),
                     0);
    assert_int_equal(count_of(out, "\"ok\":true"), 2);
    assert_int_equal(count_of(out, "\"ok\":false"), 1);
    snprintf(row, sizeof row, "\"url\":\"%s\",\"ok\":false,\"id\":%d",
             c->nodes[down].client_url, c->nodes[down].id);
    assert_non_null(strstr(out, row));
    assert_int_equal(cluster_restart(c, down), 0);
    CLUSTER_TEST_PASSED(c);
}

static void test_check_stages_and_quorum_critical(void **state)
{
    struct cluster *c = *state;
    char out[8192];
    int rc;

    CLUSTER_TEST_BEGIN(c);
    assert_true(cluster_wait_leader(c, 20000) >= 0);
    assert_int_equal(cluster_settle(c, 10000), 0);
    char args[128];
    snprintf(args, sizeof args, "-s %s check", c->nodes[0].client_url);
    rc = mqctl_until_ok(c, out, sizeof out, args);
    if (rc != 0) {
        fail_msg("check on a healthy cluster: %d\n%s", rc, out);
    }
    assert_non_null(strstr(out, "ok    reachable     3 of 3 members answer"));
    assert_non_null(strstr(out, "ok    quorum        3 of 3 voters answer"));
    assert_non_null(strstr(out, "ok    applied"));
    assert_non_null(strstr(out, "skip  certificates  no node uses TLS"));
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "--json check"), 0);
    assert_non_null(strstr(out, "\"failed\":null"));
    /* A bound no disk meets: the disk stage fails, named. */
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "check --min-disk-free 1000TB"), 1);
    assert_non_null(strstr(out, "FAIL  disk"));
    assert_non_null(strstr(out, "mqctl: check: stage disk failed"));
    assert_int_equal(cluster_mqctl(c, out, sizeof out,
                                   "check --quorum-critical %d",
                                   c->nodes[0].id),
                     0);
    assert_non_null(strstr(out, "is not quorum-critical"));
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "check --quorum-critical 9"), 1);
    assert_non_null(strstr(out, "node 9 is not a member"));

    /* One node down: applied fails naming it; the two others are critical. */
    int down = cluster_leader(c) == 2 ? 1 : 2;
    cluster_signal(c, down, SIGTERM);
    assert_true(cluster_wait_leader(c, 20000) >= 0);
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "check"), 1);
    assert_non_null(strstr(out, "ok    quorum        2 of 3 voters answer"));
    assert_non_null(strstr(out, "mqctl: check: stage applied failed"));
    assert_non_null(strstr(out, "does not answer"));
    for (int i = 0; i < 3; i++) {
        rc = cluster_mqctl(c, out, sizeof out, "check --quorum-critical %d",
                           c->nodes[i].id);
        if (i == down) {
            assert_int_equal(rc, 0);
            assert_non_null(strstr(out, "is not quorum-critical"));
        } else {
            assert_int_equal(rc, 1);
            assert_non_null(strstr(out, "is quorum-critical: without node"));
            assert_non_null(strstr(out, "would lose quorum"));
        }
    }

    /* Two down: no leader, or no quorum; the stage is named. */
    int other = down == 1 ? 2 : 1;
    int last = 3 - down - other;
    cluster_signal(c, other, SIGTERM);
    rc = cluster_mqctl(c, out, sizeof out, "-s %s check",
                       c->nodes[last].client_url);
    assert_int_equal(rc, 1);
    if (strstr(out, "mqctl: check: stage leader failed") == NULL &&
        strstr(out, "mqctl: check: stage quorum failed") == NULL) {
        fail_msg("check with two of three down:\n%s", out);
    }
    assert_non_null(strstr(out, "1 of 3 members answer"));
    rc = cluster_mqctl(c, out, sizeof out, "-s %s check --quorum-critical %d",
                       c->nodes[last].client_url, c->nodes[last].id);
    assert_int_equal(rc, 1);
    if (strstr(out, "quorum lost already") == NULL &&
        strstr(out, "is quorum-critical") == NULL) {
        fail_msg("quorum-critical with two of three down:\n%s", out);
    }
    assert_int_equal(cluster_restart(c, down), 0);
    assert_int_equal(cluster_restart(c, other), 0);
    assert_true(cluster_wait_leader(c, 30000) >= 0);
    CLUSTER_TEST_PASSED(c);
}

/* Publishes 20 messages to "busy", one every 50 ms. */
static void *publisher(void *arg)
{
    mq_client *cl = arg;
    for (int i = 0; i < 20; i++) {
        mq_pub m = {0};
        mq_pub_result res;
        m.event = "tick";
        m.payload = "t";
        m.payload_len = 1;
        if (mq_publish(cl, "busy", &m, &res, 15000) != MQ_OK) {
            break;
        }
        test_sleep_ms(50);
    }
    return NULL;
}

/* The number after "@key": in @json, from @from on; -1 if none. */
static double json_num(const char *from, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = from != NULL ? strstr(from, k) : NULL;
    return p != NULL ? strtod(p + strlen(k), NULL) : -1;
}

static void test_top_shows_lag_and_rates(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    char out[16384];

    CLUSTER_TEST_BEGIN(c);
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "queue create idle"), 0);
    assert_int_equal(cluster_mqctl(c, out, sizeof out,
                                   "sub create idle workers --start first"),
                     0);
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "queue create busy"), 0);
    publish_n(cl, "idle", 5);
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "consume idle workers --count 2"), 0);
    test_sleep_ms(300); /* the three left age */

    /* Lag as sub info says it, and the age of the oldest. */
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "--json sub info idle workers"), 0);
    assert_int_equal(json_num(out, "lag"), 3);
    assert_true(json_num(out, "lag_ms") >= 300);

    pthread_t t;
    mq_client *pub = cluster_client(c);
    assert_int_equal(pthread_create(&t, NULL, publisher, pub), 0);
    int rc = cluster_mqctl(c, out, sizeof out, "--json top --interval 1s");
    pthread_join(t, NULL);
    mq_client_close(pub);
    if (rc != 0) {
        fail_msg("top --json: %d\n%s", rc, out);
    }
    const char *busy = strstr(out, "\"name\":\"default/busy\"");
    const char *idle = strstr(out, "\"name\":\"default/idle\"");
    const char *sub = strstr(out, "\"queue\":\"default/idle\",\"name\":"
                                  "\"workers\"");
    assert_non_null(busy);
    assert_non_null(idle);
    assert_non_null(sub);
    assert_true(json_num(busy, "publish_per_s") > 0);
    assert_true(json_num(idle, "messages") == 5);
    assert_true(json_num(idle, "publish_per_s") == 0);
    assert_true(json_num(idle, "oldest_age_ms") >= 300);
    assert_true(json_num(sub, "lag") == 3);
    assert_true(json_num(sub, "lag_ms") >= 300);
    assert_true(json_num(sub, "ack_per_s") == 0);

    /* The live view, twice, then it stops by itself. */
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "top --count 2 --interval 200ms"), 0);
    assert_int_equal(count_of(out, "mqctl top"), 2);
    assert_non_null(strstr(out, "LAG AGE"));
    assert_non_null(strstr(out, "default/idle"));
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "top --interval 10ms"),
                     2);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_queue_update_replicated_and_create_names_differences),
        cmocka_unit_test(test_status_given_one_url_shows_every_member),
        cmocka_unit_test(test_check_stages_and_quorum_critical),
        cmocka_unit_test(test_top_shows_lag_and_rates),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
