/* authcache.c: the cache of verified tokens (see authcache.h). A linear
 * scan of 64 slots: only tokens checked with the slow hash come here, and
 * a cluster has one such key (the bootstrap key). */
#include "authcache.h"

#include <string.h>

#include "secret.h"

void authcache_init(struct authcache *c, const uint8_t pepper[32])
{
    memset(c, 0, sizeof *c);
    memcpy(c->pepper, pepper, sizeof c->pepper);
}

void authcache_digest(const struct authcache *c, const void *token, size_t len,
                      uint8_t out[AUTHCACHE_DIGEST])
{
    uint8_t buf[32 + 512];
    if (len > sizeof buf - sizeof c->pepper) {
        len = sizeof buf - sizeof c->pepper; /* tokens are shorter */
    }
    memcpy(buf, c->pepper, sizeof c->pepper);
    memcpy(buf + sizeof c->pepper, token, len);
    secret_sha256(buf, sizeof c->pepper + len, out);
    secret_wipe(buf, sizeof buf);
}

int authcache_hit(struct authcache *c, const uint8_t digest[AUTHCACHE_DIGEST],
                  const struct key *k)
{
    for (size_t i = 0; i < AUTHCACHE_SLOTS; i++) {
        struct authcache_entry *en = &c->slots[i];
        if (en->used == 0 ||
            !secret_equal(en->digest, digest, AUTHCACHE_DIGEST)) {
            continue;
        }
        if (en->gen != k->gen || strcmp(en->name, k->name) != 0) {
            memset(en, 0, sizeof *en); /* the key changed: verify again */
            return 0;
        }
        en->used = ++c->tick;
        return 1;
    }
    return 0;
}

void authcache_put(struct authcache *c, const uint8_t digest[AUTHCACHE_DIGEST],
                   const struct key *k)
{
    struct authcache_entry *slot = &c->slots[0];
    for (size_t i = 0; i < AUTHCACHE_SLOTS; i++) {
        struct authcache_entry *en = &c->slots[i];
        if (en->used != 0 &&
            secret_equal(en->digest, digest, AUTHCACHE_DIGEST)) {
            slot = en;
            break;
        }
        if (en->used < slot->used) {
            slot = en; /* empty (0) or least recently used */
        }
    }
    memcpy(slot->digest, digest, AUTHCACHE_DIGEST);
    strcpy(slot->name, k->name);
    slot->gen = k->gen;
    slot->used = ++c->tick;
}

void authcache_clear(struct authcache *c)
{
    memset(c->slots, 0, sizeof c->slots);
}
