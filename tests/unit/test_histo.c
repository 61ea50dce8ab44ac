/* test_histo.c: fixed-bucket histograms: a value lands in the first
 * bucket whose bound is at or above it (Prometheus's "le"), values above
 * every bound in the last, sums and counts add up, quantiles read the
 * bucket bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "histo.h"

static const uint64_t bounds[] = {10, 100, 1000};

static void test_values_land_in_the_first_bucket_at_or_above(void **state)
{
    struct histo h;
    (void)state;
    histo_init(&h, bounds, 3);
    histo_observe(&h, 0);
    histo_observe(&h, 10);   /* on the bound: that bucket */
    histo_observe(&h, 11);   /* just above: the next */
    histo_observe(&h, 1000); /* the last bound */
    histo_observe(&h, 1001); /* above every bound: +Inf */
    assert_int_equal(h.counts[0], 2);
    assert_int_equal(h.counts[1], 1);
    assert_int_equal(h.counts[2], 1);
    assert_int_equal(h.counts[3], 1);
    assert_int_equal(h.count, 5);
    assert_int_equal(h.sum, 0 + 10 + 11 + 1000 + 1001);
}

static void test_quantiles_read_bucket_bounds(void **state)
{
    struct histo h;
    (void)state;
    histo_init(&h, bounds, 3);
    assert_int_equal(histo_quantile(&h, 0.99), 0); /* empty */
    for (int i = 0; i < 98; i++) {
        histo_observe(&h, 5);
    }
    histo_observe(&h, 50);
    histo_observe(&h, 5000);
    assert_int_equal(histo_quantile(&h, 0.5), 10);
    assert_int_equal(histo_quantile(&h, 0.99), 100);
    assert_int_equal(histo_quantile(&h, 1.0), UINT64_MAX);
}

static void test_standard_bounds_increase(void **state)
{
    (void)state;
    assert_true(histo_latency_ns_n <= HISTO_MAX_BUCKETS);
    assert_true(histo_size_bytes_n <= HISTO_MAX_BUCKETS);
    for (size_t i = 1; i < histo_latency_ns_n; i++) {
        assert_true(histo_latency_ns[i] > histo_latency_ns[i - 1]);
    }
    for (size_t i = 1; i < histo_size_bytes_n; i++) {
        assert_true(histo_size_bytes[i] > histo_size_bytes[i - 1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_land_in_the_first_bucket_at_or_above),
        cmocka_unit_test(test_quantiles_read_bucket_bounds),
        cmocka_unit_test(test_standard_bounds_increase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
