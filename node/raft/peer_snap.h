/* peer_snap.h: snapshot writes and reads of the raft_io, around raft_uv's,
 * adding and checking the checksum trailer (snapfile.h). Checksums are
 * computed on libuv's thread pool, never on the loop: the message records
 * a snapshot points at do not change while it is written (snapshot.c). */
#ifndef MQ_PEER_SNAP_H
#define MQ_PEER_SNAP_H

#include "peer.h"

int peer_snapshot_put(struct peer *p, unsigned trailing,
                      struct raft_io_snapshot_put *req,
                      const struct raft_snapshot *snapshot,
                      raft_io_snapshot_put_cb cb);
int peer_snapshot_get(struct peer *p, struct raft_io_snapshot_get *req,
                      raft_io_snapshot_get_cb cb);
/* Checks the snapshot raft_uv loaded at start (NULL: none). Returns 0, or
 * RAFT_CORRUPT with errmsg (RAFT_ERRMSG_BUF_SIZE) naming the file. */
int peer_snapshot_check_loaded(struct peer *p, struct raft_snapshot *snapshot,
                               char *errmsg);
/* Whether a checksum is being computed; the close of the raft_io waits for
 * it (peer_snapshot_idle is called when it ends). */
int peer_snapshot_busy(const struct peer *p);

/* From peer.c. */
void peer_io_fatal(struct peer *p, const char *what, int status);
void peer_fire_event(struct peer *p);
void peer_snapshot_idle(struct peer *p);

#endif
