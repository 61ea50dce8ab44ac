/* cluster.c: real mqd processes for the cluster tests. */
#include "cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MQ_BIN_DIR
#error "MQ_BIN_DIR must name the directory holding mqd and mqctl"
#endif

uint64_t test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t test_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void test_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Ports test_test_free_port() handed out in this process. The kernel may give
 * a just-closed port to the next bind(0), so two calls could otherwise
 * return one port (two members with one peer URL). */
static pthread_mutex_t ports_mu = PTHREAD_MUTEX_INITIALIZER;
static int ports_given[1024];
static size_t n_ports_given;

static int port_given(int port)
{
    for (size_t i = 0; i < n_ports_given; i++) {
        if (ports_given[i] == port) {
            return 1;
        }
    }
    return 0;
}

static int bind_any_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

int test_free_port(void)
{
    int port = -1;
    pthread_mutex_lock(&ports_mu);
    for (int tries = 0; tries < 256 && n_ports_given < sizeof ports_given /
                                                           sizeof *ports_given;
         tries++) {
        int p = bind_any_port();
        if (p > 0 && !port_given(p)) {
            ports_given[n_ports_given++] = p;
            port = p;
            break;
        }
    }
    pthread_mutex_unlock(&ports_mu);
    return port;
}

static int spawn(struct cluster *c, int i)
{
    struct cluster_node *nd = &c->nodes[i];
    char id[16];
    char *argv[80];
    int k = 0;
    char extra[sizeof c->extra];
    char tls[6][320];
    char launcher[sizeof nd->launcher];
    char *save = NULL;

    snprintf(id, sizeof id, "%d", nd->id);
    snprintf(launcher, sizeof launcher, "%s", nd->launcher);
    for (char *t = strtok_r(launcher, " ", &save); t && k < 16;
         t = strtok_r(NULL, " ", &save)) {
        argv[k++] = t;
    }
    argv[k++] = MQ_BIN_DIR "/mqd";
    argv[k++] = "--id";
    argv[k++] = id;
    argv[k++] = "--data_dir";
    argv[k++] = nd->dir;
    argv[k++] = "--client_url";
    argv[k++] = nd->client_url;
    argv[k++] = "--peer_url";
    argv[k++] = nd->peer_url;
    argv[k++] = nd->join[0] ? "--join" : "--members";
    argv[k++] = nd->join[0] ? nd->join : c->members;
    /* Short timeouts keep failover tests quick. */
    argv[k++] = "--election_timeout_ms";
    argv[k++] = "600";
    argv[k++] = "--heartbeat_timeout_ms";
    argv[k++] = "60";
    /* A stop that hangs ends before the harness kills it (wait_exit), and
     * the node's log names the step. */
    argv[k++] = "--stop_timeout_ms";
    argv[k++] = "5000";
    if (c->auth_file[0] != '\0') {
        argv[k++] = "--auth_bootstrap_key_file";
        argv[k++] = c->auth_file;
    }
    if (c->client_tls) {
        snprintf(tls[0], sizeof tls[0], "%s/node.crt", c->tls_dir);
        snprintf(tls[1], sizeof tls[1], "%s/node.key", c->tls_dir);
        argv[k++] = "--tls_cert_file";
        argv[k++] = tls[0];
        argv[k++] = "--tls_key_file";
        argv[k++] = tls[1];
    }
    if (c->peer_tls) {
        const char *name = nd->peer_cert[0] ? nd->peer_cert : "node";
        snprintf(tls[2], sizeof tls[2], "%s/%s.crt", c->tls_dir, name);
        snprintf(tls[3], sizeof tls[3], "%s/%s.key", c->tls_dir, name);
        snprintf(tls[4], sizeof tls[4], "%s/ca.crt", c->tls_dir);
        argv[k++] = "--peer_tls_cert_file";
        argv[k++] = tls[2];
        argv[k++] = "--peer_tls_key_file";
        argv[k++] = tls[3];
        argv[k++] = "--peer_tls_ca_file";
        argv[k++] = tls[4];
    }
    if (nd->http_url[0] != '\0') {
        argv[k++] = "--http_url";
        argv[k++] = nd->http_url;
    }
    snprintf(extra, sizeof extra, "%s", c->extra);
    for (char *t = strtok_r(extra, " ", &save); t && k < 76;
         t = strtok_r(NULL, " ", &save)) {
        argv[k++] = t;
    }
    argv[k] = NULL;

    /* SIGINT and SIGTERM stay blocked in the child until mqd has its
     * handlers (it unblocks them): a stop sent while it starts is then a
     * clean stop, not a kill. Blocked before the fork, so that no stop can
     * land between the fork and the block. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return -1;
    }
    if (pid == 0) {
        int fd = open(nd->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setpgid(0, 0);
        if (c->die_with_test) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
        }
        /* Lets the test's gdb attach where Yama restricts ptrace. */
        prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY);
        if (nd->fsize) {
            /* Writes past the limit fail with EFBIG, as on a full disk. */
            struct rlimit rl = {nd->fsize, nd->fsize};
            signal(SIGXFSZ, SIG_IGN);
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    setpgid(pid, pid);
    nd->pid = pid;
    return 0;
}

