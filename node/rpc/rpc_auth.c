/* rpc_auth.c: keys on the request path.
 *
 * Happy path: after a request is decoded, work out the verb it needs and
 * its target (a queue's namespace, every namespace, the cluster, or none
 * but a valid key: status, members, lists); identify the token's key
 * against this node's applied keys (any node: a change applied here takes
 * effect for the next request, on connections already open); check its
 * grants; go on. Failure modes: no valid key (UNAUTHENTICATED), no grant
 * (PERMISSION_DENIED naming the verb and namespace), a bad queue name
 * (INVALID, as the handler would say), the bootstrap key not applied yet
 * (NOT_DONE); each is answered here, changes nothing, and is logged as an
 * audit line. A follower does not refuse by its keys alone (an unknown
 * key, a wrong secret, a missing grant): it may not have applied a change
 * its leader made, so it redirects (NOT_LEADER) and the leader decides. A
 * bootstrap secret not yet remembered waits for its slow check (auth.h) and
 * resumes through rpc_auth_resume. Every request on the leader also notes its
 * key's use (rpc_keys.h). */
#include "rpc_auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "grants.h"
#include "log.h"
#include "names.h"
#include "rpc_keywork.h"
#include "wallclock.h"

enum target_kind {
    TARGET_QUEUE,   /* the namespace of queue q1 (and of q2, if set) */
    TARGET_ALL,     /* every namespace (a request that names none) */
    TARGET_CLUSTER, /* admin */
    TARGET_KEY,     /* a valid key, no grant: status, members, lists */
};

struct target {
    enum target_kind kind;
    unsigned verb;  /* GRANT_* bit; 0 with TARGET_KEY */
    const char *q1; /* queue names as the request gives them */
    const char *q2;
    const char *what; /* request name, for the audit line */
    /* Answered by this node about itself (status, reload-tls): its refusal
     * is final, since the leader cannot answer for it. */
    int local;
};

static int set(struct target *t, enum target_kind kind, unsigned verb,
               const char *q1, const char *what)
{
    t->kind = kind;
    t->verb = verb;
    t->q1 = q1;
    t->q2 = NULL;
    t->what = what;
    t->local = 0;
    return 0;
}

