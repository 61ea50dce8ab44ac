/* subhist.h: what a subscription did with messages it no longer has
 * pending: when it acked them (the last SUBHIST_ACKS acks, 16 bytes each:
 * older acks are still acks, their time is just no longer known), and
 * which it dead-lettered (while the message is stored). For message
 * status by id. Pure C, loop thread only. */
#ifndef MQ_SUBHIST_H
#define MQ_SUBHIST_H

#include <stddef.h>
#include <stdint.h>

#include "hmap.h"
#include "mq.h"

#define SUBHIST_ACKS 65536u

struct subhist_ack {
    uint64_t seq;
    uint64_t at_ms;
};

struct subhist {
    struct subhist_ack *acks; /* ring, oldest at head */
    size_t cap, head, len;
    struct hmap dead; /* seq -> dead-lettered at (ms) + 1 */
};

void subhist_init(struct subhist *h);
void subhist_close(struct subhist *h);

/* Records an ack of @seq at @at_ms (the oldest falls out past
 * SUBHIST_ACKS). MQ_ERR_NO_MEMORY leaves @h unchanged. */
mq_err subhist_ack(struct subhist *h, uint64_t seq, uint64_t at_ms);
/* When @seq was acked, or 0 if not known. */
uint64_t subhist_acked_at(const struct subhist *h, uint64_t seq);

mq_err subhist_dead(struct subhist *h, uint64_t seq, uint64_t at_ms);
/* When @seq was dead-lettered, or 0 if it was not. */
uint64_t subhist_dead_at(const struct subhist *h, uint64_t seq);
/* The message @seq is gone from the queue: forget it was dead-lettered. */
void subhist_forget(struct subhist *h, uint64_t seq);

size_t subhist_len(const struct subhist *h);
const struct subhist_ack *subhist_at(const struct subhist *h, size_t i);

#endif
