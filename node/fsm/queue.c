/* queue.c: a queue's settings and limits over its ring of messages
 * (ring.c), the ids and statuses it remembers, and its subscriptions. */
#include "queue.h"

#include <string.h>

#include "alloc.h"
#include "mstime.h"

struct queue *queue_new(const struct queue_config *cfg, uint64_t now_ms,
                        struct fsm_ctx *ctx)
{
    struct queue *q = mq_calloc(1, sizeof *q);
    if (q == NULL) {
        return NULL;
    }
    q->cfg = *cfg;
    q->created_at_ms = now_ms;
    q->ctx = ctx;
    ring_init(&q->msgs, &ctx->msg_bytes);
    dedup_init(&q->dedup);
    dedup_own(&q->dedup, &ctx->trash, &ctx->ids_bytes);
    tombs_init(&q->tombs);
    tombs_own(&q->tombs, &ctx->trash, &ctx->ids_bytes);
    q->due.at_ms = UINT64_MAX;
    q->due.idx = DUE_NOT_IN_HEAP;
    due_times_init(&q->delayed);
    q->ids.at_ms = UINT64_MAX;
    q->ids.idx = EVICT_NOT_IN_HEAP;
    q->snap_gen = ctx->snap_gen; /* not in a snapshot begun before */
    return q;
}

void queue_free(struct queue *q)
{
    if (q == NULL) {
        return;
    }
    for (uint64_t seq = q->msgs.first_seq; seq <= q->msgs.last_seq; seq++) {
        struct msg *m = ring_get(&q->msgs, seq);
        if (m) {
            trash_put(&q->ctx->trash, m);
        }
    }
    ring_close(&q->msgs);
    for (size_t i = 0; i < q->n_subs; i++) {
        sub_free(q->subs[i]);
    }
    mq_free(q->subs);
    q->subs = NULL;
    q->n_subs = 0;
    dedup_close(&q->dedup);
    tombs_close(&q->tombs);
    if (q->due_heap != NULL) {
        due_heap_remove(q->due_heap, &q->due);
    }
    if (q->ids_heap != NULL) {
        evict_heap_remove(q->ids_heap, &q->ids);
    }
    due_times_close(&q->delayed);
    trash_put_block(&q->ctx->trash, &q->shell, q);
}

void queue_ids_added(struct queue *q, uint64_t at_ms)
{
    evict_lower(q->ids_heap, &q->ids, at_ms);
}

mq_err queue_skip_to(struct queue *q, uint64_t seq)
{
    return ring_skip_to(&q->msgs, seq);
}

static int is_delayed(const struct msg *m)
{
    return m->rec.deliver_at_ms > m->rec.published_at_ms;
}

/* Rebuilds the delayed messages by deliver time from the stored ones, once
 * most of them are gone (cancelled, purged, dropped before they were due):
 * their pairs would stay until their time, up to max_delay_ms. Needs no
 * memory: fewer pairs than before. */
static void compact_delayed(struct queue *q)
{
    if (q->delayed.len <= 2 * q->msgs.n_delayed + 64) {
        return;
    }
    due_times_clear(&q->delayed);
    for (uint64_t seq = q->msgs.first_seq; seq <= q->msgs.last_seq; seq++) {
        const struct msg *m = ring_get(&q->msgs, seq);
        if (m != NULL && is_delayed(m)) {
            due_times_push(&q->delayed, m->rec.deliver_at_ms, seq);
        }
    }
}

/* Removes stored message @seq, whose status record has room (reserved). */
static void remove_reserved(struct queue *q, uint64_t seq, int why,
                            uint64_t now_ms)
{
    struct msg *m = ring_take(&q->msgs, seq);
    q->counts.expired += why == TOMB_EXPIRED;
    mq_err rv = tombs_add(&q->tombs, hash128(m->blob + m->id_off, m->id_len),
                          seq, m->rec.published_at_ms, now_ms, why);
    (void)rv; /* reserved: cannot fail */
    /* Past status_max, the oldest goes now (a pop keeps the room
     * reserved for the statuses still to come). */
    while (tombs_len(&q->tombs) > q->cfg.status_max) {
        tombs_pop(&q->tombs);
    }
    due_heap_lower(q->due_heap, &q->due,
                   mstime_add(now_ms, q->cfg.status_ttl_ms));
    queue_ids_added(q, now_ms);
    if (is_delayed(m)) {
        compact_delayed(q);
    }
    trash_put(&q->ctx->trash, m);
    for (size_t i = 0; i < q->n_subs; i++) {
        sub_forget(q->subs[i], seq);
    }
}

