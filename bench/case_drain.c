/* case_drain.c: drain.
 *
 * Whether messages already consumed keep costing: --queues queues (work
 * retention, one subscription each) each pass --messages messages that are
 * consumed and acked as they come, so that little is stored at any time
 * while the node goes through millions of ids and statuses. Per queue, a
 * producer (its own client and thread) publishes with mq_publish_async,
 * keeping at most --window messages published and not yet acked, and a
 * consumer (its own client and thread) loops on mq_fetch (--fetch-batch,
 * --fetch-wait-ms) and mq_ack_seqs. Meanwhile the main thread reads the
 * nodes' VmRSS every 500 ms (pids from --pids or --cluster-dir, as in the
 * memory case) for the peak.
 *
 * After the drain: waits until every node has applied the commit index,
 * sums the queues' remembered_ids and stored messages (mq_queue_info_get),
 * reads memory_bytes of each node (mq_cluster_status), waits --settle and
 * reads VmRSS again. Publishes refused with FULL count in refused= (the
 * target is none); an asynchronous FULL carries no message, so the first
 * time a producer sees one it publishes once synchronously and keeps what
 * the node says (refused_first=). The case fails if the drain does not end
 * by --timeout; the line still has the counts. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "common.h"
#include "nodes.h"

#define SAMPLE_MS 500

struct drain;

struct dq {
    struct drain *d;
    char name[MQ_NAME_MAX + 1];
    int created;
    mq_client *pc, *cc;
    pthread_t pt, ct;
    int p_running, c_running;
    _Atomic uint64_t sent, stored, refused, failed, consumed;
    _Atomic int producer_done;
};

struct drain {
    const struct bench_opts *o;
    uint64_t n_msgs, window, deadline_ns;
    const unsigned char *payload;
    _Atomic int full_seen;
    _Atomic int threads_left;
    _Atomic uint64_t redeliveries;
    pthread_mutex_t lock; /* guards full_first */
    char full_first[REPORT_STR_MAX];
    struct errnote errors;
};

/* libmq sender thread. */
static void drain_pub_cb(void *arg, const mq_pub_result *res)
{
    struct dq *q = arg;

    if (res->err == MQ_OK) {
        atomic_fetch_add_explicit(&q->stored, 1, memory_order_relaxed);
    } else if (res->err == MQ_ERR_FULL) {
        atomic_fetch_add(&q->refused, 1);
        atomic_store(&q->d->full_seen, 1);
    } else {
        atomic_fetch_add(&q->failed, 1);
        errnote_add(&q->d->errors, "publish to %s: %s", q->name,
                    mq_strerror(res->err));
    }
}

/* The first FULL: asks the node what is full with one synchronous
 * publish (counted like the others). */
static void learn_full(struct dq *q, const mq_pub *m)
{
    struct drain *d = q->d;
    int first;
    mq_err rv;

    pthread_mutex_lock(&d->lock);
    first = d->full_first[0] == '\0';
    if (first) {
        snprintf(d->full_first, sizeof d->full_first, "%s",
                 "FULL (asking the node why)");
    }
    pthread_mutex_unlock(&d->lock);
    if (!first) {
        return;
    }
    atomic_fetch_add(&q->sent, 1);
    rv = mq_publish(q->pc, q->name, m, NULL, 0);
    pthread_mutex_lock(&d->lock);
    if (rv == MQ_OK) {
        atomic_fetch_add(&q->stored, 1);
        snprintf(d->full_first, sizeof d->full_first, "%s",
                 "FULL (asynchronous, no message; a synchronous publish "
                 "then succeeded)");
    } else {
        if (rv == MQ_ERR_FULL) {
            atomic_fetch_add(&q->refused, 1);
        } else {
            atomic_fetch_add(&q->failed, 1);
        }
        snprintf(d->full_first, sizeof d->full_first, "%s", mq_errmsg());
    }
    pthread_mutex_unlock(&d->lock);
}

static uint64_t unsettled(struct dq *q)
{
    return atomic_load(&q->sent) - atomic_load(&q->refused) -
           atomic_load(&q->failed) - atomic_load(&q->consumed);
}

