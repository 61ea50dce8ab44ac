/* test_retention.c: keeping and dropping. "limits" retention with discard
 * old drops the oldest; with discard reject a full queue refuses with FULL
 * naming the limit and stores nothing; max age drops old messages; "work"
 * retention drops a message once every subscription acked it; purge
 * empties a queue (status: purged) and seqs go on after it; the node memory
 * budget refuses with FULL, also an asynchronous publish, whose callback's
 * mq_errmsg names the budget and by how much; remembered ids and statuses
 * never refuse a publish and stay under their own bound, every node
 * forgetting the oldest. Each holds across a restart of every node
 * (kill -9), which restores the nodes' snapshots: they take one every 4
 * entries. Also all-or-nothing batches and namespaces. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"
#include "drain.h"

static mq_err pub(mq_client *cl, const char *queue, const char *id)
{
    mq_pub m = {0};
    m.id = id;
    m.payload = "0123456789";
    m.payload_len = 10;
    return mq_publish(cl, queue, &m, NULL, 10000);
}

static void mkqueue(mq_client *cl, const char *name, mq_discard discard,
                    uint64_t max_messages, uint64_t max_age_ms,
                    mq_retention retention)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    qc.name = name;
    qc.discard = discard;
    qc.max_messages = max_messages;
    qc.max_age_ms = max_age_ms;
    qc.retention = retention;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
}

static mq_queue_info info(struct cluster *c, mq_client *cl, const char *q)
{
    mq_queue_info qi;
    assert_int_equal(cluster_settle(c, 20000), 0);
    assert_int_equal(mq_queue_info_get(cl, q, &qi, 10000), MQ_OK);
    return qi;
}

/* Writes (a subscription of a queue of its own created and deleted, which
 * the memory budget never refuses) until every node has a snapshot, on
 * disk, of everything committed when called, so that a restart restores
 * that state from a snapshot rather than replaying it from the log; up to
 * 200 writes. */
static void snapshot_all(struct cluster *c)
{
    mq_client *cl = cluster_client(c);
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    uint64_t target = 0;
    int done = 0;
    mq_node_status *st = NULL;
    size_t n = 0;

    assert_non_null(cl);
    assert_int_equal(mq_cluster_status(cl, &st, &n, 5000), MQ_OK);
    for (size_t i = 0; i < n; i++) {
        if (st[i].err == MQ_OK && st[i].commit_index > target) {
            target = st[i].commit_index;
        }
    }
    mq_status_free(st);
    mkqueue(cl, "filler", MQ_DISCARD_OLD, 1, 0, MQ_RETENTION_LIMITS);
    sc.queue = "filler";
    sc.name = "fill";
    for (int k = 0; k < 200 && !done; k++) {
        if (k % 2 == 0) {
            assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
        } else {
            assert_int_equal(mq_sub_delete(cl, "filler", "fill", 10000), MQ_OK);
        }
        assert_int_equal(mq_cluster_status(cl, &st, &n, 5000), MQ_OK);
        done = n == (size_t)c->n;
        for (size_t i = 0; i < n; i++) {
            done &= st[i].err == MQ_OK && st[i].snapshot_index >= target;
        }
        mq_status_free(st);
    }
    assert_true(done);
    mq_client_close(cl);
}

/* kill -9 every node and start them again; each restores a snapshot that
 * holds everything committed before. */
static void restart_all(struct cluster *c)
{
    int restores[CLUSTER_MAX];
    snapshot_all(c);
    for (int i = 0; i < c->n; i++) {
        restores[i] = cluster_log_count(c, i, "restoring a snapshot");
        cluster_signal(c, i, SIGKILL);
    }
    for (int i = 0; i < c->n; i++) {
        assert_int_equal(cluster_restart(c, i), 0);
    }
    assert_true(cluster_wait_leader(c, 20000) >= 0);
    for (int i = 0; i < c->n; i++) {
        assert_true(cluster_log_count(c, i, "restoring a snapshot") >
                    restores[i]);
    }
}

