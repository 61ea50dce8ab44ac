/* case_snapshot.c: snapshot-stall.
 *
 * How long a node stops serving while it takes a snapshot of a large
 * state. Setup (not timed): a fresh queue that keeps everything (no
 * limits) gets --messages messages (default 1000000) of --size bytes with
 * mq_publish_async as fast as libmq takes them (load_preload); nothing
 * consumes them, so they stay in every node's state and in every snapshot.
 * A second fresh queue, the churn queue, keeps only its last
 * CHURN_MAX_MESSAGES (discard old), remembers ids for duplicates for
 * CHURN_REMEMBER_MS only and the status of CHURN_STATUS_MAX gone messages
 * for as long: with the defaults (120 s, and 1000000 statuses for 7 days)
 * the churn would grow the state, and each snapshot, by some 70 bytes a
 * message. Each node is then asked (mq_read with min_index) until it has
 * applied the whole preload.
 *
 * Then, for --duration (default 60 s), at once:
 *
 *   the loader publishes --rate (default 20000) msgs/s of --size bytes to
 *   the churn queue with mq_publish_async, paced to start + i / rate, so
 *   the raft log grows and every node takes a snapshot each time its log
 *   reaches snapshot_log_bytes, while the state stays the preload;
 *   the write probe publishes one message at a time with mq_publish to the
 *   churn queue and records the time of each call;
 *   a read probe per node (a client of that node's URL alone) reads
 *   PROBE_READ_MESSAGES of the preloaded queue with mq_read and records
 *   the time of each call; a follower's stalls show here, not in writes;
 *   the poller asks mq_cluster_status every STATUS_POLL_MS and counts a
 *   snapshot each time a node's snapshot_index moved (two snapshots
 *   between two polls count as one: the node logs have the exact count).
 *
 * Probes wait PROBE_GAP_MS between calls, so that a stall shows as one
 * slow call rather than many, and count the calls over SLOW_MS. Every
 * call's time is recorded, failed ones too (a call that timed out waited
 * that long). The line has the write probe's p50/p99/max, each node's
 * read probe max, the slow calls, the snapshots seen and the messages
 * preloaded.
 *
 * Failure modes: a failed preload fails the case, as does a failed setup
 * (client, queues, no node answering status). Failed calls during the run
 * count in errors= fields with the first message on stderr; a probe that
 * fails BENCH_GIVE_UP_ERRORS calls in a row stops and says so on stderr.
 * Every wait ends by --duration or --timeout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cases.h"
#include "common.h"
#include "stats.h"

/* The churn queue keeps this many messages: the state does not grow. */
#define CHURN_MAX_MESSAGES 10000
#define CHURN_REMEMBER_MS 1000
#define CHURN_STATUS_MAX 1000
#define PROBE_READ_MESSAGES 10
#define PROBE_GAP_MS 5
#define PROBE_TIMEOUT_MS 10000
#define SLOW_MS 100
#define STATUS_POLL_MS 500
#define STATUS_TIMEOUT_MS 2000
/* Nodes reported (5 fields each, within REPORT_FIELDS_MAX). */
#define NODES_MAX 8

/* One node of -s: its read probe and what its status said. */
struct node {
    char url[MQ_URL_MAX];
    uint64_t id;
    char label[24]; /* "n<id>" */
    /* Read probe thread. */
    mq_client *c;
    const char *queue;
    uint64_t first_seq, last_seq; /* the preload's */
    uint64_t end_ns;
    int verbose;
    struct hist *h;
    uint64_t slow;
    struct errnote note;
    int gave_up;
    /* Poller thread. */
    int have_snap;
    uint64_t snap_index;
    uint64_t snapshots;
    uint64_t snap_bytes_max, log_bytes_max;
};

struct stall_run {
    const struct bench_opts *o;
    mq_client *admin, *writer, *loader;
    const char *churn;
    unsigned char *payload;
    size_t size;
    uint64_t t0, end_ns;
    struct node nodes[NODES_MAX];
    size_t n_nodes;
    /* Write probe thread. */
    struct hist *wh;
    uint64_t write_slow;
    struct errnote write_note;
    int write_gave_up;
    /* Loader thread and its callbacks. */
    _Atomic uint64_t churn_ok;
    struct errnote churn_note;
    /* Poller thread. */
    uint64_t status_errors;
};

