/* fetch.h: pull consumption: mq_fetch, and settling what was delivered:
 * mq_ack, mq_ack_seqs, mq_nack, mq_touch, mq_term, mq_nack_seqs,
 * mq_term_seqs. */
#ifndef MQ_CLIENT_FETCH_H
#define MQ_CLIENT_FETCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mq.h"

/* mq_fetch_with, giving up between attempts once *@stop is set (may be
 * NULL): the subscriber's loop. @queue is the name to send (client_qname),
 * @sub checked. The node waits up to @max_wait_ms, less if @timeout_ms
 * (the whole call's deadline, 0: the client's timeout plus the wait) needs
 * it. The messages carry the queue's full name; @info may be NULL. */
mq_err fetch_run(mq_client *c, const char *queue, const char *sub,
                 size_t max_messages, uint32_t max_wait_ms, uint64_t timeout_ms,
                 const _Atomic int *stop, mq_msg ***msgs, size_t *n,
                 mq_fetch_info *info);

/* What settling does to the messages delivered. */
enum fetch_verb {
    FETCH_ACK,   /* done: never delivered again */
    FETCH_NACK,  /* delivered again after a delay */
    FETCH_TOUCH, /* still being worked on: extend the ack deadline */
    FETCH_TERM,  /* dead-letter now */
};

/* Settles @n sequence numbers of @sub of @queue (names as sent) in one
 * request, with @delay_ms for FETCH_NACK and @reason (may be NULL) for
 * FETCH_TERM. Returns MQ_OK or the request's error. */
mq_err fetch_settle(mq_client *c, const char *queue, const char *sub,
                    const uint64_t *seqs, size_t n, enum fetch_verb verb,
                    uint64_t delay_ms, const char *reason, uint64_t timeout_ms);

#endif
