/* mqbench.c: the benchmark tool's main: parses the flags, picks the cases
 * (--case, or the default set) and runs them in order against a running
 * cluster, one result line per case on stdout.
 *
 * Exit status: 0 if every case ran, 1 if one could not run or gave up at
 * --timeout (its line says why), 2 for a usage error. */
#include <signal.h>
#include <stdio.h>

#include "cases.h"
#include "common.h"
#include "mq.h"
#include "opts.h"

int main(int argc, char **argv)
{
    const struct bench_case *run[OPTS_CASES_MAX];
    size_t n_run = 0, n_all;
    const struct bench_case *all = cases_all(&n_all);
    struct bench_opts o;
    int failed = 0;

    switch (opts_parse(argc, argv, &o)) {
    case OPTS_RUN:
        break;
    case OPTS_HELP:
        opts_help(stdout);
        cases_help(stdout);
        return 0;
    case OPTS_VERSION:
        printf("mqbench %s (libmq %s)\n", MQ_VERSION_STRING, mq_version());
        return 0;
    case OPTS_USAGE:
        return 2;
    }
    bench_tls_init(&o);
    if (o.n_cases == 0) {
        for (size_t i = 0; i < n_all && n_run < OPTS_CASES_MAX; i++) {
            if (all[i].in_default) {
                run[n_run++] = &all[i];
            }
        }
    }
    for (size_t i = 0; i < o.n_cases; i++) {
        run[n_run] = cases_find(o.cases[i]);
        if (run[n_run] == NULL) {
            opts_usage_error("unknown case \"%s\" (mqbench --help lists "
                             "them)",
                             o.cases[i]);
            return 2;
        }
        n_run++;
    }
    /* A node closing a connection must not kill the benchmark. */
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < n_run; i++) {
        if (run[i]->run(&o) != 0) {
            failed = 1;
        }
    }
    return failed;
}
