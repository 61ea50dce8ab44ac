/* case_latency.c: e2e-latency.
 *
 * A publisher client sends --rate messages per second for --duration with
 * mq_publish_async, paced by clock_nanosleep to absolute deadlines (start +
 * i / rate, so a late message does not shift the ones after it). The
 * first 8 bytes of each payload are its send time (CLOCK_REALTIME ns, host
 * order), the rest padding up to --size. A subscriber (mq_subscribe, its
 * own client and thread) computes receive time - send time for each
 * message. Publisher and subscriber share this process, hence the clock.
 *
 * The latency so covers libmq's batching (linger_ms), replication to a
 * majority with fsync, and the subscriber's long poll. Failure modes:
 * failed publishes count in errors=; the case fails if the subscriber has
 * not received every stored message by --timeout after the last send. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "breakdown.h"
#include "cases.h"
#include "common.h"
#include "stats.h"

struct e2e_run {
    struct hist *h;
    struct errnote note;
    _Atomic uint64_t published; /* stored */
    _Atomic uint64_t received;  /* first deliveries */
    _Atomic uint64_t dups;
    /* Subscriber thread only: bit seq of the sequence numbers received. */
    uint64_t *seen;
    size_t seen_words;
};

/* Marks @seq received. Returns 1 if it already was. */
static int seen_before(struct e2e_run *run, uint64_t seq)
{
    size_t w = (size_t)(seq / 64);
    uint64_t bit = (uint64_t)1 << (seq % 64);

    if (w >= run->seen_words) {
        size_t words = (w + 1) * 2;
        uint64_t *p = realloc(run->seen, words * sizeof *p);
        if (p == NULL) {
            return 0; /* not tracked: counted as new */
        }
        memset(p + run->seen_words, 0, (words - run->seen_words) * sizeof *p);
        run->seen = p;
        run->seen_words = words;
    }
    if (run->seen[w] & bit) {
        return 1;
    }
    run->seen[w] |= bit;
    return 0;
}

/* libmq subscriber thread. */
static mq_action e2e_msg_cb(void *arg, mq_msg *m)
{
    struct e2e_run *run = arg;
    uint64_t now = real_ns(), sent;
    const void *p;
    size_t len;

    if (seen_before(run, mq_msg_seq(m))) {
        atomic_fetch_add(&run->dups, 1);
        return MQ_ACTION_ACK;
    }
    p = mq_msg_payload(m, &len);
    if (len >= sizeof sent) {
        memcpy(&sent, p, sizeof sent);
        hist_record(run->h, now > sent ? now - sent : 0);
    }
    atomic_fetch_add(&run->received, 1);
    return MQ_ACTION_ACK;
}

/* libmq sender thread. */
static void e2e_pub_cb(void *arg, const mq_pub_result *res)
{
    struct e2e_run *run = arg;

    if (res->err == MQ_OK) {
        atomic_fetch_add(&run->published, 1);
    } else {
        errnote_add(&run->note, "publish: %s", mq_strerror(res->err));
    }
}

static struct timespec ts_of(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    return ts;
}

/* Publishes at o->rate until @end_ns. Returns the messages sent. */
static uint64_t pace(const struct bench_opts *o, mq_client *c,
                     const char *queue, unsigned char *payload, size_t size,
                     uint64_t t0, uint64_t end_ns, struct e2e_run *run)
{
    mq_pub m = {0};
    uint64_t i = 0;

    m.payload = payload;
    m.payload_len = size;
    for (;; i++) {
        /* Exact to the ns for 104 days (double's 53 bits). */
        uint64_t at = t0 + (uint64_t)((double)i * 1e9 / (double)o->rate);
        if (at >= end_ns) {
            break;
        }
        struct timespec ts = ts_of(at);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) !=
               0) {
        }
        uint64_t stamp = real_ns();
        memcpy(payload, &stamp, sizeof stamp);
        if (mq_publish_async(c, queue, &m, e2e_pub_cb, run) != MQ_OK) {
            errnote_add(&run->note, "%s", mq_errmsg());
        }
    }
    return i;
}

/* Starts the subscriber. A fresh client may ask a follower that has not
 * applied the subscription yet (reads are answered by any node): NOT_FOUND
 * is retried until --timeout. */
