/* case_churn.c: connection-churn.
 *
 * Whether the nodes close and free every connection a client closes, also
 * while they are overloaded. Steps:
 *
 * 1. Creates a queue for the churn (keeping its last 1000 messages) and,
 *    unless --waiters is 0, a load queue with one subscription; reads each
 *    node's open descriptors (/proc/PID/fd) and VmRSS (pids from --pids or
 *    --cluster-dir): the baseline, with only the case's admin client
 *    connected.
 * 2. Starts --waiters long polls on the load queue (waiters.h; default
 *    1000, well over the node's default 256 request slots), each on a
 *    client of its own unless --waiter-clients says otherwise (as
 *    independent consumers would: connections that close while their
 *    requests wait in the node), and waits 1 s.
 * 3. --concurrency threads (default 8) open and close --connections
 *    clients in all (mq_client_open dials every node of -s), each doing
 *    one mq_publish of 8 bytes into the churn queue with a 2 s deadline,
 *    until all are done or --timeout. Meanwhile the main thread reads the
 *    descriptors and VmRSS every 500 ms for the peak.
 * 4. Stops the load (deletes its queue, joins the waiters, closes their
 *    clients), then reads the nodes every 200 ms until every node is back
 *    at its baseline descriptor count, at most --settle: the after
 *    figures, and settle_secs, the time that took.
 *
 * The line: connections opened and closed, publishes ok and failed (first
 * message on stderr), per node fds and VmRSS before, at the peak and
 * after, and fds_over= (sum over the nodes of after - before, when
 * positive: descriptors not given back). Without pids the descriptor
 * figures are "unknown". The case fails only when setup fails or the churn
 * does not end by --timeout; the line then still has the figures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "common.h"
#include "nodes.h"
#include "waiters.h"

#define CHURN_CALL_MS 2000
#define SAMPLE_MS 500
#define SETTLE_STEP_MS 200
#define LOAD_SETTLE_MS 1000

struct churn_node {
    struct node_proc proc;
    uint64_t fds_before, fds_peak, fds_after;
    uint64_t rss_before, rss_peak, rss_after;
    int ok; /* every reading worked */
};

struct churn {
    const struct bench_opts *o;
    const char *queue;
    uint64_t n, deadline_ns;
    _Atomic uint64_t next, done, ok;
    _Atomic uint32_t running;
    struct errnote note;
};

static void *churn_thread(void *arg)
{
    struct churn *ch = arg;
    unsigned char payload[8] = {0};
    mq_pub m = {0};

    m.payload = payload;
    m.payload_len = sizeof payload;
    while (mono_ns() < ch->deadline_ns) {
        mq_client_opts co = MQ_CLIENT_OPTS_INIT;
        mq_client *c = NULL;
        uint64_t i = atomic_fetch_add(&ch->next, 1);
        if (i >= ch->n) {
            break;
        }
        co.urls = ch->o->urls;
        co.token = bench_token();
        bench_tls_opts(ch->o, &co);
        co.timeout_ms = CHURN_CALL_MS;
        co.attempt_timeout_ms = CHURN_CALL_MS / 2;
        if (mq_client_open(&c, &co) != MQ_OK) {
            errnote_add(&ch->note, "%s", mq_errmsg());
            continue;
        }
        if (mq_publish(c, ch->queue, &m, NULL, 0) == MQ_OK) {
            atomic_fetch_add(&ch->ok, 1);
        } else {
            errnote_add(&ch->note, "%s", mq_errmsg());
        }
        mq_client_close(c);
        atomic_fetch_add(&ch->done, 1);
    }
    atomic_fetch_sub(&ch->running, 1);
    return NULL;
}

/* Reads every node; keeps the peaks, and the current values in *_after. */
static void read_nodes(struct churn_node *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct churn_node *nd = &nodes[i];
        if (node_fds(nd->proc.pid, &nd->fds_after) != 0 ||
            node_rss(nd->proc.pid, &nd->rss_after) != 0) {
            nd->ok = 0;
            continue;
        }
        if (nd->fds_after > nd->fds_peak) {
            nd->fds_peak = nd->fds_after;
        }
        if (nd->rss_after > nd->rss_peak) {
            nd->rss_peak = nd->rss_after;
        }
    }
}

