/* tlsdiag.c: TLS settings for node URLs and the reason a handshake fails
 * (tlsdiag.h). */
#include "tlsdiag.h"

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lasterr.h"

static int set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

mq_err tlsdiag_files_set(struct tlsdiag_files *f, const char *ca,
                         const char *cert, const char *key)
{
    memset(f, 0, sizeof *f);
    if (set(cert) != set(key)) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "tls_cert_file and tls_key_file: give both or "
                            "neither");
    }
    if ((set(ca) && strlen(ca) >= sizeof f->ca) ||
        (set(cert) && strlen(cert) >= sizeof f->cert) ||
        (set(key) && strlen(key) >= sizeof f->key)) {
        return lasterr_fail(MQ_ERR_INVALID, "a TLS file path is too long");
    }
    snprintf(f->ca, sizeof f->ca, "%s", set(ca) ? ca : "");
    snprintf(f->cert, sizeof f->cert, "%s", set(cert) ? cert : "");
    snprintf(f->key, sizeof f->key, "%s", set(key) ? key : "");
    return MQ_OK;
}

/* The host of @url into @host. */
static void url_host(const char *url, char *host, size_t len)
{
    const char *s = strstr(url, "://");
    size_t n;

    host[0] = '\0';
    if (s == NULL) {
        return;
    }
    s += 3;
    if (*s == '[') {
        const char *end = strchr(++s, ']');
        n = end ? (size_t)(end - s) : 0;
    } else {
        n = strcspn(s, ":/");
    }
    if (n < len) {
        memcpy(host, s, n);
        host[n] = '\0';
    }
}

/* The port of @url into @port. */
static void url_port(const char *url, char *port, size_t len)
{
    const char *s = strrchr(url, ':');
    snprintf(port, len, "%s", s != NULL && strchr(s, ']') == NULL ? s + 1 : "");
    port[strcspn(port, "/")] = '\0';
}

/* Reads @path into a new NUL-terminated buffer (free), or NULL. */
static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (fp == NULL) {
        return NULL;
    }
    if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) > 0 && n < (1L << 20) &&
        fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    fclose(fp);
    return buf;
}

/* Loads @path (option @opt) into @buf, or fails naming it. */
static mq_err load(const char *opt, const char *path, char **buf)
{
    if ((*buf = read_file(path)) == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "%s %s: %s", opt, path,
                            errno ? strerror(errno) : "empty or too large");
    }
    return MQ_OK;
}

mq_err tlsdiag_config(const struct tlsdiag_files *f, const char *url,
                      nng_tls_config **out)
{
    nng_tls_config *cfg = NULL;
    char *ca = NULL, *cert = NULL, *key = NULL;
    char host[256];
    mq_err rv;
    int r;

    *out = NULL;
    if (f->ca[0] == '\0') {
        return lasterr_fail(MQ_ERR_INVALID,
                            "%s: a tls+tcp:// URL needs a CA file "
                            "(tls_ca_file, mqctl --tls-ca) to verify the node",
                            url);
    }
    errno = 0;
    if ((rv = load("tls_ca_file", f->ca, &ca)) != MQ_OK ||
        (f->cert[0] && (rv = load("tls_cert_file", f->cert, &cert)) != MQ_OK) ||
        (f->key[0] && (rv = load("tls_key_file", f->key, &key)) != MQ_OK)) {
        goto out;
    }
    url_host(url, host, sizeof host);
    if ((r = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT)) != 0) {
        rv = lasterr_fail(MQ_ERR_NO_MEMORY, "TLS configuration: %s",
                          nng_strerror(r));
        goto out;
    }
    if ((r = nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_3)) != 0 ||
        (r = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED)) != 0 ||
        (host[0] && (r = nng_tls_config_server_name(cfg, host)) != 0)) {
        rv = lasterr_fail(MQ_ERR_INTERNAL, "TLS configuration for %s: %s", url,
                          nng_strerror(r));
        goto out;
    }
    if ((r = nng_tls_config_ca_chain(cfg, ca, NULL)) != 0) {
        rv = lasterr_fail(MQ_ERR_INVALID,
                          "tls_ca_file %s: not a PEM certificate (%s)", f->ca,
                          nng_strerror(r));
        goto out;
    }
    if (cert != NULL &&
        (r = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0) {
        rv = lasterr_fail(MQ_ERR_INVALID,
                          "tls_cert_file %s with tls_key_file %s: not a PEM "
                          "certificate and its key (%s)",
                          f->cert, f->key, nng_strerror(r));
        goto out;
    }
    *out = cfg;
    cfg = NULL;
    rv = MQ_OK;
out:
    if (cfg != NULL) {
        nng_tls_config_free(cfg);
    }
    free(ca);
    free(cert);
    free(key);
    return rv;
}

