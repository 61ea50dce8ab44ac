/* probe.h: the synchronous publish probe of the scale cases: a thread of
 * its own publishes one message at a time with mq_publish (its own client,
 * PROBE_CALL_TIMEOUT_MS per call) into a queue of its own, at most one
 * call per interval, and records the time of each call in the histogram
 * of its phase: the phase current when it started, or if none, a phase
 * that began while it was under way. A failed call is recorded with the time it
 * took (at least its timeout when the node did not answer), so that an outage
 * shows in the percentiles, and counts in the phase's fails, with the first
 * message kept. Phases let a case measure the idle figure and the loaded one
 * with the same probe. */
#ifndef MQBENCH_PROBE_H
#define MQBENCH_PROBE_H

#include <pthread.h>
#include <stdatomic.h>

#include "common.h"
#include "stats.h"

#define PROBE_PHASES 2
#define PROBE_CALL_TIMEOUT_MS 5000
/* The probe's own queue keeps at most this many messages (discard old). */
#define PROBE_QUEUE_MAX_MESSAGES 10000

struct probe {
    const struct bench_opts *o;
    mq_client *c;
    char queue[MQ_NAME_MAX + 1];
    int created;
    unsigned char *payload;
    uint64_t interval_ns;
    struct hist *h[PROBE_PHASES];
    _Atomic uint64_t fails[PROBE_PHASES];
    _Atomic int phase; /* -1: calls are made but not recorded */
    /* When each phase began (mono_ns; 0: not yet). */
    _Atomic uint64_t began[PROBE_PHASES];
    _Atomic int stop;
    struct errnote note;
    pthread_t thread;
    int running;
};

/* Opens the probe's client, creates its queue "bench-<tag>-probe-<hex>"
 * and starts its thread, not recording (phase -1), a call at most every
 * @interval_ms. Returns 0, or -1 after report_fail (probe_close still
 * needed). */
int probe_start(struct probe *p, const struct bench_opts *o, const char *tag,
                uint32_t interval_ms, struct report *r);

/* Records the calls that start from now on in phase @phase (0 or 1), or
 * none (-1). Each phase is entered at most once. */
void probe_phase(struct probe *p, int phase);

/* Stops the thread (a call under way ends by PROBE_CALL_TIMEOUT_MS and its
 * client's retries), deletes the queue unless --keep, closes the client
 * and frees all. Safe after a failed probe_start, and on a zeroed struct
 * probe that was never started. Read the histograms and counts before. */
void probe_close(struct probe *p);

#endif