mq_err queue_remove_why(struct queue *q, uint64_t seq, int why, uint64_t now_ms)
{
    if (queue_get(q, seq) == NULL) {
        return MQ_OK;
    }
    /* Room for its status first: then nothing can fail half-way. */
    if (tombs_reserve(&q->tombs, 1) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    remove_reserved(q, seq, why, now_ms);
    return MQ_OK;
}

mq_err queue_remove(struct queue *q, uint64_t seq)
{
    struct msg *m = queue_get(q, seq);
    if (m == NULL) {
        return MQ_OK;
    }
    return queue_remove_why(q, seq, TOMB_EXPIRED, m->rec.published_at_ms);
}

mq_err queue_purge(struct queue *q, uint64_t now_ms)
{
    if (tombs_reserve(&q->tombs, q->msgs.n_msgs) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    while (q->msgs.n_msgs > 0) {
        remove_reserved(q, q->msgs.first_seq, TOMB_PURGED, now_ms);
    }
    due_times_clear(&q->delayed);
    return MQ_OK;
}

struct msg *queue_find_id(const struct queue *q, const char *id, size_t len)
{
    const struct dedup_entry *d = dedup_find(&q->dedup, hash128(id, len));
    if (d != NULL) {
        struct msg *m = queue_get(q, d->seq);
        if (m && m->id_len == len &&
            memcmp(m->blob + m->id_off, id, len) == 0) {
            return m;
        }
    }
    for (uint64_t seq = q->msgs.first_seq; seq <= q->msgs.last_seq; seq++) {
        struct msg *m = queue_get(q, seq);
        if (m && m->id_len == len &&
            memcmp(m->blob + m->id_off, id, len) == 0) {
            return m;
        }
    }
    return NULL;
}

mq_err queue_check_room(const struct queue *q, size_t bytes, struct errmsg *e)
{
    if (q->cfg.discard != MQ_DISCARD_REJECT) {
        return MQ_OK;
    }
    if (q->cfg.max_messages && q->msgs.n_msgs + 1 > q->cfg.max_messages) {
        errmsg_set(
            e,
            "queue %s is full: max_messages %llu reached (%llu "
            "stored; one more is %llu over)",
            q->cfg.name, (unsigned long long)q->cfg.max_messages,
            (unsigned long long)q->msgs.n_msgs,
            (unsigned long long)(q->msgs.n_msgs + 1 - q->cfg.max_messages));
        return MQ_ERR_FULL;
    }
    if (q->cfg.max_bytes && q->msgs.n_bytes + bytes > q->cfg.max_bytes) {
        errmsg_set(
            e,
            "queue %s is full: max_bytes %llu reached (%llu bytes "
            "stored; this message of %zu bytes is %llu over)",
            q->cfg.name, (unsigned long long)q->cfg.max_bytes,
            (unsigned long long)q->msgs.n_bytes, bytes,
            (unsigned long long)(q->msgs.n_bytes + bytes - q->cfg.max_bytes));
        return MQ_ERR_FULL;
    }
    return MQ_OK;
}

/* Message @m was just stored (with room reserved for its delayed pair):
 * what it will make fall due. */
static void note_due(struct queue *q, const struct msg *m)
{
    if (q->cfg.max_age_ms) {
        due_heap_lower(q->due_heap, &q->due,
                       mstime_add(m->rec.published_at_ms, q->cfg.max_age_ms));
    }
    if (is_delayed(m)) {
        due_times_push(&q->delayed, m->rec.deliver_at_ms, m->rec.seq);
        due_heap_lower(q->due_heap, &q->due, m->rec.deliver_at_ms);
    }
}

/* How many of the oldest messages must go, under discard "old", for a
 * message of @bytes more to fit: while more than one message is left,
 * oldest first, until both limits hold. */
static size_t count_to_discard(const struct queue *q, size_t bytes)
{
    uint64_t n = q->msgs.n_msgs + 1, total = q->msgs.n_bytes + bytes;
    size_t k = 0;
    for (uint64_t seq = q->msgs.first_seq;
         n > 1 && ((q->cfg.max_messages && n > q->cfg.max_messages) ||
                   (q->cfg.max_bytes && total > q->cfg.max_bytes));
         seq++) {
        const struct msg *old = ring_get(&q->msgs, seq);
        if (old != NULL) {
            n--;
            total -= old->rec.blob_len;
            k++;
        }
    }
    return k;
}

mq_err queue_append(struct queue *q, struct msg *m, int force, struct errmsg *e)
{
    mq_err rv = force ? MQ_OK : queue_check_room(q, m->rec.blob_len, e);
    if (rv != MQ_OK) {
        return rv;
    }
    /* Everything that can fail comes first (room for the status of each
     * message discarded, then the slot), so that a failure changes
     * nothing that is replicated and a success does all of it. */
    size_t k = count_to_discard(q, m->rec.blob_len);
    if (tombs_reserve(&q->tombs, k) != MQ_OK ||
        (is_delayed(m) && due_times_reserve(&q->delayed, 1) != MQ_OK)) {
        return MQ_ERR_NO_MEMORY;
    }
    rv = ring_put(&q->msgs, m);
    if (rv != MQ_OK) {
        return rv;
    }
    note_due(q, m);
    q->counts.published++;
    for (size_t i = 0; i < k; i++) {
        remove_reserved(q, q->msgs.first_seq, TOMB_EXPIRED,
                        m->rec.published_at_ms);
    }
    return MQ_OK;
}

mq_err queue_set_config(struct queue *q, const struct queue_config *cfg,
                        uint64_t now_ms)
{
    uint64_t n = q->msgs.n_msgs, bytes = q->msgs.n_bytes;
    size_t k = 0;

    /* How many of the oldest must go for the new limits to hold. */
    for (uint64_t seq = q->msgs.first_seq;
         cfg->discard == MQ_DISCARD_OLD && n > 0 &&
         ((cfg->max_messages && n > cfg->max_messages) ||
          (cfg->max_bytes && bytes > cfg->max_bytes));
         seq++) {
        const struct msg *old = ring_get(&q->msgs, seq);
        if (old != NULL) {
            n--;
            bytes -= old->rec.blob_len;
            k++;
        }
    }
    /* Room for their statuses first: then nothing fails half-way. */
    if (tombs_reserve(&q->tombs, k) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    q->cfg = *cfg;
    for (size_t i = 0; i < k; i++) {
        remove_reserved(q, q->msgs.first_seq, TOMB_EXPIRED, now_ms);
    }
    while (tombs_len(&q->tombs) > q->cfg.status_max) {
        tombs_pop(&q->tombs); /* a lowered status_max holds at once */
    }
    /* A shorter max age, status ttl or duplicate window may make something
     * due sooner than the queue's bound says: due now, worked out again
     * when the Command's ops are done (fsm_due_update). */
    due_heap_lower(q->due_heap, &q->due, now_ms);
    return MQ_OK;
}

const struct msg *queue_sub_oldest(const struct queue *q, const struct sub *s)
{
    uint64_t seq =
        s->next_seq < q->msgs.first_seq ? q->msgs.first_seq : s->next_seq;
    const struct msg *m = s->first != NULL ? queue_get(q, s->first->seq) : NULL;

    for (int i = 0; m == NULL && i < 1024 && seq <= q->msgs.last_seq;
         i++, seq++) {
        m = queue_get(q, seq);
    }
    return m;
}

mq_err queue_restore_msg(struct queue *q, struct msg *m)
{
    if ((is_delayed(m) && due_times_reserve(&q->delayed, 1) != MQ_OK) ||
        ring_put(&q->msgs, m) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    note_due(q, m);
    return MQ_OK;
}

uint64_t queue_next_due(struct queue *q, uint64_t now_ms, int *became_due)
{
    uint64_t t = UINT64_MAX;
    const struct due_time *d;

    *became_due = 0;
    if (q->cfg.max_age_ms && q->msgs.n_msgs > 0) {
        const struct msg *m = ring_get(&q->msgs, q->msgs.first_seq);
        t = mstime_add(m->rec.published_at_ms, q->cfg.max_age_ms);
    }
    if (tombs_len(&q->tombs) > 0) {
        uint64_t x = mstime_add(tomb_gone_at(tombs_at(&q->tombs, 0)),
                                q->cfg.status_ttl_ms);
        t = x < t ? x : t;
    }
    if (dedup_len(&q->dedup) > 0) {
        uint64_t x = mstime_add(mstime_add(dedup_at(&q->dedup, 0)->at_ms,
                                           q->cfg.duplicate_window_ms),
                                DEDUP_EXPIRE_SLACK_MS);
        t = x < t ? x : t;
    }
    while ((d = due_times_top(&q->delayed)) != NULL) {
        const struct msg *m = ring_get(&q->msgs, d->seq);
        if (m != NULL && m->rec.deliver_at_ms == d->at_ms) {
            if (d->at_ms > now_ms) {
                t = d->at_ms < t ? d->at_ms : t;
                break;
            }
            *became_due = 1;
        }
        due_times_pop(&q->delayed); /* due, or gone */
    }
    return t;
}

mq_err queue_trim(struct queue *q, uint64_t now_ms)
{
    mq_err rv = MQ_OK;
    if (q->cfg.max_age_ms) {
        while (q->msgs.first_seq <= q->msgs.last_seq && rv == MQ_OK) {
            struct msg *m = ring_get(&q->msgs, q->msgs.first_seq);
            if (mstime_add(m->rec.published_at_ms, q->cfg.max_age_ms) >
                now_ms) {
                break;
            }
            rv = queue_remove_why(q, q->msgs.first_seq, TOMB_EXPIRED, now_ms);
        }
    }
    if (q->cfg.retention == MQ_RETENTION_WORK && q->n_subs > 0) {
        uint64_t floor = UINT64_MAX;
        for (size_t i = 0; i < q->n_subs; i++) {
            uint64_t f = sub_ack_floor(q->subs[i]);
            if (f < floor) {
                floor = f;
            }
        }
        while (q->msgs.first_seq <= q->msgs.last_seq &&
               q->msgs.first_seq <= floor && rv == MQ_OK) {
            int why = TOMB_ACKED;
            for (size_t i = 0; i < q->n_subs; i++) {
                if (sub_dead_lettered(q->subs[i], q->msgs.first_seq)) {
                    why = TOMB_DEAD_LETTERED;
                }
            }
            rv = queue_remove_why(q, q->msgs.first_seq, why, now_ms);
        }
    }
    tombs_expire(&q->tombs, now_ms, q->cfg.status_ttl_ms, q->cfg.status_max);
    tombs_shrink(&q->tombs);
    /* Ids past their window and its slack: what queue_next_due says, so
     * that trimming a queue before its due time changes nothing. */
    dedup_expire(&q->dedup, now_ms,
                 mstime_add(q->cfg.duplicate_window_ms, DEDUP_EXPIRE_SLACK_MS));
    return rv;
}

struct sub *queue_sub(const struct queue *q, const char *name)
{
    for (size_t i = 0; i < q->n_subs; i++) {
        if (strcmp(q->subs[i]->cfg.name, name) == 0) {
            return q->subs[i];
        }
    }
    return NULL;
}

mq_err queue_add_sub(struct queue *q, struct sub *s)
{
    struct sub **subs = mq_realloc(q->subs, (q->n_subs + 1) * sizeof *subs);
    if (subs == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    q->subs = subs;
    q->subs[q->n_subs++] = s;
    return MQ_OK;
}

mq_err queue_del_sub(struct queue *q, const char *name)
{
    for (size_t i = 0; i < q->n_subs; i++) {
        if (strcmp(q->subs[i]->cfg.name, name) == 0) {
            sub_free(q->subs[i]);
            memmove(&q->subs[i], &q->subs[i + 1],
                    (q->n_subs - i - 1) * sizeof *q->subs);
            q->n_subs--;
            return MQ_OK;
        }
    }
    return MQ_ERR_NOT_FOUND;
}
