/* case_scale.c: many-queues.
 *
 * Whether a request pays for the queues it does not touch. Steps, each
 * measurement lasting --duration:
 *
 * 1. On one fresh queue with one subscription: a client publishes one
 *    message at a time with mq_publish (latency p50/p99), then --producers
 *    synchronous producers (a client and a thread each, one mq_publish at
 *    a time) publish into it (rate). The queue is deleted.
 * 2. --admin-threads threads sharing one client create --queues queues
 *    "bench-many-<hex>-<i>", each with subscription "bench" (two
 *    replicated admin calls each, as fast as the node answers them):
 *    the time is reported.
 * 3. The same two measurements with the queues present: latency on the
 *    queue in the middle, producers spread over all of them (producer j
 *    publishes to queues j, j + P, j + 2P, ... in turn).
 * 4. The queues are deleted (timed) unless --keep, which leaves them for
 *    the restart case.
 *
 * The line has both pairs of figures and their ratios (p50_ratio =
 * p50 / single_p50, rate_ratio = rate / single_rate). Failed publishes
 * and admin calls count in errors= (first message on stderr). Creation
 * stops at --timeout, or when a thread fails BENCH_GIVE_UP_ERRORS calls in
 * a row; the case then fails but still measures with the queues it made
 * and deletes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cases.h"
#include "common.h"
#include "stats.h"

struct mq_scale {
    const struct bench_opts *o;
    mq_client *admin;
    char prefix[40]; /* "bench-many-<hex>" */
    uint64_t n;
    unsigned char *made; /* made[i]: queue i exists */
    _Atomic uint64_t next;
    _Atomic uint64_t done;
    _Atomic int gave_up;
    uint64_t deadline_ns;
    int deleting;
    struct errnote note;
};

static void queue_name(const struct mq_scale *s, uint64_t i,
                       char out[MQ_NAME_MAX + 1])
{
    snprintf(out, MQ_NAME_MAX + 1, "%s-%llu", s->prefix, (unsigned long long)i);
}

/* Creates (or deletes) queue i. Returns 0, or -1 with the error noted. */
static int admin_one(struct mq_scale *s, uint64_t i)
{
    char name[MQ_NAME_MAX + 1];
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;

    queue_name(s, i, name);
    if (s->deleting) {
        if (mq_queue_delete(s->admin, name, 0) != MQ_OK) {
            errnote_add(&s->note, "%s", mq_errmsg());
            return -1;
        }
        s->made[i] = 0;
        return 0;
    }
    qc.name = name;
    if (mq_queue_create(s->admin, &qc, NULL, 0) != MQ_OK) {
        errnote_add(&s->note, "%s", mq_errmsg());
        return -1;
    }
    s->made[i] = 1;
    sc.queue = name;
    sc.name = BENCH_SUB;
    sc.start = MQ_START_FIRST;
    if (mq_sub_create(s->admin, &sc, NULL, 0) != MQ_OK) {
        errnote_add(&s->note, "%s", mq_errmsg());
        return -1;
    }
    return 0;
}

static void *admin_thread(void *arg)
{
    struct mq_scale *s = arg;
    uint64_t step = s->n >= 10 ? s->n / 10 : 1;
    unsigned fails = 0;

    while (!atomic_load(&s->gave_up) && mono_ns() < s->deadline_ns) {
        uint64_t i = atomic_fetch_add(&s->next, 1);
        if (i >= s->n) {
            break;
        }
        if (s->deleting && !s->made[i]) {
            continue;
        }
        if (admin_one(s, i) != 0) {
            if (++fails == BENCH_GIVE_UP_ERRORS) {
                atomic_store(&s->gave_up, 1);
            }
            continue;
        }
        fails = 0;
        if ((atomic_fetch_add(&s->done, 1) + 1) % step == 0) {
            progress(s->o, "many-queues: %s %llu queues",
                     s->deleting ? "deleted" : "created",
                     (unsigned long long)atomic_load(&s->done));
        }
    }
    return NULL;
}

/* Runs the admin threads over every queue; returns the seconds taken. */
static double admin_all(struct mq_scale *s, int deleting, struct report *r)
{
    uint64_t t0 = mono_ns();

    s->deleting = deleting;
    atomic_store(&s->next, 0);
    atomic_store(&s->done, 0);
    atomic_store(&s->gave_up, 0);
    s->deadline_ns = t0 + s->o->timeout_ms * 1000000u;
    threads_run(s->o->admin_threads, admin_thread, s, 0, r);
    return (double)(mono_ns() - t0) / 1e9;
}

