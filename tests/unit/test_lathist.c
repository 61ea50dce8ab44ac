/* test_lathist.c: the latency histogram of the node's breakdown
 * (lathist.c): its buckets are contiguous and increasing, each duration
 * lands in the bucket whose range holds it, exact below 16 ns and within
 * 6.25 % above; percentiles of known sets are within a bucket of the truth
 * and never above the largest value; the bounds libmq uses
 * (mq_stage_bucket_ns) are the same by construction, checked at a few
 * fixed points here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lathist.h"

static void test_lathist_buckets_are_contiguous(void **state)
{
    (void)state;
    assert_int_equal(lathist_bucket_low(0), 0);
    for (size_t i = 0; i + 1 < LATHIST_BUCKETS; i++) {
        uint64_t lo = lathist_bucket_low(i), hi = lathist_bucket_low(i + 1);
        assert_true(hi > lo);
        assert_int_equal(lathist_bucket(lo), i);
        assert_int_equal(lathist_bucket(hi - 1), i);
        if (lo >= 16) {
            /* Within 6.25 % of its low end. */
            assert_true((hi - lo) * 16 <= lo);
        } else {
            assert_int_equal(hi - lo, 1);
        }
    }
    /* Fixed points of the protocol (StatusReply.stages). */
    assert_int_equal(lathist_bucket_low(16), 16);
    assert_int_equal(lathist_bucket_low(32), 32);
    assert_int_equal(lathist_bucket_low(33), 34);
    assert_int_equal(lathist_bucket(UINT64_MAX), LATHIST_BUCKETS - 1);
}

static void test_lathist_percentiles_of_known_sets(void **state)
{
    static struct lathist h;
    (void)state;

    memset(&h, 0, sizeof h);
    assert_int_equal(lathist_percentile(&h, 50.0), 0);
    /* 1..1000 µs, once each. */
    for (uint64_t us = 1; us <= 1000; us++) {
        lathist_record(&h, us * 1000);
    }
    assert_int_equal(h.count, 1000);
    assert_int_equal(h.max_ns, 1000000);
    uint64_t p50 = lathist_percentile(&h, 50.0);
    uint64_t p99 = lathist_percentile(&h, 99.0);
    assert_true(p50 >= 470000 && p50 <= 532000);
    assert_true(p99 >= 930000 && p99 <= 1000000);
    assert_true(lathist_percentile(&h, 100.0) <= h.max_ns);
    /* One huge value: counted, in the last bucket. */
    lathist_record(&h, UINT64_MAX / 2);
    assert_int_equal(h.buckets[LATHIST_BUCKETS - 1], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lathist_buckets_are_contiguous),
        cmocka_unit_test(test_lathist_percentiles_of_known_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
