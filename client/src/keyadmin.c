/* keyadmin.c: key administration. Every call goes to the leader (it needs
 * the admin verb there anyway); create and rotate carry a request id of
 * this client's, the same on every retry of one call, so that a retry
 * whose first attempt was carried out (its reply lost) gets a token that
 * works. Tokens are copied to the caller's buffer and wiped from libmq's
 * memory. */
#include "keyadmin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "check.h"
#include "client.h"
#include "lasterr.h"

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src != NULL ? src : "");
}

void keyadmin_info_from_pb(mq_key_info *out, const Mq__V1__KeyInfo *pb)
{
    memset(out, 0, sizeof *out);
    copy_str(out->name, sizeof out->name, pb->name);
    for (size_t i = 0; i < pb->n_grants && i < MQ_KEY_GRANTS_MAX; i++) {
        out->grants[i].deny = pb->grants[i]->deny != 0;
        copy_str(out->grants[i].ns, sizeof out->grants[i].ns,
                 pb->grants[i]->ns);
        out->grants[i].verbs = pb->grants[i]->verbs;
        out->n_grants++;
    }
    out->expires_at_ms = pb->expires_at_ms;
    out->created_at_ms = pb->created_at_ms;
    out->last_used_ms = pb->last_used_ms;
    for (size_t i = 0; i < pb->n_secret_created_at_ms && i < MQ_KEY_SECRETS_MAX;
         i++) {
        out->secret_created_at_ms[i] = pb->secret_created_at_ms[i];
        out->n_secrets++;
    }
    out->bootstrap = pb->bootstrap != 0;
}

/* Grants of @cfg as protobuf, pointing into @cfg: borrowed. */
struct pb_grants {
    Mq__V1__Grant g[MQ_KEY_GRANTS_MAX];
    Mq__V1__Grant *gp[MQ_KEY_GRANTS_MAX];
};

static mq_err grants_to_pb(struct pb_grants *p, const mq_key_config *cfg)
{
    if (cfg->n_grants > MQ_KEY_GRANTS_MAX ||
        (cfg->n_grants > 0 && cfg->grants == NULL)) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "%zu grants: at most %d, and not NULL",
                            cfg->n_grants, MQ_KEY_GRANTS_MAX);
    }
    for (size_t i = 0; i < cfg->n_grants; i++) {
        const mq_grant *g = &cfg->grants[i];
        if (g->ns == NULL || g->ns[0] == '\0') {
            return lasterr_fail(MQ_ERR_INVALID, "grant %zu: no namespace",
                                i + 1);
        }
        mq__v1__grant__init(&p->g[i]);
        p->g[i].deny = g->deny != 0;
        p->g[i].ns = (char *)g->ns;
        p->g[i].verbs = g->verbs;
        p->gp[i] = &p->g[i];
    }
    return MQ_OK;
}

/* Runs @req on the leader as @what; the reply carries a key. Copies it to
 * @info and its token, if @token is not NULL, to @token. */
static mq_err key_call(mq_client *c, const char *what, uint32_t timeout_ms,
                       const Mq__V1__Request *req, mq_key_info *info,
                       char *token, size_t token_len)
{
    Mq__V1__Reply *r = NULL;
    mq_err rv = admin_call(c, what, CONN_LEADER, timeout_ms, req,
                           MQ__V1__REPLY__BODY_KEY, &r);

    if (rv == MQ_OK && r->key->key == NULL) {
        rv = lasterr_fail(MQ_ERR_PROTOCOL, "%s: the reply has no key", what);
    }
    if (rv == MQ_OK && token != NULL) {
        const char *t = r->key->token ? r->key->token : "";
        if (t[0] == '\0' || strlen(t) >= token_len) {
            rv = lasterr_fail(MQ_ERR_PROTOCOL,
                              "%s: the reply's token is missing or does not "
                              "fit %zu bytes",
                              what, token_len);
        } else {
            strcpy(token, t);
        }
    }
    if (rv == MQ_OK && info != NULL) {
        keyadmin_info_from_pb(info, r->key->key);
    }
    if (r != NULL && r->body_case == MQ__V1__REPLY__BODY_KEY &&
        r->key->token != NULL) {
        explicit_bzero(r->key->token, strlen(r->key->token));
    }
    admin_release(r);
    return rv;
}

