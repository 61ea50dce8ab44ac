/* opts.c: mqbench's flags. One table lists every flag with its argument,
 * default and help; the parser and --help follow from it. */
#include "opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mq.h"

enum opt_id {
    O_SERVERS,
    O_CASE,
    O_DURATION,
    O_TIMEOUT,
    O_JSON,
    O_KEEP,
    O_VERBOSE,
    O_SIZE,
    O_CONCURRENCY,
    O_PRODUCERS,
    O_BATCH,
    O_LINGER,
    O_INFLIGHT,
    O_PENDING,
    O_QUEUE_MAX_BYTES,
    O_MESSAGES,
    O_CONSUMERS,
    O_FETCH_BATCH,
    O_FETCH_WAIT,
    O_READ_BATCH,
    O_RATE,
    O_WAITERS,
    O_SUBS,
    O_WAITER_CLIENTS,
    O_QUEUES,
    O_ADMIN_THREADS,
    O_CONNECTIONS,
    O_WINDOW,
    O_ACK,
    O_STAGES,
    O_SETTLE,
    O_PIDS,
    O_CLUSTER_DIR,
    O_TLS_CA,
    O_TLS_CERT,
    O_TLS_KEY,
    O_HELP,
    O_VERSION,
};

struct opt {
    enum opt_id id;
    char short_name; /* 0: none */
    const char *name;
    const char *arg; /* NULL: takes no value */
    const char *help;
};