static void test_limits_work_purge_across_restart(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    char id[32];
    mq_queue_info qi;

    CLUSTER_TEST_BEGIN(c);
    mkqueue(cl, "recent", MQ_DISCARD_OLD, 5, 0, MQ_RETENTION_LIMITS);
    mkqueue(cl, "bounded", MQ_DISCARD_REJECT, 3, 0, MQ_RETENTION_LIMITS);
    mkqueue(cl, "fresh", MQ_DISCARD_OLD, 0, 1000, MQ_RETENTION_LIMITS);
    mkqueue(cl, "tasks", MQ_DISCARD_OLD, 0, 0, MQ_RETENTION_WORK);
    for (int i = 1; i <= 8; i++) {
        snprintf(id, sizeof id, "r-%d", i);
        assert_int_equal(pub(cl, "recent", id), MQ_OK);
    }
    for (int i = 1; i <= 3; i++) {
        snprintf(id, sizeof id, "b-%d", i);
        assert_int_equal(pub(cl, "bounded", id), MQ_OK);
    }
    assert_int_equal(pub(cl, "bounded", "b-4"), MQ_ERR_FULL);
    assert_non_null(strstr(mq_errmsg(), "max_messages 3"));
    assert_int_equal(pub(cl, "fresh", "f-1"), MQ_OK);

    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    sc.queue = "tasks";
    sc.start = MQ_START_FIRST;
    sc.name = "a";
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    sc.name = "b";
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    for (int i = 1; i <= 4; i++) {
        snprintf(id, sizeof id, "t-%d", i);
        assert_int_equal(pub(cl, "tasks", id), MQ_OK);
    }
    struct drain_stats ds = {0};
    drain(cl, "tasks", "a", 10, 500, 10000, NULL, NULL, NULL, &ds);
    assert_int_equal(ds.messages, 4);
    /* Acked by one of two subscriptions: still stored. */
    qi = info(c, cl, "tasks");
    assert_int_equal(qi.messages, 4);

    restart_all(c);

    qi = info(c, cl, "recent");
    assert_int_equal(qi.messages, 5);
    assert_int_equal(qi.first_seq, 4);
    assert_int_equal(qi.last_seq, 8);
    qi = info(c, cl, "bounded");
    assert_int_equal(qi.messages, 3);
    assert_int_equal(pub(cl, "bounded", "b-4"), MQ_ERR_FULL);
    /* Dropped by age once the clock moves on (any write). */
    test_sleep_ms(1200);
    assert_int_equal(pub(cl, "recent", "r-9"), MQ_OK);
    qi = info(c, cl, "fresh");
    assert_int_equal(qi.messages, 0);
    assert_int_equal(qi.last_seq, 1);
    /* Acked by the other too: gone. */
    memset(&ds, 0, sizeof ds);
    drain(cl, "tasks", "b", 10, 500, 10000, NULL, NULL, NULL, &ds);
    assert_int_equal(ds.messages, 4);
    qi = info(c, cl, "tasks");
    assert_int_equal(qi.messages, 0);

    /* Purge, through mqctl. */
    char out[2048];
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "queue purge recent"),
                     0);
    qi = info(c, cl, "recent");
    assert_int_equal(qi.messages, 0);
    assert_int_equal(qi.last_seq, 9);
    /* Seqs go on after a purge; a few entries more, so that the nodes'
     * snapshots are taken past the purge and the restart restores it from
     * there. */
    for (int i = 10; i <= 15; i++) {
        snprintf(id, sizeof id, "r-%d", i);
        assert_int_equal(pub(cl, "recent", id), MQ_OK);
    }

    restart_all(c);

    /* The purge holds: what was purged stays gone, said so by id; what
     * came after is there, the oldest dropped by the limit of 5. */
    qi = info(c, cl, "recent");
    assert_int_equal(qi.messages, 5);
    assert_int_equal(qi.first_seq, 11);
    assert_int_equal(qi.last_seq, 15);
    mq_msg_status *st = NULL;
    size_t n = 0;
    assert_int_equal(mq_message_status(cl, "r-9", "recent", &st, &n, 10000),
                     MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(st[0].state, MQ_MSG_PURGED);
    assert_int_equal(st[0].seq, 9);
    mq_msg_status_free(st, n);
    assert_int_equal(pub(cl, "recent", "r-16"), MQ_OK);
    qi = info(c, cl, "recent");
    assert_int_equal(qi.last_seq, 16);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

static void test_atomic_batches(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_pub msgs[3];
    mq_pub_result res[3];

    CLUSTER_TEST_BEGIN(c);
    mkqueue(cl, "ledger", MQ_DISCARD_OLD, 0, 0, MQ_RETENTION_LIMITS);
    memset(msgs, 0, sizeof msgs);
    const char *ids[] = {"l-1", "l-2", "l-3"};
    for (int i = 0; i < 3; i++) {
        msgs[i].id = ids[i];
        msgs[i].payload = "entry";
        msgs[i].payload_len = 5;
    }
    msgs[1].event = "bad..event";
    /* All or nothing: one bad message, nothing stored. */
    assert_int_equal(mq_publish_batch_flags(cl, "ledger", msgs, 3,
                                            MQ_PUBLISH_ATOMIC, res, 10000),
                     MQ_ERR_INVALID);
    mq_queue_info qi = info(c, cl, "ledger");
    assert_int_equal(qi.messages, 0);
    /* Without the flag, the others are stored. */
    assert_int_equal(mq_publish_batch(cl, "ledger", msgs, 3, res, 10000),
                     MQ_OK);
    assert_int_equal(res[0].err, MQ_OK);
    assert_int_equal(res[1].err, MQ_ERR_INVALID);
    assert_int_equal(res[2].err, MQ_OK);
    /* Across a restart of every node: two stored, the bad one never. */
    restart_all(c);
    qi = info(c, cl, "ledger");
    assert_int_equal(qi.messages, 2);
    mq_msg_status *st = NULL;
    size_t n = 0;
    assert_int_equal(mq_message_status(cl, "l-2", "ledger", &st, &n, 10000),
                     MQ_ERR_NOT_FOUND);
    assert_int_equal(mq_message_status(cl, "l-3", "ledger", &st, &n, 10000),
                     MQ_OK);
    mq_msg_status_free(st, n);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

static void test_namespaces_keep_queues_apart(void **state)
{
    struct cluster *c = *state;
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *prd = NULL, *stg = NULL;
    char out[4096];

    CLUSTER_TEST_BEGIN(c);
    o.urls = c->urls;
    o.ns = "prd";
    assert_int_equal(mq_client_open(&prd, &o), MQ_OK);
    o.ns = "stg";
    assert_int_equal(mq_client_open(&stg, &o), MQ_OK);
    mkqueue(prd, "orders", MQ_DISCARD_OLD, 0, 0, MQ_RETENTION_LIMITS);
    mkqueue(stg, "orders", MQ_DISCARD_OLD, 0, 0, MQ_RETENTION_LIMITS);
    assert_int_equal(pub(prd, "orders", "o-1"), MQ_OK);
    assert_int_equal(pub(prd, "orders", "o-2"), MQ_OK);
    assert_int_equal(pub(stg, "orders", "o-1"), MQ_OK);
    /* Full names work from any client. */
    assert_int_equal(pub(stg, "prd/orders", "o-3"), MQ_OK);

    restart_all(c);
    mq_queue_info qi = info(c, prd, "orders");
    assert_string_equal(qi.name, "prd/orders");
    assert_int_equal(qi.messages, 3);
    qi = info(c, stg, "orders");
    assert_string_equal(qi.name, "stg/orders");
    assert_int_equal(qi.messages, 1);
    assert_int_equal(cluster_mqctl(c, out, sizeof out,
                                   "--ns stg queue info "
                                   "orders"),
                     0);
    assert_non_null(strstr(out, "stg/orders"));
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "queue list"), 0);
    assert_non_null(strstr(out, "prd/orders"));
    assert_non_null(strstr(out, "stg/orders"));
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "queue info bad/ns/x"),
                     1);
    mq_client_close(prd);
    mq_client_close(stg);
    CLUSTER_TEST_PASSED(c);
}

