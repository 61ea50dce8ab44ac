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

/* On the leader: whether an AppendEntries result must be dropped before
 * raft sees it. @term_first_index is the index of the barrier the leader
 * appended when elected (0: not appended yet). A successful result below it
 * acknowledges only entries of earlier terms and must not count, unless it
 * is at or below @commit_index, where it cannot move the commit index: that
 * is how a follower acknowledges an installed snapshot (the leader's own,
 * so already committed), and dropping that would keep the leader sending
 * the snapshot again for ever. */
int guard_drop_append_result(int is_leader, uint64_t term_first_index,
                             uint64_t commit_index, uint64_t rejected,
                             uint64_t last_log_index);

/* On a follower answering an AppendEntries with @prev_log_index and
 * @n_entries: the last index it may claim to share with the leader. */
uint64_t guard_cap_append_result(uint64_t prev_log_index, uint64_t n_entries,
                                 uint64_t rejected, uint64_t last_log_index);

/* Defect (7): a 0.15 leader in pipeline mode ignores a rejection whose
 * index is at or below what it believes the follower matched, so a
 * follower that lost its data dir (and says so: its last index is below
 * that match) is never sent anything again. Whether this rejection shows
 * such a follower, whose progress the leader must then reset. */
int guard_follower_lost_log(int is_leader, uint64_t rejected,
                            uint64_t last_log_index, uint64_t match_index);

/* Defect (1): whether an entry of @len bytes may enter the log. */
int guard_entry_size_ok(uint64_t len);

#endif