static const struct opt table[] = {
    {O_SERVERS, 's', "--servers", "URL[,URL...]",
     "node client URLs (default " OPTS_DEFAULT_URLS ")"},
    {O_CASE, 'c', "--case", "NAME[,NAME...]",
     "case to run; repeatable (default: publish-sync, publish-pipelined, "
     "consume-ack, e2e-latency)"},
    {O_DURATION, 'd', "--duration", "SECONDS",
     "timed part of publish-sync, publish-pipelined (per size), "
     "e2e-latency, waiting-consumers, each of the four measurements of "
     "many-queues (default 10) and snapshot-stall (default 60); decimals "
     "allowed"},
    {O_TIMEOUT, 0, "--timeout", "SECONDS",
     "bound of every other wait (preload, flush, drain, consume; "
     "many-queues: creating, and deleting, the queues; drain: the whole "
     "drain; connection-churn: the churn; restart: the stop, and the start "
     "until a publish succeeds); a case that reaches it gives up and fails "
     "(default 120)"},
    {O_JSON, 0, "--json", NULL, "one JSON object per result line"},
    {O_KEEP, 0, "--keep", NULL, "keep the bench-* queues (default: delete)"},
    {O_VERBOSE, 'v', "--verbose", NULL, "progress on stderr"},
    {O_SIZE, 0, "--size", "BYTES",
     "payload size (default 100; publish-pipelined runs 100, 1024 and "
     "16384 unless given; e2e-latency takes at least 8)"},
    {O_CONCURRENCY, 0, "--concurrency", "N",
     "publish-sync: threads publishing through one client (default 1); "
     "connection-churn: clients open at once, each with its thread "
     "(default 8)"},
    {O_PRODUCERS, 0, "--producers", "N",
     "publish-pipelined: clients, each with its thread (default 2); "
     "many-queues: synchronous producers, a client and a thread each "
     "(default 200)"},
    {O_BATCH, 0, "--batch", "N",
     "async publish: batch_max_messages (default: libmq's, 5000)"},
    {O_LINGER, 0, "--linger-ms", "MS",
     "async publish: linger_ms (default: libmq's, 0: a batch goes as soon "
     "as its queue has none in flight)"},
    {O_INFLIGHT, 0, "--inflight", "N",
     "async publish: max_inflight_batches (default: libmq's, 8)"},
    {O_PENDING, 0, "--pending", "N",
     "async publish: max_pending_messages (default: libmq's, 100000, but "
     "at most 64 MiB of payload per client)"},
    {O_QUEUE_MAX_BYTES, 0, "--queue-max-bytes", "BYTES",
     "publish-pipelined: the queue's max_bytes, discarding the oldest, so "
     "that a long run stays in the node's memory budget (default "
     "268435456; 0: unlimited)"},
    {O_MESSAGES, 'n', "--messages", "N",
     "consume-ack, catchup-read: messages preloaded (default 200000); "
     "memory: messages published (default 1000000); snapshot-stall: "
     "messages preloaded and kept (default 1000000); drain: messages "
     "passing through each queue (default 1000000)"},
    {O_CONSUMERS, 0, "--consumers", "N",
     "consume-ack: clients fetching, each with its thread (default 2)"},
    {O_FETCH_BATCH, 0, "--fetch-batch", "N",
     "consume-ack, drain: messages per fetch (default 500); "
     "waiting-consumers, connection-churn: per fetch of a waiter (default "
     "100)"},
    {O_FETCH_WAIT, 0, "--fetch-wait-ms", "MS",
     "consume-ack, drain: long-poll wait of a fetch (default 500); "
     "waiting-consumers, connection-churn: of a waiter (default 30000)"},
    {O_READ_BATCH, 0, "--read-batch", "N",
     "catchup-read: messages per mq_read (default 1000)"},
    {O_RATE, 'r', "--rate", "N",
     "e2e-latency, waiting-consumers: messages per second published "
     "(default 1000); snapshot-stall: messages per second of the churn "
     "load (default 20000)"},
    {O_WAITERS, 0, "--waiters", "N",
     "waiting-consumers: long-poll fetches waiting at once, a thread each "
     "(default 10000); connection-churn: waiters loading the node meanwhile "
     "(default 1000, a client each; 0: none)"},
    {O_SUBS, 0, "--subs", "N",
     "waiting-consumers: subscriptions the waiters are spread over "
     "(default 1000)"},
    {O_WAITER_CLIENTS, 0, "--waiter-clients", "N",
     "clients the waiters share (default: waiting-consumers one per 100 "
     "waiters, connection-churn one per waiter)"},
    {O_QUEUES, 0, "--queues", "N",
     "many-queues: queues created, one subscription each (default 100000); "
     "drain: queues drained at once (default 20); waiting-consumers: "
     "queues the subscriptions are spread over (default: one per "
     "subscription)"},
    {O_ADMIN_THREADS, 0, "--admin-threads", "N",
     "many-queues: threads creating and deleting the queues (default 8)"},
    {O_CONNECTIONS, 0, "--connections", "N",
     "connection-churn: clients opened and closed, each doing one publish "
     "(default 20000)"},
    {O_WINDOW, 0, "--window", "N",
     "publish-pipelined: most messages a producer has published and not "
     "yet had answered (its own count, whatever libmq's settings; the "
     "producers default to 1 then; default: no limit but libmq's "
     "max_pending_messages); drain: most messages of a queue published "
     "and not yet acked (default 20000)"},
    {O_ACK, 0, "--ack", "each|batch",
     "consume-ack: acknowledge every message with a call of its own, or "
     "each fetched batch with one call (default batch)"},
    {O_STAGES, 0, "--stages", NULL,
     "after each of publish-sync, publish-pipelined, consume-ack and "
     "e2e-latency, print the nodes' latency breakdown over its timed part "
     "(docs/benchmarks.md, \"Where the time goes\"), one \"stages\" line "
     "per node and stage"},
    {O_SETTLE, 0, "--settle", "SECONDS",
     "drain, memory: wait before the last VmRSS reading; "
     "connection-churn: longest wait at the end for the nodes' descriptors "
     "to come back to their baseline (default 10)"},
    {O_PIDS, 0, "--pids", "PID[,PID...]",
     "memory, drain, connection-churn: node processes whose VmRSS (and "
     "open descriptors) are read"},
    {O_CLUSTER_DIR, 0, "--cluster-dir", "DIR",
     "memory, drain, connection-churn: read the pids from DIR/n1.pid, "
     "n2.pid, n3.pid (a deploy/cluster.sh directory) when --pids is "
     "absent; restart: the cluster to stop and start again (required)"},
    {O_TLS_CA, 0, "--tls-ca", "FILE",
     "CA (PEM) that signs the nodes' certificates, for tls+tcp:// URLs "
     "(default: $MQ_TLS_CA)"},
    {O_TLS_CERT, 0, "--tls-cert", "FILE",
     "client certificate (PEM) for nodes that require one (default: "
     "$MQ_TLS_CERT)"},
    {O_TLS_KEY, 0, "--tls-key", "FILE", "its key (default: $MQ_TLS_KEY)"},
    {O_HELP, 'h', "--help", NULL, "this text"},
    {O_VERSION, 0, "--version", NULL, "mqbench's and libmq's versions"},
};

