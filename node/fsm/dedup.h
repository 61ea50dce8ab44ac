/* dedup.h: the ids a queue has stored within its duplicate window, so that
 * a publish repeated with the same id is stored once.
 *
 * An id is remembered as a 128-bit hash (no false duplicate short of a
 * 2^-128 coincidence) with its seq and time: 32 bytes in a FIFO ordered by
 * time plus one 16-byte map slot, the map between an eighth and a half
 * full: 64 to 160 bytes per id, DEDUP_NOMINAL_BYTES counted. Entries leave
 * when older than the window, or sooner, oldest first, when the node's
 * bound of ids and statuses says so (evict.h). Loop thread only. */
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

/* Bytes counted per remembered id (see above). */
#define DEDUP_NOMINAL_BYTES 96u
/* Ids leave on the clock (queue_trim) at most this long after their
 * window ends, so that ids stored over a while leave in few Commands; a
 * publish forgets those past the window first, exactly. */
#define DEDUP_EXPIRE_SLACK_MS 1000u

void dedup_init(struct dedup *d);
/* Where freed memory goes and the total the ids count in (fifo_own). */
void dedup_own(struct dedup *d, struct trash *trash, uint64_t *acct);
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
/* Forgets entries with at_ms + window_ms <= now_ms, and gives back the
 * memory they held (not between dedup_reserve and its adds). */
void dedup_expire(struct dedup *d, uint64_t now_ms, uint64_t window_ms);
/* Forgets the oldest entry. */
void dedup_pop(struct dedup *d);
/* Gives back memory the entries no longer need (idring_shrink). */
void dedup_shrink(struct dedup *d);

size_t dedup_len(const struct dedup *d);
/* The @i-th entry, oldest first. */
const struct dedup_entry *dedup_at(const struct dedup *d, size_t i);

#endif
