/* auth.c: identifying the key of a request (see auth.h).
 *
 * Happy path for a key's token: parse it, find the key by name, check it
 * has not expired, compare SHA-256(salt || secret) with each of its (one
 * or two) hashes. For the bootstrap secret: find the bootstrap key, look
 * the token up in the cache of verified tokens; on a miss, park the
 * request and run PBKDF2 on the thread pool (one check at a time; the
 * requests with the same token wait for the same check), then remember a
 * success and resume the requests. Failure modes: a refused token (the
 * request's answer says why, never quoting it), too many parked requests
 * (NOT_DONE), no thread for the hash (the parked requests are refused
 * NOT_DONE), the node stopping (the same). */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "log.h"
#include "secret.h"
#include "token.h"

struct auth_job {
    uv_work_t work;
    struct auth *a;
    uint8_t digest[AUTHCACHE_DIGEST];
    char name[MQ_NAME_MAX + 1];
    uint64_t gen;
    struct key_secret secrets[KEY_SECRETS_MAX];
    size_t n_secrets;
    char *token;
    size_t len;
    int matched;
};

struct auth_hashing {
    uv_work_t work;
    struct auth *a;
    char *pw;
    size_t len;
    struct key_secret ks;
    mq_err err;
    auth_hashed_cb cb;
    void *arg;
};

static void free_copy(char *p, size_t len)
{
    if (p != NULL) {
        secret_wipe(p, len);
        mq_free(p);
    }
}

static char *copy_bytes(const char *s, size_t len)
{
    char *p = mq_malloc(len + 1);
    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

/* Reads the bootstrap secret from @path into a->bootstrap. */
static mq_err read_bootstrap(struct auth *a, const char *path, struct errmsg *e)
{
    char buf[TOKEN_MAX + 64];
    struct stat sb;
    size_t len;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    mq_err rv = MQ_OK;

    if (fd < 0) {
        errmsg_set(e, "auth_bootstrap_key_file %s: cannot open: %s", path,
                   strerror(errno));
        return MQ_ERR_INVALID;
    }
    if (fstat(fd, &sb) == 0 && (sb.st_mode & 077) != 0) {
        LOG_WARN("auth_bootstrap_key_file %s can be read by other users "
                 "(mode %03o): chmod 600 it",
                 path, (unsigned)(sb.st_mode & 0777));
    }
    n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < 0) {
        errmsg_set(e, "auth_bootstrap_key_file %s: cannot read: %s", path,
                   strerror(errno));
        return MQ_ERR_INVALID;
    }
    /* One line; blanks around it (and the line's end) are not part of
     * the secret, as in a token file (libmq). */
    len = (size_t)n;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
                       buf[len - 1] == ' ' || buf[len - 1] == '\t')) {
        len--;
    }
    size_t start = 0;
    while (start < len && (buf[start] == ' ' || buf[start] == '\t')) {
        start++;
    }
    memmove(buf, buf + start, len - start);
    len -= start;
    if ((size_t)n == sizeof buf) {
        errmsg_set(e,
                   "auth_bootstrap_key_file %s: longer than one line of "
                   "%d characters",
                   path, TOKEN_MAX);
        rv = MQ_ERR_INVALID;
    } else if (token_check_bare(buf, len, e) != MQ_OK) {
        errmsg_wrap(e, "auth_bootstrap_key_file %s", path);
        rv = MQ_ERR_INVALID;
    } else if ((a->bootstrap = copy_bytes(buf, len)) == NULL) {
        rv = MQ_ERR_NO_MEMORY;
    }
    a->bootstrap_len = len;
    secret_wipe(buf, sizeof buf);
    return rv;
}

mq_err auth_init(struct auth *a, uv_loop_t *loop, const struct keys *keys,
                 const char *data_dir, const char *bootstrap_file,
                 auth_resume_cb resume, void *resume_ctx, struct errmsg *e)
{
    uint8_t pepper[32];
    mq_err rv;

    memset(a, 0, sizeof *a);
    a->loop = loop;
    a->keys = keys;
    a->resume = resume;
    a->resume_ctx = resume_ctx;
    snprintf(a->marker_path, sizeof a->marker_path, "%s/%s", data_dir,
             AUTH_MARKER);
    a->marked = access(a->marker_path, F_OK) == 0;
    rv = secret_random(pepper, sizeof pepper, e);
    if (rv != MQ_OK) {
        return rv;
    }
    authcache_init(&a->cache, pepper);
    secret_wipe(pepper, sizeof pepper);
    if (bootstrap_file != NULL && bootstrap_file[0] != '\0') {
        a->configured = 1;
        rv = read_bootstrap(a, bootstrap_file, e);
    }
    return rv;
}