/* Short text for mbedTLS's certificate verification flags. */
static void flags_text(uint32_t flags, char *buf, size_t len)
{
    static const struct {
        uint32_t flag;
        const char *text;
    } names[] = {
        {MBEDTLS_X509_BADCERT_EXPIRED, "expired"},
        {MBEDTLS_X509_BADCERT_FUTURE, "not valid yet"},
        {MBEDTLS_X509_BADCERT_NOT_TRUSTED,
         "peer certificate not trusted (not signed by the CA of tls_ca_file)"},
        {MBEDTLS_X509_BADCERT_CN_MISMATCH,
         "name mismatch (the certificate does not name the URL's host)"},
        {MBEDTLS_X509_BADCERT_REVOKED, "revoked"},
        {MBEDTLS_X509_BADCERT_KEY_USAGE, "key usage does not allow it"},
        {MBEDTLS_X509_BADCERT_EXT_KEY_USAGE,
         "extended key usage does not allow it"},
        {MBEDTLS_X509_BADCERT_MISSING, "no certificate"},
        {MBEDTLS_X509_BADCERT_BAD_MD, "signed with an unacceptable hash"},
        {MBEDTLS_X509_BADCERT_BAD_KEY, "unacceptable key"},
    };
    size_t at = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if ((flags & names[i].flag) && at < len) {
            at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? ", " : "",
                                   names[i].text);
        }
    }
    if (at == 0) {
        snprintf(buf, len, "flags 0x%x", (unsigned)flags);
    }
}

/* The probe's socket, for its send and receive callbacks. */
struct probe_io {
    int fd;
    int timeout_ms;
};

/* Sends without SIGPIPE: a node that closes the connection must not end
 * the application. */
static int probe_send(void *arg, const unsigned char *buf, size_t len)
{
    struct probe_io *io = arg;
    ssize_t n = send(io->fd, buf, len, MSG_NOSIGNAL);
    if (n < 0) {
        return errno == EPIPE || errno == ECONNRESET
                   ? MBEDTLS_ERR_NET_CONN_RESET
                   : MBEDTLS_ERR_NET_SEND_FAILED;
    }
    return (int)n;
}

