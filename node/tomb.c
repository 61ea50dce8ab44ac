/* tomb.c: status records of gone messages, on an idring. */
#include "tomb.h"

#include "mstime.h"

void tombs_init(struct tombs *t)
{
    idring_init(&t->ring, sizeof(struct tomb));
}

void tombs_close(struct tombs *t)
{
    idring_close(&t->ring);
}

mq_err tombs_add(struct tombs *t, struct hash128 key, uint64_t seq,
                 uint64_t published_at_ms, uint64_t gone_at_ms, int state)
{
    struct tomb *rec = idring_push(&t->ring, key);
    if (rec == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    rec->seq = seq;
    rec->published_at_ms = published_at_ms;
    rec->gone = gone_at_ms << 8 | (uint64_t)(state & 0xff);
    return MQ_OK;
}

const struct tomb *tombs_find(const struct tombs *t, struct hash128 key)
{
    return idring_find(&t->ring, key);
}

void tombs_expire(struct tombs *t, uint64_t now_ms, uint64_t ttl_ms,
                  uint64_t max)
{
    while (idring_len(&t->ring) > 0) {
        const struct tomb *rec = idring_at(&t->ring, 0);
        if (idring_len(&t->ring) <= max &&
            mstime_add(tomb_gone_at(rec), ttl_ms) > now_ms) {
            break;
        }
        idring_pop(&t->ring);
    }
}
