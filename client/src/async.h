/* async.h: asynchronous publishing (mq_publish_async, mq_flush).
 *
 * Threads: mq_publish_async and mq_flush run on the caller's threads; they
 * only queue messages and wait on condition variables. max_inflight_batches
 * sender threads, started at the first mq_publish_async, each take a batch
 * from one queue's pending messages, publish it synchronously (publish.c,
 * with retries and the same ids) and call the callbacks of its messages, in
 * order, on that sender thread. So up to max_inflight_batches requests are
 * in flight, and the batches grow by themselves while all senders are busy.
 * One mutex (struct async's) guards all state; no callback runs under it. */
#ifndef MQ_CLIENT_ASYNC_H
#define MQ_CLIENT_ASYNC_H

#include "mq.h"

struct async;

/* Starts asynchronous publishing for @c: the sender threads. Returns MQ_OK
 * and sets *out, or MQ_ERR_NO_MEMORY (no memory or no thread). */
mq_err async_new(struct async **out, mq_client *c);

/* Refuses new publishes (MQ_ERR_CANCELED) and tells the senders to take no
 * more batches. Returns at once. */
void async_close_begin(struct async *a);

/* Waits for the senders (call conn_shutdown first, so that their requests
 * end at once), calls the callback of every publish still queued with
 * MQ_ERR_CANCELED, and frees @a. */
void async_free(struct async *a);

#endif
