/* test_deadletter.c: ack verbs and dead letters. A message delivered
 * max_deliveries times without an ack, or termed by its consumer, moves to
 * the queue's dead-letter queue with headers naming its origin queue,
 * subscription, seq, attempts and reason; touch keeps a message in flight;
 * `mqctl queue redrive` moves dead letters back at a bounded rate (12 dead
 * letters at 4 a second, 2 a call, take at least 2.5 s) and says how many
 * it moved. The leader is killed between the dead-lettering and the
 * redrive. */
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

#define TIMEOUT_MS 800
#define N_EXTRA 10 /* dead letters termed after the leader kill */
#define REDRIVE_RATE 4
#define REDRIVE_BATCH 2

static mq_msg **fetch(mq_client *cl, const char *queue, const char *sub,
                      size_t max, uint32_t wait, size_t *n)
{
    mq_msg **msgs = NULL;
    assert_int_equal(mq_fetch(cl, queue, sub, max, wait, &msgs, n), MQ_OK);
    return msgs;
}

static void publish(mq_client *cl, const char *id)
{
    mq_pub m = {0};
    m.id = id;
    m.event = "job.run";
    m.payload = "work";
    m.payload_len = 4;
    assert_int_equal(mq_publish(cl, "jobs", &m, NULL, 10000), MQ_OK);
}

