/* case_memory.c: memory.
 *
 * Reads VmRSS (/proc/PID/status) of the node processes, publishes
 * --messages messages of --size bytes into a fresh queue with
 * mq_publish_async as fast as libmq takes them, waits for every answer and
 * then until every node has applied what the leader committed (so that
 * followers hold the messages too), and reads VmRSS again. Reports per
 * node (rss_after - rss_before) / messages stored, and the largest RSS;
 * then, after --settle (a node gives memory back within about 11 s of a
 * snapshot, node/rpc/memtrim.h), VmRSS once more: rss_settled, and the
 * largest of those.
 *
 * The pids come from --pids, or from DIR/n1.pid, n2.pid, n3.pid of
 * --cluster-dir (deploy/cluster.sh); without either, only the publish rate
 * is reported, with rss=unknown. A node whose RSS cannot be read is told on
 * stderr and left out. The case fails if the publishing does not end by
 * --timeout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "common.h"
#include "nodes.h"

struct node_rss {
    struct node_proc proc;
    uint64_t before, after, settled; /* bytes */
    int have_before, have_after;
};

/* Waits --settle, then reads and reports each node's VmRSS again and the
 * largest. */
static void report_settled(const struct bench_opts *o, struct node_rss *nodes,
                           size_t n_nodes, struct report *r)
{
    uint64_t max = 0;
    if (o->settle_ms == 0) {
        return;
    }
    progress(o, "memory: waiting %llu ms before reading VmRSS again",
             (unsigned long long)o->settle_ms);
    sleep_ms((uint32_t)o->settle_ms);
    for (size_t i = 0; i < n_nodes; i++) {
        struct node_rss *nd = &nodes[i];
        char key[40], jkey[48];
        if (!nd->have_before || !nd->have_after ||
            node_rss(nd->proc.pid, &nd->settled) != 0) {
            continue;
        }
        snprintf(key, sizeof key, "%s_rss_settled", nd->proc.label);
        snprintf(jkey, sizeof jkey, "%s_rss_settled_bytes", nd->proc.label);
        report_bytes(r, key, jkey, nd->settled);
        if (nd->settled > max) {
            max = nd->settled;
        }
    }
    if (max > 0) {
        report_bytes(r, "max_rss_settled", "max_rss_settled_bytes", max);
    }
}

int case_memory(const struct bench_opts *o)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    uint64_t n = o->messages_set ? o->messages : 1000000;
    struct node_rss nodes[OPTS_PIDS_MAX];
    struct node_proc procs[OPTS_PIDS_MAX];
    struct errnote note;
    struct load ld;
    struct report r;
    mq_client *c = NULL;
    char queue[MQ_NAME_MAX + 1];
    size_t n_nodes;
    int created = 0;
    uint64_t t0, deadline, ok, max_rss = 0;
    double secs;

    memset(nodes, 0, sizeof nodes);
    errnote_init(&note);
    load_init(&ld, &note);
    report_init(&r, "memory");
    report_u64(&r, "size", o->size);
    n_nodes = nodes_find(o, "memory", procs);
    for (size_t i = 0; i < n_nodes; i++) {
        nodes[i].proc = procs[i];
        nodes[i].have_before = node_rss(procs[i].pid, &nodes[i].before) == 0;
        if (!nodes[i].have_before) {
            fprintf(stderr, "mqbench: memory: cannot read VmRSS of pid %d\n",
                    (int)procs[i].pid);
        }
    }
    if (bench_client_open(o, o->size, &c, &r) != 0 ||
        bench_queue_create(o, c, "memory", &qc, queue, &r) != 0) {
        goto out;
    }
    created = 1;
    progress(o, "memory: publishing %llu messages of %llu bytes",
             (unsigned long long)n, (unsigned long long)o->size);
    t0 = mono_ns();
    deadline = t0 + o->timeout_ms * 1000000u;
    if (load_publish(c, queue, n, o->size, deadline, &ld, &r) != 0) {
        goto out;
    }
    secs = (double)(mono_ns() - t0) / 1e9;
    ok = atomic_load(&ld.ok);
    report_u64(&r, "msgs", ok);
    report_real(&r, "secs", "secs", secs, 1, NULL);
    report_real(&r, "rate", "rate_msgs_s", (double)ok / secs, 0, "msgs/s");
    report_u64(&r, "errors", atomic_load(&ld.errors));
    bench_wait_applied(c, "memory", mono_ns() + o->timeout_ms * 1000000u);
    for (size_t i = 0; i < n_nodes; i++) {
        struct node_rss *nd = &nodes[i];
        char key[40], jkey[48];
        nd->have_after = node_rss(nd->proc.pid, &nd->after) == 0;
        if (!nd->have_before) {
            continue; /* told already */
        }
        if (!nd->have_after) {
            fprintf(stderr, "mqbench: memory: cannot read VmRSS of pid %d\n",
                    (int)nd->proc.pid);
            continue;
        }
        snprintf(key, sizeof key, "%s_pid", nd->proc.label);
        report_u64(&r, key, (uint64_t)nd->proc.pid);
        snprintf(key, sizeof key, "%s_rss_before", nd->proc.label);
        snprintf(jkey, sizeof jkey, "%s_rss_before_bytes", nd->proc.label);
        report_bytes(&r, key, jkey, nd->before);
        snprintf(key, sizeof key, "%s_rss_after", nd->proc.label);
        snprintf(jkey, sizeof jkey, "%s_rss_after_bytes", nd->proc.label);
        report_bytes(&r, key, jkey, nd->after);
        snprintf(key, sizeof key, "%s_per_msg", nd->proc.label);
        snprintf(jkey, sizeof jkey, "%s_bytes_per_msg", nd->proc.label);
        report_real(
            &r, key, jkey,
            ok > 0 ? ((double)nd->after - (double)nd->before) / (double)ok : 0,
            0, NULL);
        if (nd->after > max_rss) {
            max_rss = nd->after;
        }
    }
    if (max_rss > 0) {
        report_bytes(&r, "max_rss", "max_rss_bytes", max_rss);
        report_settled(o, nodes, n_nodes, &r);
    } else {
        report_str(&r, "rss", "unknown");
        if (n_nodes == 0) {
            fprintf(stderr, "mqbench: memory: RSS unknown: give --pids or "
                            "--cluster-dir\n");
        }
    }
out:
    report_print(&r, o->json);
    errnote_print(&note, "memory");
    if (created) {
        bench_queue_delete(o, c, queue);
    }
    mq_client_close(c);
    errnote_destroy(&note);
    return r.failed ? -1 : 0;
}
