/* fuzz_common.h: the checks the FSM fuzz targets share. Builders come from
 * tests/unit/fsm_helpers.h. */
#ifndef MQ_FUZZ_COMMON_H
#define MQ_FUZZ_COMMON_H

#include "fsm.h"
#include "fsm_helpers.h"

/* A fresh FSM holding a small fixed state: queue "q" (max 8 messages,
 * discard old, short windows), queue "w" (work retention, discard reject,
 * max age), queue "r" (discard reject, max_bytes 200, one delivery, a
 * default delay) whose dead letters go to "d" (discard reject, max_bytes
 * 100), subscriptions q/s, w/a, w/b, r/x, and a few messages. */
struct fsm *fuzz_base_fsm(void);

/* Encodes every delivery of @f's last results as the leader would and
 * decodes it with protobuf-c: catches freed message memory (ASan) and
 * deliveries clients could not read. */
void fuzz_check_deliveries(const struct fsm *f);

/* Checks that @f's snapshot restores into a fresh FSM whose snapshot is the
 * same bytes and whose next due time is no earlier (and later than its
 * clock), and that both then apply the same Commands alike. */
void fuzz_check_restore_round_trip(struct fsm *f);

#endif
