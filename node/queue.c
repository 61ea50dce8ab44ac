/* queue.c: a queue's messages in a ring of slots indexed by seq. Removing
 * a message from the middle leaves a NULL slot; the ring's front is
 * trimmed so that slot 0 always holds a message (or the ring is empty). */
#include "queue.h"

#include <string.h>

#include "alloc.h"
#include "mstime.h"
#include "names.h"

mq_err queue_config_normalize(struct queue_config *cfg, struct errmsg *e)
{
    mq_err rv = name_check(cfg->name, strlen(cfg->name), "queue name", e);
    if (rv != MQ_OK) {
        return rv;
    }
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

void queue_remove(struct queue *q, uint64_t seq)
{
    struct msg *m = queue_get(q, seq);
    if (m == NULL) {
        return;
    }
    *slot(q, seq) = NULL;
    q->n_msgs--;
    q->n_bytes -= m->rec.blob_len;
    trash_put(q->trash, m);
    trim_front(q);
}

static void remove_oldest(struct queue *q)
{
    if (q->first_seq <= q->last_seq) {
        queue_remove(q, q->first_seq);
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
    while (q->n_msgs > 1 &&
           ((q->cfg.max_messages && q->n_msgs > q->cfg.max_messages) ||
            (q->cfg.max_bytes && q->n_bytes > q->cfg.max_bytes))) {
        remove_oldest(q);
    }
    return MQ_OK;
}

void queue_trim(struct queue *q, uint64_t now_ms)
{
    if (q->cfg.max_age_ms) {
        while (q->first_seq <= q->last_seq) {
            struct msg *m = *slot(q, q->first_seq);
            if (mstime_add(m->rec.published_at_ms, q->cfg.max_age_ms) >
                now_ms) {
                break;
            }
            queue_remove(q, q->first_seq);
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
        while (q->first_seq <= q->last_seq && q->first_seq <= floor) {
            queue_remove(q, q->first_seq);
        }
    }
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
