/* test_status_history.c: message status tells what happened to a message
 * that was delivered and is done: the attempts it took (not 0) once acked
 * or dead-lettered, and the right time (acked at, or dead-lettered at),
 * through libmq and mqctl; the same after every node restarts (snapshot
 * and log) and on a node that caught up through a snapshot install. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

static void publish(mq_client *cl, const char *id)
{
    mq_pub m = {0};
    m.id = id;
    m.event = "job.run";
    m.payload = "work";
    m.payload_len = 4;
    assert_int_equal(mq_publish(cl, "jobs", &m, NULL, 10000), MQ_OK);
}

/* Fetches @id's message a second time (after a nack), then settles it with
 * @verb: 'a' ack, 't' term. */
static void deliver_twice(mq_client *cl, const char *id, char verb)
{
    mq_msg **msgs;
    size_t n;

    assert_int_equal(mq_fetch(cl, "jobs", "runner", 1, 5000, &msgs, &n), MQ_OK);
    assert_int_equal(n, 1);
    assert_string_equal(mq_msg_id(msgs[0]), id);
    assert_int_equal(mq_nack(cl, msgs[0], 0, 10000), MQ_OK);
    mq_msgs_free(msgs, n);
    assert_int_equal(mq_fetch(cl, "jobs", "runner", 1, 5000, &msgs, &n), MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mq_msg_attempt(msgs[0]), 2);
    if (verb == 'a') {
        assert_int_equal(mq_ack(cl, msgs[0], 10000), MQ_OK);
    } else {
        assert_int_equal(mq_term(cl, msgs[0], "bad input", 10000), MQ_OK);
    }
    mq_msgs_free(msgs, n);
}

/* Checks what @cl says of @id in jobs: subscription runner in @state,
 * two attempts, and the time of the one it is. */
static void check_done(mq_client *cl, const char *id, mq_sub_state state)
{
    mq_msg_status *st;
    size_t n;

    assert_int_equal(mq_message_status(cl, id, "jobs", &st, &n, 10000), MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(st[0].n_subs, 1);
    assert_int_equal(st[0].subs[0].state, state);
    assert_int_equal(st[0].subs[0].attempts, 2);
    if (state == MQ_SUB_ACKED) {
        assert_true(st[0].subs[0].acked_at_ms > 0);
        assert_int_equal(st[0].subs[0].dead_lettered_at_ms, 0);
    } else {
        assert_true(st[0].subs[0].dead_lettered_at_ms > 0);
        assert_int_equal(st[0].subs[0].acked_at_ms, 0);
    }
    mq_msg_status_free(st, n);
}

/* Lines of node @i's log (kept across its restarts) that hold @needle. */
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

static mq_client *client_on(struct cluster *c, int i)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    o.urls = c->nodes[i].client_url;
    o.timeout_ms = 10000;
    assert_int_equal(mq_client_open(&cl, &o), MQ_OK);
    return cl;
}

static void test_done_messages_keep_attempts_and_time(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    char out[8192];

    CLUSTER_TEST_BEGIN(c);
    qc.name = "jobs"; /* limits retention: done messages stay stored */
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "jobs";
    sc.name = "runner";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    publish(cl, "job-ok");
    deliver_twice(cl, "job-ok", 'a');
    publish(cl, "job-bad");
    deliver_twice(cl, "job-bad", 't');
    check_done(cl, "job-ok", MQ_SUB_ACKED);
    check_done(cl, "job-bad", MQ_SUB_DEAD_LETTERED);

    /* mqctl: the time in its own column. */
    assert_int_equal(cluster_mqctl(c, out, sizeof out,
                                   "message status job-bad --queue jobs"),
                     0);
    assert_non_null(strstr(out, "DEAD-LETTERED AT"));
    assert_non_null(strstr(out, "dead-lettered  2"));
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "--json message status job-ok"), 0);
    assert_non_null(strstr(out, "\"attempts\":2"));
    assert_non_null(strstr(out, "\"dead_lettered_at_ms\":0"));

    /* Publish more so that snapshots are taken, then restart every node:
     * restored from snapshot and log alike. */
    for (int i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof id, "fill-%d", i);
        publish(cl, id);
    }
    mq_client_close(cl);
    for (int i = 0; i < c->n; i++) {
        cluster_signal(c, i, SIGTERM);
        assert_int_equal(cluster_restart(c, i), 0);
    }
    assert_true(cluster_wait_leader(c, 20000) >= 0);
    cl = cluster_client(c);
    check_done(cl, "job-ok", MQ_SUB_ACKED);
    check_done(cl, "job-bad", MQ_SUB_DEAD_LETTERED);

    /* A follower that lost its data catches up through a snapshot. */
    int f = (cluster_leader(c) + 1) % c->n;
    int restores = log_count(c, f, "restoring a snapshot");
    cluster_signal(c, f, SIGKILL);
    cluster_wipe(c, f);
    assert_int_equal(cluster_restart(c, f), 0);
    assert_int_equal(cluster_settle(c, 20000), 0);
    assert_true(log_count(c, f, "restoring a snapshot") > restores);
    mq_client *fc = client_on(c, f);
    check_done(fc, "job-ok", MQ_SUB_ACKED);
    check_done(fc, "job-bad", MQ_SUB_DEAD_LETTERED);
    mq_client_close(fc);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_done_messages_keep_attempts_and_time),
    };
    /* Frequent snapshots: restarts and the wiped node go through one. */
    cluster_group_extra = "--snapshot_threshold 8 --snapshot_trailing 2";
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
