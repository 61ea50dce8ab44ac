/* common.h: what the cases share: clocks, the error note, clients and
 * queues set up the bench way, payloads, and the bulk loader. */
#ifndef MQBENCH_COMMON_H
#define MQBENCH_COMMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mq.h"
#include "opts.h"
#include "report.h"

/* A thread that fails this many publishes or fetches in a row stops: the
 * cluster is gone, and counting more errors says nothing new. */
#define BENCH_GIVE_UP_ERRORS 100

/* Name of the subscription the consuming cases create. */
#define BENCH_SUB "bench"

uint64_t mono_ns(void); /* CLOCK_MONOTONIC */
uint64_t real_ns(void); /* CLOCK_REALTIME, ns since the epoch */
void sleep_ms(uint32_t ms);

/* ms left until @deadline_ns (mono_ns), at least 1, at most UINT32_MAX. */
uint32_t ms_until(uint64_t deadline_ns);

/* With --verbose, prints "mqbench: <message>" on stderr. */
void progress(const struct bench_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Counts the errors of a case and keeps the first message, for stderr.
 * Any thread. */
struct errnote {
    pthread_mutex_t lock;
    _Atomic uint64_t n;
    char first[512];
};

void errnote_init(struct errnote *e);
void errnote_destroy(struct errnote *e);
void errnote_add(struct errnote *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
uint64_t errnote_count(struct errnote *e);
/* If there were errors, prints "mqbench: <what>: N errors; first: ..." on
 * stderr. */
void errnote_print(struct errnote *e, const char *what);

/* Opens a client of the one node @url that reads from it (and from
 * followers: reads_from_leader 0). Returns 0 and sets *out, or -1 after
 * report_fail. */
int bench_reader_open(const char *url, mq_client **out, struct report *r);

/* The key mqbench's clients present: $MQ_TOKEN (NULL: none), for a cluster
 * with authentication on. */
const char *bench_token(void);
/* Takes the TLS files from MQ_TLS_CA, MQ_TLS_CERT and MQ_TLS_KEY where
 * --tls-ca, --tls-cert and --tls-key were not given; once, at start. */
void bench_tls_init(struct bench_opts *o);

/* Sets @co's TLS files to the run's (bench_tls_init). */
void bench_tls_opts(const struct bench_opts *o, mq_client_opts *co);

/* Opens a client of o->urls with the async publish flags applied; without
 * --pending, max_pending_messages is libmq's default capped at 64 MiB of
 * @size-byte payloads. Returns 0 and sets *out, or -1 after report_fail. */
int bench_client_open(const struct bench_opts *o, size_t size, mq_client **out,
                      struct report *r);

/* Creates a fresh queue named "bench-<tag>-<8 random hex digits>" with
 * @cfg's settings (its name is ignored) and writes the name to @name.
 * Returns 0, or -1 after report_fail. */
int bench_queue_create(const struct bench_opts *o, mq_client *c,
                       const char *tag, const mq_queue_config *cfg,
                       char name[MQ_NAME_MAX + 1], struct report *r);

/* Deletes queue @name unless --keep; a failure is only told on stderr.
 * Returns 0 when it is deleted (NOT_FOUND counts: a retried delete whose
 * first attempt timed out finds it gone) or kept, -1 when the delete
 * failed. */
int bench_queue_delete(const struct bench_opts *o, mq_client *c,
                       const char *name);

/* Creates subscription BENCH_SUB of @queue from its first message.
 * Returns 0, or -1 after report_fail. */
int bench_sub_create(mq_client *c, const char *queue, struct report *r);

/* Waits until every node of o->urls that answers mq_cluster_status has
 * applied the largest commit index seen on the first answer, or
 * @deadline_ns; then tells on stderr ("mqbench: <what>: nodes still
 * applying at --timeout") and returns -1. Returns 0 when they all have. */
int bench_wait_applied(mq_client *c, const char *what, uint64_t deadline_ns);

/* Fills @buf with @len pseudo-random bytes (the same for the same
 * @seed), so that payloads do not compress. */
void payload_fill(unsigned char *buf, size_t len, uint64_t seed);

/* Before starting @threads threads: makes the process's futex hash big
 * enough for them where the kernel sizes it per process (common.c). */
void bench_threads_hint(size_t threads);

/* Runs @fn on @n threads and joins them. Thread i gets (char *)@args +
 * i * @stride (@stride 0: all get @args). Returns 0, or -1 after
 * report_fail if a thread could not start (the others still ran and were
 * joined). */
int threads_run(size_t n, void *(*fn)(void *), void *args, size_t stride,
                struct report *r);

/* The bulk loader: counts, the range of sequence numbers stored, and the
 * last raft index that stored some (for reads that must see them all). */
struct load {
    _Atomic uint64_t ok;
    _Atomic uint64_t errors;
    _Atomic uint64_t min_seq; /* UINT64_MAX until one is stored */
    _Atomic uint64_t max_seq;
    _Atomic uint64_t max_index;
    struct errnote *note;
};

void load_init(struct load *ld, struct errnote *note);

/* Publishes @n messages of @size bytes to @queue through @c with
 * mq_publish_async, as fast as libmq accepts them, then waits for every
 * answer (mq_flush). Failed publishes count in ld->errors. Returns 0 when
 * everything was answered before @deadline_ns, or -1 after report_fail
 * (the callbacks still due run at mq_client_close). */
int load_publish(mq_client *c, const char *queue, uint64_t n, size_t size,
                 uint64_t deadline_ns, struct load *ld, struct report *r);

/* The untimed preload of a case (@tag names it in progress lines): a
 * client of its own publishes @n messages of --size into @queue
 * (load_publish) by --timeout; adds preload_rate and preload_errors to @r.
 * Returns 0 when at least one message was stored, or -1 after
 * report_fail. */
int load_preload(const struct bench_opts *o, const char *tag, const char *queue,
                 uint64_t n, struct load *ld, struct report *r);

#endif