static int subscribe(const struct bench_opts *o, mq_client *c,
                     const char *queue, struct e2e_run *run,
                     mq_subscriber **out, struct report *r)
{
    mq_subscribe_opts so = MQ_SUBSCRIBE_OPTS_INIT;
    uint64_t deadline = mono_ns() + o->timeout_ms * 1000000u;
    mq_err rv;

    for (;;) {
        rv = mq_subscribe(c, queue, BENCH_SUB, &so, e2e_msg_cb, run, out);
        if (rv == MQ_OK) {
            return 0;
        }
        if (rv != MQ_ERR_NOT_FOUND || mono_ns() >= deadline) {
            report_fail(r, "%s", mq_errmsg());
            return -1;
        }
        sleep_ms(20);
    }
}

int case_e2e_latency(const struct bench_opts *o)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    size_t size = o->size < 8 ? 8 : (size_t)o->size;
    struct e2e_run run;
    struct report r;
    struct breakdown bd = {0};
    mq_client *admin = NULL, *pub = NULL, *subc = NULL;
    mq_subscriber *sub = NULL;
    unsigned char *payload = NULL;
    char queue[MQ_NAME_MAX + 1];
    int created = 0;
    uint64_t t0, end_ns, deadline, sent, published;
    double secs;

    memset(&run, 0, sizeof run);
    errnote_init(&run.note);
    report_init(&r, "e2e-latency");
    report_u64(&r, "size", size);
    report_real(&r, "target", "target_msgs_s", (double)o->rate, 0, "msgs/s");
    payload = malloc(size);
    if (payload == NULL || hist_new(&run.h) != 0) {
        report_fail(&r, "out of memory");
        goto out;
    }
    payload_fill(payload, size, 1);
    qc.retention = MQ_RETENTION_WORK;
    if (bench_client_open(o, 0, &admin, &r) != 0 ||
        bench_queue_create(o, admin, "e2e-latency", &qc, queue, &r) != 0) {
        goto out;
    }
    created = 1;
    if (bench_sub_create(admin, queue, &r) != 0 ||
        bench_client_open(o, size, &pub, &r) != 0 ||
        bench_client_open(o, 0, &subc, &r) != 0) {
        goto out;
    }
    if (subscribe(o, subc, queue, &run, &sub, &r) != 0) {
        goto out;
    }
    progress(o, "e2e-latency: %llu msgs/s for %.1f s",
             (unsigned long long)o->rate, (double)o->duration_ms / 1000);
    breakdown_begin(o, &bd);
    t0 = mono_ns();
    end_ns = t0 + o->duration_ms * 1000000u;
    sent = pace(o, pub, queue, payload, size, t0, end_ns, &run);
    secs = (double)(mono_ns() - t0) / 1e9;
    deadline = mono_ns() + o->timeout_ms * 1000000u;
    if (mq_flush(pub, ms_until(deadline)) != MQ_OK) {
        report_fail(&r, "%s (--timeout)", mq_errmsg());
    }
    published = atomic_load(&run.published);
    while (atomic_load(&run.received) < published && mono_ns() < deadline) {
        sleep_ms(5);
    }
    mq_subscriber_stop(sub);
    sub = NULL;
    report_u64(&r, "sent", sent);
    report_real(&r, "rate", "rate_msgs_s", (double)published / secs, 0,
                "msgs/s");
    report_u64(&r, "received", atomic_load(&run.received));
    report_u64(&r, "dups", atomic_load(&run.dups));
    report_percentiles(&r, run.h);
    report_u64(&r, "errors", errnote_count(&run.note));
    if (atomic_load(&run.received) < published) {
        report_fail(&r,
                    "gave up with %llu of %llu messages received "
                    "(--timeout)",
                    (unsigned long long)atomic_load(&run.received),
                    (unsigned long long)published);
    }
out:
    report_print(&r, o->json);
    breakdown_end(o, &bd, "e2e-latency");
    errnote_print(&run.note, "e2e-latency");
    mq_subscriber_stop(sub);
    mq_client_close(subc);
    mq_client_close(pub);
    if (created) {
        bench_queue_delete(o, admin, queue);
    }
    mq_client_close(admin);
    hist_free(run.h);
    free(run.seen);
    free(payload);
    errnote_destroy(&run.note);
    return r.failed ? -1 : 0;
}
