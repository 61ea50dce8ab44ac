/* stats.h: a latency histogram that any number of threads record into at
 * once (relaxed atomic counters, no lock), read once they are done.
 *
 * Buckets are log-linear: exact below 128 ns, then 128 buckets per power
 * of two, so a percentile is within 0.4% of the true value (it reports the
 * middle of its bucket, never more than the maximum seen). */
#ifndef MQBENCH_STATS_H
#define MQBENCH_STATS_H

#include <stdint.h>

struct hist;

/* Allocates an empty histogram. Returns 0 and sets *out, or -1 (no
 * memory). */
int hist_new(struct hist **out);

/* Frees @h. NULL does nothing. */
void hist_free(struct hist *h);

/* Records one value of @ns nanoseconds. Any thread. */
void hist_record(struct hist *h, uint64_t ns);

/* Values recorded, and the largest (0 if none). Read when the recording
 * threads are done (earlier reads are approximate). */
uint64_t hist_count(const struct hist *h);
uint64_t hist_max(const struct hist *h);

/* The @pct-th percentile (0 < @pct <= 100) in ns, 0 if nothing was
 * recorded. */
uint64_t hist_percentile(const struct hist *h, double pct);

#endif
