/* rpc_members.h: membership (node add and remove, with a standby caught up
 * before it votes), leader transfer and the member list. Each handler answers
 * @call exactly once and frees it. Loop thread only. */
#ifndef MQ_RPC_MEMBERS_H
#define MQ_RPC_MEMBERS_H

#include "call.h"

void rpc_node_add(struct call *call);
void rpc_node_remove(struct call *call);
void rpc_leader_transfer(struct call *call);
void rpc_members(struct call *call);
void rpc_members_leader_lost(struct rpc *r);
void rpc_members_close(struct rpc *r);
/* The configuration as Member messages: *mem and *memp (both freed with
 * mq_free) hold *n entries that point into raft's configuration, valid
 * until it changes. MQ_OK or MQ_ERR_NO_MEMORY. */
mq_err rpc_members_fill(struct rpc *r, Mq__V1__Member **mem,
                        Mq__V1__Member ***memp, size_t *n);

#endif
