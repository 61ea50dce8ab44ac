/* lathist.h: a latency histogram of fixed size, for the node's own
 * measurements (stages.h): where a publish's and a delivery's time goes.
 * One writer (the loop thread), no allocation, no lock.
 *
 * Buckets are log-linear over nanoseconds: exact below 16 ns, then 16
 * buckets per power of two (each within 6.25% of its value), up to 2^40 ns
 * (about 18 minutes; longer durations count in the last bucket). The
 * bucket bounds are part of the client protocol (StatusReply.stages) and
 * of libmq's mq_stage_bucket_ns: they never change. The count, the sum and
 * the bounds are what a Prometheus histogram needs, so the same buckets can
 * be exported as metrics. */
#ifndef MQ_LATHIST_H
#define MQ_LATHIST_H

#include <stddef.h>
#include <stdint.h>

#define LATHIST_SUB_BITS 4
#define LATHIST_SUB (1u << LATHIST_SUB_BITS)
#define LATHIST_MAX_EXP 40
#define LATHIST_BUCKETS                                                        \
    ((LATHIST_MAX_EXP - LATHIST_SUB_BITS + 2) * LATHIST_SUB) /* 608 */

struct lathist {
    uint64_t count;
    uint64_t sum_ns;
    uint64_t max_ns;
    uint64_t buckets[LATHIST_BUCKETS];
};

/* Records one duration of @ns nanoseconds. */
void lathist_record(struct lathist *h, uint64_t ns);

/* The bucket that holds @ns. */
size_t lathist_bucket(uint64_t ns);

/* The smallest duration bucket @i holds; bucket @i holds durations up to
 * lathist_bucket_low(i + 1) - 1 (for i + 1 == LATHIST_BUCKETS: 2^41 - 1,
 * and everything longer). */
uint64_t lathist_bucket_low(size_t i);

/* The @pct-th percentile (0 < pct <= 100) in ns: the middle of the bucket
 * where it falls, never above max_ns; 0 when nothing was recorded. */
uint64_t lathist_percentile(const struct lathist *h, double pct);

#endif
