/* queue.c: a queue's messages in a ring of slots indexed by seq. Removing
 * a message from the middle leaves a NULL slot; the ring's front is
 * trimmed so that slot 0 always holds a message (or the ring is empty). */
#include "queue.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "mstime.h"
#include "names.h"

mq_err queue_config_normalize(struct queue_config *cfg, struct errmsg *e)
{
    char full[MQ_QNAME_MAX + 1];
    mq_err rv = qname_normalize(cfg->name, full, e);
    if (rv != MQ_OK) {
        return rv;
    }
    memcpy(cfg->name, full, sizeof full);
    if (cfg->retention != MQ_RETENTION_LIMITS &&
        cfg->retention != MQ_RETENTION_WORK) {
        errmsg_set(e, "retention must be limits or work");
        return MQ_ERR_INVALID;
    }
    if (cfg->discard != MQ_DISCARD_OLD && cfg->discard != MQ_DISCARD_REJECT) {
        errmsg_set(e, "discard must be old or reject");
        return MQ_ERR_INVALID;
    }
    if (cfg->max_message_bytes == 0) {
        cfg->max_message_bytes = QUEUE_DEFAULT_MAX_MESSAGE_BYTES;
    }
    if (cfg->max_message_bytes > QUEUE_MAX_MESSAGE_BYTES_LIMIT) {
        errmsg_set(e, "max_message_bytes %u is over the limit of %u",
                   cfg->max_message_bytes, QUEUE_MAX_MESSAGE_BYTES_LIMIT);
        return MQ_ERR_INVALID;
    }
    if (cfg->duplicate_window_ms == 0) {
        cfg->duplicate_window_ms = QUEUE_DEFAULT_DUPLICATE_WINDOW_MS;
    }
    if (cfg->ack_timeout_ms == 0) {
        cfg->ack_timeout_ms = QUEUE_DEFAULT_ACK_TIMEOUT_MS;
    }
    if (cfg->max_delay_ms == 0) {
        cfg->max_delay_ms = QUEUE_DEFAULT_MAX_DELAY_MS;
    }
    if (cfg->delay_ms > cfg->max_delay_ms) {
        errmsg_set(e, "delay_ms %llu is over max_delay_ms %llu",
                   (unsigned long long)cfg->delay_ms,
                   (unsigned long long)cfg->max_delay_ms);
        return MQ_ERR_INVALID;
    }
    if (cfg->status_ttl_ms == 0) {
        cfg->status_ttl_ms = QUEUE_DEFAULT_STATUS_TTL_MS;
    }
    if (cfg->status_max == 0) {
        cfg->status_max = QUEUE_DEFAULT_STATUS_MAX;
    }
    if (cfg->dead_letter_queue[0] == '\0') {
        /* "<ns>/<name>.dlq"; a name too long for the suffix keeps 60
         * characters of it. */
        const char *slash = strchr(full, '/');
        snprintf(cfg->dead_letter_queue, sizeof cfg->dead_letter_queue,
                 "%.*s/%.*s.dlq", (int)(slash - full), full, MQ_NAME_MAX - 4,
                 slash + 1);
    } else {
        char dlq[MQ_QNAME_MAX + 1];
        rv = qname_normalize(cfg->dead_letter_queue, dlq, e);
        if (rv != MQ_OK) {
            errmsg_wrap(e, "dead_letter_queue");
            return rv;
        }
        memcpy(cfg->dead_letter_queue, dlq, sizeof dlq);
    }
    if (strcmp(cfg->dead_letter_queue, cfg->name) == 0) {
        errmsg_set(e, "a queue cannot be its own dead-letter queue");
        return MQ_ERR_INVALID;
    }
    return MQ_OK;
}

struct queue *queue_new(const struct queue_config *cfg, uint64_t now_ms,
                        struct trash *trash)
{
    struct queue *q = mq_calloc(1, sizeof *q);
    if (q == NULL) {
        return NULL;
    }
    q->cfg = *cfg;
    q->created_at_ms = now_ms;
    q->first_seq = 1;
    q->last_seq = 0;
    q->trash = trash;
    dedup_init(&q->dedup);
    tombs_init(&q->tombs);
    return q;
}