/* A thread of the timed part: threads_run starts them all at once. */
struct worker {
    void *(*fn)(void *);
    void *arg;
};

static void *worker_thread(void *arg)
{
    struct worker *w = arg;

    return w->fn(w->arg);
}

/* Records a probe call that started at @t0; with -v, a slow one is told
 * on stderr with the UTC time it started, to set beside the node logs'
 * "ms on the loop" lines. */
static void probe_record(struct hist *h, uint64_t *slow, uint64_t t0,
                         int verbose, const char *what)
{
    uint64_t ns = mono_ns() - t0;

    hist_record(h, ns);
    if (ns > (uint64_t)SLOW_MS * 1000000u) {
        (*slow)++;
        if (verbose) {
            struct timespec now;
            struct tm tm;
            char when[32];
            clock_gettime(CLOCK_REALTIME, &now);
            time_t start = now.tv_sec - (time_t)(ns / 1000000000u);
            gmtime_r(&start, &tm);
            strftime(when, sizeof when, "%H:%M:%S", &tm);
            fprintf(stderr,
                    "mqbench: snapshot-stall: slow %s: %.1f ms, started "
                    "about %s UTC\n",
                    what, (double)ns / 1e6, when);
        }
    }
}

static void *write_probe_thread(void *arg)
{
    struct stall_run *s = arg;
    mq_pub m = {0};
    unsigned fails = 0;

    m.payload = s->payload;
    m.payload_len = s->size;
    while (mono_ns() < s->end_ns) {
        uint64_t t0 = mono_ns();
        mq_err rv = mq_publish(s->writer, s->churn, &m, NULL, PROBE_TIMEOUT_MS);
        probe_record(s->wh, &s->write_slow, t0, s->o->verbose, "write");
        if (rv == MQ_OK) {
            fails = 0;
        } else {
            errnote_add(&s->write_note, "%s", mq_errmsg());
            if (++fails == BENCH_GIVE_UP_ERRORS) {
                s->write_gave_up = 1;
                break;
            }
        }
        sleep_ms(PROBE_GAP_MS);
    }
    return NULL;
}

static void *read_probe_thread(void *arg)
{
    struct node *nd = arg;
    mq_read_opts ro = MQ_READ_OPTS_INIT;
    uint64_t next = nd->first_seq;
    unsigned fails = 0;

    ro.max_messages = PROBE_READ_MESSAGES;
    while (mono_ns() < nd->end_ns) {
        uint64_t t0 = mono_ns();
        mq_msg **msgs;
        size_t n;
        mq_err rv;
        ro.from_seq = next;
        rv = mq_read(nd->c, nd->queue, &ro, &msgs, &n, NULL, PROBE_TIMEOUT_MS);
        probe_record(nd->h, &nd->slow, t0, nd->verbose, nd->label);
        if (rv == MQ_OK) {
            fails = 0;
            mq_msgs_free(msgs, n);
            next += PROBE_READ_MESSAGES;
            if (n == 0 || next > nd->last_seq) {
                next = nd->first_seq; /* around the preload again */
            }
        } else {
            errnote_add(&nd->note, "%s", mq_errmsg());
            if (++fails == BENCH_GIVE_UP_ERRORS) {
                nd->gave_up = 1;
                break;
            }
        }
        sleep_ms(PROBE_GAP_MS);
    }
    return NULL;
}

/* libmq sender thread: one churn answer. */
static void churn_cb(void *arg, const mq_pub_result *res)
{
    struct stall_run *s = arg;

    if (res->err == MQ_OK) {
        atomic_fetch_add_explicit(&s->churn_ok, 1, memory_order_relaxed);
    } else {
        errnote_add(&s->churn_note, "publish: %s", mq_strerror(res->err));
    }
}

