/* fsm_keys.c: applying key ops.
 *
 * Happy path: create checks the name, grants and secret hash of the op and
 * inserts the key; update replaces grants or expiry; rotate adds a second
 * secret hash, or with retire_old keeps only the newest; revoke removes
 * the key; used moves its last-used time forward. Every replica applies
 * them alike, with the Command's time. Failure modes (recorded in the
 * op's result, nothing changed): authentication off (only the bootstrap
 * create is applied then, and only then), a bad name, grant or hash
 * (INVALID), an unknown key (NOT_FOUND), a key that exists (EXISTS), too
 * many keys (FULL), a rotate while two secrets are valid, and a revoke or
 * update that would leave no admin key (INVALID): the cluster would have
 * no way left to manage its keys. A create or rotate repeated with the
 * request id of the one that added the newest secret is a client's retry
 * whose reply was lost: it replaces that secret, so that the retry's reply
 * carries a token that works. */
#include "fsm_keys.h"

#include <string.h>

#include "alloc.h"
#include "log.h"
#include "names.h"

#include "fsm_internal.h"

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

static int check_request_id(const char *id, struct fsm_op_result *r)
{
    if (strlen(str(id)) > KEY_REQUEST_ID_MAX) {
        r->err = MQ_ERR_INVALID;
        errmsg_set(&r->e, "request id is longer than %d characters",
                   KEY_REQUEST_ID_MAX);
        return 0;
    }
    return 1;
}

/* The key named by an op, or NULL with NOT_FOUND (or INVALID when
 * authentication is off) recorded. */
static struct key *find_key(struct fsm *f, const char *name,
                            struct fsm_op_result *r)
{
    struct key *k;
    if (!f->keys.auth_on) {
        r->err = MQ_ERR_INVALID;
        errmsg_set(&r->e, "authentication is off on this cluster: there are "
                          "no keys (see auth_bootstrap_key_file)");
        return NULL;
    }
    k = keys_find(&f->keys, str(name));
    if (k == NULL) {
        r->err = MQ_ERR_NOT_FOUND;
        errmsg_set(&r->e, "key %s does not exist", str(name));
    }
    return k;
}

/* Whether the same request already added @k's newest secret. */
static int is_retry(const struct key *k, const char *request_id)
{
    return request_id != NULL && request_id[0] != '\0' &&
           strcmp(k->request_id, request_id) == 0;
}

mq_err fsm_apply_key_create(struct fsm *f, const Mq__V1__KeyCreateOp *op,
                            struct fsm_op_result *r)
{
    struct key tmp, *k;
    const char *name = str(op->name);

    if (op->bootstrap && f->keys.auth_on) {
        r->err = MQ_ERR_EXISTS;
        errmsg_set(&r->e, "authentication is on already: the bootstrap key "
                          "is applied once");
        return MQ_OK;
    }
    if (!op->bootstrap && !f->keys.auth_on) {
        (void)find_key(f, name, r); /* records why */
        return MQ_OK;
    }
    r->err = name_check(name, strlen(name), "key name", &r->e);
    if (r->err != MQ_OK || !check_request_id(op->request_id, r)) {
        return MQ_OK;
    }
    memset(&tmp, 0, sizeof tmp);
    strcpy(tmp.name, name);
    r->err = keys_grants_from(tmp.grants, &tmp.n_grants, op->grants,
                              op->n_grants, &r->e);
    if (r->err == MQ_OK) {
        r->err = keys_secret_from(&tmp.secrets[0], op->secret, &r->e);
    }
    if (r->err != MQ_OK) {
        errmsg_wrap(&r->e, "key %s", name);
        return MQ_OK;
    }
    if (op->expires_at_ms != 0 && op->expires_at_ms <= f->now_ms) {
        r->err = MQ_ERR_INVALID;
        errmsg_set(&r->e, "key %s: expiry is not in the future", name);
        return MQ_OK;
    }
    tmp.secrets[0].created_at_ms = f->now_ms;
    k = keys_find(&f->keys, name);
    if (k != NULL) {
        if (!is_retry(k, op->request_id)) {
            r->err = MQ_ERR_EXISTS;
            errmsg_set(&r->e, "key %s exists", name);
            return MQ_OK;
        }
        k->secrets[k->n_secrets - 1] = tmp.secrets[0];
        keys_touch(&f->keys, k);
        return MQ_OK;
    }
    if (f->keys.n >= KEYS_MAX) {
        r->err = MQ_ERR_FULL;
        errmsg_set(&r->e, "key %s: the cluster has %d keys, the most allowed",
                   name, KEYS_MAX);
        return MQ_OK;
    }
    tmp.n_secrets = 1;
    tmp.expires_at_ms = op->expires_at_ms;
    tmp.created_at_ms = f->now_ms;
    tmp.bootstrap = op->bootstrap != 0;
    strcpy(tmp.request_id, str(op->request_id));
    k = mq_malloc(sizeof *k);
    if (k == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    *k = tmp;
    if (keys_add(&f->keys, k) != MQ_OK) {
        mq_free(k);
        return MQ_ERR_NO_MEMORY;
    }
    if (op->bootstrap) {
        f->keys.auth_on = 1;
        fsm_note(f, LOG_LEVEL_INFO,
                 "authentication is on: bootstrap key %s applied", name);
    }
    return MQ_OK;
}

/* Refuses a change that leaves no admin key: with @k changed to @admin
 * (0 or 1), or removed (@admin 0). */
static int keeps_an_admin(struct fsm *f, const struct key *k, int admin,
                          struct fsm_op_result *r)
{
    if (key_is_admin(k) && !admin && keys_admins(&f->keys) == 1) {
        r->err = MQ_ERR_INVALID;
        errmsg_set(&r->e,
                   "key %s is the last admin key: create another admin key "
                   "first",
                   k->name);
        return 0;
    }
    return 1;
}

mq_err fsm_apply_key_update(struct fsm *f, const Mq__V1__KeyUpdateOp *op,
                            struct fsm_op_result *r)
{
    struct key *k = find_key(f, op->name, r);
    struct grant grants[KEY_GRANTS_MAX];
    size_t n_grants = 0;

