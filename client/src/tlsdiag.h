/* tlsdiag.h: libmq's TLS settings for tls+tcp:// node URLs, and why a TLS
 * connection fails.
 *
 * nng 1.5.2 says only "Peer could not be authenticated" or "Cryptographic
 * error" when a handshake fails, and a socket dialed without blocking says
 * nothing at all: it keeps redialing. When a tls+tcp:// node cannot be
 * reached, libmq runs one handshake of its own (mbedTLS, as nng does, with
 * the same CA, client certificate and server name) to find out why, and
 * names it: "TLS handshake with tls+tcp://h:7001 failed: certificate
 * verify failed: expired".
 *
 * Any thread. */
#ifndef MQ_CLIENT_TLSDIAG_H
#define MQ_CLIENT_TLSDIAG_H

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <stddef.h>

#include "mq.h"

/* The client's TLS files (copied from mq_client_opts; "" when not set). */
struct tlsdiag_files {
    char ca[1024], cert[1024], key[1024];
};

/* Copies @ca, @cert and @key (NULL: not set) into @f. Returns MQ_OK, or
 * MQ_ERR_INVALID (mq_errmsg set) when a path is too long or only one of
 * cert and key is given. */
mq_err tlsdiag_files_set(struct tlsdiag_files *f, const char *ca,
                         const char *cert, const char *key);

/* A client TLS configuration for the node at @url (its host is the server
 * name checked), TLS 1.2 at least. Sets *out. Returns MQ_OK, or
 * MQ_ERR_INVALID with mq_errmsg naming the option and the file (no
 * tls_ca_file, a file that does not load). */
mq_err tlsdiag_config(const struct tlsdiag_files *f, const char *url,
                      nng_tls_config **out);

/* Connects to @url and runs a TLS handshake with @f's settings, within
 * @timeout_ms. Writes into @why (@len bytes) why it fails ("certificate
 * verify failed: expired", "not a TLS server", "connection refused", ...)
 * and returns 1; returns 0 when the handshake succeeds (the failure was
 * elsewhere: @why untouched). */
int tlsdiag_probe(const struct tlsdiag_files *f, const char *url,
                  int timeout_ms, char *why, size_t len);

#endif
