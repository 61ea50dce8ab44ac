/* cases.h: the benchmark cases and their table.
 *
 * A case runs against the cluster of o->urls on a fresh queue of its own
 * (deleted at the end unless --keep), prints one result line per run
 * (report.h) and returns 0 if it ran, or -1 if it could not run or gave
 * up at --timeout (its line then says why). Errors of single publishes
 * and fetches do not fail a case: they are counted in the line.
 *
 * case_publish.c: publish-sync, publish-pipelined. case_consume.c:
 * consume-ack. case_latency.c: e2e-latency. case_memory.c: memory.
 * case_read.c: catchup-read. case_snapshot.c: snapshot-stall. The scale
 * cases: case_waiters.c: waiting-consumers. case_scale.c: many-queues.
 * case_restart.c: restart. case_drain.c: drain. case_churn.c:
 * connection-churn. */
#ifndef MQBENCH_CASES_H
#define MQBENCH_CASES_H

#include <stdio.h>

#include "opts.h"

struct bench_case {
    const char *name;
    int in_default; /* run when no --case is given */
    const char *summary;
    int (*run)(const struct bench_opts *o);
};

int case_publish_sync(const struct bench_opts *o);
int case_publish_pipelined(const struct bench_opts *o);
int case_consume_ack(const struct bench_opts *o);
int case_e2e_latency(const struct bench_opts *o);
int case_memory(const struct bench_opts *o);
int case_catchup_read(const struct bench_opts *o);
int case_snapshot_stall(const struct bench_opts *o);
int case_waiting_consumers(const struct bench_opts *o);
int case_many_queues(const struct bench_opts *o);
int case_restart(const struct bench_opts *o);
int case_drain(const struct bench_opts *o);
int case_connection_churn(const struct bench_opts *o);

/* The case called @name, or NULL. */
const struct bench_case *cases_find(const char *name);

/* The cases in table order; sets *n. */
const struct bench_case *cases_all(size_t *n);

/* Prints the list of cases for --help. */
void cases_help(FILE *out);

#endif