static void *producer_thread(void *arg)
{
    struct dq *q = arg;
    struct drain *d = q->d;
    mq_pub m = {0};
    int asked = 0;

    m.payload = d->payload;
    m.payload_len = d->o->size;
    while (atomic_load(&q->sent) < d->n_msgs && mono_ns() < d->deadline_ns) {
        if (unsettled(q) >= d->window) {
            sleep_ms(1);
            continue;
        }
        if (!asked && atomic_load(&d->full_seen)) {
            asked = 1;
            learn_full(q, &m);
            continue;
        }
        atomic_fetch_add(&q->sent, 1);
        if (mq_publish_async(q->pc, q->name, &m, drain_pub_cb, q) != MQ_OK) {
            atomic_fetch_add(&q->failed, 1);
            errnote_add(&d->errors, "%s", mq_errmsg());
        }
    }
    if (mq_flush(q->pc, ms_until(d->deadline_ns)) != MQ_OK) {
        errnote_add(&d->errors, "%s", mq_errmsg());
    }
    atomic_store(&q->producer_done, 1);
    atomic_fetch_sub(&d->threads_left, 1);
    return NULL;
}

static void *consumer_thread(void *arg)
{
    struct dq *q = arg;
    struct drain *d = q->d;
    uint64_t *seqs = malloc(d->o->fetch_batch * sizeof *seqs);
    unsigned fails = 0;

    while (seqs != NULL && mono_ns() < d->deadline_ns &&
           fails < BENCH_GIVE_UP_ERRORS) {
        mq_msg **msgs = NULL;
        size_t n = 0;
        if (atomic_load(&q->producer_done) &&
            atomic_load(&q->consumed) >= atomic_load(&q->stored)) {
            break;
        }
        if (mq_fetch(q->cc, q->name, BENCH_SUB, d->o->fetch_batch,
                     d->o->fetch_wait_ms, &msgs, &n) != MQ_OK) {
            errnote_add(&d->errors, "%s", mq_errmsg());
            fails++;
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            seqs[i] = mq_msg_seq(msgs[i]);
            if (mq_msg_attempt(msgs[i]) > 1) {
                atomic_fetch_add(&d->redeliveries, 1);
            }
        }
        mq_msgs_free(msgs, n);
        if (n == 0) {
            continue;
        }
        if (mq_ack_seqs(q->cc, q->name, BENCH_SUB, seqs, n, 0) != MQ_OK) {
            errnote_add(&d->errors, "%s", mq_errmsg());
            fails++;
            continue;
        }
        fails = 0;
        atomic_fetch_add(&q->consumed, n);
    }
    if (seqs == NULL) {
        errnote_add(&d->errors, "consumer of %s: out of memory", q->name);
    }
    free(seqs);
    atomic_fetch_sub(&d->threads_left, 1);
    return NULL;
}

struct drain_node {
    struct node_proc proc;
    uint64_t before, peak, after;
    int ok; /* every reading worked */
};

static void sample(struct drain_node *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        if (node_rss(nodes[i].proc.pid, &v) != 0) {
            nodes[i].ok = 0;
        } else if (v > nodes[i].peak) {
            nodes[i].peak = v;
        }
    }
}

/* Sums what the queues still hold: remembered ids and stored messages. */
static void report_queues(mq_client *c, struct dq *qs, size_t n,
                          struct report *r)
{
    uint64_t ids = 0, msgs = 0;
    size_t got = 0;

    for (size_t i = 0; i < n; i++) {
        mq_queue_info info;
        if (qs[i].created &&
            mq_queue_info_get(c, qs[i].name, &info, 0) == MQ_OK) {
            ids += info.remembered_ids;
            msgs += info.messages;
            got++;
        }
    }
    if (got < n) {
        fprintf(stderr, "mqbench: drain: info of %zu of %zu queues failed\n",
                n - got, n);
    }
    report_u64(r, "remembered_ids", ids);
    report_u64(r, "stored_after", msgs);
}

/* memory_bytes of each node that answers, labelled by node id. */
static void report_status_memory(mq_client *c, struct report *r)
{
    mq_node_status *st = NULL;
    size_t n = 0;

    if (mq_cluster_status(c, &st, &n, 0) != MQ_OK) {
        report_str(r, "memory_bytes", "unknown");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char key[40], jkey[48];
        if (st[i].err != MQ_OK) {
            continue;
        }
        snprintf(key, sizeof key, "n%llu_budget_used",
                 (unsigned long long)st[i].id);
        snprintf(jkey, sizeof jkey, "n%llu_memory_bytes",
                 (unsigned long long)st[i].id);
        report_bytes(r, key, jkey, st[i].memory_bytes);
    }
    mq_status_free(st);
}

