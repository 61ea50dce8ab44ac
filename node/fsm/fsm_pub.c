/* fsm_pub.c: storing messages: publishing (one by one or all-or-nothing),
 * moving dead letters to a dead-letter queue, and moving them back
 * (redrive). Every decision uses the Command's time and the replicated
 * state only. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "fsm_internal.h"
#include "hash.h"
#include "log.h"
#include "msg.h"
#include "mstime.h"
#include "names.h"
#include "pbscan.h"

#define DL_PREFIX "x-dead-letter-"

/* Checks one published message against @q before storing it: well formed,
 * within the size limit, with an id and an acceptable delay. */
static mq_err check_pub(const struct queue *q, const ProtobufCBinaryData *raw,
                        struct pub_view *v, struct errmsg *e)
{
    mq_err rv = pub_scan(raw->data, raw->len, v, e);
    if (rv != MQ_OK) {
        return rv;
    }
    if (raw->len > q->cfg.max_message_bytes) {
        errmsg_set(e, "message is %zu bytes, queue %s takes at most %u",
                   raw->len, q->cfg.name, q->cfg.max_message_bytes);
        return MQ_ERR_TOO_LARGE;
    }
    if (v->id_len == 0) {
        errmsg_set(e, "message has no id");
        return MQ_ERR_INVALID;
    }
    if (v->delay_ms > q->cfg.max_delay_ms) {
        errmsg_set(e, "delay of %llu ms is over queue %s max_delay_ms %llu",
                   (unsigned long long)v->delay_ms, q->cfg.name,
                   (unsigned long long)q->cfg.max_delay_ms);
        return MQ_ERR_INVALID;
    }
    return MQ_OK;
}

/* Stores @blob (described by @v) as the next message of @q. @force skips
 * the room check (moves between queues never fail for room). */
static mq_err store(struct fsm *f, struct queue *q, const uint8_t *blob,
                    size_t len, const struct pub_view *v, struct hash128 key,
                    int force, struct fsm_pub *out)
{
    uint64_t delay = v->delay_ms ? v->delay_ms : q->cfg.delay_ms;
    struct msg *m;
    mq_err rv;

    fsm_touch(f, q); /* before it changes (a dead-letter queue, say) */
    if (!force) {
        out->err = queue_check_room(q, len, &out->e);
        if (out->err != MQ_OK) {
            return MQ_OK;
        }
    }
    /* What can fail comes first: the message, room for its id, then the
     * append (which allocates before it changes anything). */
    m = msg_new(blob, len, v, q->msgs.last_seq + 1, f->now_ms,
                mstime_add(f->now_ms, delay));
    if (m == NULL || dedup_reserve(&q->dedup, 1) != MQ_OK) {
        msg_free(m);
        return MQ_ERR_NO_MEMORY;
    }
    /* A move (@force) is stored even at the limits of a "reject" queue,
     * whose oldest messages then make room as under "old". */
    rv = queue_append(q, m, force, &out->e);
    if (rv != MQ_OK) {
        msg_free(m); /* room was checked: only NO_MEMORY gets here */
        return MQ_ERR_NO_MEMORY;
    }
    rv = dedup_add(&q->dedup, key, m->rec.seq, f->now_ms);
    (void)rv; /* reserved: cannot fail */
    /* Its id leaves the window then (due.h; a second later at most, so
     * that ids published over a while leave in a few Commands, not one
     * each), and counts among the ids and statuses (evict.h). */
    due_heap_lower(q->due_heap, &q->due,
                   mstime_add(mstime_add(f->now_ms, q->cfg.duplicate_window_ms),
                              DEDUP_EXPIRE_SLACK_MS));
    queue_ids_added(q, f->now_ms);
    out->seq = m->rec.seq;
    return MQ_OK;
}

static void pub_reset(struct fsm_pub *p)
{
    p->err = MQ_OK;
    p->duplicate = 0;
    p->seq = 0;
    p->e.msg[0] = '\0';
}

/* All-or-nothing: checks every message and the room for them all first. */
static int atomic_refused(const struct queue *q, const Mq__V1__PublishOp *op,
                          struct fsm_pub *pubs)
{
    struct errmsg e = ERRMSG_INIT;
    size_t n_new = 0, bytes = 0, bad = 0;
    mq_err err = MQ_OK;

