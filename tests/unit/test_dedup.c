/* test_dedup.c: remembered message ids and their window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "dedup.h"

static struct hash128 key(uint64_t lo, uint64_t hi)
{
    struct hash128 k = {lo, hi};
    return k;
}

static int setup(void **state)
{
    struct dedup *d = calloc(1, sizeof *d);
    dedup_init(d);
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    dedup_close(*state);
    free(*state);
    return 0;
}

static void test_dedup_find_after_add(void **state)
{
    struct dedup *d = *state;
    assert_null(dedup_find(d, key(1, 2)));
    assert_int_equal(dedup_add(d, key(1, 2), 10, 1000), MQ_OK);
    const struct dedup_entry *en = dedup_find(d, key(1, 2));
    assert_non_null(en);
    assert_int_equal(en->seq, 10);
    assert_int_equal(en->at_ms, 1000);
    assert_null(dedup_find(d, key(1, 3)));
    assert_null(dedup_find(d, key(2, 2)));
    assert_int_equal(dedup_len(d), 1);
}

static void test_dedup_expires_exactly_at_window_boundary(void **state)
{
    struct dedup *d = *state;
    assert_int_equal(dedup_add(d, key(1, 1), 1, 1000), MQ_OK);
    assert_int_equal(dedup_add(d, key(2, 2), 2, 1500), MQ_OK);

    dedup_expire(d, 1999, 1000); /* 1000 + 1000 > 1999: kept */
    assert_non_null(dedup_find(d, key(1, 1)));
    dedup_expire(d, 2000, 1000); /* 1000 + 1000 <= 2000: gone */
    assert_null(dedup_find(d, key(1, 1)));
    assert_non_null(dedup_find(d, key(2, 2)));
    assert_int_equal(dedup_len(d), 1);
    dedup_expire(d, 2500, 1000);
    assert_null(dedup_find(d, key(2, 2)));
    assert_int_equal(dedup_len(d), 0);
}

static void
test_dedup_shared_lo_newer_wins_older_never_matches_newer(void **state)
{
    struct dedup *d = *state;
    assert_int_equal(dedup_add(d, key(7, 100), 1, 1000), MQ_OK);
    assert_int_equal(dedup_add(d, key(7, 200), 2, 1100), MQ_OK);

    /* The newer is found with its own seq. */
    const struct dedup_entry *en = dedup_find(d, key(7, 200));
    assert_non_null(en);
    assert_int_equal(en->seq, 2);
    /* The older is no longer found (it may be stored again), and above all
     * never reported as a duplicate of the newer. */
    assert_null(dedup_find(d, key(7, 100)));

    /* When the older expires, the newer stays findable. */
    dedup_expire(d, 2000, 1000);
    assert_int_equal(dedup_len(d), 1);
    en = dedup_find(d, key(7, 200));
    assert_non_null(en);
    assert_int_equal(en->seq, 2);
    dedup_expire(d, 2100, 1000);
    assert_null(dedup_find(d, key(7, 200)));
    assert_int_equal(d->ring.map.len, 0);
}

static void test_dedup_huge_window_never_expires(void **state)
{
    struct dedup *d = *state;
    assert_int_equal(dedup_add(d, key(1, 1), 1, 1000), MQ_OK);
    dedup_expire(d, 2000, UINT64_MAX); /* 1000 + window must not wrap */
    assert_non_null(dedup_find(d, key(1, 1)));
}

static void test_dedup_fifo_grows_across_wrap_around(void **state)
{
    struct dedup *d = *state;
    uint64_t next = 0, oldest = 0, t = 0;

    /* Keep about 50 entries while adding 1000: the ring wraps many times,
     * then the window widens and the ring grows from a wrapped state. */
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(dedup_add(d, key(next * 31 + 5, next), next, t),
                         MQ_OK);
        next++;
        t += 10;
        uint64_t window = i < 600 ? 500 : 5000;
        dedup_expire(d, t, window);
        while (oldest < next && oldest * 10 + window <= t) {
            oldest++;
        }
        assert_int_equal(dedup_len(d), next - oldest);
    }
    for (uint64_t k = 0; k < next; k++) {
        const struct dedup_entry *en = dedup_find(d, key(k * 31 + 5, k));
        if (k < oldest) {
            assert_null(en);
        } else {
            assert_non_null(en);
            assert_int_equal(en->seq, k);
        }
    }
    for (size_t i = 0; i < dedup_len(d); i++) {
        assert_int_equal(dedup_at(d, i)->seq, oldest + i);
    }
}

static void test_dedup_oom_leaves_entries_unchanged(void **state)
{
    struct dedup *d = *state;
    for (int n = 0;; n++) {
        test_alloc_fail_at(n);
        mq_err rv = dedup_add(d, key(1, 1), 1, 10);
        test_alloc_fail_at(-1);
        if (rv == MQ_OK) {
            break;
        }
        assert_int_equal(rv, MQ_ERR_NO_MEMORY);
        assert_int_equal(dedup_len(d), 0);
        assert_null(dedup_find(d, key(1, 1)));
    }
    assert_non_null(dedup_find(d, key(1, 1)));
    /* A second key with the same lo under OOM keeps the first one. */
    for (int n = 0; n < 4; n++) {
        test_alloc_fail_at(n);
        mq_err rv = dedup_add(d, key(1, 2), 2, 11);
        test_alloc_fail_at(-1);
        if (rv == MQ_OK) {
            break;
        }
        assert_int_equal(dedup_len(d), 1);
        assert_non_null(dedup_find(d, key(1, 1)));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dedup_find_after_add, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_dedup_expires_exactly_at_window_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_dedup_shared_lo_newer_wins_older_never_matches_newer, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_dedup_huge_window_never_expires,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_dedup_fifo_grows_across_wrap_around, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedup_oom_leaves_entries_unchanged,
                                        setup, teardown),
    };
    return cmocka_run_group_tests_name("dedup", tests, NULL, NULL);
}
