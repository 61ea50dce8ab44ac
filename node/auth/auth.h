/* auth.h: who is asking. The request path (node/rpc/rpc_auth.c) gives
 * every request's token to auth_identify, which finds the key in the
 * applied state (fsm's keys) and checks its secret, and asks auth_permit
 * whether the key's grants allow the request's verb on its namespace.
 *
 * Authentication is on here when the applied state says so (the bootstrap
 * key was applied), when this node is configured with
 * auth_bootstrap_key_file, or when its data dir says it was on before
 * (AUTH_MARKER, written the first time this node sees it on: a restarted
 * node refuses requests while it replays its log, even without the
 * config key). While it is on here and not yet in the applied state,
 * requests are refused NOT_DONE (retryable): the bootstrap key is on its
 * way.
 *
 * A key's token is checked with one SHA-256. The bootstrap secret is
 * checked with PBKDF2, on libuv's thread pool, one at a time: its
 * request is parked and auth calls @resume when the check is done; a
 * success is remembered (authcache.h), so that later requests with it
 * cost one SHA-256 too. At most AUTH_PARKED_MAX requests wait; more are
 * refused NOT_DONE.
 *
 * Tokens and secrets are never logged, nor put in a message. Loop thread
 * only (the hashing runs on the pool with copies). */
#ifndef MQ_AUTH_H
#define MQ_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "authcache.h"
#include "errmsg.h"
#include "keys.h"
#include "mq.h"

#define AUTH_PARKED_MAX 64
/* In the data dir: authentication was on. */
#define AUTH_MARKER "mq-auth-on"

/* A parked request may go on: with @err MQ_OK, identify it again (its
 * token was verified and remembered, or the keys changed meanwhile);
 * otherwise it is refused with @err and @why. @ctx is auth_init's
 * @resume_ctx; @arg the request given to auth_identify. */
typedef void (*auth_resume_cb)(void *ctx, void *arg, mq_err err,
                               const char *why);

struct auth_parked {
    void *arg;
    uint8_t digest[AUTHCACHE_DIGEST];
    char *token; /* a copy, wiped when freed */
    size_t len;
};

struct auth_job;
struct auth_hashing;

struct auth {
    uv_loop_t *loop;
    const struct keys *keys;
    char marker_path[600];
    int configured;  /* auth_bootstrap_key_file given */
    int marked;      /* AUTH_MARKER found or written */
    char *bootstrap; /* its secret while auth is off; NULL after */
    size_t bootstrap_len;
    struct authcache cache;
    auth_resume_cb resume;
    void *resume_ctx;
    struct auth_parked parked[AUTH_PARKED_MAX];
    size_t n_parked;
    struct auth_job *job;         /* the slow check running, if any */
    struct auth_hashing *hashing; /* the bootstrap hash running, if any */
    int closing;
    uint64_t slow_checks, cache_hits;
};

enum auth_outcome {
    AUTH_OFF,    /* authentication is off: everything is allowed */
    AUTH_KEY,    /* *key is the request's key */
    AUTH_PARKED, /* a slow check runs: @resume will be called */
    /* Refused (MQ_ERR_UNAUTHENTICATED) by this node's keys: no key of
     * that name, or a wrong secret. A node behind its leader may not have
     * applied a key just made or rotated: the leader may know better. */
    AUTH_UNKNOWN,
};

/* Sets up @a for @keys (the FSM's; read on each call), the data dir
 * @data_dir (AUTH_MARKER) and, if @bootstrap_file is not "", reads the
 * bootstrap secret from it (one line; token_check_bare). Returns MQ_OK;
 * MQ_ERR_INVALID with @e naming the file and what is wrong (unreadable,
 * not one line, too short, ...; never quoting it); MQ_ERR_INTERNAL (no
 * randomness); MQ_ERR_NO_MEMORY. */
mq_err auth_init(struct auth *a, uv_loop_t *loop, const struct keys *keys,
                 const char *data_dir, const char *bootstrap_file,
                 auth_resume_cb resume, void *resume_ctx, struct errmsg *e);

/* Refuses every parked request (NOT_DONE: the node stops) and forgets the
 * bootstrap secret. A check still running ends on the pool and is then
 * dropped. */
void auth_close(struct auth *a);

/* Whether requests need a key on this node (see above). */
int auth_required(const struct auth *a);

/* Identifies the key of @token (@len bytes) at wall time @now_ms. Returns
 * MQ_OK with *out AUTH_OFF, AUTH_KEY (*key set, valid until the next
 * applied Command) or AUTH_PARKED (@arg is kept and given to @resume
 * later, exactly once); or refuses: MQ_ERR_UNAUTHENTICATED (no token, a
 * malformed one, an expired key; or, with *out AUTH_UNKNOWN, an unknown
 * key or a wrong secret),
 * MQ_ERR_NOT_DONE (the bootstrap key is not applied yet, or too many
 * requests wait for a slow check), MQ_ERR_NO_MEMORY, with @e saying why.
 * @claimed receives the key the token names ("" if none), for the audit
 * line. */
mq_err auth_identify(struct auth *a, const char *token, size_t len,
                     uint64_t now_ms, void *arg, enum auth_outcome *out,
                     const struct key **key, char claimed[MQ_NAME_MAX + 1],
                     struct errmsg *e);

/* Whether @k may @verb (one GRANT_* bit) on namespace @ns (NULL: on every
 * namespace, or the cluster for admin). Returns MQ_OK, or
 * MQ_ERR_PERMISSION_DENIED with @e naming the key, the verb and the
 * namespace. */
mq_err auth_permit(const struct key *k, unsigned verb, const char *ns,
                   struct errmsg *e);

/* The bootstrap key to propose: called on the leader while the applied
 * state has authentication off and this node has a bootstrap secret.
 * Hashes it (PBKDF2, on the pool) and calls @cb on the loop with the hash
 * (err MQ_OK) or the error; once, unless auth_close comes first. Returns
 * MQ_OK (the hash is under way), or MQ_ERR_INVALID (no secret, or a hash
 * already runs), MQ_ERR_NO_MEMORY. */
typedef void (*auth_hashed_cb)(void *arg, mq_err err,
                               const struct key_secret *ks);
mq_err auth_bootstrap_hash(struct auth *a, auth_hashed_cb cb, void *arg);

/* Whether this node holds a bootstrap secret to propose. */
int auth_has_bootstrap(const struct auth *a);

/* The bootstrap secret (NUL-terminated), for the node's own requests
 * (join.h: a node joining a cluster with authentication on asks with it);
 * NULL once forgotten or without one. Borrowed: copy it at once. */
const char *auth_bootstrap_secret(const struct auth *a);

/* Called after each applied change of the keys, and at times: once the
 * applied state has authentication on, writes AUTH_MARKER (logging a
 * failure once) and forgets the bootstrap secret. */
void auth_note_state(struct auth *a);

#endif
