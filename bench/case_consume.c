/* case_consume.c: consume-ack.
 *
 * Preloads --messages messages of --size bytes with mq_publish_async (not
 * timed) into a work queue with one subscription, then --consumers
 * clients, each driven by its own thread, loop on mq_fetch (--fetch-batch
 * messages, --fetch-wait-ms long poll) and mq_ack_seqs of each batch (with
 * --ack each: one mq_ack_seqs call per message) until every stored message
 * has been received once. The time runs from the
 * start of the consumers to the ack of the batch that completed the count.
 *
 * Each sequence number is checked off in a bitmap shared by the consumers:
 * a message received twice (redelivered) counts in dups=, one outside the
 * preloaded range in unexpected=. Failure modes: failed fetches and acks
 * count in errors=; a consumer that fails BENCH_GIVE_UP_ERRORS fetches in a
 * row stops; the case fails if the count is not complete by --timeout. */
#include <stdlib.h>
#include <string.h>

#include "breakdown.h"
#include "cases.h"
#include "common.h"

struct consume_run {
    const char *queue;
    uint32_t batch;
    uint32_t wait_ms;
    int ack_each;      /* one ack call per message */
    uint64_t expected; /* messages stored by the preload */
    uint64_t min_seq, max_seq;
    _Atomic uint64_t *seen; /* bit seq - min_seq: received */
    _Atomic uint64_t unique, dups, unexpected;
    _Atomic uint64_t done_ns; /* when unique reached expected; 0 before */
    uint64_t deadline_ns;
    struct errnote note;
    _Atomic int gave_up;
};

struct consumer {
    struct consume_run *run;
    mq_client *c;
    uint64_t *seqs; /* run->batch entries */
};

/* Checks off the messages of one fetch and fills @seqs. Returns how many
 * were received for the first time. */
static uint64_t check_off(struct consume_run *run, mq_msg **msgs, size_t n,
                          uint64_t *seqs)
{
    uint64_t fresh = 0;

    for (size_t i = 0; i < n; i++) {
        uint64_t seq = mq_msg_seq(msgs[i]);
        seqs[i] = seq;
        if (seq < run->min_seq || seq > run->max_seq) {
            atomic_fetch_add(&run->unexpected, 1);
            continue;
        }
        uint64_t off = seq - run->min_seq;
        uint64_t bit = (uint64_t)1 << (off % 64);
        if (atomic_fetch_or(&run->seen[off / 64], bit) & bit) {
            atomic_fetch_add(&run->dups, 1);
        } else {
            fresh++;
        }
    }
    return fresh;
}

static void *consumer_thread(void *arg)
{
    struct consumer *k = arg;
    struct consume_run *run = k->run;
    unsigned fails = 0;

    while (atomic_load(&run->unique) < run->expected &&
           mono_ns() < run->deadline_ns) {
        mq_msg **msgs = NULL;
        size_t n = 0;
        mq_err rv = mq_fetch(k->c, run->queue, BENCH_SUB, run->batch,
                             run->wait_ms, &msgs, &n);
        if (rv != MQ_OK) {
            errnote_add(&run->note, "%s", mq_errmsg());
            if (++fails == BENCH_GIVE_UP_ERRORS) {
                atomic_store(&run->gave_up, 1);
                break;
            }
            continue;
        }
        fails = 0;
        if (n == 0) {
            mq_msgs_free(msgs, n);
            continue;
        }
        uint64_t fresh = check_off(run, msgs, n, k->seqs);
        mq_msgs_free(msgs, n);
        for (size_t i = 0; i < n; i += run->ack_each ? 1 : n) {
            rv = mq_ack_seqs(k->c, run->queue, BENCH_SUB, k->seqs + i,
                             run->ack_each ? 1 : n, 0);
            if (rv != MQ_OK) {
                errnote_add(&run->note, "%s", mq_errmsg());
            }
        }
        if (fresh > 0 &&
            atomic_fetch_add(&run->unique, fresh) + fresh >= run->expected) {
            uint64_t zero = 0;
            atomic_compare_exchange_strong(&run->done_ns, &zero, mono_ns());
        }
    }
    return NULL;
}

/* Preloads the queue; sets run->expected and the seq range. */
static int preload(const struct bench_opts *o, struct consume_run *run,
                   uint64_t n, struct errnote *note, struct report *r)
{
    struct load ld;

    load_init(&ld, note);
    if (load_preload(o, "consume-ack", run->queue, n, &ld, r) != 0) {
        return -1;
    }
    run->expected = atomic_load(&ld.ok);
    run->min_seq = atomic_load(&ld.min_seq);
    run->max_seq = atomic_load(&ld.max_seq);
    return 0;
}

