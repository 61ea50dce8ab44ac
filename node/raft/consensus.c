/* consensus.c: raft set-up, leadership and snapshot policy.
 *
 * Happy path: start loads term, vote, snapshot and log from the data dir
 * (bootstrapping the initial members on first start) and raft elects a
 * leader. Every callback into raft ends in on_event, which compares role and
 * term with what it saw last: a node that became leader appends its barrier
 * (guard 2); one that lost leadership tells the node, which fails the
 * requests waiting on it. Failure modes: any raft I/O error stops the
 * process (peer.c); a raft that turned itself unavailable also does. */
#include "consensus.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"
#include "log.h"
#include "peer_codec.h"
#include "repair.h"

#define THRESHOLD_NEVER (UINT_MAX / 2)
/* A rejoining node's election timeout: it never stands for election. raft
 * draws from [t, 2t], an int. */
#define REJOIN_ELECTION_TIMEOUT_MS (1u << 29)

static const char *role_name(int state)
{
    switch (state) {
    case RAFT_LEADER:
        return "leader";
    case RAFT_FOLLOWER:
        return "follower";
    case RAFT_CANDIDATE:
        return "candidate";
    default:
        return "unavailable";
    }
}

const char *consensus_role(const struct consensus *c)
{
    return role_name(raft_state((struct raft *)&c->raft));
}

static void barrier_cb(struct raft_barrier *req, int status)
{
    struct consensus *c = req->data;
    c->barrier_pending = 0;
    if (status == 0) {
        LOG_INFO("barrier of term %llu committed: serving as leader",
                 (unsigned long long)c->raft.current_term);
    }
}

int consensus_member_role(const struct consensus *c, uint64_t id)
{
    const struct raft_configuration *conf = &c->raft.configuration;
    for (unsigned i = 0; i < conf->n; i++) {
        if (conf->servers[i].id == id) {
            return conf->servers[i].role;
        }
    }
    return -1;
}

static void set_removed(struct consensus *c, const char *how)
{
    if (c->removed) {
        return;
    }
    c->removed = 1;
    LOG_WARN("node %llu was removed from the cluster (%s): it stops serving",
             (unsigned long long)c->cfg->id, how);
    if (c->removed_cb) {
        c->removed_cb(c->leader_arg);
    }
}

void consensus_not_member(struct consensus *c, uint64_t from,
                          uint64_t config_index)
{
    if (c->was_member && consensus_member_role(c, from) == RAFT_VOTER &&
        config_index > c->raft.configuration_index) {
        char how[96];
        snprintf(how, sizeof how, "node %llu has configuration %llu without it",
                 (unsigned long long)from, (unsigned long long)config_index);
        set_removed(c, how);
    }
}

/* Notices this node entering, or leaving, the configuration. */
static void check_membership(struct consensus *c)
{
    int role = consensus_member_role(c, c->cfg->id);
    if (role >= 0) {
        if (!c->was_member && c->cfg->join[0]) {
            LOG_INFO("joined the cluster (configuration %llu)",
                     (unsigned long long)c->raft.configuration_index);
        }
        c->was_member = 1;
    } else if (!c->rejoining && (c->was_member || c->cfg->join[0] == '\0') &&
               c->raft.configuration.n > 0) {
        /* A joining node sees older configurations without it first. */
        set_removed(c, "the configuration no longer lists it");
    }
}

/* Term of the entry at @index in raft's in-memory log (0.15's struct
 * raft_log: a ring of entries after @offset), the snapshot's term at its
 * last index, or 0 if neither holds it. */
static raft_term term_of(const struct raft_log *l, raft_index index)
{
    size_t n =
        l->front <= l->back ? l->back - l->front : l->size - l->front + l->back;
    if (index > l->offset && index <= l->offset + n) {
        return l->entries[(l->front + (index - 1 - l->offset)) % l->size].term;
    }
    if (index != 0 && index == l->snapshot.last_index) {
        return l->snapshot.last_term;
    }
    return 0;
}

