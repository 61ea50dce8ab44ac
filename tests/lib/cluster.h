/* cluster.h: the harness of the cluster tests. It runs real mqd processes
 * on 127.0.0.1 with free ports and a temporary directory each, in their own
 * process groups; it waits by polling (never fixed sleeps), kills only the
 * processes it started, by PID, and keeps the logs of a failed test. The
 * fault tests start the nodes through a launcher (a network namespace) on
 * addresses of their own instead (cluster_start_opts).
 *
 * Not thread-safe: one test thread drives it. */
#ifndef MQ_TEST_CLUSTER_H
#define MQ_TEST_CLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mq.h"
#include "volfs.h"

#define CLUSTER_MAX 5

struct cluster_node {
    int id;
    pid_t pid;                /* 0 when not running */
    int exit_status;          /* of the last exit: code, or 128 + signal */
    unsigned long long fsize; /* if not 0: RLIMIT_FSIZE, a full disk */
    int client_port, peer_port;
    int http_port; /* 0: no HTTP listener (cluster_opts.http) */
    char dir[512];
    char log[512];
    char client_url[64];
    char peer_url[64];
    char http_url[64];  /* "" when http_port is 0 */
    char launcher[128]; /* command words put before mqd, "" for none */
    char join[512];     /* client URLs to join through, "" for --members */
    /* Peer TLS: the base name of the node's certificate and key in the
     * cluster's tls_dir ("" for "node": node.crt, node.key). */
    char peer_cert[32];
    /* cluster_opts.volatile_fs: the file system under dir (pid 0: none). */
    struct volfs fs;
};

struct cluster {
    int n;
    struct cluster_node nodes[CLUSTER_MAX];
    char root[256];
    char urls[512];    /* every client URL, comma-separated */
    char members[512]; /* id=peer-url list */
    char extra[1024];  /* extra mqd flags for every node */
    int failed;        /* keep the directory and print the logs */
    int die_with_test; /* see cluster_opts */
    /* Authentication (cluster_opts.auth_secret): the bootstrap secret's
     * file every node is started with ("" for none), and the token the
     * harness's own clients and mqctl runs present ("" for none). */
    char auth_file[300];
    char token[600];
    /* TLS (see cluster_opts): the certificates' directory, and which
     * ports use it. */
    char tls_dir[256];
    char tls_ca[300]; /* tls_dir/ca.crt: clients' and mqctl's CA */
    int client_tls, peer_tls;
};

/* Starts @n nodes (extra mqd flags in @extra, may be NULL) and waits up to
 * 20 s for a leader. Returns 0, or -1 after printing why. */
int cluster_start(struct cluster *c, int n, const char *extra);

/* How cluster_start_opts runs the nodes; zero (CLUSTER_OPTS_INIT) is what
 * cluster_start does. */
struct cluster_opts {
    const char *extra; /* extra mqd flags for every node, or NULL */
    /* Node i listens on host[i] (client_port and peer_port, the same on
     * every node, each having its own address); NULL: 127.0.0.1 with free
     * ports. */
    const char *host[CLUSTER_MAX];
    int client_port, peer_port;
    /* Words run before mqd, split on spaces, the first looked up in PATH
     * ("ip netns exec mqf42n1"); NULL: mqd runs directly. The node's pid is
     * mqd's only if the launcher execs it (as `ip netns exec` does). */
    const char *launcher[CLUSTER_MAX];
    /* 1: a node gets SIGKILL when the thread that started it ends, so that
     * no node outlives a test killed at its timeout. Start and restart
     * nodes from the main thread then. */
    int die_with_test;
    /* Not NULL: authentication on. The secret is written to a file of the
     * cluster's directory (mode 600) that every node gets as
     * auth_bootstrap_key_file, and becomes the harness's token (c->token,
     * which a test may change). */
    const char *auth_secret;
    /* TLS: a directory made by tests/lib/make_certs.sh. client_tls:
     * tls+tcp:// client URLs with node.crt (clients and mqctl of the
     * harness use ca.crt); peer_tls: tls+tcp:// peer URLs, mutual TLS with
     * the node's peer_cert (node.crt) and ca.crt. */
    const char *tls_dir;
    int client_tls, peer_tls;
    /* 1: every node serves HTTP (http_url) on a free port of its own;
     * with https (and client_tls), https:// with the client certificate. */
    int http, https;
    /* 1: each node's data dir is a mount of volatilefs (volfs.h; root
     * only), so that cluster_power_cut can drop what a node did not
     * sync. */
    int volatile_fs;
};

#define CLUSTER_OPTS_INIT                                                      \
    {                                                                          \
        0                                                                      \
    }

/* cluster_start with options. */
int cluster_start_opts(struct cluster *c, int n, const struct cluster_opts *o);

