/* subadmin.h: subscription administration (mq_sub_*) and the
 * field-for-field mapping between mq.h's subscription structs and
 * mq.proto's SubConfig/SubInfo. */
#ifndef MQ_CLIENT_SUBADMIN_H
#define MQ_CLIENT_SUBADMIN_H

#include "mq.h"
#include "mq.pb-c.h"

/* Points @pb at @c's fields and at @qname, the queue's name to send
 * (borrowed: @pb lives no longer than either); @pb->filters is @c's
 * array. */
void subadmin_config_to_pb(Mq__V1__SubConfig *pb, const mq_sub_config *c,
                           const char *qname);

/* Copies @pb into @out; names are cut to their fields' size; filters are
 * joined with ",", ending with "..." when they do not fit. */
void subadmin_info_from_pb(mq_sub_info *out, const Mq__V1__SubInfo *pb);

/* Checks @c as the node would, before sending: names (the queue's in
 * namespace @ns, may be NULL), start, filters; writes the queue's name to
 * send to @qname. Returns MQ_OK or MQ_ERR_INVALID (mq_errmsg names the
 * field). */
mq_err subadmin_config_check(const mq_sub_config *c, const char *ns,
                             char qname[MQ_QNAME_MAX + 1]);

#endif
