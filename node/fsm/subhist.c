/* subhist.c: recent ack times and dead letters of a subscription. */
#include "subhist.h"

#include <string.h>

#include "alloc.h"

void subhist_init(struct subhist *h)
{
    memset(h, 0, sizeof *h);
    hmap_init(&h->dead);
}

void subhist_close(struct subhist *h)
{
    mq_free(h->acks);
    hmap_close(&h->dead);
    subhist_init(h);
}

const struct subhist_ack *subhist_at(const struct subhist *h, size_t i)
{
    return &h->acks[(h->head + i) & (h->cap - 1)];
}

size_t subhist_len(const struct subhist *h)
{
    return h->len;
}

mq_err subhist_ack(struct subhist *h, uint64_t seq, uint64_t at_ms,
                   uint32_t attempts)
{
    if (h->len == h->cap && h->cap < SUBHIST_ACKS) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        struct subhist_ack *acks = mq_malloc(cap * sizeof *acks);
        if (acks == NULL) {
            return MQ_ERR_NO_MEMORY;
        }
        for (size_t i = 0; i < h->len; i++) {
            acks[i] = *subhist_at(h, i);
        }
        mq_free(h->acks);
        h->acks = acks;
        h->cap = cap;
        h->head = 0;
    }
    if (h->len == h->cap) { /* full at SUBHIST_ACKS: forget the oldest */
        h->head = (h->head + 1) & (h->cap - 1);
        h->len--;
    }
    struct subhist_ack *a = &h->acks[(h->head + h->len) & (h->cap - 1)];
    a->seq = seq;
    a->at_ms = at_ms;
    a->attempts = attempts;
    h->len++;
    return MQ_OK;
}

uint64_t subhist_acked_at(const struct subhist *h, uint64_t seq,
                          uint32_t *attempts)
{
    for (size_t i = h->len; i > 0; i--) {
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

    if (at_ms > SUBHIST_DEAD_TIME_LIMIT - 2) {
        at_ms = SUBHIST_DEAD_TIME_LIMIT - 2; /* a clock past the year 10889 */
    }
    v = (at_ms + 1) | n << 48;
    return hmap_put(&h->dead, seq, (void *)(uintptr_t)v);
}

uint64_t subhist_dead_at(const struct subhist *h, uint64_t seq,
                         uint32_t *attempts)
{
    uint64_t v = (uintptr_t)hmap_get(&h->dead, seq);
    if (attempts != NULL) {
        *attempts = (uint32_t)(v >> 48);
    }
    v &= SUBHIST_DEAD_TIME_LIMIT - 1;
    return v ? v - 1 : 0;
}

void subhist_forget(struct subhist *h, uint64_t seq)
{
    if (h->dead.len > 0) {
        hmap_del(&h->dead, seq);
    }
}
