/* test_filters.c: event filters and start positions of subscriptions.
 * Each subscription gets the messages its filters match (exact names, "*"
 * for one token, ">" for the rest, several filters at once), from the
 * position it asked for (first, a seq, a time), before and after every
 * node restarts. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"
#include "drain.h"

static const char *const events[] = {
    "order.created", "order.paid", "order.item.added", "user.created",
    "user.deleted",  "order",      "refund.created",
};
#define N_EVENTS (sizeof events / sizeof events[0])

static void publish_all(mq_client *cl, int round)
{
    for (size_t i = 0; i < N_EVENTS; i++) {
        char id[64];
        mq_pub m = {0};
        snprintf(id, sizeof id, "%s-%d", events[i], round);
        m.id = id;
        m.event = events[i];
        m.payload = id;
        m.payload_len = strlen(id);
        assert_int_equal(mq_publish(cl, "shop", &m, NULL, 10000), MQ_OK);
    }
}

struct got {
    char events[64][64];
    size_t n;
};

static void record(void *arg, const mq_msg *m)
{
    struct got *g = arg;
    if (g->n < 64) {
        snprintf(g->events[g->n++], sizeof g->events[0], "%s", mq_msg_event(m));
    }
}

static void expect(mq_client *cl, const char *sub, const char *const *want,
                   size_t n_want)
{
    struct got g = {.n = 0};
    struct drain_stats st = {0};
    drain(cl, "shop", sub, 50, 1000, 20000, NULL, record, &g, &st);
    if (g.n != n_want) {
        for (size_t i = 0; i < g.n; i++) {
            printf("%s got %s\n", sub, g.events[i]);
        }
    }
    assert_int_equal(g.n, n_want);
    for (size_t i = 0; i < n_want; i++) {
        assert_string_equal(g.events[i], want[i]);
    }
}

static void mksub(mq_client *cl, const char *name, const char *const *filters,
                  size_t n, mq_start start, uint64_t start_seq,
                  uint64_t start_time)
{
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    sc.queue = "shop";
    sc.name = name;
    sc.filters = filters;
    sc.n_filters = n;
    sc.start = start;
    sc.start_seq = start_seq;
    sc.start_time_ms = start_time;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
}

static void test_filters_and_start_positions(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    static const char *const orders_one[] = {"order.*"};
    static const char *const orders_all[] = {"order.>"};
    static const char *const two[] = {"user.created", "refund.*"};
    static const char *const bad[] = {"order.>.x"};

    CLUSTER_TEST_BEGIN(c);
    qc.name = "shop";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    publish_all(cl, 1); /* seqs 1-7 */
    test_sleep_ms(20);  /* the rounds' publish times differ by more than 1 ms */
    uint64_t between = test_wall_ms();
    test_sleep_ms(20);
    publish_all(cl, 2); /* seqs 8-14 */

    mksub(cl, "one-token", orders_one, 1, MQ_START_FIRST, 0, 0);
    mksub(cl, "all-orders", orders_all, 1, MQ_START_SEQ, 8, 0);
    mksub(cl, "users-refunds", two, 2, MQ_START_TIME, 0, between);
    mksub(cl, "everything", NULL, 0, MQ_START_FIRST, 0, 0);

    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    sc.queue = "shop";
    sc.name = "bad";
    sc.filters = bad;
    sc.n_filters = 1;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_ERR_INVALID);
    assert_non_null(strstr(mq_errmsg(), "last token"));

    /* Filters are kept across a restart of every node. */
    for (int i = 0; i < c->n; i++) {
        cluster_signal(c, i, SIGTERM);
    }
    for (int i = 0; i < c->n; i++) {
        assert_int_equal(cluster_restart(c, i), 0);
    }
    assert_true(cluster_wait_leader(c, 20000) >= 0);
    mq_sub_info si;
    assert_int_equal(mq_sub_info_get(cl, "shop", "users-refunds", &si, 10000),
                     MQ_OK);
    assert_string_equal(si.filters, "user.created,refund.*");

    /* "*" matches one token: not "order" nor "order.item.added". */
    static const char *const w1[] = {"order.created", "order.paid",
                                     "order.created", "order.paid"};
    expect(cl, "one-token", w1, 4);
    /* ">" matches one or more tokens, from seq 8 on. */
    static const char *const w2[] = {"order.created", "order.paid",
                                     "order.item.added"};
    expect(cl, "all-orders", w2, 3);
    /* Two filters, from the time between the rounds. */
    static const char *const w3[] = {"user.created", "refund.created"};
    expect(cl, "users-refunds", w3, 2);

    /* New messages after the restart reach the subscriptions too. */
    publish_all(cl, 3);
    expect(cl, "users-refunds", w3, 2);
    struct got g = {.n = 0};
    struct drain_stats st = {0};
    drain(cl, "shop", "everything", 50, 1000, 20000, NULL, record, &g, &st);
    assert_int_equal(st.messages, 3 * N_EVENTS);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filters_and_start_positions),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
