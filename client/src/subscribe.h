/* subscribe.h: callback subscribe (mq_subscribe, mq_subscriber_stop).
 *
 * Threads: each subscriber has one libmq thread that loops fetch -> callback
 * per message, in order -> one ack request for the messages acked and one
 * nack request for those nacked. It retries its own errors (leader changes,
 * timeouts, even a missing subscription) with a backoff from 5 ms doubling
 * to SUBSCRIBE_BACKOFF_MAX_MS. mq_subscriber_stop sets a flag and joins the
 * thread: the fetch in progress ends within max_wait_ms plus the attempt
 * timeout (no further attempt starts), the callback in progress returns,
 * and the messages fetched but not yet handed to the callback are nacked
 * so that they come back at once. */
#ifndef MQ_CLIENT_SUBSCRIBE_H
#define MQ_CLIENT_SUBSCRIBE_H

#include "mq.h"

#define SUBSCRIBE_BATCH 100
#define SUBSCRIBE_MAX_WAIT_MS 1000
#define SUBSCRIBE_BACKOFF_MAX_MS 1000

/* Stops and frees every subscriber of @c still running (mq_client_close,
 * after conn_shutdown). */
void subscribe_stop_all(mq_client *c);

#endif
