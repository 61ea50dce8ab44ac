/* waiters.c: the pool of waiting consumers (see waiters.h). */
#include "waiters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct waiter {
    struct waiters *pool;
    mq_client *c;
    const struct waiter_target *t;
    uint64_t *seqs; /* pool->batch */
    pthread_t thread;
    int served;
};

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 1000
/* Timeout of a waiter's ack. */
#define WAITER_ACK_TIMEOUT_MS 5000

/* Sleeps @ms in steps, returning early once the pool stops. */
static void backoff(struct waiters *p, uint32_t ms)
{
    while (ms > 0 && !atomic_load(&p->stop)) {
        uint32_t step = ms < 50 ? ms : 50;
        sleep_ms(step);
        ms -= step;
    }
}

static void note_max(_Atomic uint64_t *max, uint64_t v)
{
    uint64_t m = atomic_load(max);

    while (v > m && !atomic_compare_exchange_weak(max, &m, v)) {
    }
}

/* Counts what fetch @msgs brought and acks it. */
static void take(struct waiter *w, mq_msg **msgs, size_t n)
{
    struct waiters *p = w->pool;
    uint64_t now = real_ns();

    for (size_t i = 0; i < n; i++) {
        size_t len;
        const void *payload = mq_msg_payload(msgs[i], &len);
        uint64_t sent;
        w->seqs[i] = mq_msg_seq(msgs[i]);
        if (mq_msg_attempt(msgs[i]) > 1) {
            atomic_fetch_add(&p->redeliveries, 1);
            continue;
        }
        atomic_fetch_add_explicit(&p->deliveries, 1, memory_order_relaxed);
        if (p->h != NULL && len >= sizeof sent) {
            memcpy(&sent, payload, sizeof sent);
            hist_record(p->h, now > sent ? now - sent : 0);
        }
    }
    if (!w->served) {
        w->served = 1;
        atomic_fetch_add(&p->served, 1);
    }
    if (mq_ack_seqs(w->c, w->t->queue, w->t->sub, w->seqs, n,
                    WAITER_ACK_TIMEOUT_MS) != MQ_OK &&
        !atomic_load(&p->stop)) {
        errnote_add(&p->errors, "%s", mq_errmsg());
    }
}

static void *waiter_thread(void *arg)
{
    struct waiter *w = arg;
    struct waiters *p = w->pool;
    uint32_t pause = 0;

    while (!atomic_load(&p->stop)) {
        mq_msg **msgs = NULL;
        size_t n = 0;
        uint64_t t0 = mono_ns();
        mq_err rv = mq_fetch(w->c, w->t->queue, w->t->sub, p->batch, p->wait_ms,
                             &msgs, &n);
        if (rv == MQ_OK) {
            atomic_fetch_add_explicit(&p->fetches, 1, memory_order_relaxed);
            if (n == 0) {
                atomic_fetch_add_explicit(&p->empty, 1, memory_order_relaxed);
            } else {
                take(w, msgs, n);
            }
            mq_msgs_free(msgs, n);
            pause = 0;
            continue;
        }
        if (atomic_load(&p->stop)) {
            break;
        }
        switch (rv) {
        case MQ_ERR_TIMEOUT:
        case MQ_ERR_UNAVAILABLE:
        case MQ_ERR_NOT_LEADER:
            errnote_add(&p->timeouts, "%s", mq_errmsg());
            break;
        case MQ_ERR_NOT_FOUND:
        case MQ_ERR_CANCELED:
            errnote_add(&p->errors, "%s", mq_errmsg());
            break;
        default:
            errnote_add(&p->refused, "%s", mq_errmsg());
            note_max(&p->refused_max_ns, mono_ns() - t0);
            break;
        }
        pause = pause == 0 ? BACKOFF_MIN_MS : pause * 2;
        if (pause > BACKOFF_MAX_MS) {
            pause = BACKOFF_MAX_MS;
        }
        backoff(p, pause);
    }
    return NULL;
}

int waiters_start(struct waiters *p, const struct bench_opts *o, size_t n,
                  size_t n_clients, const struct waiter_target *targets,
                  size_t n_targets, uint32_t batch, uint32_t wait_ms,
                  struct hist *h, struct report *r)
{
    pthread_attr_t attr;
    int rc = 0;

