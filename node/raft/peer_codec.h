/* peer_codec.h: raft messages as protobuf PeerMessages (raft.proto), both
 * ways. Pure functions of their input, apart from the allocations: so that
 * they can be fuzzed alone. */
#ifndef MQ_PEER_CODEC_H
#define MQ_PEER_CODEC_H

#include <nng/nng.h>
#include <raft.h>
#include <stdint.h>

#include "mq.h"
#include "raft.pb-c.h"

/* Who sends: stamped on every message. */
struct peer_self {
    uint64_t cluster;
    uint64_t id;
    const char *peer_url;
    const char *client_url;
    uint64_t now_ms; /* wall clock to stamp the next message with */
};

/* Encodes @m into a new nng message (*out; the caller sends or frees it).
 * Returns 0 or a raft error code (RAFT_NOMEM, RAFT_MALFORMED). @m's memory
 * is not needed once this returns. */
int peer_encode(const struct peer_self *self, const struct raft_message *m,
                nng_msg **out);

/* Encodes a notice telling a node that it is not in our configuration
 * (as of @config_index). */
int peer_encode_not_member(const struct peer_self *self, uint64_t config_index,
                           nng_msg **out);

/* Decodes @len bytes into @m. A not-member notice decodes with m->type 0
 * (see the returned message's not_member and config_index). Returns the
 * PeerMessage they came in, which
 * @m's strings point into (free it with peer_decode_free after handing @m to
 * raft), or NULL with *why saying why the bytes are refused (not a
 * PeerMessage, another cluster, a bad sender, a malformed raft message, or
 * anything else peer_encode and peer_encode_not_member never write, such
 * as a notice that also carries a raft message). What it accepts, they
 * encode back to the same message.
 * On success raft takes over @m's entries and snapshot data (raft's heap);
 * whoever does not hand @m to raft calls peer_message_release. */
Mq__V1__PeerMessage *peer_decode(const void *buf, size_t len, uint64_t cluster,
                                 struct raft_message *m, const char **why);
void peer_decode_free(Mq__V1__PeerMessage *pm);

/* Frees the entries or snapshot data of a decoded @m not given to raft. */
void peer_message_release(struct raft_message *m);

#endif
