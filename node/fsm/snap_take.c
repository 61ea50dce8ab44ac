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
 * the format of snapshot.h from that copy alone (settings from the
 * shells, which never change), the message records by reference.
 * fsm_snapshot_done frees both and ends the hold. Failure modes: out of
 * memory while taking a queue fails the snapshot, never the apply that
 * changes the queue (encode says so; raft calls done and tries again at
 * its next threshold); out of memory while encoding likewise. */
#include <raft.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "fsm.h"
#include "fsm_internal.h"
#include "pbconv.h"
#include "raft.pb-c.h"
#include "snapshot.h"

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
    const struct queue *q; /* settings and creation time (its shell) */
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
    /* What the encoder made (its small buffers are in the arena). */
    struct raft_buffer *bufs;
};

static void *arena_alloc(struct arena *a, size_t n)
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
    void *mem = arena_alloc(a, fifo_view_size(fi));
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
    ss->pend = arena_alloc(a, s->heap_len * sizeof *ss->pend);
    ss->dead_cap = s->hist.dead.cap;
    ss->dead_len = s->hist.dead.len;
    ss->dead = arena_alloc(a, ss->dead_cap * sizeof *ss->dead);
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
    sq->first_seq = r->first_seq;
    sq->last_seq = r->last_seq;
    sq->n_msgs = r->n_msgs;
    sq->n_slots = n;
    sq->slots = arena_alloc(a, n * sizeof *sq->slots);
    sq->n_subs = q->n_subs;
    sq->subs = arena_alloc(a, q->n_subs * sizeof *sq->subs);
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

/* The encoder's part -------------------------------------------------------
 * Reads only the state copied above, the records of the views, the
 * settings in the shells and the messages: none of which apply changes
 * while the hold lasts. */

/* Allocations of one pack_queue, freed together. */
struct scratch {
    void *ptrs[8];
    size_t n;
    int failed;
};

static void *scratch_alloc(struct scratch *sc, size_t size)
{
    void *p = NULL;
    if (sc->n < sizeof sc->ptrs / sizeof sc->ptrs[0]) {
        p = mq_calloc(1, size ? size : 1);
    }
    if (p == NULL) {
        sc->failed = 1;
        return NULL;
    }
    sc->ptrs[sc->n++] = p;
    return p;
}

static void scratch_free(struct scratch *sc)
{
    for (size_t i = 0; i < sc->n; i++) {
        mq_free(sc->ptrs[i]);
    }
}

/* A dead letter: seq, time, attempts. */
struct dead_rec {
    uint64_t seq, at;
    uint32_t attempts;
};

static int cmp_dead(const void *a, const void *b)
{
    uint64_t x = ((const struct dead_rec *)a)->seq;
    uint64_t y = ((const struct dead_rec *)b)->seq;
    return x < y ? -1 : x > y;
}

/* Writes subscription @ss's acks, dead letters (by seq, so that every
 * replica writes the same bytes) and their attempts at @p; returns the
 * end. @dead has room for its dead letters. */
static uint8_t *pack_hist(Mq__V1__SubSnap *out, const struct snap_sub *ss,
                          struct dead_rec *dead, uint8_t *p)
{
    size_t n_acks = ss->acks.len, n_dead = 0;

