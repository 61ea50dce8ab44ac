/* consensus.h: owns the raft instance and its raft_uv storage (through
 * peer.c): start-up (bootstrap or resume from disk), proposing log
 * entries, noticing leadership changes, the snapshot policy, and the
 * status that `mqctl status` shows. Loop thread only.
 *
 * libraft 0.15 defects guarded here: (2) a new leader appends a barrier at
 * once, and peer.c counts no acknowledgement below it; (3) raft_close is
 * never called from inside a raft callback (consensus_close defers it to
 * its own loop iteration); (4) install_snapshot_timeout is a few seconds,
 * not 0.15's 30 s; (5) raft turning itself unavailable ends the process. */
#ifndef MQ_CONSENSUS_H
#define MQ_CONSENSUS_H

#include <raft.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "errmsg.h"
#include "fsm.h"
#include "mq.h"
#include "peer.h"
#include "stages.h"

struct consensus {
    struct raft raft;
    struct raft_fsm fsm_inner; /* fsm.c's callbacks */
    struct raft_fsm fsm;       /* ours around them: snapshot policy */
    struct peer *peer;
    const struct config *cfg;
    uv_loop_t *loop;
    struct fsm *state;

    int last_state;
    raft_term last_term;
    uint64_t last_leader;
    struct raft_barrier barrier;
    int barrier_pending;
    /* As leader: the commit index as far as check_commit has verified it
     * lands on an entry of our term. */
    uint64_t commit_checked;
    /* Since when (monotonic ms) no leader is known, 0 while one is; when
     * that was last logged. */
    uint64_t no_leader_since_ms;
    uint64_t no_leader_logged_ms;
    /* Leadership handed over because our clock is ahead of a majority. */
    struct raft_transfer skew_transfer;
    int skew_transfer_pending;

    /* Figures: elections this node started (votes, not pre-votes), and
     * leaders it came to know (a new leader, or a new term of one). */
    uint64_t elections, leader_changes;
    uint64_t seen_leader, seen_leader_term;

    uint64_t log_bytes_since_snapshot;
    /* Added to snapshot_log_bytes for the first snapshot after start:
     * nodes started together snapshot at different log positions. */
    uint64_t snapshot_stagger;
    uint64_t snapshots_taken;
    /* Snapshots whose buffers were freed: taken and written, or restored
     * (the memory they held can go back to the system). */
    uint64_t snapshots_freed;
    /* The snapshot being taken: its index, when it started (uv_hrtime),
     * the loop's time on it in all and at most at once, its steps, the
     * time its encoding took on the thread pool (written there, read once
     * raft's work is done). While its queues are being taken, snap_idle
     * takes more on each loop iteration; snap_sem lets the encoder go
     * once all are. */
    uint64_t snap_index, snap_start_ns, snap_loop_ns, snap_loop_max_ns;
    uint64_t snap_encode_ns;
    unsigned snap_bufs, snap_steps;
    int snap_stepping, snap_sem_live;
    uv_idle_t snap_idle;
    uv_sem_t snap_sem;

    uv_timer_t close_timer;
    void (*close_cb)(struct consensus *c);
    int closing;

    /* Told when this node gains (1) or loses (0) leadership. */
    void (*leader_cb)(void *arg, int leader);
    void *leader_arg;

    /* Membership of this node: it was in the configuration; it was then
     * removed (it stops serving). */
    int was_member;
    int removed;
    void (*removed_cb)(void *arg);

    /* Rejoining after a repair (repair.h: a marker in the data dir): the
     * node neither votes nor stands for election; in phase 1 it takes no
     * raft message at all, in phase 2 only those of a term of at least
     * rejoin_floor. Its absence from a configuration is expected then. */
    int rejoining;
    uint32_t rejoin_phase;
    uint64_t rejoin_floor;
    uint64_t rejoin_dropped;   /* raft messages dropped meanwhile */
    raft_io_recv_cb raft_recv; /* raft's own, behind the filter */

    /* Where a publish's and a delivery's time goes (stages.h). */
    struct stages stages;
};

/* Sets up raft over @p and @state, bootstrapping the initial members of
 * @cfg if the data dir is new, and starts it. */
mq_err consensus_start(struct consensus *c, uv_loop_t *loop, struct peer *p,
                       struct fsm *state, const struct config *cfg,
                       struct errmsg *e);

int consensus_is_leader(const struct consensus *c);

/* Leader, and its barrier applied: its state holds every committed entry,
 * so it may validate requests against it. */
int consensus_leader_ready(const struct consensus *c);

/* Id and client URL of the leader as far as this node knows; 0/NULL. */
uint64_t consensus_leader(const struct consensus *c, const char **client_url);

/* Proposes @buf (raft_malloc'd, @len a multiple of 8; taken over on
 * MQ_OK). @cb runs once with the raft status and the FSM's results.
 * MQ_ERR_NOT_LEADER when not leader. */
mq_err consensus_propose(struct consensus *c, struct raft_apply *req, void *buf,
                         size_t len, raft_apply_cb cb);

const char *consensus_role(const struct consensus *c);

/* Whether node @id is in the current configuration (its role if so, else
 * -1). */
int consensus_member_role(const struct consensus *c, uint64_t id);

/* This node learned (from a voter whose configuration is newer) that it is
 * not a member any more: it stops serving. */
void consensus_not_member(struct consensus *c, uint64_t from,
                          uint64_t config_index);

/* Rejoining: the cluster removed this node (phase 2): take raft messages
 * of terms of at least @floor from now on (loop thread). */
void consensus_rejoin_removed(struct consensus *c, uint64_t floor);
/* Rejoining: the cluster added this node again as a voter: it votes and
 * stands for election again (loop thread). */
void consensus_rejoined(struct consensus *c);

/* Closes raft on a later loop iteration (never inside a raft callback);
 * @cb runs when raft and its storage are closed. */
void consensus_close(struct consensus *c, void (*cb)(struct consensus *c));

#endif
