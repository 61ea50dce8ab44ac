/* admin.h: queue and subscription administration (mq_queue_*, mq_sub_*)
 * and the field-for-field mapping between mq.h's structs and mq.proto's
 * QueueConfig/QueueInfo and SubConfig/SubInfo. */
#ifndef MQ_CLIENT_ADMIN_H
#define MQ_CLIENT_ADMIN_H

#include "mq.h"
#include "mq.pb-c.h"

/* Points @pb at @c's fields (borrowed: @pb lives no longer than @c). */
void admin_queue_config_to_pb(Mq__V1__QueueConfig *pb,
                              const mq_queue_config *c);
/* Copies @pb into @out; names are cut to MQ_NAME_MAX. */
void admin_queue_info_from_pb(mq_queue_info *out, const Mq__V1__QueueInfo *pb);

void admin_sub_config_to_pb(Mq__V1__SubConfig *pb, const mq_sub_config *c);
void admin_sub_info_from_pb(mq_sub_info *out, const Mq__V1__SubInfo *pb);

/* Checks @c as the node would, before sending: name, enums. Returns MQ_OK
 * or MQ_ERR_INVALID (mq_errmsg names the field). */
mq_err admin_queue_config_check(const mq_queue_config *c);
mq_err admin_sub_config_check(const mq_sub_config *c);

#endif