/* The last asynchronous result: its code and mq_errmsg in the callback. */
static mq_err async_err;
static char async_msg[512];

static void async_cb(void *arg, const mq_pub_result *res)
{
    (void)arg;
    async_err = res->err;
    snprintf(async_msg, sizeof async_msg, "%s",
             res->err != MQ_OK ? mq_errmsg() : "");
}

static void test_full_queue_names_limit_in_callbacks_and_batches(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_pub m = {0};

    CLUSTER_TEST_BEGIN(c);
    mkqueue(cl, "capped", MQ_DISCARD_REJECT, 3, 0, MQ_RETENTION_LIMITS);
    m.payload = "0123456789";
    m.payload_len = 10;
    for (int i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof id, "cap-%d", i);
        m.id = id;
        assert_int_equal(mq_publish_async(cl, "capped", &m, async_cb, NULL),
                         MQ_OK);
    }
    assert_int_equal(mq_flush(cl, 20000), MQ_OK);
    /* The fourth, in the same batch as the others or not, is refused. */
    assert_int_equal(async_err, MQ_ERR_FULL);
    assert_non_null(strstr(async_msg, "queue default/capped is full"));
    assert_non_null(strstr(async_msg, "max_messages 3"));
    assert_non_null(strstr(async_msg, "1 over"));

    /* A synchronous batch: the call succeeds, each result has its code,
     * and mq_errmsg names the first refused with the node's reason. */
    mq_pub msgs[2] = {m, m};
    mq_pub_result res[2];
    msgs[0].id = "cap-0"; /* a duplicate: stored before, so a success */
    msgs[1].id = "cap-9";
    assert_int_equal(mq_publish_batch(cl, "capped", msgs, 2, res, 10000),
                     MQ_OK);
    assert_int_equal(res[0].err, MQ_OK);
    assert_true(res[0].duplicate);
    assert_int_equal(res[1].err, MQ_ERR_FULL);
    assert_non_null(strstr(mq_errmsg(), "message 2"));
    assert_non_null(strstr(mq_errmsg(), "max_messages 3"));
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

