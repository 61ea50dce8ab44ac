/* drain.h: consuming a subscription until it runs dry, for cluster tests. */
#ifndef MQ_TEST_DRAIN_H
#define MQ_TEST_DRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "mq.h"

/* Called for each message fetched, before it is acked. */
typedef void (*drain_cb)(void *arg, const mq_msg *m);

struct drain_stats {
    size_t messages; /* deliveries received */
    size_t fetches;
    size_t errors; /* failed fetches or acks (retried) */
    mq_err last_err;
};

/* Fetches from @queue/@sub (up to @batch per fetch) and acks what it gets,
 * until @idle_ms pass with nothing new, or @stop (may be NULL) becomes
 * non-zero, or @max_ms pass. Errors are counted and retried. */
void drain(mq_client *c, const char *queue, const char *sub, size_t batch,
           int idle_ms, int max_ms, const volatile int *stop, drain_cb cb,
           void *arg, struct drain_stats *st);

#endif
