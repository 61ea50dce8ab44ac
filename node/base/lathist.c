/* lathist.c: log-linear latency histogram (lathist.h). */
#include "lathist.h"

size_t lathist_bucket(uint64_t ns)
{
    if (ns < LATHIST_SUB) {
        return (size_t)ns;
    }
    int e = 63 - __builtin_clzll(ns); /* ns is in [2^e, 2^(e+1)) */
    if (e > LATHIST_MAX_EXP) {
        return LATHIST_BUCKETS - 1;
    }
    /* The leading bit and the next LATHIST_SUB_BITS pick the bucket. */
    uint64_t m = ns >> (e - LATHIST_SUB_BITS); /* in [SUB, 2 SUB) */
    return (size_t)(e - LATHIST_SUB_BITS + 1) * LATHIST_SUB +
           (size_t)(m - LATHIST_SUB);
}

uint64_t lathist_bucket_low(size_t i)
{
    if (i < LATHIST_SUB) {
        return i;
    }
    size_t e = i / LATHIST_SUB + LATHIST_SUB_BITS - 1;
    uint64_t m = LATHIST_SUB + i % LATHIST_SUB;
    return m << (e - LATHIST_SUB_BITS);
}

void lathist_record(struct lathist *h, uint64_t ns)
{
    h->buckets[lathist_bucket(ns)]++;
    h->count++;
    h->sum_ns += ns;
    if (ns > h->max_ns) {
        h->max_ns = ns;
    }
}

uint64_t lathist_percentile(const struct lathist *h, double pct)
{
    if (h->count == 0) {
        return 0;
    }
    uint64_t rank = (uint64_t)((double)h->count * pct / 100.0 + 0.5);
    if (rank == 0) {
        rank = 1;
    }
    uint64_t seen = 0;
    for (size_t i = 0; i < LATHIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t lo = lathist_bucket_low(i);
            uint64_t hi = i + 1 < LATHIST_BUCKETS ? lathist_bucket_low(i + 1)
                                                  : h->max_ns + 1;
            uint64_t mid = lo + (hi - lo) / 2;
            return mid < h->max_ns ? mid : h->max_ns;
        }
    }
    return h->max_ns;
}