    for (size_t i = 0; i < op->n_messages; i++) {
        struct pub_view v;
        err = check_pub(q, &op->messages[i], &v, &e);
        if (err != MQ_OK) {
            bad = i;
            break;
        }
        if (dedup_find(&q->dedup, hash128(op->messages[i].data + v.id_off,
                                          v.id_len)) == NULL) {
            n_new++;
            bytes += op->messages[i].len;
        }
    }
    if (err == MQ_OK && q->cfg.discard == MQ_DISCARD_REJECT &&
        ((q->cfg.max_messages &&
          q->msgs.n_msgs + n_new > q->cfg.max_messages) ||
         (q->cfg.max_bytes && q->msgs.n_bytes + bytes > q->cfg.max_bytes))) {
        err = MQ_ERR_FULL;
        errmsg_set(&e, "queue %s has no room for the %zu new messages",
                   q->cfg.name, n_new);
        bad = SIZE_MAX;
    }
    if (err == MQ_OK) {
        return 0;
    }
    for (size_t i = 0; i < op->n_messages; i++) {
        pubs[i].err = err;
        if (bad == SIZE_MAX) {
            errmsg_set(&pubs[i].e, "batch refused: %s", e.msg);
        } else {
            errmsg_set(&pubs[i].e, "batch refused: message %zu: %s", bad + 1,
                       e.msg);
        }
    }
    return 1;
}

mq_err fsm_apply_publish(struct fsm *f, const Mq__V1__PublishOp *op,
                         struct fsm_op_result *r)
{
    struct queue *q = fsm_find_queue(f, op->queue, r);
    if (q == NULL) {
        return MQ_OK;
    }
    if (fsm_reserve((void **)&f->pubs, &f->pubs_cap, f->n_pubs + op->n_messages,
                    sizeof *f->pubs) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    dedup_expire(&q->dedup, f->now_ms, q->cfg.duplicate_window_ms);
    r->first = f->n_pubs;
    r->n = op->n_messages;
    struct fsm_pub *pubs = &f->pubs[f->n_pubs];
    f->n_pubs += op->n_messages;
    for (size_t i = 0; i < op->n_messages; i++) {
        pub_reset(&pubs[i]);
    }
    if (op->atomic && atomic_refused(q, op, pubs)) {
        return MQ_OK;
    }
    uint64_t before = q->msgs.last_seq;
    for (size_t i = 0; i < op->n_messages; i++) {
        const ProtobufCBinaryData *raw = &op->messages[i];
        struct fsm_pub *p = &pubs[i];
        struct pub_view v;
        p->err = check_pub(q, raw, &v, &p->e);
        if (p->err != MQ_OK) {
            continue;
        }
        struct hash128 key = hash128(raw->data + v.id_off, v.id_len);
        const struct dedup_entry *dup = dedup_find(&q->dedup, key);
        if (dup != NULL) {
            q->counts.duplicates++;
            p->duplicate = 1;
            p->seq = dup->seq;
            continue;
        }
        mq_err rv = store(f, q, raw->data, raw->len, &v, key, 0, p);
        if (rv != MQ_OK) {
            return rv;
        }
    }
    if (q->msgs.last_seq != before && f->on_publish) {
        f->on_publish(f->on_publish_arg, q);
    }
    return MQ_OK;
}

/* The dead-letter queue of @q, created on first use, in *@out; NULL when
 * it cannot exist (its name, with the default of a dead-letter queue's own
 * settings, is refused: the same on every replica). Returns MQ_OK or
 * MQ_ERR_NO_MEMORY, which must stop the node rather than drop the dead
 * letter on this replica alone. */
static mq_err dlq_of(struct fsm *f, const struct queue *q, struct queue **out)
{
    struct queue *d = fsm_queue(f, q->cfg.dead_letter_queue);
    struct queue_config cfg;
    *out = d;
    if (d != NULL) {
        return MQ_OK;
    }
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.name, sizeof cfg.name, "%s", q->cfg.dead_letter_queue);
    /* Its own dead letters would go to "<name>.dlq": a dead-letter queue
     * is its own end (dead letters of it are dropped, see below). */
    if (queue_config_normalize(&cfg, NULL) != MQ_OK) {
        return MQ_OK;
    }
    d = queue_new(&cfg, f->now_ms, &f->ctx);
    if (d == NULL || fsm_add_queue(f, d) != MQ_OK) {
        queue_free(d);
        return MQ_ERR_NO_MEMORY;
    }
    fsm_note(f, LOG_LEVEL_INFO, "created dead-letter queue %s for %s", cfg.name,
             q->cfg.name);
    *out = d;
    return MQ_OK;
}