int cluster_start(struct cluster *c, int n, const char *extra)
{
    struct cluster_opts o = CLUSTER_OPTS_INIT;
    o.extra = extra;
    return cluster_start_opts(c, n, &o);
}

int cluster_start_opts(struct cluster *c, int n, const struct cluster_opts *o)
{
    const char *tmp = getenv("TMPDIR");
    memset(c, 0, sizeof *c);
    c->n = n;
    c->die_with_test = o->die_with_test;
    snprintf(c->extra, sizeof c->extra, "%s", o->extra ? o->extra : "");
    if (o->tls_dir != NULL) {
        snprintf(c->tls_dir, sizeof c->tls_dir, "%s", o->tls_dir);
        snprintf(c->tls_ca, sizeof c->tls_ca, "%s/ca.crt", o->tls_dir);
        c->client_tls = o->client_tls;
        c->peer_tls = o->peer_tls;
    }
    snprintf(c->root, sizeof c->root, "%s/mqtest-XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(c->root) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    if (o->auth_secret != NULL) {
        snprintf(c->auth_file, sizeof c->auth_file, "%s/bootstrap.key",
                 c->root);
        int fd = open(c->auth_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || write(fd, o->auth_secret, strlen(o->auth_secret)) < 0 ||
            write(fd, "\n", 1) != 1) {
            perror("cluster: bootstrap key file");
            if (fd >= 0) {
                close(fd);
            }
            return -1;
        }
        close(fd);
        snprintf(c->token, sizeof c->token, "%s", o->auth_secret);
    }
    for (int i = 0; i < n; i++) {
        struct cluster_node *nd = &c->nodes[i];
        const char *host = o->host[i] ? o->host[i] : "127.0.0.1";
        nd->id = i + 1;
        nd->client_port = o->host[i] ? o->client_port : test_free_port();
        nd->peer_port = o->host[i] ? o->peer_port : test_free_port();
        if (nd->client_port <= 0 || nd->peer_port <= 0 ||
            nd->client_port == nd->peer_port) {
            fprintf(stderr, "cluster: no free port\n");
            return -1;
        }
        snprintf(nd->dir, sizeof nd->dir, "%s/n%d", c->root, nd->id);
        snprintf(nd->log, sizeof nd->log, "%s/n%d.log", c->root, nd->id);
        snprintf(nd->client_url, sizeof nd->client_url, "%s://%s:%d",
                 c->client_tls ? "tls+tcp" : "tcp", host, nd->client_port);
        snprintf(nd->peer_url, sizeof nd->peer_url, "%s://%s:%d",
                 c->peer_tls ? "tls+tcp" : "tcp", host, nd->peer_port);
        snprintf(nd->launcher, sizeof nd->launcher, "%s",
                 o->launcher[i] ? o->launcher[i] : "");
        if (o->http) {
            nd->http_port = test_free_port();
            if (nd->http_port <= 0) {
                fprintf(stderr, "cluster: no free port\n");
                return -1;
            }
            snprintf(nd->http_url, sizeof nd->http_url, "%s://%s:%d",
                     o->https ? "https" : "http", host, nd->http_port);
        }
        size_t ul = strlen(c->urls), ml = strlen(c->members);
        snprintf(c->urls + ul, sizeof c->urls - ul, "%s%s", i ? "," : "",
                 nd->client_url);
        snprintf(c->members + ml, sizeof c->members - ml, "%s%d=%s",
                 i ? "," : "", nd->id, nd->peer_url);
    }
    for (int i = 0; o->volatile_fs && i < n; i++) {
        if (volfs_mount(&c->nodes[i].fs, c->nodes[i].dir) != 0) {
            return -1;
        }
    }
    for (int i = 0; i < n; i++) {
        if (spawn(c, i) != 0) {
            return -1;
        }
    }
    if (cluster_wait_leader(c, 20000) < 0) {
        fprintf(stderr, "cluster: no leader within 20 s\n");
        cluster_fail(c);
        return -1;
    }
    return 0;
}