static mq_err check_token_buf(const char *what, char *token, size_t len)
{
    if (token == NULL || len < MQ_TOKEN_MAX + 1) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "%s: the token buffer must hold %d bytes", what,
                            MQ_TOKEN_MAX + 1);
    }
    return MQ_OK;
}

MQ_API mq_err mq_key_create(mq_client *c, const mq_key_config *cfg,
                            mq_key_info *info, char *token, size_t token_len,
                            uint32_t timeout_ms)
{
    Mq__V1__KeyCreateRequest kc = MQ__V1__KEY_CREATE_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    struct pb_grants g;
    char what[MQ_NAME_MAX + 32], id[IDS_BUF];
    mq_err rv;

    if (c == NULL || cfg == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "create key: %s is NULL",
                            c == NULL ? "client" : "config");
    }
    if ((rv = check_name(cfg->name, "key name")) != MQ_OK ||
        (rv = check_token_buf("create key", token, token_len)) != MQ_OK ||
        (rv = grants_to_pb(&g, cfg)) != MQ_OK) {
        lasterr_wrap("create key");
        return rv;
    }
    snprintf(what, sizeof what, "create key %s", cfg->name);
    ids_next(&c->ids, id);
    kc.name = (char *)cfg->name;
    kc.grants = g.gp;
    kc.n_grants = cfg->n_grants;
    kc.expires_in_ms = cfg->expires_in_ms;
    kc.request_id = id;
    req.body_case = MQ__V1__REQUEST__BODY_KEY_CREATE;
    req.key_create = &kc;
    return key_call(c, what, timeout_ms, &req, info, token, token_len);
}

MQ_API mq_err mq_key_update(mq_client *c, const mq_key_config *cfg,
                            unsigned flags, mq_key_info *info,
                            uint32_t timeout_ms)
{
    Mq__V1__KeyUpdateRequest ku = MQ__V1__KEY_UPDATE_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    struct pb_grants g;
    char what[MQ_NAME_MAX + 32];
    mq_err rv;

    if (c == NULL || cfg == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "update key: %s is NULL",
                            c == NULL ? "client" : "config");
    }
    if ((rv = check_name(cfg->name, "key name")) != MQ_OK ||
        (rv = grants_to_pb(&g, cfg)) != MQ_OK) {
        lasterr_wrap("update key");
        return rv;
    }
    if ((flags & (MQ_KEY_SET_GRANTS | MQ_KEY_SET_EXPIRY)) == 0 ||
        (flags & ~(MQ_KEY_SET_GRANTS | MQ_KEY_SET_EXPIRY)) != 0) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "update key %s: flags 0x%x: give "
                            "MQ_KEY_SET_GRANTS and/or MQ_KEY_SET_EXPIRY",
                            cfg->name, flags);
    }
    snprintf(what, sizeof what, "update key %s", cfg->name);
    ku.name = (char *)cfg->name;
    ku.set_grants = (flags & MQ_KEY_SET_GRANTS) != 0;
    ku.grants = g.gp;
    ku.n_grants = ku.set_grants ? cfg->n_grants : 0;
    ku.set_expiry = (flags & MQ_KEY_SET_EXPIRY) != 0;
    ku.expires_in_ms = cfg->expires_in_ms;
    req.body_case = MQ__V1__REQUEST__BODY_KEY_UPDATE;
    req.key_update = &ku;
    return key_call(c, what, timeout_ms, &req, info, NULL, 0);
}

