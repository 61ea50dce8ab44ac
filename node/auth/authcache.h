/* authcache.h: the node's memory of tokens it verified with the slow hash
 * (bootstrap secrets), so that a request pays one SHA-256 instead of the
 * KDF. Entries are keyed by SHA-256(pepper || token), the pepper drawn
 * when the node starts: the cache never holds a token, and its keys mean
 * nothing to another process. An entry names the key and its gen: a key
 * changed or gone (keys.h) makes it a miss. Only successful verifications
 * are kept, at most AUTHCACHE_SLOTS, the least recently used replaced.
 * In memory only. Loop thread only. */
#ifndef MQ_AUTHCACHE_H
#define MQ_AUTHCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define AUTHCACHE_SLOTS 64
#define AUTHCACHE_DIGEST 32

struct authcache_entry {
    uint8_t digest[AUTHCACHE_DIGEST];
    char name[MQ_NAME_MAX + 1];
    uint64_t gen;
    uint64_t used; /* tick of the last hit; 0: empty slot */
};

struct authcache {
    uint8_t pepper[32];
    struct authcache_entry slots[AUTHCACHE_SLOTS];
    uint64_t tick;
};

/* Empties @c and sets its pepper. */
void authcache_init(struct authcache *c, const uint8_t pepper[32]);

/* The digest of @token (@len bytes) that entries are keyed by. */
void authcache_digest(const struct authcache *c, const void *token, size_t len,
                      uint8_t out[AUTHCACHE_DIGEST]);

/* Whether @digest was verified for @k as it is now (its name and gen). */
int authcache_hit(struct authcache *c, const uint8_t digest[AUTHCACHE_DIGEST],
                  const struct key *k);

/* Remembers that @digest was verified for @k (as it is now). */
void authcache_put(struct authcache *c, const uint8_t digest[AUTHCACHE_DIGEST],
                   const struct key *k);

/* Forgets everything (the pepper stays). */
void authcache_clear(struct authcache *c);

#endif
