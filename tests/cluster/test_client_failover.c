/* test_client_failover.c: clients ride through leader changes by
 * themselves.
 *
 * A callback subscriber (mq_subscribe) keeps consuming while the leader is
 * killed and while leadership is transferred (it moves to another node):
 * every acknowledged publish reaches its callback, first deliveries come in
 * seq order (only redeliveries, attempt 2 and up, may come later), each id
 * under one seq, nothing is skipped, and the caller never restarts
 * anything. mqctl given one node's URL, a
 * follower's, publishes, creates and consumes through the leader; given a
 * list whose first node is dead, it still answers. */
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

#define N_MSGS 3000

struct got {
    pthread_mutex_t lock;
    unsigned char seen[N_MSGS];
    uint64_t seq_of[N_MSGS]; /* seq of its first delivery */
    size_t distinct, deliveries;
    uint64_t last_seq;   /* highest seq delivered */
    size_t backwards;    /* deliveries below last_seq: redeliveries */
    uint64_t last_first; /* seq of the latest first delivery (attempt 1) */
    size_t out_of_order; /* first deliveries at or below last_first */
    size_t seq_changed;  /* an id delivered under a second seq */
    size_t unknown;      /* ids that are none of ours */
};

static mq_action on_msg(void *arg, mq_msg *m)
{
    struct got *g = arg;
    int i = atoi(mq_msg_id(m) + 2); /* "m-<i>" */
    uint64_t seq = mq_msg_seq(m);
    pthread_mutex_lock(&g->lock);
    g->deliveries++;
    if (i < 0 || i >= N_MSGS) {
        g->unknown++;
    } else if (!g->seen[i]) {
        g->seen[i] = 1;
        g->seq_of[i] = seq;
        g->distinct++;
    } else if (g->seq_of[i] != seq) {
        g->seq_changed++;
    }
    /* Attempt 1 is a message's first delivery: those follow the
     * subscription's cursor, in seq order, across leader changes too. A
     * message whose first delivery was lost with a leader comes as attempt
     * 2 after its ack deadline: a redelivery, which may come later. */
    if (mq_msg_attempt(m) == 1) {
        if (seq <= g->last_first) {
            if (g->out_of_order++ < 10) {
                printf("first delivery of seq %llu after seq %llu\n",
                       (unsigned long long)seq,
                       (unsigned long long)g->last_first);
            }
        } else {
            g->last_first = seq;
        }
    }
    if (seq < g->last_seq) {
        g->backwards++;
    } else {
        g->last_seq = seq;
    }
    pthread_mutex_unlock(&g->lock);
    test_sleep_ms(2); /* a consumer slower than the publisher: messages
                         are in flight when the leader dies */
    return MQ_ACTION_ACK;
}

static size_t distinct(struct got *g)
{
    pthread_mutex_lock(&g->lock);
    size_t n = g->distinct;
    pthread_mutex_unlock(&g->lock);
    return n;
}

/* Publishes m-<from>..m-<to-1> synchronously; each must be acknowledged
 * (libmq retries across the leader change with the same id). */
static void publish_range(mq_client *cl, int from, int to)
{
    char id[32];
    for (int i = from; i < to; i++) {
        mq_pub m = {0};
        mq_pub_result res;
        snprintf(id, sizeof id, "m-%d", i);
        m.id = id;
        m.payload = id;
        m.payload_len = strlen(id);
        assert_int_equal(mq_publish(cl, "rides", &m, &res, 30000), MQ_OK);
    }
}

static void wait_distinct(struct got *g, size_t n)
{
    uint64_t end = test_now_ms() + 60000;
    while (distinct(g) < n && test_now_ms() < end) {
        test_sleep_ms(20);
    }
    assert_int_equal(distinct(g), n);
}