/* Invariant of Raft 5.4.2, checked on every move of a leader's commit
 * index (before the entries are applied, from apply_cb, and after every
 * callback into raft, from on_event): it lands only on an entry of the
 * leader's own term. Guard 2 makes that so; if it is ever not, the node
 * stops before it serves or applies anything more, and its peers go on
 * without it. */
static void check_commit(struct consensus *c)
{
    struct raft *r = &c->raft;
    if (raft_state(r) != RAFT_LEADER || c->last_state != RAFT_LEADER ||
        c->last_term != r->current_term) {
        /* Not leader, or on_event has not seen this leadership yet: what
         * was committed before it is not this leader's doing. */
        c->commit_checked = r->commit_index;
        return;
    }
    if (r->commit_index <= c->commit_checked) {
        return;
    }
    struct guard_view v = {.is_leader = 1, .term = r->current_term};
    raft_term t = term_of(&r->log, r->commit_index);
    if (!guard_commit_ok(&v, t)) {
        LOG_ERROR("invariant broken: as leader of term %llu, the commit index "
                  "moved to %llu, an entry of term %llu (Raft 5.4.2); "
                  "stopping before anything more is applied or answered",
                  (unsigned long long)r->current_term,
                  (unsigned long long)r->commit_index, (unsigned long long)t);
        _exit(70);
    }
    c->commit_checked = r->commit_index;
}

static void skew_transfer_cb(struct raft_transfer *req)
{
    struct consensus *c = req->data;
    c->skew_transfer_pending = 0;
}

/* A leader whose clock is far ahead of a majority's moves the FSM's clock
 * (the highest leader clock seen) forward for everyone: it hands
 * leadership to a follower, and does not stand again (peer.c) while its
 * clock stays ahead. */
static void check_clock(struct consensus *c)
{
    struct raft *r = &c->raft;
    /* Only once the barrier is committed: 0.15 refuses the barrier while
     * a transfer runs. */
    if (raft_state(r) != RAFT_LEADER || c->last_state != RAFT_LEADER ||
        c->barrier_pending || c->skew_transfer_pending || r->transfer != NULL ||
        !peer_clock_ahead(c->peer, r)) {
        return;
    }
    c->skew_transfer.data = c;
    int rv = raft_transfer(r, &c->skew_transfer, 0, skew_transfer_cb);
    if (rv == 0) {
        c->skew_transfer_pending = 1;
        LOG_WARN("handing leadership over: this node's clock is more than "
                 "max_clock_skew_ms %llu ahead of a majority of the nodes; "
                 "fix its clock",
                 (unsigned long long)c->cfg->max_clock_skew_ms);
    }
}

/* Roles and elections at INFO, so that an operator reading one node's log
 * sees what happened: an election started (pre-vote or vote), won, lost
 * (to whom), leadership lost. */
static void log_transition(struct consensus *c, int was, raft_term was_term)
{
    struct raft *r = &c->raft;
    int state = raft_state(r);
    uint64_t leader = consensus_leader(c, NULL);
    if (state == RAFT_CANDIDATE) {
        if (r->candidate_state.in_pre_vote) {
            LOG_INFO("no leader heard: asking the others whether this node "
                     "may stand for election (pre-vote, term %llu)",
                     (unsigned long long)r->current_term);
        } else {
            c->elections++;
            LOG_INFO("election for term %llu started",
                     (unsigned long long)r->current_term);
        }
    } else if (was == RAFT_CANDIDATE && state == RAFT_FOLLOWER) {
        if (leader != 0) {
            LOG_INFO("election lost: node %llu leads term %llu",
                     (unsigned long long)leader,
                     (unsigned long long)r->current_term);
        } else {
            LOG_INFO("election not won: term %llu is now %llu, no leader "
                     "known yet",
                     (unsigned long long)was_term,
                     (unsigned long long)r->current_term);
        }
    } else if (was == RAFT_LEADER && state != RAFT_LEADER) {
        LOG_INFO("lost leadership of term %llu (now %s of term %llu)",
                 (unsigned long long)was_term, role_name(state),
                 (unsigned long long)r->current_term);
    }
}