void queue_free(struct queue *q)
{
    if (q == NULL) {
        return;
    }
    size_t len = queue_ring_len(q);
    for (size_t i = 0; i < len; i++) {
        struct msg *m = q->ring[(q->ring_head + i) & (q->ring_cap - 1)];
        if (m) {
            trash_put(q->trash, m);
        }
    }
    mq_free(q->ring);
    for (size_t i = 0; i < q->n_subs; i++) {
        sub_free(q->subs[i]);
    }
    mq_free(q->subs);
    dedup_close(&q->dedup);
    tombs_close(&q->tombs);
    mq_free(q);
}

static struct msg **slot(const struct queue *q, uint64_t seq)
{
    return &q->ring[(q->ring_head + (size_t)(seq - q->first_seq)) &
                    (q->ring_cap - 1)];
}

struct msg *queue_get(const struct queue *q, uint64_t seq)
{
    if (seq < q->first_seq || seq > q->last_seq) {
        return NULL;
    }
    return *slot(q, seq);
}

static mq_err ring_grow(struct queue *q)
{
    size_t len = queue_ring_len(q);
    size_t cap = q->ring_cap ? q->ring_cap * 2 : 64;
    struct msg **ring = mq_malloc(cap * sizeof *ring);
    if (ring == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < len; i++) {
        ring[i] = q->ring[(q->ring_head + i) & (q->ring_cap - 1)];
    }
    mq_free(q->ring);
    q->ring = ring;
    q->ring_cap = cap;
    q->ring_head = 0;
    return MQ_OK;
}

/* Advances first_seq past removed slots at the front. */
static void trim_front(struct queue *q)
{
    while (q->first_seq <= q->last_seq && *slot(q, q->first_seq) == NULL) {
        q->ring_head = (q->ring_head + 1) & (q->ring_cap - 1);
        q->first_seq++;
    }
    if (q->first_seq > q->last_seq) {
        q->ring_head = 0;
    }
}

mq_err queue_skip_to(struct queue *q, uint64_t seq)
{
    if (q->n_msgs == 0) {
        q->ring_head = 0;
        q->first_seq = seq;
        q->last_seq = seq - 1;
        return MQ_OK;
    }
    while (q->last_seq + 1 < seq) {
        if (queue_ring_len(q) == q->ring_cap && ring_grow(q) != MQ_OK) {
            return MQ_ERR_NO_MEMORY;
        }
        q->last_seq++;
        *slot(q, q->last_seq) = NULL;
    }
    return MQ_OK;
}

mq_err queue_remove_why(struct queue *q, uint64_t seq, int why, uint64_t now_ms)
{
    struct msg *m = queue_get(q, seq);
    mq_err rv;
    if (m == NULL) {
        return MQ_OK;
    }
    rv = tombs_add(&q->tombs, hash128(m->blob + m->id_off, m->id_len), seq,
                   m->rec.published_at_ms, now_ms, why);
    *slot(q, seq) = NULL;
    q->n_msgs--;
    q->n_bytes -= m->rec.blob_len;
    q->n_delayed -= m->rec.deliver_at_ms > m->rec.published_at_ms;
    trash_put(q->trash, m);
    trim_front(q);
    for (size_t i = 0; i < q->n_subs; i++) {
        sub_forget(q->subs[i], seq);
    }
    return rv;
}

void queue_remove(struct queue *q, uint64_t seq)
{
    struct msg *m = queue_get(q, seq);
    if (m != NULL) {
        queue_remove_why(q, seq, TOMB_EXPIRED, m->rec.published_at_ms);
    }
}

mq_err queue_purge(struct queue *q, uint64_t now_ms)
{
    mq_err rv = MQ_OK;
    while (q->first_seq <= q->last_seq && q->n_msgs > 0) {
        mq_err r = queue_remove_why(q, q->first_seq, TOMB_PURGED, now_ms);
        if (r != MQ_OK) {
            rv = r;
        }
    }
    return rv;
}