/* Publishes at --rate until end_ns, a millisecond's worth at a time, then
 * waits for the answers until end_ns + --timeout. */
static void *loader_thread(void *arg)
{
    struct stall_run *s = arg;
    double rate = (double)s->o->rate;
    mq_pub m = {0};
    uint64_t sent = 0, now;

    m.payload = s->payload;
    m.payload_len = s->size;
    while ((now = mono_ns()) < s->end_ns) {
        uint64_t due = (uint64_t)((double)(now - s->t0) * rate / 1e9);
        for (; sent < due && mono_ns() < s->end_ns; sent++) {
            if (mq_publish_async(s->loader, s->churn, &m, churn_cb, s) !=
                MQ_OK) {
                errnote_add(&s->churn_note, "%s", mq_errmsg());
            }
        }
        sleep_ms(1);
    }
    if (mq_flush(s->loader,
                 ms_until(s->end_ns + s->o->timeout_ms * 1000000u)) != MQ_OK) {
        errnote_add(&s->churn_note, "%s (--timeout)", mq_errmsg());
    }
    return NULL;
}

/* Notes what each node's status says; counts a snapshot when a node's
 * snapshot_index moved since its last answer. */
static void poll_status(struct stall_run *s)
{
    mq_node_status *st = NULL;
    size_t n = 0;

    if (mq_cluster_status(s->admin, &st, &n, STATUS_TIMEOUT_MS) != MQ_OK) {
        s->status_errors++;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct node *nd = NULL;
        for (size_t k = 0; k < s->n_nodes; k++) {
            if (strcmp(s->nodes[k].url, st[i].url) == 0) {
                nd = &s->nodes[k];
            }
        }
        if (nd == NULL) {
            continue;
        }
        if (st[i].err != MQ_OK) {
            s->status_errors++;
            continue;
        }
        if (nd->have_snap && st[i].snapshot_index != nd->snap_index) {
            nd->snapshots++;
            progress(s->o,
                     "snapshot-stall: %s snapshot at index %llu (was %llu): "
                     "snapshots %.1f MiB, log %.1f MiB, applied %llu",
                     nd->label, (unsigned long long)st[i].snapshot_index,
                     (unsigned long long)nd->snap_index,
                     (double)st[i].snapshot_bytes / (1024.0 * 1024.0),
                     (double)st[i].log_bytes / (1024.0 * 1024.0),
                     (unsigned long long)st[i].applied_index);
        }
        nd->have_snap = 1;
        nd->snap_index = st[i].snapshot_index;
        if (st[i].snapshot_bytes > nd->snap_bytes_max) {
            nd->snap_bytes_max = st[i].snapshot_bytes;
        }
        if (st[i].log_bytes > nd->log_bytes_max) {
            nd->log_bytes_max = st[i].log_bytes;
        }
    }
    mq_status_free(st);
}

/* Polls every STATUS_POLL_MS until end_ns, and once more after. */
static void *poller_thread(void *arg)
{
    struct stall_run *s = arg;
    uint64_t next = s->t0;

    while (mono_ns() < s->end_ns) {
        uint64_t now;
        poll_status(s);
        next += (uint64_t)STATUS_POLL_MS * 1000000u;
        now = mono_ns();
        if (next < now) {
            next = now; /* the poll took long: a node stalled */
        }
        if (next > s->end_ns) {
            next = s->end_ns;
        }
        if (next > now) {
            sleep_ms((uint32_t)((next - now) / 1000000u));
        }
    }
    poll_status(s);
    return NULL;
}

/* Fills s->nodes with the nodes of -s that answer status, and sets
 * *leader. Returns 0, or -1 after report_fail. */
