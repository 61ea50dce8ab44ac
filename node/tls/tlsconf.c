/* tlsconf.c: nng TLS configurations from PEM files (tlsconf.h).
 *
 * The PEM text is parsed with mbedTLS first (the engine under nng's TLS),
 * for messages that say what is wrong: nng itself answers "Cryptographic
 * error" to every bad file. A certificate that has expired or is not valid
 * yet is logged (WARN) but accepted: a node keeps serving what it can. */
#include "tlsconf.h"

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "log.h"
#include "pemfile.h"

int tlsconf_is_tls_url(const char *url)
{
    return url != NULL && strncmp(url, "tls+tcp://", 10) == 0;
}

static int set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Parses the PEM text @pem of @key @path as certificates into @crt. */
static mq_err parse_certs(mbedtls_x509_crt *crt, const char *pem,
                          const char *key, const char *path, struct errmsg *e)
{
    char why[128];
    int rv = mbedtls_x509_crt_parse(crt, (const unsigned char *)pem,
                                    strlen(pem) + 1);
    if (rv < 0 || crt->version == 0) {
        errmsg_set(e, "%s %s: not a PEM certificate: %s", key, path,
                   pemfile_strerror(rv, why, sizeof why));
        return MQ_ERR_INVALID;
    }
    if (rv > 0) {
        errmsg_set(e, "%s %s: %d of its certificates do not parse", key, path,
                   rv);
        return MQ_ERR_INVALID;
    }
    return MQ_OK;
}

/* Reads and checks the own certificate and key: sets *cert and *keypem
 * (mq_free) on MQ_OK. */
static mq_err load_pair(const struct tlsconf_files *f, char **cert,
                        char **keypem, struct errmsg *e)
{
    mbedtls_x509_crt crt;
    mbedtls_pk_context pk;
    char why[128];
    mq_err rv;
    int r;

    *cert = *keypem = NULL;
    if ((rv = pemfile_read(f->cert_key, f->cert_file, cert, e)) != MQ_OK ||
        (rv = pemfile_read(f->key_key, f->key_file, keypem, e)) != MQ_OK) {
        mq_free(*cert);
        *cert = NULL;
        return rv;
    }
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&pk);
    rv = parse_certs(&crt, *cert, f->cert_key, f->cert_file, e);
    if (rv == MQ_OK &&
        (r = mbedtls_pk_parse_key(&pk, (const unsigned char *)*keypem,
                                  strlen(*keypem) + 1, NULL, 0)) != 0) {
        errmsg_set(e, "%s %s: not a PEM private key (without a passphrase): %s",
                   f->key_key, f->key_file,
                   pemfile_strerror(r, why, sizeof why));
        rv = MQ_ERR_INVALID;
    }
    if (rv == MQ_OK && mbedtls_pk_check_pair(&crt.pk, &pk) != 0) {
        errmsg_set(e, "%s %s: does not match the certificate of %s %s",
                   f->key_key, f->key_file, f->cert_key, f->cert_file);
        rv = MQ_ERR_INVALID;
    }
    if (rv == MQ_OK && f->quiet) {
        /* a probe: the listener's own checks say it */
    } else if (rv == MQ_OK && mbedtls_x509_time_is_past(&crt.valid_to)) {
        LOG_WARN("%s %s: the certificate has expired: peers will refuse it",
                 f->cert_key, f->cert_file);
    } else if (rv == MQ_OK && mbedtls_x509_time_is_future(&crt.valid_from)) {
        LOG_WARN("%s %s: the certificate is not valid yet: peers will refuse "
                 "it",
                 f->cert_key, f->cert_file);
    }
    mbedtls_pk_free(&pk);
    mbedtls_x509_crt_free(&crt);
    if (rv != MQ_OK) {
        mq_free(*cert);
        mq_free(*keypem);
        *cert = *keypem = NULL;
    }
    return rv;
}

/* Reads and checks the CA file: sets *ca (mq_free) on MQ_OK. */
static mq_err load_ca(const struct tlsconf_files *f, char **ca,
                      struct errmsg *e)
{
    mbedtls_x509_crt crt;
    mq_err rv = pemfile_read(f->ca_key, f->ca_file, ca, e);
    if (rv != MQ_OK) {
        return rv;
    }
    mbedtls_x509_crt_init(&crt);
    rv = parse_certs(&crt, *ca, f->ca_key, f->ca_file, e);
    mbedtls_x509_crt_free(&crt);
    if (rv != MQ_OK) {
        mq_free(*ca);
        *ca = NULL;
    }
    return rv;
}

mq_err tlsconf_check(const struct tlsconf_files *f, int need_cert,
                     struct errmsg *e)
{
    char *cert = NULL, *key = NULL, *ca = NULL;
    mq_err rv = MQ_OK;

