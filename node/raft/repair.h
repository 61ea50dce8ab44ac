/* repair.h: a node that finds its data dir damaged repairs it at start
 * (auto_repair 1, or mqd --repair), and the marker that makes it rejoin.
 *
 * Raft must never forget a term or a vote (or it may vote twice in a
 * term), and a voter must never forget entries it acknowledged (or a
 * majority without them may elect a leader that lacks them). So repair:
 *   - checks, before raft starts, the term and vote (mq-termvote against
 *     raft_uv's metadata1/2, termvote.h), the open segments (segcheck.h),
 *     the closed segments and the latest snapshot (logcheck.h);
 *   - raft_uv's metadata damaged, mq's copy intact, the log intact:
 *     rewrites the metadata from the copy; the node starts as it was;
 *   - the log or a snapshot damaged, the term and vote intact: moves every
 *     log and snapshot file to damaged-<time>/ in the data dir (the one of
 *     an earlier repair is deleted), keeps metadata1/2 and mq-termvote;
 *   - the term and vote damaged (the copy fails its checksum, or there is
 *     none and raft_uv's files are unreadable): moves every file there;
 *   - an empty data dir with `mqd --repair` (the operator says its state
 *     was lost): nothing to move;
 *   - and in these last cases writes the marker "mq-rejoin": the node then
 *     rejoins as a new member. Until the cluster has removed it (phase 1)
 *     it takes no raft message at all; once removed, it takes only those of
 *     a term at least the leader's term at the removal (phase 2, the floor)
 *     and is added again as a non-voter, caught up from its peers and
 *     promoted (join.h); it never votes nor stands for election before
 *     that (consensus.c), and the marker is removed once it is a voter.
 * The marker: "MQREJN01", u32 phase, u32 0, u64 floor, u32 length of a
 * list of client URLs and the list, then the CRC-32C of all that (u32). A
 * damaged marker reads as phase 1 without URLs: still rejoining.
 *
 * Loop thread at start (blocking file I/O), and join.c's thread for the
 * marker. */
#ifndef MQ_REPAIR_H
#define MQ_REPAIR_H

#include <stdint.h>

#include "config.h"
#include "errmsg.h"
#include "mq.h"

#define REPAIR_MARKER "mq-rejoin"

struct repair_marker {
    uint32_t phase;  /* 1: to be removed; 2: removed, to be added again */
    uint64_t floor;  /* phase 2: raft messages of lower terms are dropped */
    char urls[1024]; /* client URLs of the cluster, comma-separated */
};

/* Reads @dir's marker into @m. MQ_OK; MQ_ERR_NOT_FOUND when there is none
 * (the node is not rejoining); MQ_ERR_INVALID when it is damaged (logged;
 * @m then says phase 1, no URLs); MQ_ERR_INTERNAL on an I/O error. */
mq_err repair_marker_read(const char *dir, struct repair_marker *m,
                          struct errmsg *e);
/* Replaces @dir's marker with @m, durably. */
mq_err repair_marker_write(const char *dir, const struct repair_marker *m,
                           struct errmsg *e);
/* Removes @dir's marker, durably. */
mq_err repair_marker_clear(const char *dir, struct errmsg *e);

/* Checks @cfg's data dir and repairs what is damaged, as above, logging
 * each step. Returns MQ_OK (nothing damaged, or repaired), or an error
 * with @e saying what could not be checked or repaired (the node then
 * refuses to start). */
mq_err repair_run(const struct config *cfg, struct errmsg *e);

#endif