/* While no leader is known for longer than two election timeouts, says
 * every 10 s how many voters this node hears from: with fewer than a
 * majority, no leader can be elected (no quorum). */
static void check_quorum(struct consensus *c)
{
    struct raft *r = &c->raft;
    uint64_t now = uv_now(c->loop);
    uint64_t wait = 2 * c->cfg->election_timeout_ms;
    if (raft_state(r) == RAFT_LEADER || consensus_leader(c, NULL) != 0 ||
        c->removed || r->configuration.n == 0) {
        if (c->no_leader_since_ms != 0 && c->no_leader_logged_ms != 0) {
            LOG_INFO("a leader is known again after %.1f s without one",
                     (double)(now - c->no_leader_since_ms) / 1000);
        }
        c->no_leader_since_ms = 0;
        c->no_leader_logged_ms = 0;
        return;
    }
    if (c->no_leader_since_ms == 0) {
        c->no_leader_since_ms = now;
        return;
    }
    if (now - c->no_leader_since_ms < wait ||
        (c->no_leader_logged_ms != 0 && now - c->no_leader_logged_ms < 10000)) {
        return;
    }
    size_t voters, heard = peer_voters_heard(c->peer, r, wait, &voters);
    c->no_leader_logged_ms = now;
    if (heard < voters / 2 + 1) {
        LOG_INFO("no quorum: %zu of %zu nodes reachable (a leader needs %zu); "
                 "no leader for %.1f s",
                 heard, voters, voters / 2 + 1,
                 (double)(now - c->no_leader_since_ms) / 1000);
    } else {
        LOG_INFO("no leader for %.1f s although %zu of %zu nodes are "
                 "reachable",
                 (double)(now - c->no_leader_since_ms) / 1000, heard, voters);
    }
}

static void on_event(void *arg)
{
    struct consensus *c = arg;
    struct raft *r = &c->raft;
    int state = raft_state(r);

    if (c->closing) {
        return;
    }
    check_commit(c);
    check_membership(c);
    check_clock(c);
    check_quorum(c);
    uint64_t leader = consensus_leader(c, NULL);
    if (leader != 0 &&
        (leader != c->seen_leader || r->current_term != c->seen_leader_term)) {
        c->leader_changes++;
        c->seen_leader = leader;
        c->seen_leader_term = r->current_term;
    }
    if (state == RAFT_UNAVAILABLE) {
        /* Guard (5): raft gave up (an error it could not handle). */
        LOG_ERROR("raft became unavailable: %s; stopping so that a "
                  "supervisor restarts the node",
                  raft_errmsg(r));
        _exit(1);
    }
    if (state == c->last_state && r->current_term == c->last_term) {
        return;
    }
    int was_leader = c->last_state == RAFT_LEADER;
    log_transition(c, c->last_state, c->last_term);
    c->last_state = state;
    c->last_term = r->current_term;
    log_set_role(role_name(state), r->current_term);

    if (was_leader && state != RAFT_LEADER) {
        c->peer->term_first_index = 0;
        if (c->leader_cb) {
            c->leader_cb(c->leader_arg, 0);
        }
    }
    if (state == RAFT_LEADER && !was_leader) {
        /* Guard (2): commit an entry of our own term before anything else,
         * and count no acknowledgement below it (peer.c). */
        c->peer->term_first_index = 0;
        c->barrier.data = c;
        int rv = raft_barrier(r, &c->barrier, barrier_cb);
        if (rv != 0) {
            LOG_ERROR("cannot append the leader's barrier: %s; stopping",
                      raft_strerror(rv));
            _exit(1);
        }
        c->barrier_pending = 1;
        c->peer->term_first_index = raft_last_index(r);
        LOG_INFO("became leader of term %llu (barrier at index %llu)",
                 (unsigned long long)r->current_term,
                 (unsigned long long)c->peer->term_first_index);
        if (c->leader_cb) {
            c->leader_cb(c->leader_arg, 1);
        }
    }
}

