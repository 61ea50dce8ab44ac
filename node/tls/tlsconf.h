/* tlsconf.h: nng TLS configurations from PEM files.
 *
 * Each file is read and parsed first, so that a bad one is refused with a
 * message naming its config key, the file and the reason ("tls_key_file
 * /etc/mq/node.key: does not match the certificate of tls_cert_file ...").
 * Every configuration allows TLS 1.2 only (nng 1.5.2 on mbedTLS 2.28 has
 * no 1.3): older versions are refused by the handshake.
 *
 * An nng listener takes a configuration when it is created and another one
 * at any time (NNG_OPT_TLS_CONFIG): that is how certificates are reloaded
 * (see bridge.c). nng holds its own reference; the caller frees its own
 * with nng_tls_config_free. Any thread. */
#ifndef MQ_TLSCONF_H
#define MQ_TLSCONF_H

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "errmsg.h"
#include "mq.h"

/* The files of one TLS endpoint and the config keys they come from (for
 * messages). Borrowed. */
struct tlsconf_files {
    const char *cert_key, *cert_file; /* own certificate (chain), PEM */
    const char *key_key, *key_file;   /* its private key, PEM */
    const char *ca_key, *ca_file;     /* CA(s) that sign the other side */
    int quiet; /* no warning about the certificate's dates (probes) */
};

/* A server configuration presenting cert_file with key_file. With a
 * ca_file, the other side must present a certificate signed by it (mutual
 * TLS); without one ("" or NULL), none is asked for. Sets *out (freed with
 * nng_tls_config_free). Returns MQ_OK; MQ_ERR_INVALID with @e naming the
 * key, the file and the reason; MQ_ERR_NO_MEMORY. */
mq_err tlsconf_server(nng_tls_config **out, const struct tlsconf_files *f,
                      struct errmsg *e);

/* A client configuration that verifies the server's certificate against
 * ca_file (required) and, when @server_name is not NULL or "", that it
 * names that host; presents cert_file and key_file when given (both or
 * neither). Sets *out. Errors as tlsconf_server. */
mq_err tlsconf_client(nng_tls_config **out, const struct tlsconf_files *f,
                      const char *server_name, struct errmsg *e);

/* Checks @f's files as tlsconf_server would (without a configuration):
 * for the start, before anything is written. */
mq_err tlsconf_check(const struct tlsconf_files *f, int need_cert,
                     struct errmsg *e);

/* Whether @url is a tls+tcp:// URL. */
int tlsconf_is_tls_url(const char *url);

/* Sets TCP_NODELAY on the TLS listener @l before it starts (a small
 * request and its reply each go out at once). Returns 0 or nng's error. */
int tlsconf_nodelay_listener(nng_listener l);

/* Creates and starts a listener of @s on @url; with @tls (tls+tcp://),
 * that configuration and TCP_NODELAY. Returns 0 or nng's error. */
int tlsconf_listen(nng_listener *l, nng_socket s, const char *url,
                   nng_tls_config *tls);

/* The address a process on this machine dials to reach listener @l of
 * @url: its host (a wildcard address becomes the loopback one) into
 * @host, and the port it is bound to. Returns 1, or 0 when there is no
 * port. */
int tlsconf_local_addr(nng_listener l, const char *url, char *host, size_t len,
                       int *port);

/* A client configuration for probing this node's own listeners: verifies
 * nothing, presents @cert_file with @key_file when both are given. Errors
 * as tlsconf_server. */
mq_err tlsconf_probe(nng_tls_config **out, const char *cert_file,
                     const char *key_file, struct errmsg *e);

/* Gives the running listener @l (of @url) the configuration @cfg for the
 * connections it accepts from now on; open connections keep theirs.
 *
 * nng 1.5.2 prepares each TLS accept ahead, with the configuration of the
 * moment (tls_listener_accept allocates the next connection before one
 * arrives), so the first connection after a swap would still get the old
 * certificate. This one is used up at once: a plain TCP connection from
 * this process to the listener, sent a few bytes that are not TLS, whose
 * refusal shows that nng accepted it and prepared the next accept with
 * @cfg. Blocks up to a second. Returns MQ_OK, or an error with @e (the
 * old configuration is kept when nng refuses the new one). */
mq_err tlsconf_listener_set(nng_listener l, const char *url,
                            nng_tls_config *cfg, struct errmsg *e);

/* As tlsconf_listener_set, for a stream listener (the HTTP one) of @url. */
mq_err tlsconf_stream_listener_set(nng_stream_listener *l, const char *url,
                                   nng_tls_config *cfg, struct errmsg *e);
#endif