static int find_nodes(struct stall_run *s, uint64_t *leader, struct report *r)
{
    mq_node_status *st;
    size_t count;

    *leader = 0;
    if (mq_cluster_status(s->admin, &st, &count, 0) != MQ_OK) {
        report_fail(r, "%s", mq_errmsg());
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        struct node *nd;
        if (st[i].err != MQ_OK) {
            fprintf(stderr, "mqbench: snapshot-stall: left out: %s\n",
                    st[i].error);
            continue;
        }
        if (s->n_nodes == NODES_MAX) {
            fprintf(stderr,
                    "mqbench: snapshot-stall: more than %d nodes; left "
                    "out: %s\n",
                    NODES_MAX, st[i].url);
            continue;
        }
        nd = &s->nodes[s->n_nodes];
        if (strcmp(st[i].role, "leader") == 0) {
            *leader = st[i].id;
        }
        snprintf(nd->url, sizeof nd->url, "%s", st[i].url);
        nd->id = st[i].id;
        snprintf(nd->label, sizeof nd->label, "n%llu",
                 (unsigned long long)st[i].id);
        s->n_nodes++;
    }
    mq_status_free(st);
    if (s->n_nodes == 0) {
        report_fail(r, "no node of -s answered status");
        return -1;
    }
    return 0;
}

/* Waits until @nd's node has applied @index (the preload's last entry),
 * or @deadline_ns; a node still behind then is told on stderr and probed
 * anyway. */
static void wait_applied(struct node *nd, uint64_t index, uint64_t deadline_ns)
{
    mq_read_opts ro = MQ_READ_OPTS_INIT;
    mq_read_info info = {0};

    ro.from_seq = nd->last_seq;
    ro.max_messages = 1;
    ro.min_index = index;
    while (mono_ns() < deadline_ns) {
        mq_msg **msgs;
        size_t n;
        if (mq_read(nd->c, nd->queue, &ro, &msgs, &n, &info,
                    ms_until(deadline_ns)) == MQ_OK) {
            mq_msgs_free(msgs, n);
            if (info.applied_index >= index) {
                return;
            }
        }
        sleep_ms(100);
    }
    fprintf(stderr,
            "mqbench: snapshot-stall: %s had applied %llu, not %llu, by "
            "--timeout; probed anyway\n",
            nd->url, (unsigned long long)info.applied_index,
            (unsigned long long)index);
}

static void report_nodes(struct stall_run *s, struct report *r)
{
    for (size_t i = 0; i < s->n_nodes; i++) {
        struct node *nd = &s->nodes[i];
        char key[40], jkey[48];
        snprintf(key, sizeof key, "%s_read_max", nd->label);
        snprintf(jkey, sizeof jkey, "%s_read_max_us", nd->label);
        report_latency(r, key, jkey, hist_max(nd->h));
        snprintf(key, sizeof key, "%s_read_over_%dms", nd->label, SLOW_MS);
        report_u64(r, key, nd->slow);
        snprintf(key, sizeof key, "%s_snapshots", nd->label);
        report_u64(r, key, nd->snapshots);
        snprintf(key, sizeof key, "%s_snapshot", nd->label);
        snprintf(jkey, sizeof jkey, "%s_snapshot_bytes", nd->label);
        report_bytes(r, key, jkey, nd->snap_bytes_max);
        snprintf(key, sizeof key, "%s_log", nd->label);
        snprintf(jkey, sizeof jkey, "%s_log_bytes", nd->label);
        report_bytes(r, key, jkey, nd->log_bytes_max);
    }
}