/* The stages of entry @se, applied at @now_ns (stages.h). */
static void record_entry(struct consensus *c, const struct stage_entry *se,
                         uint64_t now_ns)
{
    struct stages *s = &c->stages;
    if (raft_state(&c->raft) != RAFT_LEADER) {
        stages_record(s, STAGE_FOLLOWER_APPLY, se->begun_ns, now_ns);
        return;
    }
    stages_record(s, STAGE_ENTRY_WRITE, se->begun_ns, se->written_ns);
    stages_record(s, STAGE_ENTRY_ACK, se->begun_ns, se->acked_ns);
    stages_record(s, STAGE_ENTRY_COMMIT, se->begun_ns, se->commit_ns);
    stages_record(s, STAGE_ENTRY_APPLY, se->commit_ns, now_ns);
}

/* Our raft_fsm around fsm.c's: counts log bytes applied and asks raft for a
 * snapshot once they reach snapshot_log_bytes. */
static int apply_cb(struct raft_fsm *rf, const struct raft_buffer *buf,
                    void **result)
{
    struct consensus *c = rf->data;
    check_commit(c);
    c->log_bytes_since_snapshot += buf->len;
    if (c->cfg->snapshot_threshold == 0 &&
        c->log_bytes_since_snapshot >=
            c->cfg->snapshot_log_bytes - c->snapshot_stagger) {
        raft_set_snapshot_threshold(&c->raft, 1);
    }
    /* raft sets last_applied once apply returns. */
    struct stage_entry *se = stages_entry(&c->stages, c->raft.last_applied + 1);
    if (se != NULL && se->commit_ns == 0) {
        se->commit_ns = c->stages.cb_ns != 0 ? c->stages.cb_ns : uv_hrtime();
    }
    int rv = c->fsm_inner.apply(&c->fsm_inner, buf, result);
    if (se != NULL) {
        record_entry(c, se, uv_hrtime());
    }
    return rv;
}

/* Taking a snapshot (fsm.h): snapshot_cb begins it on the loop; its
 * queues are then taken by snap_step, SNAP_STEP_NS at most at a time, on
 * the loop iterations that follow (apply going on between them takes a
 * queue before changing it); raft meanwhile runs snapshot_async_cb on its
 * thread pool, which waits until every queue is taken and encodes; raft
 * writes the buffers (our CRC on the thread pool too, peer_snap.c) and
 * calls finalize_cb on the loop. */
#define SNAP_STEP_NS (5ull * 1000 * 1000)
#define SNAP_STEP_QUEUES 256

/* Takes queues for about @budget_ns; once all are taken, stops and lets
 * the encoder go. */
static void snap_step(struct consensus *c, uint64_t budget_ns)
{
    uint64_t t0 = uv_hrtime(), spent;
    int done;
    do {
        done = fsm_snapshot_step(c->state, SNAP_STEP_QUEUES);
        spent = uv_hrtime() - t0;
    } while (!done && spent < budget_ns);
    c->snap_loop_ns += spent;
    if (spent > c->snap_loop_max_ns) {
        c->snap_loop_max_ns = spent;
    }
    c->snap_steps++;
    if (!done) {
        return;
    }
    uv_idle_stop(&c->snap_idle);
    c->snap_stepping = 0;
    /* The loop's part: the encoding, the checksum and the write run on the
     * thread pool. */
    LOG_INFO("snapshot at index %llu: %zu queues, %.1f ms on the loop at "
             "most (%.1f ms in %u steps)",
             (unsigned long long)c->snap_index, c->state->n_queues,
             (double)c->snap_loop_max_ns / 1e6, (double)c->snap_loop_ns / 1e6,
             c->snap_steps);
    uv_sem_post(&c->snap_sem);
}

static void snap_idle_cb(uv_idle_t *h)
{
    snap_step(h->data, SNAP_STEP_NS);
}

