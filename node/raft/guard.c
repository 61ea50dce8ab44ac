/* guard.c: pure decisions of the libraft 0.15 guards (see guard.h). */
#include "guard.h"

int guard_drop_append_result(const struct guard_view *v, uint64_t rejected,
                             uint64_t last_log_index)
{
    if (!v->is_leader || rejected != 0) {
        return 0; /* raft ignores it, or it is a rejection: let it through */
    }
    if (last_log_index <= v->commit_index) {
        return 0; /* no match at or below the commit index moves it */
    }
    return v->term_first_index == 0 || last_log_index < v->term_first_index ||
           v->last_stored < v->term_first_index;
}

uint64_t guard_cap_append_result(uint64_t prev_log_index, uint64_t n_entries,
                                 uint64_t rejected, uint64_t last_log_index)
{
    uint64_t shared = prev_log_index + n_entries;
    if (rejected != 0 || last_log_index <= shared) {
        return last_log_index;
    }
    return shared;
}

int guard_entry_size_ok(uint64_t len)
{
    return len > 0 && len % 8 == 0;
}

int guard_follower_lost_log(const struct guard_view *v, uint64_t result_term,
                            uint64_t rejected, uint64_t last_log_index,
                            uint64_t match_index)
{
    return v->is_leader && result_term == v->term && rejected != 0 &&
           last_log_index < match_index;
}

int guard_result_current(uint64_t start_term, uint64_t term)
{
    return start_term == term;
}

int guard_commit_ok(const struct guard_view *v, uint64_t entry_term)
{
    return !v->is_leader || entry_term == 0 || entry_term == v->term;
}
