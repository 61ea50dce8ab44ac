/* snapshot.c: the FSM's state as a snapshot, and back.
 *
 * Layout (little-endian): "MQSNAP01", u64 clock, u32 number of queues, u32
 * zero; then per queue: u32 length, u32 zero, a QueueSnap (raft.proto), and
 * QueueSnap.n_msgs message records (struct msg_rec, then the PubMessage
 * bytes), in seq order; then, once authentication is on, the keys' section
 * (keys_snap.h; a snapshot without it restores with no keys).
 *
 * Taking a snapshot copies only the small parts (settings, subscriptions,
 * remembered ids); message records are handed to raft by reference, and
 * messages removed while raft writes them are held by the trash until
 * fsm_snapshot_done. Restoring builds a whole new set of queues and swaps it
 * in only when every byte checked out, so a bad snapshot changes nothing.
 *
 * Restore accepts every state that apply can produce: it checks the format
 * and the invariants the code relies on (seqs in order, pending deliveries
 * below the cursor, ...), never the queues' limits, which apply checks and
 * may leave exceeded (a dead letter or a redrive stores past a "reject"
 * queue's max_bytes). */
#include <raft.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cmd.h"
#include "fsm.h"
#include "fsm_internal.h"
#include "keys_snap.h"
#include "pbconv.h"
#include "raft.pb-c.h"

#define SNAP_MAGIC "MQSNAP01"
#define SNAP_HEADER 24u
#define DEDUP_REC 32u
#define TOMB_REC 40u

/* A queue's ring has a slot for every seq from its first stored message to
 * its last seq, stored or removed. Restore refuses a queue with more removed
 * seqs than this between (and after) its stored messages, rather than
 * allocating and filling slots without end for a corrupted seq. A reachable
 * state has such gaps only where messages were removed from the middle. */
#define SNAP_MAX_HOLES (1u << 24)

struct snap_state {
    void **owned; /* buffers we allocated, freed when raft is done */
    size_t n_owned;
};

static void put_u32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put_u64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

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

static int cmp_u64_pair(const void *a, const void *b)
{
    uint64_t x = get_u64(a), y = get_u64(b);
    return x < y ? -1 : x > y;
}

