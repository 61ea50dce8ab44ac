/* publish.h: synchronous publishing (mq_publish, mq_publish_batch,
 * mq_publish_batch_flags), cancelling a delayed message (mq_cancel), and
 * the pieces that asynchronous publishing (async.c) shares with it: the
 * protobuf view of a message, one PublishRequest with retries, and the
 * mapping of a PublishResult. */
#ifndef MQ_CLIENT_PUBLISH_H
#define MQ_CLIENT_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "mq.h"
#include "mq.pb-c.h"

#define PUBLISH_DEFAULT_EVENT "message"

/* Points @pb at @m's fields and at @id, with @hdrs and @hptrs
 * (m->n_headers entries each) for the headers: borrowed, @pb lives no
 * longer than @m and @id. An event that is NULL or "" becomes "message".
 * @m must have passed check_pub. */
void publish_pb_fill(Mq__V1__PubMessage *pb, Mq__V1__Header *hdrs,
                     Mq__V1__Header **hptrs, const mq_pub *m, const char *id);

/* Sends @msgs (@n, 1..MQ_MAX_BATCH, valid and with ids) to @queue (the
 * name to send, client_qname) in one PublishRequest to the leader, all or
 * none stored if @atomic, retried as conn_call does, until @timeout_ms.
 * Returns MQ_OK and sets *out to the reply (freed with
 * mq__v1__reply__free_unpacked), whose publish body has exactly @n results
 * (its index noted as the client's written index);
 * or the error of the whole request, with mq_errmsg "publish to <queue>:
 * ..." (MQ_ERR_PROTOCOL for a reply of another shape). */
mq_err publish_send(mq_client *c, const char *queue, Mq__V1__PubMessage **msgs,
                    size_t n, int atomic, uint64_t timeout_ms,
                    const _Atomic int *stop, Mq__V1__Reply **out);

/* Fills @res for message @i, of id @id: from reply @rep when it is not NULL
 * (its result @i, and the reply's durability), else with @err (the error of
 * the whole request). */
void publish_result_fill(mq_pub_result *res, const Mq__V1__PublishReply *rep,
                         size_t i, mq_err err, const char *id);

#endif
