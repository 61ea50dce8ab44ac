/* health.h: the node's readiness, judged from a snapshot of its figures:
 * each check with a verdict and a sentence, for /readyz (503 naming what
 * fails), /healthz?verbose (JSON of every check) and the mq_ready metric.
 * Pure: reads only the snapshot. Any thread. */
#ifndef MQ_HEALTH_H
#define MQ_HEALTH_H

#include <stddef.h>

#include "figures.h"
#include "textbuf.h"

#define HEALTH_MAX_CHECKS 8

struct health_check {
    const char *name; /* static: serving, member, leader, applied, ... */
    int ok;
    char detail[192];
};

struct health {
    struct health_check checks[HEALTH_MAX_CHECKS];
    size_t n;
    int ready;        /* every check passed */
    char reason[512]; /* the failing checks' details, "; "-joined */
};

/* Judges @f: the node serves (not removed from the cluster), it is a full
 * member (not rejoining after a repair), a leader is known, its applied
 * index is within ready_max_apply_lag of its commit index, it is not
 * installing a snapshot, and its memory budget is not used up. */
void health_evaluate(const struct figures *f, struct health *out);

/* Writes @h as a JSON object: {"status":"ready"|"not ready","node":N,
 * "role":..., "reason":..., "checks":[{"name","ok","detail"},...]}. */
void health_json(const struct health *h, const struct figures *f,
                 struct textbuf *out);

#endif