static void test_callback_subscriber_rides_through_leader_changes(void **state)
{
    struct cluster *c = *state;
    static struct got g;
    mq_subscriber *sub = NULL;
    mq_subscribe_opts so = MQ_SUBSCRIBE_OPTS_INIT;
    CLUSTER_TEST_BEGIN(c);
    mq_client *cl = cluster_client(c);
    mq_client *consumer = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;

    memset(&g, 0, sizeof g);
    pthread_mutex_init(&g.lock, NULL);
    qc.name = "rides";
    qc.ack_timeout_ms = 3000;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "rides";
    sc.name = "cb";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    so.batch = 50;
    so.max_wait_ms = 500;
    assert_int_equal(
        mq_subscribe(consumer, "rides", "cb", &so, on_msg, &g, &sub), MQ_OK);

    publish_range(cl, 0, 1000);
    /* The leader dies while the subscriber is consuming. */
    int leader = cluster_leader(c);
    assert_true(leader >= 0);
    size_t before = distinct(&g);
    cluster_signal(c, leader, SIGKILL);
    printf("leader killed with %zu of 1000 consumed\n", before);
    assert_true(before < 1000);
    publish_range(cl, 1000, 2000);
    wait_distinct(&g, 2000);
    assert_int_equal(cluster_restart(c, leader), 0);
    assert_int_equal(cluster_settle(c, 30000), 0);

    /* Leadership moves on purpose: mqctl names the new leader, another
     * node, and the nodes agree. */
    char out[4096];
    unsigned long long new_id = 0;
    int before_transfer = cluster_wait_leader(c, 10000);
    assert_true(before_transfer >= 0);
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "leader transfer"), 0);
    printf("leader transfer from node %d: %s", c->nodes[before_transfer].id,
           out);
    assert_int_equal(sscanf(out, "leader: node %llu", &new_id), 1);
    assert_true(new_id != (unsigned long long)c->nodes[before_transfer].id);
    int after_transfer = cluster_wait_leader(c, 10000);
    assert_true(after_transfer >= 0);
    assert_int_equal(c->nodes[after_transfer].id, new_id);
    publish_range(cl, 2000, N_MSGS);
    wait_distinct(&g, N_MSGS);

    mq_subscriber_stop(sub);
    printf("subscriber: %zu distinct of %d, %zu deliveries, %zu redelivered "
           "out of order, %zu first deliveries out of order\n",
           g.distinct, N_MSGS, g.deliveries, g.backwards, g.out_of_order);
    /* Every message came; a redelivery (an ack lost with the old leader)
     * is allowed, a message skipped is not. */
    for (int i = 0; i < N_MSGS; i++) {
        assert_true(g.seen[i]);
    }
    /* In seq order, each under one seq: published one after the other,
     * m-<i> is the message after m-<i - 1>. */
    assert_int_equal(g.out_of_order, 0);
    assert_int_equal(g.seq_changed, 0);
    assert_int_equal(g.unknown, 0);
    for (int i = 1; i < N_MSGS; i++) {
        assert_int_equal(g.seq_of[i], g.seq_of[i - 1] + 1);
    }
    /* Nothing is left unacked behind the subscriber. */
    mq_sub_info si;
    assert_int_equal(mq_sub_info_get(cl, "rides", "cb", &si, 10000), MQ_OK);
    assert_int_equal(si.pending, 0);
    assert_int_equal(si.in_flight, 0);
    pthread_mutex_destroy(&g.lock);
    mq_client_close(consumer);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

/* mqctl with -s @urls instead of every node's. */
static int mqctl_on(struct cluster *c, const char *urls, char *out,
                    size_t outlen, char *const args[])
{
    char saved[sizeof c->urls];
    snprintf(saved, sizeof saved, "%s", c->urls);
    snprintf(c->urls, sizeof c->urls, "%s", urls);
    int rc = cluster_mqctlv(c, out, outlen, args);
    snprintf(c->urls, sizeof c->urls, "%s", saved);
    return rc;
}

static void test_mqctl_follows_the_leader_from_any_node(void **state)
{
    struct cluster *c = *state;
    char out[8192];
    CLUSTER_TEST_BEGIN(c);
    int leader = cluster_wait_leader(c, 10000);
    assert_true(leader >= 0);
    int f = (leader + 1) % 3;
    const char *furl = c->nodes[f].client_url;

    char *create[] = {"queue", "create", "viaf", NULL};
    assert_int_equal(mqctl_on(c, furl, out, sizeof out, create), 0);
    char *sub[] = {"sub", "create", "viaf", "s", "--start", "first", NULL};
    assert_int_equal(mqctl_on(c, furl, out, sizeof out, sub), 0);
    char *pub[] = {"publish",      "viaf", "order.created", "hello", "--id",
                   "via-follower", NULL};
    assert_int_equal(mqctl_on(c, furl, out, sizeof out, pub), 0);
    assert_non_null(strstr(out, "via-follower"));
    char *consume[] = {"consume", "viaf",   "s",  "--count",
                       "1",       "--wait", "5s", NULL};
    assert_int_equal(mqctl_on(c, furl, out, sizeof out, consume), 0);
    assert_non_null(strstr(out, "hello"));

    /* The first URL of the list is a node that is down. */
    cluster_signal(c, f, SIGTERM);
    char urls[3 * MQ_URL_MAX + 3];
    snprintf(urls, sizeof urls, "%s,%s,%s", c->nodes[f].client_url,
             c->nodes[(f + 1) % 3].client_url,
             c->nodes[(f + 2) % 3].client_url);
    char *pub2[] = {"publish", "viaf", "order.created", "again", NULL};
    assert_int_equal(mqctl_on(c, urls, out, sizeof out, pub2), 0);
    char *info[] = {"queue", "info", "viaf", NULL};
    assert_int_equal(mqctl_on(c, urls, out, sizeof out, info), 0);
    assert_int_equal(cluster_restart(c, f), 0);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_callback_subscriber_rides_through_leader_changes),
        cmocka_unit_test(test_mqctl_follows_the_leader_from_any_node),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
