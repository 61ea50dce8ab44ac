/* rpc_keys.c: key requests (see rpc_keys.h).
 *
 * Happy path of a key write: check the request against the leader's
 * applied keys (name, grants, expiry: bad input is refused before it
 * reaches the log), draw a new secret for a create or rotate (only its
 * hash goes into the op), hand the op to group commit, and answer from
 * the FSM's result once applied: the key as it is now and, for a create or
 * rotate, the token, once. Then an entry without ops is proposed, so that
 * the followers learn at once that the change is committed and apply it:
 * the change takes effect on every node within about one round trip.
 * Failure modes: as for queue changes (rpc_admin.c): not leader, refused
 * by apply (the FSM's message), leadership lost (UNAVAILABLE: a retry of
 * a create or rotate carries the same request id and gets a working
 * token). The secret is wiped from memory once the reply is sent. */
#include "rpc_keys.h"

#include <raft.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "auth.h"
#include "cmd.h"
#include "fsm_keys.h"
#include "hash.h"
#include "log.h"
#include "names.h"
#include "rpc_keywork.h"
#include "secret.h"
#include "token.h"
#include "wallclock.h"

/* Longest expiry a key may be given: 100 years. */
#define KEYS_EXPIRES_IN_MAX_MS (100ull * 366 * 24 * 3600 * 1000)

/* One key write while it is proposed. */
struct key_req {
    struct call *call;
    Mq__V1__Op op;
    union {
        Mq__V1__KeyCreateOp kc;
        Mq__V1__KeyUpdateOp ku;
        Mq__V1__KeyRotateOp kr;
    } body;
    Mq__V1__SecretHash sh;
    struct key_secret ks;
    uint8_t secret[SECRET_BYTES];
    int has_secret;
    char name[MQ_NAME_MAX + 1];
};

/* A key as the reply shows it. */
struct key_pb {
    Mq__V1__KeyInfo ki;
    Mq__V1__Grant g[KEY_GRANTS_MAX];
    Mq__V1__Grant *gp[KEY_GRANTS_MAX];
    uint64_t secrets[KEY_SECRETS_MAX];
};

static void key_to_pb(struct key_pb *p, const struct key *k)
{
    mq__v1__key_info__init(&p->ki);
    p->ki.name = (char *)k->name;
    keys_grants_to(p->g, p->gp, k->grants, k->n_grants);
    p->ki.grants = p->gp;
    p->ki.n_grants = k->n_grants;
    p->ki.expires_at_ms = k->expires_at_ms;
    p->ki.created_at_ms = k->created_at_ms;
    p->ki.last_used_ms = k->last_used_ms;
    for (size_t i = 0; i < k->n_secrets; i++) {
        p->secrets[i] = k->secrets[i].created_at_ms;
    }
    p->ki.secret_created_at_ms = p->secrets;
    p->ki.n_secret_created_at_ms = k->n_secrets;
    p->ki.bootstrap = k->bootstrap != 0;
}

static void free_req(struct key_req *kr)
{
    secret_wipe(kr->secret, sizeof kr->secret);
    mq_free(kr);
}

static void key_done(void *arg, mq_err err, const struct fsm_op_result *res,
                     const struct fsm *f, uint64_t index)
{
    struct key_req *kr = arg;
    struct call *call = kr->call;
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__KeyReply kp = MQ__V1__KEY_REPLY__INIT;
    char token[TOKEN_KEY_MAX + 1];
    struct key_pb pb;
    const struct key *k;

    call->index = err == MQ_OK ? index : 0;
    if (err == MQ_ERR_NOT_LEADER) {
        call_reply_not_leader(call);
    } else if (err != MQ_OK) {
        call_reply_error(call, err,
                         "%s: leadership changed before the change "
                         "committed; it may or may not be made: retry",
                         call->name);
    } else if (res->err != MQ_OK) {
        call_reply_error(call, res->err, "%s", res->e.msg);
    } else {
        rpc_keys_nudge(call->rpc);
        k = keys_find(&f->keys, kr->name);
        if (k != NULL) {
            key_to_pb(&pb, k);
            kp.key = &pb.ki;
            if (kr->has_secret) {
                token_format(k->name, kr->secret, token);
                kp.token = token;
            }
            reply.body_case = MQ__V1__REPLY__BODY_KEY;
            reply.key = &kp;
        }
        call_reply(call, &reply);
        if (kr->has_secret) {
            secret_wipe(token, sizeof token);
        }
    }
    free_req(kr);
}

static struct key_req *new_req(struct call *call, const char *name)
{
    struct key_req *kr = mq_calloc(1, sizeof *kr);
    if (kr == NULL) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "key %s: out of memory", name);
        return NULL;
    }
    kr->call = call;
    mq__v1__op__init(&kr->op);
    snprintf(kr->name, sizeof kr->name, "%s", name);
    return kr;
}

