/* case_restart.c: restart.
 *
 * How long a full restart of the cluster of --cluster-dir (the directory
 * of deploy/cluster.sh up: n1.pid, n1.conf, n1.log, ... for nodes 1-3)
 * keeps it from taking a publish. Meant to run after many-queues --keep,
 * so that the nodes restart with a large state. Steps:
 *
 * 1. Reads each node's pid, and from /proc its executable, arguments and
 *    working directory; creates a queue and publishes to it once; notes
 *    the state size (largest snapshot_bytes and log_bytes of
 *    mq_cluster_status) and the end of each node's log.
 * 2. Sends SIGTERM to the three nodes and waits until they are gone (as
 *    deploy/cluster.sh down: SIGKILL after 10 s, counted in killed=).
 * 3. Starts them again the way deploy/cluster.sh up does (same executable
 *    and arguments from the same directory, stdin from /dev/null, stdout
 *    and stderr appended to nI.log, SIGHUP ignored as under nohup, in a
 *    session of their own so that they outlive mqbench) and writes their
 *    new pids to nI.pid: deploy/cluster.sh down stops them as usual.
 *    deploy/cluster.sh up itself is not called: it builds first, and it
 *    knows only the ports 7001-7003.
 * 4. From the start, a fresh client publishes (1 s per attempt) until one
 *    succeeds: restart_secs. Then, 3 s later, counts in the lines the logs
 *    got since step 1 the elections started ("election for term") and won
 *    ("became leader of term"): a clean restart has one leader elected.
 *
 * Failure modes (the line says which): no --cluster-dir or a node not
 * running; a node that does not stop; a node that exits after the start
 * (see its log); no publish by --timeout. The nodes are left running
 * whatever happens after step 3. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"
#include "common.h"
#include "nodes.h"

#define N_NODES 3
#define STOP_GRACE_MS 10000
#define ATTEMPT_MS 1000
#define ELECTION_SETTLE_MS 3000
#define CMDLINE_MAX 8192

struct rnode {
    char label[8];
    char pidfile[PATH_MAX];
    char logfile[PATH_MAX];
    pid_t pid; /* before; then the new one */
    char exe[PATH_MAX];
    char cwd[PATH_MAX];
    char args[CMDLINE_MAX]; /* NUL-separated, as /proc/PID/cmdline */
    char *argv[64];
    off_t log_off;
    int child; /* pid is a child of mqbench */
};

/* Reads @path (a /proc file) into @buf. Returns the bytes read, or -1. */
static ssize_t read_whole(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t len = 0;

    if (fd < 0) {
        return -1;
    }
    while ((size_t)len < size) {
        ssize_t k = read(fd, buf + len, size - (size_t)len);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            break;
        }
        len += k;
    }
    close(fd);
    return len;
}

/* Fills @nd from its pid file and /proc. Returns 0, or -1 after
 * report_fail. */
static int node_probe(const struct bench_opts *o, int i, struct rnode *nd,
                      struct report *r)
{
    char path[64];
    ssize_t len;
    size_t argc = 0;