/* What the measurements publish to: one queue, or those of @s. */
struct target {
    const char *single; /* NULL: the queues of many */
    struct mq_scale *many;
};

static void target_name(const struct target *t, uint64_t k,
                        char out[MQ_NAME_MAX + 1])
{
    if (t->single != NULL) {
        snprintf(out, MQ_NAME_MAX + 1, "%s", t->single);
    } else {
        queue_name(t->many, k % t->many->n, out);
    }
}

struct producer {
    const struct bench_opts *o;
    const struct target *t;
    mq_client *c;
    const unsigned char *payload;
    uint64_t first, stride; /* queues first, first + stride, ... */
    uint64_t end_ns;
    struct hist *h; /* NULL: count only */
    _Atomic uint64_t *ok;
    struct errnote *note;
};

static void *producer_thread(void *arg)
{
    struct producer *p = arg;
    mq_pub m = {0};
    uint64_t k = p->first;
    unsigned fails = 0;

    m.payload = p->payload;
    m.payload_len = p->o->size;
    while (mono_ns() < p->end_ns) {
        char name[MQ_NAME_MAX + 1];
        uint64_t idx = k, t0;
        k += p->stride;
        if (p->t->single == NULL && !p->t->many->made[idx % p->t->many->n]) {
            continue;
        }
        target_name(p->t, idx, name);
        t0 = mono_ns();
        if (mq_publish(p->c, name, &m, NULL, 0) == MQ_OK) {
            if (p->h != NULL) {
                hist_record(p->h, mono_ns() - t0);
            }
            atomic_fetch_add_explicit(p->ok, 1, memory_order_relaxed);
            fails = 0;
            continue;
        }
        errnote_add(p->note, "%s", mq_errmsg());
        if (++fails == BENCH_GIVE_UP_ERRORS) {
            break;
        }
    }
    return NULL;
}

/* One measurement: latency of one synchronous publisher on target queue
 * @lat_k (into @h), then the rate of o->producers. Returns the rate. */
static double measure(const struct bench_opts *o, const struct target *t,
                      uint64_t lat_k, const unsigned char *payload,
                      struct hist *h, struct errnote *note, struct report *r)
{
    uint32_t np = o->producers_set ? o->producers : 200;
    struct producer *ps = calloc(np, sizeof *ps);
    _Atomic uint64_t ok;
    uint64_t t0;
    double rate = 0;

    atomic_init(&ok, 0);
    if (ps == NULL) {
        report_fail(r, "out of memory");
        return 0;
    }
    for (uint32_t j = 0; j < np; j++) {
        ps[j] =
            (struct producer){o, t, NULL, payload, j, np, 0, NULL, &ok, note};
        if (bench_client_open(o, 0, &ps[j].c, r) != 0) {
            goto out;
        }
    }
    /* Latency: producer 0 alone, on one queue. */
    ps[0].first = lat_k;
    ps[0].stride = 0;
    ps[0].h = h;
    ps[0].end_ns = mono_ns() + o->duration_ms * 1000000u;
    progress(o, "many-queues: sync publish latency for %.1f s",
             (double)o->duration_ms / 1000);
    producer_thread(&ps[0]);
    ps[0].first = 0;
    ps[0].stride = np;
    ps[0].h = NULL;
    atomic_store(&ok, 0);
    progress(o, "many-queues: %u producers for %.1f s", np,
             (double)o->duration_ms / 1000);
    t0 = mono_ns();
    for (uint32_t j = 0; j < np; j++) {
        ps[j].end_ns = t0 + o->duration_ms * 1000000u;
    }
    threads_run(np, producer_thread, ps, sizeof *ps, r);
    rate = (double)atomic_load(&ok) / ((double)(mono_ns() - t0) / 1e9);
out:
    for (uint32_t j = 0; j < np; j++) {
        mq_client_close(ps[j].c);
    }
    free(ps);
    return rate;
}

static uint32_t random_tag(void)
{
    uint32_t v = 0;

    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
        v = (uint32_t)mono_ns();
    }
    return v;
}

static void report_ratio(struct report *r, const char *key, double a, double b)
{
    if (a > 0 && b > 0) {
        report_real(r, key, key, a / b, 2, NULL);
    } else {
        report_str(r, key, "unknown");
    }
}

