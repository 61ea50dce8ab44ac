/* rpc_keywork.c: the key work of the node (see rpc_keywork.h).
 *
 * Happy path of the bootstrap: on the leader, once its barrier is applied,
 * while the applied state has authentication off and this node holds a
 * bootstrap secret, hash the secret on the thread pool, propose the
 * bootstrap key, and, once applied, tell the followers at once. Failure
 * modes: leadership lost or the proposal failed (tried again a second
 * later, while authentication is off), another node's bootstrap applied
 * first (EXISTS: nothing to do), hashing failed (tried again). Last used:
 * on the leader, a key seen in a request whose replicated last-used time
 * is a minute old gets a KeyUsed op, once per key until applied (a failed
 * proposal waits a minute). Every loop iteration also lets auth note the
 * applied state (auth_note_state). */
#include "rpc_keywork.h"

#include <raft.h>
#include <string.h>

#include "alloc.h"
#include "auth.h"
#include "cmd.h"
#include "fsm_keys.h"
#include "hash.h"
#include "log.h"
#include "secret.h"
#include "wallclock.h"

#define USED_NOTES 32
/* Wait after a failed bootstrap proposal or hash. */
#define BOOT_RETRY_MS 1000

enum boot_state { BOOT_IDLE, BOOT_HASHING, BOOT_PROPOSING };

struct used_note {
    uint64_t name_hash;
    uint64_t at_ms; /* proposed then */
};

struct rpc_keys {
    struct rpc *r;
    uv_check_t check;
    enum boot_state boot;
    int have_hash;
    struct key_secret boot_hash;
    uint64_t boot_retry_ms;
    Mq__V1__Op boot_op;
    Mq__V1__KeyCreateOp boot_kc;
    Mq__V1__SecretHash boot_sh;
    Mq__V1__Grant boot_grant;
    Mq__V1__Grant *boot_gp;
    struct used_note used[USED_NOTES];
};

/* Followers apply an entry once they hear it is committed: an entry
 * without ops, proposed now, tells them in its AppendEntries. */
static void nudge_done(struct raft_apply *req, int status, void *result)
{
    (void)status;
    (void)result;
    mq_free(req);
}

void rpc_keys_nudge(struct rpc *r)
{
    Mq__V1__Command cmd = MQ__V1__COMMAND__INIT;
    struct raft_apply *req = mq_malloc(sizeof *req);
    void *buf = NULL;
    size_t len = 0;

    cmd.now_ms = wallclock_ms();
    if (req == NULL || cmd_pack(&cmd, &buf, &len) != MQ_OK) {
        mq_free(req);
        return; /* the next heartbeat tells them */
    }
    if (consensus_propose(r->c, req, buf, len, nudge_done) != MQ_OK) {
        raft_free(buf);
        mq_free(req);
    }
}

/* Last used ---------------------------------------------------------------- */

struct used_req {
    Mq__V1__Op op;
    Mq__V1__KeyUsedOp ku;
    char name[MQ_NAME_MAX + 1];
};

static void used_done(void *arg, mq_err err, const struct fsm_op_result *r,
                      const struct fsm *f, uint64_t index)
{
    (void)err;
    (void)r;
    (void)f;
    (void)index;
    mq_free(arg);
}

void rpc_keys_note_used(struct rpc *r, const struct key *k, uint64_t now_ms)
{
    struct rpc_keys *rk = r->keys;
    struct used_note *slot;
    struct used_req *u;
    uint64_t h;

    if (rk == NULL || now_ms < k->last_used_ms + KEYS_USED_EVERY_MS) {
        return;
    }
    h = hash64(k->name, strlen(k->name));
    slot = &rk->used[0];
    for (size_t i = 0; i < USED_NOTES; i++) {
        if (rk->used[i].name_hash == h) {
            if (rk->used[i].at_ms + KEYS_USED_EVERY_MS > now_ms) {
                return; /* proposed lately */
            }
            slot = &rk->used[i];
            break;
        }
        if (rk->used[i].at_ms < slot->at_ms) {
            slot = &rk->used[i];
        }
    }
    u = mq_calloc(1, sizeof *u);
    if (u == NULL) {
        return; /* the next use tries again */
    }
    mq__v1__op__init(&u->op);
    mq__v1__key_used_op__init(&u->ku);
    strcpy(u->name, k->name);
    u->ku.name = u->name;
    u->ku.at_ms = now_ms;
    u->op.op_case = MQ__V1__OP__OP_KEY_USED;
    u->op.key_used = &u->ku;
    if (batch_add(r->batch, &u->op, 96, used_done, u) != MQ_OK) {
        mq_free(u);
        return;
    }
    slot->name_hash = h;
    slot->at_ms = now_ms;
}

