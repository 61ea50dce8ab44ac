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

/* The route of the reads any node answers: catch-up reads and message
 * status lookups. */
enum conn_route read_route(const mq_client *c);

#endif
