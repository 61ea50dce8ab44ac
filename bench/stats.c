/* stats.c: the log-linear latency histogram (see stats.h). */
#include "stats.h"

#include <stdatomic.h>
#include <stdlib.h>

#define SUB_BITS 7
#define SUB_COUNT (1u << SUB_BITS)
/* Values below SUB_COUNT have a bucket each; each power of two from
 * 2^SUB_BITS to 2^63 has SUB_COUNT. */
#define N_BUCKETS ((64 - SUB_BITS + 1) * SUB_COUNT)

struct hist {
    _Atomic uint64_t n;
    _Atomic uint64_t max;
    _Atomic uint64_t counts[N_BUCKETS];
};

static size_t bucket_of(uint64_t v)
{
    int e;

    if (v < SUB_COUNT) {
        return (size_t)v;
    }
    e = 63 - __builtin_clzll(v); /* >= SUB_BITS */
    return (size_t)(e - SUB_BITS + 1) * SUB_COUNT +
           (size_t)((v >> (e - SUB_BITS)) & (SUB_COUNT - 1));
}

/* The smallest value of bucket @i and its width. */
static void bucket_range(size_t i, uint64_t *low, uint64_t *width)
{
    size_t k = i / SUB_COUNT;

    if (k == 0) {
        *low = i;
        *width = 1;
        return;
    }
    *low = (uint64_t)(SUB_COUNT + i % SUB_COUNT) << (k - 1);
    *width = (uint64_t)1 << (k - 1);
}

int hist_new(struct hist **out)
{
    struct hist *h = malloc(sizeof *h);

    if (h == NULL) {
        return -1;
    }
    atomic_init(&h->n, 0);
    atomic_init(&h->max, 0);
    for (size_t i = 0; i < N_BUCKETS; i++) {
        atomic_init(&h->counts[i], 0);
    }
    *out = h;
    return 0;
}

void hist_free(struct hist *h)
{
    free(h);
}

void hist_record(struct hist *h, uint64_t ns)
{
    uint64_t m = atomic_load_explicit(&h->max, memory_order_relaxed);

    atomic_fetch_add_explicit(&h->counts[bucket_of(ns)], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&h->n, 1, memory_order_relaxed);
    while (ns > m &&
           !atomic_compare_exchange_weak_explicit(
               &h->max, &m, ns, memory_order_relaxed, memory_order_relaxed)) {
    }
}

uint64_t hist_count(const struct hist *h)
{
    return atomic_load(&h->n);
}

uint64_t hist_max(const struct hist *h)
{
    return atomic_load(&h->max);
}

uint64_t hist_percentile(const struct hist *h, double pct)
{
    uint64_t n = hist_count(h), rank, seen = 0;
    double want;

    if (n == 0) {
        return 0;
    }
    want = pct / 100.0 * (double)n;
    rank = (uint64_t)want; /* rounded up: the rank-th value, from 1 */
    if ((double)rank < want) {
        rank++;
    }
    if (rank < 1) {
        rank = 1;
    }
    if (rank > n) {
        rank = n;
    }
    for (size_t i = 0; i < N_BUCKETS; i++) {
        seen += atomic_load(&h->counts[i]);
        if (seen >= rank) {
            uint64_t low, width, mid;
            bucket_range(i, &low, &width);
            mid = low + width / 2;
            return mid < hist_max(h) ? mid : hist_max(h);
        }
    }
    return hist_max(h);
}