    snprintf(nd->label, sizeof nd->label, "n%d", i);
    snprintf(nd->pidfile, sizeof nd->pidfile, "%s/n%d.pid", o->cluster_dir, i);
    snprintf(nd->logfile, sizeof nd->logfile, "%s/n%d.log", o->cluster_dir, i);
    nd->pid = pidfile_read(nd->pidfile);
    if (nd->pid == 0 || kill(nd->pid, 0) != 0) {
        report_fail(r, "node %d is not running (%s)", i, nd->pidfile);
        return -1;
    }
    snprintf(path, sizeof path, "/proc/%d/exe", (int)nd->pid);
    len = readlink(path, nd->exe, sizeof nd->exe - 1);
    if (len > 0) {
        nd->exe[len] = '\0';
        /* Rebuilt since it started: the new binary at the same path. */
        char *del = strstr(nd->exe, " (deleted)");
        if (del != NULL && del[10] == '\0') {
            *del = '\0';
        }
        snprintf(path, sizeof path, "/proc/%d/cwd", (int)nd->pid);
        len = readlink(path, nd->cwd, sizeof nd->cwd - 1);
    }
    if (len > 0) {
        nd->cwd[len] = '\0';
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int)nd->pid);
        len = read_whole(path, nd->args, sizeof nd->args - 1);
    }
    if (len <= 0 || (size_t)len >= sizeof nd->args - 1) {
        report_fail(r,
                    "node %d (pid %d): cannot read its executable, "
                    "directory or arguments in /proc",
                    i, (int)nd->pid);
        return -1;
    }
    nd->args[len] = '\0';
    for (ssize_t k = 0; k < len; k += (ssize_t)strlen(nd->args + k) + 1) {
        if (argc == sizeof nd->argv / sizeof nd->argv[0] - 1) {
            report_fail(r, "node %d (pid %d) has more than %zu arguments", i,
                        (int)nd->pid, argc);
            return -1;
        }
        nd->argv[argc++] = nd->args + k;
    }
    nd->argv[argc] = NULL;
    return 0;
}

/* Whether @nd's process has ended: reaped here if it is our child (a
 * restart earlier in this run), or a zombie that its parent has not reaped
 * yet (an init that does not reap), or no more. */
