/* peer_hello.h: the hello that opens a peer connection when peer TLS is
 * on, and binds the connection to a member id.
 *
 * nng 1.5.2 verifies that the other end's TLS certificate is signed by the
 * cluster CA but cannot tell the receiver which certificate it was. So the
 * sender's first message on each new connection is a PeerMessage whose
 * body is a PeerHello: the receiver's id, 16 fresh random bytes, the
 * sender's peer certificate chain, and a signature by that certificate's
 * key over (peer_hello_signed): a tag, the cluster name, sender and
 * receiver ids, the send time, the nonce, and the sender's peer and client
 * URLs. The receiver accepts it when the certificate chains to its
 * peer_tls_ca_file and names the host of that member's peer URL in its
 * raft configuration (of the URL the sender gives when it is not a member:
 * a node being added, or a removed one asking for votes), the signature
 * verifies, it is addressed to this node, its time is within
 * PEER_HELLO_MAX_AGE_MS (plus max_clock_skew_ms) of the receiver's clock,
 * and its nonce was not seen before (a replayed hello is refused).
 *
 * Pure functions apart from allocation and tlsid's randomness: the fuzz
 * target runs peer_hello_shape and peer_hello_verify on random bytes. */
#ifndef MQ_PEER_HELLO_H
#define MQ_PEER_HELLO_H

#include <nng/nng.h>
#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "mq.h"
#include "peer_codec.h"
#include "raft.pb-c.h"
#include "tlsid.h"

#define PEER_HELLO_NONCE 16
#define PEER_HELLO_MAX_AGE_MS 60000
/* Nonces remembered against replays (PEER_HELLO_MAX_AGE_MS covers them). */
#define PEER_HELLO_SEEN 1024

/* The nonces of the hellos accepted lately. */
struct peer_hello_seen {
    uint8_t nonce[PEER_HELLO_SEEN][PEER_HELLO_NONCE];
    size_t next, n;
};

/* Encodes a hello from @self (its now_ms stamped) to node @to_id into a
 * new nng message (*out; the caller sends or frees it), signed with @id;
 * with @id NULL (peer TLS off), a plain hello without certificate and
 * signature, which only names the sender (its connection is then bound to
 * a member id on the sender's word, as its messages would be).
 * @cluster_name is the configured name (the hash in @self is not signed).
 * Returns MQ_OK, or an error with @e. */
mq_err peer_hello_encode(const struct peer_self *self, const char *cluster_name,
                         uint64_t to_id, struct tlsid *id, nng_msg **out,
                         struct errmsg *e);

/* Whether the PeerHello @h has the shape peer_hello_encode gives it (a
 * receiver id, PEER_HELLO_NONCE bytes of nonce; and either no certificate
 * and no signature, or 1 to TLSID_CHAIN_MAX certificates of at most
 * TLSID_CERT_MAX bytes and a signature of at most TLSID_SIG_MAX bytes).
 * Returns NULL or why not. */
const char *peer_hello_shape(const Mq__V1__PeerHello *h);

/* What the receiver checks a hello against. */
struct peer_hello_ctx {
    const struct tlsid *id;       /* its peer CA */
    const char *cluster_name;     /* its cluster_name */
    uint64_t self_id;             /* the receiver */
    uint64_t now_ms;              /* the receiver's wall clock */
    uint64_t max_skew_ms;         /* allowed on top of PEER_HELLO_MAX_AGE_MS */
    const char *host;             /* the certificate must name it */
    struct peer_hello_seen *seen; /* updated on success */
};

/* Checks the signed hello @pm (decoded by peer_decode, body_case HELLO)
 * as the top of this file says; a plain hello is refused. Returns MQ_OK (and
 * remembers its nonce), or MQ_ERR_INVALID with @e saying why. */
mq_err peer_hello_verify(const Mq__V1__PeerMessage *pm,
                         const struct peer_hello_ctx *ctx, struct errmsg *e);

#endif
