/* tomb.h: what became of a queue's messages once they are gone (acked by
 * every subscription, expired, purged, cancelled, dead-lettered, redriven),
 * so that message status by id can still answer. One 40-byte record per
 * gone message, in a FIFO (fifo.h) in the order they went: recording one
 * is an append (messages go by the hundred thousand a second), looking one
 * up a scan from the newest (status lookups are rare). Records leave after
 * the queue's status_ttl_ms, or oldest first past status_max, or when the
 * node's bound of ids and statuses says so (evict.h). */
#ifndef MQ_TOMB_H
#define MQ_TOMB_H

#include <stddef.h>
#include <stdint.h>

#include "fifo.h"
#include "hash.h"
#include "mq.h"

/* Why a message is gone (values of mq.proto's MessageState). */
enum tomb_state {
    TOMB_ACKED = 1,
    TOMB_EXPIRED = 2,
    TOMB_PURGED = 3,
    TOMB_CANCELLED = 4,
    TOMB_DEAD_LETTERED = 5,
    TOMB_REDRIVEN = 7, /* a dead letter moved back by redrive */
};

struct tomb {
    struct hash128 key; /* of the message's id */
    uint64_t seq;
    uint64_t published_at_ms;
    uint64_t gone; /* gone_at_ms << 8 | enum tomb_state */
};

static inline uint64_t tomb_gone_at(const struct tomb *t)
{
    return t->gone >> 8;
}

static inline int tomb_state(const struct tomb *t)
{
    return (int)(t->gone & 0xff);
}

_Static_assert(sizeof(struct tomb) == 40, "a status record is 40 bytes");

/* Bytes counted per status record. */
#define TOMB_NOMINAL_BYTES 40u

struct tombs {
    struct fifo recs; /* of struct tomb, oldest first */
};

void tombs_init(struct tombs *t);
/* Where freed memory goes and the total the records count in. */
void tombs_own(struct tombs *t, struct trash *trash, uint64_t *acct);
void tombs_close(struct tombs *t);
/* Makes room for @n more records, so that the next @n tombs_add cannot
 * fail. MQ_ERR_NO_MEMORY leaves the records unchanged. */
mq_err tombs_reserve(struct tombs *t, size_t n);
/* Records that message @seq (id hash @key) went at @gone_at_ms.
 * MQ_ERR_NO_MEMORY leaves @t unchanged. */
mq_err tombs_add(struct tombs *t, struct hash128 key, uint64_t seq,
                 uint64_t published_at_ms, uint64_t gone_at_ms, int state);
/* The newest record of @key, or NULL. */
const struct tomb *tombs_find(const struct tombs *t, struct hash128 key);
/* Forgets records older than @ttl_ms, and the oldest past @max. Does not
 * give memory back (tombs_shrink). */
void tombs_expire(struct tombs *t, uint64_t now_ms, uint64_t ttl_ms,
                  uint64_t max);
/* Forgets the oldest record. */
void tombs_pop(struct tombs *t);
/* Gives back memory the records no longer need (fifo_shrink): not between
 * tombs_reserve and its adds. */
void tombs_shrink(struct tombs *t);

static inline size_t tombs_len(const struct tombs *t)
{
    return fifo_len(&t->recs);
}

/* The @i-th record, oldest first. */
static inline const struct tomb *tombs_at(const struct tombs *t, size_t i)
{
    return fifo_at(&t->recs, i);
}

#endif
