/* guard.h: the decisions behind the node's guards against libraft 0.15
 * defects on the message path, as pure functions so that tests can check
 * them (peer.c applies them; see the comment at its top).
 *
 * Defect (2), "Figure 8" (Raft paper 5.4.2): 0.15 commits the leader's
 * last stored entry once a majority matches it, even an entry of an earlier
 * term. Also, a 0.15 follower answers an AppendEntries that added nothing
 * with its last stored index, which may be a stale entry past what the
 * leader sent. */
#ifndef MQ_GUARD_H
#define MQ_GUARD_H

#include <stdint.h>

/* What the guards need to know of the local raft. */
struct guard_view {
    int is_leader;
    uint64_t term;             /* current term */
    uint64_t term_first_index; /* leader: its barrier's index, 0 until
                                  appended */
    uint64_t last_stored;      /* last index on this node's own disk */
    uint64_t commit_index;
};

/* On the leader: whether an AppendEntries result must be dropped before
 * raft sees it. A successful result below the leader's barrier
 * acknowledges only entries of earlier terms and must not count. And while
 * the barrier is not on the leader's own disk (@last_stored below it), no
 * success may count either: 0.15 counts the leader itself at last_stored,
 * an entry of an earlier term then, and would commit it with one follower's
 * acknowledgement of the barrier (defect 2b; upstream checks the term since
 * 0.17.1). Results at or below the commit index pass: they cannot move it,
 * and that is how a follower acknowledges an installed snapshot (the
 * leader's own, so already committed); dropping those would keep the leader
 * sending the snapshot for ever. */
int guard_drop_append_result(const struct guard_view *v, uint64_t rejected,
                             uint64_t last_log_index);

/* On a follower answering an AppendEntries with @prev_log_index and
 * @n_entries: the last index it may claim to share with the leader. */
uint64_t guard_cap_append_result(uint64_t prev_log_index, uint64_t n_entries,
                                 uint64_t rejected, uint64_t last_log_index);

/* Defect (7): a 0.15 leader in pipeline mode ignores a rejection whose
 * index is at or below what it believes the follower matched, so a
 * follower that lost its data dir (and says so: its last index is below
 * that match) is never sent anything again. Whether this rejection, of
 * @result_term, shows such a follower, whose progress the leader must then
 * reset. Only a rejection of the leader's own term counts: raft ignores an
 * older one (a reconnect can deliver it late), and so must the guard. */
int guard_follower_lost_log(const struct guard_view *v, uint64_t result_term,
                            uint64_t rejected, uint64_t last_log_index,
                            uint64_t match_index);

/* Defect (13): 0.15 sends the result of a follower's log write or snapshot
 * install when it completes, to the leader it knows then, even when the
 * write began in an earlier term (upstream suppresses those since 0.18).
 * Whether a result of a write begun in @start_term may be sent now. */
int guard_result_current(uint64_t start_term, uint64_t term);

/* Invariant of Raft 5.4.2: a leader's commit index lands only on an entry
 * of its own term. Whether moving it to an entry of @entry_term is allowed
 * (@entry_term 0: the entry is no longer in memory, nothing to check). */
int guard_commit_ok(const struct guard_view *v, uint64_t entry_term);

/* Defect (1): whether an entry of @len bytes may enter the log. */
int guard_entry_size_ok(uint64_t len);

#endif
