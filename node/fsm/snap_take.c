/* snap_take.c: taking a snapshot (fsm.h: fsm_snapshot, _step, _encode,
 * _done).
 *
 * Happy path: on the loop, fsm_snapshot copies the list of queues and
 * starts a snapshot hold on the trash, so that messages, FIFO chunks and
 * the shells of queues and subscriptions freed meanwhile wait. Then the
 * queues are taken, a few at a time between other work on the loop
 * (fsm_snapshot_step), or one at once just before apply changes it
 * (queue_changing, fsm_snap_take_queue): taking one copies into an arena
 * (blocks of ARENA_BLOCK bytes) its seqs and the pointers of its message
 * slots, views of its FIFOs of ids and statuses (lists of chunks,
 * fifo.h), per subscription its counters, its pending deliveries (from
 * their list in seq order) and the slots of its map of dead letters:
 * what the queue was when the snapshot began, since nothing in it changed
 * before. No step holds the loop long, whatever the number of queues.
 * fsm_snapshot_encode, on raft's thread pool once all are taken, writes
 * the format of snapshot.h from that copy alone (the queues' settings
 * copied, since a queue update changes them; names, creation times and
 * subscriptions' settings from the shells, which never change), the
 * message records by reference.
 * fsm_snapshot_done frees both and ends the hold. Failure modes: out of
 * memory while taking a queue fails the snapshot, never the apply that
 * changes the queue (encode says so; raft calls done and tries again at
 * its next threshold); out of memory while encoding likewise. */
#include <raft.h>
#include <stddef.h>
#include <string.h>

#include "alloc.h"
#include "fsm.h"
#include "fsm_internal.h"
#include "keys_snap.h"
#include "snap_take.h"
#include "snapshot.h"

void *snap_arena_alloc(struct arena *a, size_t n)
{
    n = n ? (n + 15) & ~(size_t)15 : 16; /* never NULL for 0 bytes */
    if (n > a->left) {
        struct arena_block *b = a->spare;
        if (b != NULL && n <= b->size) {
            a->spare = b->next;
        } else {
            size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
            b = mq_malloc(sizeof *b + size);
            if (b == NULL) {
                return NULL;
            }
            b->size = size;
        }
        b->next = a->head;
        a->head = b;
        a->p = b->mem;
        a->left = b->size;
    }
    void *r = a->p;
    a->p += n;
    a->left -= n;
    return r;
}

static void free_blocks(struct arena_block *b)
{
    while (b != NULL) {
        struct arena_block *next = b->next;
        mq_free(b);
        b = next;
    }
}

/* Frees the arena's blocks, keeping up to ARENA_SPARE_MAX of the standard
 * size in *@spare for the next snapshot. */
static void arena_free(struct arena *a, struct arena_block **spare)
{
    size_t kept = 0;
    struct arena_block *b = a->head;
    free_blocks(a->spare);
    while (b != NULL) {
        struct arena_block *next = b->next;
        if (spare != NULL && b->size == ARENA_BLOCK && kept < ARENA_SPARE_MAX) {
            b->next = *spare;
            *spare = b;
            kept++;
        } else {
            mq_free(b);
        }
        b = next;
    }
    memset(a, 0, sizeof *a);
}

/* Frees @st; its arena's blocks go to *@spare (may be NULL: freed). */
static void state_free(struct snap_state *st, struct arena_block **spare)
{
    if (st == NULL) {
        return;
    }
    mq_free(st->bufs);
    mq_free(st->keys_sec);
    mq_free(st->queues);
    mq_free(st->qptrs);
    arena_free(&st->arena, spare);
    mq_free(st);
}

void fsm_snap_free(struct fsm *f)
{
    state_free(f->snap, NULL);
    f->snap = NULL;
    f->ctx.taking = NULL;
    free_blocks(f->snap_spare);
    f->snap_spare = NULL;
}

/* The loop's part ----------------------------------------------------------
 */

/* Views @fi in @v, its list of chunks in the arena. */
static int take_fifo(struct arena *a, const struct fifo *fi,
                     struct fifo_view *v)
{
    void *mem = snap_arena_alloc(a, fifo_view_size(fi));
    if (mem == NULL) {
        return -1;
    }
    fifo_view_take(fi, v, mem);
    return 0;
}

static int take_sub(struct arena *a, struct snap_sub *ss, const struct sub *s)
{
    ss->s = s;
    ss->next_seq = s->next_seq;
    ss->delivered = s->delivered;
    ss->acked = s->acked;
    ss->dropped = s->dropped;
    ss->dead_lettered = s->dead_lettered;
    ss->pend = snap_arena_alloc(a, s->heap_len * sizeof *ss->pend);
    ss->dead_cap = s->hist.dead.cap;
    ss->dead_len = s->hist.dead.len;
    ss->dead = snap_arena_alloc(a, ss->dead_cap * sizeof *ss->dead);
    if (ss->pend == NULL || ss->dead == NULL ||
        take_fifo(a, &s->hist.acks, &ss->acks) != 0) {
        return -1;
    }
    size_t k = 0;
    for (const struct pending *pd = s->first; pd != NULL; pd = pd->next) {
        struct snap_pending *sp = &ss->pend[k++];
        sp->seq = pd->seq;
        sp->due_ms = pd->due_ms;
        sp->delivered_at_ms = pd->delivered_at_ms;
        sp->attempts = pd->attempts;
        sp->nacked = pd->nacked;
    }
    ss->n_pend = k;
    if (ss->dead_cap > 0) {
        memcpy(ss->dead, s->hist.dead.slots, ss->dead_cap * sizeof *ss->dead);
    }
    return 0;
}

