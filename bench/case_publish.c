/* case_publish.c: publish-sync and publish-pipelined.
 *
 * publish-sync: --concurrency threads share one client; each publishes one
 * message at a time with mq_publish, which returns once a majority of the
 * nodes has the message on disk, and records the time of each call. The
 * run lasts --duration (calls under way then finish).
 *
 * publish-pipelined, once per size: --producers clients, each driven by its
 * own thread, call mq_publish_async as fast as libmq accepts (it blocks
 * while max_pending_messages are unanswered) for --duration, then mq_flush.
 * With --window N, each producer (one unless --producers says otherwise)
 * also keeps at most N messages unanswered by its own count: it waits for
 * a callback before publishing the N+1st, as a producer with a window of
 * N in flight does with any broker.
 * A message's latency runs from its mq_publish_async call to its callback,
 * so it includes the wait in the client's queue. The rate counts messages
 * stored, over the time from the start until the last flush returned.
 *
 * Failure modes: a publish that fails is counted (errors=) with its first
 * message on stderr; a thread that fails BENCH_GIVE_UP_ERRORS in a row
 * stops and the case fails, as it does when a flush reaches --timeout. */
#include <stdlib.h>
#include <string.h>

#include "breakdown.h"
#include "cases.h"
#include "common.h"
#include "stats.h"

struct sync_run {
    mq_client *c;
    const char *queue;
    const unsigned char *payload;
    size_t size;
    uint64_t end_ns;
    struct hist *h;
    struct errnote note;
    _Atomic int gave_up;
};

static void *sync_thread(void *arg)
{
    struct sync_run *s = arg;
    mq_pub m = {0};
    unsigned fails = 0;

    m.payload = s->payload;
    m.payload_len = s->size;
    while (mono_ns() < s->end_ns) {
        uint64_t t0 = mono_ns();
        mq_err rv = mq_publish(s->c, s->queue, &m, NULL, 0);
        if (rv == MQ_OK) {
            hist_record(s->h, mono_ns() - t0);
            fails = 0;
            continue;
        }
        errnote_add(&s->note, "%s", mq_errmsg());
        if (++fails == BENCH_GIVE_UP_ERRORS) {
            atomic_store(&s->gave_up, 1);
            break;
        }
    }
    return NULL;
}

/* Rate, and MB/s of payload when @size is not 0. */
static void report_rate(struct report *r, uint64_t msgs, size_t size,
                        double secs)
{
    double rate = secs > 0 ? (double)msgs / secs : 0;

    report_u64(r, "msgs", msgs);
    report_real(r, "secs", "secs", secs, 1, NULL);
    report_real(r, "rate", "rate_msgs_s", rate, 0, "msgs/s");
    if (size != 0) {
        report_real(r, "mb", "mb_s", rate * (double)size / 1e6, 1, "MB/s");
    }
}

int case_publish_sync(const struct bench_opts *o)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    struct sync_run s;
    struct report r;
    struct breakdown bd = {0};
    mq_client *c = NULL;
    unsigned char *payload = NULL;
    char queue[MQ_NAME_MAX + 1];
    int created = 0;
    uint64_t t0;
    double secs;

    memset(&s, 0, sizeof s);
    errnote_init(&s.note);
    report_init(&r, "publish-sync");
    report_u64(&r, "size", o->size);
    report_u64(&r, "concurrency", o->concurrency);
    payload = malloc(o->size);
    if (payload == NULL || hist_new(&s.h) != 0) {
        report_fail(&r, "out of memory");
        goto out;
    }
    payload_fill(payload, o->size, 1);
    if (bench_client_open(o, o->size, &c, &r) != 0 ||
        bench_queue_create(o, c, "publish-sync", &qc, queue, &r) != 0) {
        goto out;
    }
    created = 1;
    s.c = c;
    s.queue = queue;
    s.payload = payload;
    s.size = o->size;
    progress(o, "publish-sync: %u thread(s) for %.1f s", o->concurrency,
             (double)o->duration_ms / 1000);
    breakdown_begin(o, &bd);
    t0 = mono_ns();
    s.end_ns = t0 + o->duration_ms * 1000000u;
    threads_run(o->concurrency, sync_thread, &s, 0, &r);
    secs = (double)(mono_ns() - t0) / 1e9;
    report_rate(&r, hist_count(s.h), 0, secs);
    report_percentiles(&r, s.h);
    report_u64(&r, "errors", errnote_count(&s.note));
    if (atomic_load(&s.gave_up)) {
        report_fail(&r, "gave up after %d failed publishes in a row",
                    BENCH_GIVE_UP_ERRORS);
    }
