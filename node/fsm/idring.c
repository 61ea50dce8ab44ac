/* idring.c: a ring of keyed records plus a map from key to position. */
#include "idring.h"

#include <string.h>

#include "alloc.h"

void idring_init(struct idring *r, size_t rec_size)
{
    memset(r, 0, sizeof *r);
    r->rec_size = rec_size;
    hmap_init(&r->map);
}

void idring_close(struct idring *r)
{
    mq_free(r->buf);
    hmap_close(&r->map);
    idring_init(r, r->rec_size);
}

void *idring_at(const struct idring *r, size_t i)
{
    return r->buf + ((r->head + i) & (r->cap - 1)) * r->rec_size;
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

static mq_err grow(struct idring *r)
{
    size_t cap = r->cap ? r->cap * 2 : 64;
    uint8_t *buf = mq_malloc(cap * r->rec_size);
    if (buf == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < r->len; i++) {
        memcpy(buf + i * r->rec_size, idring_at(r, i), r->rec_size);
    }
    mq_free(r->buf);
    r->buf = buf;
    r->cap = cap;
    r->head = 0;
    return MQ_OK;
}

mq_err idring_reserve(struct idring *r, size_t n)
{
    while (r->len + n > r->cap) {
        if (grow(r) != MQ_OK) {
            return MQ_ERR_NO_MEMORY;
        }
    }
    return hmap_reserve(&r->map, n);
}

void *idring_push(struct idring *r, struct hash128 key)
{
    if (r->len == r->cap && grow(r) != MQ_OK) {
        return NULL;
    }
    uint64_t abs = r->base + r->len;
    if (hmap_put(&r->map, key.lo, (void *)(uintptr_t)(abs + 1)) != MQ_OK) {
        return NULL;
    }
    struct hash128 *rec = idring_at(r, r->len);
    memset(rec, 0, r->rec_size);
    *rec = key;
    r->len++;
    return rec;
}

void idring_pop(struct idring *r)
{
    if (r->len == 0) {
        return;
    }
    const struct hash128 *rec = idring_at(r, 0);
    if ((uintptr_t)hmap_get(&r->map, rec->lo) == r->base + 1) {
        hmap_del(&r->map, rec->lo);
    }
    r->head = (r->head + 1) & (r->cap - 1);
    r->len--;
    r->base++;
}

size_t idring_bytes(const struct idring *r)
{
    return r->cap * r->rec_size + r->map.cap * sizeof(struct hmap_slot);
}
