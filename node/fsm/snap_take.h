/* snap_take.h: what taking a snapshot copies on the loop and its encoder
 * reads on raft's thread pool (snap_take.c takes, snap_encode.c encodes).
 * Not for use outside the FSM. */
#ifndef MQ_SNAP_TAKE_H
#define MQ_SNAP_TAKE_H

#include <stddef.h>
#include <stdint.h>

#include "fifo.h"
#include "fsm.h"

#define ARENA_BLOCK (1u << 20)
/* Blocks kept from one snapshot for the next (already in memory, they
 * cost no page faults on the loop), at most this many. */
#define ARENA_SPARE_MAX 64

struct arena_block {
    struct arena_block *next;
    size_t size;
    _Alignas(16) char mem[];
};

/* Bump allocation in blocks, freed together; spare blocks are used first. */
struct arena {
    struct arena_block *head;
    char *p;
    size_t left;
    struct arena_block *spare;
};

struct snap_pending {
    uint64_t seq, due_ms, delivered_at_ms;
    uint32_t attempts;
    int nacked;
};

struct snap_sub {
    const struct sub *s; /* settings and creation time (its shell) */
    uint64_t next_seq, delivered, acked, dropped, dead_lettered;
    struct snap_pending *pend;
    size_t n_pend;
    struct fifo_view acks;
    struct hmap_slot *dead; /* a copy of the map's slots */
    size_t dead_cap, dead_len;
};

struct snap_queue {
    const struct queue *q;   /* name and creation time (its shell) */
    struct queue_config cfg; /* settings when taken (queue update) */
    uint64_t first_seq, last_seq, n_msgs;
    struct msg **slots; /* first_seq..last_seq; NULL: removed */
    size_t n_slots;
    struct fifo_view dedup, tombs;
    struct snap_sub *subs;
    size_t n_subs;
};

struct snap_state {
    uint64_t now_ms, gen;
    struct arena arena;
    /* The queues when the snapshot began, by name, and what was taken of
     * each: queues[i] once qptrs[i]->snap_gen is gen. Taken up to cursor
     * in order (fsm_snapshot_step), and out of order before one changes
     * (fsm_snap_take_queue). */
    struct queue **qptrs;
    struct snap_queue *queues;
    size_t n_queues, cursor;
    uint64_t n_msgs;
    int failed; /* out of memory while taking: encode says so */
    /* The keys' section (keys_snap.h), packed on the loop when the
     * snapshot began (a few keys: small); NULL while authentication is
     * off. */
    void *keys_sec;
    size_t keys_len;
    /* What the encoder made (its small buffers are in the arena). */
    struct raft_buffer *bufs;
};

/* @n bytes (16-aligned, never NULL for 0) from @a, or NULL when out of
 * memory. The loop's until every queue is taken, then the encoder's. */
void *snap_arena_alloc(struct arena *a, size_t n);

#endif
