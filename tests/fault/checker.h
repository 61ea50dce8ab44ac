/* checker.h: after the faults, drains the subscription and judges what the
 * workload recorded (workload.h).
 *
 * The test fails on: an acknowledged publish never delivered (lost); a
 * delivered value never consumed (no ack of it returned OK, and it never
 * came again: lost from the subscription); a delivered value never
 * published, or with a payload other than its id (unexpected); a value
 * stored twice (delivered under two seqs: a retry across a failover must
 * store a publish once); one seq delivered with two values (seq reused); a
 * value delivered under a seq other than the one its publish was
 * acknowledged with; a publish that failed with a definite error and was
 * delivered anyway. Indeterminate publishes (TIMEOUT, UNAVAILABLE) may go
 * either way: counted, and how many were delivered (a delivered one must be
 * consumed like any other).
 * Reported: duplicates, and per fault the longest time without a successful
 * publish from the fault's start until the next fault (unavailability), the
 * time until a new leader answered, and the publishes that ended meanwhile. */
#ifndef MQ_TEST_CHECKER_H
#define MQ_TEST_CHECKER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "workload.h"

/* One injected fault. The test fills kind through election_ms; the
 * checker fills the rest. Times are test_now_ms() values. */
struct fault_rec {
    const char *kind;
    uint64_t start_ms; /* injected */
    uint64_t heal_ms;  /* healed, restarted or resumed */
    uint64_t end_ms;   /* the next fault's start, or the end of the load */
    int leader_before, leader_after; /* node index, -1 if none */
    int64_t election_ms; /* start to a new leader's first answer; -1: none */
    int recovered;       /* an ok publish after the heal, in time */
    uint64_t unavail_ms; /* longest gap between successful publishes */
    size_t n_ok, n_failed, n_unknown; /* publishes ended in the window */
};

struct verdict {
    size_t attempted, ok, failed, unknown;
    size_t unknown_delivered; /* indeterminate, found delivered */
    size_t stored_by_retry;   /* ok, flagged duplicate: an earlier attempt */
    size_t delivered_values;  /* distinct values delivered */
    size_t consumed_values;   /* distinct values whose ack returned OK */
    uint64_t deliveries, duplicates, acked_deliveries;
    size_t lost, unexpected, failed_delivered, corrupt, stored_twice;
    size_t not_consumed; /* delivered, no ack of it returned OK */
    size_t seq_reused;   /* one seq, two values */
    size_t seq_moved;    /* delivered under a seq not its publish's */
    int drained;         /* the subscription was drained in time */
    int pass;
};

/* Waits (consumers running, producers stopped) until the subscription has
 * nothing pending, in flight or scheduled, up to @timeout_ms. Returns 0 or
 * -1. */
int checker_drain(struct workload *w, int timeout_ms);

/* Fills each fault's unavailability and counts. */
void checker_faults(struct workload *w, struct fault_rec *f, size_t n);

/* Judges the records (after workload_stop); prints each violation (up to
 * 10 of a kind) on stderr. */
void checker_verdict(struct workload *w, int drained, struct verdict *v);

/* The report: a line per fault, then the totals and the verdict. */
void checker_report(FILE *out, const struct workload *w,
                    const struct fault_rec *f, size_t n,
                    const struct verdict *v);

#endif