/* Draws the secret of @kr and points kr->sh at its hash. */
static int draw_secret(struct key_req *kr)
{
    struct errmsg e = ERRMSG_INIT;
    if (secret_new(&kr->ks, kr->secret, &e) != MQ_OK) {
        call_reply_error(kr->call, MQ_ERR_INTERNAL, "key %s: %s", kr->name,
                         e.msg);
        free_req(kr);
        return 0;
    }
    kr->has_secret = 1;
    keys_secret_to(&kr->sh, &kr->ks);
    return 1;
}

static void propose(struct key_req *kr, const char *what)
{
    struct call *call = kr->call;
    char name[MQ_NAME_MAX + 32];
    snprintf(name, sizeof name, "key %s %s", what, kr->name);
    call->name = mq_strdup(name);
    if (call->name == NULL ||
        batch_add(call->rpc->batch, &kr->op, 512, key_done, kr) != MQ_OK) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "%s: out of memory", name);
        free_req(kr);
    }
}

/* The applied key @name, or NULL after replying (auth off, bad name, no
 * such key). With @must_exist 0, NULL is also returned, without a reply,
 * when there is no such key. */
static const struct key *check_name(struct call *call, const char *name,
                                    int must_exist, int *replied)
{
    const struct keys *ks = &call->rpc->f->keys;
    struct errmsg e = ERRMSG_INIT;
    const struct key *k;

    *replied = 1;
    if (!ks->auth_on) {
        call_reply_error(call, MQ_ERR_INVALID,
                         "authentication is off on this cluster: there are "
                         "no keys (start the nodes with "
                         "auth_bootstrap_key_file to turn it on)");
        return NULL;
    }
    if (name_check(name, strlen(name), "key name", &e) != MQ_OK) {
        call_reply_error(call, MQ_ERR_INVALID, "%s", e.msg);
        return NULL;
    }
    k = keys_find(ks, name);
    if (k == NULL && must_exist) {
        call_reply_error(call, MQ_ERR_NOT_FOUND, "key %s does not exist", name);
        return NULL;
    }
    *replied = 0;
    return k;
}

/* Checks grants and expiry as apply will; 0 after replying. */
static int check_grants(struct call *call, const char *name,
                        Mq__V1__Grant *const *grants, size_t n,
                        uint64_t expires_in_ms, uint64_t *expires_at_ms)
{
    struct grant tmp[KEY_GRANTS_MAX];
    size_t n_tmp;
    struct errmsg e = ERRMSG_INIT;

    if (keys_grants_from(tmp, &n_tmp, grants, n, &e) != MQ_OK) {
        call_reply_error(call, MQ_ERR_INVALID, "key %s: %s", name, e.msg);
        return 0;
    }
    if (expires_in_ms > KEYS_EXPIRES_IN_MAX_MS) {
        call_reply_error(call, MQ_ERR_INVALID,
                         "key %s: expiry of %llu ms is more than 100 years",
                         name, (unsigned long long)expires_in_ms);
        return 0;
    }
    *expires_at_ms = expires_in_ms ? wallclock_ms() + expires_in_ms : 0;
    return 1;
}

static int check_request_id(struct call *call, const char *id)
{
    if (id != NULL && strlen(id) > KEY_REQUEST_ID_MAX) {
        call_reply_error(call, MQ_ERR_INVALID,
                         "request id is longer than %d characters",
                         KEY_REQUEST_ID_MAX);
        return 0;
    }
    return 1;
}

void rpc_key_create(struct call *call)
{
    const Mq__V1__KeyCreateRequest *in = call->in->key_create;
    const char *name = in->name ? in->name : "";
    const struct key *k;
    uint64_t expires_at = 0;
    int replied;

    k = check_name(call, name, 0, &replied);
    if (replied || !check_request_id(call, in->request_id) ||
        !check_grants(call, name, in->grants, in->n_grants, in->expires_in_ms,
                      &expires_at)) {
        return;
    }
    if (k != NULL && (in->request_id == NULL || in->request_id[0] == '\0' ||
                      strcmp(k->request_id, in->request_id) != 0)) {
        call_reply_error(call, MQ_ERR_EXISTS, "key %s exists", name);
        return;
    }
    struct key_req *kr = new_req(call, name);
    if (kr == NULL || !draw_secret(kr)) {
        return;
    }
    mq__v1__key_create_op__init(&kr->body.kc);
    kr->body.kc.name = kr->name;
    kr->body.kc.grants = in->grants;
    kr->body.kc.n_grants = in->n_grants;
    kr->body.kc.expires_at_ms = expires_at;
    kr->body.kc.secret = &kr->sh;
    kr->body.kc.request_id = in->request_id ? in->request_id : "";
    kr->op.op_case = MQ__V1__OP__OP_KEY_CREATE;
    kr->op.key_create = &kr->body.kc;
    propose(kr, "create");
}

