/* keys_snap.c: the keys' section of snapshots (see keys_snap.h). Only
 * secret hashes are written; restore checks every field as apply would. */
#include "keys_snap.h"

#include <string.h>

#include "alloc.h"
#include "cmd.h"
#include "names.h"

static void put_u32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

mq_err keys_snap_pack(const struct keys *k, void **out, size_t *len)
{
    Mq__V1__KeysSnap ks = MQ__V1__KEYS_SNAP__INIT;
    size_t n_grants = 0, n_secrets = 0;
    mq_err rv = MQ_ERR_NO_MEMORY;
    uint8_t *buf = NULL;

    *out = NULL;
    *len = 0;
    if (!k->auth_on) {
        return MQ_OK;
    }
    for (size_t i = 0; i < k->n; i++) {
        n_grants += k->items[i]->n_grants;
        n_secrets += k->items[i]->n_secrets;
    }
    Mq__V1__KeySnap *snaps = mq_calloc(k->n + 1, sizeof *snaps);
    Mq__V1__KeySnap **snapp = mq_calloc(k->n + 1, sizeof *snapp);
    Mq__V1__Grant *gr = mq_calloc(n_grants + 1, sizeof *gr);
    Mq__V1__Grant **grp = mq_calloc(n_grants + 1, sizeof *grp);
    Mq__V1__SecretHash *sh = mq_calloc(n_secrets + 1, sizeof *sh);
    Mq__V1__SecretHash **shp = mq_calloc(n_secrets + 1, sizeof *shp);
    if (!snaps || !snapp || !gr || !grp || !sh || !shp) {
        goto out;
    }
    size_t g = 0, s = 0;
    for (size_t i = 0; i < k->n; i++) {
        const struct key *key = k->items[i];
        Mq__V1__KeySnap *ksn = &snaps[i];
        mq__v1__key_snap__init(ksn);
        ksn->name = (char *)key->name;
        keys_grants_to(&gr[g], &grp[g], key->grants, key->n_grants);
        ksn->grants = &grp[g];
        ksn->n_grants = key->n_grants;
        g += key->n_grants;
        for (size_t j = 0; j < key->n_secrets; j++) {
            keys_secret_to(&sh[s + j], &key->secrets[j]);
            shp[s + j] = &sh[s + j];
        }
        ksn->secrets = &shp[s];
        ksn->n_secrets = key->n_secrets;
        s += key->n_secrets;
        ksn->expires_at_ms = key->expires_at_ms;
        ksn->created_at_ms = key->created_at_ms;
        ksn->last_used_ms = key->last_used_ms;
        ksn->bootstrap = key->bootstrap != 0;
        ksn->request_id = (char *)key->request_id;
        snapp[i] = ksn;
    }
    ks.auth_on = 1;
    ks.keys = snapp;
    ks.n_keys = k->n;
    size_t n = mq__v1__keys_snap__get_packed_size(&ks);
    if (n > UINT32_MAX) {
        rv = MQ_ERR_TOO_LARGE;
        goto out;
    }
    buf = mq_malloc(KEYS_SNAP_HEADER + n);
    if (buf == NULL) {
        goto out;
    }
    memcpy(buf, KEYS_SNAP_MAGIC, 8);
    put_u32(buf + 8, (uint32_t)n);
    put_u32(buf + 12, 0);
    mq__v1__keys_snap__pack(&ks, buf + KEYS_SNAP_HEADER);
    *out = buf;
    *len = KEYS_SNAP_HEADER + n;
    rv = MQ_OK;
out:
    mq_free(snaps);
    mq_free(snapp);
    mq_free(gr);
    mq_free(grp);
    mq_free(sh);
    mq_free(shp);
    return rv;
}

int keys_snap_is_section(const uint8_t *p, size_t len)
{
    return len >= 8 && memcmp(p, KEYS_SNAP_MAGIC, 8) == 0;
}

/* Builds one key of the snapshot into @k. */
static mq_err restore_key(struct keys *k, const Mq__V1__KeySnap *ks,
                          struct errmsg *e)
{
    const char *name = ks->name ? ks->name : "";
    struct key *key;

    if (name_check(name, strlen(name), "key name", e) != MQ_OK) {
        return MQ_ERR_PROTOCOL;
    }
    if (keys_find(k, name) != NULL) {
        errmsg_set(e, "key %s appears twice", name);
        return MQ_ERR_PROTOCOL;
    }
    if (ks->n_secrets == 0 || ks->n_secrets > KEY_SECRETS_MAX ||
        strlen(ks->request_id ? ks->request_id : "") > KEY_REQUEST_ID_MAX) {
        errmsg_set(e, "key %s: %zu secrets, or a bad request id", name,
                   ks->n_secrets);
        return MQ_ERR_PROTOCOL;
    }
    key = mq_calloc(1, sizeof *key);
    if (key == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    strcpy(key->name, name);
    mq_err rv = keys_grants_from(key->grants, &key->n_grants, ks->grants,
                                 ks->n_grants, e);
    for (size_t i = 0; rv == MQ_OK && i < ks->n_secrets; i++) {
        rv = keys_secret_from(&key->secrets[i], ks->secrets[i], e);
    }
    if (rv != MQ_OK) {
        errmsg_wrap(e, "key %s", name);
        mq_free(key);
        return MQ_ERR_PROTOCOL;
    }
    key->n_secrets = ks->n_secrets;
    key->expires_at_ms = ks->expires_at_ms;
    key->created_at_ms = ks->created_at_ms;
    key->last_used_ms = ks->last_used_ms;
    key->bootstrap = ks->bootstrap != 0;
    strcpy(key->request_id, ks->request_id ? ks->request_id : "");
    if (keys_add(k, key) != MQ_OK) {
        mq_free(key);
        return MQ_ERR_NO_MEMORY;
    }
    return MQ_OK;
}

mq_err keys_snap_restore(struct keys *k, const uint8_t *p, size_t len,
                         size_t *used, struct errmsg *e)
{
    Mq__V1__KeysSnap *ks;
    mq_err rv = MQ_OK;

    if (len < KEYS_SNAP_HEADER || !keys_snap_is_section(p, len) ||
        get_u32(p + 12) != 0 ||
        len - KEYS_SNAP_HEADER < (size_t)get_u32(p + 8)) {
        errmsg_set(e, "keys: truncated section header");
        return MQ_ERR_PROTOCOL;
    }
    size_t n = get_u32(p + 8);
    ks = cmd_pb_unpack(&mq__v1__keys_snap__descriptor, n, p + KEYS_SNAP_HEADER,
                       &rv);
    if (ks == NULL) {
        errmsg_set(e, rv == MQ_ERR_NO_MEMORY ? "keys: out of memory"
                                             : "keys: malformed section");
        return rv;
    }
    if (!ks->auth_on || ks->n_keys > KEYS_MAX) {
        errmsg_set(e, "keys: %zu keys with authentication %s", ks->n_keys,
                   ks->auth_on ? "on" : "off");
        rv = MQ_ERR_PROTOCOL;
    }
    for (size_t i = 0; rv == MQ_OK && i < ks->n_keys; i++) {
        rv = restore_key(k, ks->keys[i], e);
    }
    if (rv == MQ_OK) {
        k->auth_on = 1;
        *used = KEYS_SNAP_HEADER + n;
    }
    mq__v1__keys_snap__free_unpacked(ks, &cmd_pb_alloc);
    return rv;
}
