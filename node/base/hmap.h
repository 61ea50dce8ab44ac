/* hmap.h: an open-addressing hash map from uint64_t keys to pointers
 * (linear probing, backward-shift deletion, at most half full). Values are
 * borrowed: the map never frees them. Not thread-safe. */
#ifndef MQ_HMAP_H
#define MQ_HMAP_H

#include <stddef.h>
#include <stdint.h>

#include "mq.h"

struct hmap_slot {
    uint64_t key;
    void *val; /* NULL: empty slot */
};

struct hmap {
    struct hmap_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t len;
};

#define HMAP_INIT                                                              \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

void hmap_init(struct hmap *m);
void hmap_close(struct hmap *m);
/* Value of @key, or NULL. */
void *hmap_get(const struct hmap *m, uint64_t key);
/* Sets @key to @val (not NULL), replacing any value. MQ_ERR_NO_MEMORY
 * leaves @m unchanged. */
mq_err hmap_put(struct hmap *m, uint64_t key, void *val);
/* Makes room for @n more keys, so that the next @n puts cannot fail. */
mq_err hmap_reserve(struct hmap *m, size_t n);
/* Removes @key; returns its value or NULL. */
void *hmap_del(struct hmap *m, uint64_t key);
/* Gives back memory: an empty map frees its slots; one at most an eighth
 * full (and over 64 slots) is built again a quarter full. Out of memory
 * keeps the larger one. Values and keys stay. */
void hmap_shrink(struct hmap *m);

#endif