/* Packs one queue's QueueSnap behind its 8-byte length header. */
static void *pack_queue(const struct queue *q, size_t *len)
{
    Mq__V1__QueueSnap qs = MQ__V1__QUEUE_SNAP__INIT;
    Mq__V1__QueueConfig qc;
    struct scratch sc = {{0}, 0, 0};
    size_t n_pend = 0, n_acks = 0, n_dead = 0, n_subs = q->n_subs;
    size_t dn = dedup_len(&q->dedup), tn = tombs_len(&q->tombs);
    uint8_t *out = NULL;

    for (size_t i = 0; i < n_subs; i++) {
        n_pend += sub_in_flight(q->subs[i]);
        n_acks += subhist_len(&q->subs[i]->hist);
        n_dead += q->subs[i]->hist.dead.len;
    }
    Mq__V1__SubSnap *subs = scratch_alloc(&sc, n_subs * sizeof *subs);
    Mq__V1__SubSnap **subp = scratch_alloc(&sc, n_subs * sizeof *subp);
    Mq__V1__SubConfig *scs = scratch_alloc(&sc, n_subs * sizeof *scs);
    char **filters =
        scratch_alloc(&sc, n_subs * SUB_MAX_FILTERS * sizeof *filters);
    Mq__V1__PendingSnap *pend = scratch_alloc(&sc, n_pend * sizeof *pend);
    Mq__V1__PendingSnap **pendp = scratch_alloc(&sc, n_pend * sizeof *pendp);
    uint8_t *recs = scratch_alloc(&sc, dn * DEDUP_REC + tn * TOMB_REC +
                                           (n_acks + n_dead) * (16 + 4));
    if (sc.failed) {
        goto out;
    }

    pbconv_queue_to(&qc, &q->cfg);
    qs.config = &qc;
    qs.created_at_ms = q->created_at_ms;
    qs.first_seq = q->msgs.first_seq;
    qs.last_seq = q->msgs.last_seq;
    qs.n_msgs = q->msgs.n_msgs;
    uint8_t *p = recs;
    qs.dedup.data = p;
    for (size_t i = 0; i < dn; i++, p += DEDUP_REC) {
        const struct dedup_entry *en = dedup_at(&q->dedup, i);
        put_u64(p, en->key.lo);
        put_u64(p + 8, en->key.hi);
        put_u64(p + 16, en->seq);
        put_u64(p + 24, en->at_ms);
    }
    qs.dedup.len = dn * DEDUP_REC;
    qs.tombs.data = p;
    for (size_t i = 0; i < tn; i++, p += TOMB_REC) {
        const struct tomb *t = tombs_at(&q->tombs, i);
        put_u64(p, t->key.lo);
        put_u64(p + 8, t->key.hi);
        put_u64(p + 16, t->seq);
        put_u64(p + 24, t->published_at_ms);
        put_u64(p + 32, t->gone);
    }
    qs.tombs.len = tn * TOMB_REC;

    size_t k = 0;
    for (size_t i = 0; i < n_subs; i++) {
        const struct sub *s = q->subs[i];
        Mq__V1__SubSnap *ss = &subs[i];
        mq__v1__sub_snap__init(ss);
        pbconv_sub_to(&scs[i], &s->cfg, q->cfg.name,
                      &filters[i * SUB_MAX_FILTERS]);
        ss->config = &scs[i];
        ss->created_at_ms = s->created_at_ms;
        ss->next_seq = s->next_seq;
        ss->delivered = s->delivered;
        ss->acked = s->acked;
        ss->dropped = s->dropped;
        ss->dead_lettered = s->dead_lettered;
        ss->pending = &pendp[k];
        for (const struct pending *pd = s->first; pd; pd = pd->next, k++) {
            mq__v1__pending_snap__init(&pend[k]);
            pend[k].seq = pd->seq;
            pend[k].due_ms = pd->due_ms;
            pend[k].attempts = pd->attempts;
            pend[k].delivered_at_ms = pd->delivered_at_ms;
            pend[k].nacked = pd->nacked != 0;
            pendp[k] = &pend[k];
            ss->n_pending++;
        }
        ss->acks.data = p;
        for (size_t j = 0; j < subhist_len(&s->hist); j++, p += 16) {
            const struct subhist_ack *a = subhist_at(&s->hist, j);
            put_u64(p, a->seq);
            put_u64(p + 8, a->at_ms);
        }
        ss->acks.len = (size_t)(p - ss->acks.data);
        ss->dead.data = p;
        const struct hmap *dead = &s->hist.dead;
        for (size_t j = 0; j < dead->cap; j++) {
            if (dead->slots[j].val != NULL) {
                put_u64(p, dead->slots[j].key);
                put_u64(p + 8,
                        subhist_dead_at(&s->hist, dead->slots[j].key, NULL));
                p += 16;
            }
        }
        ss->dead.len = (size_t)(p - ss->dead.data);
        /* By seq, so that every replica writes the same bytes. */
        qsort(ss->dead.data, ss->dead.len / 16, 16, cmp_u64_pair);
        ss->ack_attempts.data = p;
        for (size_t j = 0; j < subhist_len(&s->hist); j++, p += 4) {
            put_u32(p, subhist_at(&s->hist, j)->attempts);
        }
        ss->ack_attempts.len = (size_t)(p - ss->ack_attempts.data);
        ss->dead_attempts.data = p;
        for (size_t j = 0; j < ss->dead.len; j += 16, p += 4) {
            uint32_t attempts;
            subhist_dead_at(&s->hist, get_u64(ss->dead.data + j), &attempts);
            put_u32(p, attempts);
        }
        ss->dead_attempts.len = (size_t)(p - ss->dead_attempts.data);
        subp[i] = ss;
    }
    qs.subs = subp;
    qs.n_subs = n_subs;

    size_t n = mq__v1__queue_snap__get_packed_size(&qs);
    if (n > UINT32_MAX || (out = mq_malloc(8 + n)) == NULL) {
        goto out;
    }
    put_u32(out, (uint32_t)n);
    put_u32(out + 4, 0);
    mq__v1__queue_snap__pack(&qs, out + 8);
    *len = 8 + n;
out:
    scratch_free(&sc);
    return out;
}