static int take_queue(struct arena *a, struct snap_queue *sq,
                      const struct queue *q)
{
    const struct ring *r = &q->msgs;
    size_t n = ring_len(r);

    sq->q = q;
    sq->cfg = q->cfg;
    sq->first_seq = r->first_seq;
    sq->last_seq = r->last_seq;
    sq->n_msgs = r->n_msgs;
    sq->n_slots = n;
    sq->slots = snap_arena_alloc(a, n * sizeof *sq->slots);
    sq->n_subs = q->n_subs;
    sq->subs = snap_arena_alloc(a, q->n_subs * sizeof *sq->subs);
    if (sq->slots == NULL || sq->subs == NULL ||
        take_fifo(a, &q->dedup.ring.recs, &sq->dedup) != 0 ||
        take_fifo(a, &q->tombs.recs, &sq->tombs) != 0) {
        return -1;
    }
    if (n > 0) {
        size_t first = r->cap - r->head < n ? r->cap - r->head : n;
        memcpy(sq->slots, r->slots + r->head, first * sizeof *sq->slots);
        memcpy(sq->slots + first, r->slots, (n - first) * sizeof *sq->slots);
    }
    for (size_t i = 0; i < q->n_subs; i++) {
        if (take_sub(a, &sq->subs[i], q->subs[i]) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Memory latency, not work, is what taking many small queues costs: ask
 * for what the queues ahead of @i will need while @i is taken (their
 * structs, then their lists of subscriptions, then those). */
static void prefetch_ahead(const struct snap_state *st, size_t i)
{
    struct queue *const *qs = st->qptrs;
    if (i + 8 < st->n_queues) {
        const char *q = (const char *)qs[i + 8];
        for (size_t k = 0; k < offsetof(struct queue, created_at_ms); k += 64) {
            __builtin_prefetch(q + k);
        }
    }
    if (i + 4 < st->n_queues && qs[i + 4]->n_subs > 0) {
        __builtin_prefetch(qs[i + 4]->subs);
    }
    if (i + 2 < st->n_queues) {
        const struct queue *q = qs[i + 2];
        for (size_t j = 0; j < q->n_subs && j < 4; j++) {
            const char *s = (const char *)q->subs[j];
            for (size_t k = 0; k < offsetof(struct sub, created_at_ms);
                 k += 64) {
                __builtin_prefetch(s + k);
            }
        }
    }
}

/* Takes queue @i of the snapshot (not taken yet, unchanged since it
 * began). */
static void take_index(struct snap_state *st, size_t i)
{
    struct queue *q = st->qptrs[i];
    if (take_queue(&st->arena, &st->queues[i], q) != 0) {
        st->failed = 1;
    }
    st->n_msgs += q->msgs.n_msgs;
    q->snap_gen = st->gen;
}

void fsm_snap_take_queue(struct fsm_ctx *ctx, struct queue *q)
{
    struct snap_state *st = ctx->taking;
    size_t lo = 0, hi = st->n_queues;
    while (lo < hi) { /* qptrs are sorted by name, as the FSM's queues */
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->qptrs[mid]->cfg.name, q->cfg.name);
        if (c == 0) {
            lo = mid;
            break;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo < st->n_queues && st->qptrs[lo] == q) {
        take_index(st, lo);
    } else {
        q->snap_gen = st->gen; /* not in this snapshot (cannot happen) */
    }
}

int fsm_snapshot_step(struct fsm *f, size_t max_queues)
{
    struct snap_state *st = f->snap;
    if (st == NULL) {
        return 1;
    }
    for (; st->cursor < st->n_queues && max_queues > 0; max_queues--) {
        size_t i = st->cursor++;
        prefetch_ahead(st, i);
        if (st->qptrs[i]->snap_gen != st->gen) {
            take_index(st, i);
        }
    }
    return st->cursor == st->n_queues;
}

mq_err fsm_snapshot(struct fsm *f, struct raft_buffer **bufs_out,
                    unsigned *n_out)
{
    struct snap_state *st;
    size_t nq = f->n_queues;

    *bufs_out = NULL;
    *n_out = 0;
    if (f->snap != NULL) {
        return MQ_ERR_INTERNAL; /* raft takes one snapshot at a time */
    }
    st = mq_calloc(1, sizeof *st);
    if (st == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    st->qptrs = mq_malloc((nq ? nq : 1) * sizeof *st->qptrs);
    st->queues = mq_malloc((nq ? nq : 1) * sizeof *st->queues);
    if (st->qptrs == NULL || st->queues == NULL) {
        state_free(st, NULL);
        return MQ_ERR_NO_MEMORY;
    }
    if (nq > 0) {
        memcpy(st->qptrs, f->queues, nq * sizeof *st->qptrs);
    }
    if (keys_snap_pack(&f->keys, &st->keys_sec, &st->keys_len) != MQ_OK) {
        state_free(st, NULL);
        return MQ_ERR_NO_MEMORY;
    }
    st->n_queues = nq;
    st->arena.spare = f->snap_spare; /* the last snapshot's blocks */
    f->snap_spare = NULL;
    st->now_ms = f->now_ms;
    st->gen = ++f->ctx.snap_gen; /* no queue is taken yet */
    f->ctx.taking = st;
    f->snap = st;
    trash_hold_snapshot(&f->ctx.trash);
    return MQ_OK;
}

void fsm_snapshot_done(struct fsm *f, struct raft_buffer **bufs,
                       unsigned *n_bufs)
{
    *bufs = NULL; /* the encoder's, freed with its state */
    *n_bufs = 0;
    if (f->snap == NULL) {
        return; /* no snapshot outstanding: no hold of ours to end */
    }
    state_free(f->snap, (struct arena_block **)&f->snap_spare);
    f->snap = NULL;
    f->ctx.taking = NULL;
    trash_release_snapshot(&f->ctx.trash);
}