int cluster_power_cut(struct cluster *c, int i)
{
    struct cluster_node *nd = &c->nodes[i];

    if (nd->pid > 0 || nd->fs.pid == 0) {
        fprintf(stderr, "cluster: power cut of node %d: %s\n", nd->id,
                nd->pid > 0 ? "it still runs" : "not on volatilefs");
        return -1;
    }
    return volfs_power_cut(&nd->fs);
}

int cluster_add_node(struct cluster *c, int id)
{
    if (c->n >= CLUSTER_MAX) {
        fprintf(stderr, "cluster: at most %d nodes\n", CLUSTER_MAX);
        return -1;
    }
    int i = c->n;
    struct cluster_node *nd = &c->nodes[i];
    memset(nd, 0, sizeof *nd);
    nd->id = id;
    nd->client_port = test_free_port();
    nd->peer_port = test_free_port();
    if (nd->client_port <= 0 || nd->peer_port <= 0 ||
        nd->client_port == nd->peer_port) {
        fprintf(stderr, "cluster: no free port\n");
        return -1;
    }
    snprintf(nd->dir, sizeof nd->dir, "%s/n%d", c->root, id);
    snprintf(nd->log, sizeof nd->log, "%s/n%d.log", c->root, id);
    snprintf(nd->client_url, sizeof nd->client_url, "%s://127.0.0.1:%d",
             c->client_tls ? "tls+tcp" : "tcp", nd->client_port);
    snprintf(nd->peer_url, sizeof nd->peer_url, "%s://127.0.0.1:%d",
             c->peer_tls ? "tls+tcp" : "tcp", nd->peer_port);
    snprintf(nd->join, sizeof nd->join, "%s", c->urls);
    size_t ul = strlen(c->urls);
    snprintf(c->urls + ul, sizeof c->urls - ul, ",%s", nd->client_url);
    c->n++;
    if (spawn(c, i) != 0) {
        return -1;
    }
    return i;
}

void cluster_fail(struct cluster *c)
{
    c->failed = 1;
}

/* Prints every thread's stack of the node @nd to stderr, with gdb (bounded
 * by timeout(1)): a node that does not stop when told shows where it hangs
 * in the test's output, before it is killed. */
static void dump_stacks(const struct cluster_node *nd, int timeout_ms)
{
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)nd->pid);
    fprintf(stderr,
            "cluster: node %d (pid %s) did not stop within %d ms; "
            "its threads:\n",
            nd->id, pid, timeout_ms);
    fflush(stderr);
    pid_t g = fork();
    if (g == 0) {
        dup2(2, 1);
        char *argv[] = {"timeout", "-s", "KILL", "30",
                        "gdb",     "-q", "-nx",  "-batch",
                        "-p",      pid,  "-ex",  "thread apply all bt",
                        NULL};
        execvp(argv[0], argv);
        _exit(127);
    }
    if (g > 0) {
        int st;
        waitpid(g, &st, 0);
    }
}