/* Runs the timed part and adds its fields to @r. */
static void stall_measure(struct stall_run *s, struct report *r)
{
    struct worker w[NODES_MAX + 3];
    size_t n_w = 0;
    uint64_t reads = 0, read_errors = 0, read_slow = 0, snapshots = 0;
    double secs;
    char key[40];

    w[n_w++] = (struct worker){poller_thread, s};
    w[n_w++] = (struct worker){write_probe_thread, s};
    w[n_w++] = (struct worker){loader_thread, s};
    for (size_t i = 0; i < s->n_nodes; i++) {
        w[n_w++] = (struct worker){read_probe_thread, &s->nodes[i]};
    }
    progress(s->o, "snapshot-stall: churn at %llu msgs/s for %.1f s",
             (unsigned long long)s->o->rate, (double)s->o->duration_ms / 1000);
    s->t0 = mono_ns();
    s->end_ns = s->t0 + s->o->duration_ms * 1000000u;
    for (size_t i = 0; i < s->n_nodes; i++) {
        s->nodes[i].end_ns = s->end_ns;
        s->nodes[i].verbose = s->o->verbose;
    }
    threads_run(n_w, worker_thread, w, sizeof *w, r);
    secs = (double)(mono_ns() - s->t0) / 1e9;
    for (size_t i = 0; i < s->n_nodes; i++) {
        reads += hist_count(s->nodes[i].h);
        read_errors += errnote_count(&s->nodes[i].note);
        read_slow += s->nodes[i].slow;
        snapshots += s->nodes[i].snapshots;
    }
    report_real(r, "secs", "secs", secs, 1, NULL);
    report_real(r, "churn_target", "churn_target_msgs_s", (double)s->o->rate, 0,
                "msgs/s");
    report_real(r, "churn_rate", "churn_rate_msgs_s",
                (double)atomic_load(&s->churn_ok) / secs, 0, "msgs/s");
    report_u64(r, "churn_errors", errnote_count(&s->churn_note));
    report_u64(r, "writes", hist_count(s->wh));
    report_latency(r, "write_p50", "write_p50_us",
                   hist_percentile(s->wh, 50.0));
    report_latency(r, "write_p99", "write_p99_us",
                   hist_percentile(s->wh, 99.0));
    report_latency(r, "write_max", "write_max_us", hist_max(s->wh));
    snprintf(key, sizeof key, "write_over_%dms", SLOW_MS);
    report_u64(r, key, s->write_slow);
    report_u64(r, "write_errors", errnote_count(&s->write_note));
    report_u64(r, "reads", reads);
    snprintf(key, sizeof key, "read_over_%dms", SLOW_MS);
    report_u64(r, key, read_slow);
    report_u64(r, "read_errors", read_errors);
    report_u64(r, "snapshots", snapshots);
    report_u64(r, "status_errors", s->status_errors);
    report_nodes(s, r);
}

/* Prints what the line cannot say: errors, probes that stopped, hints. */
static void stall_tell(struct stall_run *s, uint64_t snapshots)
{
    errnote_print(&s->write_note, "snapshot-stall write probe");
    if (s->write_gave_up) {
        fprintf(stderr,
                "mqbench: snapshot-stall: the write probe stopped after %d "
                "failures in a row\n",
                BENCH_GIVE_UP_ERRORS);
    }
    errnote_print(&s->churn_note, "snapshot-stall churn");
    for (size_t i = 0; i < s->n_nodes; i++) {
        struct node *nd = &s->nodes[i];
        char what[64];
        snprintf(what, sizeof what, "snapshot-stall %s read probe", nd->label);
        errnote_print(&nd->note, what);
        if (nd->gave_up) {
            fprintf(stderr,
                    "mqbench: snapshot-stall: the read probe of %s stopped "
                    "after %d failures in a row\n",
                    nd->url, BENCH_GIVE_UP_ERRORS);
        }
    }
    if (snapshots == 0) {
        fprintf(stderr, "mqbench: snapshot-stall: no snapshot seen: the churn "
                        "wrote less log than the nodes' snapshot_log_bytes "
                        "(default 64 MiB); raise --rate or --duration\n");
    }
    fprintf(stderr,
            "mqbench: snapshot-stall: node logs show each snapshot's time on "
            "the loop: grep 'ms on the loop' in the node logs\n");
}