    memset(p, 0, sizeof *p);
    p->o = o;
    p->targets = targets;
    p->n_targets = n_targets;
    p->batch = batch;
    p->wait_ms = wait_ms;
    p->h = h;
    p->n_wanted = n;
    errnote_init(&p->refused);
    errnote_init(&p->timeouts);
    errnote_init(&p->errors);
    if (n == 0) {
        return 0;
    }
    if (n_clients == 0) {
        n_clients = (n + WAITERS_PER_CLIENT - 1) / WAITERS_PER_CLIENT;
    }
    if (n_clients > n) {
        n_clients = n;
    }
    p->w = calloc(n, sizeof *p->w);
    p->clients = calloc(n_clients, sizeof *p->clients);
    if (p->w == NULL || p->clients == NULL) {
        report_fail(r, "waiters: out of memory");
        return -1;
    }
    for (; p->n_clients < n_clients; p->n_clients++) {
        if (bench_client_open(o, 0, &p->clients[p->n_clients], r) != 0) {
            return -1;
        }
    }
    bench_threads_hint(n);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WAITER_STACK_BYTES);
    for (; p->n < n; p->n++) {
        struct waiter *w = &p->w[p->n];
        int err;
        w->pool = p;
        w->c = p->clients[p->n % n_clients];
        w->t = &targets[p->n % n_targets];
        w->seqs = malloc(batch * sizeof *w->seqs);
        if (w->seqs == NULL) {
            report_fail(r, "waiters: out of memory");
            rc = -1;
            break;
        }
        err = pthread_create(&w->thread, &attr, waiter_thread, w);
        if (err != 0) {
            free(w->seqs);
            w->seqs = NULL;
            report_fail(r, "start waiter %zu of %zu: %s", p->n + 1, n,
                        strerror(err));
            rc = -1;
            break;
        }
    }
    pthread_attr_destroy(&attr);
    return rc;
}

void waiters_signal_stop(struct waiters *p)
{
    atomic_store(&p->stop, 1);
}

void waiters_stop(struct waiters *p)
{
    atomic_store(&p->stop, 1);
    for (size_t i = 0; i < p->n; i++) {
        pthread_join(p->w[i].thread, NULL);
    }
    for (size_t i = 0; i < p->n; i++) {
        free(p->w[i].seqs);
        p->w[i].seqs = NULL;
    }
    p->n = 0;
    for (size_t i = 0; i < p->n_clients; i++) {
        mq_client_close(p->clients[i]);
        p->clients[i] = NULL;
    }
}

void waiters_report(struct waiters *p, struct report *r)
{
    report_u64(r, "waiters", p->n_wanted);
    report_u64(r, "clients", p->n_clients);
    report_u64(r, "served", atomic_load(&p->served));
    report_u64(r, "deliveries", atomic_load(&p->deliveries));
    report_u64(r, "redeliveries", atomic_load(&p->redeliveries));
    report_u64(r, "refused", errnote_count(&p->refused));
    report_latency(r, "refused_max", "refused_max_us",
                   atomic_load(&p->refused_max_ns));
    if (errnote_count(&p->refused) > 0) {
        pthread_mutex_lock(&p->refused.lock);
        report_str(r, "refused_first", p->refused.first);
        pthread_mutex_unlock(&p->refused.lock);
    }
    report_u64(r, "timeouts", errnote_count(&p->timeouts));
    report_u64(r, "errors", errnote_count(&p->errors));
}

void waiters_print_errors(struct waiters *p, const char *what)
{
    char label[96];

    snprintf(label, sizeof label, "%s: waiters refused", what);
    errnote_print(&p->refused, label);
    snprintf(label, sizeof label, "%s: waiters timed out", what);
    errnote_print(&p->timeouts, label);
    snprintf(label, sizeof label, "%s: waiters", what);
    errnote_print(&p->errors, label);
}

void waiters_free(struct waiters *p)
{
    if (p->o == NULL) {
        return;
    }
    free(p->w);
    free(p->clients);
    p->w = NULL;
    p->clients = NULL;
    errnote_destroy(&p->refused);
    errnote_destroy(&p->timeouts);
    errnote_destroy(&p->errors);
    p->o = NULL;
}