/* Publishes and consumes @n messages (ids "@prefix-<i>") on work queue
 * @queue, subscription "w", in batches of 100. */
static void pass_through(mq_client *cl, const char *queue, const char *prefix,
                         int n)
{
    for (int i = 0; i < n; i += 100) {
        mq_pub msgs[100];
        mq_pub_result res[100];
        char ids[100][32];
        size_t got = 0;
        memset(msgs, 0, sizeof msgs);
        for (int k = 0; k < 100; k++) {
            snprintf(ids[k], sizeof ids[k], "%s-%d", prefix, i + k);
            msgs[k].id = ids[k];
            msgs[k].payload = "0123456789";
            msgs[k].payload_len = 10;
        }
        assert_int_equal(mq_publish_batch(cl, queue, msgs, 100, res, 10000),
                         MQ_OK);
        for (int k = 0; k < 100; k++) {
            if (res[k].err != MQ_OK) {
                fail_msg("publish %s: %s", ids[k], mq_strerror(res[k].err));
            }
        }
        for (int tries = 0; got < 100 && tries < 50; tries++) {
            mq_msg **ms = NULL;
            size_t nm = 0;
            uint64_t seqs[100];
            if (mq_fetch(cl, queue, "w", 100, 1000, &ms, &nm) != MQ_OK) {
                continue;
            }
            for (size_t k = 0; k < nm; k++) {
                seqs[k] = mq_msg_seq(ms[k]);
            }
            assert_int_equal(mq_ack_seqs(cl, queue, "w", seqs, nm, 10000),
                             MQ_OK);
            got += nm;
            mq_msgs_free(ms, nm);
        }
        assert_int_equal(got, 100);
    }
}