static mq_err rotate(mq_client *c, const char *name, int retire,
                     mq_key_info *info, char *token, size_t token_len,
                     uint32_t timeout_ms)
{
    Mq__V1__KeyRotateRequest kr = MQ__V1__KEY_ROTATE_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    const char *verb = retire ? "retire old secret of key" : "rotate key";
    char what[MQ_NAME_MAX + 32], id[IDS_BUF];
    mq_err rv;

    if (c == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "%s: client is NULL", verb);
    }
    if ((rv = check_name(name, "key name")) != MQ_OK ||
        (!retire && (rv = check_token_buf(verb, token, token_len)) != MQ_OK)) {
        lasterr_wrap("%s", verb);
        return rv;
    }
    snprintf(what, sizeof what, "%s %s", verb, name);
    ids_next(&c->ids, id);
    kr.name = (char *)name;
    kr.retire_old = retire;
    kr.request_id = id;
    req.body_case = MQ__V1__REQUEST__BODY_KEY_ROTATE;
    req.key_rotate = &kr;
    return key_call(c, what, timeout_ms, &req, info, token, token_len);
}

MQ_API mq_err mq_key_rotate(mq_client *c, const char *name, mq_key_info *info,
                            char *token, size_t token_len, uint32_t timeout_ms)
{
    return rotate(c, name, 0, info, token, token_len, timeout_ms);
}

MQ_API mq_err mq_key_retire_old(mq_client *c, const char *name,
                                mq_key_info *info, uint32_t timeout_ms)
{
    return rotate(c, name, 1, info, NULL, 0, timeout_ms);
}

MQ_API mq_err mq_key_revoke(mq_client *c, const char *name, uint32_t timeout_ms)
{
    Mq__V1__KeyRevokeRequest kr = MQ__V1__KEY_REVOKE_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__Reply *r = NULL;
    char what[MQ_NAME_MAX + 32];
    mq_err rv;

    if (c == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "revoke key: client is NULL");
    }
    if ((rv = check_name(name, "key name")) != MQ_OK) {
        lasterr_wrap("revoke key");
        return rv;
    }
    snprintf(what, sizeof what, "revoke key %s", name);
    kr.name = (char *)name;
    req.body_case = MQ__V1__REQUEST__BODY_KEY_REVOKE;
    req.key_revoke = &kr;
    rv = admin_call(c, what, CONN_LEADER, timeout_ms, &req,
                    MQ__V1__REPLY__BODY__NOT_SET, &r);
    admin_release(r);
    return rv;
}

MQ_API mq_err mq_key_info_get(mq_client *c, const char *name, mq_key_info *info,
                              uint32_t timeout_ms)
{
    Mq__V1__KeyInfoRequest ki = MQ__V1__KEY_INFO_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    char what[MQ_NAME_MAX + 32];
    mq_err rv;

    if (c == NULL || info == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "get key: %s is NULL",
                            c == NULL ? "client" : "info");
    }
    if ((rv = check_name(name, "key name")) != MQ_OK) {
        lasterr_wrap("get key");
        return rv;
    }
    snprintf(what, sizeof what, "get key %s", name);
    ki.name = (char *)name;
    req.body_case = MQ__V1__REQUEST__BODY_KEY_INFO;
    req.key_info = &ki;
    return key_call(c, what, timeout_ms, &req, info, NULL, 0);
}

MQ_API mq_err mq_key_list(mq_client *c, mq_key_info **out, size_t *n,
                          uint32_t timeout_ms)
{
    Mq__V1__KeyListRequest kl = MQ__V1__KEY_LIST_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__Reply *r = NULL;
    mq_key_info *list;
    mq_err rv;

    if (c == NULL || out == NULL || n == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "list keys: an argument is NULL");
    }
    *out = NULL;
    *n = 0;
    req.body_case = MQ__V1__REQUEST__BODY_KEY_LIST;
    req.key_list = &kl;
    rv = admin_call(c, "list keys", CONN_LEADER, timeout_ms, &req,
                    MQ__V1__REPLY__BODY_KEYS, &r);
    if (rv != MQ_OK) {
        return rv;
    }
    list = calloc(r->keys->n_keys + 1, sizeof *list);
    if (list == NULL) {
        admin_release(r);
        return lasterr_fail(MQ_ERR_NO_MEMORY, "list keys: out of memory");
    }
    for (size_t i = 0; i < r->keys->n_keys; i++) {
        keyadmin_info_from_pb(&list[i], r->keys->keys[i]);
    }
    *out = list;
    *n = r->keys->n_keys;
    admin_release(r);
    return MQ_OK;
}

MQ_API void mq_key_list_free(mq_key_info *list)
{
    free(list);
}
