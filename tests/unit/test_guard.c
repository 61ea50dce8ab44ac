/* test_guard.c: the decisions of the libraft 0.15 guards (guard.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "guard.h"

/* A leader of term 3 whose barrier is at @first and whose own disk holds
 * everything up to @stored. */
static struct guard_view leader(uint64_t first, uint64_t commit,
                                uint64_t stored)
{
    return (struct guard_view){.is_leader = 1,
                               .term = 3,
                               .term_first_index = first,
                               .last_stored = stored,
                               .commit_index = commit};
}

static int drop(uint64_t first, uint64_t commit, uint64_t rejected,
                uint64_t last)
{
    struct guard_view v = leader(first, commit, 1000);
    return guard_drop_append_result(&v, rejected, last);
}

/* Figure 8: a new leader of term 3 whose barrier is at index 12 must not
 * count an acknowledgement of index 11 (an entry of term 2) toward commit. */
static void test_leader_drops_success_below_its_barrier(void **state)
{
    (void)state;
    assert_true(drop(12, 9, 0, 11));
    assert_true(drop(12, 9, 0, 10));
    assert_false(drop(12, 9, 0, 12));
    assert_false(drop(12, 9, 0, 40));
}

/* A follower that installed the leader's snapshot of index 256 answers
 * with 256, below the barrier at 354 but not above the commit index 354:
 * it must count, or the leader sends the snapshot again for ever. */
static void test_leader_takes_a_snapshot_acknowledgement(void **state)
{
    (void)state;
    assert_false(drop(354, 354, 0, 256));
    assert_false(drop(354, 300, 0, 256));
    assert_false(drop(0, 300, 0, 256));
    assert_true(drop(354, 255, 0, 256));
}

static void test_leader_drops_every_success_before_its_barrier(void **state)
{
    (void)state;
    assert_true(drop(0, 11, 0, 12));
    assert_true(drop(0, 11, 0, 1000));
}

static void test_rejections_and_followers_pass(void **state)
{
    (void)state;
    /* A rejection makes the leader send older entries: it must get it. */
    assert_false(drop(12, 0, 5, 4));
    /* Not leader: raft ignores results anyway. */
    struct guard_view f = {.is_leader = 0, .term = 3};
    assert_false(guard_drop_append_result(&f, 0, 3));
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
    struct guard_view v = leader(12, 500, 600);
    struct guard_view f = {.is_leader = 0, .term = 3};
    assert_true(guard_follower_lost_log(&v, 3, 505, 1, 505));
    assert_true(guard_follower_lost_log(&v, 3, 505, 0, 505));
    /* A stale rejection from a follower that still has its log. */
    assert_false(guard_follower_lost_log(&v, 3, 400, 505, 505));
    /* Successes, and followers of another leader, are left alone. */
    assert_false(guard_follower_lost_log(&v, 3, 0, 1, 505));
    assert_false(guard_follower_lost_log(&f, 3, 505, 1, 505));
}

/* Defect 2b: a new leader of term 3 whose log ends in an entry of term 2
 * at 11 appends its barrier at 12. A follower acknowledges 12 before the
 * barrier is on the leader's own disk (last stored 11): 0.15 would count
 * the leader at 11 and commit the term-2 entry with that one follower. No
 * success above the commit index may count until the barrier is stored. */
static void test_leader_drops_success_until_its_barrier_is_stored(void **state)
{
    (void)state;
    struct guard_view v = leader(12, 9, 11);
    assert_true(guard_drop_append_result(&v, 0, 12));
    assert_true(guard_drop_append_result(&v, 0, 13));
    /* At or below the commit index it cannot move it: a snapshot's ack. */
    assert_false(guard_drop_append_result(&v, 0, 9));
    /* Rejections always pass. */
    assert_false(guard_drop_append_result(&v, 11, 10));
    v.last_stored = 12; /* the barrier is on disk */
    assert_false(guard_drop_append_result(&v, 0, 12));
}

/* Defect 7 after the term check: a rejection of term 2 that a reconnect
 * delivered late to the leader of term 3 must not reset the follower. */
static void test_old_term_rejection_does_not_reset_progress(void **state)
{
    (void)state;
    struct guard_view v = leader(12, 500, 600);
    assert_false(guard_follower_lost_log(&v, 2, 505, 1, 505));
    assert_true(guard_follower_lost_log(&v, 3, 505, 1, 505));
}

/* Defect 13: a write begun in term 3 answers only in term 3. */
static void test_only_results_of_this_term_are_sent(void **state)
{
    (void)state;
    assert_true(guard_result_current(3, 3));
    assert_false(guard_result_current(3, 4));
}

/* The invariant behind guard 2: a leader of term 3 commits only entries of
 * term 3; followers and entries no longer in memory are not checked. */
static void test_leader_commits_only_its_own_term(void **state)
{
    (void)state;
    struct guard_view v = leader(12, 9, 12);
    struct guard_view f = {.is_leader = 0, .term = 3};
    assert_true(guard_commit_ok(&v, 3));
    assert_false(guard_commit_ok(&v, 2));
    assert_true(guard_commit_ok(&v, 0));
    assert_true(guard_commit_ok(&f, 2));
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
        cmocka_unit_test(test_leader_drops_success_until_its_barrier_is_stored),
        cmocka_unit_test(test_old_term_rejection_does_not_reset_progress),
        cmocka_unit_test(test_only_results_of_this_term_are_sent),
        cmocka_unit_test(test_leader_commits_only_its_own_term),
        cmocka_unit_test(test_only_padded_entries_enter_the_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
