/* volfs.h: a node's data dir on volatilefs (tests/fault/volatilefs.c), the
 * file system that keeps unsynced writes in its own memory, so that
 * killing it is a power cut. Needs root (it mounts). */
#ifndef MQ_TEST_VOLFS_H
#define MQ_TEST_VOLFS_H

#include <sys/types.h>

struct volfs {
    pid_t pid;      /* the file system's process, 0 when not mounted */
    char mnt[512];  /* the mount point: the node's data dir */
    char disk[520]; /* the backing directory: what is synced */
    char log[530];  /* the process's output */
};

/* Makes @mnt and @mnt".disk" if missing and mounts the one over the other;
 * waits up to 10 s for the mount. Returns 0, or -1 after printing why. */
int volfs_mount(struct volfs *v, const char *mnt);

/* A power cut: kills the file system (SIGKILL), so that every write not
 * synced is gone, detaches its mount and mounts the backing directory
 * again. Whatever has files open there must be dead first. Returns 0, or
 * -1 after printing why. */
int volfs_power_cut(struct volfs *v);

/* Unmounts (what was not synced is dropped, as at a power cut) and waits
 * up to 10 s for the process to end (then kills it). Returns 0 if it
 * ended with status 0 (or was not mounted), else -1 after printing its
 * status and log (a sanitizer's report lands there). */
int volfs_unmount(struct volfs *v);

#endif