static int gone(struct rnode *nd)
{
    char path[64], buf[512], *p;
    ssize_t len;
    int st;

    if (waitpid(nd->pid, &st, WNOHANG) == nd->pid) {
        nd->child = 0;
        return 1;
    }
    if (kill(nd->pid, 0) != 0 && errno == ESRCH) {
        return 1;
    }
    snprintf(path, sizeof path, "/proc/%d/stat", (int)nd->pid);
    len = read_whole(path, buf, sizeof buf - 1);
    if (len <= 0) {
        return 1;
    }
    buf[len] = '\0';
    p = strrchr(buf, ')'); /* "pid (comm) S ..." */
    return p != NULL && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/* SIGTERM, then SIGKILL after STOP_GRACE_MS. Returns 0, or -1 after
 * report_fail. Adds to *killed the nodes that needed SIGKILL. */
static int stop_all(const struct bench_opts *o, struct rnode *nodes,
                    uint64_t *killed, struct report *r)
{
    uint64_t t0 = mono_ns();
    uint64_t deadline = t0 + o->timeout_ms * 1000000u;
    int sent_kill = 0;

    for (int i = 0; i < N_NODES; i++) {
        kill(nodes[i].pid, SIGTERM);
    }
    for (;;) {
        int left = 0;
        for (int i = 0; i < N_NODES; i++) {
            left += !gone(&nodes[i]);
        }
        if (left == 0) {
            return 0;
        }
        if (!sent_kill && mono_ns() - t0 > STOP_GRACE_MS * 1000000ull) {
            for (int i = 0; i < N_NODES; i++) {
                if (!gone(&nodes[i])) {
                    kill(nodes[i].pid, SIGKILL);
                    (*killed)++;
                }
            }
            sent_kill = 1;
        }
        if (mono_ns() > deadline) {
            report_fail(r, "%d node(s) still running at --timeout", left);
            return -1;
        }
        sleep_ms(20);
    }
}

/* Starts @nd as deploy/cluster.sh up does. Returns 0, or -1 after
 * report_fail. */
static int start_one(struct rnode *nd, struct report *r)
{
    struct rlimit rl;
    int log_fd, null_fd;
    unsigned long max_fd = 65536;
    pid_t pid;
    FILE *f;

    log_fd = open(nd->logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log_fd < 0 || null_fd < 0) {
        report_fail(r, "start %s: open %s: %s", nd->label,
                    log_fd < 0 ? nd->logfile : "/dev/null", strerror(errno));
        goto fail;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        max_fd = (unsigned long)rl.rlim_cur;
    }
    pid = fork();
    if (pid < 0) {
        report_fail(r, "start %s: fork: %s", nd->label, strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls until exec. */
        struct sigaction sa;
        sigset_t none;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        for (int s = 1; s < NSIG; s++) {
            sigaction(s, &sa, NULL);
        }
        sa.sa_handler = SIG_IGN;
        sigaction(SIGHUP, &sa, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setsid();
        if (chdir(nd->cwd) != 0 || dup2(null_fd, 0) < 0 ||
            dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) {
            _exit(127);
        }
        for (unsigned long fd = 3; fd < max_fd; fd++) {
            close((int)fd);
        }
        execv(nd->exe, nd->argv);
        _exit(127);
    }
    close(log_fd);
    close(null_fd);
    nd->pid = pid;
    nd->child = 1;
    f = fopen(nd->pidfile, "w");
    if (f == NULL || fprintf(f, "%d\n", (int)pid) < 0 || fclose(f) != 0) {
        report_fail(r, "write %s: %s (node %s runs as pid %d)", nd->pidfile,
                    strerror(errno), nd->label, (int)pid);
        return -1;
    }
    return 0;
fail:
    if (log_fd >= 0) {
        close(log_fd);
    }
    if (null_fd >= 0) {
        close(null_fd);
    }
    return -1;
}

/* A node started by us that has exited: its label, or NULL. */
static const char *exited(struct rnode *nodes, int *status)
{
    for (int i = 0; i < N_NODES; i++) {
        if (nodes[i].child &&
            waitpid(nodes[i].pid, status, WNOHANG) == nodes[i].pid) {
            nodes[i].child = 0;
            return nodes[i].label;
        }
    }
    return NULL;
}

/* Counts the lines of @nd's log after log_off holding @needle. */
static uint64_t count_log(const struct rnode *nd, const char *needle)
{
    char line[2048];
    uint64_t n = 0;
    FILE *f = fopen(nd->logfile, "r");

    if (f == NULL) {
        return 0;
    }
    if (fseeko(f, nd->log_off, SEEK_SET) == 0) {
        while (fgets(line, sizeof line, f) != NULL) {
            n += strstr(line, needle) != NULL;
        }
    }
    fclose(f);
    return n;
}

/* The state before: largest snapshot and log of the nodes. */
static void report_state(mq_client *c, struct report *r)
{
    mq_node_status *st = NULL;
    uint64_t snap = 0, log = 0;
    size_t n = 0;

    if (mq_cluster_status(c, &st, &n, 0) != MQ_OK) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (st[i].err == MQ_OK) {
            snap = st[i].snapshot_bytes > snap ? st[i].snapshot_bytes : snap;
            log = st[i].log_bytes > log ? st[i].log_bytes : log;
        }
    }
    mq_status_free(st);
    report_bytes(r, "snapshot", "snapshot_bytes", snap);
    report_bytes(r, "log", "log_bytes", log);
}

/* Publishes to @queue until one succeeds, a node exits or @deadline_ns.
 * Returns 0 when one did, with the attempts in *attempts. */
static int first_publish(const struct bench_opts *o, struct rnode *nodes,
                         const char *queue, uint64_t deadline_ns,
                         uint64_t *attempts, struct errnote *note,
                         struct report *r)
{
    mq_client_opts co = MQ_CLIENT_OPTS_INIT;
    unsigned char payload[8] = {0};
    mq_client *c = NULL;
    mq_pub m = {0};
    const char *dead;
    int status = 0, rc = -1;

    co.urls = o->urls;
    co.token = bench_token();
    bench_tls_opts(o, &co);
    co.timeout_ms = ATTEMPT_MS;
    co.attempt_timeout_ms = ATTEMPT_MS / 2;
    if (mq_client_open(&c, &co) != MQ_OK) {
        report_fail(r, "%s", mq_errmsg());
        return -1;
    }
    m.payload = payload;
    m.payload_len = sizeof payload;
    while (mono_ns() < deadline_ns) {
        if ((dead = exited(nodes, &status)) != NULL) {
            report_fail(r,
                        "node %s exited (status %d) after the start; see "
                        "%s/%s.log",
                        dead, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                        o->cluster_dir, dead);
            break;
        }
        (*attempts)++;
        if (mq_publish(c, queue, &m, NULL, ATTEMPT_MS) == MQ_OK) {
            rc = 0;
            break;
        }
        errnote_add(note, "%s", mq_errmsg());
        sleep_ms(10);
    }
    if (rc != 0 && !r->failed) {
        report_fail(r, "no publish succeeded by --timeout");
    }
    mq_client_close(c);
    return rc;
}

int case_restart(const struct bench_opts *o)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    struct rnode *nodes = calloc(N_NODES, sizeof *nodes);
    struct errnote note;
    struct report r;
    mq_client *c = NULL;
    char queue[MQ_NAME_MAX + 1];
    unsigned char payload[8] = {0};
    mq_pub m = {0};
    int created = 0, started = 0;
    uint64_t t0, killed = 0, attempts = 0;

    errnote_init(&note);
    report_init(&r, "restart");
    if (nodes == NULL) {
        report_fail(&r, "out of memory");
        goto out;
    }
    if (o->cluster_dir == NULL) {
        report_fail(&r, "needs --cluster-dir (a deploy/cluster.sh "
                        "directory)");
        goto out;
    }
    for (int i = 0; i < N_NODES; i++) {
        if (node_probe(o, i + 1, &nodes[i], &r) != 0) {
            goto out;
        }
    }
    qc.max_messages = 1000;
    qc.discard = MQ_DISCARD_OLD;
    m.payload = payload;
    m.payload_len = sizeof payload;
    if (bench_client_open(o, 0, &c, &r) != 0 ||
        bench_queue_create(o, c, "restart", &qc, queue, &r) != 0) {
        goto out;
    }
    created = 1;
    if (mq_publish(c, queue, &m, NULL, 0) != MQ_OK) {
        report_fail(&r, "before the restart: %s", mq_errmsg());
        goto out;
    }
    report_state(c, &r);
    mq_client_close(c);
    c = NULL;
    for (int i = 0; i < N_NODES; i++) {
        struct stat sb;
        nodes[i].log_off = stat(nodes[i].logfile, &sb) == 0 ? sb.st_size : 0;
    }
    progress(o, "restart: stopping pids %d %d %d", (int)nodes[0].pid,
             (int)nodes[1].pid, (int)nodes[2].pid);
    t0 = mono_ns();
    if (stop_all(o, nodes, &killed, &r) != 0) {
        goto out;
    }
    report_real(&r, "stop_secs", "stop_secs", (double)(mono_ns() - t0) / 1e9, 2,
                NULL);
    report_u64(&r, "killed", killed);
    t0 = mono_ns();
    for (int i = 0; i < N_NODES; i++) {
        if (start_one(&nodes[i], &r) != 0) {
            goto out;
        }
        started++;
    }
    progress(o, "restart: started pids %d %d %d", (int)nodes[0].pid,
             (int)nodes[1].pid, (int)nodes[2].pid);
    if (first_publish(o, nodes, queue, t0 + o->timeout_ms * 1000000u, &attempts,
                      &note, &r) == 0) {
        report_real(&r, "restart_secs", "restart_secs",
                    (double)(mono_ns() - t0) / 1e9, 2, NULL);
        report_u64(&r, "attempts", attempts);
    }
    sleep_ms(ELECTION_SETTLE_MS);
    {
        uint64_t won = 0, begun = 0;
        for (int i = 0; i < N_NODES; i++) {
            won += count_log(&nodes[i], "became leader of term");
            begun += count_log(&nodes[i], "election for term");
        }
        report_u64(&r, "leaders_elected", won);
        report_u64(&r, "elections_started", begun);
    }
out:
    report_print(&r, o->json);
    errnote_print(&note, "restart: publishes before the first success");
    if (created) {
        if (c == NULL && started == N_NODES) {
            bench_client_open(o, 0, &c, &r);
        }
        if (c != NULL) {
            bench_queue_delete(o, c, queue);
        }
    }
    mq_client_close(c);
    free(nodes);
    errnote_destroy(&note);
    return r.failed ? -1 : 0;
}
