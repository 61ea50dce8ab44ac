/* ticker.c: proposing the time when something falls due (ticker.h).
 *
 * Happy path: after every loop iteration the check handle compares
 * fsm_next_due with what the timer waits for and re-arms it; when the
 * timer fires and the due time has come by the wall clock, a Command with
 * no ops and the leader's time is proposed. Applying it expires and drops
 * what is due, and wakes fetches waiting for delayed messages now due
 * (the FSM's on_publish). Failure modes: not leader or leadership lost
 * (nothing is proposed, or the proposal fails: the next leader's ticker
 * takes over from its own applied state); out of memory when proposing
 * (tried again TICKER_MIN_GAP_MS later). A Command without ops is applied
 * alike on every replica, replayed alike after a crash, and, like any
 * other, covered by snapshots: it only moves the clock forward. */
#include "ticker.h"

#include <time.h>

#include "cmd.h"
#include "log.h"

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void applied_cb(struct raft_apply *req, int status, void *result)
{
    struct ticker *t = req->data;
    (void)result;
    t->proposing = 0;
    t->armed_ms = UINT64_MAX; /* the check re-arms from the new state */
    if (status != 0) {
        LOG_DEBUG("time-only entry not applied here: %s",
                  raft_strerror(status));
    }
}

static void propose(struct ticker *t, uint64_t now)
{
    Mq__V1__Command cmd = MQ__V1__COMMAND__INIT;
    void *buf = NULL;
    size_t len = 0;

    cmd.now_ms = now;
    cmd.ids_budget_bytes = t->c->cfg->ids_budget_bytes; /* fsm/evict.h */
    t->last_ms = now;
    mq_err rv = cmd_pack(&cmd, &buf, &len);
    if (rv == MQ_OK) {
        t->req.data = t;
        rv = consensus_propose(t->c, &t->req, buf, len, applied_cb);
        if (rv != MQ_OK) {
            raft_free(buf);
        }
    }
    if (rv != MQ_OK) {
        LOG_DEBUG("time-only entry not proposed: %s", mq_strerror(rv));
        return;
    }
    t->proposing = 1;
    t->ticks++;
    LOG_DEBUG("proposed the time %llu: something is due",
              (unsigned long long)now);
}

static int may_propose(const struct ticker *t)
{
    return consensus_leader_ready(t->c) && !t->c->closing && !t->proposing;
}

static void timer_cb(uv_timer_t *h)
{
    struct ticker *t = h->data;
    t->armed_ms = UINT64_MAX; /* the check re-arms if need be */
    if (!may_propose(t)) {
        return;
    }
    uint64_t now = wall_ms();
    if (fsm_next_due(t->f) <= now) {
        propose(t, now);
    }
}

static void check_cb(uv_check_t *h)
{
    struct ticker *t = h->data;
    uint64_t due = may_propose(t) ? fsm_next_due(t->f) : UINT64_MAX;

    if (due == t->armed_ms) {
        return;
    }
    t->armed_ms = due;
    if (due == UINT64_MAX) {
        uv_timer_stop(&t->timer);
        return;
    }
    uint64_t now = wall_ms();
    uint64_t at = due;
    if (at < t->last_ms + TICKER_MIN_GAP_MS) {
        at = t->last_ms + TICKER_MIN_GAP_MS;
    }
    uv_timer_start(&t->timer, timer_cb, at > now ? at - now : 0, 0);
}

void ticker_init(struct ticker *t, uv_loop_t *loop, struct consensus *c,
                 struct fsm *f)
{
    t->c = c;
    t->f = f;
    t->armed_ms = UINT64_MAX;
    t->last_ms = 0;
    t->ticks = 0;
    t->proposing = 0;
    uv_timer_init(loop, &t->timer);
    t->timer.data = t;
    uv_check_init(loop, &t->check);
    t->check.data = t;
    uv_check_start(&t->check, check_cb);
}

void ticker_close(struct ticker *t)
{
    uv_check_stop(&t->check);
    uv_timer_stop(&t->timer);
    uv_close((uv_handle_t *)&t->check, NULL);
    uv_close((uv_handle_t *)&t->timer, NULL);
}
