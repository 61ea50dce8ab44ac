/* fetch.h: pull consumption: mq_fetch, mq_ack, mq_ack_seqs, mq_nack, and
 * the received message (mq_msg) with its accessors. */
#ifndef MQ_CLIENT_FETCH_H
#define MQ_CLIENT_FETCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mq.h"
#include "mq.pb-c.h"

/* A received message: one allocation holding the struct, the header array,
 * the strings and the payload (followed by a NUL byte, not counted).
 * Belongs to one thread at a time. */
struct mq_msg {
    const char *queue;
    const char *sub;
    const char *id;
    const char *event;
    mq_header *headers;
    size_t n_headers;
    const void *payload;
    size_t payload_len;
    uint64_t seq;
    uint64_t published_at_ms;
    uint32_t attempt;
};

/* Copies delivery @d (borrowed) of subscription @sub of @queue into a new
 * message, freed with mq_msg_free. NULL: out of memory. */
mq_msg *fetch_msg_new(const Mq__V1__Delivery *d, const char *queue,
                      const char *sub);

/* mq_fetch, giving up between attempts once *@stop is set (may be NULL):
 * the subscriber's loop. Arguments must be valid. */
mq_err fetch_run(mq_client *c, const char *queue, const char *sub,
                 size_t max_messages, uint32_t max_wait_ms,
                 const _Atomic int *stop, mq_msg ***msgs, size_t *n);

/* Acks (@nack 0) or nacks with @delay_ms (@nack 1) @n sequence numbers of
 * @sub of @queue in one request. Returns MQ_OK or the request's error. */
mq_err fetch_settle(mq_client *c, const char *queue, const char *sub,
                    const uint64_t *seqs, size_t n, int nack, uint64_t delay_ms,
                    uint64_t timeout_ms);

#endif
