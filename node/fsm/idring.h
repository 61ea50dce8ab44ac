/* idring.h: a FIFO of fixed-size records (fifo.h), each starting with a
 * 128-bit hash of a message id, with a map from the hash to its record.
 * Records leave from the front, oldest first. The remembered ids of a
 * queue (dedup.c) are an idring.
 *
 * Two ids whose hashes share the low 64 bits keep only the newer in the
 * map: the older is then not found (never found wrongly). Loop thread. */
#ifndef MQ_IDRING_H
#define MQ_IDRING_H

#include <stddef.h>
#include <stdint.h>

#include "fifo.h"
#include "hash.h"
#include "hmap.h"
#include "mq.h"

struct idring {
    struct fifo recs;
    uint64_t base;   /* absolute number of the front record */
    struct hmap map; /* key.lo -> absolute number + 1 */
};

/* @rec_size includes the leading struct hash128. */
void idring_init(struct idring *r, size_t rec_size);
void idring_close(struct idring *r);

/* The record of @key, or NULL. Borrowed until the next change. */
void *idring_find(const struct idring *r, struct hash128 key);
/* Makes room for @n more records, so that the next @n idring_push cannot
 * fail. MQ_ERR_NO_MEMORY leaves the records unchanged. */
mq_err idring_reserve(struct idring *r, size_t n);
/* Appends a record for @key and returns it (its key set, the rest for the
 * caller to fill), or NULL when out of memory (@r unchanged). */
void *idring_push(struct idring *r, struct hash128 key);
/* The @i-th record, oldest first. */
static inline void *idring_at(const struct idring *r, size_t i)
{
    return fifo_at(&r->recs, i);
}
/* Drops the oldest record. */
void idring_pop(struct idring *r);
/* Gives back memory that the records no longer need (fifo_shrink, and a
 * map much larger than its keys). Not between idring_reserve and its
 * pushes. Never fails. */
void idring_shrink(struct idring *r);

static inline size_t idring_len(const struct idring *r)
{
    return fifo_len(&r->recs);
}

/* Bytes the records and their map hold in memory. */
size_t idring_bytes(const struct idring *r);

#endif
