/* secret.h: secrets and their hashes (mbedTLS). A secret the node draws
 * has 256 random bits from the kernel (getrandom) and is stored as
 * SHA-256(salt || secret); a secret a person chose (the bootstrap secret,
 * at least 32 characters) as PBKDF2-HMAC-SHA256 with a salt and
 * SECRET_KDF_ITERATIONS iterations, slow on purpose. Comparisons of hashes
 * take the same time whatever the bytes. Thread-safe (no state). */
#ifndef MQ_SECRET_H
#define MQ_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "keys.h"
#include "mq.h"

#define SECRET_BYTES 32
/* PBKDF2 iterations for a chosen secret: about 0.1-0.3 s of one core. */
#define SECRET_KDF_ITERATIONS 200000u

/* Fills @buf with @len random bytes from the kernel. Returns MQ_OK, or
 * MQ_ERR_INTERNAL with @e saying why (no entropy source). */
mq_err secret_random(void *buf, size_t len, struct errmsg *e);

/* SHA-256 of @len bytes at @data, into @out. */
void secret_sha256(const void *data, size_t len, uint8_t out[32]);

/* SHA-256(@salt || @secret) into @out: the hash of a drawn secret. */
void secret_hash_fast(const uint8_t salt[KEY_SALT_BYTES],
                      const uint8_t secret[SECRET_BYTES],
                      uint8_t out[KEY_HASH_BYTES]);

/* PBKDF2-HMAC-SHA256 of @pw (@len bytes) with @salt and @iterations, 32
 * bytes into @out. Returns MQ_OK, or MQ_ERR_NO_MEMORY / MQ_ERR_INTERNAL. */
mq_err secret_hash_kdf(const void *pw, size_t len,
                       const uint8_t salt[KEY_SALT_BYTES], uint32_t iterations,
                       uint8_t out[KEY_HASH_BYTES]);

/* Whether the @n bytes at @a and @b are equal, in time that depends on @n
 * only. */
int secret_equal(const void *a, const void *b, size_t n);

/* Draws a new secret into @secret and its salt, and fills @out with its
 * hash (KEY_HASH_SHA256; created_at_ms 0, set when applied). Returns MQ_OK
 * or MQ_ERR_INTERNAL. */
mq_err secret_new(struct key_secret *out, uint8_t secret[SECRET_BYTES],
                  struct errmsg *e);

/* Fills @out with the hash of the chosen secret @pw (KEY_HASH_PBKDF2, a new
 * salt, @iterations). Slow: run it off the loop. Returns MQ_OK,
 * MQ_ERR_INTERNAL or MQ_ERR_NO_MEMORY. */
mq_err secret_new_kdf(struct key_secret *out, const void *pw, size_t len,
                      uint32_t iterations, struct errmsg *e);

/* Whether drawn secret @secret is the one @ks is the hash of (a
 * KEY_HASH_SHA256 hash; 0 for another kind). */
int secret_matches_fast(const struct key_secret *ks,
                        const uint8_t secret[SECRET_BYTES]);

/* Whether chosen secret @pw is the one @ks is the hash of (a
 * KEY_HASH_PBKDF2 hash; 0 for another kind). Slow. */
int secret_matches_kdf(const struct key_secret *ks, const void *pw, size_t len);

/* Overwrites @n bytes at @p with zeros, in a way the compiler keeps. */
void secret_wipe(void *p, size_t n);

#endif