static void report_rss(struct drain_node *nodes, size_t n, struct report *r)
{
    for (size_t i = 0; i < n; i++) {
        struct drain_node *nd = &nodes[i];
        char key[40], jkey[48];
        if (!nd->ok) {
            fprintf(stderr, "mqbench: drain: cannot read VmRSS of pid %d\n",
                    (int)nd->proc.pid);
            continue;
        }
        snprintf(key, sizeof key, "%s_rss_before", nd->proc.label);
        snprintf(jkey, sizeof jkey, "%s_rss_before_bytes", nd->proc.label);
        report_bytes(r, key, jkey, nd->before);
        snprintf(key, sizeof key, "%s_rss_peak", nd->proc.label);
        snprintf(jkey, sizeof jkey, "%s_rss_peak_bytes", nd->proc.label);
        report_bytes(r, key, jkey, nd->peak);
        snprintf(key, sizeof key, "%s_rss_after", nd->proc.label);
        snprintf(jkey, sizeof jkey, "%s_rss_after_bytes", nd->proc.label);
        report_bytes(r, key, jkey, nd->after);
    }
    if (n == 0) {
        report_str(r, "rss", "unknown");
    }
}

/* Starts the two threads of each queue and samples RSS until all end. */
static void run_all(struct drain *d, struct dq *qs, size_t n_qs,
                    struct drain_node *nodes, size_t n_nodes, struct report *r)
{
    uint64_t last_progress = mono_ns();

    atomic_store(&d->threads_left, 0);
    for (size_t i = 0; i < n_qs; i++) {
        atomic_fetch_add(&d->threads_left, 2);
        if (pthread_create(&qs[i].pt, NULL, producer_thread, &qs[i]) != 0) {
            atomic_fetch_sub(&d->threads_left, 1);
            report_fail(r, "start the producer of %s", qs[i].name);
        } else {
            qs[i].p_running = 1;
        }
        if (pthread_create(&qs[i].ct, NULL, consumer_thread, &qs[i]) != 0) {
            atomic_fetch_sub(&d->threads_left, 1);
            report_fail(r, "start the consumer of %s", qs[i].name);
        } else {
            qs[i].c_running = 1;
        }
    }
    while (atomic_load(&d->threads_left) > 0) {
        sleep_ms(SAMPLE_MS);
        sample(nodes, n_nodes);
        if (mono_ns() - last_progress > 5000000000ull) {
            uint64_t sent = 0, consumed = 0;
            for (size_t i = 0; i < n_qs; i++) {
                sent += atomic_load(&qs[i].sent);
                consumed += atomic_load(&qs[i].consumed);
            }
            progress(d->o, "drain: %llu published, %llu consumed",
                     (unsigned long long)sent, (unsigned long long)consumed);
            last_progress = mono_ns();
        }
    }
    for (size_t i = 0; i < n_qs; i++) {
        if (qs[i].p_running) {
            pthread_join(qs[i].pt, NULL);
        }
        if (qs[i].c_running) {
            pthread_join(qs[i].ct, NULL);
        }
    }
}

