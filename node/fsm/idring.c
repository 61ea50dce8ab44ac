/* idring.c: a FIFO of keyed records plus a map from key to position. */
#include "idring.h"

#include <string.h>

#include "alloc.h"

void idring_init(struct idring *r, size_t rec_size)
{
    fifo_init(&r->recs, rec_size);
    r->base = 0;
    hmap_init(&r->map);
}

void idring_close(struct idring *r)
{
    fifo_close(&r->recs);
    hmap_close(&r->map);
    r->base = 0;
}

void *idring_find(const struct idring *r, struct hash128 key)
{
    uintptr_t v = (uintptr_t)hmap_get(&r->map, key.lo);
    if (v == 0) {
        return NULL;
    }
    struct hash128 *rec = idring_at(r, (size_t)(v - 1 - r->base));
    if (rec->lo != key.lo || rec->hi != key.hi) {
        return NULL;
    }
    return rec;
}

mq_err idring_reserve(struct idring *r, size_t n)
{
    if (fifo_reserve(&r->recs, n) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    return hmap_reserve(&r->map, n);
}

void *idring_push(struct idring *r, struct hash128 key)
{
    uint64_t abs = r->base + idring_len(r);
    if (fifo_reserve(&r->recs, 1) != MQ_OK ||
        hmap_put(&r->map, key.lo, (void *)(uintptr_t)(abs + 1)) != MQ_OK) {
        return NULL;
    }
    struct hash128 *rec = fifo_push(&r->recs); /* reserved: not NULL */
    *rec = key;
    return rec;
}

void idring_pop(struct idring *r)
{
    if (idring_len(r) == 0) {
        return;
    }
    const struct hash128 *rec = idring_at(r, 0);
    if ((uintptr_t)hmap_get(&r->map, rec->lo) == r->base + 1) {
        hmap_del(&r->map, rec->lo);
    }
    fifo_pop(&r->recs);
    r->base++;
}

void idring_shrink(struct idring *r)
{
    fifo_shrink(&r->recs);
    hmap_shrink(&r->map);
}

size_t idring_bytes(const struct idring *r)
{
    return fifo_mem_bytes(&r->recs) + r->map.cap * sizeof(struct hmap_slot);
}
