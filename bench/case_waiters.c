/* case_waiters.c: waiting-consumers.
 *
 * Many consumers waiting at once: --waiters long-poll fetches (waiters.h:
 * a thread each, sharing --waiter-clients clients) spread over --subs
 * subscriptions, which are spread over --queues queues (default one queue
 * per subscription, so that each message goes to one waiter; --queues 1
 * gives every subscription every message). Steps:
 *
 * 1. Creates the queues (work retention) and the subscriptions "w0",
 *    "w1", ... (subscription j on queue j % --queues).
 * 2. Starts the probe (probe.h, a synchronous publish every 5 ms into a
 *    queue of its own) and records the idle figure for min(--duration,
 *    5 s).
 * 3. Starts the waiters, lets them settle for 1 s, then records the probe
 *    again while one client publishes --rate messages per second for
 *    --duration with mq_publish_async (round robin over the queues), each
 *    payload stamped with its send time (CLOCK_REALTIME, first 8 bytes).
 * 4. Waits until the waiters have received every message published (each
 *    subscription gets each message of its queue once), up to --timeout
 *    or 10 s without a new delivery; then stops the waiters by deleting
 *    the queues (a waiting fetch then ends at once) and joins them.
 *
 * The line: served= (waiters that got at least one message) of waiters=,
 * deliveries= of expected=, publish-to-receive p50/p99/p99.9/max of first
 * deliveries, the probe's idle and loaded p50/p99 (failed calls counted
 * with their time, and in probe_errors=) and their p99 ratio, and
 * the failed fetches: refused= (answered at once with an error, e.g. a cap
 * on waiting fetches; refused_max= is the longest such answer took,
 * refused_first= its message) apart from timeouts=. Nothing here fails
 * the case but setup: a node that stops answering shows as timeouts,
 * probe_errors and missing deliveries. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cases.h"
#include "common.h"
#include "probe.h"
#include "stats.h"
#include "waiters.h"

#define PROBE_INTERVAL_MS 5
#define IDLE_MAX_MS 5000
#define SETTLE_MS 1000
/* Waiting for the last deliveries gives up after this long without one. */
#define NO_PROGRESS_MS 10000

struct wc_queue {
    char name[MQ_NAME_MAX + 1];
    int created;
    uint64_t subs;              /* subscriptions on it */
    _Atomic uint64_t published; /* stored */
    struct errnote *note;
};

/* libmq sender thread. */
static void wc_pub_cb(void *arg, const mq_pub_result *res)
{
    struct wc_queue *q = arg;

    if (res->err == MQ_OK) {
        atomic_fetch_add(&q->published, 1);
    } else {
        errnote_add(q->note, "publish to %s: %s", q->name,
                    mq_strerror(res->err));
    }
}

/* Publishes at o->rate round robin over @qs until @end_ns. Returns the
 * messages sent. */
static uint64_t wc_pace(const struct bench_opts *o, mq_client *c,
                        struct wc_queue *qs, size_t n_qs,
                        unsigned char *payload, size_t size, uint64_t end_ns,
                        struct errnote *note)
{
    uint64_t t0 = mono_ns(), i = 0;
    mq_pub m = {0};

    m.payload = payload;
    m.payload_len = size;
    for (;; i++) {
        uint64_t at = t0 + (uint64_t)((double)i * 1e9 / (double)o->rate);
        struct timespec ts = {(time_t)(at / 1000000000u),
                              (long)(at % 1000000000u)};
        uint64_t stamp;
        if (at >= end_ns) {
            break;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) !=
               0) {
        }
        stamp = real_ns();
        memcpy(payload, &stamp, sizeof stamp);
        if (mq_publish_async(c, qs[i % n_qs].name, &m, wc_pub_cb,
                             &qs[i % n_qs]) != MQ_OK) {
            errnote_add(note, "%s", mq_errmsg());
        }
    }
    return i;
}

static uint64_t expected_deliveries(struct wc_queue *qs, size_t n_qs)
{
    uint64_t e = 0;

    for (size_t i = 0; i < n_qs; i++) {
        e += atomic_load(&qs[i].published) * qs[i].subs;
    }
    return e;
}