static int nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* What request @in needs. */
static void target_of(const Mq__V1__RequestRaw *in, struct target *t)
{
    memset(t, 0, sizeof *t);
    switch (in->body_case) {
    case MQ__V1__REQUEST_RAW__BODY_PUBLISH:
        set(t, TARGET_QUEUE, GRANT_PUBLISH, in->publish->queue, "publish");
        break;
    case MQ__V1__REQUEST_RAW__BODY_CANCEL:
        if (nonempty(in->cancel->queue)) {
            set(t, TARGET_QUEUE, GRANT_PUBLISH, in->cancel->queue, "cancel");
        } else {
            set(t, TARGET_ALL, GRANT_PUBLISH, NULL, "cancel");
        }
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_CREATE:
        set(t, TARGET_QUEUE, GRANT_MANAGE,
            in->queue_create->config ? in->queue_create->config->name : NULL,
            "queue create");
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_UPDATE:
        set(t, TARGET_QUEUE, GRANT_MANAGE,
            in->queue_update->config ? in->queue_update->config->name : NULL,
            "queue update");
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_DELETE:
        set(t, TARGET_QUEUE, GRANT_MANAGE, in->queue_delete->name,
            "queue delete");
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_PURGE:
        set(t, TARGET_QUEUE, GRANT_MANAGE, in->queue_purge->name,
            "queue purge");
        break;
    case MQ__V1__REQUEST_RAW__BODY_REDRIVE:
        set(t, TARGET_QUEUE, GRANT_MANAGE, in->redrive->from, "redrive");
        t->q2 = in->redrive->to;
        break;
    case MQ__V1__REQUEST_RAW__BODY_SUB_CREATE:
        set(t, TARGET_QUEUE, GRANT_MANAGE,
            in->sub_create->config ? in->sub_create->config->queue : NULL,
            "sub create");
        break;
    case MQ__V1__REQUEST_RAW__BODY_SUB_DELETE:
        set(t, TARGET_QUEUE, GRANT_MANAGE, in->sub_delete->queue, "sub delete");
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_INFO:
        set(t, TARGET_QUEUE, GRANT_CONSUME, in->queue_info->name, "queue info");
        break;
    case MQ__V1__REQUEST_RAW__BODY_SUB_INFO:
        set(t, TARGET_QUEUE, GRANT_CONSUME, in->sub_info->queue, "sub info");
        break;
    case MQ__V1__REQUEST_RAW__BODY_FETCH:
        set(t, TARGET_QUEUE, GRANT_CONSUME, in->fetch->queue, "fetch");
        break;
    case MQ__V1__REQUEST_RAW__BODY_ACK:
        set(t, TARGET_QUEUE, GRANT_CONSUME, in->ack->queue, "ack");
        break;
    case MQ__V1__REQUEST_RAW__BODY_NACK:
        set(t, TARGET_QUEUE, GRANT_CONSUME, in->nack->queue, "nack");
        break;
    case MQ__V1__REQUEST_RAW__BODY_TOUCH:
        set(t, TARGET_QUEUE, GRANT_CONSUME, in->touch->queue, "touch");
        break;
    case MQ__V1__REQUEST_RAW__BODY_TERM:
        set(t, TARGET_QUEUE, GRANT_CONSUME, in->term->queue, "term");
        break;
    case MQ__V1__REQUEST_RAW__BODY_READ:
        set(t, TARGET_QUEUE, GRANT_CONSUME, in->read->queue, "read");
        break;
    case MQ__V1__REQUEST_RAW__BODY_SUB_LIST:
        if (nonempty(in->sub_list->queue)) {
            set(t, TARGET_QUEUE, GRANT_CONSUME, in->sub_list->queue,
                "sub list");
        } else {
            set(t, TARGET_KEY, 0, NULL, "sub list");
        }
        break;
    case MQ__V1__REQUEST_RAW__BODY_MESSAGE_STATUS:
        if (nonempty(in->message_status->queue)) {
            set(t, TARGET_QUEUE, GRANT_CONSUME, in->message_status->queue,
                "message status");
        } else {
            set(t, TARGET_KEY, 0, NULL, "message status");
        }
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_LIST:
        set(t, TARGET_KEY, 0, NULL, "queue list");
        break;
    case MQ__V1__REQUEST_RAW__BODY_STATUS:
        set(t, TARGET_KEY, 0, NULL, "status");
        break;
    case MQ__V1__REQUEST_RAW__BODY_MEMBERS:
        set(t, TARGET_KEY, 0, NULL, "members");
        break;
    case MQ__V1__REQUEST_RAW__BODY_NODE_ADD:
        set(t, TARGET_CLUSTER, GRANT_ADMIN, NULL, "node add");
        break;
    case MQ__V1__REQUEST_RAW__BODY_NODE_REMOVE:
        set(t, TARGET_CLUSTER, GRANT_ADMIN, NULL, "node remove");
        break;
    case MQ__V1__REQUEST_RAW__BODY_LEADER_TRANSFER:
        set(t, TARGET_CLUSTER, GRANT_ADMIN, NULL, "leader transfer");
        break;
    case MQ__V1__REQUEST_RAW__BODY_KEY_CREATE:
        set(t, TARGET_CLUSTER, GRANT_ADMIN, in->key_create->name, "key create");
        break;
    case MQ__V1__REQUEST_RAW__BODY_KEY_UPDATE:
        set(t, TARGET_CLUSTER, GRANT_ADMIN, in->key_update->name, "key update");
        break;
    case MQ__V1__REQUEST_RAW__BODY_KEY_ROTATE:
        set(t, TARGET_CLUSTER, GRANT_ADMIN, in->key_rotate->name, "key rotate");
        break;
    case MQ__V1__REQUEST_RAW__BODY_KEY_REVOKE:
        set(t, TARGET_CLUSTER, GRANT_ADMIN, in->key_revoke->name, "key revoke");
        break;
    case MQ__V1__REQUEST_RAW__BODY_KEY_INFO:
        set(t, TARGET_CLUSTER, GRANT_ADMIN, in->key_info->name, "key info");
        break;
    case MQ__V1__REQUEST_RAW__BODY_KEY_LIST:
        set(t, TARGET_CLUSTER, GRANT_ADMIN, NULL, "key list");
        break;
    case MQ__V1__REQUEST_RAW__BODY_RELOAD_TLS:
        set(t, TARGET_CLUSTER, GRANT_ADMIN, NULL, "node reload-tls");
        t->local = 1;
        break;
    default:
        set(t, TARGET_KEY, 0, NULL, "unknown request");
        break;
    }
}