int case_drain(const struct bench_opts *o)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    size_t n_qs = o->queues_set ? (size_t)o->queues : 20;
    struct drain_node nodes[OPTS_PIDS_MAX];
    struct node_proc procs[OPTS_PIDS_MAX];
    struct dq *qs = NULL;
    struct drain d;
    struct report r;
    mq_client *admin = NULL;
    unsigned char *payload = NULL;
    size_t n_nodes;
    uint64_t t0, sent = 0, stored = 0, refused = 0, failed = 0, consumed = 0;
    double secs;

    memset(&d, 0, sizeof d);
    memset(nodes, 0, sizeof nodes);
    pthread_mutex_init(&d.lock, NULL);
    errnote_init(&d.errors);
    d.o = o;
    d.n_msgs = o->messages_set ? o->messages : 1000000;
    d.window = o->window;
    report_init(&r, "drain");
    report_u64(&r, "queues", n_qs);
    report_u64(&r, "messages", d.n_msgs);
    report_u64(&r, "size", o->size);
    n_nodes = nodes_find(o, "drain", procs);
    for (size_t i = 0; i < n_nodes; i++) {
        nodes[i].proc = procs[i];
        nodes[i].ok = node_rss(procs[i].pid, &nodes[i].before) == 0;
        nodes[i].peak = nodes[i].before;
    }
    qs = calloc(n_qs, sizeof *qs);
    payload = malloc(o->size);
    if (qs == NULL || payload == NULL) {
        report_fail(&r, "out of memory");
        goto out;
    }
    payload_fill(payload, o->size, 1);
    d.payload = payload;
    qc.retention = MQ_RETENTION_WORK;
    if (bench_client_open(o, 0, &admin, &r) != 0) {
        goto out;
    }
    for (size_t i = 0; i < n_qs; i++) {
        qs[i].d = &d;
        if (bench_queue_create(o, admin, "drain", &qc, qs[i].name, &r) != 0) {
            goto out;
        }
        qs[i].created = 1;
        if (bench_sub_create(admin, qs[i].name, &r) != 0 ||
            bench_client_open(o, o->size, &qs[i].pc, &r) != 0 ||
            bench_client_open(o, 0, &qs[i].cc, &r) != 0) {
            goto out;
        }
    }
    progress(o, "drain: %zu queues, %llu messages each", n_qs,
             (unsigned long long)d.n_msgs);
    t0 = mono_ns();
    d.deadline_ns = t0 + o->timeout_ms * 1000000u;
    run_all(&d, qs, n_qs, nodes, n_nodes, &r);
    secs = (double)(mono_ns() - t0) / 1e9;
    for (size_t i = 0; i < n_qs; i++) {
        sent += atomic_load(&qs[i].sent);
        stored += atomic_load(&qs[i].stored);
        refused += atomic_load(&qs[i].refused);
        failed += atomic_load(&qs[i].failed);
        consumed += atomic_load(&qs[i].consumed);
    }
    report_u64(&r, "sent", sent);
    report_u64(&r, "stored", stored);
    report_u64(&r, "refused", refused);
    if (d.full_first[0] != '\0') {
        report_str(&r, "refused_first", d.full_first);
    }
    report_u64(&r, "consumed", consumed);
    report_u64(&r, "redeliveries", atomic_load(&d.redeliveries));
    report_u64(&r, "errors", errnote_count(&d.errors));
    report_real(&r, "secs", "secs", secs, 1, NULL);
    report_real(&r, "rate", "rate_msgs_s", (double)consumed / secs, 0,
                "msgs/s");
    if (sent < (uint64_t)n_qs * d.n_msgs || consumed < stored) {
        report_fail(&r,
                    "gave up with %llu of %llu published and %llu of %llu "
                    "stored consumed (--timeout)",
                    (unsigned long long)sent,
                    (unsigned long long)((uint64_t)n_qs * d.n_msgs),
                    (unsigned long long)consumed, (unsigned long long)stored);
    }
    bench_wait_applied(admin, "drain", mono_ns() + o->timeout_ms * 1000000u);
    report_queues(admin, qs, n_qs, &r);
    report_status_memory(admin, &r);
    progress(o, "drain: waiting %.1f s (--settle) before reading VmRSS",
             (double)o->settle_ms / 1000);
    sleep_ms((uint32_t)o->settle_ms);
    for (size_t i = 0; i < n_nodes; i++) {
        if (node_rss(nodes[i].proc.pid, &nodes[i].after) != 0) {
            nodes[i].ok = 0;
        }
    }
    report_rss(nodes, n_nodes, &r);
out:
    report_print(&r, o->json);
    errnote_print(&d.errors, "drain");
    for (size_t i = 0; qs != NULL && i < n_qs; i++) {
        mq_client_close(qs[i].pc);
        mq_client_close(qs[i].cc);
        if (qs[i].created) {
            bench_queue_delete(o, admin, qs[i].name);
        }
    }
    mq_client_close(admin);
    free(qs);
    free(payload);
    errnote_destroy(&d.errors);
    pthread_mutex_destroy(&d.lock);
    return r.failed ? -1 : 0;
}