#define N_TABLE (sizeof table / sizeof table[0])

static const char usage_text[] =
    "usage: mqbench [-s URL[,URL...]] [--case NAME]... [--duration SECONDS]\n"
    "               [--json] [options]   (mqbench --help for every flag)\n";

void opts_usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("mqbench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fputs(usage_text, stderr);
}

void opts_print_wrapped(FILE *out, const char *text)
{
    const char *s = text;

    while (*s != '\0') {
        size_t len = strlen(s), cut = len;
        if (len > 70) {
            cut = 70;
            while (cut > 0 && s[cut] != ' ') {
                cut--;
            }
            if (cut == 0) {
                cut = 70;
            }
        }
        fprintf(out, "        %.*s\n", (int)cut, s);
        s += cut;
        while (*s == ' ') {
            s++;
        }
    }
}

void opts_help(FILE *out)
{
    fputs("mqbench: benchmarks of a running mq cluster\n\n", out);
    fputs(usage_text, out);
    fputs("\nflags:\n", out);
    for (size_t i = 0; i < N_TABLE; i++) {
        const struct opt *t = &table[i];
        char head[64];
        if (t->short_name != 0) {
            snprintf(head, sizeof head, "-%c, %s%s%s", t->short_name, t->name,
                     t->arg != NULL ? " " : "", t->arg != NULL ? t->arg : "");
        } else {
            snprintf(head, sizeof head, "    %s%s%s", t->name,
                     t->arg != NULL ? " " : "", t->arg != NULL ? t->arg : "");
        }
        fprintf(out, "  %s\n", head);
        opts_print_wrapped(out, t->help);
    }
    fputs(
        "\nEach case prints one result line on stdout (publish-pipelined: one "
        "per size);\nprogress and error details go to stderr. Exit "
        "status: 0 if every case ran,\n1 if one failed to run (setup "
        "failed, or a wait reached --timeout), 2 for a\nusage error.\n",
        out);
}

static const struct opt *find(const char *arg, size_t len)
{
    for (size_t i = 0; i < N_TABLE; i++) {
        const struct opt *t = &table[i];
        if (len == 2 && arg[0] == '-' && arg[1] == t->short_name &&
            t->short_name != 0) {
            return t;
        }
        if (strlen(t->name) == len && strncmp(t->name, arg, len) == 0) {
            return t;
        }
    }
    return NULL;
}