int case_consume_ack(const struct bench_opts *o)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    uint64_t n = o->messages_set ? o->messages : 200000;
    struct consumer *ks = NULL;
    struct consume_run run;
    struct errnote preload_note;
    struct report r;
    struct breakdown bd = {0};
    mq_client *admin = NULL;
    char queue[MQ_NAME_MAX + 1];
    int created = 0;
    uint64_t t0, done, unique;
    double secs;

    memset(&run, 0, sizeof run);
    errnote_init(&run.note);
    errnote_init(&preload_note);
    report_init(&r, "consume-ack");
    report_u64(&r, "size", o->size);
    report_u64(&r, "consumers", o->consumers);
    report_u64(&r, "fetch_batch", o->fetch_batch);
    report_str(&r, "ack", o->ack_each ? "each" : "batch");
    qc.retention = MQ_RETENTION_WORK;
    if (bench_client_open(o, 0, &admin, &r) != 0 ||
        bench_queue_create(o, admin, "consume-ack", &qc, queue, &r) != 0) {
        goto out;
    }
    created = 1;
    run.queue = queue;
    run.batch = o->fetch_batch;
    run.wait_ms = o->fetch_wait_ms;
    run.ack_each = o->ack_each;
    if (bench_sub_create(admin, queue, &r) != 0 ||
        preload(o, &run, n, &preload_note, &r) != 0) {
        goto out;
    }
    run.seen = calloc((run.max_seq - run.min_seq) / 64 + 1, sizeof *run.seen);
    ks = calloc(o->consumers, sizeof *ks);
    if (run.seen == NULL || ks == NULL) {
        report_fail(&r, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < o->consumers; i++) {
        ks[i].run = &run;
        ks[i].seqs = malloc(o->fetch_batch * sizeof *ks[i].seqs);
        if (ks[i].seqs == NULL) {
            report_fail(&r, "out of memory");
            goto out;
        }
        if (bench_client_open(o, 0, &ks[i].c, &r) != 0) {
            goto out;
        }
    }
    progress(o, "consume-ack: %u consumer(s) on %llu messages", o->consumers,
             (unsigned long long)run.expected);
    breakdown_begin(o, &bd);
    t0 = mono_ns();
    run.deadline_ns = t0 + o->timeout_ms * 1000000u;
    threads_run(o->consumers, consumer_thread, ks, sizeof *ks, &r);
    done = atomic_load(&run.done_ns);
    secs = (double)((done != 0 ? done : mono_ns()) - t0) / 1e9;
    if (secs <= 0) {
        secs = 1e-9;
    }
    unique = atomic_load(&run.unique);
    report_u64(&r, "expected", run.expected);
    report_u64(&r, "msgs", unique);
    report_real(&r, "secs", "secs", secs, 1, NULL);
    report_real(&r, "rate", "rate_msgs_s", (double)unique / secs, 0, "msgs/s");
    report_real(&r, "mb", "mb_s", (double)unique * (double)o->size / secs / 1e6,
                1, "MB/s");
    report_u64(&r, "dups", atomic_load(&run.dups));
    report_u64(&r, "unexpected", atomic_load(&run.unexpected));
    report_u64(&r, "errors", errnote_count(&run.note));
    if (unique < run.expected) {
        report_fail(&r, "gave up with %llu of %llu messages consumed%s",
                    (unsigned long long)unique,
                    (unsigned long long)run.expected,
                    atomic_load(&run.gave_up) ? " (fetches kept failing)"
                                              : " (--timeout)");
    }
out:
    report_print(&r, o->json);
    breakdown_end(o, &bd, "consume-ack");
    errnote_print(&preload_note, "consume-ack preload");
    errnote_print(&run.note, "consume-ack");
    for (uint32_t i = 0; ks != NULL && i < o->consumers; i++) {
        mq_client_close(ks[i].c);
        free(ks[i].seqs);
    }
    if (created) {
        bench_queue_delete(o, admin, queue);
    }
    mq_client_close(admin);
    free(ks);
    free(run.seen);
    errnote_destroy(&preload_note);
    errnote_destroy(&run.note);
    return r.failed ? -1 : 0;
}
