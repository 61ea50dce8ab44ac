/* dedup.h: the ids a queue has stored within its duplicate window, so that
 * a publish repeated with the same id is stored once.
 *
 * An id is remembered as a 128-bit hash (no false duplicate short of a
 * 2^-128 coincidence) with its seq and time: 32 bytes in a FIFO ordered by
 * time plus one 16-byte map slot at most half full, about 64 bytes per id in
 * all. Entries leave when older than the window. Loop thread only. */
#ifndef MQ_DEDUP_H
#define MQ_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "idring.h"
#include "mq.h"

struct dedup_entry {
    struct hash128 key;
    uint64_t seq;
    uint64_t at_ms;
};

struct dedup {
    struct idring ring; /* of struct dedup_entry, oldest first */
};

void dedup_init(struct dedup *d);
void dedup_close(struct dedup *d);

/* The entry of @key, or NULL. Borrowed until the next change. */
const struct dedup_entry *dedup_find(const struct dedup *d, struct hash128 key);
/* Makes room for @n more ids, so that the next @n dedup_add cannot fail.
 * MQ_ERR_NO_MEMORY leaves the remembered ids unchanged. */
mq_err dedup_reserve(struct dedup *d, size_t n);
/* Remembers @key. @at_ms must not be older than the newest entry's (the
 * FSM's clock never goes back). MQ_ERR_NO_MEMORY leaves @d unchanged. */
mq_err dedup_add(struct dedup *d, struct hash128 key, uint64_t seq,
                 uint64_t at_ms);
/* Forgets entries with at_ms + window_ms <= now_ms. */
void dedup_expire(struct dedup *d, uint64_t now_ms, uint64_t window_ms);

size_t dedup_len(const struct dedup *d);
/* The @i-th entry, oldest first. */
const struct dedup_entry *dedup_at(const struct dedup *d, size_t i);

#endif