static void test_dead_letters_and_redrive(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    size_t n;
    mq_msg **msgs;

    CLUSTER_TEST_BEGIN(c);
    qc.name = "jobs";
    qc.ack_timeout_ms = TIMEOUT_MS;
    qc.max_deliveries = 2;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "jobs";
    sc.name = "runner";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    publish(cl, "job-flaky");
    publish(cl, "job-bad");
    publish(cl, "job-slow");

    /* job-slow: touched before its deadline, it stays with us. */
    msgs = fetch(cl, "jobs", "runner", 3, 2000, &n);
    assert_int_equal(n, 3);
    mq_msg *slow = msgs[2];
    msgs[2] = NULL;
    assert_string_equal(mq_msg_id(slow), "job-slow");
    /* job-bad: the consumer gives up on it at once. */
    assert_int_equal(mq_term(cl, msgs[1], "payload cannot be parsed", 10000),
                     MQ_OK);
    mq_msgs_free(msgs, n);
    test_sleep_ms(TIMEOUT_MS / 2);
    assert_int_equal(mq_touch(cl, slow, 10000), MQ_OK);
    test_sleep_ms(TIMEOUT_MS / 2 + 200); /* past the first deadline */
    assert_int_equal(mq_touch(cl, slow, 10000), MQ_OK);

    /* job-flaky comes back once (attempt 2) and is not acked again. */
    msgs = fetch(cl, "jobs", "runner", 3, 3000, &n);
    assert_int_equal(n, 1);
    assert_string_equal(mq_msg_id(msgs[0]), "job-flaky");
    assert_int_equal(mq_msg_attempt(msgs[0]), 2);
    mq_msgs_free(msgs, n);
    assert_int_equal(mq_ack(cl, slow, 10000), MQ_OK);
    mq_msg_free(slow);
    /* After its second deadline it goes to the dead-letter queue. */
    msgs = fetch(cl, "jobs", "runner", 3, 2 * TIMEOUT_MS, &n);
    assert_int_equal(n, 0);
    mq_msgs_free(msgs, n);

    /* The leader dies: what was decided holds on the new one. */
    int leader = cluster_leader(c);
    cluster_signal(c, leader, SIGKILL);
    assert_true(cluster_wait_leader(c, 10000) >= 0);

    mq_sub_info si;
    assert_int_equal(mq_sub_info_get(cl, "jobs", "runner", &si, 10000), MQ_OK);
    assert_int_equal(si.dead_lettered, 2);
    assert_int_equal(si.acked, 1);

    /* The dead letters, with where they came from and why. */
    mq_read_opts ro = MQ_READ_OPTS_INIT;
    assert_int_equal(cluster_settle(c, 10000), 0);
    assert_int_equal(mq_read(cl, "jobs.dlq", &ro, &msgs, &n, NULL, 10000),
                     MQ_OK);
    assert_int_equal(n, 2);
    assert_string_equal(mq_msg_header(msgs[0], "x-dead-letter-original-id"),
                        "job-bad");
    assert_string_equal(mq_msg_header(msgs[0], "x-dead-letter-queue"),
                        "default/jobs");
    assert_string_equal(mq_msg_header(msgs[0], "x-dead-letter-subscription"),
                        "runner");
    assert_string_equal(mq_msg_header(msgs[0], "x-dead-letter-seq"), "2");
    assert_string_equal(mq_msg_header(msgs[0], "x-dead-letter-attempts"), "1");
    assert_string_equal(mq_msg_header(msgs[0], "x-dead-letter-reason"),
                        "term: payload cannot be parsed");
    assert_string_equal(mq_msg_header(msgs[1], "x-dead-letter-original-id"),
                        "job-flaky");
    assert_string_equal(mq_msg_header(msgs[1], "x-dead-letter-attempts"), "2");
    assert_non_null(strstr(mq_msg_header(msgs[1], "x-dead-letter-reason"),
                           "max deliveries 2"));
    mq_msgs_free(msgs, n);

    /* Status by id says so. */
    mq_msg_status *st = NULL;
    size_t ns = 0;
    assert_int_equal(cluster_settle(c, 10000), 0);
    assert_int_equal(mq_message_status(cl, "job-bad", "jobs", &st, &ns, 10000),
                     MQ_OK);
    assert_int_equal(st[0].n_subs, 1);
    assert_int_equal(st[0].subs[0].state, MQ_SUB_DEAD_LETTERED);
    mq_msg_status_free(st, ns);

    /* More dead letters, termed on the new leader: enough for the rate to
     * show. */
    char id[32];
    for (int i = 1; i <= N_EXTRA; i++) {
        snprintf(id, sizeof id, "job-extra-%d", i);
        publish(cl, id);
    }
    msgs = fetch(cl, "jobs", "runner", N_EXTRA, 3000, &n);
    assert_int_equal(n, N_EXTRA);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(mq_term(cl, msgs[i], "cannot run", 10000), MQ_OK);
    }
    mq_msgs_free(msgs, n);
    mq_queue_info qi;
    assert_int_equal(mq_queue_info_get(cl, "jobs.dlq", &qi, 10000), MQ_OK);
    assert_int_equal(qi.messages, 2 + N_EXTRA);

    /* Then the dead letters go back, 4 a second in calls of 2: the first
     * call at once, each next one when the rate allows what moved, so the
     * last of 6 calls starts 2.5 s after the first. */
    char out[4096], cmd[128];
    const int total = 2 + N_EXTRA;
    const uint64_t min_ms =
        (uint64_t)(total - REDRIVE_BATCH) * 1000 / REDRIVE_RATE;
    snprintf(cmd, sizeof cmd,
             "queue redrive jobs.dlq --to jobs --rate %d/s "
             "--batch %d",
             REDRIVE_RATE, REDRIVE_BATCH);
    uint64_t t0 = test_now_ms();
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "%s", cmd), 0);
    uint64_t took = test_now_ms() - t0;
    printf("redrive of %d at %d/s took %llu ms (at least %llu):\n%s", total,
           REDRIVE_RATE, (unsigned long long)took, (unsigned long long)min_ms,
           out);
    assert_true(took >= min_ms);
    assert_true(took < min_ms + 10000);
    char want[128];
    snprintf(want, sizeof want,
             "moved %d messages from jobs.dlq to jobs; 0 left\n", total);
    assert_non_null(strstr(out, want));
    assert_int_equal(mq_queue_info_get(cl, "jobs.dlq", &qi, 10000), MQ_OK);
    assert_int_equal(qi.messages, 0);
    msgs = fetch(cl, "jobs", "runner", 2 * total, 3000, &n);
    assert_int_equal(n, total);
    /* Oldest first. */
    assert_string_equal(mq_msg_id(msgs[0]), "job-bad");
    assert_string_equal(mq_msg_id(msgs[1]), "job-flaky");
    for (int i = 1; i <= N_EXTRA; i++) {
        snprintf(id, sizeof id, "job-extra-%d", i);
        assert_string_equal(mq_msg_id(msgs[1 + i]), id);
    }
    /* Redriven without the dead-letter headers, as first published. */
    assert_null(mq_msg_header(msgs[0], "x-dead-letter-reason"));
    assert_int_equal(mq_msg_attempt(msgs[0]), 1);
    mq_msgs_free(msgs, n);
    assert_int_equal(cluster_restart(c, leader), 0);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dead_letters_and_redrive),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
