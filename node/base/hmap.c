/* hmap.c: open addressing with linear probing. */
#include "hmap.h"

#include "alloc.h"
#include "hash.h"

void hmap_init(struct hmap *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->len = 0;
}

void hmap_close(struct hmap *m)
{
    mq_free(m->slots);
    hmap_init(m);
}

static size_t slot_of(const struct hmap *m, uint64_t key)
{
    return (size_t)hash_u64(key) & (m->cap - 1);
}

void *hmap_get(const struct hmap *m, uint64_t key)
{
    if (m->cap == 0) {
        return NULL;
    }
    for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].val == NULL) {
            return NULL;
        }
        if (m->slots[i].key == key) {
            return m->slots[i].val;
        }
    }
}

static void insert_slot(struct hmap *m, uint64_t key, void *val)
{
    size_t i = slot_of(m, key);
    while (m->slots[i].val != NULL && m->slots[i].key != key) {
        i = (i + 1) & (m->cap - 1);
    }
    if (m->slots[i].val == NULL) {
        m->len++;
    }
    m->slots[i].key = key;
    m->slots[i].val = val;
}

static mq_err grow(struct hmap *m, size_t want)
{
    size_t cap = m->cap ? m->cap : 8;
    while (cap < want * 2) {
        cap *= 2;
    }
    if (cap == m->cap) {
        return MQ_OK;
    }
    struct hmap_slot *old = m->slots;
    size_t old_cap = m->cap;
    struct hmap_slot *slots = mq_calloc(cap, sizeof *slots);
    if (slots == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    m->slots = slots;
    m->cap = cap;
    m->len = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].val != NULL) {
            insert_slot(m, old[i].key, old[i].val);
        }
    }
    mq_free(old);
    return MQ_OK;
}

mq_err hmap_reserve(struct hmap *m, size_t n)
{
    return grow(m, m->len + n);
}

mq_err hmap_put(struct hmap *m, uint64_t key, void *val)
{
    mq_err rv = grow(m, m->len + 1);
    if (rv != MQ_OK) {
        return rv;
    }
    insert_slot(m, key, val);
    return MQ_OK;
}

void *hmap_del(struct hmap *m, uint64_t key)
{
    if (m->cap == 0) {
        return NULL;
    }
    size_t mask = m->cap - 1;
    size_t i = slot_of(m, key);
    while (m->slots[i].val != NULL && m->slots[i].key != key) {
        i = (i + 1) & mask;
    }
    void *val = m->slots[i].val;
    if (val == NULL) {
        return NULL;
    }
    /* Backward-shift deletion keeps probe chains unbroken. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->slots[j].val != NULL;
         j = (j + 1) & mask) {
        size_t home = slot_of(m, m->slots[j].key);
        /* Move j into the hole if its home is not in (hole, j]. */
        int between =
            hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!between) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole].val = NULL;
    m->slots[hole].key = 0;
    m->len--;
    return val;
}

void hmap_shrink(struct hmap *m)
{
    if (m->len == 0) {
        hmap_close(m);
        return;
    }
    if (m->cap <= 64 || m->len >= m->cap / 8) {
        return;
    }
    struct hmap small;
    hmap_init(&small);
    if (hmap_reserve(&small, m->len * 2) != MQ_OK) {
        return;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].val != NULL) {
            insert_slot(&small, m->slots[i].key, m->slots[i].val);
        }
    }
    hmap_close(m);
    *m = small;
}