/* Creates the queues and the subscriptions; fills @targets. */
static int wc_setup(const struct bench_opts *o, mq_client *admin,
                    struct wc_queue *qs, size_t n_qs,
                    struct waiter_target *targets, size_t n_subs,
                    struct report *r)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;

    qc.retention = MQ_RETENTION_WORK;
    for (size_t i = 0; i < n_qs; i++) {
        if (bench_queue_create(o, admin, "waiters", &qc, qs[i].name, r) != 0) {
            return -1;
        }
        qs[i].created = 1;
    }
    progress(o, "waiting-consumers: creating %zu subscriptions", n_subs);
    for (size_t j = 0; j < n_subs; j++) {
        mq_sub_config sc = MQ_SUB_CONFIG_INIT;
        struct wc_queue *q = &qs[j % n_qs];
        snprintf(targets[j].queue, sizeof targets[j].queue, "%s", q->name);
        snprintf(targets[j].sub, sizeof targets[j].sub, "w%zu", j);
        sc.queue = q->name;
        sc.name = targets[j].sub;
        sc.start = MQ_START_FIRST;
        if (mq_sub_create(admin, &sc, NULL, 0) != MQ_OK) {
            report_fail(r, "%s", mq_errmsg());
            return -1;
        }
        q->subs++;
    }
    return 0;
}

/* Waits for the deliveries of every message published, or until none came
 * for NO_PROGRESS_MS, or --timeout. */
static void wc_drain(const struct bench_opts *o, struct waiters *w,
                     struct wc_queue *qs, size_t n_qs)
{
    uint64_t deadline = mono_ns() + o->timeout_ms * 1000000u;
    uint64_t expected = expected_deliveries(qs, n_qs);
    uint64_t last = atomic_load(&w->deliveries), last_ns = mono_ns();

    progress(o, "waiting-consumers: waiting for %llu deliveries (%llu so far)",
             (unsigned long long)expected, (unsigned long long)last);
    while (mono_ns() < deadline) {
        uint64_t now_d = atomic_load(&w->deliveries);
        if (now_d >= expected) {
            return;
        }
        if (now_d != last) {
            last = now_d;
            last_ns = mono_ns();
        } else if (mono_ns() - last_ns > NO_PROGRESS_MS * 1000000ull) {
            progress(o,
                     "waiting-consumers: no delivery for %d s: stop "
                     "waiting",
                     NO_PROGRESS_MS / 1000);
            return;
        }
        sleep_ms(50);
    }
}

static void report_probe(struct report *r, struct probe *p)
{
    uint64_t idle99 = hist_percentile(p->h[0], 99.0);
    uint64_t load99 = hist_percentile(p->h[1], 99.0);

    report_latency(r, "idle_pub_p50", "idle_pub_p50_us",
                   hist_percentile(p->h[0], 50.0));
    report_latency(r, "idle_pub_p99", "idle_pub_p99_us", idle99);
    report_latency(r, "pub_p50", "pub_p50_us", hist_percentile(p->h[1], 50.0));
    report_latency(r, "pub_p99", "pub_p99_us", load99);
    if (idle99 > 0 && load99 > 0) {
        report_real(r, "pub_p99_ratio", "pub_p99_ratio",
                    (double)load99 / (double)idle99, 2, NULL);
    } else {
        report_str(r, "pub_p99_ratio", "unknown");
    }
    report_u64(r, "probe_calls", hist_count(p->h[1]));
    report_u64(r, "probe_errors", atomic_load(&p->fails[1]));
}