out:
    report_print(&r, o->json);
    breakdown_end(o, &bd, "publish-sync");
    errnote_print(&s.note, "publish-sync");
    if (created) {
        bench_queue_delete(o, c, queue);
    }
    mq_client_close(c);
    hist_free(s.h);
    free(payload);
    errnote_destroy(&s.note);
    return r.failed ? -1 : 0;
}

struct pipe_run {
    const char *queue;
    const unsigned char *payload;
    size_t size;
    uint64_t end_ns;     /* publishing stops */
    uint64_t timeout_ms; /* a flush gives up */
    uint64_t window;     /* --window per producer; 0: none */
    struct hist *h;
    struct errnote note;
    _Atomic int gave_up;
};

struct producer {
    struct pipe_run *run;
    mq_client *c;
    char flush_err[256]; /* "" if the flush succeeded */
    /* --window: messages published and not answered yet */
    pthread_mutex_t lock;
    pthread_cond_t room;
    uint64_t inflight;
};

/* One message in flight: what its callback needs. */
struct pipe_msg {
    struct producer *p;
    uint64_t t0;
};

/* libmq sender thread. */
static void pipe_cb(void *arg, const mq_pub_result *res)
{
    struct pipe_msg *pm = arg;
    struct producer *p = pm->p;
    struct pipe_run *run = p->run;

    if (res->err == MQ_OK) {
        hist_record(run->h, mono_ns() - pm->t0);
    } else {
        errnote_add(&run->note, "publish to %s: %s", run->queue,
                    mq_strerror(res->err));
    }
    free(pm);
    if (run->window != 0) {
        pthread_mutex_lock(&p->lock);
        p->inflight--;
        pthread_cond_signal(&p->room);
        pthread_mutex_unlock(&p->lock);
    }
}

/* --window: waits until @p has fewer than the window unanswered, then
 * counts one more. */
static void window_take(struct producer *p)
{
    if (p->run->window == 0) {
        return;
    }
    pthread_mutex_lock(&p->lock);
    while (p->inflight >= p->run->window) {
        pthread_cond_wait(&p->room, &p->lock);
    }
    p->inflight++;
    pthread_mutex_unlock(&p->lock);
}

