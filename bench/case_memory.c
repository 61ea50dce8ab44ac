/* case_memory.c: memory.
 *
 * Reads VmRSS (/proc/PID/status) of the node processes, publishes
 * --messages messages of --size bytes into a fresh queue with
 * mq_publish_async as fast as libmq takes them, waits for every answer and
 * then until every node has applied what the leader committed (so that
 * followers hold the messages too), and reads VmRSS again. Reports per
 * node (rss_after - rss_before) / messages stored, and the largest RSS.
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

struct node_rss {
    char label[16]; /* "n1" */
    pid_t pid;
    uint64_t before, after; /* bytes */
    int have_before, have_after;
};

/* Reads VmRSS of @pid in bytes. Returns 0, or -1. */
static int read_rss(pid_t pid, uint64_t *bytes)
{
    char path[64], line[256];
    unsigned long long kb;
    int rc = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "VmRSS: %llu kB", &kb) == 1) {
            *bytes = (uint64_t)kb * 1024;
            rc = 0;
            break;
        }
    }
    fclose(f);
    return rc;
}

/* Fills @nodes from --pids or --cluster-dir. Returns how many. */
static size_t find_nodes(const struct bench_opts *o,
                         struct node_rss nodes[OPTS_PIDS_MAX])
{
    size_t n = 0;

    if (o->n_pids > 0) {
        for (size_t i = 0; i < o->n_pids; i++) {
            snprintf(nodes[n].label, sizeof nodes[n].label, "n%zu", i + 1);
            nodes[n++].pid = o->pids[i];
        }
        return n;
    }
    if (o->cluster_dir == NULL) {
        return 0;
    }
    for (int i = 1; i <= 3; i++) {
        char path[4096];
        long pid;
        FILE *f;
        snprintf(path, sizeof path, "%s/n%d.pid", o->cluster_dir, i);
        f = fopen(path, "r");
        if (f == NULL) {
            fprintf(stderr, "mqbench: memory: no %s\n", path);
            continue;
        }
        if (fscanf(f, "%ld", &pid) == 1 && pid > 0) {
            snprintf(nodes[n].label, sizeof nodes[n].label, "n%d", i);
            nodes[n++].pid = (pid_t)pid;
        } else {
            fprintf(stderr, "mqbench: memory: %s holds no pid\n", path);
        }
        fclose(f);
    }
    return n;
}

/* Waits until every node that answers has applied the largest commit
 * index seen on the first look, or @deadline_ns. */
static void wait_applied(mq_client *c, uint64_t deadline_ns)
{
    uint64_t target = 0;

    while (mono_ns() < deadline_ns) {
        mq_node_status *st = NULL;
        size_t n = 0;
        int behind = 0;
        if (mq_cluster_status(c, &st, &n, ms_until(deadline_ns)) != MQ_OK) {
            sleep_ms(100);
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            if (st[i].err == MQ_OK && target == 0 &&
                st[i].commit_index > target) {
                target = st[i].commit_index;
            }
        }
        for (size_t i = 0; i < n; i++) {
            if (st[i].err == MQ_OK && st[i].applied_index < target) {
                behind = 1;
            }
        }
        mq_status_free(st);
        if (target != 0 && !behind) {
            return;
        }
        sleep_ms(50);
    }
    fprintf(stderr, "mqbench: memory: nodes still applying at --timeout; "
                    "RSS read anyway\n");
}

int case_memory(const struct bench_opts *o)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    uint64_t n = o->messages_set ? o->messages : 1000000;
    struct node_rss nodes[OPTS_PIDS_MAX];
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
    n_nodes = find_nodes(o, nodes);
    for (size_t i = 0; i < n_nodes; i++) {
        nodes[i].have_before = read_rss(nodes[i].pid, &nodes[i].before) == 0;
        if (!nodes[i].have_before) {
            fprintf(stderr, "mqbench: memory: cannot read VmRSS of pid %d\n",
                    (int)nodes[i].pid);
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
    wait_applied(c, mono_ns() + o->timeout_ms * 1000000u);
    for (size_t i = 0; i < n_nodes; i++) {
        struct node_rss *nd = &nodes[i];
        char key[40], jkey[48];
        nd->have_after = read_rss(nd->pid, &nd->after) == 0;
        if (!nd->have_before) {
            continue; /* told already */
        }
        if (!nd->have_after) {
            fprintf(stderr, "mqbench: memory: cannot read VmRSS of pid %d\n",
                    (int)nd->pid);
            continue;
        }
        snprintf(key, sizeof key, "%s_pid", nd->label);
        report_u64(&r, key, (uint64_t)nd->pid);
        snprintf(key, sizeof key, "%s_rss_before", nd->label);
        snprintf(jkey, sizeof jkey, "%s_rss_before_bytes", nd->label);
        report_bytes(&r, key, jkey, nd->before);
        snprintf(key, sizeof key, "%s_rss_after", nd->label);
        snprintf(jkey, sizeof jkey, "%s_rss_after_bytes", nd->label);
        report_bytes(&r, key, jkey, nd->after);
        snprintf(key, sizeof key, "%s_per_msg", nd->label);
        snprintf(jkey, sizeof jkey, "%s_bytes_per_msg", nd->label);
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