static int at_baseline(const struct churn_node *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (nodes[i].ok && nodes[i].fds_after > nodes[i].fds_before) {
            return 0;
        }
    }
    return 1;
}

static void report_nodes(struct churn_node *nodes, size_t n, struct report *r)
{
    uint64_t over = 0;
    int any = 0;

    for (size_t i = 0; i < n; i++) {
        struct churn_node *nd = &nodes[i];
        const char *l = nd->proc.label;
        char key[40], jkey[48];
        if (!nd->ok) {
            fprintf(stderr,
                    "mqbench: connection-churn: cannot read /proc of pid "
                    "%d\n",
                    (int)nd->proc.pid);
            continue;
        }
        any = 1;
        snprintf(key, sizeof key, "%s_fds_before", l);
        report_u64(r, key, nd->fds_before);
        snprintf(key, sizeof key, "%s_fds_peak", l);
        report_u64(r, key, nd->fds_peak);
        snprintf(key, sizeof key, "%s_fds_after", l);
        report_u64(r, key, nd->fds_after);
        snprintf(key, sizeof key, "%s_rss_before", l);
        snprintf(jkey, sizeof jkey, "%s_rss_before_bytes", l);
        report_bytes(r, key, jkey, nd->rss_before);
        snprintf(key, sizeof key, "%s_rss_peak", l);
        snprintf(jkey, sizeof jkey, "%s_rss_peak_bytes", l);
        report_bytes(r, key, jkey, nd->rss_peak);
        snprintf(key, sizeof key, "%s_rss_after", l);
        snprintf(jkey, sizeof jkey, "%s_rss_after_bytes", l);
        report_bytes(r, key, jkey, nd->rss_after);
        if (nd->fds_after > nd->fds_before) {
            over += nd->fds_after - nd->fds_before;
        }
    }
    if (any) {
        report_u64(r, "fds_over", over);
    } else {
        report_str(r, "fds", "unknown");
    }
}

/* Runs the churn threads while sampling the nodes. */
static void churn_run(struct churn *ch, uint32_t conc, struct churn_node *nodes,
                      size_t n_nodes, struct report *r)
{
    pthread_t *t = calloc(conc, sizeof *t);
    uint64_t last_progress = mono_ns();
    uint32_t started = 0;

    if (t == NULL) {
        report_fail(r, "out of memory");
        return;
    }
    atomic_store(&ch->running, conc);
    bench_threads_hint(conc);
    for (; started < conc; started++) {
        if (pthread_create(&t[started], NULL, churn_thread, ch) != 0) {
            atomic_fetch_sub(&ch->running, conc - started);
            report_fail(r, "start churn thread %u of %u", started + 1, conc);
            break;
        }
    }
    while (atomic_load(&ch->running) > 0) {
        sleep_ms(SAMPLE_MS);
        read_nodes(nodes, n_nodes);
        if (mono_ns() - last_progress > 5000000000ull) {
            progress(ch->o, "connection-churn: %llu of %llu connections",
                     (unsigned long long)atomic_load(&ch->done),
                     (unsigned long long)ch->n);
            last_progress = mono_ns();
        }
    }
    for (uint32_t i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
    }
    free(t);
}

