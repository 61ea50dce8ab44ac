/* dedup.c: FIFO of remembered ids plus a map from the low half of the hash
 * to the FIFO position. Two ids sharing the low 64 bits keep only the newer
 * in the map: the older may then be stored twice, never wrongly refused. */
#include "dedup.h"

#include "alloc.h"
#include "mstime.h"

void dedup_init(struct dedup *d)
{
    idring_init(&d->ring, sizeof(struct dedup_entry));
}

void dedup_own(struct dedup *d, struct trash *trash, uint64_t *acct)
{
    fifo_own(&d->ring.recs, trash, acct, DEDUP_NOMINAL_BYTES);
}

void dedup_close(struct dedup *d)
{
    idring_close(&d->ring);
}

const struct dedup_entry *dedup_find(const struct dedup *d, struct hash128 key)
{
    return idring_find(&d->ring, key);
}

mq_err dedup_reserve(struct dedup *d, size_t n)
{
    return idring_reserve(&d->ring, n);
}

mq_err dedup_add(struct dedup *d, struct hash128 key, uint64_t seq,
                 uint64_t at_ms)
{
    struct dedup_entry *en = idring_push(&d->ring, key);
    if (en == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    en->seq = seq;
    en->at_ms = at_ms;
    return MQ_OK;
}

void dedup_expire(struct dedup *d, uint64_t now_ms, uint64_t window_ms)
{
    size_t n = 0;
    while (idring_len(&d->ring) > 0) {
        const struct dedup_entry *en = idring_at(&d->ring, 0);
        if (mstime_add(en->at_ms, window_ms) > now_ms) {
            break;
        }
        idring_pop(&d->ring);
        n++;
    }
    if (n > 0) {
        idring_shrink(&d->ring);
    }
}

void dedup_pop(struct dedup *d)
{
    idring_pop(&d->ring);
}

void dedup_shrink(struct dedup *d)
{
    idring_shrink(&d->ring);
}

size_t dedup_len(const struct dedup *d)
{
    return idring_len(&d->ring);
}

const struct dedup_entry *dedup_at(const struct dedup *d, size_t i)
{
    return idring_at(&d->ring, i);
}
