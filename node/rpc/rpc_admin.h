/* rpc_admin.h: queue and subscription admin (create, info, list, delete,
 * purge, update), redrive, cancel of a scheduled message. Each
 * handler answers @call exactly once and frees it. Loop thread only. */
#ifndef MQ_RPC_ADMIN_H
#define MQ_RPC_ADMIN_H

#include "call.h"

void rpc_queue_create(struct call *call);
void rpc_queue_update(struct call *call);
void rpc_queue_info(struct call *call);
void rpc_queue_list(struct call *call);
void rpc_queue_delete(struct call *call);
void rpc_queue_purge(struct call *call);
void rpc_sub_create(struct call *call);
void rpc_sub_info(struct call *call);
void rpc_sub_list(struct call *call);
void rpc_sub_delete(struct call *call);
void rpc_redrive(struct call *call);
void rpc_cancel(struct call *call);
void rpc_reply_queue_info(struct call *call, const struct queue *q);

#endif