static int snapshot_cb(struct raft_fsm *rf, struct raft_buffer *bufs[],
                       unsigned *n_bufs)
{
    struct consensus *c = rf->data;
    uint64_t t0 = uv_hrtime();
    int rv = c->fsm_inner.snapshot(&c->fsm_inner, bufs, n_bufs);
    if (rv != 0) {
        return rv;
    }
    if (uv_sem_init(&c->snap_sem, 0) != 0) {
        /* As if raft's write had failed: nothing held, tried again. */
        c->fsm_inner.snapshot_finalize(&c->fsm_inner, bufs, n_bufs);
        return RAFT_NOMEM;
    }
    c->snap_sem_live = 1;
    c->log_bytes_since_snapshot = 0;
    c->snapshot_stagger = 0;
    c->snapshots_taken++;
    if (c->cfg->snapshot_threshold == 0) {
        raft_set_snapshot_threshold(&c->raft, THRESHOLD_NEVER);
    }
    c->snap_index = c->raft.last_applied;
    c->snap_start_ns = t0;
    c->snap_loop_ns = c->snap_loop_max_ns = 0;
    c->snap_steps = 0;
    c->snap_encode_ns = 0;
    c->snap_bufs = 0;
    c->snap_stepping = 1;
    snap_step(c, SNAP_STEP_NS); /* begun, and a first step */
    if (c->snap_stepping) {
        uv_idle_start(&c->snap_idle, snap_idle_cb);
    }
    return 0;
}

/* raft's thread pool: waits until the loop has taken every queue, then
 * encodes; touches only what was taken and the timings of this snapshot
 * (read on the loop once the work is done). */
static int snapshot_async_cb(struct raft_fsm *rf, struct raft_buffer *bufs[],
                             unsigned *n_bufs)
{
    struct consensus *c = rf->data;
    uv_sem_wait(&c->snap_sem);
    uint64_t t0 = uv_hrtime();
    int rv = c->fsm_inner.snapshot_async(&c->fsm_inner, bufs, n_bufs);
    c->snap_encode_ns = uv_hrtime() - t0;
    c->snap_bufs = rv == 0 ? *n_bufs : 0;
    return rv;
}

static int finalize_cb(struct raft_fsm *rf, struct raft_buffer *bufs[],
                       unsigned *n_bufs)
{
    struct consensus *c = rf->data;
    if (c->snap_stepping) { /* raft gave up before encoding began */
        uv_idle_stop(&c->snap_idle);
        c->snap_stepping = 0;
    }
    if (c->snap_sem_live) {
        uv_sem_destroy(&c->snap_sem);
        c->snap_sem_live = 0;
    }
    if (c->snap_start_ns != 0) {
        const char *what = c->closing         ? "not written (stopping)"
                           : c->snap_bufs > 0 ? "written"
                                              : "not encoded (out of memory)";
        LOG_INFO("snapshot at index %llu: %s; %u buffers encoded in %.1f ms "
                 "off the loop, %.1f ms from start to end",
                 (unsigned long long)c->snap_index, what, c->snap_bufs,
                 (double)c->snap_encode_ns / 1e6,
                 (double)(uv_hrtime() - c->snap_start_ns) / 1e6);
        c->snap_start_ns = 0;
    }
    int rv = c->fsm_inner.snapshot_finalize(&c->fsm_inner, bufs, n_bufs);
    c->snapshots_freed++; /* its buffers: memtrim.h */
    return rv;
}

/* A failed restore stops the node. libraft 0.15 treats a restore error as
 * fatal only while loading at start; a follower installing a snapshot from
 * the leader has already dropped its log by then and goes on running with
 * neither, wedged. The FSM's restore accepts every state apply can produce,
 * so a refusal means a snapshot this code cannot read, or no memory: log
 * it (fsm.c logged why) and exit; a restart loads the same snapshot and
 * says so again rather than serve without it. */