    if (need_cert || set(f->cert_file) || set(f->key_file)) {
        rv = load_pair(f, &cert, &key, e);
    }
    if (rv == MQ_OK && set(f->ca_file)) {
        rv = load_ca(f, &ca, e);
    }
    mq_free(cert);
    mq_free(key);
    mq_free(ca);
    return rv;
}

/* Builds a configuration in @mode from @f; @verify: check the other side
 * against ca_file. */
static mq_err build(nng_tls_config **out, nng_tls_mode mode,
                    const struct tlsconf_files *f, int own, int verify,
                    const char *server_name, struct errmsg *e)
{
    nng_tls_config *cfg = NULL;
    char *cert = NULL, *key = NULL, *ca = NULL;
    mq_err rv = MQ_OK;
    int r;

    *out = NULL;
    if (own) {
        rv = load_pair(f, &cert, &key, e);
    }
    if (rv == MQ_OK && verify) {
        rv = load_ca(f, &ca, e);
    }
    if (rv != MQ_OK) {
        goto out;
    }
    if ((r = nng_tls_config_alloc(&cfg, mode)) != 0) {
        errmsg_set(e, "TLS configuration: %s", nng_strerror(r));
        rv = r == NNG_ENOMEM ? MQ_ERR_NO_MEMORY : MQ_ERR_INTERNAL;
        goto out;
    }
    /* TLS 1.2 and nothing older; nng treats 1.3 as 1.2 on mbedTLS 2. */
    if ((r = nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_3)) != 0) {
        errmsg_set(e, "TLS versions: %s", nng_strerror(r));
        rv = MQ_ERR_INTERNAL;
        goto out;
    }
    if (own && (r = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0) {
        errmsg_set(e, "%s %s: %s", f->cert_key, f->cert_file, nng_strerror(r));
        rv = MQ_ERR_INVALID;
        goto out;
    }
    if (verify && (r = nng_tls_config_ca_chain(cfg, ca, NULL)) != 0) {
        errmsg_set(e, "%s %s: %s", f->ca_key, f->ca_file, nng_strerror(r));
        rv = MQ_ERR_INVALID;
        goto out;
    }
    if (set(server_name) &&
        (r = nng_tls_config_server_name(cfg, server_name)) != 0) {
        errmsg_set(e, "TLS server name %s: %s", server_name, nng_strerror(r));
        rv = MQ_ERR_INVALID;
        goto out;
    }
    r = nng_tls_config_auth_mode(cfg, verify ? NNG_TLS_AUTH_MODE_REQUIRED
                                             : NNG_TLS_AUTH_MODE_NONE);
    if (r != 0) {
        errmsg_set(e, "TLS authentication mode: %s", nng_strerror(r));
        rv = MQ_ERR_INTERNAL;
        goto out;
    }
    *out = cfg;
    cfg = NULL;
out:
    if (cfg != NULL) {
        nng_tls_config_free(cfg);
    }
    mq_free(cert);
    mq_free(key);
    mq_free(ca);
    return rv;
}

mq_err tlsconf_server(nng_tls_config **out, const struct tlsconf_files *f,
                      struct errmsg *e)
{
    return build(out, NNG_TLS_MODE_SERVER, f, 1, set(f->ca_file), NULL, e);
}

mq_err tlsconf_client(nng_tls_config **out, const struct tlsconf_files *f,
                      const char *server_name, struct errmsg *e)
{
    if (!set(f->ca_file)) {
        errmsg_set(e, "%s: not set: a TLS client must verify the server",
                   f->ca_key);
        return MQ_ERR_INVALID;
    }
    if (set(f->cert_file) != set(f->key_file)) {
        errmsg_set(e, "%s and %s: give both or neither", f->cert_key,
                   f->key_key);
        return MQ_ERR_INVALID;
    }
    return build(out, NNG_TLS_MODE_CLIENT, f, set(f->cert_file), 1, server_name,
                 e);
}

/* Connects to the listener at @host:@port in plain TCP, sends bytes that
 * are not a TLS record and waits (up to @ms) for the listener to close the
 * connection. */
