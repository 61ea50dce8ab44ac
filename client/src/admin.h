/* admin.h: queue administration (mq_queue_*), the field-for-field mapping
 * between mq.h's queue structs and mq.proto's QueueConfig/QueueInfo, and
 * the call that subscription administration (subadmin.h) shares. */
#ifndef MQ_CLIENT_ADMIN_H
#define MQ_CLIENT_ADMIN_H

#include "conn.h"
#include "mq.h"
#include "mq.pb-c.h"

/* A queue config's names as sent (check_qname), "" for none. */
struct admin_names {
    char queue[MQ_QNAME_MAX + 1];
    char dlq[MQ_QNAME_MAX + 1]; /* dead_letter_queue */
};

/* Points @pb at @c's fields and @names' (borrowed: @pb lives no longer
 * than either). */
void admin_queue_config_to_pb(Mq__V1__QueueConfig *pb, const mq_queue_config *c,
                              const struct admin_names *names);
/* Copies @pb into @out; names are cut to their fields' size. */
void admin_queue_info_from_pb(mq_queue_info *out, const Mq__V1__QueueInfo *pb);

/* Checks @c as the node would, before sending: names (in namespace @ns,
 * may be NULL), enums, delays; writes the names to send to @names. Returns
 * MQ_OK or MQ_ERR_INVALID (mq_errmsg names the field). */
mq_err admin_queue_config_check(const mq_queue_config *c, const char *ns,
                                struct admin_names *names);

/* Runs @req as @what (conn_call's context) on @route until the client's
 * deadline for @timeout_ms; with @want set, the reply must have that body
 * (else MQ_ERR_PROTOCOL). Sets *out as conn_call does. */
mq_err admin_call(mq_client *c, const char *what, enum conn_route route,
                  uint32_t timeout_ms, const Mq__V1__Request *req,
                  Mq__V1__Reply__BodyCase want, Mq__V1__Reply **out);

/* Frees reply @r; NULL does nothing. */
void admin_release(Mq__V1__Reply *r);

#endif