static void test_ids_and_statuses_never_refuse_and_stay_bounded(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    mq_node_status *st = NULL;
    mq_msg_status *ms = NULL;
    size_t n = 0, nm = 0;

    CLUSTER_TEST_BEGIN(c);
    /* 20,000 messages pass: their ids, statuses and ack records take
     * some 3 MB at their nominal size, over the 2 MiB memory budget (which
     * they do not count in) and over the 1 MiB bound of ids and statuses
     * (see main), under which every node keeps them. */
    mkqueue(cl, "churn", MQ_DISCARD_OLD, 0, 0, MQ_RETENTION_WORK);
    sc.queue = "churn";
    sc.name = "w";
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    pass_through(cl, "churn", "churn", 20000);
    assert_int_equal(cluster_settle(c, 20000), 0);
    assert_int_equal(mq_cluster_status(cl, &st, &n, 5000), MQ_OK);
    assert_int_equal(n, (size_t)c->n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(st[i].err, MQ_OK);
        assert_int_equal(st[i].ids_budget_bytes, 1048576);
        assert_true(st[i].ids_bytes <= st[i].ids_budget_bytes);
        assert_true(st[i].ids_bytes > st[i].ids_budget_bytes / 2);
        assert_true(st[i].ids_evicted > 0); /* every replica forgets */
        assert_true(st[i].memory_bytes < st[i].memory_budget_bytes);
    }
    mq_status_free(st);
    mq_queue_info qi = info(c, cl, "churn");
    assert_int_equal(qi.messages, 0);
    assert_true(qi.ids_bytes <= 1048576);
    assert_true(qi.remembered_ids > 0);

    /* The oldest are no longer known; the newest are, as acked. */
    assert_int_equal(mq_message_status(cl, "churn-0", "churn", &ms, &nm, 5000),
                     MQ_ERR_NOT_FOUND);
    assert_non_null(strstr(mq_errmsg(), "no longer known"));
    assert_int_equal(
        mq_message_status(cl, "churn-19999", "churn", &ms, &nm, 5000), MQ_OK);
    assert_int_equal(nm, 1);
    assert_int_equal(ms[0].state, MQ_MSG_ACKED);
    mq_msg_status_free(ms, nm);

    /* Every node restarts from its snapshot and counts the same. */
    restart_all(c);
    assert_int_equal(cluster_settle(c, 20000), 0);
    assert_int_equal(mq_cluster_status(cl, &st, &n, 5000), MQ_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(st[i].err, MQ_OK);
        assert_int_equal(st[i].ids_bytes, st[0].ids_bytes);
    }
    mq_status_free(st);
    assert_int_equal(pub(cl, "churn", "after-restart"), MQ_OK);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

static void test_memory_budget_refuses_with_full(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    static char big[60000];
    mq_err rv = MQ_OK;
    int stored = 0;

    CLUSTER_TEST_BEGIN(c);
    mkqueue(cl, "blobs", MQ_DISCARD_OLD, 0, 0, MQ_RETENTION_LIMITS);
    memset(big, 'x', sizeof big);
    /* The nodes run with a 2 MiB budget (see main): about 35 fit. */
    for (int i = 0; i < 200 && rv == MQ_OK; i++) {
        char id[32];
        mq_pub m = {0};
        snprintf(id, sizeof id, "big-%d", i);
        m.id = id;
        m.payload = big;
        m.payload_len = sizeof big;
        rv = mq_publish(cl, "blobs", &m, NULL, 10000);
        stored += rv == MQ_OK;
    }
    assert_int_equal(rv, MQ_ERR_FULL);
    assert_non_null(strstr(mq_errmsg(), "memory budget"));
    assert_true(stored > 10 && stored < 200);

    /* Every node restarts from its snapshot: the budget is still used up
     * (each node counts what it restored), whichever node leads. */
    restart_all(c);
    mq_queue_info qi = info(c, cl, "blobs");
    assert_int_equal(qi.messages, (uint64_t)stored);
    mq_pub m = {0};
    m.id = "big-after-restart";
    m.payload = big;
    m.payload_len = sizeof big;
    assert_int_equal(mq_publish(cl, "blobs", &m, NULL, 10000), MQ_ERR_FULL);
    assert_non_null(strstr(mq_errmsg(), "memory budget"));

    /* An asynchronous publish hears the same, in its callback. */
    async_err = MQ_OK;
    async_msg[0] = '\0';
    m.id = "big-async";
    assert_int_equal(mq_publish_async(cl, "blobs", &m, async_cb, NULL), MQ_OK);
    assert_int_equal(mq_flush(cl, 20000), MQ_OK);
    assert_int_equal(async_err, MQ_ERR_FULL);
    assert_non_null(strstr(async_msg, "memory_budget_bytes is 2097152"));
    assert_non_null(strstr(async_msg, "over"));
    m.id = "big-after-restart";

    /* Freeing room makes publishing work again, also after a restart. */
    assert_int_equal(mq_queue_purge(cl, "blobs", 10000), MQ_OK);
    assert_int_equal(pub(cl, "blobs", "small-1"), MQ_OK);
    restart_all(c);
    assert_int_equal(mq_publish(cl, "blobs", &m, NULL, 10000), MQ_OK);
    qi = info(c, cl, "blobs");
    assert_int_equal(qi.messages, 2);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits_work_purge_across_restart),
        cmocka_unit_test(test_atomic_batches),
        cmocka_unit_test(test_namespaces_keep_queues_apart),
        cmocka_unit_test(test_memory_budget_refuses_with_full),
        cmocka_unit_test(test_full_queue_names_limit_in_callbacks_and_batches),
        cmocka_unit_test(test_ids_and_statuses_never_refuse_and_stay_bounded),
    };
    /* A snapshot every 4 entries: a restart restores one. */
    cluster_group_extra = "--memory_budget_bytes 2097152 "
                          "--ids_budget_bytes 1048576 "
                          "--snapshot_threshold 4 --snapshot_trailing 2";
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