static void window_give_back(struct producer *p)
{
    if (p->run->window == 0) {
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->inflight--;
    pthread_mutex_unlock(&p->lock);
}

static void *producer_thread(void *arg)
{
    struct producer *p = arg;
    struct pipe_run *run = p->run;
    mq_pub m = {0};
    unsigned fails = 0;

    m.payload = run->payload;
    m.payload_len = run->size;
    while (mono_ns() < run->end_ns) {
        struct pipe_msg *pm = malloc(sizeof *pm);
        if (pm == NULL) {
            errnote_add(&run->note, "out of memory");
            atomic_store(&run->gave_up, 1);
            break;
        }
        pm->p = p;
        window_take(p);
        pm->t0 = mono_ns();
        mq_err rv = mq_publish_async(p->c, run->queue, &m, pipe_cb, pm);
        if (rv == MQ_OK) {
            fails = 0;
            continue;
        }
        window_give_back(p);
        free(pm);
        errnote_add(&run->note, "%s", mq_errmsg());
        if (++fails == BENCH_GIVE_UP_ERRORS) {
            atomic_store(&run->gave_up, 1);
            break;
        }
    }
    /* The last call may have waited for room past end_ns: the flush gets
     * its whole --timeout from now. */
    if (mq_flush(p->c, ms_until(mono_ns() + run->timeout_ms * 1000000u)) !=
        MQ_OK) {
        snprintf(p->flush_err, sizeof p->flush_err, "%s", mq_errmsg());
    }
    return NULL;
}

/* One line of publish-pipelined: payloads of @size bytes. */
static int pipelined_run(const struct bench_opts *o, size_t size)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    struct producer *prods = NULL;
    struct pipe_run run;
    struct report r;
    struct breakdown bd = {0};
    mq_client *admin = NULL;
    unsigned char *payload = NULL;
    char queue[MQ_NAME_MAX + 1];
    int created = 0;
    uint32_t n_prods = o->window_set && !o->producers_set ? 1 : o->producers;
    uint64_t t0;
    double secs;

    memset(&run, 0, sizeof run);
    errnote_init(&run.note);
    report_init(&r, "publish-pipelined");
    report_u64(&r, "size", size);
    report_u64(&r, "producers", n_prods);
    if (o->window_set) {
        run.window = o->window;
        report_u64(&r, "window", run.window);
    }
    payload = malloc(size);
    prods = calloc(n_prods, sizeof *prods);
    if (payload == NULL || prods == NULL || hist_new(&run.h) != 0) {
        report_fail(&r, "out of memory");
        goto out;
    }
    payload_fill(payload, size, 1);
    qc.max_bytes = o->queue_max_bytes;
    qc.discard = MQ_DISCARD_OLD;
    if (bench_client_open(o, 0, &admin, &r) != 0 ||
        bench_queue_create(o, admin, "publish-pipelined", &qc, queue, &r) !=
            0) {
        goto out;
    }
    created = 1;
    run.queue = queue;
    run.payload = payload;
    run.size = size;
    for (uint32_t i = 0; i < n_prods; i++) {
        prods[i].run = &run;
        pthread_mutex_init(&prods[i].lock, NULL);
        pthread_cond_init(&prods[i].room, NULL);
        if (bench_client_open(o, size, &prods[i].c, &r) != 0) {
            goto out;
        }
    }
    progress(o, "publish-pipelined: %zu bytes, %u producer(s) for %.1f s", size,
             n_prods, (double)o->duration_ms / 1000);
    breakdown_begin(o, &bd);
    t0 = mono_ns();
    run.end_ns = t0 + o->duration_ms * 1000000u;
    run.timeout_ms = o->timeout_ms;
    threads_run(n_prods, producer_thread, prods, sizeof *prods, &r);
    secs = (double)(mono_ns() - t0) / 1e9;
    /* Close now: answers still due after a failed flush are canceled
     * (and counted) before the counts are read. */
    for (uint32_t i = 0; i < n_prods; i++) {
        mq_client_close(prods[i].c);
        prods[i].c = NULL;
    }
    report_rate(&r, hist_count(run.h), size, secs);
    report_latency(&r, "p50", "p50_us", hist_percentile(run.h, 50.0));
    report_latency(&r, "p99", "p99_us", hist_percentile(run.h, 99.0));
    report_latency(&r, "max", "max_us", hist_max(run.h));
    report_u64(&r, "errors", errnote_count(&run.note));
    for (uint32_t i = 0; i < n_prods; i++) {
        if (prods[i].flush_err[0] != '\0') {
            report_fail(&r, "producer %u: %s (--timeout)", i + 1,
                        prods[i].flush_err);
        }
    }
    if (atomic_load(&run.gave_up)) {
        report_fail(&r, "gave up after %d failed publishes in a row",
                    BENCH_GIVE_UP_ERRORS);
    }
out:
    report_print(&r, o->json);
    breakdown_end(o, &bd, "publish-pipelined");
    errnote_print(&run.note, "publish-pipelined");
    for (uint32_t i = 0; prods != NULL && i < n_prods; i++) {
        mq_client_close(prods[i].c);
        if (prods[i].run != NULL) {
            pthread_cond_destroy(&prods[i].room);
            pthread_mutex_destroy(&prods[i].lock);
        }
    }
    if (created) {
        bench_queue_delete(o, admin, queue);
    }
    mq_client_close(admin);
    hist_free(run.h);
    free(prods);
    free(payload);
    errnote_destroy(&run.note);
    return r.failed ? -1 : 0;
}

int case_publish_pipelined(const struct bench_opts *o)
{
    static const size_t sizes[] = {100, 1024, 16384};
    int rc = 0;

    if (o->size_set) {
        return pipelined_run(o, o->size);
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (pipelined_run(o, sizes[i]) != 0) {
            rc = -1;
        }
    }
    return rc;
}
