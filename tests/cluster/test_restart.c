/* test_restart.c: stop all three nodes and start them again: the same
 * queues, messages and subscription positions come back; first after a
 * clean stop (SIGTERM), then after kill -9 of all three at once. */
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

struct snapshot_view {
    size_t n_queues;
    mq_queue_info q[4];
    mq_sub_info s[4];
    size_t n_subs;
};

static struct cluster *cluster_of_group;

static void take_view(mq_client *cl, struct snapshot_view *v)
{
    mq_queue_info *qs = NULL;
    mq_sub_info *ss = NULL;
    size_t n = 0, m = 0;
    /* Any node may answer: let every node apply what is committed. */
    assert_int_equal(cluster_settle(cluster_of_group, 20000), 0);
    assert_int_equal(mq_queue_list(cl, &qs, &n, 10000), MQ_OK);
    assert_true(n <= 4);
    v->n_queues = n;
    memcpy(v->q, qs, n * sizeof *qs);
    mq_queue_list_free(qs);
    assert_int_equal(mq_sub_list(cl, NULL, &ss, &m, 10000), MQ_OK);
    assert_true(m <= 4);
    v->n_subs = m;
    memcpy(v->s, ss, m * sizeof *ss);
    mq_sub_list_free(ss);
}

static void assert_same(const struct snapshot_view *a,
                        const struct snapshot_view *b)
{
    assert_int_equal(a->n_queues, b->n_queues);
    for (size_t i = 0; i < a->n_queues; i++) {
        printf("%s: %llu messages, %llu bytes, seqs %llu-%llu / %llu "
               "messages, %llu bytes, seqs %llu-%llu\n",
               a->q[i].name, (unsigned long long)a->q[i].messages,
               (unsigned long long)a->q[i].bytes,
               (unsigned long long)a->q[i].first_seq,
               (unsigned long long)a->q[i].last_seq,
               (unsigned long long)b->q[i].messages,
               (unsigned long long)b->q[i].bytes,
               (unsigned long long)b->q[i].first_seq,
               (unsigned long long)b->q[i].last_seq);
        assert_string_equal(a->q[i].name, b->q[i].name);
        assert_int_equal(a->q[i].messages, b->q[i].messages);
        assert_int_equal(a->q[i].bytes, b->q[i].bytes);
        assert_int_equal(a->q[i].first_seq, b->q[i].first_seq);
        assert_int_equal(a->q[i].last_seq, b->q[i].last_seq);
        assert_int_equal(a->q[i].max_message_bytes, b->q[i].max_message_bytes);
        assert_int_equal(a->q[i].retention, b->q[i].retention);
    }
    assert_int_equal(a->n_subs, b->n_subs);
    for (size_t i = 0; i < a->n_subs; i++) {
        assert_string_equal(a->s[i].queue, b->s[i].queue);
        assert_string_equal(a->s[i].name, b->s[i].name);
        assert_int_equal(a->s[i].next_seq, b->s[i].next_seq);
        assert_int_equal(a->s[i].ack_floor, b->s[i].ack_floor);
        assert_int_equal(a->s[i].in_flight, b->s[i].in_flight);
        assert_int_equal(a->s[i].ack_timeout_ms, b->s[i].ack_timeout_ms);
    }
}

static void publish_n(mq_client *cl, const char *queue, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        char id[32], payload[32];
        mq_pub m = {0};
        snprintf(id, sizeof id, "%s-%d", queue, i);
        snprintf(payload, sizeof payload, "payload %d", i);
        m.id = id;
        m.payload = payload;
        m.payload_len = strlen(payload);
        assert_int_equal(mq_publish_async(cl, queue, &m, NULL, NULL), MQ_OK);
    }
    assert_int_equal(mq_flush(cl, 30000), MQ_OK);
}

static void restart_all(struct cluster *c, int sig)
{
    for (int i = 0; i < c->n; i++) {
        kill(c->nodes[i].pid, sig); /* all at once */
    }
    for (int i = 0; i < c->n; i++) {
        cluster_signal(c, i, sig);
    }
    for (int i = 0; i < c->n; i++) {
        assert_int_equal(cluster_restart(c, i), 0);
    }
    assert_true(cluster_wait_leader(c, 20000) >= 0);
}

static void test_restart_keeps_queues_messages_and_positions(void **state)
{
    struct cluster *c = *state;
    cluster_of_group = c;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    struct snapshot_view before, after;
    struct drain_stats st = {0};

    CLUSTER_TEST_BEGIN(c);
    qc.name = "emails";
    qc.max_message_bytes = 4096;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    qc.name = "jobs";
    qc.retention = MQ_RETENTION_WORK;
    qc.max_message_bytes = 0;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "emails";
    sc.name = "sender";
    sc.start = MQ_START_FIRST;
    sc.ack_timeout_ms = 60000;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    sc.queue = "jobs";
    sc.name = "worker";
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);

    publish_n(cl, "emails", 0, 500);
    publish_n(cl, "jobs", 0, 300);
    /* Consume part of each: 200 emails acked, 5 more in flight. */
    mq_msg **msgs = NULL;
    size_t n = 0, acked = 0;
    while (acked < 200) {
        assert_int_equal(
            mq_fetch(cl, "emails", "sender", 200 - acked, 1000, &msgs, &n),
            MQ_OK);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(mq_ack(cl, msgs[i], 10000), MQ_OK);
        }
        acked += n;
        mq_msgs_free(msgs, n);
    }
    assert_int_equal(mq_fetch(cl, "emails", "sender", 5, 1000, &msgs, &n),
                     MQ_OK);
    assert_int_equal(n, 5);
    mq_msgs_free(msgs, n);
    drain(cl, "jobs", "worker", 100, 1000, 20000, NULL, NULL, NULL, &st);
    assert_int_equal(st.messages, 300);

    take_view(cl, &before);
    mq_client_close(cl);

    restart_all(c, SIGTERM);
    cl = cluster_client(c);
    take_view(cl, &after);
    assert_same(&before, &after);
    mq_client_close(cl);

    restart_all(c, SIGKILL);
    cl = cluster_client(c);
    take_view(cl, &after);
    assert_same(&before, &after);

    /* The subscription resumes where it was: seq 201-205 are in flight
     * (their ack deadline is a minute away), so the next is 206. */
    assert_int_equal(mq_fetch(cl, "emails", "sender", 1, 2000, &msgs, &n),
                     MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mq_msg_seq(msgs[0]), 206);
    assert_string_equal(mq_msg_id(msgs[0]), "emails-205");
    mq_msgs_free(msgs, n);
    /* Work retention dropped the acked jobs, before and after. */
    for (size_t i = 0; i < after.n_queues; i++) {
        if (strcmp(after.q[i].name, "jobs") == 0) {
            assert_int_equal(after.q[i].messages, 0);
            assert_int_equal(after.q[i].last_seq, 300);
        }
    }
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart_keeps_queues_messages_and_positions),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
