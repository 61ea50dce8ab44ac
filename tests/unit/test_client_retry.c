/* test_client_retry.c: the retry policy (client/src/retry.c): where the
 * next attempt goes and how long it waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "retry.h"

#include <cmocka.h>

static void test_retry_redirect_goes_to_leader_at_once(void **state)
{
    struct retry r;
    struct retry_step s;

    (void)state;
    retry_init(&r, 1000, 10000);
    assert_int_equal(retry_next(&r, 1000, 3, 0, 2, &s), 0);
    assert_int_equal(s.node, 2);
    assert_int_equal(s.delay_ms, 0);
}

static void test_retry_without_hint_tries_next_node_with_backoff(void **state)
{
    static const uint32_t want[] = {5, 10, 20, 40, 80, 100, 100, 100};
    struct retry r;
    struct retry_step s;
    size_t cur = 1;

    (void)state;
    retry_init(&r, 0, 100000);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(retry_next(&r, 0, 3, cur, -1, &s), 0);
        assert_int_equal(s.node, (cur + 1) % 3);
        assert_int_equal(s.delay_ms, want[i]);
        cur = s.node;
    }
}

static void test_retry_redirect_loop_is_slowed_down(void **state)
{
    struct retry r;
    struct retry_step s;

    (void)state;
    retry_init(&r, 0, 100000);
    /* Nodes 0 and 1 name each other: three free hops, then a backoff. */
    for (int i = 0; i < RETRY_MAX_HOPS; i++) {
        assert_int_equal(retry_next(&r, 0, 3, i % 2, (i + 1) % 2, &s), 0);
        assert_int_equal(s.delay_ms, 0);
    }
    assert_int_equal(retry_next(&r, 0, 3, 1, 0, &s), 0);
    assert_int_equal(s.node, 0); /* still to the leader named */
    assert_int_equal(s.delay_ms, RETRY_BACKOFF_MIN_MS);
    assert_int_equal(retry_next(&r, 0, 3, 0, 1, &s), 0);
    assert_int_equal(s.delay_ms, 0); /* hops counted afresh */
}

static void test_retry_hint_naming_itself_is_no_hint(void **state)
{
    struct retry r;
    struct retry_step s;

    (void)state;
    retry_init(&r, 0, 1000);
    assert_int_equal(retry_next(&r, 0, 3, 2, 2, &s), 0);
    assert_int_equal(s.node, 0);
    assert_int_equal(s.delay_ms, RETRY_BACKOFF_MIN_MS);
}

static void test_retry_stops_at_the_deadline(void **state)
{
    struct retry r;
    struct retry_step s;

    (void)state;
    retry_init(&r, 1000, 100);
    assert_int_equal(retry_next(&r, 1094, 3, 0, -1, &s), 0);  /* +5 < 1100 */
    assert_int_equal(retry_next(&r, 1095, 3, 1, -1, &s), -1); /* +10 */
    assert_int_equal(retry_next(&r, 1100, 3, 1, 2, &s), -1);  /* past it */
}

static void test_retry_single_node_retries_itself(void **state)
{
    struct retry r;
    struct retry_step s;

    (void)state;
    retry_init(&r, 0, 1000);
    assert_int_equal(retry_next(&r, 0, 1, 0, -1, &s), 0);
    assert_int_equal(s.node, 0);
    assert_int_equal(s.delay_ms, RETRY_BACKOFF_MIN_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_redirect_goes_to_leader_at_once),
        cmocka_unit_test(test_retry_without_hint_tries_next_node_with_backoff),
        cmocka_unit_test(test_retry_redirect_loop_is_slowed_down),
        cmocka_unit_test(test_retry_hint_naming_itself_is_no_hint),
        cmocka_unit_test(test_retry_stops_at_the_deadline),
        cmocka_unit_test(test_retry_single_node_retries_itself),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
