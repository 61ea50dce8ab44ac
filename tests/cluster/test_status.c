/* test_status.c: idempotent publish and message status by id, through a
 * leader kill, a restart of every node and a snapshot install.
 *
 * The same id within the duplicate window is stored once, the repeat
 * answered with the original seq flagged duplicate; status by id says per
 * subscription pending / delivered (attempts) / acked (when), and what
 * became of a message that is gone (acked by all, expired, purged); past
 * the status time it is "no longer known". */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

static mq_err publish_id(mq_client *cl, const char *queue, const char *id,
                         mq_pub_result *res)
{
    mq_pub m = {0};
    m.id = id;
    m.event = "order.created";
    m.payload = "order body";
    m.payload_len = 10;
    return mq_publish(cl, queue, &m, res, 15000);
}

static const mq_sub_status *sub_of(const mq_msg_status *st, const char *name)
{
    for (size_t i = 0; i < st->n_subs; i++) {
        if (strcmp(st->subs[i].name, name) == 0) {
            return &st->subs[i];
        }
    }
    return NULL;
}

/* Status of @id as node @i sees it (a follower answers from its state). */
static mq_err status_on(struct cluster *c, int i, const char *id,
                        const char *queue, mq_msg_status **st, size_t *n)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    o.urls = c->nodes[i].client_url;
    o.timeout_ms = 5000;
    assert_int_equal(mq_client_open(&cl, &o), MQ_OK);
    mq_err rv = mq_message_status(cl, id, queue, st, n, 5000);
    mq_client_close(cl);
    return rv;
}

static void test_same_id_stored_once_across_failover_and_restart(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_pub_result first, again;

    CLUSTER_TEST_BEGIN(c);
    qc.name = "outbox";
    qc.duplicate_window_ms = 6 * 3600 * 1000; /* hours, for the outbox */
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    assert_int_equal(publish_id(cl, "outbox", "order-1001", &first), MQ_OK);
    assert_int_equal(first.duplicate, 0);
    assert_true(first.durable);
    assert_true(first.index > 0);

    /* The leader dies: the retry goes to the new one, stored once. */
    int leader = cluster_leader(c);
    cluster_signal(c, leader, SIGKILL);
    assert_int_equal(publish_id(cl, "outbox", "order-1001", &again), MQ_OK);
    assert_int_equal(again.duplicate, 1);
    assert_int_equal(again.seq, first.seq);
    assert_int_equal(cluster_restart(c, leader), 0);

    /* Every node restarts: still remembered. */
    for (int i = 0; i < c->n; i++) {
        cluster_signal(c, i, SIGTERM);
    }
    for (int i = 0; i < c->n; i++) {
        assert_int_equal(cluster_restart(c, i), 0);
    }
    assert_true(cluster_wait_leader(c, 20000) >= 0);
    assert_int_equal(publish_id(cl, "outbox", "order-1001", &again), MQ_OK);
    assert_int_equal(again.duplicate, 1);
    assert_int_equal(again.seq, first.seq);

    mq_queue_info qi;
    assert_int_equal(mq_queue_info_get(cl, "outbox", &qi, 10000), MQ_OK);
    assert_int_equal(qi.messages, 1);
    assert_int_equal(qi.last_seq, first.seq);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

/* A client whose status lookups go to the leader: read-your-writes. */
static mq_client *leader_reads_client(struct cluster *c)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    o.urls = c->urls;
    o.reads_from_leader = 1;
    assert_int_equal(mq_client_open(&cl, &o), MQ_OK);
    return cl;
}

