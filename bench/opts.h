/* opts.h: mqbench's command line: the option table, parsing and --help.
 * Pure functions of argv (no I/O except the usage text they print). */
#ifndef MQBENCH_OPTS_H
#define MQBENCH_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define OPTS_CASES_MAX 16
#define OPTS_PIDS_MAX 16

#define OPTS_DEFAULT_URLS                                                      \
    "tcp://127.0.0.1:7001,tcp://127.0.0.1:7002,tcp://127.0.0.1:7003"

/* Everything the command line says. A zero in batch, linger_ms, inflight
 * and pending means libmq's default; the *_set fields say whether a flag
 * whose default depends on the case was given. Read-only once parsed. */
struct bench_opts {
    const char *urls;
    const char *cases[OPTS_CASES_MAX]; /* in order; none: the default set */
    size_t n_cases;
    uint64_t duration_ms;
    int duration_set;
    uint64_t timeout_ms; /* bound of every wait outside the timed part */
    int json;
    int keep;
    int verbose;
    uint64_t size; /* payload bytes, when size_set */
    int size_set;
    uint32_t concurrency; /* publish-sync threads; connection-churn */
    int concurrency_set;
    uint32_t producers; /* publish-pipelined clients; many-queues */
    int producers_set;
    uint32_t batch; /* mq_client_opts.batch_max_messages */
    uint32_t linger_ms;
    uint32_t inflight; /* max_inflight_batches */
    uint32_t pending;  /* max_pending_messages */
    uint64_t messages; /* when messages_set */
    int messages_set;
    uint32_t consumers;
    uint32_t fetch_batch;
    int fetch_batch_set;
    uint32_t fetch_wait_ms;
    int fetch_wait_set;
    uint32_t read_batch; /* catchup-read: messages per mq_read */
    uint64_t rate;       /* e2e-latency, snapshot-stall: msgs per second */
    int rate_set;
    pid_t pids[OPTS_PIDS_MAX];
    size_t n_pids;
    const char *cluster_dir;
    /* TLS for tls+tcp:// URLs (mq_client_opts' tls_*): --tls-ca,
     * --tls-cert, --tls-key, or MQ_TLS_CA, MQ_TLS_CERT, MQ_TLS_KEY. */
    const char *tls_ca, *tls_cert, *tls_key;
    uint64_t queue_max_bytes; /* publish-pipelined queues */
    /* The scale cases (case_waiters.c, case_scale.c, case_restart.c,
     * case_drain.c, case_churn.c). */
    uint32_t waiters; /* waiting long polls, when waiters_set */
    int waiters_set;
    uint32_t subs;           /* waiting-consumers: subscriptions */
    uint32_t waiter_clients; /* 0: one client per 100 waiters */
    uint64_t queues;         /* when queues_set */
    int queues_set;
    uint32_t admin_threads; /* many-queues: creating and deleting */
    uint64_t connections;   /* connection-churn */
    uint64_t window;        /* drain: published and not yet acked; publish-
                               pipelined (when window_set): not yet answered */
    int window_set;
    int ack_each;       /* consume-ack: one ack call per message */
    int stages;         /* print the nodes' latency breakdown (breakdown.h) */
    uint64_t settle_ms; /* drain, memory, connection-churn */
};

enum opts_result {
    OPTS_RUN = 0, /* run the cases */
    OPTS_HELP,    /* --help: print opts_help and the cases, exit 0 */
    OPTS_VERSION, /* --version: exit 0 */
    OPTS_USAGE,   /* a usage error was printed on stderr: exit 2 */
};

/* Parses @argv into @o (argv's strings are borrowed: @o points into
 * them). On a usage error calls opts_usage_error. Case names are not
 * checked here (the case table does that). */
enum opts_result opts_parse(int argc, char **argv, struct bench_opts *o);

/* Prints every flag with its default on @out. */
void opts_help(FILE *out);

/* Prints @text on @out wrapped at 78 columns under an 8-column indent. */
void opts_print_wrapped(FILE *out, const char *text);

/* Prints "mqbench: <message>" and the short usage text on stderr. */
void opts_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
