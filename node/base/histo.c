/* histo.c: fixed-bucket histograms (see histo.h). */
#include "histo.h"

#include <string.h>

const uint64_t histo_latency_ns[] = {
    50000,     100000,     250000,     500000,     1000000,     2500000,
    5000000,   10000000,   25000000,   50000000,   100000000,   250000000,
    500000000, 1000000000, 2500000000, 5000000000, 10000000000,
};
const size_t histo_latency_ns_n =
    sizeof histo_latency_ns / sizeof histo_latency_ns[0];

const uint64_t histo_size_bytes[] = {
    256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
};
const size_t histo_size_bytes_n =
    sizeof histo_size_bytes / sizeof histo_size_bytes[0];

void histo_init(struct histo *h, const uint64_t *bounds, size_t n)
{
    memset(h, 0, sizeof *h);
    h->bounds = bounds;
    h->n_bounds = n > HISTO_MAX_BUCKETS ? HISTO_MAX_BUCKETS : n;
}

void histo_observe(struct histo *h, uint64_t value)
{
    size_t lo = 0, hi = h->n_bounds;
    /* The first bound at or above @value (n_bounds: none). */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->bounds[mid] < value) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    h->counts[lo]++;
    h->count++;
    h->sum += value;
}

uint64_t histo_quantile(const struct histo *h, double q)
{
    if (h->count == 0) {
        return 0;
    }
    double want = q * (double)h->count;
    uint64_t seen = 0;
    for (size_t i = 0; i < h->n_bounds; i++) {
        seen += h->counts[i];
        if ((double)seen >= want) {
            return h->bounds[i];
        }
    }
    return UINT64_MAX;
}
