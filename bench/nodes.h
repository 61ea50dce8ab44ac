/* nodes.h: the node processes of a local cluster, as /proc shows them:
 * which pids (--pids, or the pid files of a deploy/cluster.sh directory),
 * their resident memory and their open file descriptors. Linux only; the
 * nodes must run as the same user as mqbench. */
#ifndef MQBENCH_NODES_H
#define MQBENCH_NODES_H

#include <stdint.h>
#include <sys/types.h>

#include "opts.h"

struct node_proc {
    char label[16]; /* "n1" */
    pid_t pid;
};

/* Fills @nodes from --pids, or from DIR/n1.pid, n2.pid, n3.pid of
 * --cluster-dir, and returns how many; 0 when neither is given. A pid file
 * that is missing or holds no pid is told on stderr as "mqbench: <what>:
 * ..." and skipped. */
size_t nodes_find(const struct bench_opts *o, const char *what,
                  struct node_proc nodes[OPTS_PIDS_MAX]);

/* VmRSS of @pid in bytes (/proc/PID/status). Returns 0, or -1 (no such
 * process, or not readable). */
int node_rss(pid_t pid, uint64_t *bytes);

/* Open file descriptors of @pid: the entries of /proc/PID/fd. Returns 0,
 * or -1 (no such process, or not readable). */
int node_fds(pid_t pid, uint64_t *n);

/* Reads the pid in file @path. Returns it, or 0 if there is none. */
pid_t pidfile_read(const char *path);

#endif
