/* secret.c: drawing secrets and hashing them with mbedTLS (see
 * secret.h). */
#include "secret.h"

#include <errno.h>
#include <mbedtls/constant_time.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <string.h>
#include <sys/random.h>

mq_err secret_random(void *buf, size_t len, struct errmsg *e)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            errmsg_set(e, "getrandom: %s", strerror(errno));
            return MQ_ERR_INTERNAL;
        }
        p += n;
        len -= (size_t)n;
    }
    return MQ_OK;
}

void secret_sha256(const void *data, size_t len, uint8_t out[32])
{
    mbedtls_sha256_ret(data, len, out, 0);
}

void secret_hash_fast(const uint8_t salt[KEY_SALT_BYTES],
                      const uint8_t secret[SECRET_BYTES],
                      uint8_t out[KEY_HASH_BYTES])
{
    uint8_t buf[KEY_SALT_BYTES + SECRET_BYTES];
    memcpy(buf, salt, KEY_SALT_BYTES);
    memcpy(buf + KEY_SALT_BYTES, secret, SECRET_BYTES);
    mbedtls_sha256_ret(buf, sizeof buf, out, 0);
    secret_wipe(buf, sizeof buf);
}

mq_err secret_hash_kdf(const void *pw, size_t len,
                       const uint8_t salt[KEY_SALT_BYTES], uint32_t iterations,
                       uint8_t out[KEY_HASH_BYTES])
{
    mbedtls_md_context_t ctx;
    mq_err rv = MQ_OK;
    int ret;

    mbedtls_md_init(&ctx);
    ret =
        mbedtls_md_setup(&ctx, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
    if (ret == 0) {
        ret = mbedtls_pkcs5_pbkdf2_hmac(&ctx, pw, len, salt, KEY_SALT_BYTES,
                                        iterations, KEY_HASH_BYTES, out);
        if (ret != 0) {
            rv = MQ_ERR_INTERNAL;
        }
    } else {
        rv = ret == MBEDTLS_ERR_MD_ALLOC_FAILED ? MQ_ERR_NO_MEMORY
                                                : MQ_ERR_INTERNAL;
    }
    mbedtls_md_free(&ctx);
    return rv;
}

int secret_equal(const void *a, const void *b, size_t n)
{
    return mbedtls_ct_memcmp(a, b, n) == 0;
}

mq_err secret_new(struct key_secret *out, uint8_t secret[SECRET_BYTES],
                  struct errmsg *e)
{
    memset(out, 0, sizeof *out);
    out->kind = KEY_HASH_SHA256;
    if (secret_random(secret, SECRET_BYTES, e) != MQ_OK ||
        secret_random(out->salt, KEY_SALT_BYTES, e) != MQ_OK) {
        return MQ_ERR_INTERNAL;
    }
    secret_hash_fast(out->salt, secret, out->hash);
    return MQ_OK;
}

mq_err secret_new_kdf(struct key_secret *out, const void *pw, size_t len,
                      uint32_t iterations, struct errmsg *e)
{
    memset(out, 0, sizeof *out);
    out->kind = KEY_HASH_PBKDF2;
    out->iterations = iterations;
    if (secret_random(out->salt, KEY_SALT_BYTES, e) != MQ_OK) {
        return MQ_ERR_INTERNAL;
    }
    mq_err rv = secret_hash_kdf(pw, len, out->salt, iterations, out->hash);
    if (rv != MQ_OK) {
        errmsg_set(e, "PBKDF2 failed: %s", mq_strerror(rv));
    }
    return rv;
}

int secret_matches_fast(const struct key_secret *ks,
                        const uint8_t secret[SECRET_BYTES])
{
    uint8_t h[KEY_HASH_BYTES];
    if (ks->kind != KEY_HASH_SHA256) {
        return 0;
    }
    secret_hash_fast(ks->salt, secret, h);
    return secret_equal(h, ks->hash, KEY_HASH_BYTES);
}

int secret_matches_kdf(const struct key_secret *ks, const void *pw, size_t len)
{
    uint8_t h[KEY_HASH_BYTES];
    if (ks->kind != KEY_HASH_PBKDF2 ||
        secret_hash_kdf(pw, len, ks->salt, ks->iterations, h) != MQ_OK) {
        return 0;
    }
    return secret_equal(h, ks->hash, KEY_HASH_BYTES);
}

void secret_wipe(void *p, size_t n)
{
    mbedtls_platform_zeroize(p, n);
}
