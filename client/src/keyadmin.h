/* keyadmin.h: key administration (mq_key_*): the mapping between mq.h's
 * key structs and mq.proto's Grant and KeyInfo. */
#ifndef MQ_CLIENT_KEYADMIN_H
#define MQ_CLIENT_KEYADMIN_H

#include "mq.h"
#include "mq.pb-c.h"

/* Copies @pb into @out; names are cut to their fields' size and grants to
 * MQ_KEY_GRANTS_MAX. */
void keyadmin_info_from_pb(mq_key_info *out, const Mq__V1__KeyInfo *pb);

#endif
