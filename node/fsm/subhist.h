/* subhist.h: what a subscription did with messages it no longer has
 * pending: when it acked them and after how many deliveries (the last
 * SUBHIST_ACKS acks, 24 bytes each: older acks are still acks, their time
 * and attempts are just no longer known), and which it dead-lettered, when
 * and after how many deliveries (while the message is stored). For message
 * status by id. Replicated state: recorded at apply, in snapshots. Pure C,
 * loop thread only. */
#ifndef MQ_SUBHIST_H
#define MQ_SUBHIST_H

#include <stddef.h>
#include <stdint.h>

#include "fifo.h"
#include "hmap.h"
#include "mq.h"

#define SUBHIST_ACKS 65536u
/* Bytes counted per ack record (ids and statuses), and per dead letter
 * remembered (with the stored messages: it goes when its message does). */
#define SUBHIST_ACK_NOMINAL_BYTES 24u
#define SUBHIST_DEAD_BYTES 32u

struct subhist_ack {
    uint64_t seq;
    uint64_t at_ms;
    uint32_t attempts; /* deliveries it took; 0 when not known */
};

/* Dead-letter times are kept below this (48 bits: the year 10889), with
 * the attempts (at most SUBHIST_DEAD_ATTEMPTS_MAX) above them. */
#define SUBHIST_DEAD_TIME_LIMIT (UINT64_C(1) << 48)
#define SUBHIST_DEAD_ATTEMPTS_MAX 0xffffu

_Static_assert(sizeof(struct subhist_ack) == 24, "an ack record: 24 bytes");

struct subhist {
    struct fifo acks;   /* of struct subhist_ack, oldest first */
    struct hmap dead;   /* seq -> dead-lettered at (ms) + 1 */
    uint64_t *msg_acct; /* counts the dead letters (may be NULL) */
};

void subhist_init(struct subhist *h);
/* Where freed memory goes, the total the ack records count in (@ids_acct)
 * and the one the dead letters count in (@msg_acct); each may be NULL. */
void subhist_own(struct subhist *h, struct trash *trash, uint64_t *ids_acct,
                 uint64_t *msg_acct);
void subhist_close(struct subhist *h);

/* Records an ack of @seq at @at_ms after @attempts deliveries (the oldest
 * falls out past SUBHIST_ACKS). MQ_ERR_NO_MEMORY leaves @h unchanged. */
mq_err subhist_ack(struct subhist *h, uint64_t seq, uint64_t at_ms,
                   uint32_t attempts);
/* When @seq was acked, or 0 if not known; *attempts (may be NULL) gets
 * its deliveries (0 when not known). */
uint64_t subhist_acked_at(const struct subhist *h, uint64_t seq,
                          uint32_t *attempts);

/* Records that @seq was dead-lettered at @at_ms (kept up to
 * SUBHIST_DEAD_TIME_LIMIT - 2) after @attempts deliveries (kept up to
 * SUBHIST_DEAD_ATTEMPTS_MAX). MQ_ERR_NO_MEMORY leaves @h unchanged. */
mq_err subhist_dead(struct subhist *h, uint64_t seq, uint64_t at_ms,
                    uint32_t attempts);
/* A dead letter's map value (the time + 1 below the 48th bit, the
 * attempts above it) as its time, 0 for none, and *@attempts (may be
 * NULL). */
static inline uint64_t subhist_dead_decode(uint64_t v, uint32_t *attempts)
{
    if (attempts != NULL) {
        *attempts = (uint32_t)(v >> 48);
    }
    v &= SUBHIST_DEAD_TIME_LIMIT - 1;
    return v ? v - 1 : 0;
}

/* When @seq was dead-lettered, or 0 if it was not; *attempts (may be
 * NULL) gets its deliveries. */
uint64_t subhist_dead_at(const struct subhist *h, uint64_t seq,
                         uint32_t *attempts);
/* The message @seq is gone from the queue: forget it was dead-lettered. */
void subhist_forget(struct subhist *h, uint64_t seq);

/* Forgets the oldest ack record (its message then shows as acked at a
 * time no longer known). */
void subhist_pop(struct subhist *h);
/* Gives back memory the ack records no longer need. */
void subhist_shrink(struct subhist *h);

static inline size_t subhist_len(const struct subhist *h)
{
    return fifo_len(&h->acks);
}

static inline const struct subhist_ack *subhist_at(const struct subhist *h,
                                                   size_t i)
{
    return fifo_at(&h->acks, i);
}

#endif