static void use_up_accept(const char *host, int port, int ms)
{
    static const char junk[] = "\r\n\r\nnot TLS: the listener's TLS "
                               "configuration changed\r\n";
    char url[300];
    nng_stream_dialer *d = NULL;
    nng_stream *s = NULL;
    nng_aio *aio = NULL;
    nng_iov iov;
    char buf[64];

    snprintf(url, sizeof url,
             strchr(host, ':') ? "tcp://[%s]:%d" : "tcp://%s:%d", host, port);
    if (nng_aio_alloc(&aio, NULL, NULL) != 0 ||
        nng_stream_dialer_alloc(&d, url) != 0) {
        goto out;
    }
    nng_aio_set_timeout(aio, ms);
    nng_stream_dialer_dial(d, aio);
    nng_aio_wait(aio);
    if (nng_aio_result(aio) != 0) {
        goto out;
    }
    s = nng_aio_get_output(aio, 0);
    iov.iov_buf = (void *)junk;
    iov.iov_len = sizeof junk - 1;
    nng_aio_set_iov(aio, 1, &iov);
    nng_stream_send(s, aio);
    nng_aio_wait(aio);
    for (int i = 0; i < 8 && nng_aio_result(aio) == 0; i++) {
        iov.iov_buf = buf;
        iov.iov_len = sizeof buf;
        nng_aio_set_iov(aio, 1, &iov);
        nng_stream_recv(s, aio); /* ends when the listener closes it */
        nng_aio_wait(aio);
    }
out:
    /* The aio first (nng 1.5.2's timer thread, see lwatch.c). */
    if (aio != NULL) {
        nng_aio_free(aio);
    }
    if (s != NULL) {
        nng_stream_free(s);
    }
    if (d != NULL) {
        nng_stream_dialer_free(d);
    }
}

int tlsconf_nodelay_listener(nng_listener l)
{
    return nng_listener_set_bool(l, NNG_OPT_TCP_NODELAY, true);
}

int tlsconf_listen(nng_listener *l, nng_socket s, const char *url,
                   nng_tls_config *tls)
{
    int rv;
    if ((rv = nng_listener_create(l, s, url)) != 0 ||
        (tls != NULL &&
         ((rv = nng_listener_set_ptr(*l, NNG_OPT_TLS_CONFIG, tls)) != 0 ||
          (rv = tlsconf_nodelay_listener(*l)) != 0))) {
        return rv;
    }
    return nng_listener_start(*l, 0);
}

/* The host to dial for a listener of @url (a wildcard address becomes the
 * loopback one), into @host (at least sizeof "127.0.0.1"). */
static void local_host(const char *url, char *host, size_t len)
{
    pemfile_url_host(url, host, len);
    if (host[0] == '\0' || strcmp(host, "*") == 0 ||
        strcmp(host, "0.0.0.0") == 0) {
        strcpy(host, "127.0.0.1");
    } else if (strcmp(host, "::") == 0) {
        strcpy(host, "::1");
    }
}

/* The listener's port: @bound when known, else @url's. */
static int url_port(const char *url, int bound)
{
    const char *colon = strrchr(url, ':');
    if (bound > 0) {
        return bound;
    }
    return colon != NULL ? atoi(colon + 1) : 0;
}

int tlsconf_local_addr(nng_listener l, const char *url, char *host, size_t len,
                       int *port)
{
    int bound = 0;
    if (len < sizeof "127.0.0.1") {
        return 0;
    }
    local_host(url, host, len);
    if (nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &bound) != 0) {
        bound = 0;
    }
    *port = url_port(url, bound);
    return *port > 0;
}

mq_err tlsconf_stream_listener_set(nng_stream_listener *l, const char *url,
                                   nng_tls_config *cfg, struct errmsg *e)
{
    char host[256];
    int bound = 0, port, rv;

    if ((rv = nng_stream_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg)) != 0) {
        errmsg_set(e, "listener %s: new TLS configuration: %s", url,
                   nng_strerror(rv));
        return MQ_ERR_INTERNAL;
    }
    local_host(url, host, sizeof host);
    if (nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &bound) != 0) {
        bound = 0;
    }
    if ((port = url_port(url, bound)) > 0) {
        use_up_accept(host, port, 1000);
    }
    return MQ_OK;
}

mq_err tlsconf_probe(nng_tls_config **out, const char *cert_file,
                     const char *key_file, struct errmsg *e)
{
    struct tlsconf_files f = {.cert_key = "certificate",
                              .cert_file = cert_file,
                              .key_key = "key",
                              .key_file = key_file,
                              .quiet = 1};
    int own = set(cert_file) && set(key_file);
    return build(out, NNG_TLS_MODE_CLIENT, &f, own, 0, NULL, e);
}

mq_err tlsconf_listener_set(nng_listener l, const char *url,
                            nng_tls_config *cfg, struct errmsg *e)
{
    char host[256];
    int port = 0, rv;

    if ((rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg)) != 0) {
        errmsg_set(e, "listener %s: new TLS configuration: %s", url,
                   nng_strerror(rv));
        return MQ_ERR_INTERNAL;
    }
    if (tlsconf_local_addr(l, url, host, sizeof host, &port)) {
        use_up_accept(host, port, 1000);
    }
    return MQ_OK;
}
