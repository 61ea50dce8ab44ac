/* case_read.c: catchup-read.
 *
 * Preloads --messages messages of --size bytes with mq_publish_async (not
 * timed) into a fresh queue, then reads the whole queue back with mq_read,
 * --read-batch messages a call, each call from the seq after the last one
 * received, twice:
 *
 *   nodes=1: one client on the URL of a follower (mq_cluster_status says
 *   which), reading from it, as libmq does by default (reads_from_leader
 *   0);
 *   nodes=3: a client on each node URL of -s, all at once, each reading the
 *   whole queue from its own node.
 *
 * Before the clock starts, each client reads one message with min_index set
 * to the last raft index of the preload, so that its node has applied every
 * message and the time measures reading, not replication. The time runs
 * from the start of the readers to the end of the last one; the rate counts
 * every message received by every reader.
 *
 * A reader checks that the seqs come in order without a hole: a message
 * after a hole, or a read that ends before the last seq, counts in gaps=.
 * Failed reads count in errors=; a reader that fails BENCH_GIVE_UP_ERRORS
 * reads in a row stops; a run not complete by --timeout fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "common.h"

struct reader {
    const char *queue;
    char url[MQ_URL_MAX];
    mq_client *c;
    uint64_t first_seq, last_seq; /* what the preload stored */
    uint32_t batch;
    uint64_t deadline_ns;
    struct errnote *note;
    uint64_t node_id; /* the node that answered */
    uint64_t msgs, gaps;
    int gave_up;
};

/* Untimed: waits until @k's node has applied @index (the preload's last
 * entry) and learns which node answers. Returns 0, or -1 after
 * report_fail. */
static int reader_ready(struct reader *k, uint64_t index, struct report *r)
{
    mq_read_opts ro = MQ_READ_OPTS_INIT;
    mq_read_info info;
    mq_msg **msgs;
    size_t n;

    ro.from_seq = k->last_seq;
    ro.max_messages = 1;
    ro.min_index = index;
    if (mq_read(k->c, k->queue, &ro, &msgs, &n, &info, 0) != MQ_OK) {
        report_fail(r, "%s: %s", k->url, mq_errmsg());
        return -1;
    }
    mq_msgs_free(msgs, n);
    if (info.applied_index < index) {
        report_fail(r, "%s: node %llu applied %llu, not %llu, in time", k->url,
                    (unsigned long long)info.node_id,
                    (unsigned long long)info.applied_index,
                    (unsigned long long)index);
        return -1;
    }
    k->node_id = info.node_id;
    return 0;
}

static void *reader_thread(void *arg)
{
    struct reader *k = arg;
    mq_read_opts ro = MQ_READ_OPTS_INIT;
    uint64_t next = k->first_seq;
    unsigned fails = 0;

    ro.max_messages = k->batch;
    while (next <= k->last_seq && mono_ns() < k->deadline_ns) {
        mq_msg **msgs;
        size_t n;
        ro.from_seq = next;
        if (mq_read(k->c, k->queue, &ro, &msgs, &n, NULL, 0) != MQ_OK) {
            errnote_add(k->note, "%s", mq_errmsg());
            if (++fails == BENCH_GIVE_UP_ERRORS) {
                k->gave_up = 1;
                break;
            }
            continue;
        }
        fails = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t seq = mq_msg_seq(msgs[i]);
            if (seq != next) {
                k->gaps++;
            }
            next = seq + 1;
        }
        k->msgs += n;
        mq_msgs_free(msgs, n);
        if (n == 0) {
            k->gaps++; /* the queue ended early */
            break;
        }
    }
    return NULL;
}

/* Runs the @n readers @ks (ready) at once and prints their line. */
static int read_run(const struct bench_opts *o, struct reader *ks, size_t n,
                    struct errnote *note, uint64_t expected)
{
    uint64_t msgs = 0, gaps = 0, t0;
    int gave_up = 0;
    struct report r;
    double secs;

