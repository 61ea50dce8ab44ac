/* test_clockskew.c: the table of other nodes' clock offsets (clockskew.h)
 * and the decisions made from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clockskew.h"

/* A message sent at its clock 10,500 arrives at our 10,000: its clock is
 * 500 ms ahead; one sent at 9,000 arriving at 10,000: 1,000 ms behind. */
static void test_skew_is_their_clock_minus_ours(void **state)
{
    (void)state;
    struct clockskew cs = {0};
    assert_int_equal(clockskew_update(&cs, 2, 10500, 10000, 1), 500);
    assert_int_equal(clockskew_update(&cs, 3, 9000, 10000, 1), -1000);
    assert_int_equal(clockskew_get(&cs, 2)->skew_ms, 500);
    assert_null(clockskew_get(&cs, 4));
    /* Within a window the least delayed (highest) measurement counts; a
     * clock set back counts once the windows that saw the old one end. */
    assert_int_equal(clockskew_update(&cs, 2, 10020, 10000, 2), 500);
    assert_int_equal(cs.n, 2);
    uint64_t t = 2 + CLOCKSKEW_WINDOW_MS;
    assert_int_equal(clockskew_update(&cs, 2, 10020, 10000, t), 500);
    t += CLOCKSKEW_WINDOW_MS;
    assert_int_equal(clockskew_update(&cs, 2, 10020, 10000, t), 20);
}

/* A node that starts (or reconnects) first receives what the other queued
 * for it meanwhile, sent seconds ago: the first measurements say the other
 * clock is seconds behind. Its messages sent since say otherwise, and no
 * "behind" counts before a whole window of them. */
static void test_queued_messages_do_not_look_behind(void **state)
{
    (void)state;
    struct clockskew cs = {0};
    const uint64_t ids[] = {2};
    uint64_t t = 1000;
    /* The burst: sent 3.4 s before it arrives, as queued. */
    for (int i = 0; i < 20; i++) {
        clockskew_update(&cs, 2, 100000 - 3400 + (uint64_t)i, 100000, t);
    }
    struct clockskew_peer *p = clockskew_get(&cs, 2);
    assert_false(clockskew_is_behind(p, 1000));
    assert_int_equal(clockskew_behind_us(&cs, ids, 1, 1000, t), 0);
    /* Then heartbeats, fresh, every 100 ms; the window ends. */
    for (int i = 1; i <= 30; i++) {
        uint64_t now = 100000 + (uint64_t)i * 100;
        clockskew_update(&cs, 2, now - 1, now, t + (uint64_t)i * 100);
        assert_false(clockskew_is_behind(p, 1000));
    }
    assert_true(p->settled);
    assert_int_equal(p->skew_ms, -1);
    assert_int_equal(clockskew_behind_us(&cs, ids, 1, 1000, t + 3000), 0);

    /* A clock really 5 s behind is behind once a window has ended. */
    struct clockskew cs2 = {0};
    for (int i = 0; i <= 25; i++) {
        uint64_t now = 200000 + (uint64_t)i * 100;
        clockskew_update(&cs2, 3, now - 5000, now, 500 + (uint64_t)i * 100);
    }
    const uint64_t ids3[] = {3};
    assert_true(clockskew_is_behind(clockskew_get(&cs2, 3), 1000));
    assert_int_equal(clockskew_behind_us(&cs2, ids3, 1, 1000, 3000), 1);
}

/* We are 5 s ahead of nodes 2 and 3: both behind us by more than 1 s. */
static void test_behind_us_counts_fresh_measurements_only(void **state)
{
    (void)state;
    struct clockskew cs = {0};
    const uint64_t ids[] = {2, 3};
    clockskew_update(&cs, 2, 5000, 10000, 100);
    clockskew_update(&cs, 3, 5000, 10000, 100);
    /* Not before their measurements span a window. */
    assert_int_equal(clockskew_behind_us(&cs, ids, 2, 1000, 200), 0);
    uint64_t t = 100 + CLOCKSKEW_WINDOW_MS;
    clockskew_update(&cs, 2, 5000, 10000, t);
    clockskew_update(&cs, 3, 5000, 10000, t);
    assert_int_equal(clockskew_behind_us(&cs, ids, 2, 1000, t), 2);
    assert_int_equal(clockskew_behind_us(&cs, ids, 2, 6000, t), 0);
    /* Stale: not used. */
    assert_int_equal(
        clockskew_behind_us(&cs, ids, 2, 1000, t + CLOCKSKEW_FRESH_MS + 1), 0);
    /* A node ahead of us is not behind us (at once: delay cannot fake
     * that). */
    clockskew_update(&cs, 3, 15000, 10000, t + 1);
    assert_int_equal(clockskew_behind_us(&cs, ids, 2, 1000, t + 1), 1);
}

static void test_largest_is_by_magnitude(void **state)
{
    (void)state;
    struct clockskew cs = {0};
    uint64_t id;
    assert_int_equal(clockskew_largest(&cs, 10, &id), 0);
    assert_int_equal(id, 0);
    clockskew_update(&cs, 2, 10300, 10000, 10);
    clockskew_update(&cs, 3, 9000, 10000, 10);
    assert_int_equal(clockskew_largest(&cs, 10, &id), -1000);
    assert_int_equal(id, 3);
}

static void test_full_table_forgets_the_oldest(void **state)
{
    (void)state;
    struct clockskew cs = {0};
    for (uint64_t i = 1; i <= CLOCKSKEW_MAX; i++) {
        clockskew_update(&cs, i, 0, 0, i);
    }
    clockskew_update(&cs, 1000, 0, 0, 5000);
    assert_int_equal(cs.n, CLOCKSKEW_MAX);
    assert_null(clockskew_get(&cs, 1));
    assert_non_null(clockskew_get(&cs, 1000));
    assert_non_null(clockskew_get(&cs, 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skew_is_their_clock_minus_ours),
        cmocka_unit_test(test_behind_us_counts_fresh_measurements_only),
        cmocka_unit_test(test_largest_is_by_magnitude),
        cmocka_unit_test(test_queued_messages_do_not_look_behind),
        cmocka_unit_test(test_full_table_forgets_the_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