uint64_t queue_seq_at_time(const struct queue *q, uint64_t t_ms)
{
    /* Publish times do not go down with seq: binary search, stepping over
     * removed slots. */
    uint64_t lo = q->first_seq, hi = q->last_seq + 1;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2, probe = mid;
        struct msg *m = NULL;
        while (probe < hi && (m = queue_get(q, probe)) == NULL) {
            probe++;
        }
        if (m == NULL) {
            hi = mid;
        } else if (m->rec.published_at_ms < t_ms) {
            lo = probe + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
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
    for (uint64_t seq = q->first_seq; seq <= q->last_seq; seq++) {
        struct msg *m = queue_get(q, seq);
        if (m && m->id_len == len &&
            memcmp(m->blob + m->id_off, id, len) == 0) {
            return m;
        }
    }
    return NULL;
}

static void remove_oldest(struct queue *q, uint64_t now_ms)
{
    if (q->first_seq <= q->last_seq) {
        queue_remove_why(q, q->first_seq, TOMB_EXPIRED, now_ms);
    }
}

mq_err queue_check_room(const struct queue *q, size_t bytes, struct errmsg *e)
{
    if (q->cfg.discard != MQ_DISCARD_REJECT) {
        return MQ_OK;
    }
    if (q->cfg.max_messages && q->n_msgs + 1 > q->cfg.max_messages) {
        errmsg_set(e, "queue %s is full: max_messages %llu reached",
                   q->cfg.name, (unsigned long long)q->cfg.max_messages);
        return MQ_ERR_FULL;
    }
    if (q->cfg.max_bytes && q->n_bytes + bytes > q->cfg.max_bytes) {
        errmsg_set(e, "queue %s is full: max_bytes %llu reached", q->cfg.name,
                   (unsigned long long)q->cfg.max_bytes);
        return MQ_ERR_FULL;
    }
    return MQ_OK;
}

mq_err queue_append(struct queue *q, struct msg *m, struct errmsg *e)
{
    mq_err rv = queue_check_room(q, m->rec.blob_len, e);
    if (rv != MQ_OK) {
        return rv;
    }
    if (queue_ring_len(q) == q->ring_cap && ring_grow(q) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    if (q->n_msgs == 0) {
        q->ring_head = 0;
        q->first_seq = m->rec.seq;
    }
    q->last_seq = m->rec.seq;
    *slot(q, m->rec.seq) = m;
    q->n_msgs++;
    q->n_bytes += m->rec.blob_len;
    q->n_delayed += m->rec.deliver_at_ms > m->rec.published_at_ms;
    while (q->n_msgs > 1 &&
           ((q->cfg.max_messages && q->n_msgs > q->cfg.max_messages) ||
            (q->cfg.max_bytes && q->n_bytes > q->cfg.max_bytes))) {
        remove_oldest(q, m->rec.published_at_ms);
    }
    return MQ_OK;
}

mq_err queue_trim(struct queue *q, uint64_t now_ms)
{
    mq_err rv = MQ_OK;
    if (q->cfg.max_age_ms) {
        while (q->first_seq <= q->last_seq && rv == MQ_OK) {
            struct msg *m = *slot(q, q->first_seq);
            if (mstime_add(m->rec.published_at_ms, q->cfg.max_age_ms) >
                now_ms) {
                break;
            }
            rv = queue_remove_why(q, q->first_seq, TOMB_EXPIRED, now_ms);
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
        while (q->first_seq <= q->last_seq && q->first_seq <= floor &&
               rv == MQ_OK) {
            int why = TOMB_ACKED;
            for (size_t i = 0; i < q->n_subs; i++) {
                if (sub_dead_lettered(q->subs[i], q->first_seq)) {
                    why = TOMB_DEAD_LETTERED;
                }
            }
            rv = queue_remove_why(q, q->first_seq, why, now_ms);
        }
    }
    tombs_expire(&q->tombs, now_ms, q->cfg.status_ttl_ms, q->cfg.status_max);
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
