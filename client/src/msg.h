/* msg.h: a received message (mq_msg) and its accessors: what a fetch
 * delivers and what a read returns. */
#ifndef MQ_CLIENT_MSG_H
#define MQ_CLIENT_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "mq.h"
#include "mq.pb-c.h"

/* A received message: one allocation holding the struct, the header array,
 * the strings and the payload (followed by a NUL byte, not counted).
 * Belongs to one thread at a time. */
struct mq_msg {
    const char *queue; /* full name, "namespace/queue" */
    const char *sub;   /* "" for a read */
    const char *id;
    const char *event;
    mq_header *headers;
    size_t n_headers;
    const void *payload;
    size_t payload_len;
    uint64_t seq;
    uint64_t published_at_ms;
    uint64_t deliver_at_ms; /* published_at_ms when not delayed */
    uint32_t attempt;       /* 0 for a read */
};

/* Copies delivery @d (borrowed) of subscription @sub of @queue into a new
 * message, freed with mq_msg_free. NULL: out of memory. */
mq_msg *msg_new(const Mq__V1__Delivery *d, const char *queue, const char *sub);

/* Copies the @n deliveries @d into a new array of messages (freed with
 * mq_msgs_free) with one entry more, NULL. Returns MQ_OK and sets *out, or
 * MQ_ERR_NO_MEMORY (nothing allocated). */
mq_err msg_array_new(Mq__V1__Delivery *const *d, size_t n, const char *queue,
                     const char *sub, mq_msg ***out);

#endif
