/* peer_snap.h: snapshot writes and reads of the raft_io, around raft_uv's,
 * adding and checking the checksum trailer (snapfile.h). Checksums are
 * computed on libuv's thread pool, never on the loop: the message records
 * a snapshot points at do not change while it is written (snapshot.c). */
#ifndef MQ_PEER_SNAP_H
#define MQ_PEER_SNAP_H

#include <raft.h>
#include <uv.h>

/* The snapshot files of one raft_io. Set up by its owner (peer.c), which
 * hands it raft_uv and the callbacks below. */
struct peer_snap {
    uv_loop_t *loop;
    struct raft_io *uv;   /* raft_uv, which reads and writes the files */
    const char *data_dir; /* for naming a damaged file */
    const int *closing;   /* the owner's: set once its close began */
    int busy;             /* checksums running on the thread pool */
    void *arg;            /* passed to the callbacks */
    /* An I/O error: logs and ends the process (guard 5). */
    void (*fatal_cb)(void *arg, const char *what, int status);
    /* After each callback into raft, so that the owner sees role changes. */
    void (*event_cb)(void *arg);
    /* busy went to 0 while closing: the owner's close may end. */
    void (*idle_cb)(void *arg);
};

int peer_snapshot_put(struct peer_snap *p, unsigned trailing,
                      struct raft_io_snapshot_put *req,
                      const struct raft_snapshot *snapshot,
                      raft_io_snapshot_put_cb cb);
int peer_snapshot_get(struct peer_snap *p, struct raft_io_snapshot_get *req,
                      raft_io_snapshot_get_cb cb);
/* Checks the snapshot raft_uv loaded at start (NULL: none). Returns 0, or
 * RAFT_CORRUPT with errmsg (RAFT_ERRMSG_BUF_SIZE) naming the file. */
int peer_snapshot_check_loaded(const struct peer_snap *p,
                               struct raft_snapshot *snapshot, char *errmsg);
/* Whether a checksum is being computed; the close of the raft_io waits for
 * it (idle_cb is called when it ends). */
int peer_snapshot_busy(const struct peer_snap *p);

#endif