    out->acks.data = p;
    for (size_t j = 0; j < n_acks; j++, p += 16) {
        const struct subhist_ack *a = fifo_view_at(&ss->acks, j);
        snap_put_u64(p, a->seq);
        snap_put_u64(p + 8, a->at_ms);
    }
    out->acks.len = (size_t)(p - out->acks.data);
    for (size_t j = 0; j < ss->dead_cap; j++) {
        if (ss->dead[j].val != NULL) {
            struct dead_rec *d = &dead[n_dead++];
            d->seq = ss->dead[j].key;
            d->at =
                subhist_dead_decode((uintptr_t)ss->dead[j].val, &d->attempts);
        }
    }
    qsort(dead, n_dead, sizeof *dead, cmp_dead);
    out->dead.data = p;
    for (size_t j = 0; j < n_dead; j++, p += 16) {
        snap_put_u64(p, dead[j].seq);
        snap_put_u64(p + 8, dead[j].at);
    }
    out->dead.len = (size_t)(p - out->dead.data);
    out->ack_attempts.data = p;
    for (size_t j = 0; j < n_acks; j++, p += 4) {
        snap_put_u32(
            p,
            ((const struct subhist_ack *)fifo_view_at(&ss->acks, j))->attempts);
    }
    out->ack_attempts.len = (size_t)(p - out->ack_attempts.data);
    out->dead_attempts.data = p;
    for (size_t j = 0; j < n_dead; j++, p += 4) {
        snap_put_u32(p, dead[j].attempts);
    }
    out->dead_attempts.len = (size_t)(p - out->dead_attempts.data);
    return p;
}

/* Packs one queue's QueueSnap behind its 8-byte length header, in @a. */
static void *pack_queue(struct arena *a, const struct snap_queue *sq,
                        size_t *len)
{
    Mq__V1__QueueSnap qs = MQ__V1__QUEUE_SNAP__INIT;
    Mq__V1__QueueConfig qc;
    struct scratch sc = {{0}, 0, 0};
    size_t n_pend = 0, n_acks = 0, n_dead = 0, most_dead = 0;
    size_t n_subs = sq->n_subs;
    size_t dn = sq->dedup.len, tn = sq->tombs.len;
    uint8_t *out = NULL;

    for (size_t i = 0; i < n_subs; i++) {
        n_pend += sq->subs[i].n_pend;
        n_acks += sq->subs[i].acks.len;
        n_dead += sq->subs[i].dead_len;
        if (sq->subs[i].dead_len > most_dead) {
            most_dead = sq->subs[i].dead_len;
        }
    }
    Mq__V1__SubSnap *subs = scratch_alloc(&sc, n_subs * sizeof *subs);
    Mq__V1__SubSnap **subp = scratch_alloc(&sc, n_subs * sizeof *subp);
    Mq__V1__SubConfig *scs = scratch_alloc(&sc, n_subs * sizeof *scs);
    char **filters =
        scratch_alloc(&sc, n_subs * SUB_MAX_FILTERS * sizeof *filters);
    Mq__V1__PendingSnap *pend = scratch_alloc(&sc, n_pend * sizeof *pend);
    Mq__V1__PendingSnap **pendp = scratch_alloc(&sc, n_pend * sizeof *pendp);
    struct dead_rec *dead = scratch_alloc(&sc, most_dead * sizeof *dead);
    uint8_t *recs = scratch_alloc(&sc, dn * DEDUP_REC + tn * TOMB_REC +
                                           (n_acks + n_dead) * (16 + 4));
    if (sc.failed) {
        goto out;
    }

    pbconv_queue_to(&qc, &sq->q->cfg);
    qs.config = &qc;
    qs.created_at_ms = sq->q->created_at_ms;
    qs.first_seq = sq->first_seq;
    qs.last_seq = sq->last_seq;
    qs.n_msgs = sq->n_msgs;
    uint8_t *p = recs;
    qs.dedup.data = p;
    for (size_t i = 0; i < dn; i++, p += DEDUP_REC) {
        const struct dedup_entry *en = fifo_view_at(&sq->dedup, i);
        snap_put_u64(p, en->key.lo);
        snap_put_u64(p + 8, en->key.hi);
        snap_put_u64(p + 16, en->seq);
        snap_put_u64(p + 24, en->at_ms);
    }
    qs.dedup.len = dn * DEDUP_REC;
    qs.tombs.data = p;
    for (size_t i = 0; i < tn; i++, p += TOMB_REC) {
        const struct tomb *t = fifo_view_at(&sq->tombs, i);
        snap_put_u64(p, t->key.lo);
        snap_put_u64(p + 8, t->key.hi);
        snap_put_u64(p + 16, t->seq);
        snap_put_u64(p + 24, t->published_at_ms);
        snap_put_u64(p + 32, t->gone);
    }
    qs.tombs.len = tn * TOMB_REC;

    size_t k = 0;
    for (size_t i = 0; i < n_subs; i++) {
        const struct snap_sub *ss = &sq->subs[i];
        Mq__V1__SubSnap *out_s = &subs[i];
        mq__v1__sub_snap__init(out_s);
        pbconv_sub_to(&scs[i], &ss->s->cfg, sq->q->cfg.name,
                      &filters[i * SUB_MAX_FILTERS]);
        out_s->config = &scs[i];
        out_s->created_at_ms = ss->s->created_at_ms;
        out_s->next_seq = ss->next_seq;
        out_s->delivered = ss->delivered;
        out_s->acked = ss->acked;
        out_s->dropped = ss->dropped;
        out_s->dead_lettered = ss->dead_lettered;
        out_s->pending = &pendp[k];
        for (size_t j = 0; j < ss->n_pend; j++, k++) {
            const struct snap_pending *pd = &ss->pend[j];
            mq__v1__pending_snap__init(&pend[k]);
            pend[k].seq = pd->seq;
            pend[k].due_ms = pd->due_ms;
            pend[k].attempts = pd->attempts;
            pend[k].delivered_at_ms = pd->delivered_at_ms;
            pend[k].nacked = pd->nacked != 0;
            pendp[k] = &pend[k];
            out_s->n_pending++;
        }
        p = pack_hist(out_s, ss, dead, p);
        subp[i] = out_s;
    }
    qs.subs = subp;
    qs.n_subs = n_subs;

    size_t n = mq__v1__queue_snap__get_packed_size(&qs);
    if (n > UINT32_MAX || (out = arena_alloc(a, 8 + n)) == NULL) {
        goto out;
    }
    snap_put_u32(out, (uint32_t)n);
    snap_put_u32(out + 4, 0);
    mq__v1__queue_snap__pack(&qs, out + 8);
    *len = 8 + n;
out:
    scratch_free(&sc);
    return out;
}