static int restore_cb(struct raft_fsm *rf, struct raft_buffer *buf)
{
    struct consensus *c = rf->data;
    LOG_INFO("restoring a snapshot of %zu bytes", buf->len);
    c->log_bytes_since_snapshot = 0;
    c->snapshot_stagger = 0;
    int rv = c->fsm_inner.restore(&c->fsm_inner, buf);
    c->snapshots_freed++; /* raft frees @buf next: memtrim.h */
    if (rv != 0) {
        LOG_ERROR("cannot restore the snapshot of %zu bytes (%s): stopping",
                  buf->len, raft_strerror(rv));
        _exit(1);
    }
    return 0;
}

static void on_not_member(void *arg, uint64_t from, uint64_t config_index)
{
    consensus_not_member(arg, from, config_index);
}

static raft_term message_term(const struct raft_message *m)
{
    switch (m->type) {
    case RAFT_IO_APPEND_ENTRIES:
        return m->append_entries.term;
    case RAFT_IO_APPEND_ENTRIES_RESULT:
        return m->append_entries_result.term;
    case RAFT_IO_REQUEST_VOTE:
        return m->request_vote.term;
    case RAFT_IO_REQUEST_VOTE_RESULT:
        return m->request_vote_result.term;
    case RAFT_IO_INSTALL_SNAPSHOT:
        return m->install_snapshot.term;
    case RAFT_IO_TIMEOUT_NOW:
        return m->timeout_now.term;
    default:
        return 0;
    }
}

/* Between peer.c and raft. While rejoining (repair.h): in phase 1 the
 * node may have forgotten a term and entries it acknowledged, so no
 * message of any leader counts; in phase 2 only a leader of the cluster
 * that removed it (a term of at least the floor) does. No vote is granted
 * and no election started (TimeoutNow) until the node is a voter again.
 * Always: the time the message reached raft, for the stages of the
 * entries it commits, and a follower's acknowledgement (stages.h). */
static void recv_filter(struct raft_io *io, struct raft_message *m)
{
    struct peer *p = io->impl;
    struct consensus *c = p->event_arg;
    if (c->rejoining &&
        (c->rejoin_phase < 2 || m->type == RAFT_IO_REQUEST_VOTE ||
         m->type == RAFT_IO_TIMEOUT_NOW || message_term(m) < c->rejoin_floor)) {
        peer_message_release(m);
        c->rejoin_dropped++;
        return;
    }
    uint64_t now = uv_hrtime();
    if (m->type == RAFT_IO_APPEND_ENTRIES_RESULT &&
        m->append_entries_result.rejected == 0 &&
        m->append_entries_result.term == c->raft.current_term &&
        raft_state(&c->raft) == RAFT_LEADER) {
        stages_acked(&c->stages, m->append_entries_result.last_log_index, now);
    }
    c->stages.cb_ns = now;
    c->raft_recv(io, m);
    c->stages.cb_ns = 0;
}

void consensus_rejoin_removed(struct consensus *c, uint64_t floor)
{
    c->rejoin_phase = 2;
    c->rejoin_floor = floor;
    LOG_INFO("rejoining: the cluster removed this node; taking raft messages "
             "of term %llu and later (%llu dropped so far), waiting to be "
             "added again",
             (unsigned long long)floor, (unsigned long long)c->rejoin_dropped);
}

void consensus_rejoined(struct consensus *c)
{
    if (!c->rejoining) {
        return;
    }
    c->rejoining = 0;
    raft_set_election_timeout(&c->raft, (unsigned)c->cfg->election_timeout_ms);
    /* 0.15 draws a follower's timeout only when it becomes one, and until
     * it times out it refuses votes while it knows a leader: a timeout
     * drawn from the rejoin's would leave it refusing for days after that
     * leader died. Draw again, as electionResetTimer does. */
    if (raft_state(&c->raft) == RAFT_FOLLOWER) {
        int t = (int)c->cfg->election_timeout_ms;
        c->raft.follower_state.randomized_election_timeout =
            (unsigned)c->raft.io->random(c->raft.io, t, 2 * t);
    }
    LOG_INFO("rejoined the cluster as a voter (configuration %llu): votes and "
             "stands for election again",
             (unsigned long long)c->raft.configuration_index);
    check_membership(c);
}

