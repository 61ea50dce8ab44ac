/* read.h: catch-up and replay reads (mq_read): stored messages of a queue
 * from any node's applied state, sent to a follower unless the client
 * reads from the leader (mq_client_opts.reads_from_leader). */
#ifndef MQ_CLIENT_READ_H
#define MQ_CLIENT_READ_H

#include "conn.h"
#include "mq.h"

/* Defaults of mq_read_opts (zero means default). */
#define READ_MAX_MESSAGES 100
#define READ_MAX_WAIT_MS 5000

/* Where a read any node answers (a catch-up read, a message status
 * lookup) goes, and what it asks of the node. With reads_from_leader, to
 * the leader only (*leader_only 1: another node answers NOT_LEADER and the
 * call follows it). Else to a follower, *min_index raised to the client's
 * own last write, so that the follower answers once it has applied it
 * (read-your-writes). With a min_index given, *max_wait_ms gets its
 * default and @call->extra_ms that wait; the client's own write alone
 * waits half an attempt timeout (a follower that has not applied it by
 * then answers TIMEOUT, and the call tries another node). */
void read_route(mq_client *c, struct conn_call *call, uint64_t *min_index,
                uint32_t *max_wait_ms, int *leader_only);

#endif
