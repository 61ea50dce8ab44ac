/* dedup.c: FIFO of remembered ids plus a map from the low half of the hash
 * to the FIFO position. Two ids sharing the low 64 bits keep only the newer
 * in the map: the older may then be stored twice, never wrongly refused. */
#include "dedup.h"

#include "alloc.h"
#include "mstime.h"

void dedup_init(struct dedup *d)
{
    d->fifo = NULL;
    d->cap = d->head = d->len = 0;
    d->base = 0;
    hmap_init(&d->map);
}

void dedup_close(struct dedup *d)
{
    mq_free(d->fifo);
    hmap_close(&d->map);
    dedup_init(d);
}

static struct dedup_entry *entry_at(const struct dedup *d, size_t i)
{
    return &d->fifo[(d->head + i) & (d->cap - 1)];
}

const struct dedup_entry *dedup_find(const struct dedup *d, struct hash128 key)
{
    uintptr_t v = (uintptr_t)hmap_get(&d->map, key.lo);
    if (v == 0) {
        return NULL;
    }
    const struct dedup_entry *en = entry_at(d, (size_t)(v - 1 - d->base));
    if (en->key.lo != key.lo || en->key.hi != key.hi) {
        return NULL;
    }
    return en;
}

static mq_err grow(struct dedup *d)
{
    size_t cap = d->cap ? d->cap * 2 : 64;
    struct dedup_entry *fifo = mq_malloc(cap * sizeof *fifo);
    if (fifo == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < d->len; i++) {
        fifo[i] = *entry_at(d, i);
    }
    mq_free(d->fifo);
    d->fifo = fifo;
    d->cap = cap;
    d->head = 0;
    return MQ_OK;
}

mq_err dedup_add(struct dedup *d, struct hash128 key, uint64_t seq,
                 uint64_t at_ms)
{
    if (d->len == d->cap && grow(d) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    uint64_t abs = d->base + d->len;
    if (hmap_put(&d->map, key.lo, (void *)(uintptr_t)(abs + 1)) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    struct dedup_entry *en = entry_at(d, d->len);
    en->key = key;
    en->seq = seq;
    en->at_ms = at_ms;
    d->len++;
    return MQ_OK;
}

void dedup_expire(struct dedup *d, uint64_t now_ms, uint64_t window_ms)
{
    while (d->len > 0) {
        struct dedup_entry *en = entry_at(d, 0);
        if (mstime_add(en->at_ms, window_ms) > now_ms) {
            break;
        }
        uintptr_t v = (uintptr_t)hmap_get(&d->map, en->key.lo);
        if (v == d->base + 1) {
            hmap_del(&d->map, en->key.lo);
        }
        d->head = (d->head + 1) & (d->cap - 1);
        d->len--;
        d->base++;
    }
}

size_t dedup_len(const struct dedup *d)
{
    return d->len;
}

const struct dedup_entry *dedup_at(const struct dedup *d, size_t i)
{
    return entry_at(d, i);
}