mq_err consensus_start(struct consensus *c, uv_loop_t *loop, struct peer *p,
                       struct fsm *state, const struct config *cfg,
                       struct errmsg *e)
{
    struct raft *r = &c->raft;
    struct raft_configuration conf;
    int rv;

    memset(c, 0, sizeof *c);
    c->loop = loop;
    c->peer = p;
    c->cfg = cfg;
    /* Snapshots of three nodes started together would all be taken at the
     * same log index, each node checksumming and writing its copy at once:
     * on shared CPUs or disks, the majority that commits a publish would
     * stall together. Taking the first sooner by a third of the threshold
     * per id keeps them apart (each counts from its own last snapshot
     * after); sooner, not later, so that no node holds more than
     * snapshot_log_bytes of log in memory. */
    c->snapshot_stagger = cfg->snapshot_log_bytes / 3 * ((cfg->id - 1) % 3);
    c->state = state;
    c->last_state = RAFT_UNAVAILABLE;
    stages_init(&c->stages);
    p->write.stages = &c->stages;
    fsm_raft(state, &c->fsm_inner);
    c->fsm = c->fsm_inner;
    c->fsm.data = c;
    c->fsm.apply = apply_cb;
    c->fsm.snapshot = snapshot_cb;
    c->fsm.snapshot_async = snapshot_async_cb;
    c->fsm.snapshot_finalize = finalize_cb;
    c->fsm.restore = restore_cb;
    uv_timer_init(loop, &c->close_timer);
    c->close_timer.data = c;
    uv_idle_init(loop, &c->snap_idle);
    c->snap_idle.data = c;

    rv = raft_init(r, &p->io, &c->fsm, cfg->id, cfg->peer_url);
    if (rv != 0) {
        errmsg_set(e, "raft init: %s", raft_errmsg(r));
        return MQ_ERR_INTERNAL;
    }
    {
        struct repair_marker mk;
        struct errmsg me = ERRMSG_INIT;
        mq_err mrv = repair_marker_read(cfg->data_dir, &mk, &me);
        if (mrv == MQ_ERR_INTERNAL) {
            errmsg_set(e, "%s", me.msg);
            return MQ_ERR_INTERNAL;
        }
        if (mrv != MQ_ERR_NOT_FOUND) {
            c->rejoining = 1;
            c->rejoin_phase = mk.phase;
            c->rejoin_floor = mk.phase == 2 ? mk.floor : 0;
        }
    }
    raft_set_election_timeout(r, c->rejoining
                                     ? REJOIN_ELECTION_TIMEOUT_MS
                                     : (unsigned)cfg->election_timeout_ms);
    raft_set_heartbeat_timeout(r, (unsigned)cfg->heartbeat_timeout_ms);
    /* Guard (4): 0.15 waits 30 s before resending a lost snapshot. */
    raft_set_install_snapshot_timeout(
        r, (unsigned)cfg->install_snapshot_timeout_ms);
    raft_set_snapshot_threshold(r, cfg->snapshot_threshold
                                       ? (unsigned)cfg->snapshot_threshold
                                       : THRESHOLD_NEVER);
    raft_set_snapshot_trailing(r, (unsigned)cfg->snapshot_trailing);
    raft_set_pre_vote(r, true);

