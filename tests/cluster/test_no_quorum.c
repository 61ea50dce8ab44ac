/* test_no_quorum.c: loss of quorum is visible. With two of three nodes
 * down, `mqctl status` exits non-zero and says "no quorum: 1 of 3 nodes
 * reachable", and so does a publish that no node carried out (NOT_DONE);
 * once the nodes are back, status exits 0 again. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

static void test_lost_quorum_is_said(void **state)
{
    struct cluster *c = *state;
    char out[8192];
    uint64_t deadline;
    int rc = 0, leader;

    CLUSTER_TEST_BEGIN(c);
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "status"), 0);
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "queue create orders"),
                     0);
    leader = cluster_leader(c);
    assert_true(leader >= 0);
    /* The leader and one more die: one node of three is left. */
    cluster_signal(c, leader, SIGKILL);
    cluster_signal(c, (leader + 1) % c->n, SIGKILL);

    /* Status says so and fails, as soon as the survivor no longer names
     * a leader that answers. */
    deadline = test_now_ms() + 15000;
    while (test_now_ms() < deadline &&
           (rc = cluster_mqctl(c, out, sizeof out, "status")) == 0) {
        test_sleep_ms(100);
    }
    assert_int_equal(rc, 1);
    if (strstr(out, "no quorum: 1 of 3 nodes reachable") == NULL) {
        fail_msg("status: %s", out);
    }
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "--json status"), 1);
    assert_non_null(strstr(out, "\"leader\":null"));

    /* A publish is not done, and says why. */
    assert_int_equal(cluster_mqctl(c, out, sizeof out,
                                   "--timeout 3s publish orders order.created "
                                   "x --id q-1"),
                     1);
    if (strstr(out, "no quorum: 1 of 3 nodes reachable") == NULL ||
        strstr(out, "not done") == NULL) {
        fail_msg("publish: %s", out);
    }

    /* Back: a leader again, status exits 0. */
    assert_int_equal(cluster_restart(c, leader), 0);
    assert_int_equal(cluster_restart(c, (leader + 1) % c->n), 0);
    assert_true(cluster_wait_leader(c, 20000) >= 0);
    deadline = test_now_ms() + 15000;
    while (test_now_ms() < deadline &&
           (rc = cluster_mqctl(c, out, sizeof out, "status")) != 0) {
        test_sleep_ms(100);
    }
    assert_int_equal(rc, 0);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lost_quorum_is_said),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
