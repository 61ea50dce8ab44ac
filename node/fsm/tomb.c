/* tomb.c: status records of gone messages, in a FIFO. */
#include "tomb.h"

#include <stdint.h>
#include <string.h>

#include "mstime.h"

void tombs_init(struct tombs *t)
{
    fifo_init(&t->recs, sizeof(struct tomb));
}

void tombs_own(struct tombs *t, struct trash *trash, uint64_t *acct)
{
    fifo_own(&t->recs, trash, acct, TOMB_NOMINAL_BYTES);
}

void tombs_close(struct tombs *t)
{
    fifo_close(&t->recs);
}

mq_err tombs_reserve(struct tombs *t, size_t n)
{
    return fifo_reserve(&t->recs, n);
}

mq_err tombs_add(struct tombs *t, struct hash128 key, uint64_t seq,
                 uint64_t published_at_ms, uint64_t gone_at_ms, int state)
{
    struct tomb *rec = fifo_push(&t->recs);
    if (rec == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    rec->key = key;
    rec->seq = seq;
    rec->published_at_ms = published_at_ms;
    rec->gone = gone_at_ms << 8 | (uint64_t)(state & 0xff);
    return MQ_OK;
}

const struct tomb *tombs_find(const struct tombs *t, struct hash128 key)
{
    for (size_t i = tombs_len(t); i > 0; i--) {
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
    while (tombs_len(t) > 0) {
        const struct tomb *rec = tombs_at(t, 0);
        if (tombs_len(t) <= max &&
            mstime_add(tomb_gone_at(rec), ttl_ms) > now_ms) {
            break;
        }
        fifo_pop(&t->recs);
    }
}

void tombs_pop(struct tombs *t)
{
    fifo_pop(&t->recs);
}

void tombs_shrink(struct tombs *t)
{
    fifo_shrink(&t->recs);
}
