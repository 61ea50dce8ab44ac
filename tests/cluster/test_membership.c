/* test_membership.c: growing, shrinking and repairing a cluster.
 *
 * (a) Two nodes started with --join become voters once caught up; the five
 *     nodes keep serving with two of them killed (the leader among them).
 * (b) Replacing a dead node: remove it with mqctl, start a fresh node with
 *     --join, add it with mqctl; nothing acknowledged before is lost.
 * (c) A removed node (the leader itself, then a follower) stops, exiting
 *     cleanly and saying why; the others go on.
 * (d) Leadership moves with mqctl leader transfer while clients publish:
 *     no publish fails and each is stored once. */
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
#include "drain.h"

/* The role of node @id in the leader's configuration ("" when it is not a
 * member, NULL when no leader answered). */
static const char *member_role(mq_client *cl, uint64_t id, char *buf,
                               size_t len)
{
    mq_member *m = NULL;
    size_t n = 0;
    if (mq_members(cl, &m, &n, 3000) != MQ_OK) {
        return NULL;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (m[i].id == id) {
            snprintf(buf, len, "%s", m[i].role);
        }
    }
    mq_members_free(m);
    return buf;
}

/* Waits up to @timeout_ms until node @id has @role ("" : not a member). */
static int wait_role(mq_client *cl, uint64_t id, const char *role,
                     int timeout_ms)
{
    uint64_t end = test_now_ms() + (uint64_t)timeout_ms;
    char buf[16];
    do {
        const char *r = member_role(cl, id, buf, sizeof buf);
        if (r != NULL && strcmp(r, role) == 0) {
            return 0;
        }
        test_sleep_ms(100);
    } while (test_now_ms() < end);
    return -1;
}

static void create_queue(mq_client *cl, const char *queue)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    qc.name = queue;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = queue;
    sc.name = "all";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
}

static void count_failed(void *arg, const mq_pub_result *res)
{
    if (res->err != MQ_OK) {
        __atomic_add_fetch((int *)arg, 1, __ATOMIC_RELAXED);
    }
}

/* Publishes ids PREFIX-FROM..PREFIX-(TO-1) and waits until every one is
 * acknowledged. */
static void publish_range(mq_client *cl, const char *queue, const char *prefix,
                          int from, int to)
{
    char id[32];
    int failed = 0;
    for (int i = from; i < to; i++) {
        mq_pub m = {0};
        snprintf(id, sizeof id, "%s-%d", prefix, i);
        m.id = id;
        m.payload = id;
        m.payload_len = strlen(id);
        assert_int_equal(mq_publish_async(cl, queue, &m, count_failed, &failed),
                         MQ_OK);
    }
    assert_int_equal(mq_flush(cl, 30000), MQ_OK);
    assert_int_equal(__atomic_load_n(&failed, __ATOMIC_RELAXED), 0);
}

struct count {
    size_t n;
    size_t bad;
};

static void count_cb(void *arg, const mq_msg *m)
{
    struct count *c = arg;
    size_t len;
    const char *p = mq_msg_payload(m, &len);
    c->n++;
    if (len != strlen(mq_msg_id(m)) || memcmp(p, mq_msg_id(m), len) != 0) {
        c->bad++;
    }
}

/* Consumes the "all" subscription dry; returns how many it got. */
static size_t consume_all(mq_client *cl, const char *queue)
{
    struct count cnt = {0, 0};
    struct drain_stats st = {0};
    drain(cl, queue, "all", 500, 2000, 60000, NULL, count_cb, &cnt, &st);
    assert_int_equal(cnt.bad, 0);
    return cnt.n;
}

/* A client on node @i's URL only. */
static mq_client *node_client(struct cluster *c, int i)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    o.urls = c->nodes[i].client_url;
    assert_int_equal(mq_client_open(&cl, &o), MQ_OK);
    return cl;
}

/* Node @i has applied the queue's @n messages: a read from it alone says
 * so. */
static void assert_node_has(struct cluster *c, int i, const char *queue,
                            uint64_t n)
{
    mq_client *one = node_client(c, i);
    mq_read_info info;
    mq_msg **msgs = NULL;
    size_t got = 0;
    uint64_t end = test_now_ms() + 20000;
    do {
        memset(&info, 0, sizeof info);
        if (mq_read(one, queue, NULL, &msgs, &got, &info, 3000) == MQ_OK) {
            mq_msgs_free(msgs, got);
            if (info.last_seq >= n) {
                break;
            }
        }
        test_sleep_ms(100);
    } while (test_now_ms() < end);
    assert_int_equal(info.node_id, (uint64_t)c->nodes[i].id);
    assert_int_equal(info.last_seq, n);
    mq_client_close(one);
}

