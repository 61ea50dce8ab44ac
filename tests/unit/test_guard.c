/* test_guard.c: the decisions of the libraft 0.15 guards (guard.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "guard.h"

/* Figure 8: a new leader of term 3 whose barrier is at index 12 must not
 * count an acknowledgement of index 11 (an entry of term 2) toward commit. */
static void test_leader_drops_success_below_its_barrier(void **state)
{
    (void)state;
    assert_true(guard_drop_append_result(1, 12, 9, 0, 11));
    assert_true(guard_drop_append_result(1, 12, 9, 0, 10));
    assert_false(guard_drop_append_result(1, 12, 9, 0, 12));
    assert_false(guard_drop_append_result(1, 12, 9, 0, 40));
}

/* A follower that installed the leader's snapshot of index 256 answers
 * with 256, below the barrier at 354 but not above the commit index 354:
 * it must count, or the leader sends the snapshot again for ever. */
static void test_leader_takes_a_snapshot_acknowledgement(void **state)
{
    (void)state;
    assert_false(guard_drop_append_result(1, 354, 354, 0, 256));
    assert_false(guard_drop_append_result(1, 354, 300, 0, 256));
    assert_false(guard_drop_append_result(1, 0, 300, 0, 256));
    assert_true(guard_drop_append_result(1, 354, 255, 0, 256));
}

static void test_leader_drops_every_success_before_its_barrier(void **state)
{
    (void)state;
    assert_true(guard_drop_append_result(1, 0, 11, 0, 12));
    assert_true(guard_drop_append_result(1, 0, 11, 0, 1000));
}

static void test_rejections_and_followers_pass(void **state)
{
    (void)state;
    /* A rejection makes the leader send older entries: it must get it. */
    assert_false(guard_drop_append_result(1, 12, 0, 5, 4));
    /* Not leader: raft ignores results anyway. */
    assert_false(guard_drop_append_result(0, 0, 0, 0, 3));
}

/* A follower holding a stale entry 12 of an old term answers a heartbeat
 * (prev 11, no entries) with its last stored index 12: capped to 11. */
static void test_follower_claims_only_what_the_request_proved(void **state)
{
    (void)state;
    assert_int_equal(guard_cap_append_result(11, 0, 0, 12), 11);
    assert_int_equal(guard_cap_append_result(11, 3, 0, 20), 14);
    assert_int_equal(guard_cap_append_result(11, 3, 0, 14), 14);
    assert_int_equal(guard_cap_append_result(11, 3, 0, 13), 13);
    /* Rejections carry their own indexes. */
    assert_int_equal(guard_cap_append_result(11, 0, 11, 9), 9);
}

/* A follower that matched 505 comes back with an empty log (last index 1)
 * and rejects prev 505: its progress must be reset. */
static void test_follower_that_lost_its_log_is_noticed(void **state)
{
    (void)state;
    assert_true(guard_follower_lost_log(1, 505, 1, 505));
    assert_true(guard_follower_lost_log(1, 505, 0, 505));
    /* A stale rejection from a follower that still has its log. */
    assert_false(guard_follower_lost_log(1, 400, 505, 505));
    /* Successes, and followers of another leader, are left alone. */
    assert_false(guard_follower_lost_log(1, 0, 1, 505));
    assert_false(guard_follower_lost_log(0, 505, 1, 505));
}

static void test_only_padded_entries_enter_the_log(void **state)
{
    (void)state;
    assert_true(guard_entry_size_ok(8));
    assert_true(guard_entry_size_ok(4096));
    assert_false(guard_entry_size_ok(0));
    assert_false(guard_entry_size_ok(7));
    assert_false(guard_entry_size_ok(4097));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leader_drops_success_below_its_barrier),
        cmocka_unit_test(test_leader_takes_a_snapshot_acknowledgement),
        cmocka_unit_test(test_leader_drops_every_success_before_its_barrier),
        cmocka_unit_test(test_rejections_and_followers_pass),
        cmocka_unit_test(test_follower_claims_only_what_the_request_proved),
        cmocka_unit_test(test_follower_that_lost_its_log_is_noticed),
        cmocka_unit_test(test_only_padded_entries_enter_the_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
