/* common.c: clocks, the error note, bench clients and queues, payloads and
 * the bulk loader (see common.h). */
#include "common.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Without --pending, a client queues at most this many payload bytes. */
#define PENDING_BYTES_CAP (64u * 1024 * 1024)
/* libmq's default max_pending_messages (mq.h). */
#define LIBMQ_DEFAULT_PENDING 100000u

uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t real_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sleep_ms(uint32_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0) {
    }
}

uint32_t ms_until(uint64_t deadline_ns)
{
    uint64_t now = mono_ns(), ms;

    if (now >= deadline_ns) {
        return 1;
    }
    ms = (deadline_ns - now + 999999) / 1000000;
    return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

void progress(const struct bench_opts *o, const char *fmt, ...)
{
    va_list ap;

    if (!o->verbose) {
        return;
    }
    fputs("mqbench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void errnote_init(struct errnote *e)
{
    pthread_mutex_init(&e->lock, NULL);
    atomic_init(&e->n, 0);
    e->first[0] = '\0';
}

void errnote_destroy(struct errnote *e)
{
    pthread_mutex_destroy(&e->lock);
}

void errnote_add(struct errnote *e, const char *fmt, ...)
{
    va_list ap;

    /* Only the first message is formatted: the others cost an increment. */
    if (atomic_fetch_add(&e->n, 1) != 0) {
        return;
    }
    pthread_mutex_lock(&e->lock);
    va_start(ap, fmt);
    vsnprintf(e->first, sizeof e->first, fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&e->lock);
}

uint64_t errnote_count(struct errnote *e)
{
    return atomic_load(&e->n);
}

void errnote_print(struct errnote *e, const char *what)
{
    uint64_t n = errnote_count(e);

    if (n == 0) {
        return;
    }
    pthread_mutex_lock(&e->lock);
    fprintf(stderr, "mqbench: %s: %llu error%s; first: %s\n", what,
            (unsigned long long)n, n == 1 ? "" : "s", e->first);
    pthread_mutex_unlock(&e->lock);
}

const char *bench_token(void)
{
    const char *t = getenv("MQ_TOKEN");
    return t != NULL && t[0] != '\0' ? t : NULL;
}

/* The TLS files of the run (bench_tls_init), for bench_reader_open. */
static const char *tls_ca, *tls_cert, *tls_key;

void bench_tls_init(struct bench_opts *o)
{
    if (o->tls_ca == NULL) {
        o->tls_ca = getenv("MQ_TLS_CA");
    }
    if (o->tls_cert == NULL) {
        o->tls_cert = getenv("MQ_TLS_CERT");
    }
    if (o->tls_key == NULL) {
        o->tls_key = getenv("MQ_TLS_KEY");
    }
    tls_ca = o->tls_ca;
    tls_cert = o->tls_cert;
    tls_key = o->tls_key;
}

void bench_tls_opts(const struct bench_opts *o, mq_client_opts *co)
{
    (void)o;
    co->tls_ca_file = tls_ca;
    co->tls_cert_file = tls_cert;
    co->tls_key_file = tls_key;
}

int bench_client_open(const struct bench_opts *o, size_t size, mq_client **out,
                      struct report *r)
{
    mq_client_opts co = MQ_CLIENT_OPTS_INIT;
    mq_err rv;

    co.urls = o->urls;
    co.token = bench_token();
    bench_tls_opts(o, &co);
    co.batch_max_messages = o->batch;
    co.linger_ms = o->linger_ms;
    co.max_inflight_batches = o->inflight;
    co.max_pending_messages = o->pending;
    if (o->pending == 0 && size > 0 &&
        (uint64_t)LIBMQ_DEFAULT_PENDING * size > PENDING_BYTES_CAP) {
        co.max_pending_messages = (uint32_t)(PENDING_BYTES_CAP / size);
        if (co.max_pending_messages == 0) {
            co.max_pending_messages = 1;
        }
    }
    rv = mq_client_open(out, &co);
    if (rv != MQ_OK) {
        report_fail(r, "%s", mq_errmsg());
        return -1;
    }
    return 0;
}

int bench_reader_open(const char *url, mq_client **out, struct report *r)
{
    mq_client_opts co = MQ_CLIENT_OPTS_INIT;

    co.urls = url;
    co.token = bench_token();
    co.reads_from_leader = 0;
    bench_tls_opts(NULL, &co);
    if (mq_client_open(out, &co) != MQ_OK) {
        report_fail(r, "%s", mq_errmsg());
        return -1;
    }
    return 0;
}

static uint32_t random_u32(void)
{
    uint32_t v;

    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
        v = (uint32_t)(mono_ns() ^ ((uint64_t)getpid() << 16));
    }
    return v;
}

int bench_queue_create(const struct bench_opts *o, mq_client *c,
                       const char *tag, const mq_queue_config *cfg,
                       char name[MQ_NAME_MAX + 1], struct report *r)
{
    mq_queue_config qc = *cfg;
    mq_err rv;

    snprintf(name, MQ_NAME_MAX + 1, "bench-%s-%08x", tag, random_u32());
    qc.name = name;
    rv = mq_queue_create(c, &qc, NULL, 0);
    if (rv != MQ_OK) {
        report_fail(r, "%s", mq_errmsg());
        return -1;
    }
    progress(o, "%s: created queue %s", tag, name);
    return 0;
}

int bench_queue_delete(const struct bench_opts *o, mq_client *c,
                       const char *name)
{
    mq_err rv;

    if (o->keep) {
        fprintf(stderr, "mqbench: kept queue %s\n", name);
        return 0;
    }
    rv = mq_queue_delete(c, name, 0);
    /* NOT_FOUND: an attempt that timed out had deleted it. */
    if (rv != MQ_OK && rv != MQ_ERR_NOT_FOUND) {
        fprintf(stderr, "mqbench: %s\n", mq_errmsg());
        return -1;
    }
    return 0;
}

int bench_sub_create(mq_client *c, const char *queue, struct report *r)
{
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;

    sc.queue = queue;
    sc.name = BENCH_SUB;
    sc.start = MQ_START_FIRST;
    if (mq_sub_create(c, &sc, NULL, 0) != MQ_OK) {
        report_fail(r, "%s", mq_errmsg());
        return -1;
    }
    return 0;
}

int bench_wait_applied(mq_client *c, const char *what, uint64_t deadline_ns)
{
    uint64_t target = 0;

    while (mono_ns() < deadline_ns) {
        mq_node_status *st = NULL;
        size_t n = 0;
        int behind = 0;
        if (mq_cluster_status(c, &st, &n, ms_until(deadline_ns)) != MQ_OK) {
            sleep_ms(100);
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            if (st[i].err == MQ_OK && target == 0 &&
                st[i].commit_index > target) {
                target = st[i].commit_index;
            }
        }
        for (size_t i = 0; i < n; i++) {
            if (st[i].err == MQ_OK && st[i].applied_index < target) {
                behind = 1;
            }
        }
        mq_status_free(st);
        if (target != 0 && !behind) {
            return 0;
        }
        sleep_ms(50);
    }
    fprintf(stderr, "mqbench: %s: nodes still applying at --timeout\n", what);
    return -1;
}

void payload_fill(unsigned char *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;

    for (size_t i = 0; i < len; i++) {
        /* xorshift64 */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
}

/* Linux 6.16 and later give a threaded process its own futex hash, sized
 * for the CPUs (16 slots on 2 CPUs) and not for the threads: with
 * thousands of threads blocked in it, every wake-up walks a chain of hundreds
 * and the benchmark, not the cluster, becomes what is measured. Asks for about
 * four slots per thread; older kernels (one global hash) refuse the
 * request, which changes nothing. */
#ifndef PR_FUTEX_HASH
#define PR_FUTEX_HASH 78
#define PR_FUTEX_HASH_SET_SLOTS 1
#endif
#define FUTEX_SLOTS_MAX 65536

void bench_threads_hint(size_t threads)
{
    static _Atomic unsigned long set; /* only ever grows */
    unsigned long slots = 16;

    while (slots < 4 * threads && slots < FUTEX_SLOTS_MAX) {
        slots *= 2;
    }
    if (slots > atomic_load(&set) &&
        prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_SET_SLOTS, slots, 0UL, 0UL) == 0) {
        atomic_store(&set, slots);
    }
}

int threads_run(size_t n, void *(*fn)(void *), void *args, size_t stride,
                struct report *r)
{
    pthread_t *t = calloc(n, sizeof *t);
    size_t started = 0;
    int rc = 0;

    if (t == NULL) {
        report_fail(r, "start %zu threads: out of memory", n);
        return -1;
    }
    bench_threads_hint(n);
    for (; started < n; started++) {
        int err = pthread_create(&t[started], NULL, fn,
                                 (char *)args + started * stride);
        if (err != 0) {
            report_fail(r, "start thread %zu of %zu: %s", started + 1, n,
                        strerror(err));
            rc = -1;
            break;
        }
    }
    for (size_t i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
    }
    free(t);
    return rc;
}

void load_init(struct load *ld, struct errnote *note)
{
    atomic_init(&ld->ok, 0);
    atomic_init(&ld->errors, 0);
    atomic_init(&ld->min_seq, UINT64_MAX);
    atomic_init(&ld->max_seq, 0);
    atomic_init(&ld->max_index, 0);
    ld->note = note;
}

/* libmq sender thread: one answer. */
static void load_cb(void *arg, const mq_pub_result *res)
{
    struct load *ld = arg;
    uint64_t v;

    if (res->err != MQ_OK) {
        atomic_fetch_add(&ld->errors, 1);
        errnote_add(ld->note, "publish: %s", mq_strerror(res->err));
        return;
    }
    atomic_fetch_add_explicit(&ld->ok, 1, memory_order_relaxed);
    v = atomic_load_explicit(&ld->min_seq, memory_order_relaxed);
    while (res->seq < v &&
           !atomic_compare_exchange_weak(&ld->min_seq, &v, res->seq)) {
    }
    v = atomic_load_explicit(&ld->max_seq, memory_order_relaxed);
    while (res->seq > v &&
           !atomic_compare_exchange_weak(&ld->max_seq, &v, res->seq)) {
    }
    v = atomic_load_explicit(&ld->max_index, memory_order_relaxed);
    while (res->index > v &&
           !atomic_compare_exchange_weak(&ld->max_index, &v, res->index)) {
    }
}

int load_publish(mq_client *c, const char *queue, uint64_t n, size_t size,
                 uint64_t deadline_ns, struct load *ld, struct report *r)
{
    unsigned char *payload = malloc(size);
    mq_pub m = {0};
    uint64_t sent = 0;
    mq_err rv;

    if (payload == NULL) {
        report_fail(r, "load %s: out of memory", queue);
        return -1;
    }
    payload_fill(payload, size, 1);
    m.payload = payload;
    m.payload_len = size;
    for (; sent < n && mono_ns() < deadline_ns; sent++) {
        rv = mq_publish_async(c, queue, &m, load_cb, ld);
        if (rv != MQ_OK) {
            atomic_fetch_add(&ld->errors, 1);
            errnote_add(ld->note, "%s", mq_errmsg());
        }
    }
    free(payload);
    if (sent < n) {
        report_fail(r,
                    "load %s: gave up after %llu of %llu messages queued "
                    "(--timeout)",
                    queue, (unsigned long long)sent, (unsigned long long)n);
        return -1;
    }
    rv = mq_flush(c, ms_until(deadline_ns));
    if (rv != MQ_OK) {
        report_fail(r, "load %s: %s (--timeout)", queue, mq_errmsg());
        return -1;
    }
    return 0;
}

int load_preload(const struct bench_opts *o, const char *tag, const char *queue,
                 uint64_t n, struct load *ld, struct report *r)
{
    mq_client *c = NULL;
    uint64_t t0;
    int rc;

    if (bench_client_open(o, o->size, &c, r) != 0) {
        return -1;
    }
    progress(o, "%s: preloading %llu messages of %llu bytes", tag,
             (unsigned long long)n, (unsigned long long)o->size);
    t0 = mono_ns();
    rc = load_publish(c, queue, n, o->size, t0 + o->timeout_ms * 1000000u, ld,
                      r);
    mq_client_close(c);
    report_real(r, "preload_rate", "preload_rate_msgs_s",
                (double)atomic_load(&ld->ok) / ((double)(mono_ns() - t0) / 1e9),
                0, "msgs/s");
    report_u64(r, "preload_errors", atomic_load(&ld->errors));
    if (rc != 0) {
        return -1;
    }
    if (atomic_load(&ld->ok) == 0) {
        report_fail(r, "preload stored no message");
        return -1;
    }
    return 0;
}
