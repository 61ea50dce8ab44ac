/* ticker.h: the leader's clock for the state machine's time-driven work.
 * Apply reads no clock: a message past its queue's max_age, a status past
 * its status_ttl_ms and a delayed message's deliver time are acted on when
 * a Command carrying a later time is applied. On a busy cluster every
 * entry carries the leader's time; on an idle one, the ticker proposes a
 * Command without ops when the FSM's next due time (fsm_next_due) comes,
 * so that messages expire and delayed ones become due on time. Leader only
 * (and only once its barrier is applied); at most one such Command in
 * flight, and at most one every TICKER_MIN_GAP_MS. Loop thread only. */
#ifndef MQ_TICKER_H
#define MQ_TICKER_H

#include <raft.h>
#include <stdint.h>
#include <uv.h>

#include "consensus.h"
#include "fsm.h"

#define TICKER_MIN_GAP_MS 20
struct ticker {
    struct consensus *c;
    struct fsm *f;
    uv_check_t check; /* after each loop iteration: follow fsm_next_due */
    uv_timer_t timer;
    uint64_t armed_ms; /* the due time the timer waits for; UINT64_MAX: none */
    uint64_t last_ms;  /* wall clock of the last proposal */
    uint64_t ticks;    /* Commands without ops proposed */
    int proposing;
    struct raft_apply req;
};

void ticker_init(struct ticker *t, uv_loop_t *loop, struct consensus *c,
                 struct fsm *f);

/* Stops and closes the handles; call once raft is closed (no proposal is
 * then in flight). @t must live until the loop has run their closes. */
void ticker_close(struct ticker *t);

#endif
