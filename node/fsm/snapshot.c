/* snapshot.c: restoring a snapshot (the format: snapshot.h; taking one:
 * snap_take.c).
 *
 * Restoring builds a whole new set of queues and swaps it in only when
 * every byte checked out, so a bad snapshot changes nothing.
 *
 * Restore accepts every state that apply can produce: it checks the format
 * and the invariants the code relies on (seqs in order, pending deliveries
 * below the cursor, ...), never the queues' limits, which apply checks and
 * may leave exceeded (a dead letter or a redrive stores past a "reject"
 * queue's max_bytes), nor the bound of ids and statuses, which the next
 * Command applies (evict.h). */
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
#include "snapshot.h"

/* A queue's ring has a slot for every seq from its first stored message to
 * its last seq, stored or removed. Restore refuses a queue with more removed
 * seqs than this between (and after) its stored messages, rather than
 * allocating and filling slots without end for a corrupted seq. A reachable
 * state has such gaps only where messages were removed from the middle. */
#define SNAP_MAX_HOLES (1u << 24)

#define get_u32 snap_get_u32
#define get_u64 snap_get_u64

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
        struct sub *s = sub_new(&cfg, &q->msgs, ss->created_at_ms, q->ctx);
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

static mq_err restore_queue(struct fsm *f, struct fsm *nf, struct reader *r,
                            struct errmsg *e)
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
    q = queue_new(&cfg, qs->created_at_ms, &f->ctx);
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
    /* A snapshot being taken (raft does not install one meanwhile) takes
     * the queues this replaces first. */
    (void)fsm_snapshot_step(f, SIZE_MAX);
    /* The new queues count in f's totals (and go through f's trash) from
     * the start: freeing them on failure takes back what they added. */
    memset(&nf, 0, sizeof nf);
    due_heap_init(&nf.due);
    evict_heap_init(&nf.ids_heap);
    keys_init(&nf.keys);
    nf.keys.next_gen = f->keys.next_gen; /* gens never repeat */
    uint32_t nq = get_u32(h + 16);
    for (uint32_t i = 0; i < nq && rv == MQ_OK; i++) {
        rv = restore_queue(f, &nf, &r, e);
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
        evict_heap_close(&nf.ids_heap);
        keys_close(&nf.keys);
        return rv;
    }
    /* Swap the new state in; the old messages go through f's trash. */
    for (size_t i = 0; i < f->n_queues; i++) {
        queue_free(f->queues[i]);
    }
    mq_free(f->queues);
    due_heap_close(&f->due);
    evict_heap_close(&f->ids_heap);
    f->queues = nf.queues;
    f->n_queues = nf.n_queues;
    f->queues_cap = nf.queues_cap;
    f->due = nf.due;
    f->ids_heap = nf.ids_heap;
    keys_close(&f->keys);
    f->keys = nf.keys;
    for (size_t i = 0; i < f->n_queues; i++) {
        f->queues[i]->due_heap = &f->due;
        f->queues[i]->ids_heap = &f->ids_heap;
    }
    f->now_ms = get_u64(h + 8);
    fsm_due_update(f, 0);
    return MQ_OK;
}