    report_init(&r, "catchup-read");
    report_u64(&r, "size", o->size);
    report_u64(&r, "nodes", n);
    report_u64(&r, "read_batch", o->read_batch);
    if (n == 1) {
        report_u64(&r, "node", ks[0].node_id);
    }
    progress(o, "catchup-read: %zu reader(s) of %llu messages", n,
             (unsigned long long)expected);
    t0 = mono_ns();
    for (size_t i = 0; i < n; i++) {
        ks[i].deadline_ns = t0 + o->timeout_ms * 1000000u;
    }
    threads_run(n, reader_thread, ks, sizeof *ks, &r);
    secs = (double)(mono_ns() - t0) / 1e9;
    for (size_t i = 0; i < n; i++) {
        msgs += ks[i].msgs;
        gaps += ks[i].gaps;
        gave_up |= ks[i].gave_up;
    }
    report_u64(&r, "expected", expected * n);
    report_u64(&r, "msgs", msgs);
    report_real(&r, "secs", "secs", secs, 2, NULL);
    report_real(&r, "rate", "rate_msgs_s", (double)msgs / secs, 0, "msgs/s");
    report_real(&r, "mb", "mb_s", (double)msgs * (double)o->size / secs / 1e6,
                1, "MB/s");
    report_u64(&r, "gaps", gaps);
    report_u64(&r, "errors", errnote_count(note));
    if (msgs < expected * n) {
        report_fail(&r, "gave up with %llu of %llu messages read%s",
                    (unsigned long long)msgs,
                    (unsigned long long)(expected * n),
                    gave_up ? " (reads kept failing)" : "");
    }
    report_print(&r, o->json);
    return r.failed ? -1 : 0;
}

/* Fills @ks (up to OPTS_PIDS_MAX) with the URL of every node that answers
 * and sets *n; sets *follower to the index of one that follows. Returns 0,
 * or -1 after report_fail (also when no node follows). */
static int find_nodes(mq_client *admin, struct reader *ks, size_t *n,
                      long *follower, struct report *r)
{
    mq_node_status *st;
    size_t count;

    *n = 0;
    *follower = -1;
    if (mq_cluster_status(admin, &st, &count, 0) != MQ_OK) {
        report_fail(r, "%s", mq_errmsg());
        return -1;
    }
    for (size_t i = 0; i < count && *n < OPTS_PIDS_MAX; i++) {
        if (st[i].err != MQ_OK) {
            continue;
        }
        if (*follower < 0 && strcmp(st[i].role, "follower") == 0) {
            *follower = (long)*n;
        }
        snprintf(ks[*n].url, sizeof ks[*n].url, "%s", st[i].url);
        (*n)++;
    }
    mq_status_free(st);
    if (*follower < 0) {
        report_fail(r, "no node of -s is a follower: catchup-read needs one");
        return -1;
    }
    return 0;
}

int case_catchup_read(const struct bench_opts *o)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    uint64_t n = o->messages_set ? o->messages : 200000;
    struct reader ks[OPTS_PIDS_MAX], one;
    struct errnote preload_note, note;
    struct report r;
    struct load ld;
    mq_client *admin = NULL;
    char queue[MQ_NAME_MAX + 1];
    size_t n_nodes = 0;
    long follower;
    int created = 0, rc = -1;

    memset(ks, 0, sizeof ks);
    memset(&one, 0, sizeof one);
    errnote_init(&preload_note);
    errnote_init(&note);
    load_init(&ld, &preload_note);
    /* Setup failures are told on this line; the runs print their own. */
    report_init(&r, "catchup-read");
    report_u64(&r, "size", o->size);
    if (bench_client_open(o, 0, &admin, &r) != 0 ||
        bench_queue_create(o, admin, "catchup-read", &qc, queue, &r) != 0) {
        goto out;
    }
    created = 1;
    if (find_nodes(admin, ks, &n_nodes, &follower, &r) != 0 ||
        load_preload(o, "catchup-read", queue, n, &ld, &r) != 0) {
        goto out;
    }
    for (size_t i = 0; i < n_nodes; i++) {
        ks[i].queue = queue;
        ks[i].first_seq = atomic_load(&ld.min_seq);
        ks[i].last_seq = atomic_load(&ld.max_seq);
        ks[i].batch = o->read_batch;
        ks[i].note = &note;
        if (bench_reader_open(ks[i].url, &ks[i].c, &r) != 0 ||
            reader_ready(&ks[i], atomic_load(&ld.max_index), &r) != 0) {
            goto out;
        }
    }
    one = ks[follower];
    rc = read_run(o, &one, 1, &note, atomic_load(&ld.ok));
    if (read_run(o, ks, n_nodes, &note, atomic_load(&ld.ok)) != 0) {
        rc = -1;
    }
out:
    if (r.failed) { /* the runs print their own lines */
        report_print(&r, o->json);
    }
    errnote_print(&preload_note, "catchup-read preload");
    errnote_print(&note, "catchup-read");
    for (size_t i = 0; i < n_nodes; i++) {
        mq_client_close(ks[i].c);
    }
    if (created) {
        bench_queue_delete(o, admin, queue);
    }
    mq_client_close(admin);
    errnote_destroy(&preload_note);
    errnote_destroy(&note);
    return rc;
}
