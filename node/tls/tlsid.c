/* tlsid.c: signing and checking the peer hello (tlsid.h). */
#include "tlsid.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "pemfile.h"

struct tlsid {
    mbedtls_x509_crt chain; /* own certificate first */
    mbedtls_x509_crt ca;
    mbedtls_pk_context key;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

void tlsid_free(struct tlsid *id)
{
    if (id == NULL) {
        return;
    }
    mbedtls_x509_crt_free(&id->chain);
    mbedtls_x509_crt_free(&id->ca);
    mbedtls_pk_free(&id->key);
    mbedtls_ctr_drbg_free(&id->drbg);
    mbedtls_entropy_free(&id->entropy);
    mq_free(id);
}

mq_err tlsid_from_pem(struct tlsid **out, const char *cert, const char *key,
                      const char *ca, struct errmsg *e)
{
    struct tlsid *id;

    *out = NULL;
    if ((id = mq_calloc(1, sizeof *id)) == NULL) {
        errmsg_set(e, "out of memory");
        return MQ_ERR_NO_MEMORY;
    }
    mbedtls_x509_crt_init(&id->chain);
    mbedtls_x509_crt_init(&id->ca);
    mbedtls_pk_init(&id->key);
    mbedtls_entropy_init(&id->entropy);
    mbedtls_ctr_drbg_init(&id->drbg);
    if (mbedtls_x509_crt_parse(&id->chain, (const unsigned char *)cert,
                               strlen(cert) + 1) != 0 ||
        mbedtls_x509_crt_parse(&id->ca, (const unsigned char *)ca,
                               strlen(ca) + 1) != 0 ||
        mbedtls_pk_parse_key(&id->key, (const unsigned char *)key,
                             strlen(key) + 1, NULL, 0) != 0 ||
        mbedtls_ctr_drbg_seed(&id->drbg, mbedtls_entropy_func, &id->entropy,
                              (const unsigned char *)"mq-peer-hello",
                              13) != 0) {
        errmsg_set(e, "cannot load the node's identity");
        tlsid_free(id);
        return MQ_ERR_INVALID;
    }
    *out = id;
    return MQ_OK;
}

mq_err tlsid_load(struct tlsid **out, const struct tlsconf_files *f,
                  struct errmsg *e)
{
    char *cert = NULL, *key = NULL, *ca = NULL;
    mq_err rv;

    *out = NULL;
    if ((rv = tlsconf_check(f, 1, e)) != MQ_OK) {
        return rv;
    }
    if ((rv = pemfile_read(f->cert_key, f->cert_file, &cert, e)) == MQ_OK &&
        (rv = pemfile_read(f->key_key, f->key_file, &key, e)) == MQ_OK &&
        (rv = pemfile_read(f->ca_key, f->ca_file, &ca, e)) == MQ_OK) {
        /* tlsconf_check parsed each file already. */
        rv = tlsid_from_pem(out, cert, key, ca, e);
        if (rv != MQ_OK) {
            errmsg_wrap(e, "%s %s", f->cert_key, f->cert_file);
        }
    }
    mq_free(cert);
    mq_free(key);
    mq_free(ca);
    return rv;
}

const uint8_t *tlsid_cert(const struct tlsid *id, size_t i, size_t *len)
{
    const mbedtls_x509_crt *c = &id->chain;
    for (; c != NULL && i > 0; i--) {
        c = c->next;
    }
    if (c == NULL || c->raw.len == 0) {
        return NULL;
    }
    *len = c->raw.len;
    return c->raw.p;
}

mq_err tlsid_sign(struct tlsid *id, const void *data, size_t len, uint8_t *sig,
                  size_t *sig_len, struct errmsg *e)
{
    unsigned char hash[32];
    char why[128];
    int rv;

    mbedtls_sha256_ret(data, len, hash, 0);
    if (mbedtls_pk_get_len(&id->key) > TLSID_SIG_MAX / 2) {
        errmsg_set(e, "the node's key is too large to sign the peer hello");
        return MQ_ERR_INTERNAL;
    }
    rv = mbedtls_pk_sign(&id->key, MBEDTLS_MD_SHA256, hash, sizeof hash, sig,
                         sig_len, mbedtls_ctr_drbg_random, &id->drbg);
    if (rv != 0) {
        errmsg_set(e, "signing the peer hello: %s",
                   pemfile_strerror(rv, why, sizeof why));
        return MQ_ERR_INTERNAL;
    }
    return MQ_OK;
}

const char *tlsid_flags_text(uint32_t flags, char *buf, size_t len)
{
    static const struct {
        uint32_t flag;
        const char *text;
    } names[] = {
        {MBEDTLS_X509_BADCERT_EXPIRED, "expired"},
        {MBEDTLS_X509_BADCERT_FUTURE, "not valid yet"},
        {MBEDTLS_X509_BADCERT_NOT_TRUSTED, "not signed by the trusted CA"},
        {MBEDTLS_X509_BADCERT_CN_MISMATCH, "name mismatch"},
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
        snprintf(buf, len, "verification failed (flags 0x%x)", (unsigned)flags);
    }
    return buf;
}

mq_err tlsid_verify(const struct tlsid *id, const uint8_t *const *certs,
                    const size_t *cert_lens, size_t n, const char *host,
                    const void *data, size_t len, const uint8_t *sig,
                    size_t sig_len, struct errmsg *e)
{
    mbedtls_x509_crt chain;
    unsigned char hash[32];
    uint32_t flags = 0;
    char why[160];
    mq_err rv = MQ_OK;

    if (n == 0 || n > TLSID_CHAIN_MAX) {
        errmsg_set(e, "hello carries %zu certificates", n);
        return MQ_ERR_INVALID;
    }
    mbedtls_x509_crt_init(&chain);
    for (size_t i = 0; i < n && rv == MQ_OK; i++) {
        if (cert_lens[i] == 0 || cert_lens[i] > TLSID_CERT_MAX ||
            mbedtls_x509_crt_parse_der(&chain, certs[i], cert_lens[i]) != 0) {
            errmsg_set(e, "hello's certificate %zu does not parse", i);
            rv = MQ_ERR_INVALID;
        }
    }
    if (rv == MQ_OK && mbedtls_x509_crt_verify(
                           &chain, (mbedtls_x509_crt *)&id->ca, NULL,
                           host[0] ? host : NULL, &flags, NULL, NULL) != 0) {
        errmsg_set(e, "certificate not accepted for host %s: %s", host,
                   tlsid_flags_text(flags, why, sizeof why));
        rv = MQ_ERR_INVALID;
    }
    if (rv == MQ_OK) {
        mbedtls_sha256_ret(data, len, hash, 0);
        if (mbedtls_pk_verify(&chain.pk, MBEDTLS_MD_SHA256, hash, sizeof hash,
                              sig, sig_len) != 0) {
            errmsg_set(e, "signature does not verify with its certificate");
            rv = MQ_ERR_INVALID;
        }
    }
    mbedtls_x509_crt_free(&chain);
    return rv;
}