int case_waiting_consumers(const struct bench_opts *o)
{
    size_t n_waiters = o->waiters_set ? o->waiters : 10000;
    size_t n_subs = o->subs;
    size_t n_qs = o->queues_set ? (size_t)o->queues : n_subs;
    uint32_t batch = o->fetch_batch_set ? o->fetch_batch : 100;
    uint32_t wait_ms = o->fetch_wait_set ? o->fetch_wait_ms : 30000;
    size_t size = o->size < 8 ? 8 : (size_t)o->size;
    uint64_t idle_ms =
        o->duration_ms < IDLE_MAX_MS ? o->duration_ms : IDLE_MAX_MS;
    struct waiter_target *targets = NULL;
    struct wc_queue *qs = NULL;
    struct waiters w;
    struct probe p;
    struct errnote pub_note;
    struct report r;
    struct hist *h = NULL;
    mq_client *admin = NULL, *pub = NULL;
    unsigned char *payload = NULL;
    uint64_t t0, sent = 0, published = 0;
    double secs;

    memset(&w, 0, sizeof w);
    memset(&p, 0, sizeof p);
    errnote_init(&pub_note);
    report_init(&r, "waiting-consumers");
    report_u64(&r, "subs", n_subs);
    report_u64(&r, "queues", n_qs);
    report_u64(&r, "wait_ms", wait_ms);
    report_real(&r, "target", "target_msgs_s", (double)o->rate, 0, "msgs/s");
    if (n_qs > n_subs) {
        report_fail(&r, "--queues %zu is more than --subs %zu", n_qs, n_subs);
        goto out;
    }
    if (n_waiters == 0) {
        report_fail(&r, "--waiters is 0");
        goto out;
    }
    qs = calloc(n_qs, sizeof *qs);
    targets = calloc(n_subs, sizeof *targets);
    payload = malloc(size);
    if (qs == NULL || targets == NULL || payload == NULL || hist_new(&h) != 0) {
        report_fail(&r, "out of memory");
        goto out;
    }
    payload_fill(payload, size, 1);
    for (size_t i = 0; i < n_qs; i++) {
        qs[i].note = &pub_note;
        atomic_init(&qs[i].published, 0);
    }
    if (bench_client_open(o, 0, &admin, &r) != 0 ||
        wc_setup(o, admin, qs, n_qs, targets, n_subs, &r) != 0 ||
        bench_client_open(o, size, &pub, &r) != 0 ||
        probe_start(&p, o, "waiters", PROBE_INTERVAL_MS, &r) != 0) {
        goto out;
    }
    progress(o, "waiting-consumers: idle probe for %.1f s",
             (double)idle_ms / 1000);
    probe_phase(&p, 0);
    sleep_ms((uint32_t)idle_ms);
    probe_phase(&p, -1);
    progress(o, "waiting-consumers: starting %zu waiters on %zu subscriptions",
             n_waiters, n_subs);
    if (waiters_start(&w, o, n_waiters, o->waiter_clients, targets, n_subs,
                      batch, wait_ms, h, &r) != 0) {
        goto stop;
    }
    sleep_ms(SETTLE_MS);
    progress(o, "waiting-consumers: publishing %llu msgs/s for %.1f s",
             (unsigned long long)o->rate, (double)o->duration_ms / 1000);
    probe_phase(&p, 1);
    t0 = mono_ns();
    sent = wc_pace(o, pub, qs, n_qs, payload, size,
                   t0 + o->duration_ms * 1000000u, &pub_note);
    secs = (double)(mono_ns() - t0) / 1e9;
    probe_phase(&p, -1);
    if (mq_flush(pub, ms_until(mono_ns() + o->timeout_ms * 1000000u)) !=
        MQ_OK) {
        errnote_add(&pub_note, "%s (--timeout)", mq_errmsg());
    }
    for (size_t i = 0; i < n_qs; i++) {
        published += atomic_load(&qs[i].published);
    }
    report_u64(&r, "sent", sent);
    report_real(&r, "rate", "rate_msgs_s", (double)published / secs, 0,
                "msgs/s");
    report_u64(&r, "pub_errors", errnote_count(&pub_note));
    wc_drain(o, &w, qs, n_qs);
stop:
    progress(o, "waiting-consumers: stopping the waiters");
    waiters_signal_stop(&w);
    for (size_t i = 0; i < n_qs; i++) {
        if (qs[i].created && bench_queue_delete(o, admin, qs[i].name) == 0) {
            qs[i].created = 0;
        }
    }
    waiters_stop(&w);
    report_u64(&r, "expected", expected_deliveries(qs, n_qs));
    waiters_report(&w, &r);
    report_percentiles(&r, h);
    report_probe(&r, &p);
out:
    report_print(&r, o->json);
    errnote_print(&pub_note, "waiting-consumers publish");
    waiters_print_errors(&w, "waiting-consumers");
    if (p.o != NULL) {
        errnote_print(&p.note, "waiting-consumers probe");
    }
    probe_close(&p);
    waiters_free(&w);
    mq_client_close(pub);
    for (size_t i = 0; qs != NULL && i < n_qs; i++) {
        if (qs[i].created) {
            bench_queue_delete(o, admin, qs[i].name);
        }
    }
    mq_client_close(admin);
    hist_free(h);
    free(payload);
    free(targets);
    free(qs);
    errnote_destroy(&pub_note);
    return r.failed ? -1 : 0;
}