static void free_state(struct snap_state *st)
{
    if (st == NULL) {
        return;
    }
    for (size_t i = 0; i < st->n_owned; i++) {
        mq_free(st->owned[i]);
    }
    mq_free(st->owned);
    mq_free(st);
}

mq_err fsm_snapshot(struct fsm *f, struct raft_buffer **bufs_out,
                    unsigned *n_out)
{
    size_t n_bufs = 1 + f->n_queues;
    struct raft_buffer *bufs = NULL;
    struct snap_state *st;
    uint8_t *hdr;
    void *keys_sec = NULL;
    size_t keys_len = 0;

    if (f->snap != NULL) {
        return MQ_ERR_INTERNAL; /* raft takes one snapshot at a time */
    }
    for (size_t i = 0; i < f->n_queues; i++) {
        n_bufs += f->queues[i]->msgs.n_msgs;
    }
    if (n_bufs > UINT32_MAX) {
        return MQ_ERR_TOO_LARGE;
    }
    if (keys_snap_pack(&f->keys, &keys_sec, &keys_len) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    n_bufs += keys_sec != NULL;
    st = mq_calloc(1, sizeof *st);
    if (st == NULL) {
        mq_free(keys_sec);
        return MQ_ERR_NO_MEMORY;
    }
    st->owned = mq_calloc(2 + f->n_queues, sizeof *st->owned);
    bufs = mq_calloc(n_bufs, sizeof *bufs);
    hdr = mq_malloc(SNAP_HEADER);
    if (st->owned == NULL || bufs == NULL || hdr == NULL) {
        mq_free(hdr); /* not in st->owned yet */
        mq_free(keys_sec);
        goto oom;
    }
    st->owned[st->n_owned++] = hdr;
    if (keys_sec != NULL) {
        st->owned[st->n_owned++] = keys_sec;
        bufs[n_bufs - 1].base = keys_sec;
        bufs[n_bufs - 1].len = keys_len;
    }
    memcpy(hdr, SNAP_MAGIC, 8);
    put_u64(hdr + 8, f->now_ms);
    put_u32(hdr + 16, (uint32_t)f->n_queues);
    put_u32(hdr + 20, 0);

    size_t b = 0;
    bufs[b].base = hdr;
    bufs[b++].len = SNAP_HEADER;
    for (size_t i = 0; i < f->n_queues; i++) {
        const struct queue *q = f->queues[i];
        size_t len;
        void *meta = pack_queue(q, &len);
        if (meta == NULL) {
            goto oom;
        }
        st->owned[st->n_owned++] = meta;
        bufs[b].base = meta;
        bufs[b++].len = len;
        for (uint64_t seq = q->msgs.first_seq; seq <= q->msgs.last_seq; seq++) {
            struct msg *m = queue_get(q, seq);
            if (m != NULL) {
                bufs[b].base = (void *)msg_record(m, &bufs[b].len);
                b++;
            }
        }
    }
    f->snap = st;
    trash_hold(&f->trash);
    *bufs_out = bufs;
    *n_out = (unsigned)n_bufs;
    return MQ_OK;
oom:
    free_state(st);
    mq_free(bufs);
    return MQ_ERR_NO_MEMORY;
}

void fsm_snapshot_done(struct fsm *f, struct raft_buffer **bufs,
                       unsigned *n_bufs)
{
    mq_free(*bufs);
    *bufs = NULL;
    *n_bufs = 0;
    if (f->snap == NULL) {
        return; /* no snapshot outstanding: no hold of ours to end */
    }
    free_state(f->snap);
    f->snap = NULL;
    trash_release(&f->trash);
}

/* Restore ---------------------------------------------------------------- */

struct reader {
    const uint8_t *p, *end;
};

static const uint8_t *take(struct reader *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

/* Counts @n more removed seqs inside the ring against SNAP_MAX_HOLES. */
static mq_err count_holes(uint64_t *holes, uint64_t n, struct errmsg *e)
{
    if (n > SNAP_MAX_HOLES - *holes) {
        errmsg_set(e, "more than %u removed seqs between stored messages",
                   SNAP_MAX_HOLES);
        return MQ_ERR_PROTOCOL;
    }
    *holes += n;
    return MQ_OK;
}

/* Puts @m at its seq (at most @last_seq), leaving removed slots empty
 * before it. */
static mq_err place_msg(struct queue *q, struct msg *m, uint64_t last_seq,
                        uint64_t *holes, struct errmsg *e)
{
    uint64_t seq = m->rec.seq;
    mq_err rv = MQ_OK;
    if (seq <= q->msgs.last_seq || seq < q->msgs.first_seq || seq > last_seq) {
        errmsg_set(e, "message seq %llu out of order", (unsigned long long)seq);
        return MQ_ERR_PROTOCOL;
    }
    if (q->msgs.n_msgs > 0) {
        rv = count_holes(holes, seq - q->msgs.last_seq - 1, e);
    }
    if (rv == MQ_OK) {
        rv = queue_skip_to(q, seq);
    }
    if (rv == MQ_OK) {
        /* No limits here: see queue_restore_msg. */
        rv = queue_restore_msg(q, m);
    }
    return rv;
}

/* The @i-th 4-byte record of @d, or 0 when @d is empty (a snapshot that
 * predates the attempts). */
static uint32_t attempts_at(const ProtobufCBinaryData *d, size_t i)
{
    return d->len != 0 ? get_u32(d->data + 4 * i) : 0;
}

/* A subscription's recent acks and dead letters, with the deliveries each
 * took when the snapshot says (ack_attempts and dead_attempts, absent in
 * older snapshots: 0, not known). */
static mq_err restore_hist(struct sub *s, const Mq__V1__SubSnap *ss,
                           struct errmsg *e)
{
    if (ss->acks.len % 16 != 0 || ss->dead.len % 16 != 0 ||
        ss->acks.len / 16 > SUBHIST_ACKS ||
        (ss->ack_attempts.len != 0 &&
         ss->ack_attempts.len != ss->acks.len / 4) ||
        (ss->dead_attempts.len != 0 &&
         ss->dead_attempts.len != ss->dead.len / 4)) {
        errmsg_set(e, "subscription %s: bad ack or dead-letter records",
                   s->cfg.name);
        return MQ_ERR_PROTOCOL;
    }
    for (size_t i = 0; i < ss->acks.len; i += 16) {
        if (subhist_ack(&s->hist, get_u64(ss->acks.data + i),
                        get_u64(ss->acks.data + i + 8),
                        attempts_at(&ss->ack_attempts, i / 16)) != MQ_OK) {
            return MQ_ERR_NO_MEMORY;
        }
    }
    for (size_t i = 0; i < ss->dead.len; i += 16) {
        uint64_t at = get_u64(ss->dead.data + i + 8);
        if (at == 0 || at >= SUBHIST_DEAD_TIME_LIMIT - 1) {
            errmsg_set(e, "subscription %s: bad dead-letter time", s->cfg.name);
            return MQ_ERR_PROTOCOL;
        }
        if (subhist_dead(&s->hist, get_u64(ss->dead.data + i), at,
                         attempts_at(&ss->dead_attempts, i / 16)) != MQ_OK) {
            return MQ_ERR_NO_MEMORY;
        }
    }
    return MQ_OK;
}

static mq_err restore_tombs(struct queue *q, const ProtobufCBinaryData *d,
                            struct errmsg *e)
{
    if (d->len % TOMB_REC != 0) {
        errmsg_set(e, "gone-message records are %zu bytes, not whole", d->len);
        return MQ_ERR_PROTOCOL;
    }
    for (size_t i = 0; i < d->len; i += TOMB_REC) {
        struct hash128 key = {get_u64(d->data + i), get_u64(d->data + i + 8)};
        uint64_t gone = get_u64(d->data + i + 32);
        int state = (int)(gone & 0xff);
        if (state < TOMB_ACKED || state > TOMB_REDRIVEN || state == 6) {
            errmsg_set(e, "gone-message record with state %d", state);
            return MQ_ERR_PROTOCOL;
        }
        if (tombs_add(&q->tombs, key, get_u64(d->data + i + 16),
                      get_u64(d->data + i + 24), gone >> 8, state) != MQ_OK) {
            return MQ_ERR_NO_MEMORY;
        }
    }
    return MQ_OK;
}

static mq_err restore_subs(struct queue *q, const Mq__V1__QueueSnap *qs,
                           struct errmsg *e)
{
    if (qs->n_subs > QUEUE_MAX_SUBS) {
        errmsg_set(e, "%zu subscriptions, more than %d", qs->n_subs,
                   QUEUE_MAX_SUBS);
        return MQ_ERR_PROTOCOL;
    }
    for (size_t i = 0; i < qs->n_subs; i++) {
        const Mq__V1__SubSnap *ss = qs->subs[i];
        struct sub_config cfg;
        if (pbconv_sub_from(&cfg, ss->config, e) != MQ_OK ||
            sub_config_normalize(&cfg, &q->cfg, e) != MQ_OK) {
            return MQ_ERR_PROTOCOL;
        }
        if (queue_sub(q, cfg.name) != NULL || ss->next_seq == 0) {
            errmsg_set(e, "subscription %s appears twice or has no cursor",
                       cfg.name);
            return MQ_ERR_PROTOCOL;
        }
        struct sub *s = sub_new(&cfg, &q->msgs, ss->created_at_ms);
        if (s == NULL) {
            return MQ_ERR_NO_MEMORY;
        }
        s->next_seq = ss->next_seq;
        s->delivered = ss->delivered;
        s->acked = ss->acked;
        s->dropped = ss->dropped;
        s->dead_lettered = ss->dead_lettered;
        if (queue_add_sub(q, s) != MQ_OK) {
            sub_free(s);
            return MQ_ERR_NO_MEMORY;
        }
        for (size_t k = 0; k < ss->n_pending; k++) {
            const Mq__V1__PendingSnap *p = ss->pending[k];
            mq_err rv = sub_restore_pending(s, p->seq, p->due_ms, p->attempts);
            if (rv == MQ_ERR_PROTOCOL) {
                errmsg_set(e, "subscription %s: bad pending seq %llu", cfg.name,
                           (unsigned long long)p->seq);
            }
            if (rv != MQ_OK) {
                return rv;
            }
            struct pending *pd = hmap_get(&s->by_seq, p->seq);
            pd->delivered_at_ms = p->delivered_at_ms;
            pd->nacked = p->nacked;
        }
        mq_err rv = restore_hist(s, ss, e);
        if (rv != MQ_OK) {
            return rv;
        }
    }
    return MQ_OK;
}

static mq_err restore_dedup(struct queue *q, const ProtobufCBinaryData *d,
                            struct errmsg *e)
{
    if (d->len % DEDUP_REC != 0) {
        errmsg_set(e, "remembered ids are %zu bytes, not whole records",
                   d->len);
        return MQ_ERR_PROTOCOL;
    }
    uint64_t last_at = 0;
    for (size_t i = 0; i < d->len; i += DEDUP_REC) {
        struct hash128 key = {get_u64(d->data + i), get_u64(d->data + i + 8)};
        uint64_t at = get_u64(d->data + i + 24);
        if (at < last_at) {
            errmsg_set(e, "remembered ids out of time order");
            return MQ_ERR_PROTOCOL;
        }
        last_at = at;
        if (dedup_add(&q->dedup, key, get_u64(d->data + i + 16), at) != MQ_OK) {
            return MQ_ERR_NO_MEMORY;
        }
    }
    return MQ_OK;
}

static mq_err restore_msgs(struct queue *q, struct reader *r, uint64_t n,
                           uint64_t last_seq, uint64_t *holes, struct errmsg *e)
{
    for (uint64_t i = 0; i < n; i++) {
        struct msg_rec rec;
        const uint8_t *p = take(r, sizeof rec);
        const uint8_t *blob;
        struct pub_view v;
        if (p == NULL) {
            errmsg_set(e, "truncated message record");
            return MQ_ERR_PROTOCOL;
        }
        memcpy(&rec, p, sizeof rec);
        blob = take(r, rec.blob_len);
        if (blob == NULL) {
            errmsg_set(e, "truncated message %llu",
                       (unsigned long long)rec.seq);
            return MQ_ERR_PROTOCOL;
        }
        if (pub_scan(blob, rec.blob_len, &v, e) != MQ_OK) {
            errmsg_wrap(e, "message %llu", (unsigned long long)rec.seq);
            return MQ_ERR_PROTOCOL;
        }
        struct msg *m = msg_new(blob, rec.blob_len, &v, rec.seq,
                                rec.published_at_ms, rec.deliver_at_ms);
        if (m == NULL) {
            return MQ_ERR_NO_MEMORY;
        }
        mq_err rv = place_msg(q, m, last_seq, holes, e);
        if (rv != MQ_OK) {
            msg_free(m);
            return rv;
        }
    }
    return MQ_OK;
}

static mq_err restore_queue(struct fsm *nf, struct reader *r, struct errmsg *e)
{
    const uint8_t *h = take(r, 8);
    Mq__V1__QueueSnap *qs;
    struct queue_config cfg;
    struct queue *q = NULL;
    uint64_t holes = 0;
    mq_err rv;

    if (h == NULL || get_u32(h + 4) != 0 ||
        (size_t)(r->end - r->p) < get_u32(h)) {
        errmsg_set(e, "truncated queue header");
        return MQ_ERR_PROTOCOL;
    }
    qs = cmd_pb_unpack(&mq__v1__queue_snap__descriptor, get_u32(h), r->p, &rv);
    r->p += get_u32(h);
    if (qs == NULL) {
        errmsg_set(e, rv == MQ_ERR_NO_MEMORY
                          ? "out of memory reading a queue record"
                          : "malformed queue record");
        return rv;
    }
    pbconv_queue_from(&cfg, qs->config);
    rv = queue_config_normalize(&cfg, e);
    if (rv != MQ_OK) {
        rv = MQ_ERR_PROTOCOL;
        goto out;
    }
    q = queue_new(&cfg, qs->created_at_ms, &nf->trash);
    if (q == NULL) {
        rv = MQ_ERR_NO_MEMORY;
        goto out;
    }
    q->msgs.first_seq = qs->first_seq ? qs->first_seq : 1;
    q->msgs.last_seq = q->msgs.first_seq - 1;
    if (qs->last_seq == UINT64_MAX || qs->last_seq + 1 < q->msgs.first_seq) {
        errmsg_set(e, "seqs %llu..%llu out of range",
                   (unsigned long long)qs->first_seq,
                   (unsigned long long)qs->last_seq);
        rv = MQ_ERR_PROTOCOL;
        goto out;
    }
    rv = restore_msgs(q, r, qs->n_msgs, qs->last_seq, &holes, e);
    if (rv == MQ_OK && q->msgs.n_msgs != qs->n_msgs) {
        errmsg_set(e, "%llu messages stored, the record says %llu",
                   (unsigned long long)q->msgs.n_msgs,
                   (unsigned long long)qs->n_msgs);
        rv = MQ_ERR_PROTOCOL;
    }
    if (rv == MQ_OK && q->msgs.n_msgs > 0) {
        rv = count_holes(&holes, qs->last_seq - q->msgs.last_seq, e);
    }
    if (rv == MQ_OK) {
        rv = queue_skip_to(q, qs->last_seq + 1);
    }
    if (rv == MQ_OK) {
        rv = restore_dedup(q, &qs->dedup, e);
    }
    if (rv == MQ_OK) {
        rv = restore_tombs(q, &qs->tombs, e);
    }
    if (rv == MQ_OK) {
        rv = restore_subs(q, qs, e);
    }
    if (rv == MQ_OK && fsm_queue(nf, cfg.name) != NULL) {
        errmsg_set(e, "queue appears twice");
        rv = MQ_ERR_PROTOCOL;
    }
    if (rv == MQ_OK) {
        rv = fsm_add_queue(nf, q);
    }
    if (rv == MQ_OK) {
        q = NULL;
    }
out:
    if (rv != MQ_OK) {
        errmsg_wrap(e, "queue %s", cfg.name);
    }
    queue_free(q);
    mq__v1__queue_snap__free_unpacked(qs, &cmd_pb_alloc);
    return rv;
}

mq_err fsm_restore(struct fsm *f, const void *buf, size_t len, struct errmsg *e)
{
    struct reader r = {buf, (const uint8_t *)buf + len};
    const uint8_t *h = take(&r, SNAP_HEADER);
    struct fsm nf;
    mq_err rv = MQ_OK;

    if (h == NULL || memcmp(h, SNAP_MAGIC, 8) != 0) {
        errmsg_set(e, "not an mq snapshot (bad header)");
        return MQ_ERR_PROTOCOL;
    }
    memset(&nf, 0, sizeof nf);
    keys_init(&nf.keys);
    nf.keys.next_gen = f->keys.next_gen; /* gens never repeat */
    uint32_t nq = get_u32(h + 16);
    for (uint32_t i = 0; i < nq && rv == MQ_OK; i++) {
        rv = restore_queue(&nf, &r, e);
    }
    if (rv == MQ_OK && keys_snap_is_section(r.p, (size_t)(r.end - r.p))) {
        size_t used = 0;
        rv = keys_snap_restore(&nf.keys, r.p, (size_t)(r.end - r.p), &used, e);
        r.p += used;
    }
    if (rv == MQ_OK && r.p != r.end) {
        errmsg_set(e, "%zu bytes after the last queue", (size_t)(r.end - r.p));
        rv = MQ_ERR_PROTOCOL;
    }
    if (rv != MQ_OK) {
        for (size_t i = 0; i < nf.n_queues; i++) {
            queue_free(nf.queues[i]);
        }
        mq_free(nf.queues);
        due_heap_close(&nf.due);
        trash_close(&nf.trash);
        keys_close(&nf.keys);
        return rv;
    }
    /* Swap the new state in; the old messages go through f's trash. */
    for (size_t i = 0; i < f->n_queues; i++) {
        queue_free(f->queues[i]);
    }
    mq_free(f->queues);
    due_heap_close(&f->due);
    f->queues = nf.queues;
    f->n_queues = nf.n_queues;
    f->due = nf.due;
    keys_close(&f->keys);
    f->keys = nf.keys;
    for (size_t i = 0; i < f->n_queues; i++) {
        f->queues[i]->trash = &f->trash;
        f->queues[i]->due_heap = &f->due;
    }
    f->now_ms = get_u64(h + 8);
    fsm_due_update(f, 0);
    return MQ_OK;
}