/* The namespace of queue @q (as a request names it) into @ns; 0 after
 * replying INVALID when the name is bad. */
static int namespace_of(struct call *call, const char *q,
                        char ns[MQ_NAME_MAX + 1])
{
    char full[MQ_QNAME_MAX + 1];
    struct errmsg e = ERRMSG_INIT;
    if (qname_normalize(q ? q : "", full, &e) != MQ_OK) {
        call_reply_error(call, MQ_ERR_INVALID, "%s", e.msg);
        return 0;
    }
    *strchr(full, '/') = '\0';
    snprintf(ns, MQ_NAME_MAX + 1, "%s", full);
    return 1;
}

/* The full name of queue @q as given ("default/..." for a bare name), or
 * @q itself when it is not a valid name; "" for NULL. */
static void full_name(const char *q, char out[MQ_QNAME_MAX + 1])
{
    struct errmsg e = ERRMSG_INIT;
    if (q == NULL) {
        out[0] = '\0';
    } else if (qname_normalize(q, out, &e) != MQ_OK) {
        snprintf(out, MQ_QNAME_MAX + 1, "%.*s", MQ_QNAME_MAX, q);
    }
}

/* What the audit line names as the target. */
static void target_text(const struct target *t, char *buf, size_t len)
{
    switch (t->kind) {
    case TARGET_QUEUE: {
        char q1[MQ_QNAME_MAX + 1], q2[MQ_QNAME_MAX + 1];
        full_name(t->q1, q1);
        full_name(t->q2, q2);
        snprintf(buf, len, "%s%s%s", q1, t->q2 ? " -> " : "", q2);
        break;
    }
    case TARGET_ALL:
        snprintf(buf, len, "every namespace");
        break;
    case TARGET_CLUSTER:
        snprintf(buf, len, "%s%s", t->q1 ? "key " : "cluster",
                 t->q1 ? t->q1 : "");
        break;
    case TARGET_KEY:
        snprintf(buf, len, "-");
        break;
    }
    /* Names a request gives may be anything: one line in the log. */
    for (char *p = buf; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
            *p = '?';
        }
    }
}

static void refuse(struct call *call, const struct target *t,
                   const char *claimed, mq_err err, const char *why)
{
    char target[2 * MQ_QNAME_MAX + 16];
    target_text(t, target, sizeof target);
    /* Not yet able to decide (the bootstrap key on its way, too many
     * waiting): no decision to audit; the client retries. */
    int lvl = err == MQ_ERR_NOT_DONE ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO;
    LOG_AT(lvl, "audit: refused %s: key=%s verb=%s target=%s: %s: %s", t->what,
           claimed[0] ? claimed : "-", t->verb ? grant_verb_name(t->verb) : "-",
           target, mq_strerror(err), why);
    call_reply_error(call, err, "%s: %s", t->what, why);
}

/* A follower refusing by its keys may be behind its leader (a key just
 * made, rotated or granted more there): it sends the request to the
 * leader, whose answer is final. 1 when it did. */
static int defer_to_leader(struct call *call, const struct target *t,
                           const char *why)
{
    struct rpc *r = call->rpc;
    const char *url = NULL;
    uint64_t leader = consensus_leader(r->c, &url);

    if (t->local || consensus_is_leader(r->c) || leader == 0 ||
        leader == r->cfg->id || url == NULL || url[0] == '\0') {
        return 0;
    }
    LOG_DEBUG("%s: %s here: the leader decides", t->what, why);
    call_reply_not_leader(call);
    return 1;
}

