/* keys.h: the keys of the replicated state: who may do what (docs/
 * security.md). A key has a name, one or two secret hashes (two while it
 * is rotated; never a secret), grants, an optional expiry, and the times
 * it was created and last used. Keys change only through applied Commands
 * (fsm_keys.c) and snapshots (keys_snap.c), alike on every replica.
 * Authentication is on once the bootstrap key was applied (auth_on), and
 * stays on. Loop thread only. */
#ifndef MQ_KEYS_H
#define MQ_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "grants.h"
#include "mq.h"
#include "raft.pb-c.h"

#define KEYS_MAX 10000    /* keys in a cluster */
#define KEY_GRANTS_MAX 32 /* grants of a key */
#define KEY_SECRETS_MAX 2 /* valid at once, while rotating */
#define KEY_SALT_BYTES 16
#define KEY_HASH_BYTES 32
#define KEY_REQUEST_ID_MAX 64

/* How a secret was hashed (SecretHash.kind). */
enum key_hash_kind {
    KEY_HASH_SHA256 = 1, /* SHA-256(salt || 32 random bytes) */
    KEY_HASH_PBKDF2 = 2, /* PBKDF2-HMAC-SHA256(secret, salt, iterations) */
};

/* Most PBKDF2 iterations a hash may ask for (restore and apply refuse
 * more, so that a bad entry cannot make verification take for ever). */
#define KEY_PBKDF2_ITERATIONS_MAX 10000000u

struct key_secret {
    uint32_t kind; /* enum key_hash_kind */
    uint32_t iterations;
    uint8_t salt[KEY_SALT_BYTES];
    uint8_t hash[KEY_HASH_BYTES];
    uint64_t created_at_ms;
};

struct key {
    char name[MQ_NAME_MAX + 1];
    struct grant grants[KEY_GRANTS_MAX];
    size_t n_grants;
    struct key_secret secrets[KEY_SECRETS_MAX]; /* oldest first */
    size_t n_secrets;
    uint64_t expires_at_ms; /* 0: never */
    uint64_t created_at_ms;
    uint64_t last_used_ms; /* 0: not yet */
    int bootstrap;
    /* The client's id of the create or rotate that added the newest
     * secret: a retry of it replaces that secret (its reply was lost). */
    char request_id[KEY_REQUEST_ID_MAX + 1];
    /* Not replicated: changes (to a value never used before in this
     * process) whenever the key's secrets or grants do, so that a cache of
     * verified tokens can tell a stale entry. */
    uint64_t gen;
};

struct keys {
    struct key **items; /* sorted by name */
    size_t n;
    int auth_on;
    uint64_t next_gen; /* never goes back, restore included */
};

void keys_init(struct keys *k);
void keys_close(struct keys *k);

/* The key named @name, or NULL. */
struct key *keys_find(const struct keys *k, const char *name);

/* The bootstrap key, or NULL (revoked, or auth off). */
struct key *keys_bootstrap(const struct keys *k);

/* Inserts @key (taken over on MQ_OK) in name order; gives it a new gen.
 * MQ_ERR_NO_MEMORY leaves @k unchanged. The name must be new. */
mq_err keys_add(struct keys *k, struct key *key);

/* Removes and frees key @name; nothing if there is none. */
void keys_remove(struct keys *k, const char *name);

/* Marks @key changed (a new gen). */
void keys_touch(struct keys *k, struct key *key);

/* Whether @key's grants allow admin (on every namespace). */
int key_is_admin(const struct key *key);

/* How many keys are admin keys. */
size_t keys_admins(const struct keys *k);

/* Converts protobuf grants (@pb, @n) into @out (KEY_GRANTS_MAX entries),
 * checking each (grant_check). Returns MQ_OK, or MQ_ERR_INVALID with @e
 * naming the grant. */
mq_err keys_grants_from(struct grant *out, size_t *n_out,
                        Mq__V1__Grant *const *pb, size_t n, struct errmsg *e);

/* Points @pb (n entries) at @grants' fields: borrowed. */
void keys_grants_to(Mq__V1__Grant *pb, Mq__V1__Grant **pbp,
                    const struct grant *grants, size_t n);

/* Converts a SecretHash, checking kind, sizes and iterations. */
mq_err keys_secret_from(struct key_secret *out, const Mq__V1__SecretHash *pb,
                        struct errmsg *e);

/* Points @pb at @s's fields: borrowed. */
void keys_secret_to(Mq__V1__SecretHash *pb, const struct key_secret *s);

#endif