static void test_join_five_nodes(void **state)
{
    struct cluster *c = *state;
    CLUSTER_TEST_BEGIN(c);
    mq_client *cl = cluster_client(c);
    create_queue(cl, "grow");
    publish_range(cl, "grow", "a", 0, 3000);

    /* Two nodes join; each catches up as a standby, then votes. */
    for (int id = 4; id <= 5; id++) {
        int i = cluster_add_node(c, id);
        assert_true(i >= 0);
        assert_int_equal(wait_role(cl, (uint64_t)id, "voter", 30000), 0);
        assert_node_has(c, i, "grow", 3000);
        assert_true(cluster_log_has(c, i, "joined the cluster"));
        assert_true(cluster_log_has(c, i, "as a voter"));
    }
    char out[4096];
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "node list"), 0);
    for (int i = 0; i < 5; i++) {
        assert_non_null(strstr(out, c->nodes[i].peer_url));
    }
    publish_range(cl, "grow", "b", 0, 1000);

    /* Five voters: the cluster survives losing two, the leader among
     * them. */
    int leader = cluster_leader(c);
    assert_true(leader >= 0);
    int other = leader == 4 ? 3 : 4;
    cluster_signal(c, leader, SIGKILL);
    cluster_signal(c, other, SIGKILL);
    int next = cluster_wait_leader(c, 10000);
    assert_true(next >= 0 && next != leader && next != other);
    publish_range(cl, "grow", "c", 0, 1000);
    assert_int_equal(consume_all(cl, "grow"), 5000);

    /* Both come back and catch up. */
    assert_int_equal(cluster_restart(c, leader), 0);
    assert_int_equal(cluster_restart(c, other), 0);
    assert_node_has(c, leader, "grow", 5000);
    assert_node_has(c, other, "grow", 5000);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

static void test_replace_dead_node(void **state)
{
    struct cluster *c = *state;
    char out[4096];
    CLUSTER_TEST_BEGIN(c);
    mq_client *cl = cluster_client(c);
    create_queue(cl, "repl");
    publish_range(cl, "repl", "a", 0, 2000);

    /* A follower dies for good. */
    int leader = cluster_leader(c);
    int dead = leader == 2 ? 1 : 2;
    cluster_signal(c, dead, SIGKILL);
    cluster_wipe(c, dead);

    /* 1. remove it */
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "node remove %d", c->nodes[dead].id),
        0);
    assert_int_equal(wait_role(cl, (uint64_t)c->nodes[dead].id, "", 5000), 0);
    /* Removing it again says it is not a member, and changes nothing. */
    assert_int_not_equal(
        cluster_mqctl(c, out, sizeof out, "node remove %d", c->nodes[dead].id),
        0);
    assert_non_null(strstr(out, "not a member"));
    /* Two of two voters: publishing goes on. */
    publish_range(cl, "repl", "b", 0, 1000);

    /* 2. start a fresh node that joins, 3. add it (waits until it votes) */
    int fresh = cluster_add_node(c, 4);
    assert_true(fresh >= 0);
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "node add 4 %s",
                                   c->nodes[fresh].peer_url),
                     0);
    char buf[16];
    assert_string_equal(member_role(cl, 4, buf, sizeof buf), "voter");
    assert_node_has(c, fresh, "repl", 3000);

    /* Adding a node id at another address is refused, naming both. */
    assert_int_not_equal(
        cluster_mqctl(c, out, sizeof out, "node add 4 tcp://127.0.0.1:1"), 0);
    assert_non_null(strstr(out, c->nodes[fresh].peer_url));

    /* The new set survives the loss of the old leader. */
    leader = cluster_leader(c);
    cluster_signal(c, leader, SIGKILL);
    assert_true(cluster_wait_leader(c, 10000) >= 0);
    publish_range(cl, "repl", "c", 0, 500);
    assert_int_equal(consume_all(cl, "repl"), 3500);
    assert_int_equal(cluster_restart(c, leader), 0);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

static void test_removed_node_stops(void **state)
{
    struct cluster *c = *state;
    char out[4096];
    CLUSTER_TEST_BEGIN(c);
    int id = cluster_add_node(c, 4);
    assert_true(id >= 0);
    mq_client *cl = cluster_client(c);
    assert_int_equal(wait_role(cl, 4, "voter", 30000), 0);
    create_queue(cl, "rm");
    publish_range(cl, "rm", "a", 0, 1000);

    /* The leader removes itself: it steps down and stops; the others elect
     * a new leader. */
    int leader = cluster_leader(c);
    assert_true(leader >= 0);
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "node remove %d",
                                   c->nodes[leader].id),
                     0);
    assert_int_equal(cluster_wait_exit(c, leader, 10000), 0);
    assert_true(cluster_log_has(c, leader, "removed from the cluster"));
    int next = cluster_wait_leader(c, 10000);
    assert_true(next >= 0 && next != leader);

    /* A follower removed while running stops too. */
    int follower = 0;
    while (follower == leader || follower == next) {
        follower++;
    }
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "node remove %d",
                                   c->nodes[follower].id),
                     0);
    assert_int_equal(cluster_wait_exit(c, follower, 10000), 0);
    assert_true(cluster_log_has(c, follower, "removed from the cluster"));

    /* Restarted, a removed node still does not serve: it says so and
     * stops. */
    assert_int_equal(cluster_restart(c, follower), 0);
    assert_int_equal(cluster_wait_exit(c, follower, 10000), 0);

    /* Two voters remain, and everything acknowledged is there. */
    publish_range(cl, "rm", "b", 0, 500);
    assert_int_equal(consume_all(cl, "rm"), 1500);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

