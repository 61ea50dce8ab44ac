/* status.h: mq_cluster_status: what each node of the client's list says
 * about itself and the cluster. */
#ifndef MQ_CLIENT_STATUS_H
#define MQ_CLIENT_STATUS_H

#include "mq.h"
#include "mq.pb-c.h"

/* Fills @out (url and err already set) from node's reply @r. */
void status_from_pb(mq_node_status *out, const Mq__V1__StatusReply *r);

#endif
