/* probe.c: the synchronous publish probe (see probe.h). */
#include "probe.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The phase that began after @t0 (while a call that started outside any
 * phase was under way: it waited in it), or -1. */
static int overlapped(struct probe *p, uint64_t t0)
{
    for (int k = 0; k < PROBE_PHASES; k++) {
        if (atomic_load(&p->began[k]) > t0) {
            return k;
        }
    }
    return -1;
}

static void *probe_thread(void *arg)
{
    struct probe *p = arg;
    mq_pub m = {0};
    uint64_t next = mono_ns();

    m.payload = p->payload;
    m.payload_len = p->o->size;
    while (!atomic_load(&p->stop)) {
        int phase = atomic_load(&p->phase);
        uint64_t t0 = mono_ns();
        mq_err rv = mq_publish(p->c, p->queue, &m, NULL, PROBE_CALL_TIMEOUT_MS);
        if (phase < 0) {
            phase = overlapped(p, t0);
        }
        if (phase >= 0) {
            hist_record(p->h[phase], mono_ns() - t0);
        }
        if (phase >= 0 && rv != MQ_OK) {
            atomic_fetch_add(&p->fails[phase], 1);
            errnote_add(&p->note, "%s", mq_errmsg());
        }
        next += p->interval_ns;
        if (next > mono_ns()) {
            struct timespec ts = {(time_t)(next / 1000000000u),
                                  (long)(next % 1000000000u)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) !=
                   0) {
            }
        } else {
            next = mono_ns(); /* late: no burst to catch up */
        }
    }
    return NULL;
}

int probe_start(struct probe *p, const struct bench_opts *o, const char *tag,
                uint32_t interval_ms, struct report *r)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    char ptag[48];
    int err;

    memset(p, 0, sizeof *p);
    p->o = o;
    errnote_init(&p->note);
    atomic_init(&p->phase, -1);
    for (int k = 0; k < PROBE_PHASES; k++) {
        atomic_init(&p->began[k], 0);
    }
    atomic_init(&p->stop, 0);
    p->interval_ns = (uint64_t)interval_ms * 1000000u;
    p->payload = malloc(o->size);
    if (p->payload == NULL || hist_new(&p->h[0]) != 0 ||
        hist_new(&p->h[1]) != 0) {
        report_fail(r, "probe: out of memory");
        return -1;
    }
    payload_fill(p->payload, o->size, 7);
    qc.max_messages = PROBE_QUEUE_MAX_MESSAGES;
    qc.discard = MQ_DISCARD_OLD;
    snprintf(ptag, sizeof ptag, "%s-probe", tag);
    if (bench_client_open(o, 0, &p->c, r) != 0 ||
        bench_queue_create(o, p->c, ptag, &qc, p->queue, r) != 0) {
        return -1;
    }
    p->created = 1;
    err = pthread_create(&p->thread, NULL, probe_thread, p);
    if (err != 0) {
        report_fail(r, "probe: start thread: %s", strerror(err));
        return -1;
    }
    p->running = 1;
    return 0;
}

void probe_phase(struct probe *p, int phase)
{
    if (phase >= 0) {
        atomic_store(&p->began[phase], mono_ns());
    }
    atomic_store(&p->phase, phase);
}

void probe_close(struct probe *p)
{
    if (p->o == NULL) {
        return; /* never started */
    }
    if (p->running) {
        atomic_store(&p->stop, 1);
        pthread_join(p->thread, NULL);
        p->running = 0;
    }
    if (p->created) {
        bench_queue_delete(p->o, p->c, p->queue);
        p->created = 0;
    }
    mq_client_close(p->c);
    p->c = NULL;
    hist_free(p->h[0]);
    hist_free(p->h[1]);
    p->h[0] = p->h[1] = NULL;
    free(p->payload);
    p->payload = NULL;
    errnote_destroy(&p->note);
    p->o = NULL;
}
