/* clockskew.h: how far other nodes' wall clocks are from this node's, as
 * measured from the time each peer message carries (its sender's clock
 * when sent) and the time it arrived. An estimate: it reads the other clock
 * late by the message's network delay (well under a millisecond on a LAN),
 * so a clock that is ahead of ours looks a little less ahead.
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

struct clockskew_peer {
    uint64_t id;
    int64_t skew_ms;    /* its clock minus ours, latest measurement */
    uint64_t heard_ms;  /* our monotonic ms when measured; 0: never */
    uint64_t warned_ms; /* monotonic ms of the last warning about it */
};

struct clockskew {
    struct clockskew_peer peers[CLOCKSKEW_MAX];
    size_t n;
};

/* Records that node @id's message sent at its @sent_ms arrived at our
 * @now_ms (wall clock), at monotonic @mono_ms. Returns the measured skew
 * (its clock minus ours). A full table forgets the oldest entry. */
int64_t clockskew_update(struct clockskew *cs, uint64_t id, uint64_t sent_ms,
                         uint64_t now_ms, uint64_t mono_ms);

/* The entry of node @id, or NULL. */
struct clockskew_peer *clockskew_get(struct clockskew *cs, uint64_t id);

/* How many of the @n nodes in @ids (this node excluded by the caller) have
 * a fresh measurement (at @mono_ms) saying that our clock is more than
 * @max_ms ahead of theirs. */
size_t clockskew_behind_us(const struct clockskew *cs, const uint64_t *ids,
                           size_t n, int64_t max_ms, uint64_t mono_ms);

/* The fresh measurement of largest magnitude (its node in *id), or 0 with
 * *id 0 when none is fresh. */
int64_t clockskew_largest(const struct clockskew *cs, uint64_t mono_ms,
                          uint64_t *id);

#endif
