/* breakdown.h: --stages: the nodes' latency breakdown (mq_cluster_stages)
 * over a case's timed part. Read once before and once after it; one line
 * per node and stage that saw something in between, named "stages",
 * with the case, the node and its role, the stage, its count, p50, p90,
 * p99 and mean (docs/benchmarks.md, "Where the time goes").
 *
 * Not a measurement of its own: nodes running other work at the same time
 * count that work too. Any thread, one breakdown at a time. */
#ifndef MQBENCH_BREAKDOWN_H
#define MQBENCH_BREAKDOWN_H

#include <stddef.h>

#include "mq.h"
#include "opts.h"

struct breakdown {
    mq_client *c;
    mq_node_stages *before; /* NULL: not reading (no --stages, or failed) */
    size_t n;
};

/* With --stages, takes the first reading; a failure is told on stderr and
 * turns the breakdown off for this case. Without, does nothing. */
void breakdown_begin(const struct bench_opts *o, struct breakdown *b);

/* Takes the second reading and prints the lines of @case_name; frees what
 * breakdown_begin took. Safe after a failed or skipped begin. */
void breakdown_end(const struct bench_opts *o, struct breakdown *b,
                   const char *case_name);

#endif
