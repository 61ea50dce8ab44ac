/* nodes.c: node pids, VmRSS and descriptor counts from /proc (see
 * nodes.h). */
#include "nodes.h"

#include <dirent.h>
#include <stdio.h>

pid_t pidfile_read(const char *path)
{
    long pid = 0;
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        return 0;
    }
    if (fscanf(f, "%ld", &pid) != 1 || pid <= 0 || pid > INT32_MAX) {
        pid = 0;
    }
    fclose(f);
    return (pid_t)pid;
}

size_t nodes_find(const struct bench_opts *o, const char *what,
                  struct node_proc nodes[OPTS_PIDS_MAX])
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
        pid_t pid;
        snprintf(path, sizeof path, "%s/n%d.pid", o->cluster_dir, i);
        pid = pidfile_read(path);
        if (pid == 0) {
            fprintf(stderr, "mqbench: %s: no pid in %s\n", what, path);
            continue;
        }
        snprintf(nodes[n].label, sizeof nodes[n].label, "n%d", i);
        nodes[n++].pid = pid;
    }
    return n;
}

int node_rss(pid_t pid, uint64_t *bytes)
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

int node_fds(pid_t pid, uint64_t *n)
{
    char path[64];
    struct dirent *d;
    uint64_t count = 0;
    DIR *dir;

    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    dir = opendir(path);
    if (dir == NULL) {
        return -1;
    }
    while ((d = readdir(dir)) != NULL) {
        if (d->d_name[0] != '.') {
            count++;
        }
    }
    closedir(dir);
    *n = count;
    return 0;
}