int case_snapshot_stall(const struct bench_opts *o)
{
    mq_queue_config keep_all = MQ_QUEUE_CONFIG_INIT;
    mq_queue_config churn_cfg = MQ_QUEUE_CONFIG_INIT;
    uint64_t n = o->messages_set ? o->messages : 1000000;
    struct bench_opts co = *o; /* @o with this case's defaults */
    struct stall_run *s;
    struct errnote preload_note;
    struct report r;
    struct load ld;
    char queue[MQ_NAME_MAX + 1], churn[MQ_NAME_MAX + 1];
    int created = 0, churn_created = 0, measured = 0;
    uint64_t leader = 0, deadline, snapshots = 0;

    if (!o->duration_set) {
        co.duration_ms = 60000;
    }
    if (!o->rate_set) {
        co.rate = 20000;
    }
    errnote_init(&preload_note);
    load_init(&ld, &preload_note);
    report_init(&r, "snapshot-stall");
    report_u64(&r, "size", o->size);
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        report_fail(&r, "out of memory");
        report_print(&r, o->json);
        errnote_destroy(&preload_note);
        return -1;
    }
    s->o = &co;
    s->size = (size_t)o->size;
    errnote_init(&s->write_note);
    errnote_init(&s->churn_note);
    for (size_t i = 0; i < NODES_MAX; i++) {
        errnote_init(&s->nodes[i].note);
    }
    s->payload = malloc(s->size);
    if (s->payload == NULL || hist_new(&s->wh) != 0) {
        report_fail(&r, "out of memory");
        goto out;
    }
    payload_fill(s->payload, s->size, 1);
    churn_cfg.discard = MQ_DISCARD_OLD;
    churn_cfg.max_messages = CHURN_MAX_MESSAGES;
    churn_cfg.duplicate_window_ms = CHURN_REMEMBER_MS;
    churn_cfg.status_ttl_ms = CHURN_REMEMBER_MS;
    churn_cfg.status_max = CHURN_STATUS_MAX;
    if (bench_client_open(o, 0, &s->admin, &r) != 0 ||
        bench_queue_create(o, s->admin, "snapshot-stall", &keep_all, queue,
                           &r) != 0) {
        goto out;
    }
    created = 1;
    if (bench_queue_create(o, s->admin, "snapshot-churn", &churn_cfg, churn,
                           &r) != 0) {
        goto out;
    }
    churn_created = 1;
    s->churn = churn;
    if (find_nodes(s, &leader, &r) != 0 ||
        load_preload(o, "snapshot-stall", queue, n, &ld, &r) != 0) {
        goto out;
    }
    report_u64(&r, "preloaded", atomic_load(&ld.ok));
    report_u64(&r, "leader", leader);
    deadline = mono_ns() + o->timeout_ms * 1000000u;
    for (size_t i = 0; i < s->n_nodes; i++) {
        struct node *nd = &s->nodes[i];
        nd->queue = queue;
        nd->first_seq = atomic_load(&ld.min_seq);
        nd->last_seq = atomic_load(&ld.max_seq);
        if (hist_new(&nd->h) != 0) {
            report_fail(&r, "out of memory");
            goto out;
        }
        if (bench_reader_open(nd->url, &nd->c, &r) != 0) {
            goto out;
        }
        wait_applied(nd, atomic_load(&ld.max_index), deadline);
    }
    if (bench_client_open(o, 0, &s->writer, &r) != 0 ||
        bench_client_open(o, s->size, &s->loader, &r) != 0) {
        goto out;
    }
    poll_status(s); /* the snapshot index each node starts from */
    s->status_errors = 0;
    stall_measure(s, &r);
    measured = 1;
    for (size_t i = 0; i < s->n_nodes; i++) {
        snapshots += s->nodes[i].snapshots;
    }
out:
    report_print(&r, o->json);
    errnote_print(&preload_note, "snapshot-stall preload");
    if (measured) {
        stall_tell(s, snapshots);
    }
    mq_client_close(s->loader);
    mq_client_close(s->writer);
    for (size_t i = 0; i < NODES_MAX; i++) {
        mq_client_close(s->nodes[i].c);
        hist_free(s->nodes[i].h);
        errnote_destroy(&s->nodes[i].note);
    }
    if (churn_created) {
        bench_queue_delete(o, s->admin, churn);
    }
    if (created) {
        bench_queue_delete(o, s->admin, queue);
    }
    mq_client_close(s->admin);
    hist_free(s->wh);
    free(s->payload);
    errnote_destroy(&s->write_note);
    errnote_destroy(&s->churn_note);
    errnote_destroy(&preload_note);
    free(s);
    return r.failed ? -1 : 0;
}
