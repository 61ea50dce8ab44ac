/* figures.h: a snapshot of the node's figures, taken on the loop thread
 * (collect.c) and read by the HTTP handlers on nng threads (metrics.c,
 * health.c). It is immutable once published and reference-counted: the
 * last reader frees it, on whichever thread that is.
 *
 * Cardinality is bounded: queues beyond metrics_max_queues (the largest
 * by bytes first) are summed into one row named FIGURES_OTHER, and so are
 * the subscriptions of a listed queue beyond FIGURES_SUBS_PER_QUEUE (the
 * largest lag first) and those of the queues summed. */
#ifndef MQ_FIGURES_H
#define MQ_FIGURES_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "histo.h"
#include "mq.h"
#include "queue.h"
#include "rpc_stats.h"

/* The name of a summed row: not a valid queue or subscription name. */
#define FIGURES_OTHER "(other)"
#define FIGURES_SUBS_PER_QUEUE 16
#define FIGURES_MAX_PEERS 32

struct fig_queue {
    char name[MQ_QNAME_MAX + 1];
    uint64_t n_queues; /* 1, or how many a summed row holds */
    uint64_t messages, bytes;
    uint64_t ready, scheduled;  /* stored and due; delayed, not yet due */
    uint64_t in_flight;         /* delivered, not acked, all subscriptions */
    uint64_t dead_letter_depth; /* messages in its dead-letter queue */
    uint64_t oldest_age_ms;     /* of its oldest stored message; 0: none */
    uint64_t subscriptions;
    struct queue_counts counts;
};

struct fig_sub {
    char queue[MQ_QNAME_MAX + 1];
    char name[MQ_NAME_MAX + 1];
    uint64_t n_subs; /* 1, or how many a summed row holds */
    /* lag: stored messages not acked (pending + in_flight + scheduled, as
     * `mqctl sub info` shows them); lag_ms: age of the oldest of them
     * (from its deliver time), the largest over a summed row. */
    uint64_t lag_messages, lag_ms;
    uint64_t pending, in_flight, scheduled;
    uint64_t delivered, redelivered, acked, dead_lettered;
};

struct fig_peer {
    uint64_t id;
    int voter;             /* a voter of the configuration */
    int64_t match_lag;     /* leader: last index minus its match; -1 else */
    int skew_known;        /* a fresh clock measurement exists */
    int64_t clock_skew_ms; /* its clock minus ours */
};

struct figures {
    _Atomic int refs;
    uint64_t taken_mono_ms; /* CLOCK_MONOTONIC ms when collected */
    uint64_t taken_wall_ms;

    /* node and raft */
    uint64_t id;
    const char *role; /* static string: leader, follower, candidate, ... */
    int leader_ready; /* leader whose barrier is applied */
    uint64_t leader_id;
    uint64_t term, commit_index, applied_index, last_index, snapshot_index;
    uint64_t voters, voters_reachable;
    uint64_t elections, leader_changes;
    int removed, rejoining;
    struct fig_peer peers[FIGURES_MAX_PEERS];
    size_t n_peers;

    /* disk and memory */
    uint64_t log_bytes, snapshot_bytes, disk_free_bytes, disk_size_bytes;
    uint64_t memory_bytes, memory_budget_bytes;
    struct histo fsync_ns;
    uint64_t snapshots_taken, snapshots_installed, snapshot_written_bytes;
    struct histo snapshot_ns;
    uint64_t installing;

    /* requests */
    uint64_t connections, requests_active, waiting_fetches;
    uint64_t replies_not_sent;
    uint64_t requests_total;
    struct rpc_stats rpc;
    struct histo entry_bytes;
    uint64_t entries_proposed, ops_proposed;
    uint64_t peer_dropped_out, peer_bad_in, peer_results_dropped;
    uint64_t peer_msgs_in, peer_msgs_out;

    /* queues and subscriptions */
    uint64_t n_queues_total, n_subs_total;
    struct fig_queue *queues; /* listed first, then the summed row if any */
    size_t n_queues;
    int queues_other; /* the last row sums the queues not listed */
    struct fig_sub *subs;
    size_t n_subs;

    /* readiness settings, copied from the config */
    uint64_t ready_max_apply_lag;
};

/* A new, empty snapshot holding one reference, or NULL (no memory). */
struct figures *figures_new(void);

/* Takes one more reference. Any thread. */
void figures_hold(struct figures *f);

/* Drops a reference; the last frees @f. NULL does nothing. Any thread. */
void figures_release(struct figures *f);

#endif
