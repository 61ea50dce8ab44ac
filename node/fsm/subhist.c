/* subhist.c: recent ack times and dead letters of a subscription. */
#include "subhist.h"

#include <string.h>

void subhist_init(struct subhist *h)
{
    fifo_init(&h->acks, sizeof(struct subhist_ack));
    hmap_init(&h->dead);
    h->msg_acct = NULL;
}

void subhist_own(struct subhist *h, struct trash *trash, uint64_t *ids_acct,
                 uint64_t *msg_acct)
{
    fifo_own(&h->acks, trash, ids_acct, SUBHIST_ACK_NOMINAL_BYTES);
    h->msg_acct = msg_acct;
}

void subhist_close(struct subhist *h)
{
    fifo_close(&h->acks);
    if (h->msg_acct != NULL) {
        *h->msg_acct -= (uint64_t)h->dead.len * SUBHIST_DEAD_BYTES;
    }
    hmap_close(&h->dead);
}

mq_err subhist_ack(struct subhist *h, uint64_t seq, uint64_t at_ms,
                   uint32_t attempts)
{
    /* Room first: then dropping the oldest and adding cannot fail. */
    if (fifo_reserve(&h->acks, 1) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    if (subhist_len(h) >= SUBHIST_ACKS) { /* forget the oldest */
        fifo_pop(&h->acks);
    }
    struct subhist_ack *a = fifo_push(&h->acks);
    a->seq = seq;
    a->at_ms = at_ms;
    a->attempts = attempts;
    return MQ_OK;
}

uint64_t subhist_acked_at(const struct subhist *h, uint64_t seq,
                          uint32_t *attempts)
{
    for (size_t i = subhist_len(h); i > 0; i--) {
        const struct subhist_ack *a = subhist_at(h, i - 1);
        if (a->seq == seq) {
            if (attempts != NULL) {
                *attempts = a->attempts;
            }
            return a->at_ms;
        }
    }
    if (attempts != NULL) {
        *attempts = 0;
    }
    return 0;
}

void subhist_pop(struct subhist *h)
{
    fifo_pop(&h->acks);
}

void subhist_shrink(struct subhist *h)
{
    fifo_shrink(&h->acks);
}

/* A dead letter's map value: time + 1 (never 0) below the 48th bit, the
 * attempts above it. */
_Static_assert(sizeof(uintptr_t) >= 8, "subhist packs 64 bits in a pointer");

mq_err subhist_dead(struct subhist *h, uint64_t seq, uint64_t at_ms,
                    uint32_t attempts)
{
    uint64_t n = attempts < SUBHIST_DEAD_ATTEMPTS_MAX
                     ? attempts
                     : SUBHIST_DEAD_ATTEMPTS_MAX;
    uint64_t v;
    size_t before = h->dead.len;

    if (at_ms > SUBHIST_DEAD_TIME_LIMIT - 2) {
        at_ms = SUBHIST_DEAD_TIME_LIMIT - 2; /* a clock past the year 10889 */
    }
    v = (at_ms + 1) | n << 48;
    mq_err rv = hmap_put(&h->dead, seq, (void *)(uintptr_t)v);
    if (rv == MQ_OK && h->msg_acct != NULL) {
        *h->msg_acct += (uint64_t)(h->dead.len - before) * SUBHIST_DEAD_BYTES;
    }
    return rv;
}

uint64_t subhist_dead_at(const struct subhist *h, uint64_t seq,
                         uint32_t *attempts)
{
    return subhist_dead_decode((uintptr_t)hmap_get(&h->dead, seq), attempts);
}

void subhist_forget(struct subhist *h, uint64_t seq)
{
    if (h->dead.len > 0 && hmap_del(&h->dead, seq) != NULL) {
        if (h->msg_acct != NULL) {
            *h->msg_acct -= SUBHIST_DEAD_BYTES;
        }
        hmap_shrink(&h->dead);
    }
}