static void wait_exit(struct cluster_node *nd, int timeout_ms)
{
    uint64_t end = test_now_ms() + (uint64_t)timeout_ms;
    while (nd->pid > 0) {
        int st = 0;
        pid_t r = waitpid(nd->pid, &st, WNOHANG);
        if (r == 0 && test_now_ms() >= end) {
            dump_stacks(nd, timeout_ms);
            kill(nd->pid, SIGKILL);
            r = waitpid(nd->pid, &st, 0);
        }
        if (r == nd->pid || (r < 0 && errno == ECHILD)) {
            nd->exit_status = WIFEXITED(st)     ? WEXITSTATUS(st)
                              : WIFSIGNALED(st) ? 128 + WTERMSIG(st)
                                                : -1;
            nd->pid = 0;
            return;
        }
        test_sleep_ms(10);
    }
}

int cluster_wait_exit(struct cluster *c, int i, int timeout_ms)
{
    struct cluster_node *nd = &c->nodes[i];
    uint64_t end = test_now_ms() + (uint64_t)timeout_ms;
    while (nd->pid > 0) { /* looks once even with @timeout_ms 0 */
        int st = 0;
        pid_t r = waitpid(nd->pid, &st, WNOHANG);
        if (r == nd->pid) {
            nd->exit_status = WIFEXITED(st)     ? WEXITSTATUS(st)
                              : WIFSIGNALED(st) ? 128 + WTERMSIG(st)
                                                : -1;
            nd->pid = 0;
            return nd->exit_status;
        }
        if (test_now_ms() >= end) {
            break;
        }
        test_sleep_ms(20);
    }
    return nd->pid > 0 ? -1 : nd->exit_status;
}

void cluster_signal(struct cluster *c, int i, int sig)
{
    struct cluster_node *nd = &c->nodes[i];
    if (nd->pid <= 0) {
        return;
    }
    kill(nd->pid, sig);
    if (sig == SIGKILL || sig == SIGTERM) {
        wait_exit(nd, 10000);
    }
}