#define XFER_MSGS 200000

struct xfer_pub {
    struct cluster *c;
    volatile int stop;
    int worker;
    size_t ok, failed, duplicates, sent;
};

/* Publishes synchronously, one id after another, until told to stop. */
static void *xfer_publisher(void *arg)
{
    struct xfer_pub *p = arg;
    mq_client *cl = cluster_client(p->c);
    char id[32];
    for (int k = 0; !p->stop && k < XFER_MSGS / 2; k++) {
        mq_pub m = {0};
        mq_pub_result res;
        snprintf(id, sizeof id, "x%d-%d", p->worker, k);
        m.id = id;
        m.payload = id;
        m.payload_len = strlen(id);
        p->sent++;
        mq_err rv = mq_publish(cl, "xfer", &m, &res, 20000);
        if (rv == MQ_OK) {
            p->ok++;
            p->duplicates += res.duplicate != 0;
        } else {
            printf("publish %s failed: %s: %s\n", id, mq_strerror(rv),
                   mq_errmsg());
            p->failed++;
        }
    }
    mq_client_close(cl);
    return NULL;
}

static void test_leader_transfer_no_failed_publish(void **state)
{
    struct cluster *c = *state;
    char out[4096];
    struct xfer_pub pubs[2];
    pthread_t th[2];
    CLUSTER_TEST_BEGIN(c);
    mq_client *cl = cluster_client(c);
    create_queue(cl, "xfer");
    for (int w = 0; w < 2; w++) {
        memset(&pubs[w], 0, sizeof pubs[w]);
        pubs[w].c = c;
        pubs[w].worker = w;
        pthread_create(&th[w], NULL, xfer_publisher, &pubs[w]);
    }
    test_sleep_ms(500);
    /* To a named node, then to whichever is most up to date, then back. */
    for (int round = 0; round < 3; round++) {
        int leader = cluster_wait_leader(c, 5000);
        assert_true(leader >= 0);
        int to = (leader + 1) % 3;
        if (round == 1) {
            assert_int_equal(
                cluster_mqctl(c, out, sizeof out, "leader transfer"), 0);
        } else {
            assert_int_equal(cluster_mqctl(c, out, sizeof out,
                                           "leader transfer %d",
                                           c->nodes[to].id),
                             0);
            assert_int_equal(cluster_leader(c), to);
        }
        int now = cluster_wait_leader(c, 5000);
        assert_true(now >= 0 && now != leader);
        test_sleep_ms(700);
    }
    for (int w = 0; w < 2; w++) {
        pubs[w].stop = 1;
        pthread_join(th[w], NULL);
    }
    size_t ok = pubs[0].ok + pubs[1].ok;
    printf("publishes: %zu acknowledged, %zu failed, %zu retried into a "
           "duplicate\n",
           ok, pubs[0].failed + pubs[1].failed,
           pubs[0].duplicates + pubs[1].duplicates);
    assert_int_equal(pubs[0].failed + pubs[1].failed, 0);
    assert_true(ok > 100);
    /* Each id stored once. */
    mq_queue_info qi;
    assert_int_equal(mq_queue_info_get(cl, "xfer", &qi, 10000), MQ_OK);
    assert_int_equal(qi.messages, ok);
    assert_int_equal(consume_all(cl, "xfer"), ok);

    /* Transfer to a node that is not a member is refused. */
    assert_int_not_equal(cluster_mqctl(c, out, sizeof out, "leader transfer 9"),
                         0);
    assert_non_null(strstr(out, "not a voter"));
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* Each test changes the membership: a cluster of its own. */
        cmocka_unit_test_setup_teardown(
            test_join_five_nodes, cluster_group_setup, cluster_group_teardown),
        cmocka_unit_test_setup_teardown(test_replace_dead_node,
                                        cluster_group_setup,
                                        cluster_group_teardown),
        cmocka_unit_test_setup_teardown(test_removed_node_stops,
                                        cluster_group_setup,
                                        cluster_group_teardown),
        cmocka_unit_test_setup_teardown(test_leader_transfer_no_failed_publish,
                                        cluster_group_setup,
                                        cluster_group_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