static void test_status_by_id_through_the_life_of_a_message(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = leader_reads_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    mq_pub_result res;
    mq_msg_status *st = NULL;
    size_t n = 0;
    mq_msg **msgs = NULL;
    size_t got = 0;

    CLUSTER_TEST_BEGIN(c);
    qc.name = "payments";
    qc.retention = MQ_RETENTION_WORK;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "payments";
    sc.start = MQ_START_FIRST;
    sc.name = "ledger";
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    sc.name = "email";
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    assert_int_equal(publish_id(cl, "payments", "pay-7", &res), MQ_OK);

    /* Stored, pending for both subscriptions. */
    assert_int_equal(mq_message_status(cl, "pay-7", NULL, &st, &n, 10000),
                     MQ_OK);
    assert_int_equal(n, 1);
    assert_string_equal(st[0].queue, "default/payments");
    assert_int_equal(st[0].seq, res.seq);
    assert_string_equal(st[0].event, "order.created");
    assert_int_equal(st[0].state, MQ_MSG_STORED);
    assert_int_equal(st[0].n_subs, 2);
    assert_int_equal(sub_of(&st[0], "ledger")->state, MQ_SUB_PENDING);
    mq_msg_status_free(st, n);

    /* ledger receives it: delivered, attempt 1; then acks it. */
    assert_int_equal(mq_fetch(cl, "payments", "ledger", 1, 2000, &msgs, &got),
                     MQ_OK);
    assert_int_equal(got, 1);
    assert_int_equal(mq_message_status(cl, "pay-7", NULL, &st, &n, 10000),
                     MQ_OK);
    assert_int_equal(sub_of(&st[0], "ledger")->state, MQ_SUB_DELIVERED);
    assert_int_equal(sub_of(&st[0], "ledger")->attempts, 1);
    assert_true(sub_of(&st[0], "ledger")->last_delivery_ms > 0);
    assert_int_equal(sub_of(&st[0], "email")->state, MQ_SUB_PENDING);
    mq_msg_status_free(st, n);
    uint64_t before_ack = test_wall_ms();
    assert_int_equal(mq_ack(cl, msgs[0], 10000), MQ_OK);
    mq_msgs_free(msgs, got);
    assert_int_equal(mq_message_status(cl, "pay-7", NULL, &st, &n, 10000),
                     MQ_OK);
    assert_int_equal(sub_of(&st[0], "ledger")->state, MQ_SUB_ACKED);
    assert_true(sub_of(&st[0], "ledger")->acked_at_ms + 1000 >= before_ack);
    mq_msg_status_free(st, n);

    /* A follower that restores a snapshot knows the same (enough entries
     * first for the log to be compacted behind a snapshot). */
    for (int i = 0; i < 40; i++) {
        char id[32];
        snprintf(id, sizeof id, "filler-%d", i);
        assert_int_equal(publish_id(cl, "outbox", id, NULL), MQ_OK);
    }
    int leader = cluster_leader(c);
    int f = (leader + 1) % c->n;
    cluster_signal(c, f, SIGTERM);
    cluster_wipe(c, f);
    assert_int_equal(cluster_restart(c, f), 0);
    assert_int_equal(cluster_settle(c, 30000), 0);
    assert_true(cluster_log_has(c, f, "restoring a snapshot"));
    assert_int_equal(status_on(c, f, "pay-7", "payments", &st, &n), MQ_OK);
    assert_int_equal(st[0].state, MQ_MSG_STORED);
    assert_int_equal(sub_of(&st[0], "ledger")->state, MQ_SUB_ACKED);
    assert_int_equal(sub_of(&st[0], "email")->state, MQ_SUB_PENDING);
    mq_msg_status_free(st, n);

    /* email acks it too: work retention drops it; status says acked. */
    assert_int_equal(mq_fetch(cl, "payments", "email", 1, 2000, &msgs, &got),
                     MQ_OK);
    assert_int_equal(got, 1);
    assert_int_equal(mq_ack(cl, msgs[0], 10000), MQ_OK);
    mq_msgs_free(msgs, got);
    assert_int_equal(mq_message_status(cl, "pay-7", NULL, &st, &n, 10000),
                     MQ_OK);
    assert_int_equal(st[0].state, MQ_MSG_ACKED);
    assert_int_equal(st[0].seq, res.seq);
    assert_true(st[0].gone_at_ms > 0);
    mq_msg_status_free(st, n);

    /* Purged messages say so; unknown ids are not known. */
    assert_int_equal(publish_id(cl, "payments", "pay-8", &res), MQ_OK);
    assert_int_equal(mq_queue_purge(cl, "payments", 10000), MQ_OK);
    assert_int_equal(mq_message_status(cl, "pay-8", NULL, &st, &n, 10000),
                     MQ_OK);
    assert_int_equal(st[0].state, MQ_MSG_PURGED);
    mq_msg_status_free(st, n);
    assert_int_equal(mq_message_status(cl, "never-9", NULL, &st, &n, 10000),
                     MQ_ERR_NOT_FOUND);
    assert_non_null(strstr(mq_errmsg(), "no longer known"));
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

static void test_status_forgotten_after_its_time(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = leader_reads_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_msg_status *st = NULL;
    size_t n = 0;

    CLUSTER_TEST_BEGIN(c);
    qc.name = "shortlived";
    qc.max_age_ms = 500;     /* messages expire */
    qc.status_ttl_ms = 1500; /* and their status is kept 1.5 s more */
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    assert_int_equal(publish_id(cl, "shortlived", "tick-1", NULL), MQ_OK);
    test_sleep_ms(800);
    /* Any write moves the clock on: the message expires. */
    assert_int_equal(publish_id(cl, "shortlived", "tick-2", NULL), MQ_OK);
    assert_int_equal(
        mq_message_status(cl, "tick-1", "shortlived", &st, &n, 10000), MQ_OK);
    assert_int_equal(st[0].state, MQ_MSG_EXPIRED);
    mq_msg_status_free(st, n);
    test_sleep_ms(2000);
    assert_int_equal(publish_id(cl, "shortlived", "tick-3", NULL), MQ_OK);
    assert_int_equal(
        mq_message_status(cl, "tick-1", "shortlived", &st, &n, 10000),
        MQ_ERR_NOT_FOUND);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_id_stored_once_across_failover_and_restart),
        cmocka_unit_test(test_status_by_id_through_the_life_of_a_message),
        cmocka_unit_test(test_status_forgotten_after_its_time),
    };
    /* Frequent snapshots: a wiped node catches up through one. */
    cluster_group_extra = "--snapshot_threshold 16 --snapshot_trailing 4";
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