int cluster_restart(struct cluster *c, int i)
{
    if (c->nodes[i].pid > 0) {
        return 0;
    }
    return spawn(c, i);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void cluster_wipe(struct cluster *c, int i)
{
    nftw(c->nodes[i].dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void print_log(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[2048];
    if (f == NULL) {
        return;
    }
    fprintf(stderr, "---- %s\n", path);
    while (fgets(line, sizeof line, f)) {
        fputs(line, stderr);
    }
    fclose(f);
}

int cluster_stop(struct cluster *c)
{
    int unclean = 0;
    if (c == NULL) { /* cmocka tears down a group whose setup failed */
        return 0;
    }
    for (int i = 0; i < c->n; i++) {
        if (c->nodes[i].pid > 0) {
            kill(c->nodes[i].pid, SIGTERM);
        }
    }
    for (int i = 0; i < c->n; i++) {
        if (c->nodes[i].pid > 0) {
            wait_exit(&c->nodes[i], 10000);
            if (cluster_log_has(c, i, "the stop did not end within")) {
                /* stopguard.h: status 0 if it hung closing an nng socket */
                fprintf(stderr,
                        "cluster: node %d: its stop hung and was cut short "
                        "(its log says where)\n",
                        c->nodes[i].id);
            }
            if (c->nodes[i].exit_status != 0) {
                fprintf(stderr, "cluster: node %d stopped with status %d\n",
                        c->nodes[i].id, c->nodes[i].exit_status);
                unclean = 1;
            }
        }
    }
    if (unclean) {
        c->failed = 1;
    }
    for (int i = 0; i < c->n; i++) {
        if (volfs_unmount(&c->nodes[i].fs) != 0) { /* before the files go */
            unclean = 1;
            c->failed = 1;
        }
    }
    if (c->failed || getenv("MQ_TEST_KEEP")) {
        for (int i = 0; i < c->n; i++) {
            print_log(c->nodes[i].log);
        }
        fprintf(stderr, "cluster: kept %s\n", c->root);
        return unclean ? -1 : 0;
    }
    nftw(c->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

mq_client *cluster_client(struct cluster *c)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    o.urls = c->urls;
    o.timeout_ms = 15000;
    o.attempt_timeout_ms = 1000;
    o.token = c->token[0] ? c->token : NULL;
    o.tls_ca_file = c->client_tls ? c->tls_ca : NULL;
    if (mq_client_open(&cl, &o) != MQ_OK) {
        fprintf(stderr, "cluster: client: %s\n", mq_errmsg());
        return NULL;
    }
    return cl;
}

/* Asks every node; the leader is the one a node names as leader of the
 * highest term among those answering, if it also says it is leader. */
int cluster_leader(struct cluster *c)
{
    mq_client *cl = cluster_client(c);
    mq_node_status *st = NULL;
    size_t n = 0;
    int leader = -1;
    uint64_t best_term = 0;

    if (cl == NULL) {
        return -1;
    }
    if (mq_cluster_status(cl, &st, &n, 2000) == MQ_OK) {
        for (size_t i = 0; i < n; i++) {
            if (st[i].err == MQ_OK && strcmp(st[i].role, "leader") == 0 &&
                st[i].term >= best_term) {
                for (int k = 0; k < c->n; k++) {
                    if ((uint64_t)c->nodes[k].id == st[i].id &&
                        c->nodes[k].pid > 0) {
                        leader = k;
                        best_term = st[i].term;
                    }
                }
            }
        }
    }
    mq_status_free(st);
    mq_client_close(cl);
    return leader;
}

int cluster_wait_leader(struct cluster *c, int timeout_ms)
{
    uint64_t end = test_now_ms() + (uint64_t)timeout_ms;
    do {
        int l = cluster_leader(c);
        if (l >= 0) {
            return l;
        }
        test_sleep_ms(50);
    } while (test_now_ms() < end);
    return -1;
}

int cluster_wait_applied(struct cluster *c, uint64_t index, int timeout_ms)
{
    uint64_t end = test_now_ms() + (uint64_t)timeout_ms;
    mq_client *cl = cluster_client(c);
    int ok = -1;
    if (cl == NULL) {
        return -1;
    }
    do {
        mq_node_status *st = NULL;
        size_t n = 0;
        int behind = 0;
        if (mq_cluster_status(cl, &st, &n, 2000) == MQ_OK) {
            for (size_t i = 0; i < n; i++) {
                int running = 0;
                for (int k = 0; k < c->n; k++) {
                    if (strcmp(c->nodes[k].client_url, st[i].url) == 0) {
                        running = c->nodes[k].pid > 0;
                    }
                }
                if (running &&
                    (st[i].err != MQ_OK || st[i].applied_index < index)) {
                    behind = 1;
                }
            }
        } else {
            behind = 1;
        }
        mq_status_free(st);
        if (!behind) {
            ok = 0;
            break;
        }
        test_sleep_ms(50);
    } while (test_now_ms() < end);
    mq_client_close(cl);
    return ok;
}

int cluster_settle(struct cluster *c, int timeout_ms)
{
    uint64_t end = test_now_ms() + (uint64_t)timeout_ms;
    mq_client *cl = cluster_client(c);
    uint64_t target = 0;
    if (cl == NULL) {
        return -1;
    }
    /* The leader's commit index covers its whole log once the barrier of
     * its term is committed; that is the state every node must reach. */
    while (target == 0 && test_now_ms() < end) {
        mq_node_status *st = NULL;
        size_t n = 0;
        if (mq_cluster_status(cl, &st, &n, 2000) == MQ_OK) {
            for (size_t i = 0; i < n; i++) {
                if (st[i].err == MQ_OK && strcmp(st[i].role, "leader") == 0 &&
                    st[i].commit_index >= st[i].last_index) {
                    target = st[i].commit_index;
                }
            }
        }
        mq_status_free(st);
        if (target == 0) {
            test_sleep_ms(50);
        }
    }
    mq_client_close(cl);
    if (target == 0) {
        return -1;
    }
    int left = (int)(end > test_now_ms() ? end - test_now_ms() : 1);
    return cluster_wait_applied(c, target, left);
}

int test_run(char *const argv[], char *out, size_t outlen)
{
    int pipefd[2];
    if (out != NULL && outlen > 0) {
        out[0] = '\0';
    }
    if (pipe(pipefd) != 0) {
        if (out != NULL && outlen > 0) {
            snprintf(out, outlen, "pipe: %s", strerror(errno));
        }
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        if (out != NULL && outlen > 0) {
            snprintf(out, outlen, "fork: %s", strerror(errno));
        }
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        close(pipefd[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "%s: %s", argv[0], strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    size_t used = 0;
    char sink[4096];
    for (;;) {
        int keep = out != NULL && used + 1 < outlen;
        ssize_t r = read(pipefd[0], keep ? out + used : sink,
                         keep ? outlen - used - 1 : sizeof sink);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        used += keep ? (size_t)r : 0;
    }
    if (out != NULL && outlen > 0) {
        out[used] = '\0';
    }
    close(pipefd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int cluster_mqctlv(struct cluster *c, char *out, size_t outlen,
                   char *const args[])
{
    char *argv[64];
    int k = 0;

    argv[k++] = MQ_BIN_DIR "/mqctl";
    argv[k++] = "-s";
    argv[k++] = c->urls;
    if (c->client_tls) {
        argv[k++] = "--tls-ca";
        argv[k++] = c->tls_ca;
    }
    for (int i = 0; args[i] && k < 62; i++) {
        argv[k++] = args[i];
    }
    argv[k] = NULL;
    if (c->token[0] == '\0') {
        return test_run(argv, out, outlen);
    }
    /* The environment, not the command line: no token in ps or logs. */
    setenv("MQ_TOKEN", c->token, 1);
    int rv = test_run(argv, out, outlen);
    unsetenv("MQ_TOKEN");
    return rv;
}

int cluster_mqctl(struct cluster *c, char *out, size_t outlen, const char *fmt,
                  ...)
{
    char line[4096];
    char *args[64];
    int k = 0;
    char *save = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (char *t = strtok_r(line, " ", &save); t && k < 63;
         t = strtok_r(NULL, " ", &save)) {
        args[k++] = t;
    }
    args[k] = NULL;
    return cluster_mqctlv(c, out, outlen, args);
}

int cluster_log_has(struct cluster *c, int i, const char *needle)
{
    FILE *f = fopen(c->nodes[i].log, "r");
    char line[4096];
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f)) {
        found = strstr(line, needle) != NULL;
    }
    if (f) {
        fclose(f);
    }
    return found;
}

int cluster_log_count(struct cluster *c, int i, const char *needle)
{
    FILE *f = fopen(c->nodes[i].log, "r");
    char line[4096];
    int n = 0;
    while (f && fgets(line, sizeof line, f)) {
        n += strstr(line, needle) != NULL;
    }
    if (f) {
        fclose(f);
    }
    return n;
}

int cluster_snapshot_installs(struct cluster *c, int i)
{
    FILE *f = fopen(c->nodes[i].log, "r");
    char line[4096];
    int n = 0;
    while (f && fgets(line, sizeof line, f)) {
        /* "<time> I node=<id> <role> term=<t> <file>:<line> <text>" */
        const char *role = strstr(line, " node=");
        if (strstr(line, "restoring a snapshot") == NULL || role == NULL) {
            continue;
        }
        role = strchr(role + 1, ' ');
        if (role != NULL && strncmp(role, " - ", 3) != 0) {
            n++;
        }
    }
    if (f) {
        fclose(f);
    }
    return n;
}

mq_client *cluster_node_client(struct cluster *c, int i)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    o.urls = c->nodes[i].client_url;
    o.timeout_ms = 10000;
    o.token = c->token[0] ? c->token : NULL;
    o.tls_ca_file = c->client_tls ? c->tls_ca : NULL;
    if (mq_client_open(&cl, &o) != MQ_OK) {
        fprintf(stderr, "cluster: client of node %d: %s\n", c->nodes[i].id,
                mq_errmsg());
        return NULL;
    }
    return cl;
}

const char *cluster_group_extra;

int cluster_group_setup(void **state)
{
    static struct cluster c;
    if (cluster_start(&c, 3, cluster_group_extra) != 0) {
        cluster_stop(&c);
        return -1;
    }
    *state = &c;
    return 0;
}

int cluster_group_teardown(void **state)
{
    if (cluster_stop(*state) != 0) {
        /* cmocka does not count a failed group teardown in its exit code. */
        fprintf(stderr, "cluster: a node did not stop cleanly: test failed\n");
        exit(1);
    }
    return 0;
}
