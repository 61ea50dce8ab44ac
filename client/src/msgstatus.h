/* msgstatus.h: message status by id (mq_message_status): what became of a
 * message in each queue that knows its id. A read any node answers, sent
 * as mq_read is (read.h). */
#ifndef MQ_CLIENT_MSGSTATUS_H
#define MQ_CLIENT_MSGSTATUS_H

#include "mq.h"
#include "mq.pb-c.h"

/* Copies @pb into @out, with a new array of its subscriptions (freed with
 * the list by mq_msg_status_free). Returns MQ_OK or MQ_ERR_NO_MEMORY (then
 * @out holds no array). Names are cut to their fields' size. */
mq_err msgstatus_from_pb(mq_msg_status *out, const Mq__V1__MessageStatus *pb);

#endif