    if (k == NULL) {
        return MQ_OK;
    }
    if (op->set_grants) {
        r->err = keys_grants_from(grants, &n_grants, op->grants, op->n_grants,
                                  &r->e);
        if (r->err != MQ_OK) {
            errmsg_wrap(&r->e, "key %s", k->name);
            return MQ_OK;
        }
        if (!keeps_an_admin(
                f, k, grants_allow(grants, n_grants, GRANT_ADMIN, NULL), r)) {
            return MQ_OK;
        }
    }
    if (op->set_expiry && op->expires_at_ms != 0 &&
        op->expires_at_ms <= f->now_ms) {
        r->err = MQ_ERR_INVALID;
        errmsg_set(&r->e, "key %s: expiry is not in the future", k->name);
        return MQ_OK;
    }
    if (op->set_grants) {
        memcpy(k->grants, grants, n_grants * sizeof grants[0]);
        k->n_grants = n_grants;
    }
    if (op->set_expiry) {
        k->expires_at_ms = op->expires_at_ms;
    }
    keys_touch(&f->keys, k);
    return MQ_OK;
}

mq_err fsm_apply_key_rotate(struct fsm *f, const Mq__V1__KeyRotateOp *op,
                            struct fsm_op_result *r)
{
    struct key *k = find_key(f, op->name, r);
    struct key_secret s;

    if (k == NULL || !check_request_id(op->request_id, r)) {
        return MQ_OK;
    }
    if (op->retire_old) {
        /* Idempotent: with one secret, the old one is retired already. */
        if (k->n_secrets > 1) {
            k->secrets[0] = k->secrets[k->n_secrets - 1];
            k->n_secrets = 1;
            keys_touch(&f->keys, k);
        }
        return MQ_OK;
    }
    r->err = keys_secret_from(&s, op->secret, &r->e);
    if (r->err != MQ_OK) {
        errmsg_wrap(&r->e, "key %s", k->name);
        return MQ_OK;
    }
    s.created_at_ms = f->now_ms;
    if (k->n_secrets == KEY_SECRETS_MAX) {
        if (!is_retry(k, op->request_id)) {
            r->err = MQ_ERR_INVALID;
            errmsg_set(&r->e,
                       "key %s has two valid secrets already: retire the old "
                       "one first (rotate --retire-old)",
                       k->name);
            return MQ_OK;
        }
        k->secrets[k->n_secrets - 1] = s;
    } else {
        k->secrets[k->n_secrets++] = s;
    }
    strcpy(k->request_id, str(op->request_id));
    keys_touch(&f->keys, k);
    return MQ_OK;
}

mq_err fsm_apply_key_revoke(struct fsm *f, const char *name,
                            struct fsm_op_result *r)
{
    struct key *k = find_key(f, name, r);
    if (k != NULL && keeps_an_admin(f, k, 0, r)) {
        char gone[sizeof k->name];
        strcpy(gone, k->name);
        keys_remove(&f->keys, gone);
    }
    return MQ_OK;
}

mq_err fsm_apply_key_used(struct fsm *f, const Mq__V1__KeyUsedOp *op,
                          struct fsm_op_result *r)
{
    struct key *k = find_key(f, op->name, r);
    if (k != NULL && op->at_ms > k->last_used_ms) {
        k->last_used_ms = op->at_ms;
    }
    return MQ_OK;
}
