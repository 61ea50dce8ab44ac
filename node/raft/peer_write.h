/* peer_write.h: the log writes and snapshot installs of our raft_io, around
 * raft_uv's (and peer_snap's checksum). When a write completes, our
 * callback runs before raft's:
 * - an I/O error ends the process (guard 5);
 * - raft's answer to a write that began in an earlier term is not sent
 *   (guard 13): 0.15 would send it to whichever leader it knows now, as if
 *   it answered that leader's request;
 * - a test can hold the completions of a new leader's writes for a while
 *   (config's test_delay_leader_append_ms), to make the window of guard 2
 *   happen at will.
 * It keeps raft_uv 0.15's truncates and snapshot writes one at a time
 * (guard 14, see peer_write.c). It also measures them, for /metrics: each
 * append from its start to its completion (raft_uv's write and fdatasync) and
 * each snapshot written (taken by this node, or installed from a leader). Loop
 * thread only. */
#ifndef MQ_PEER_WRITE_H
#define MQ_PEER_WRITE_H

#include <raft.h>
#include <stdint.h>
#include <uv.h>

#include "histo.h"
#include "peer_snap.h"
#include "stages.h"

struct peer_held;
struct peer_pending;

struct peer_write {
    uv_loop_t *loop;
    struct raft_io *uv;       /* raft_uv: the log */
    struct peer_snap *snap;   /* snapshot files with our checksum */
    const struct raft_io *io; /* the owner's; io->data is the raft once
                                 raft_init ran, NULL before */
    const int *closing;       /* the owner's: set once its close began */
    void *arg;                /* passed to the callbacks */
    void (*fatal_cb)(void *arg, const char *what, int status);
    void (*event_cb)(void *arg);
    /* The times of each write (stages.h); NULL: not kept. */
    struct stages *stages;

    /* Set while raft's callback of a write begun in an earlier term runs:
     * the owner's send drops the AppendEntries result raft sends then. */
    int stale;
    uint64_t results_dropped;

    /* Figures: append latency in ns (write and sync to disk), snapshots
     * written (this node's: taken; a leader's: installed), the time each
     * took to write in ns, their bytes, and installs under way. */
    struct histo append_ns;
    uint64_t snapshots_taken, snapshots_installed;
    uint64_t snapshot_bytes_total;
    struct histo snapshot_ns;
    uint64_t installing;

    /* Guard (14): a snapshot write in raft_uv (or in its checksum), a
     * truncate not yet seen to end, the next append ends it; what waits
     * for them, in raft's order; how many operations ever waited. */
    int put_busy, truncating, mark_next_append;
    struct peer_pending *pending_head, *pending_tail;
    uint64_t barrier_waits;
    int put_over, truncate_over; /* ended: freed on the next iteration */
    uv_timer_t release_timer;
    int release_timer_open;

    /* Test hook: hold the completions of a new leader's writes. */
    uint64_t hold_ms;
    uint64_t hold_term; /* the term whose first leader write started it */
    uint64_t hold_until_ms;
    struct peer_held *held_head, *held_tail;
    uv_timer_t hold_timer;
    int hold_timer_open;
};

/* Sets up @w; @hold_ms is the test hook (0: off). Returns 0 or a libuv
 * error. */
int peer_write_init(struct peer_write *w, uv_loop_t *loop, uint64_t hold_ms);

/* raft_io append and snapshot_put: 0, or raft's error code (the owner
 * treats a failure to start as fatal). */
int peer_write_append(struct peer_write *w, struct raft_io_append *req,
                      const struct raft_entry entries[], unsigned n,
                      raft_io_append_cb cb);
int peer_write_snapshot_put(struct peer_write *w, unsigned trailing,
                            struct raft_io_snapshot_put *req,
                            const struct raft_snapshot *snapshot,
                            raft_io_snapshot_put_cb cb);
/* raft_io truncate: 0, or raft's error code (RAFT_INVALID for a second
 * truncate with no append between, which raft 0.15 never asks for). */
int peer_write_truncate(struct peer_write *w, raft_index index);

/* Ends what waits for the barrier with RAFT_CANCELED, completes what the
 * test hook holds (raft_uv has closed) and closes its timer. */
void peer_write_close(struct peer_write *w);

#endif