    raft_configuration_init(&conf);
    /* A node joining a running cluster starts with no configuration: the
     * leader sends it one when it adds it. */
    for (size_t i = 0;
         cfg->join[0] == '\0' && !c->rejoining && i < cfg->n_members; i++) {
        rv = raft_configuration_add(&conf, cfg->members[i].id,
                                    cfg->members[i].peer_url, RAFT_VOTER);
        if (rv != 0) {
            raft_configuration_close(&conf);
            errmsg_set(e, "members: %s", raft_strerror(rv));
            return MQ_ERR_INVALID;
        }
    }
    rv = cfg->join[0] || c->rejoining ? RAFT_CANTBOOTSTRAP
                                      : raft_bootstrap(r, &conf);
    raft_configuration_close(&conf);
    if (rv == 0) {
        LOG_INFO("bootstrapped a new cluster of %zu members in %s",
                 cfg->n_members, cfg->data_dir);
    } else if (rv != RAFT_CANTBOOTSTRAP) {
        errmsg_set(e, "bootstrap in %s: %s", cfg->data_dir, raft_errmsg(r));
        return MQ_ERR_INTERNAL;
    }

    p->event_cb = on_event;
    p->event_arg = c;
    p->not_member_cb = on_not_member;
    rv = raft_start(r);
    if (rv != 0) {
        const char *why = raft_errmsg(r);
        errmsg_set(e, "start raft from %s: %s", cfg->data_dir,
                   why[0]            ? why
                   : p->io.errmsg[0] ? p->io.errmsg
                                     : raft_strerror(rv));
        return MQ_ERR_INTERNAL;
    }
    LOG_INFO("raft started: term %llu, last index %llu, snapshot index %llu",
             (unsigned long long)r->current_term,
             (unsigned long long)raft_last_index(r),
             (unsigned long long)r->log.snapshot.last_index);
    c->raft_recv = p->recv_cb;
    p->recv_cb = recv_filter;
    if (c->rejoining) {
        LOG_WARN("rejoining after a repair (phase %u): this node neither "
                 "votes nor stands for election until the cluster has "
                 "removed it and added it again as a voter",
                 c->rejoin_phase);
    }
    on_event(c);
    return MQ_OK;
}

int consensus_is_leader(const struct consensus *c)
{
    return raft_state((struct raft *)&c->raft) == RAFT_LEADER;
}

int consensus_leader_ready(const struct consensus *c)
{
    return consensus_is_leader(c) && !c->barrier_pending;
}

uint64_t consensus_leader(const struct consensus *c, const char **client_url)
{
    raft_id id = 0;
    const char *address = NULL;
    raft_leader((struct raft *)&c->raft, &id, &address);
    if (client_url) {
        *client_url = id ? peer_client_url(c->peer, id) : NULL;
    }
    return id;
}

mq_err consensus_propose(struct consensus *c, struct raft_apply *req, void *buf,
                         size_t len, raft_apply_cb cb)
{
    struct raft_buffer rb = {buf, len};
    if (!consensus_is_leader(c) || c->closing) {
        return MQ_ERR_NOT_LEADER;
    }
    int rv = raft_apply(&c->raft, req, &rb, 1, cb);
    if (rv == RAFT_NOTLEADER || rv == RAFT_LEADERSHIPLOST) {
        return MQ_ERR_NOT_LEADER;
    }
    if (rv == RAFT_NOMEM) {
        return MQ_ERR_NO_MEMORY;
    }
    return rv == 0 ? MQ_OK : MQ_ERR_INTERNAL;
}

static void raft_closed_cb(struct raft *r)
{
    struct consensus *c = r->data;
    peer_free(c->peer);
    uv_close((uv_handle_t *)&c->close_timer, NULL);
    uv_close((uv_handle_t *)&c->snap_idle, NULL);
    if (c->close_cb) {
        c->close_cb(c);
    }
}

static void close_timer_cb(uv_timer_t *t)
{
    struct consensus *c = t->data;
    if (c->snap_stepping) {
        /* raft's close waits for the encoder, which waits for the take:
         * finish it now. */
        snap_step(c, UINT64_MAX);
    }
    c->raft.data = c;
    raft_close(&c->raft, raft_closed_cb);
}

void consensus_close(struct consensus *c, void (*cb)(struct consensus *c))
{
    /* Guard (3): raft_close from inside a raft callback crashes 0.15. */
    c->closing = 1;
    c->close_cb = cb;
    uv_timer_start(&c->close_timer, close_timer_cb, 0, 0);
}
