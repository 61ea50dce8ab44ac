/* histo.h: a histogram of fixed buckets, for the node's latency and size
 * figures (fsync, publish commit and reply, group-commit entry size). A
 * value is an integer in the histogram's own unit (nanoseconds, bytes);
 * each bucket counts the values at or below its bound, as Prometheus's
 * "le" buckets do, and the last (implicit) bucket is +Inf. Observing is a
 * few comparisons, with no allocation. Not thread-safe: one owner thread
 * (the loop), which copies it into the figures it publishes. */
#ifndef MQ_HISTO_H
#define MQ_HISTO_H

#include <stddef.h>
#include <stdint.h>

#define HISTO_MAX_BUCKETS 24

struct histo {
    const uint64_t *bounds; /* n_bounds increasing upper bounds */
    size_t n_bounds;        /* at most HISTO_MAX_BUCKETS */
    uint64_t counts[HISTO_MAX_BUCKETS + 1]; /* per bucket, not cumulative;
                                               the last is above every bound */
    uint64_t count;
    uint64_t sum; /* of the values, in the histogram's unit */
};

/* Bounds for latencies in nanoseconds: 50 us to 10 s. */
extern const uint64_t histo_latency_ns[];
extern const size_t histo_latency_ns_n;
/* Bounds for sizes in bytes: 256 B to 64 MiB, by fours. */
extern const uint64_t histo_size_bytes[];
extern const size_t histo_size_bytes_n;

/* An empty histogram over @bounds (borrowed: static storage), of @n
 * increasing values; @n is cut to HISTO_MAX_BUCKETS. */
void histo_init(struct histo *h, const uint64_t *bounds, size_t n);

/* Counts @value. */
void histo_observe(struct histo *h, uint64_t value);

/* The value below which a fraction @q (0..1) of the observations fall,
 * as the upper bound of the bucket that holds it (UINT64_MAX: above every
 * bound); 0 when empty. */
uint64_t histo_quantile(const struct histo *h, double q);

#endif
