/* tomb.c: status records of gone messages, in a ring. */
#include "tomb.h"

#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "mstime.h"

void tombs_init(struct tombs *t)
{
    memset(t, 0, sizeof *t);
}

void tombs_close(struct tombs *t)
{
    mq_free(t->ring);
    tombs_init(t);
}

const struct tomb *tombs_at(const struct tombs *t, size_t i)
{
    return &t->ring[(t->head + i) & (t->cap - 1)];
}

mq_err tombs_reserve(struct tombs *t, size_t n)
{
    if (n > SIZE_MAX / 2 / sizeof(struct tomb) - t->len) {
        return MQ_ERR_NO_MEMORY;
    }
    if (t->len + n > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        while (cap < t->len + n) {
            cap *= 2;
        }
        struct tomb *ring = mq_malloc(cap * sizeof *ring);
        if (ring == NULL) {
            return MQ_ERR_NO_MEMORY;
        }
        for (size_t i = 0; i < t->len; i++) {
            ring[i] = *tombs_at(t, i);
        }
        mq_free(t->ring);
        t->ring = ring;
        t->cap = cap;
        t->head = 0;
    }
    return MQ_OK;
}

mq_err tombs_add(struct tombs *t, struct hash128 key, uint64_t seq,
                 uint64_t published_at_ms, uint64_t gone_at_ms, int state)
{
    if (tombs_reserve(t, 1) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    struct tomb *rec = &t->ring[(t->head + t->len) & (t->cap - 1)];
    rec->key = key;
    rec->seq = seq;
    rec->published_at_ms = published_at_ms;
    rec->gone = gone_at_ms << 8 | (uint64_t)(state & 0xff);
    t->len++;
    return MQ_OK;
}

const struct tomb *tombs_find(const struct tombs *t, struct hash128 key)
{
    for (size_t i = t->len; i > 0; i--) {
        const struct tomb *rec = tombs_at(t, i - 1);
        if (rec->key.lo == key.lo && rec->key.hi == key.hi) {
            return rec;
        }
    }
    return NULL;
}

void tombs_expire(struct tombs *t, uint64_t now_ms, uint64_t ttl_ms,
                  uint64_t max)
{
    while (t->len > 0) {
        const struct tomb *rec = tombs_at(t, 0);
        if (t->len <= max && mstime_add(tomb_gone_at(rec), ttl_ms) > now_ms) {
            break;
        }
        t->head = (t->head + 1) & (t->cap - 1);
        t->len--;
    }
}