/* Parses a decimal in min..max for flag @name. */
static int parse_u64(const char *name, const char *s, uint64_t min,
                     uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s[0] < '0' || s[0] > '9') {
        opts_usage_error("%s: \"%s\" is not a number", name, s);
        return -1;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') {
        opts_usage_error("%s: \"%s\" is not a number", name, s);
        return -1;
    }
    if (v < min || v > max) {
        opts_usage_error("%s: %llu is out of range %llu..%llu", name, v,
                         (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_u32(const char *name, const char *s, uint32_t min,
                     uint32_t max, uint32_t *out)
{
    uint64_t v;

    if (parse_u64(name, s, min, max, &v) != 0) {
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* Parses seconds with decimals ("0.5", "10") into ms, min 1 ms. */
static int parse_seconds(const char *name, const char *s, uint64_t *ms)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0.001) ||
        v > 7 * 86400.0) {
        opts_usage_error("%s: \"%s\" is not a number of seconds in "
                         "0.001..604800",
                         name, s);
        return -1;
    }
    *ms = (uint64_t)(v * 1000.0 + 0.5);
    return 0;
}

static int add_cases(struct bench_opts *o, char *list)
{
    char *save = NULL;

    for (char *t = strtok_r(list, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        if (o->n_cases == OPTS_CASES_MAX) {
            opts_usage_error("--case: more than %d cases", OPTS_CASES_MAX);
            return -1;
        }
        o->cases[o->n_cases++] = t;
    }
    return 0;
}

static int add_pids(struct bench_opts *o, char *list)
{
    char *save = NULL;

    o->n_pids = 0;
    for (char *t = strtok_r(list, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        uint64_t v;
        if (o->n_pids == OPTS_PIDS_MAX) {
            opts_usage_error("--pids: more than %d pids", OPTS_PIDS_MAX);
            return -1;
        }
        if (parse_u64("--pids", t, 1, INT32_MAX, &v) != 0) {
            return -1;
        }
        o->pids[o->n_pids++] = (pid_t)v;
    }
    if (o->n_pids == 0) {
        opts_usage_error("--pids: no pid given");
        return -1;
    }
    return 0;
}

/* Applies flag @t with value @v (NULL for a flag without value). */
static enum opts_result apply(struct bench_opts *o, const struct opt *t,
                              char *v)
{
    int rc = 0;

    switch (t->id) {
    case O_SERVERS:
        o->urls = v;
        break;
    case O_CASE:
        rc = add_cases(o, v);
        break;
    case O_DURATION:
        rc = parse_seconds(t->name, v, &o->duration_ms);
        o->duration_set = 1;
        break;
    case O_TIMEOUT:
        rc = parse_seconds(t->name, v, &o->timeout_ms);
        break;
    case O_JSON:
        o->json = 1;
        break;
    case O_KEEP:
        o->keep = 1;
        break;
    case O_VERBOSE:
        o->verbose = 1;
        break;
    case O_SIZE:
        rc = parse_u64(t->name, v, 1, 1024 * 1024, &o->size);
        o->size_set = 1;
        break;
    case O_CONCURRENCY:
        rc = parse_u32(t->name, v, 1, 1024, &o->concurrency);
        o->concurrency_set = 1;
        break;
    case O_PRODUCERS:
        rc = parse_u32(t->name, v, 1, 1024, &o->producers);
        o->producers_set = 1;
        break;
    case O_BATCH:
        rc = parse_u32(t->name, v, 1, MQ_MAX_BATCH, &o->batch);
        break;
    case O_LINGER:
        rc = parse_u32(t->name, v, 0, 60000, &o->linger_ms);
        break;
    case O_INFLIGHT:
        rc = parse_u32(t->name, v, 1, 1024, &o->inflight);
        break;
    case O_PENDING:
        rc = parse_u32(t->name, v, 1, 100000000, &o->pending);
        break;
    case O_QUEUE_MAX_BYTES:
        rc = parse_u64(t->name, v, 0, UINT64_MAX, &o->queue_max_bytes);
        break;
    case O_MESSAGES:
        rc = parse_u64(t->name, v, 1, 1000000000, &o->messages);
        o->messages_set = 1;
        break;
    case O_CONSUMERS:
        rc = parse_u32(t->name, v, 1, 256, &o->consumers);
        break;
    case O_FETCH_BATCH:
        rc = parse_u32(t->name, v, 1, MQ_MAX_BATCH, &o->fetch_batch);
        o->fetch_batch_set = 1;
        break;
    case O_FETCH_WAIT:
        rc = parse_u32(t->name, v, 0, 60000, &o->fetch_wait_ms);
        o->fetch_wait_set = 1;
        break;
    case O_READ_BATCH:
        rc = parse_u32(t->name, v, 1, MQ_MAX_BATCH, &o->read_batch);
        break;
    case O_RATE:
        rc = parse_u64(t->name, v, 1, 10000000, &o->rate);
        o->rate_set = 1;
        break;
    case O_WAITERS:
        rc = parse_u32(t->name, v, 0, 100000, &o->waiters);
        o->waiters_set = 1;
        break;
    case O_SUBS:
        rc = parse_u32(t->name, v, 1, 100000, &o->subs);
        break;
    case O_WAITER_CLIENTS:
        rc = parse_u32(t->name, v, 1, 10000, &o->waiter_clients);
        break;
    case O_QUEUES:
        rc = parse_u64(t->name, v, 1, 10000000, &o->queues);
        o->queues_set = 1;
        break;
    case O_ADMIN_THREADS:
        rc = parse_u32(t->name, v, 1, 256, &o->admin_threads);
        break;
    case O_CONNECTIONS:
        rc = parse_u64(t->name, v, 1, 100000000, &o->connections);
        break;
    case O_WINDOW:
        rc = parse_u64(t->name, v, 1, 100000000, &o->window);
        o->window_set = 1;
        break;
    case O_ACK:
        if (strcmp(v, "each") == 0 || strcmp(v, "batch") == 0) {
            o->ack_each = strcmp(v, "each") == 0;
        } else {
            opts_usage_error("--ack: \"%s\" is not each or batch", v);
            rc = -1;
        }
        break;
    case O_STAGES:
        o->stages = 1;
        break;
    case O_SETTLE:
        rc = parse_seconds(t->name, v, &o->settle_ms);
        break;
    case O_PIDS:
        rc = add_pids(o, v);
        break;
    case O_CLUSTER_DIR:
        o->cluster_dir = v;
        break;
    case O_TLS_CA:
        o->tls_ca = v;
        break;
    case O_TLS_CERT:
        o->tls_cert = v;
        break;
    case O_TLS_KEY:
        o->tls_key = v;
        break;
    case O_HELP:
        return OPTS_HELP;
    case O_VERSION:
        return OPTS_VERSION;
    }
    return rc == 0 ? OPTS_RUN : OPTS_USAGE;
}

static void set_defaults(struct bench_opts *o)
{
    memset(o, 0, sizeof *o);
    o->urls = OPTS_DEFAULT_URLS;
    o->duration_ms = 10000;
    o->timeout_ms = 120000;
    o->size = 100;
    o->concurrency = 1;
    o->producers = 2;
    o->consumers = 2;
    o->fetch_batch = 500;
    o->fetch_wait_ms = 500;
    o->read_batch = 1000;
    o->rate = 1000;
    o->queue_max_bytes = 256ull * 1024 * 1024;
    o->subs = 1000;
    o->admin_threads = 8;
    o->connections = 20000;
    o->window = 20000;
    o->settle_ms = 10000;
}

enum opts_result opts_parse(int argc, char **argv, struct bench_opts *o)
{
    set_defaults(o);
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        char *eq = NULL;
        size_t len;
        const struct opt *t;
        char *v = NULL;
        enum opts_result r;

        if (a[0] != '-' || a[1] == '\0') {
            opts_usage_error("unexpected argument \"%s\"", a);
            return OPTS_USAGE;
        }
        if (a[1] == '-') {
            eq = strchr(a, '=');
        }
        len = eq != NULL ? (size_t)(eq - a) : strlen(a);
        t = find(a, len);
        if (t == NULL) {
            opts_usage_error("unknown flag %.*s", (int)len, a);
            return OPTS_USAGE;
        }
        if (t->arg != NULL) {
            if (eq != NULL) {
                v = eq + 1;
            } else if (i + 1 < argc) {
                v = argv[++i];
            } else {
                opts_usage_error("%s needs a value (%s)", t->name, t->arg);
                return OPTS_USAGE;
            }
        } else if (eq != NULL) {
            opts_usage_error("%s takes no value", t->name);
            return OPTS_USAGE;
        }
        r = apply(o, t, v);
        if (r != OPTS_RUN) {
            return r;
        }
    }
    if (o->urls[0] == '\0') {
        opts_usage_error("--servers is empty");
        return OPTS_USAGE;
    }
    return OPTS_RUN;
}