/* Stops every node (SIGTERM, then SIGKILL after 10 s) and removes the
 * directory unless the test failed (cluster_fail), in which case the logs
 * are printed and the directory kept. Returns 0 if every node stopped
 * cleanly (exit code 0: no crash, no sanitizer report), else -1. */
int cluster_stop(struct cluster *c);

/* Marks the test failed: logs are kept and printed at cluster_stop. */
void cluster_fail(struct cluster *c);

/* A test begins failed and is marked passed at its end, so that a failed
 * assertion (which leaves the test function early) keeps the logs. */
#define CLUSTER_TEST_BEGIN(c) ((c)->failed = 1)
#define CLUSTER_TEST_PASSED(c) ((c)->failed = 0)

/* Index of the node that is leader according to a majority of answers, or
 * -1 if none within @timeout_ms. */
int cluster_wait_leader(struct cluster *c, int timeout_ms);

/* Index (0-based) of the leader right now, or -1. */
int cluster_leader(struct cluster *c);

/* Sends @sig to node @i; for SIGKILL and SIGTERM also waits for it to end. */
void cluster_signal(struct cluster *c, int i, int sig);
/* Waits up to @timeout_ms (0: looks once) for node @i to exit by itself;
 * returns its exit status (code, or 128 + signal), or -1 if it still
 * runs. */
int cluster_wait_exit(struct cluster *c, int i, int timeout_ms);
/* A power cut of node @i, which must be stopped (killed and reaped):
 * every write to its data dir that was not synced is gone (needs
 * cluster_opts.volatile_fs). Returns 0, or -1 after printing why. */
int cluster_power_cut(struct cluster *c, int i);
/* Starts node @i again with its data dir as it is. */
int cluster_restart(struct cluster *c, int i);
/* Starts a new node (the next index, id @id) with an empty data dir and
 * `--join` to the client URLs of the nodes before it; it does not wait for
 * the node to be added. Returns its index, or -1. */
int cluster_add_node(struct cluster *c, int id);
/* Removes node @i's data dir (the node must be stopped). */
void cluster_wipe(struct cluster *c, int i);

/* Waits until every running node has applied at least @index, up to
 * @timeout_ms. Returns 0 or -1. */
int cluster_wait_applied(struct cluster *c, uint64_t index, int timeout_ms);

/* Waits until every running node has applied what the leader has
 * committed now, so that reads from any node agree. Returns 0 or -1. */
int cluster_settle(struct cluster *c, int timeout_ms);

/* Opens a libmq client on every node's URL. */
mq_client *cluster_client(struct cluster *c);

/* Runs `mqctl -s <urls> <args>` (args split on spaces; use cluster_mqctlv
 * for arguments with spaces), with MQ_TOKEN set to c->token when it is not
 * "" (a --token argument wins over it). Captures stdout+stderr into @out
 * (may be NULL). Returns mqctl's exit code, or -1. */
int cluster_mqctl(struct cluster *c, char *out, size_t outlen, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));
int cluster_mqctlv(struct cluster *c, char *out, size_t outlen,
                   char *const argv[]);

/* Whether node @i's log has a line containing @needle. */
int cluster_log_has(struct cluster *c, int i, const char *needle);
/* How many lines of node @i's log contain @needle. */
int cluster_log_count(struct cluster *c, int i, const char *needle);

/* How many snapshots node @i installed from a leader, by its log: each
 * restore of a snapshot logs "restoring a snapshot"; one logged before raft
 * started (role "-") is the node's own snapshot loaded at start, one logged
 * while raft ran (role follower, candidate, ...) an install. Counts every
 * run of the node since its log began. */
int cluster_snapshot_installs(struct cluster *c, int i);

/* Opens a libmq client on node @i's URL alone (timeout 10 s), or NULL
 * after printing why. */
mq_client *cluster_node_client(struct cluster *c, int i);

/* cmocka group (or per-test) setup and teardown: a three-node cluster in
 * a static struct cluster, with the extra mqd flags of cluster_group_extra
 * (set it before cmocka_run_group_tests; NULL for none). The teardown ends
 * the process with status 1 when a node did not stop cleanly. */
extern const char *cluster_group_extra;
int cluster_group_setup(void **state);
int cluster_group_teardown(void **state);

/* Runs @argv (argv[0] looked up in PATH) and waits for it; its stdout and
 * stderr go into @out (may be NULL), cut to @outlen. Returns the exit code,
 * or -1 if it could not run or was killed (@out then says why, if it can). */
int test_run(char *const argv[], char *out, size_t outlen);

/* Milliseconds on a monotonic clock. */
uint64_t test_now_ms(void);
/* Milliseconds since the epoch (the clock the nodes stamp messages with). */
uint64_t test_wall_ms(void);
/* Sleeps @ms (for pacing loads, never to wait for a state). */
void test_sleep_ms(int ms);
/* A port on 127.0.0.1 that was free a moment ago and that no earlier call
 * in this process returned; -1 if none is found. */
int test_free_port(void);

#endif