int case_connection_churn(const struct bench_opts *o)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT, lc = MQ_QUEUE_CONFIG_INIT;
    uint32_t conc = o->concurrency_set ? o->concurrency : 8;
    size_t n_waiters = o->waiters_set ? o->waiters : 1000;
    uint32_t wait_ms = o->fetch_wait_set ? o->fetch_wait_ms : 30000;
    uint32_t batch = o->fetch_batch_set ? o->fetch_batch : 100;
    struct churn_node nodes[OPTS_PIDS_MAX];
    struct node_proc procs[OPTS_PIDS_MAX];
    struct waiter_target target;
    struct waiters w;
    struct churn ch;
    struct report r;
    mq_client *admin = NULL;
    char queue[MQ_NAME_MAX + 1], load[MQ_NAME_MAX + 1];
    int created = 0, load_created = 0;
    size_t n_nodes;
    uint64_t t0;
    double secs;

    memset(&w, 0, sizeof w);
    memset(&ch, 0, sizeof ch);
    memset(nodes, 0, sizeof nodes);
    errnote_init(&ch.note);
    ch.o = o;
    ch.n = o->connections;
    report_init(&r, "connection-churn");
    report_u64(&r, "connections", ch.n);
    report_u64(&r, "concurrency", conc);
    report_u64(&r, "load_waiters", n_waiters);
    qc.max_messages = 1000;
    qc.discard = MQ_DISCARD_OLD;
    lc.retention = MQ_RETENTION_WORK;
    if (bench_client_open(o, 0, &admin, &r) != 0 ||
        bench_queue_create(o, admin, "churn", &qc, queue, &r) != 0) {
        goto out;
    }
    created = 1;
    ch.queue = queue;
    if (n_waiters > 0) {
        if (bench_queue_create(o, admin, "churn-load", &lc, load, &r) != 0) {
            goto out;
        }
        load_created = 1;
        if (bench_sub_create(admin, load, &r) != 0) {
            goto out;
        }
        snprintf(target.queue, sizeof target.queue, "%s", load);
        snprintf(target.sub, sizeof target.sub, "%s", BENCH_SUB);
    }
    n_nodes = nodes_find(o, "connection-churn", procs);
    for (size_t i = 0; i < n_nodes; i++) {
        nodes[i].proc = procs[i];
        nodes[i].ok = 1;
    }
    read_nodes(nodes, n_nodes);
    for (size_t i = 0; i < n_nodes; i++) {
        nodes[i].fds_before = nodes[i].fds_peak = nodes[i].fds_after;
        nodes[i].rss_before = nodes[i].rss_peak = nodes[i].rss_after;
    }
    if (n_waiters > 0) {
        progress(o, "connection-churn: %zu waiters loading the node",
                 n_waiters);
        if (waiters_start(&w, o, n_waiters,
                          o->waiter_clients != 0 ? o->waiter_clients
                                                 : n_waiters,
                          &target, 1, batch, wait_ms, NULL, &r) != 0) {
            goto stop;
        }
        sleep_ms(LOAD_SETTLE_MS);
    }
    progress(o, "connection-churn: %llu connections, %u at a time",
             (unsigned long long)ch.n, conc);
    t0 = mono_ns();
    ch.deadline_ns = t0 + o->timeout_ms * 1000000u;
    churn_run(&ch, conc, nodes, n_nodes, &r);
    secs = (double)(mono_ns() - t0) / 1e9;
    report_u64(&r, "done", atomic_load(&ch.done));
    report_real(&r, "secs", "secs", secs, 1, NULL);
    report_real(&r, "rate", "rate_conns_s",
                secs > 0 ? (double)atomic_load(&ch.done) / secs : 0, 0,
                "conns/s");
    report_u64(&r, "publish_ok", atomic_load(&ch.ok));
    report_u64(&r, "publish_failed", errnote_count(&ch.note));
    if (atomic_load(&ch.done) < ch.n) {
        report_fail(&r, "%llu of %llu connections done by --timeout",
                    (unsigned long long)atomic_load(&ch.done),
                    (unsigned long long)ch.n);
    }
stop:
    progress(o, "connection-churn: stopping the load");
    waiters_signal_stop(&w);
    if (load_created && bench_queue_delete(o, admin, load) == 0) {
        load_created = 0;
    }
    waiters_stop(&w);
    if (n_waiters > 0) {
        report_u64(&r, "load_served", atomic_load(&w.served));
        report_u64(&r, "load_timeouts", errnote_count(&w.timeouts));
    }
    {
        uint64_t s0 = mono_ns();
        do {
            sleep_ms(SETTLE_STEP_MS);
            read_nodes(nodes, n_nodes);
        } while (!at_baseline(nodes, n_nodes) &&
                 mono_ns() - s0 < o->settle_ms * 1000000u);
        report_real(&r, "settle_secs", "settle_secs",
                    (double)(mono_ns() - s0) / 1e9, 1, NULL);
    }
    report_nodes(nodes, n_nodes, &r);
out:
    report_print(&r, o->json);
    errnote_print(&ch.note, "connection-churn publish");
    waiters_print_errors(&w, "connection-churn load");
    waiters_free(&w);
    if (load_created) {
        bench_queue_delete(o, admin, load);
    }
    if (created) {
        bench_queue_delete(o, admin, queue);
    }
    mq_client_close(admin);
    errnote_destroy(&ch.note);
    return r.failed ? -1 : 0;
}
