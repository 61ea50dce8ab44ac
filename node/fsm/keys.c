/* keys.c: the key records: lookup by name, insertion and removal, and the
 * conversions from and to their protobuf form (log entries, snapshots and
 * replies share them). */
#include "keys.h"

#include <string.h>

#include "alloc.h"

void keys_init(struct keys *k)
{
    memset(k, 0, sizeof *k);
}

void keys_close(struct keys *k)
{
    for (size_t i = 0; i < k->n; i++) {
        mq_free(k->items[i]);
    }
    mq_free(k->items);
    k->items = NULL;
    k->n = 0;
}

/* Index of the first key whose name is >= @name. */
static size_t key_pos(const struct keys *k, const char *name)
{
    size_t lo = 0, hi = k->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(k->items[mid]->name, name) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

struct key *keys_find(const struct keys *k, const char *name)
{
    size_t i;
    if (name == NULL) {
        return NULL;
    }
    i = key_pos(k, name);
    if (i < k->n && strcmp(k->items[i]->name, name) == 0) {
        return k->items[i];
    }
    return NULL;
}

struct key *keys_bootstrap(const struct keys *k)
{
    for (size_t i = 0; i < k->n; i++) {
        if (k->items[i]->bootstrap) {
            return k->items[i];
        }
    }
    return NULL;
}

static mq_err keys_reserve(struct keys *k)
{
    /* items grows one at a time: keys change rarely. */
    struct key **items = mq_realloc(k->items, (k->n + 1) * sizeof *items);
    if (items == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    k->items = items;
    return MQ_OK;
}

mq_err keys_add(struct keys *k, struct key *key)
{
    size_t i = key_pos(k, key->name);
    if (keys_reserve(k) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    memmove(&k->items[i + 1], &k->items[i], (k->n - i) * sizeof *k->items);
    k->items[i] = key;
    k->n++;
    keys_touch(k, key);
    return MQ_OK;
}

void keys_remove(struct keys *k, const char *name)
{
    size_t i = key_pos(k, name);
    if (i < k->n && strcmp(k->items[i]->name, name) == 0) {
        mq_free(k->items[i]);
        memmove(&k->items[i], &k->items[i + 1],
                (k->n - i - 1) * sizeof *k->items);
        k->n--;
    }
}

void keys_touch(struct keys *k, struct key *key)
{
    key->gen = ++k->next_gen;
}

int key_is_admin(const struct key *key)
{
    return grants_allow(key->grants, key->n_grants, GRANT_ADMIN, NULL);
}

size_t keys_admins(const struct keys *k)
{
    size_t n = 0;
    for (size_t i = 0; i < k->n; i++) {
        n += key_is_admin(k->items[i]) != 0;
    }
    return n;
}

mq_err keys_grants_from(struct grant *out, size_t *n_out,
                        Mq__V1__Grant *const *pb, size_t n, struct errmsg *e)
{
    if (n > KEY_GRANTS_MAX) {
        errmsg_set(e, "%zu grants, at most %d are allowed", n, KEY_GRANTS_MAX);
        return MQ_ERR_INVALID;
    }
    for (size_t i = 0; i < n; i++) {
        const char *ns = pb[i]->ns ? pb[i]->ns : "";
        memset(&out[i], 0, sizeof out[i]);
        if (strlen(ns) > GRANT_NS_MAX) {
            errmsg_set(e, "grant %zu: namespace pattern is longer than %d",
                       i + 1, GRANT_NS_MAX);
            return MQ_ERR_INVALID;
        }
        strcpy(out[i].ns, ns);
        out[i].deny = pb[i]->deny != 0;
        if (pb[i]->verbs > 0xff) {
            errmsg_set(e, "grant on %s: unknown verbs 0x%x", ns,
                       (unsigned)pb[i]->verbs);
            return MQ_ERR_INVALID;
        }
        out[i].verbs = (uint8_t)pb[i]->verbs;
        if (grant_check(&out[i], e) != MQ_OK) {
            return MQ_ERR_INVALID;
        }
    }
    *n_out = n;
    return MQ_OK;
}

void keys_grants_to(Mq__V1__Grant *pb, Mq__V1__Grant **pbp,
                    const struct grant *grants, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mq__v1__grant__init(&pb[i]);
        pb[i].deny = grants[i].deny != 0;
        pb[i].ns = (char *)grants[i].ns;
        pb[i].verbs = grants[i].verbs;
        pbp[i] = &pb[i];
    }
}

mq_err keys_secret_from(struct key_secret *out, const Mq__V1__SecretHash *pb,
                        struct errmsg *e)
{
    memset(out, 0, sizeof *out);
    if (pb == NULL) {
        errmsg_set(e, "secret hash missing");
        return MQ_ERR_INVALID;
    }
    if (pb->salt.len != KEY_SALT_BYTES || pb->hash.len != KEY_HASH_BYTES) {
        errmsg_set(e,
                   "secret hash: salt of %zu bytes, hash of %zu (want %d "
                   "and %d)",
                   pb->salt.len, pb->hash.len, KEY_SALT_BYTES, KEY_HASH_BYTES);
        return MQ_ERR_INVALID;
    }
    if (pb->kind == KEY_HASH_SHA256 ? pb->iterations != 0
        : pb->kind == KEY_HASH_PBKDF2
            ? pb->iterations == 0 || pb->iterations > KEY_PBKDF2_ITERATIONS_MAX
            : 1) {
        errmsg_set(e, "secret hash: kind %u with %u iterations is unknown",
                   (unsigned)pb->kind, (unsigned)pb->iterations);
        return MQ_ERR_INVALID;
    }
    out->kind = pb->kind;
    out->iterations = pb->iterations;
    memcpy(out->salt, pb->salt.data, KEY_SALT_BYTES);
    memcpy(out->hash, pb->hash.data, KEY_HASH_BYTES);
    out->created_at_ms = pb->created_at_ms;
    return MQ_OK;
}

void keys_secret_to(Mq__V1__SecretHash *pb, const struct key_secret *s)
{
    mq__v1__secret_hash__init(pb);
    pb->kind = s->kind;
    pb->iterations = s->iterations;
    pb->salt.data = (uint8_t *)s->salt;
    pb->salt.len = KEY_SALT_BYTES;
    pb->hash.data = (uint8_t *)s->hash;
    pb->hash.len = KEY_HASH_BYTES;
    pb->created_at_ms = s->created_at_ms;
}