int rpc_auth_check(struct call *call)
{
    struct rpc *r = call->rpc;
    struct target t;
    struct errmsg e = ERRMSG_INIT;
    enum auth_outcome out;
    const struct key *k;
    char claimed[MQ_NAME_MAX + 1];
    char ns[MQ_NAME_MAX + 1];
    uint64_t now = wallclock_ms();
    mq_err rv;

    if (r->auth == NULL) {
        return 1;
    }
    target_of(call->in, &t);
    const char *token = call->in->token ? call->in->token : "";
    rv = auth_identify(r->auth, token, strlen(token), now, call, &out, &k,
                       claimed, &e);
    if (rv != MQ_OK) {
        if (out != AUTH_UNKNOWN || !defer_to_leader(call, &t, e.msg)) {
            refuse(call, &t, claimed, rv, e.msg);
        }
        return 0;
    }
    if (out == AUTH_PARKED) {
        return 0;
    }
    if (out == AUTH_OFF) {
        return 1;
    }
    snprintf(call->key, sizeof call->key, "%s", k->name);
    call->verb = (uint8_t)t.verb;
    if (t.kind == TARGET_QUEUE) {
        if (!namespace_of(call, t.q1, ns)) {
            return 0;
        }
        rv = auth_permit(k, t.verb, ns, &e);
        if (rv == MQ_OK && t.q2 != NULL) {
            if (!namespace_of(call, t.q2, ns)) {
                return 0;
            }
            rv = auth_permit(k, t.verb, ns, &e);
        }
    } else if (t.kind != TARGET_KEY) {
        rv = auth_permit(k, t.verb, NULL, &e);
    }
    if (rv != MQ_OK) {
        if (!defer_to_leader(call, &t, e.msg)) {
            refuse(call, &t, claimed, rv, e.msg);
        }
        return 0;
    }
    if (consensus_is_leader(r->c)) {
        rpc_keys_note_used(r, k, now);
    }
    return 1;
}

mq_err rpc_auth_http(void *arg, const char *authorization, void *ask,
                     int *parked, int *status, char *why, size_t why_len)
{
    struct rpc *r = arg;
    struct errmsg e = ERRMSG_INIT;
    enum auth_outcome out = AUTH_OFF;
    const struct key *k;
    char claimed[MQ_NAME_MAX + 1];
    const char *token = authorization;
    mq_err rv;

    *parked = 0;
    if (r->auth == NULL) {
        return MQ_OK;
    }
    if (strncasecmp(token, "Bearer ", 7) == 0) {
        token += 7;
        token += strspn(token, " ");
    } else if (token[0] != '\0') {
        *status = 401;
        snprintf(why, why_len,
                 "the Authorization header must say "
                 "\"Bearer <key>\"");
        return MQ_ERR_UNAUTHENTICATED;
    }
    rv = auth_identify(r->auth, token, strlen(token), wallclock_ms(), ask, &out,
                       &k, claimed, &e);
    if (rv == MQ_OK && out == AUTH_PARKED) {
        *parked = 1;
        return MQ_ERR_NOT_DONE;
    }
    if (rv != MQ_OK) {
        *status = rv == MQ_ERR_UNAUTHENTICATED ? 401 : 503;
        snprintf(why, why_len, "%s", e.msg);
    }
    return rv;
}

void rpc_auth_resume(void *arg, mq_err err, const char *why)
{
    struct call *call = arg;
    if (err != MQ_OK) {
        const struct key *k = keys_bootstrap(&call->rpc->f->keys);
        struct target t;
        target_of(call->in, &t);
        if (err != MQ_ERR_UNAUTHENTICATED || !defer_to_leader(call, &t, why)) {
            refuse(call, &t, k ? k->name : "", err, why);
        }
        return;
    }
    if (rpc_auth_check(call)) {
        rpc_route(call);
    }
}

void rpc_auth_audit(const struct call *call)
{
    struct target t;
    char target[2 * MQ_QNAME_MAX + 16];
    if (call->key[0] == '\0' ||
        (call->verb != GRANT_MANAGE && call->verb != GRANT_ADMIN)) {
        return;
    }
    target_of(call->in, &t);
    target_text(&t, target, sizeof target);
    LOG_INFO("audit: %s: key=%s verb=%s target=%s", t.what, call->key,
             grant_verb_name(call->verb), target);
}

int rpc_auth_may(const struct call *call, unsigned verb, const char *qname)
{
    const struct key *k;
    char ns[MQ_NAME_MAX + 1];
    const char *slash = strchr(qname, '/');
    size_t len = slash ? (size_t)(slash - qname) : strlen(qname);

    if (call->key[0] == '\0') {
        return 1;
    }
    k = keys_find(&call->rpc->f->keys, call->key);
    if (k == NULL || len > MQ_NAME_MAX) {
        return 0;
    }
    memcpy(ns, qname, len);
    ns[len] = '\0';
    return grants_allow(k->grants, k->n_grants, verb, ns);
}

mq_err rpc_auth_start(struct rpc *r, struct auth *a, uv_loop_t *loop)
{
    r->auth = a;
    return rpc_keys_start(r, loop);
}

void rpc_auth_stop(struct rpc *r)
{
    rpc_keys_stop(r);
}