/* Bootstrap ---------------------------------------------------------------- */

static void boot_done(void *arg, mq_err err, const struct fsm_op_result *r,
                      const struct fsm *f, uint64_t index)
{
    struct rpc_keys *rk = arg;
    (void)f;
    rk->boot = BOOT_IDLE;
    if (err != MQ_OK) {
        LOG_WARN("bootstrap key not applied (%s): proposed again while "
                 "authentication is off",
                 mq_strerror(err));
        rk->boot_retry_ms = uv_now(rk->check.loop) + BOOT_RETRY_MS;
    } else if (r->err != MQ_OK) {
        LOG_INFO("bootstrap key: %s", r->e.msg);
    } else {
        LOG_INFO("bootstrap key %s applied at index %llu: authentication is "
                 "on",
                 KEYS_BOOTSTRAP_NAME, (unsigned long long)index);
        rpc_keys_nudge(rk->r);
    }
}

static void propose_bootstrap(struct rpc_keys *rk)
{
    mq__v1__grant__init(&rk->boot_grant);
    rk->boot_grant.ns = "*";
    rk->boot_grant.verbs = GRANT_VERBS;
    rk->boot_gp = &rk->boot_grant;
    keys_secret_to(&rk->boot_sh, &rk->boot_hash);
    mq__v1__key_create_op__init(&rk->boot_kc);
    rk->boot_kc.name = KEYS_BOOTSTRAP_NAME;
    rk->boot_kc.grants = &rk->boot_gp;
    rk->boot_kc.n_grants = 1;
    rk->boot_kc.secret = &rk->boot_sh;
    rk->boot_kc.bootstrap = 1;
    mq__v1__op__init(&rk->boot_op);
    rk->boot_op.op_case = MQ__V1__OP__OP_KEY_CREATE;
    rk->boot_op.key_create = &rk->boot_kc;
    if (batch_add(rk->r->batch, &rk->boot_op, 256, boot_done, rk) != MQ_OK) {
        rk->boot_retry_ms = uv_now(rk->check.loop) + BOOT_RETRY_MS;
        return;
    }
    rk->boot = BOOT_PROPOSING;
    LOG_INFO("authentication is off and auth_bootstrap_key_file is set: "
             "proposing bootstrap key %s",
             KEYS_BOOTSTRAP_NAME);
}

static void boot_hashed(void *arg, mq_err err, const struct key_secret *ks)
{
    struct rpc_keys *rk = arg;
    rk->boot = BOOT_IDLE;
    if (err != MQ_OK) {
        LOG_WARN("hashing the bootstrap secret failed: %s; trying again",
                 mq_strerror(err));
        rk->boot_retry_ms = uv_now(rk->check.loop) + BOOT_RETRY_MS;
        return;
    }
    rk->boot_hash = *ks;
    rk->have_hash = 1;
}

static void check_cb(uv_check_t *h)
{
    struct rpc_keys *rk = h->data;
    struct rpc *r = rk->r;

    auth_note_state(r->auth);
    if (rk->boot != BOOT_IDLE || !auth_has_bootstrap(r->auth) ||
        r->f->keys.auth_on || r->closing || r->c->closing ||
        !consensus_leader_ready(r->c) || uv_now(h->loop) < rk->boot_retry_ms) {
        return;
    }
    if (!rk->have_hash) {
        if (auth_bootstrap_hash(r->auth, boot_hashed, rk) == MQ_OK) {
            rk->boot = BOOT_HASHING;
        } else {
            rk->boot_retry_ms = uv_now(h->loop) + BOOT_RETRY_MS;
        }
        return;
    }
    propose_bootstrap(rk);
}

mq_err rpc_keys_start(struct rpc *r, uv_loop_t *loop)
{
    struct rpc_keys *rk = mq_calloc(1, sizeof *rk);
    if (rk == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    rk->r = r;
    uv_check_init(loop, &rk->check);
    rk->check.data = rk;
    uv_check_start(&rk->check, check_cb);
    r->keys = rk;
    return MQ_OK;
}

static void closed_cb(uv_handle_t *h)
{
    struct rpc_keys *rk = h->data;
    secret_wipe(&rk->boot_hash, sizeof rk->boot_hash);
    mq_free(rk);
}

void rpc_keys_stop(struct rpc *r)
{
    struct rpc_keys *rk = r->keys;
    if (rk == NULL) {
        return;
    }
    r->keys = NULL;
    uv_check_stop(&rk->check);
    uv_close((uv_handle_t *)&rk->check, closed_cb);
}