void rpc_key_update(struct call *call)
{
    const Mq__V1__KeyUpdateRequest *in = call->in->key_update;
    const char *name = in->name ? in->name : "";
    uint64_t expires_at = 0;
    int replied;

    check_name(call, name, 1, &replied);
    if (replied ||
        !check_grants(call, name, in->grants, in->n_grants,
                      in->set_expiry ? in->expires_in_ms : 0, &expires_at)) {
        return;
    }
    if (!in->set_grants && !in->set_expiry) {
        call_reply_error(call, MQ_ERR_INVALID,
                         "key update %s: nothing to change (grants or "
                         "expiry)",
                         name);
        return;
    }
    struct key_req *kr = new_req(call, name);
    if (kr == NULL) {
        return;
    }
    mq__v1__key_update_op__init(&kr->body.ku);
    kr->body.ku.name = kr->name;
    kr->body.ku.set_grants = in->set_grants;
    kr->body.ku.grants = in->grants;
    kr->body.ku.n_grants = in->n_grants;
    kr->body.ku.set_expiry = in->set_expiry;
    kr->body.ku.expires_at_ms = expires_at;
    kr->op.op_case = MQ__V1__OP__OP_KEY_UPDATE;
    kr->op.key_update = &kr->body.ku;
    propose(kr, "update");
}

void rpc_key_rotate(struct call *call)
{
    const Mq__V1__KeyRotateRequest *in = call->in->key_rotate;
    const char *name = in->name ? in->name : "";
    int replied;

    check_name(call, name, 1, &replied);
    if (replied || !check_request_id(call, in->request_id)) {
        return;
    }
    struct key_req *kr = new_req(call, name);
    if (kr == NULL || (!in->retire_old && !draw_secret(kr))) {
        return;
    }
    mq__v1__key_rotate_op__init(&kr->body.kr);
    kr->body.kr.name = kr->name;
    kr->body.kr.retire_old = in->retire_old;
    kr->body.kr.secret = in->retire_old ? NULL : &kr->sh;
    kr->body.kr.request_id = in->request_id ? in->request_id : "";
    kr->op.op_case = MQ__V1__OP__OP_KEY_ROTATE;
    kr->op.key_rotate = &kr->body.kr;
    propose(kr, in->retire_old ? "retire-old" : "rotate");
}

void rpc_key_revoke(struct call *call)
{
    const char *name =
        call->in->key_revoke->name ? call->in->key_revoke->name : "";
    int replied;

    check_name(call, name, 1, &replied);
    if (replied) {
        return;
    }
    struct key_req *kr = new_req(call, name);
    if (kr == NULL) {
        return;
    }
    kr->op.op_case = MQ__V1__OP__OP_KEY_REVOKE;
    kr->op.key_revoke = kr->name;
    propose(kr, "revoke");
}

void rpc_key_info(struct call *call)
{
    const char *name = call->in->key_info->name ? call->in->key_info->name : "";
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__KeyReply kp = MQ__V1__KEY_REPLY__INIT;
    struct key_pb pb;
    int replied;
    const struct key *k = check_name(call, name, 1, &replied);

    if (k == NULL) {
        return;
    }
    key_to_pb(&pb, k);
    kp.key = &pb.ki;
    reply.body_case = MQ__V1__REPLY__BODY_KEY;
    reply.key = &kp;
    call_reply(call, &reply);
}

void rpc_key_list(struct call *call)
{
    const struct keys *ks = &call->rpc->f->keys;
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__KeyListReply list = MQ__V1__KEY_LIST_REPLY__INIT;
    struct key_pb *pb = mq_calloc(ks->n + 1, sizeof *pb);
    Mq__V1__KeyInfo **kp = mq_calloc(ks->n + 1, sizeof *kp);

    if (pb == NULL || kp == NULL) {
        mq_free(pb);
        mq_free(kp);
        call_reply_error(call, MQ_ERR_NO_MEMORY, "key list: out of memory");
        return;
    }
    for (size_t i = 0; i < ks->n; i++) {
        key_to_pb(&pb[i], ks->items[i]);
        kp[i] = &pb[i].ki;
    }
    list.keys = kp;
    list.n_keys = ks->n;
    reply.body_case = MQ__V1__REPLY__BODY_KEYS;
    reply.keys = &list;
    call_reply(call, &reply);
    mq_free(pb);
    mq_free(kp);
}