int auth_required(const struct auth *a)
{
    return a->keys->auth_on || a->configured || a->marked;
}

int auth_has_bootstrap(const struct auth *a)
{
    return a->bootstrap != NULL;
}

const char *auth_bootstrap_secret(const struct auth *a)
{
    return a->bootstrap;
}

void auth_note_state(struct auth *a)
{
    if (!a->keys->auth_on) {
        return;
    }
    if (a->bootstrap != NULL) {
        free_copy(a->bootstrap, a->bootstrap_len);
        a->bootstrap = NULL;
    }
    if (!a->marked) {
        int fd = open(a->marker_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        a->marked = 1; /* tried once: a failure is logged once */
        if (fd < 0 || write(fd, "1\n", 2) != 2 || fsync(fd) != 0) {
            LOG_WARN("cannot write %s (%s): after a restart, this node may "
                     "answer requests without a key until it has replayed "
                     "its log, unless auth_bootstrap_key_file is set",
                     a->marker_path, strerror(errno));
        }
        if (fd >= 0) {
            close(fd);
        }
    }
}

mq_err auth_permit(const struct key *k, unsigned verb, const char *ns,
                   struct errmsg *e)
{
    if (grants_allow(k->grants, k->n_grants, verb, ns)) {
        return MQ_OK;
    }
    if (verb == GRANT_ADMIN) {
        errmsg_set(e, "key %s may not admin the cluster (no admin grant)",
                   k->name);
    } else if (ns == NULL) {
        errmsg_set(e,
                   "key %s may not %s in every namespace (name a queue, or "
                   "grant %s on \"*\")",
                   k->name, grant_verb_name(verb), grant_verb_name(verb));
    } else {
        errmsg_set(e, "key %s may not %s in namespace %s", k->name,
                   grant_verb_name(verb), ns);
    }
    return MQ_ERR_PERMISSION_DENIED;
}

/* Slow checks ------------------------------------------------------------- */

static void job_work(uv_work_t *w)
{
    struct auth_job *job = w->data;
    for (size_t i = 0; i < job->n_secrets && !job->matched; i++) {
        job->matched =
            secret_matches_kdf(&job->secrets[i], job->token, job->len);
    }
}

static void unpark(struct auth *a, size_t i)
{
    free_copy(a->parked[i].token, a->parked[i].len);
    memmove(&a->parked[i], &a->parked[i + 1],
            (a->n_parked - i - 1) * sizeof a->parked[0]);
    a->n_parked--;
}

static void start_next(struct auth *a);

static void job_done(uv_work_t *w, int status)
{
    struct auth_job *job = w->data;
    struct auth *a = job->a;
    mq_err err = MQ_OK;
    char why[160] = "";

    if (a->closing) {
        free_copy(job->token, job->len);
        mq_free(job);
        return;
    }
    a->job = NULL;
    a->slow_checks++;
    if (status != 0) {
        err = MQ_ERR_NOT_DONE;
        snprintf(why, sizeof why,
                 "key %s: the secret could not be checked "
                 "now: retry",
                 job->name);
    } else if (job->matched) {
        const struct key *k = keys_find(a->keys, job->name);
        if (k != NULL && k->gen == job->gen) {
            authcache_put(&a->cache, job->digest, k);
        }
    } else {
        err = MQ_ERR_UNAUTHENTICATED;
        snprintf(why, sizeof why, "key %s: wrong secret", job->name);
    }
    /* Every request with this token has its answer. */
    for (size_t i = 0; i < a->n_parked;) {
        if (secret_equal(a->parked[i].digest, job->digest, AUTHCACHE_DIGEST)) {
            void *arg = a->parked[i].arg;
            unpark(a, i);
            a->resume(a->resume_ctx, arg, err, why);
        } else {
            i++;
        }
    }
    free_copy(job->token, job->len);
    mq_free(job);
    start_next(a);
}

/* Starts the check of parked request @i against key @k. */
static mq_err start_job(struct auth *a, size_t i, const struct key *k)
{
    struct auth_job *job = mq_calloc(1, sizeof *job);
    if (job == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    job->a = a;
    job->work.data = job;
    memcpy(job->digest, a->parked[i].digest, AUTHCACHE_DIGEST);
    strcpy(job->name, k->name);
    job->gen = k->gen;
    for (size_t s = 0; s < k->n_secrets; s++) {
        if (k->secrets[s].kind == KEY_HASH_PBKDF2) {
            job->secrets[job->n_secrets++] = k->secrets[s];
        }
    }
    job->len = a->parked[i].len;
    job->token = copy_bytes(a->parked[i].token, job->len);
    if (job->token == NULL) {
        mq_free(job);
        return MQ_ERR_NO_MEMORY;
    }
    if (uv_queue_work(a->loop, &job->work, job_work, job_done) != 0) {
        free_copy(job->token, job->len);
        mq_free(job);
        return MQ_ERR_NOT_DONE;
    }
    a->job = job;
    return MQ_OK;
}

/* Starts the check of the oldest parked request, unless one runs. A
 * request that needs no check any more (remembered meanwhile, or its key
 * gone) goes on: identifying it again decides. */
static void start_next(struct auth *a)
{
    while (a->job == NULL && a->n_parked > 0 && !a->closing) {
        const struct key *k = keys_bootstrap(a->keys);
        void *arg = a->parked[0].arg;
        mq_err rv = MQ_OK;
        if (k != NULL && !authcache_hit(&a->cache, a->parked[0].digest, k)) {
            rv = start_job(a, 0, k);
            if (rv == MQ_OK) {
                return;
            }
        }
        unpark(a, 0);
        a->resume(a->resume_ctx, arg, rv,
                  rv == MQ_OK ? "" : "the secret could not be checked now");
    }
}

/* The bootstrap secret @t: remembered, or parked for a slow check. */
static mq_err identify_bare(struct auth *a, const struct token *t, void *arg,
                            const struct key *k, enum auth_outcome *out,
                            struct errmsg *e)
{
    uint8_t digest[AUTHCACHE_DIGEST];
    int slow = 0;

    for (size_t s = 0; s < k->n_secrets; s++) {
        slow |= k->secrets[s].kind == KEY_HASH_PBKDF2;
    }
    if (!slow) {
        errmsg_set(e,
                   "key %s: wrong secret (its bootstrap secret was "
                   "retired: use its mqk_ token)",
                   k->name);
        return MQ_ERR_UNAUTHENTICATED;
    }
    authcache_digest(&a->cache, t->bare, t->bare_len, digest);
    if (authcache_hit(&a->cache, digest, k)) {
        a->cache_hits++;
        *out = AUTH_KEY;
        return MQ_OK;
    }
    if (a->n_parked == AUTH_PARKED_MAX) {
        errmsg_set(e,
                   "key %s: %d requests wait for the check of a "
                   "bootstrap secret already: retry",
                   k->name, AUTH_PARKED_MAX);
        return MQ_ERR_NOT_DONE;
    }
    struct auth_parked *p = &a->parked[a->n_parked];
    p->token = copy_bytes(t->bare, t->bare_len);
    if (p->token == NULL) {
        errmsg_set(e, "out of memory");
        return MQ_ERR_NO_MEMORY;
    }
    p->len = t->bare_len;
    p->arg = arg;
    memcpy(p->digest, digest, AUTHCACHE_DIGEST);
    a->n_parked++;
    *out = AUTH_PARKED;
    if (a->job == NULL) {
        mq_err rv = start_job(a, a->n_parked - 1, k);
        if (rv != MQ_OK) {
            unpark(a, a->n_parked - 1);
            errmsg_set(e, "key %s: the secret could not be checked now: %s",
                       k->name, mq_strerror(rv));
            return rv == MQ_ERR_NO_MEMORY ? rv : MQ_ERR_NOT_DONE;
        }
    }
    return MQ_OK;
}

mq_err auth_identify(struct auth *a, const char *token, size_t len,
                     uint64_t now_ms, void *arg, enum auth_outcome *out,
                     const struct key **key, char claimed[MQ_NAME_MAX + 1],
                     struct errmsg *e)
{
    struct token t;
    const struct key *k;
    mq_err rv;

    *key = NULL;
    claimed[0] = '\0';
    *out = AUTH_OFF;
    if (!auth_required(a)) {
        return MQ_OK;
    }
    if (!a->keys->auth_on) {
        errmsg_set(e, "authentication is being set up: the bootstrap key "
                      "is not applied on this node yet: retry");
        return MQ_ERR_NOT_DONE;
    }
    rv = token_parse(token, len, &t, e);
    if (rv != MQ_OK) {
        return rv;
    }
    k = t.kind == TOKEN_KEY ? keys_find(a->keys, t.name)
                            : keys_bootstrap(a->keys);
    if (k == NULL) {
        snprintf(claimed, MQ_NAME_MAX + 1, "%s", t.name);
        *out = AUTH_UNKNOWN;
        if (t.kind == TOKEN_KEY) {
            errmsg_set(e, "key %s: unknown or revoked", t.name);
        } else {
            errmsg_set(e, "the token is not a key's (mqk_...), and the "
                          "bootstrap key was revoked");
        }
        secret_wipe(&t, sizeof t);
        return MQ_ERR_UNAUTHENTICATED;
    }
    strcpy(claimed, k->name);
    if (k->expires_at_ms != 0 && now_ms >= k->expires_at_ms) {
        time_t sec = (time_t)(k->expires_at_ms / 1000);
        struct tm tm;
        char when[32];
        gmtime_r(&sec, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        errmsg_set(e, "key %s expired at %s", k->name, when);
        secret_wipe(&t, sizeof t);
        return MQ_ERR_UNAUTHENTICATED;
    }
    if (t.kind == TOKEN_BARE) {
        rv = identify_bare(a, &t, arg, k, out, e);
    } else {
        int ok = 0;
        for (size_t s = 0; s < k->n_secrets; s++) {
            ok |= secret_matches_fast(&k->secrets[s], t.secret);
        }
        if (ok) {
            *out = AUTH_KEY;
        } else {
            *out = AUTH_UNKNOWN;
            errmsg_set(e, "key %s: wrong secret", k->name);
            rv = MQ_ERR_UNAUTHENTICATED;
        }
    }
    secret_wipe(&t, sizeof t);
    if (rv == MQ_OK && *out == AUTH_KEY) {
        *key = k;
    }
    return rv;
}

/* The bootstrap hash ------------------------------------------------------- */

static void hashing_work(uv_work_t *w)
{
    struct auth_hashing *h = w->data;
    struct errmsg e = ERRMSG_INIT;
    h->err = secret_new_kdf(&h->ks, h->pw, h->len, SECRET_KDF_ITERATIONS, &e);
}

static void hashing_done(uv_work_t *w, int status)
{
    struct auth_hashing *h = w->data;
    struct auth *a = h->a;
    free_copy(h->pw, h->len);
    if (!a->closing) {
        a->hashing = NULL;
        h->cb(h->arg, status != 0 ? MQ_ERR_NOT_DONE : h->err, &h->ks);
    }
    secret_wipe(&h->ks, sizeof h->ks);
    mq_free(h);
}

mq_err auth_bootstrap_hash(struct auth *a, auth_hashed_cb cb, void *arg)
{
    struct auth_hashing *h;
    if (a->bootstrap == NULL || a->hashing != NULL || a->closing) {
        return MQ_ERR_INVALID;
    }
    h = mq_calloc(1, sizeof *h);
    if (h == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    h->a = a;
    h->work.data = h;
    h->cb = cb;
    h->arg = arg;
    h->len = a->bootstrap_len;
    h->pw = copy_bytes(a->bootstrap, a->bootstrap_len);
    if (h->pw == NULL) {
        mq_free(h);
        return MQ_ERR_NO_MEMORY;
    }
    if (uv_queue_work(a->loop, &h->work, hashing_work, hashing_done) != 0) {
        free_copy(h->pw, h->len);
        mq_free(h);
        return MQ_ERR_NO_MEMORY;
    }
    a->hashing = h;
    return MQ_OK;
}

void auth_close(struct auth *a)
{
    a->closing = 1;
    while (a->n_parked > 0) {
        void *arg = a->parked[0].arg;
        unpark(a, 0);
        a->resume(a->resume_ctx, arg, MQ_ERR_NOT_DONE, "the node is stopping");
    }
    if (a->bootstrap != NULL) {
        free_copy(a->bootstrap, a->bootstrap_len);
        a->bootstrap = NULL;
    }
}