/* Moves message @d->seq of @q, given up by @s, into the dead-letter queue,
 * with headers naming where it came from and why. */
static mq_err dead_letter(struct fsm *f, struct queue *q, struct sub *s,
                          const struct dead_letter *d, const char *term_reason)
{
    struct msg *m = queue_get(q, d->seq);
    char id[40], seq[24], attempts[16], reason[160], orig[MQ_ID_MAX + 1];
    struct pub_view v;
    struct fsm_pub res;
    struct errmsg e = ERRMSG_INIT;
    mq_err rv;

    struct queue *dlq = NULL;
    if (subhist_dead(&s->hist, d->seq, f->now_ms, d->attempts) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    s->dead_lettered++;
    q->counts.dead_lettered++;
    if (m == NULL) {
        return MQ_OK; /* already gone from the queue */
    }
    if (dlq_of(f, q, &dlq) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    if (dlq == NULL || dlq == q) {
        s->dropped++;
        return MQ_OK;
    }
    char key_text[MQ_QNAME_MAX + MQ_NAME_MAX + 24];
    int kl = snprintf(key_text, sizeof key_text, "%s/%s/%llu", q->cfg.name,
                      s->cfg.name, (unsigned long long)d->seq);
    struct hash128 h = hash128(key_text, (size_t)kl);
    snprintf(id, sizeof id, "dl-%016llx%016llx", (unsigned long long)h.hi,
             (unsigned long long)h.lo);
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)d->seq);
    snprintf(attempts, sizeof attempts, "%u", d->attempts);
    if (d->term) {
        snprintf(reason, sizeof reason, "term%s%s",
                 term_reason && term_reason[0] ? ": " : "",
                 term_reason ? term_reason : "");
    } else {
        snprintf(reason, sizeof reason, "max deliveries %u reached",
                 s->cfg.max_deliveries);
    }
    snprintf(orig, sizeof orig, "%.*s", (int)m->id_len, m->blob + m->id_off);
    struct pub_header add[] = {
        {DL_PREFIX "queue", q->cfg.name},
        {DL_PREFIX "subscription", s->cfg.name},
        {DL_PREFIX "seq", seq},
        {DL_PREFIX "attempts", attempts},
        {DL_PREFIX "reason", reason},
        {DL_PREFIX "original-id", orig},
    };
    size_t n_add = sizeof add / sizeof add[0];
    uint8_t *blob =
        mq_malloc(pub_rewrite_size(m->rec.blob_len, id, add, n_add));
    if (blob == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    size_t len =
        pub_rewrite(m->blob, m->rec.blob_len, id, DL_PREFIX, add, n_add, blob);
    rv = pub_scan(blob, len, &v, &e);
    if (rv != MQ_OK) { /* headers over the limit: dropped, not moved */
        fsm_note(f, LOG_LEVEL_WARN, "dead letter %s seq %llu not moved: %s",
                 q->cfg.name, (unsigned long long)d->seq, e.msg);
        mq_free(blob);
        s->dropped++;
        return MQ_OK;
    }
    pub_reset(&res);
    struct hash128 key = hash128(id, strlen(id));
    rv = dedup_find(&dlq->dedup, key) != NULL
             ? MQ_OK
             : store(f, dlq, blob, len, &v, key, 1, &res);
    mq_free(blob);
    if (rv == MQ_OK && f->on_publish) {
        f->on_publish(f->on_publish_arg, dlq);
    }
    return rv;
}

mq_err fsm_dead_letters(struct fsm *f, struct queue *q, struct sub *s,
                        const char *term_reason)
{
    mq_err rv = MQ_OK;
    for (size_t i = 0; i < s->n_dl && rv == MQ_OK; i++) {
        rv = dead_letter(f, q, s, &s->dl[i], term_reason);
    }
    s->n_dl = 0;
    return rv;
}

/* The original id of a dead letter, from its header; 0 if none. */
static size_t original_id(const struct msg *m, char *out, size_t size)
{
    static const char key[] = DL_PREFIX "original-id";
    const uint8_t *p = m->blob, *end = m->blob + m->rec.blob_len;
    while (p < end) {
        uint64_t tag, len;
        if (pb_get_varint(&p, end, &tag) != 0) {
            return 0;
        }
        if ((tag & 7) == 0) {
            uint64_t ignored;
            if (pb_get_varint(&p, end, &ignored) != 0) {
                return 0;
            }
            continue;
        }
        if (pb_get_varint(&p, end, &len) != 0 || len > (uint64_t)(end - p)) {
            return 0;
        }
        const uint8_t *h = p, *hend = p + len;
        p += len;
        if ((tag >> 3) != 3) {
            continue;
        }
        /* A header: key (field 1) then value (field 2). */
        const uint8_t *k = NULL, *val = NULL;
        uint64_t klen = 0, vlen = 0;
        while (h < hend) {
            uint64_t t, l;
            if (pb_get_varint(&h, hend, &t) != 0 ||
                pb_get_varint(&h, hend, &l) != 0 || l > (uint64_t)(hend - h)) {
                break;
            }
            if ((t >> 3) == 1) {
                k = h;
                klen = l;
            } else {
                val = h;
                vlen = l;
            }
            h += l;
        }
        if (k && val && klen == sizeof key - 1 && memcmp(k, key, klen) == 0 &&
            vlen > 0 && vlen < size &&
            id_check((const char *)val, vlen, NULL) == MQ_OK) {
            memcpy(out, val, vlen);
            out[vlen] = '\0';
            return vlen;
        }
    }
    return 0;
}

mq_err fsm_apply_redrive(struct fsm *f, const Mq__V1__RedriveOp *op,
                         struct fsm_op_result *r)
{
    struct queue *from = fsm_find_queue(f, op->from, r);
    struct queue *to = from ? fsm_find_queue(f, op->to, r) : NULL;
    uint32_t max = op->max_messages;

    if (to == NULL) {
        return MQ_OK;
    }
    if (from == to) {
        r->err = MQ_ERR_INVALID;
        errmsg_set(&r->e, "cannot redrive %s into itself", from->cfg.name);
        return MQ_OK;
    }
    if (max == 0 || max > MQ_MAX_BATCH) {
        max = max == 0 ? 1 : MQ_MAX_BATCH;
    }
    uint64_t before = to->msgs.last_seq;
    while (r->done < max && from->msgs.n_msgs > 0) {
        struct msg *m = queue_get(from, from->msgs.first_seq);
        char orig[MQ_ID_MAX + 1];
        size_t olen = original_id(m, orig, sizeof orig);
        uint8_t *blob = mq_malloc(
            pub_rewrite_size(m->rec.blob_len, olen ? orig : NULL, NULL, 0));
        struct pub_view v;
        struct fsm_pub res;
        if (blob == NULL) {
            return MQ_ERR_NO_MEMORY;
        }
        size_t len = pub_rewrite(m->blob, m->rec.blob_len, olen ? orig : NULL,
                                 DL_PREFIX, NULL, 0, blob);
        mq_err rv = pub_scan(blob, len, &v, NULL);
        if (rv == MQ_OK) {
            pub_reset(&res);
            /* A move: stored even if the id is still remembered. */
            rv = store(f, to, blob, len, &v, hash128(blob + v.id_off, v.id_len),
                       1, &res);
        } else {
            rv = MQ_OK; /* cannot happen: it was a valid message */
        }
        mq_free(blob);
        if (rv != MQ_OK) {
            return rv;
        }
        rv = queue_remove_why(from, m->rec.seq, TOMB_REDRIVEN, f->now_ms);
        if (rv != MQ_OK) {
            return rv;
        }
        r->done++;
    }
    r->remaining = from->msgs.n_msgs;
    if (to->msgs.last_seq != before && f->on_publish) {
        f->on_publish(f->on_publish_arg, to);
    }
    return MQ_OK;
}
