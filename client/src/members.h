/* members.h: membership and leadership (mq_node_add, mq_node_remove,
 * mq_leader_transfer, mq_members), and the mapping of mq.proto's
 * MembersReply to mq_member. */
#ifndef MQ_CLIENT_MEMBERS_H
#define MQ_CLIENT_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

#include "mq.h"
#include "mq.pb-c.h"

/* Least deadline of mq_node_add with timeout_ms 0: the leader answers once
 * the new node has caught up, which takes longer than other calls. */
#define MEMBERS_ADD_TIMEOUT_MS 60000

/* Copies @pb into @out; strings are cut to their fields' size, and a
 * member without a role (as older nodes send) is a "voter". @leader_id is
 * the leader's id (0: none known), which sets out->leader. */
void members_member_from_pb(mq_member *out, const Mq__V1__Member *pb,
                            uint64_t leader_id);

/* Sets *out to a new array (freed with mq_members_free, never NULL on
 * success) of the *n members of @pb. Returns MQ_OK, or MQ_ERR_NO_MEMORY
 * with *out NULL and *n 0. */
mq_err members_from_pb(const Mq__V1__MembersReply *pb, mq_member **out,
                       size_t *n);

/* Whether leadership has moved as a transfer to @target (0: to any other
 * voter) asked, with @first the leader when it started and @now the
 * leader now (0: none known). */
int members_transfer_done(uint64_t target, uint64_t first, uint64_t now);

#endif
