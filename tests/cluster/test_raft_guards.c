/* test_raft_guards.c: the libraft 0.15 guards against real nodes.
 *
 * Figure 8 on the leader's own entry (guard 2): a node holds entries of an
 * earlier term that no other node has, and is elected leader again. Its
 * barrier's write is held on its disk for 1.5 s (a test hook), while its
 * followers store the old entries and the barrier at once and acknowledge
 * them. 0.15 counts the leader itself at its last stored index, an entry of
 * the earlier term then, and would commit that entry with one follower's
 * acknowledgement, before any entry of the leader's term is on a majority's
 * disk. The node checks on every move of its commit index that it lands on
 * an entry of its own term, and stops (status 70) if not; with the guard it
 * must keep running, and the old entries commit with the barrier.
 *
 * Loss of quorum is said: a node left alone logs its elections and, while
 * no leader is known, how many nodes it reaches ("no quorum: 1 of 3"). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

#define N_OLD 5

static void ignore_result(void *arg, const mq_pub_result *res)
{
    (void)arg;
    (void)res;
}

static void test_leader_never_commits_an_old_term_entry_alone(void **state)
{
    struct cluster *c = *state;
    char id[32];
    CLUSTER_TEST_BEGIN(c);
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    qc.name = "fig8";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    assert_int_equal(cluster_settle(c, 20000), 0);
    mq_client_close(cl);

    int l = cluster_leader(c);
    assert_true(l >= 0);
    int f = (l + 1) % 3, g = (l + 2) % 3;

    /* The followers stop; the leader appends entries only it will have. */
    cluster_signal(c, f, SIGSTOP);
    cluster_signal(c, g, SIGSTOP);
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    o.urls = c->nodes[l].client_url;
    /* All N_OLD in one batch (sent by the flush below): a queue has one
     * batch in flight, and this one never commits, so without a linger
     * only the first publish would reach the leader when the sender
     * thread is quick (under AddressSanitizer it was: 1 of 5). */
    o.linger_ms = 5000;
    assert_int_equal(mq_client_open(&cl, &o), MQ_OK);
    for (int i = 0; i < N_OLD; i++) {
        mq_pub m = {0};
        snprintf(id, sizeof id, "old-%d", i);
        m.id = id;
        m.payload = id;
        m.payload_len = strlen(id);
        assert_int_equal(mq_publish_async(cl, "fig8", &m, ignore_result, NULL),
                         MQ_OK);
    }
    mq_flush(cl, 1000); /* not committed: no follower answers */
    mq_client_close(cl);

    /* Everyone stops; the followers come back slow to stand for election,
     * the old leader quick, and with its first writes as leader held. */
    cluster_signal(c, l, SIGKILL);
    cluster_signal(c, f, SIGKILL);
    cluster_signal(c, g, SIGKILL);
    snprintf(c->extra, sizeof c->extra,
             "--election_timeout_ms 8000 --heartbeat_timeout_ms 100");
    assert_int_equal(cluster_restart(c, f), 0);
    assert_int_equal(cluster_restart(c, g), 0);
    snprintf(c->extra, sizeof c->extra,
             "--election_timeout_ms 400 --heartbeat_timeout_ms 100");
    setenv("MQ_TEST_DELAY_LEADER_APPEND_MS", "1500", 1);
    assert_int_equal(cluster_restart(c, l), 0);
    unsetenv("MQ_TEST_DELAY_LEADER_APPEND_MS");
    c->extra[0] = '\0';

    assert_int_equal(cluster_wait_leader(c, 20000), l);
    assert_true(cluster_log_has(c, l, "test hook"));
    /* Past the held write and some heartbeats: still running. */
    test_sleep_ms(3000);
    int st = cluster_wait_exit(c, l, 0);
    if (st >= 0) {
        printf("the leader stopped with status %d\n", st);
    }
    assert_int_equal(st, -1);
    assert_false(cluster_log_has(c, l, "invariant broken"));

    /* The old entries committed with the barrier, once a majority held
     * it: every node has them. */
    assert_int_equal(cluster_settle(c, 20000), 0);
    cl = cluster_client(c);
    mq_queue_info qi;
    assert_int_equal(mq_queue_info_get(cl, "fig8", &qi, 10000), MQ_OK);
    assert_int_equal(qi.messages, N_OLD);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

/* Waits up to @ms for node @i's log to have @needle. */
static int wait_log(struct cluster *c, int i, const char *needle, int ms)
{
    uint64_t end = test_now_ms() + (uint64_t)ms;
    while (test_now_ms() < end) {
        if (cluster_log_has(c, i, needle)) {
            return 1;
        }
        test_sleep_ms(100);
    }
    return 0;
}

static void test_node_alone_says_it_has_no_quorum(void **state)
{
    struct cluster *c = *state;
    CLUSTER_TEST_BEGIN(c);
    int l = cluster_wait_leader(c, 20000);
    assert_true(l >= 0);
    int f = (l + 1) % 3, g = (l + 2) % 3;
    assert_true(wait_log(c, l, "became leader of term", 1000));
    cluster_signal(c, f, SIGSTOP);
    cluster_signal(c, g, SIGSTOP);
    /* The leader steps down (it hears no majority), then runs elections
     * it cannot win, and says why. */
    assert_true(wait_log(c, l, "lost leadership of term", 15000));
    assert_true(wait_log(c, l, "no quorum: 1 of 3 nodes reachable", 20000));
    cluster_signal(c, f, SIGCONT);
    cluster_signal(c, g, SIGCONT);
    assert_true(cluster_wait_leader(c, 20000) >= 0);
    assert_true(wait_log(c, l, "a leader is known again", 10000));
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_leader_never_commits_an_old_term_entry_alone,
            cluster_group_setup, cluster_group_teardown),
        cmocka_unit_test_setup_teardown(test_node_alone_says_it_has_no_quorum,
                                        cluster_group_setup,
                                        cluster_group_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