static int probe_recv(void *arg, unsigned char *buf, size_t len)
{
    struct probe_io *io = arg;
    struct pollfd p = {.fd = io->fd, .events = POLLIN};
    int rv = poll(&p, 1, io->timeout_ms);
    if (rv == 0) {
        return MBEDTLS_ERR_SSL_TIMEOUT;
    }
    if (rv < 0) {
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
    ssize_t n = recv(io->fd, buf, len, 0);
    if (n < 0) {
        return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET
                                   : MBEDTLS_ERR_NET_RECV_FAILED;
    }
    return (int)n; /* 0: the node closed the connection */
}

/* A TCP connection to @host:@port made within @ms (blocking afterwards),
 * or -1 with @err. */
static int connect_within(const char *host, const char *port, int ms, char *err,
                          size_t len)
{
    struct addrinfo hints = {0}, *ai = NULL;
    int fd = -1, rv, soerr = 0;
    socklen_t sl = sizeof soerr;

    hints.ai_socktype = SOCK_STREAM;
    if ((rv = getaddrinfo(host, port, &hints, &ai)) != 0) {
        snprintf(err, len, "%s", gai_strerror(rv));
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, len, "%s", strerror(errno));
        freeaddrinfo(ai);
        return -1;
    }
    rv = connect(fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (rv != 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        rv = poll(&p, 1, ms);
        if (rv == 0) {
            snprintf(err, len, "no answer in %d ms", ms);
            close(fd);
            return -1;
        }
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        rv = rv < 0 || soerr != 0 ? -1 : 0;
        errno = soerr;
    }
    if (rv != 0) {
        snprintf(err, len, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

int tlsdiag_probe(const struct tlsdiag_files *f, const char *url,
                  int timeout_ms, char *why, size_t len)
{
    mbedtls_net_context net;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca, cert;
    mbedtls_pk_context key;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    char host[256], port[16], text[200];
    int rv, failed = 1;

    url_host(url, host, sizeof host);
    url_port(url, port, sizeof port);
    mbedtls_net_init(&net);
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&cert);
    mbedtls_pk_init(&key);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);

    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                              (const unsigned char *)"libmq", 5) != 0 ||
        mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT,
                                    MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
        snprintf(why, len, "TLS set-up failed");
        goto out;
    }
    if (mbedtls_x509_crt_parse_file(&ca, f->ca) != 0) {
        snprintf(why, len, "tls_ca_file %s does not load", f->ca);
        goto out;
    }
    mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    if (f->cert[0] != '\0' &&
        (mbedtls_x509_crt_parse_file(&cert, f->cert) != 0 ||
         mbedtls_pk_parse_keyfile(&key, f->key, NULL) != 0 ||
         mbedtls_ssl_conf_own_cert(&conf, &cert, &key) != 0)) {
        snprintf(why, len, "tls_cert_file %s or tls_key_file %s does not load",
                 f->cert, f->key);
        goto out;
    }
    /* Verify optionally: the handshake goes on, and the flags say why. */
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
    mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    if (mbedtls_ssl_setup(&ssl, &conf) != 0 ||
        (host[0] && mbedtls_ssl_set_hostname(&ssl, host) != 0)) {
        snprintf(why, len, "TLS set-up failed");
        goto out;
    }
    if ((net.fd = connect_within(host, port, timeout_ms, text, sizeof text)) <
        0) {
        snprintf(why, len, "cannot connect: %s", text);
        goto out;
    }
    struct probe_io pio = {.fd = net.fd, .timeout_ms = timeout_ms};
    mbedtls_ssl_set_bio(&ssl, &pio, probe_send, probe_recv, NULL);
    while ((rv = mbedtls_ssl_handshake(&ssl)) == MBEDTLS_ERR_SSL_WANT_READ ||
           rv == MBEDTLS_ERR_SSL_WANT_WRITE) {
    }
    if (rv == 0) {
        uint32_t flags = mbedtls_ssl_get_verify_result(&ssl);
        if (flags == 0) {
            failed = 0; /* the handshake works: not a TLS problem */
        } else {
            flags_text(flags, text, sizeof text);
            snprintf(why, len, "certificate verify failed: %s", text);
        }
        goto out;
    }
    switch (rv) {
    case MBEDTLS_ERR_SSL_TIMEOUT:
        snprintf(why, len, "no TLS answer in %d ms (is it a TLS port?)",
                 timeout_ms);
        break;
    case MBEDTLS_ERR_SSL_INVALID_RECORD:
    case MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO:
    case MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE:
        snprintf(why, len, "not a TLS server (is it a tcp:// port?)");
        break;
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
    case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
    case MBEDTLS_ERR_SSL_CONN_EOF:
    case MBEDTLS_ERR_NET_CONN_RESET:
    case MBEDTLS_ERR_NET_RECV_FAILED:
    case MBEDTLS_ERR_NET_SEND_FAILED:
        if (f->cert[0] != '\0') {
            snprintf(why, len,
                     "the node refused the client certificate %s (not "
                     "signed by the CA of its tls_client_ca_file?)",
                     f->cert);
        } else {
            snprintf(why, len,
                     "the node requires a client certificate (tls_cert_file "
                     "and tls_key_file, mqctl --tls-cert and --tls-key)");
        }
        break;
    default:
        mbedtls_strerror(rv, text, sizeof text);
        snprintf(why, len, "%s", text);
        break;
    }
out:
    mbedtls_ssl_close_notify(&ssl);
    mbedtls_net_free(&net);
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&cert);
    mbedtls_pk_free(&key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    return failed;
}
