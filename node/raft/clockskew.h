/* clockskew.h: how far other nodes' wall clocks are from this node's, as
 * measured from the time each peer message carries (its sender's clock
 * when sent) and the time it arrived. A message reads the other clock late
 * by its delay: the network's (well under a millisecond on a LAN), and
 * the time it waited in its sender's queue, which can be seconds for the
 * messages a node queued while the other was down or unreachable. Delay
 * only ever makes a clock look behind, so the estimate is the highest
 * measurement of the last two windows of CLOCKSKEW_WINDOW_MS (the least
 * delayed message), and "behind" counts only once a node's measurements
 * span a whole window (settled): the burst of queued messages that a
 * restarted or reconnected node receives first is not taken for a clock
 * seconds behind. "Ahead" counts at once: delay cannot fake it.
 *
 * The FSM's clock is the highest leader clock it has seen, so a leader
 * whose clock runs ahead moves time forward for the whole cluster (early
 * expiry and delivery, duplicates past the window after a failover). The
 * node uses these figures to warn, to refuse its vote to a candidate whose
 * clock is ahead of its own, and to stand down (not stand for election,
 * hand leadership over) when its own clock is ahead of a majority's. Pure
 * C; loop thread. */
#ifndef MQ_CLOCKSKEW_H
#define MQ_CLOCKSKEW_H

#include <stddef.h>
#include <stdint.h>

#define CLOCKSKEW_MAX 32

/* A measurement older than this is not used to decide anything. */
#define CLOCKSKEW_FRESH_MS 30000

/* The estimate is the highest measurement of the current and the previous
 * window of this length. */
#define CLOCKSKEW_WINDOW_MS 2000

struct clockskew_peer {
    uint64_t id;
    int64_t skew_ms;    /* its clock minus ours: the estimate */
    uint64_t heard_ms;  /* our monotonic ms when measured; 0: never */
    uint64_t warned_ms; /* monotonic ms of the last warning about it */
    /* The windows: when the current began, its highest measurement, the
     * previous one's; settled once a window has ended. */
    uint64_t win_start_ms;
    int64_t win_max, prev_max;
    int settled;
};

struct clockskew {
    struct clockskew_peer peers[CLOCKSKEW_MAX];
    size_t n;
};

/* Records that node @id's message sent at its @sent_ms arrived at our
 * @now_ms (wall clock), at monotonic @mono_ms. Returns the estimate (its
 * clock minus ours, as above). A full table forgets the oldest entry. */
int64_t clockskew_update(struct clockskew *cs, uint64_t id, uint64_t sent_ms,
                         uint64_t now_ms, uint64_t mono_ms);

/* The entry of node @id, or NULL. */
struct clockskew_peer *clockskew_get(struct clockskew *cs, uint64_t id);

/* Whether @p's clock is more than @max_ms behind ours, as far as can be
 * told (settled, as above). */
int clockskew_is_behind(const struct clockskew_peer *p, int64_t max_ms);

/* How many of the @n nodes in @ids (this node excluded by the caller) have
 * a fresh estimate (at @mono_ms) saying that our clock is more than
 * @max_ms ahead of theirs (clockskew_is_behind). */
size_t clockskew_behind_us(const struct clockskew *cs, const uint64_t *ids,
                           size_t n, int64_t max_ms, uint64_t mono_ms);

/* The fresh measurement of largest magnitude (its node in *id), or 0 with
 * *id 0 when none is fresh. */
int64_t clockskew_largest(const struct clockskew *cs, uint64_t mono_ms,
                          uint64_t *id);

#endif