int case_many_queues(const struct bench_opts *o)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    struct mq_scale s;
    struct target single = {NULL, NULL}, many = {NULL, NULL};
    struct hist *h1 = NULL, *hn = NULL;
    struct errnote note;
    struct report r;
    unsigned char *payload = NULL;
    char queue[MQ_NAME_MAX + 1];
    uint64_t created = 0;
    double secs, rate1 = 0, raten = 0;

    memset(&s, 0, sizeof s);
    errnote_init(&note);
    errnote_init(&s.note);
    s.o = o;
    s.n = o->queues_set ? o->queues : 100000;
    report_init(&r, "many-queues");
    report_u64(&r, "queues", s.n);
    report_u64(&r, "producers", o->producers_set ? o->producers : 200);
    report_u64(&r, "size", o->size);
    payload = malloc(o->size);
    s.made = calloc(s.n, 1);
    if (payload == NULL || s.made == NULL || hist_new(&h1) != 0 ||
        hist_new(&hn) != 0) {
        report_fail(&r, "out of memory");
        goto out;
    }
    payload_fill(payload, o->size, 1);
    if (bench_client_open(o, 0, &s.admin, &r) != 0 ||
        bench_queue_create(o, s.admin, "many-single", &qc, queue, &r) != 0) {
        goto out;
    }
    if (bench_sub_create(s.admin, queue, &r) == 0) {
        single.single = queue;
        rate1 = measure(o, &single, 0, payload, h1, &note, &r);
    }
    bench_queue_delete(o, s.admin, queue);
    if (r.failed) {
        goto out;
    }
    snprintf(s.prefix, sizeof s.prefix, "bench-many-%08x", random_tag());
    progress(o, "many-queues: creating %llu queues %s-*",
             (unsigned long long)s.n, s.prefix);
    secs = admin_all(&s, 0, &r);
    for (uint64_t i = 0; i < s.n; i++) {
        created += s.made[i];
    }
    report_u64(&r, "created", created);
    report_real(&r, "create_secs", "create_secs", secs, 1, NULL);
    report_real(&r, "create_rate", "create_queues_s",
                secs > 0 ? (double)created / secs : 0, 0, "queues/s");
    if (created < s.n) {
        report_fail(&r, "created %llu of %llu queues%s",
                    (unsigned long long)created, (unsigned long long)s.n,
                    atomic_load(&s.gave_up) ? " (failed calls in a row)"
                                            : " by --timeout");
    }
    if (created > 0) {
        many.many = &s;
        raten = measure(o, &many, s.n / 2, payload, hn, &note, &r);
    }
    report_latency(&r, "single_p50", "single_p50_us",
                   hist_percentile(h1, 50.0));
    report_latency(&r, "single_p99", "single_p99_us",
                   hist_percentile(h1, 99.0));
    report_real(&r, "single_rate", "single_rate_msgs_s", rate1, 0, "msgs/s");
    report_latency(&r, "p50", "p50_us", hist_percentile(hn, 50.0));
    report_latency(&r, "p99", "p99_us", hist_percentile(hn, 99.0));
    report_real(&r, "rate", "rate_msgs_s", raten, 0, "msgs/s");
    report_ratio(&r, "p50_ratio", (double)hist_percentile(hn, 50.0),
                 (double)hist_percentile(h1, 50.0));
    report_ratio(&r, "rate_ratio", raten, rate1);
    if (o->keep) {
        fprintf(stderr, "mqbench: kept %llu queues %s-0 .. %s-%llu\n",
                (unsigned long long)created, s.prefix, s.prefix,
                (unsigned long long)(s.n - 1));
    } else if (created > 0) {
        progress(o, "many-queues: deleting the queues");
        secs = admin_all(&s, 1, &r);
        report_real(&r, "delete_secs", "delete_secs", secs, 1, NULL);
    }
out:
    report_u64(&r, "errors", errnote_count(&note) + errnote_count(&s.note));
    report_print(&r, o->json);
    errnote_print(&note, "many-queues publish");
    errnote_print(&s.note, "many-queues admin");
    mq_client_close(s.admin);
    hist_free(h1);
    hist_free(hn);
    free(s.made);
    free(payload);
    errnote_destroy(&s.note);
    errnote_destroy(&note);
    return r.failed ? -1 : 0;
}
