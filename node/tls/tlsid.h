/* tlsid.h: a node's identity among its peers, from its peer TLS files.
 *
 * nng 1.5.2 checks that a peer's TLS certificate is signed by the cluster
 * CA but cannot tell which certificate it was, so a peer connection opens
 * with a hello (peer_hello.h) that the sender signs with the private key of
 * its certificate and that carries that certificate: the receiver checks
 * the certificate against the CA and against the host of the member's
 * peer URL in its configuration, and the signature against the
 * certificate's key. Only the holder of a key whose certificate the CA
 * signed for that host can speak for that member.
 *
 * Loop thread (one tlsid per node); tlsid_verify_with is pure (the fuzz
 * target calls it). */
#ifndef MQ_TLSID_H
#define MQ_TLSID_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "mq.h"
#include "tlsconf.h"

/* Longest signature (RSA 4096 or ECDSA) and certificate chain carried. */
#define TLSID_SIG_MAX 1024
#define TLSID_CHAIN_MAX 8
#define TLSID_CERT_MAX 16384

struct tlsid;

/* Loads the identity from @f (certificate chain, key, CA: all three
 * required). Returns MQ_OK and sets *out; errors as tlsconf_check. */
mq_err tlsid_load(struct tlsid **out, const struct tlsconf_files *f,
                  struct errmsg *e);

/* The same from PEM text (NUL-terminated): a certificate chain, its key
 * and the CA. */
mq_err tlsid_from_pem(struct tlsid **out, const char *cert, const char *key,
                      const char *ca, struct errmsg *e);

/* NULL does nothing. */
void tlsid_free(struct tlsid *id);

/* The DER bytes of certificate @i (0: this node's own, then the rest of
 * its chain) as long as @id lives; NULL past the last. */
const uint8_t *tlsid_cert(const struct tlsid *id, size_t i, size_t *len);

/* Signs the SHA-256 of @data (@len bytes) into @sig (TLSID_SIG_MAX bytes),
 * setting *sig_len. Returns MQ_OK or MQ_ERR_INTERNAL with @e. */
mq_err tlsid_sign(struct tlsid *id, const void *data, size_t len, uint8_t *sig,
                  size_t *sig_len, struct errmsg *e);

/* Checks that the certificate chain @certs (@n DER blobs, leaf first) is
 * signed by @id's CA, is valid now and names @host (as TLS would check a
 * server's name), and that @sig is the leaf's key's signature of the
 * SHA-256 of @data. Returns MQ_OK, or MQ_ERR_INVALID with @e saying why
 * ("certificate not trusted: expired", "signature does not verify"). */
mq_err tlsid_verify(const struct tlsid *id, const uint8_t *const *certs,
                    const size_t *cert_lens, size_t n, const char *host,
                    const void *data, size_t len, const uint8_t *sig,
                    size_t sig_len, struct errmsg *e);

/* Short text for mbedTLS's certificate verification flags @flags (e.g.
 * "expired, not signed by the trusted CA") into @buf. */
const char *tlsid_flags_text(uint32_t flags, char *buf, size_t len);

#endif