mq_err fsm_snapshot_encode(struct fsm *f, struct raft_buffer **bufs_out,
                           unsigned *n_out)
{
    struct snap_state *st = f->snap;
    uint8_t *hdr;

    if (st == NULL || st->bufs != NULL || st->cursor != st->n_queues) {
        return MQ_ERR_INTERNAL; /* none begun, encoded, or not all taken */
    }
    if (st->failed) {
        return MQ_ERR_NO_MEMORY;
    }
    uint64_t n_bufs = 1 + (uint64_t)st->n_queues + st->n_msgs;
    if (n_bufs > UINT32_MAX) {
        return MQ_ERR_TOO_LARGE;
    }
    st->bufs = mq_calloc((size_t)n_bufs, sizeof *st->bufs);
    hdr = arena_alloc(&st->arena, SNAP_HEADER);
    if (st->bufs == NULL || hdr == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    memcpy(hdr, SNAP_MAGIC, 8);
    snap_put_u64(hdr + 8, st->now_ms);
    snap_put_u32(hdr + 16, (uint32_t)st->n_queues);
    snap_put_u32(hdr + 20, 0);

    struct raft_buffer *bufs = st->bufs;
    size_t b = 0;
    bufs[b].base = hdr;
    bufs[b++].len = SNAP_HEADER;
    for (size_t i = 0; i < st->n_queues; i++) {
        const struct snap_queue *sq = &st->queues[i];
        size_t len;
        void *meta = pack_queue(&st->arena, sq, &len);
        if (meta == NULL) {
            return MQ_ERR_NO_MEMORY;
        }
        bufs[b].base = meta;
        bufs[b++].len = len;
        for (size_t j = 0; j < sq->n_slots; j++) {
            const struct msg *m = sq->slots[j];
            if (m != NULL) {
                bufs[b].base = (void *)msg_record(m, &bufs[b].len);
                b++;
            }
        }
    }
    *bufs_out = bufs;
    *n_out = (unsigned)b;
    return MQ_OK;
}
