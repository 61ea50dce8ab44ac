/* memtrim.h: giving memory back to the system once the node needs less.
 *
 * glibc keeps what the node frees in its heaps (one per thread that
 * allocated: the loop's, nng's) and gives little back by itself. Three
 * things leave a node needing less for good: a snapshot written or
 * restored (its buffers), a state that shrank (stored messages, ids and
 * statuses: a drained node) and client connections closed (thousands after
 * a burst). Every MEMTRIM_EVERY_MS the loop samples all three; a trim
 * (malloc_trim(0): free pages of every heap go back) follows, at most
 * once every MEMTRIM_GAP_MS, once
 * - the state fell MEMTRIM_DROP_BYTES below its peak since the last trim,
 *   or by half of it (at least MEMTRIM_MIN_BYTES),
 * - MEMTRIM_CONN_CLOSED client connections closed since the last trim
 *   and the open ones held still since the last sample (nng frees a
 *   closed connection shortly after the node hears of it, so the trim
 *   waits for that),
 * - or a snapshot was written or restored since the last trim (its
 *   buffers, as large as the state, were freed; glibc keeps most of them).
 * Every node does it. A trim is logged with its time. Loop thread only. */
#ifndef MQ_MEMTRIM_H
#define MQ_MEMTRIM_H

#include <stdint.h>
#include <uv.h>

#include "bridge.h"
#include "consensus.h"
#include "fsm.h"

#define MEMTRIM_EVERY_MS 1000
#define MEMTRIM_GAP_MS 10000
#define MEMTRIM_DROP_BYTES (64ull << 20)
#define MEMTRIM_MIN_BYTES (4ull << 20)
#define MEMTRIM_CONN_CLOSED 1024

struct memtrim {
    struct fsm *f;
    struct bridge *b;
    struct consensus *c;
    uv_timer_t timer;
    /* The state's peak since the last trim; connections closed in all at
     * the last trim; open ones at the last sample; when the last trim was
     * (monotonic ms; 0: none yet); trims done. */
    uint64_t mem_peak, closed_mark, last_conns, trimmed_ms, trims;
    uint64_t snaps_mark; /* snapshots freed at the last trim */
};

/* One sample: the state's bytes; client connections open, and closed
 * since the start; snapshots freed since the start. */
struct memtrim_sample {
    uint64_t mem, conns, closed, snaps;
};

/* Takes sample @s at @now_ms (monotonic) and returns 1 if a trim is due
 * now, as the rules above say; a trim due starts the counts over. No
 * clock, no I/O. */
int memtrim_due(struct memtrim *m, const struct memtrim_sample *s,
                uint64_t now_ms);

/* Starts sampling @f, @b and @c. */
void memtrim_start(struct memtrim *m, uv_loop_t *loop, struct fsm *f,
                   struct bridge *b, struct consensus *c);

/* Stops; the timer's close runs with the loop. */
void memtrim_close(struct memtrim *m);

#endif
