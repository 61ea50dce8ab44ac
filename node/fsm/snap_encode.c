/* snap_encode.c: encoding a snapshot (fsm.h: fsm_snapshot_encode) from
 * what snap_take.c took, on raft's thread pool while apply goes on. Reads
 * only the copies of the queues, the records of the FIFO views, the
 * settings in the shells and the messages: none of which apply changes
 * while the snapshot hold lasts. Writes the format of snapshot.h: small
 * buffers in the snapshot's arena, message records by reference. */
#include <raft.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "fsm.h"
#include "pbconv.h"
#include "raft.pb-c.h"
#include "snap_take.h"
#include "snapshot.h"

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

    pbconv_queue_to(&qc, &sq->cfg);
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
    if (n > UINT32_MAX || (out = snap_arena_alloc(a, 8 + n)) == NULL) {
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
    uint64_t n_bufs =
        1 + (uint64_t)st->n_queues + st->n_msgs + (st->keys_sec != NULL);
    if (n_bufs > UINT32_MAX) {
        return MQ_ERR_TOO_LARGE;
    }
    st->bufs = mq_calloc((size_t)n_bufs, sizeof *st->bufs);
    hdr = snap_arena_alloc(&st->arena, SNAP_HEADER);
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
    if (st->keys_sec != NULL) { /* after the queues: see snapshot.h */
        bufs[b].base = st->keys_sec;
        bufs[b++].len = st->keys_len;
    }
    *bufs_out = bufs;
    *n_out = (unsigned)b;
    return MQ_OK;
}
