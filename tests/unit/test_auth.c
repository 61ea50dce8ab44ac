/* test_auth.c: node/auth: hashing secrets (SHA-256 of drawn secrets,
 * PBKDF2 of chosen ones, against independent vectors), constant-time
 * comparison, token parsing (every malformed token gets a clear error and
 * never a crash or a quote of the token), the cache of verified tokens,
 * reading the bootstrap secret's file, and identifying a request's key
 * (fast keys at once, the bootstrap secret through the thread pool and
 * then from the cache; expiry; authentication off, being set up, on). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc.h"
#include "auth.h"
#include "authcache.h"
#include "secret.h"
#include "token.h"

static const char boot_secret[] = "correct-horse-battery-staple-0123456789";

static void unhex(const char *hex, uint8_t *out)
{
    for (size_t i = 0; hex[2 * i] != '\0'; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* Hashing ----------------------------------------------------------------- */

static void test_hashes_match_independent_vectors(void **state)
{
    uint8_t salt[16], secret[32], want[32], got[32];
    (void)state;
    for (int i = 0; i < 16; i++) {
        salt[i] = (uint8_t)i;
    }
    memset(secret, 0x42, sizeof secret);
    /* Python: hashlib.sha256(bytes(range(16)) + b"\x42" * 32) */
    unhex("58c4e8b13ba082a25854a52564151194a7ec3221acc8aa8884f2aba2dda1037f",
          want);
    secret_hash_fast(salt, secret, got);
    assert_memory_equal(got, want, 32);
    /* Python: hashlib.pbkdf2_hmac("sha256", secret, bytes(range(16)),
     * 1000, 32) */
    unhex("d8f067f1f26de54c718e346abc296640b2a0feeeeed128d09c0cd576a494e015",
          want);
    assert_int_equal(
        secret_hash_kdf(boot_secret, strlen(boot_secret), salt, 1000, got),
        MQ_OK);
    assert_memory_equal(got, want, 32);
}

static void test_drawn_secret_verifies_and_others_do_not(void **state)
{
    struct key_secret ks, ks2;
    uint8_t secret[32], secret2[32];
    struct errmsg e = ERRMSG_INIT;
    (void)state;
    assert_int_equal(secret_new(&ks, secret, &e), MQ_OK);
    assert_int_equal(secret_new(&ks2, secret2, &e), MQ_OK);
    assert_int_equal(ks.kind, KEY_HASH_SHA256);
    assert_memory_not_equal(secret, secret2, 32); /* 256 random bits */
    assert_memory_not_equal(ks.salt, ks2.salt, 16);
    assert_true(secret_matches_fast(&ks, secret));
    assert_false(secret_matches_fast(&ks, secret2));
    secret[31] ^= 1;
    assert_false(secret_matches_fast(&ks, secret));
    /* A hash of the other kind never matches. */
    assert_false(secret_matches_kdf(&ks, secret, 32));
}

static void test_chosen_secret_verifies_with_pbkdf2(void **state)
{
    struct key_secret ks;
    struct errmsg e = ERRMSG_INIT;
    (void)state;
    assert_int_equal(
        secret_new_kdf(&ks, boot_secret, strlen(boot_secret), 1000, &e), MQ_OK);
    assert_int_equal(ks.kind, KEY_HASH_PBKDF2);
    assert_int_equal(ks.iterations, 1000);
    assert_true(secret_matches_kdf(&ks, boot_secret, strlen(boot_secret)));
    assert_false(secret_matches_kdf(&ks, boot_secret, strlen(boot_secret) - 1));
    assert_false(secret_matches_fast(&ks, (const uint8_t *)boot_secret));
}

static void test_secret_equal_compares_every_byte(void **state)
{
    uint8_t a[32], b[32];
    (void)state;
    memset(a, 7, sizeof a);
    memcpy(b, a, sizeof b);
    assert_true(secret_equal(a, b, 32));
    for (size_t i = 0; i < 32; i++) {
        b[i] ^= 0x80;
        assert_false(secret_equal(a, b, 32));
        b[i] ^= 0x80;
    }
}

/* Tokens ------------------------------------------------------------------ */

static const char key_token[] =
    "mqk_orders_svc_"
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static void test_token_of_a_key_parses_and_round_trips(void **state)
{
    struct token t;
    struct errmsg e = ERRMSG_INIT;
    char out[TOKEN_KEY_MAX + 1];
    (void)state;
    assert_int_equal(token_parse(key_token, strlen(key_token), &t, &e), MQ_OK);
    assert_int_equal(t.kind, TOKEN_KEY);
    assert_string_equal(t.name, "orders_svc"); /* '_' in a name is fine */
    assert_int_equal(t.secret[0], 0x00);
    assert_int_equal(t.secret[5], 0x55);
    assert_int_equal(t.secret[31], 0xff);
    token_format(t.name, t.secret, out);
    assert_string_equal(out, key_token);
}

static void test_bootstrap_secret_parses_as_bare(void **state)
{
    struct token t;
    struct errmsg e = ERRMSG_INIT;
    (void)state;
    assert_int_equal(token_parse(boot_secret, strlen(boot_secret), &t, &e),
                     MQ_OK);
    assert_int_equal(t.kind, TOKEN_BARE);
    assert_ptr_equal(t.bare, boot_secret);
    assert_int_equal(t.bare_len, strlen(boot_secret));
}

/* Each bad token: UNAUTHENTICATED with a message that says what is wrong,
 * and never quotes the token. */
static void test_bad_tokens_get_clear_errors(void **state)
{
    char long_token[TOKEN_MAX + 2];
    char upper[sizeof key_token];
    char bad_name[sizeof key_token + 8];
    const struct {
        const char *token;
        size_t len;
        const char *says;
    } cases[] = {
        {"", 0, "carries no key"},
        {"short", 5, "at least 32"},
        {long_token, TOKEN_MAX + 1, "longer than 512"},
        {"mqk_x", 5, "not mqk_<key name>_<64 hex"},
        {"mqk__00112233445566778899aabbccddeeff00112233445566778899aabbccd"
         "deeff",
         69, "not mqk_"},
        {upper, sizeof key_token - 1, "lowercase hex"},
        {bad_name, 0, "key name"},
        {"mqk_a_0011223344556677889\naabbccddeeff00112233445566778899aabbc"
         "cddeeff",
         70, "not printable"},
        {"abcdefghijklmnopqrstuvwxyz012345\x80", 33, "not printable"},
    };
    (void)state;
    memset(long_token, 'a', sizeof long_token - 1);
    long_token[sizeof long_token - 1] = '\0';
    strcpy(upper, key_token);
    upper[sizeof key_token - 2] = 'F';
    snprintf(bad_name, sizeof bad_name, "mqk_-x_%s",
             key_token + strlen("mqk_orders_svc_"));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct token t;
        struct errmsg e = ERRMSG_INIT;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].token);
        assert_int_equal(token_parse(cases[i].token, len, &t, &e),
                         MQ_ERR_UNAUTHENTICATED);
        if (strstr(e.msg, cases[i].says) == NULL) {
            fail_msg("case %zu: \"%s\" does not say \"%s\"", i, e.msg,
                     cases[i].says);
        }
        if (len >= 8) {
            char head[9];
            memcpy(head, cases[i].token + len - 8, 8);
            head[8] = '\0';
            assert_null(strstr(e.msg, head));
        }
    }
}

static void test_bootstrap_secret_form_checked(void **state)
{
    struct errmsg e = ERRMSG_INIT;
    (void)state;
    assert_int_equal(token_check_bare(boot_secret, strlen(boot_secret), &e),
                     MQ_OK);
    assert_int_equal(token_check_bare("too-short-secret", 16, &e),
                     MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "16 characters"));
    assert_int_equal(
        token_check_bare("mqk_a_long_enough_secret_0123456789", 35, &e),
        MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "mqk_"));
    assert_int_equal(
        token_check_bare("with\ta-tab-in-it-0123456789abcdef", 33, &e),
        MQ_ERR_INVALID);
}

/* The verification cache -------------------------------------------------- */

static void test_cache_hits_only_the_same_token_and_key_state(void **state)
{
    struct authcache c;
    uint8_t pepper[32] = {1}, d1[32], d2[32];
    struct key k;
    (void)state;
    memset(&k, 0, sizeof k);
    strcpy(k.name, "admin");
    k.gen = 7;
    authcache_init(&c, pepper);
    authcache_digest(&c, boot_secret, strlen(boot_secret), d1);
    authcache_digest(&c, boot_secret, strlen(boot_secret) - 1, d2);
    assert_false(authcache_hit(&c, d1, &k));
    authcache_put(&c, d1, &k);
    assert_true(authcache_hit(&c, d1, &k));
    assert_false(authcache_hit(&c, d2, &k));
    /* The key changed (rotated, updated, restored): verify again. */
    k.gen = 8;
    assert_false(authcache_hit(&c, d1, &k));
    k.gen = 7;
    assert_false(authcache_hit(&c, d1, &k)); /* the entry was dropped */
    /* Another pepper, another digest: entries mean nothing elsewhere. */
    struct authcache c2;
    uint8_t pepper2[32] = {2}, d3[32];
    authcache_init(&c2, pepper2);
    authcache_digest(&c2, boot_secret, strlen(boot_secret), d3);
    assert_memory_not_equal(d1, d3, 32);
}

static void test_cache_keeps_the_most_recently_used(void **state)
{
    struct authcache c;
    uint8_t pepper[32] = {0}, d[AUTHCACHE_SLOTS + 1][32];
    struct key k;
    char tok[64];
    (void)state;
    memset(&k, 0, sizeof k);
    strcpy(k.name, "admin");
    authcache_init(&c, pepper);
    for (int i = 0; i <= AUTHCACHE_SLOTS; i++) {
        snprintf(tok, sizeof tok, "token-%d", i);
        authcache_digest(&c, tok, strlen(tok), d[i]);
    }
    for (int i = 0; i < AUTHCACHE_SLOTS; i++) {
        authcache_put(&c, d[i], &k);
    }
    assert_true(authcache_hit(&c, d[0], &k));  /* 0 is now the newest */
    authcache_put(&c, d[AUTHCACHE_SLOTS], &k); /* replaces 1 */
    assert_true(authcache_hit(&c, d[AUTHCACHE_SLOTS], &k));
    assert_true(authcache_hit(&c, d[0], &k));
    assert_false(authcache_hit(&c, d[1], &k));
    assert_true(authcache_hit(&c, d[2], &k));
}

/* Identifying keys ----------------------------------------------------- */

struct world {
    char dir[64];
    uv_loop_t loop;
    struct keys keys;
    struct auth auth;
    int resumed;
    mq_err resume_err;
    char why[200];
    uint8_t app_secret[32];
};

static void resume_cb(void *ctx, void *arg, mq_err err, const char *why)
{
    struct world *w = arg;
    assert_ptr_equal(ctx, w); /* auth_init's resume_ctx */
    w->resumed++;
    w->resume_err = err;
    snprintf(w->why, sizeof w->why, "%s", why);
}

static struct key *add_key(struct keys *ks, const char *name, int bootstrap)
{
    struct key *k = mq_calloc(1, sizeof *k);
    strcpy(k->name, name);
    k->bootstrap = bootstrap;
    k->n_grants = 1;
    strcpy(k->grants[0].ns, "prd");
    k->grants[0].verbs = GRANT_PUBLISH;
    assert_int_equal(keys_add(ks, k), MQ_OK);
    return k;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, 0600);
}

/* Keys "admin" (bootstrap, PBKDF2 of boot_secret, 1000 iterations) and
 * "app" (a drawn secret); authentication on. */
static int setup(void **state)
{
    struct world *w = calloc(1, sizeof *w);
    struct errmsg e = ERRMSG_INIT;
    strcpy(w->dir, "/tmp/mq-test-auth-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    uv_loop_init(&w->loop);
    keys_init(&w->keys);
    struct key *admin = add_key(&w->keys, "admin", 1);
    assert_int_equal(secret_new_kdf(&admin->secrets[0], boot_secret,
                                    strlen(boot_secret), 1000, &e),
                     MQ_OK);
    admin->n_secrets = 1;
    struct key *app = add_key(&w->keys, "app", 0);
    assert_int_equal(secret_new(&app->secrets[0], w->app_secret, &e), MQ_OK);
    app->n_secrets = 1;
    w->keys.auth_on = 1;
    assert_int_equal(
        auth_init(&w->auth, &w->loop, &w->keys, w->dir, "", resume_cb, w, &e),
        MQ_OK);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    char path[128];
    auth_close(&w->auth);
    uv_run(&w->loop, UV_RUN_DEFAULT); /* the pool's work ends */
    uv_loop_close(&w->loop);
    keys_close(&w->keys);
    snprintf(path, sizeof path, "%s/%s", w->dir, AUTH_MARKER);
    unlink(path);
    snprintf(path, sizeof path, "%s/boot", w->dir);
    unlink(path);
    rmdir(w->dir);
    free(w);
    return 0;
}

static mq_err identify(struct world *w, const char *token,
                       enum auth_outcome *out, const struct key **k,
                       struct errmsg *e)
{
    char claimed[MQ_NAME_MAX + 1];
    return auth_identify(&w->auth, token, strlen(token), 1000, w, out, k,
                         claimed, e);
}

static void test_key_token_identifies_at_once(void **state)
{
    struct world *w = *state;
    struct errmsg e = ERRMSG_INIT;
    enum auth_outcome out;
    const struct key *k;
    char token[TOKEN_KEY_MAX + 1];

    token_format("app", w->app_secret, token);
    assert_int_equal(identify(w, token, &out, &k, &e), MQ_OK);
    assert_int_equal(out, AUTH_KEY);
    assert_string_equal(k->name, "app");

    char *last = &token[strlen(token) - 1];
    *last = *last == '0' ? '1' : '0'; /* another hex digit */
    assert_int_equal(identify(w, token, &out, &k, &e), MQ_ERR_UNAUTHENTICATED);
    assert_string_equal(e.msg, "key app: wrong secret");
    assert_null(k);

    token_format("nosuch", w->app_secret, token);
    assert_int_equal(identify(w, token, &out, &k, &e), MQ_ERR_UNAUTHENTICATED);
    assert_non_null(strstr(e.msg, "key nosuch: unknown or revoked"));
}

/* Both secrets of a key being rotated work. */
static void test_both_secrets_of_a_rotated_key_work(void **state)
{
    struct world *w = *state;
    struct errmsg e = ERRMSG_INIT;
    enum auth_outcome out;
    const struct key *k;
    char token[TOKEN_KEY_MAX + 1];
    uint8_t second[32];
    struct key *app = keys_find(&w->keys, "app");

    assert_int_equal(secret_new(&app->secrets[1], second, &e), MQ_OK);
    app->n_secrets = 2;
    token_format("app", w->app_secret, token);
    assert_int_equal(identify(w, token, &out, &k, &e), MQ_OK);
    token_format("app", second, token);
    assert_int_equal(identify(w, token, &out, &k, &e), MQ_OK);
    /* Retired: the first no longer works. */
    app->secrets[0] = app->secrets[1];
    app->n_secrets = 1;
    token_format("app", w->app_secret, token);
    assert_int_equal(identify(w, token, &out, &k, &e), MQ_ERR_UNAUTHENTICATED);
}

static void test_expired_key_is_refused(void **state)
{
    struct world *w = *state;
    struct errmsg e = ERRMSG_INIT;
    enum auth_outcome out;
    const struct key *k;
    char token[TOKEN_KEY_MAX + 1];

    keys_find(&w->keys, "app")->expires_at_ms = 1000; /* identify's now */
    token_format("app", w->app_secret, token);
    assert_int_equal(identify(w, token, &out, &k, &e), MQ_ERR_UNAUTHENTICATED);
    assert_non_null(strstr(e.msg, "key app expired at 1970-01-01T00:00:01Z"));
    keys_find(&w->keys, "app")->expires_at_ms = 1001;
    assert_int_equal(identify(w, token, &out, &k, &e), MQ_OK);
}

/* The bootstrap secret: parked for PBKDF2 on the pool, then remembered. */
static void test_bootstrap_secret_checked_once_then_remembered(void **state)
{
    struct world *w = *state;
    struct errmsg e = ERRMSG_INIT;
    enum auth_outcome out;
    const struct key *k;

    assert_int_equal(identify(w, boot_secret, &out, &k, &e), MQ_OK);
    assert_int_equal(out, AUTH_PARKED);
    assert_null(k);
    /* A second request with it waits for the same check. */
    assert_int_equal(identify(w, boot_secret, &out, &k, &e), MQ_OK);
    assert_int_equal(out, AUTH_PARKED);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    assert_int_equal(w->resumed, 2);
    assert_int_equal(w->resume_err, MQ_OK);
    assert_int_equal(w->auth.slow_checks, 1);
    assert_int_equal(identify(w, boot_secret, &out, &k, &e), MQ_OK);
    assert_int_equal(out, AUTH_KEY);
    assert_string_equal(k->name, "admin");
    assert_int_equal(w->auth.cache_hits, 1);

    /* The key changes: checked again. */
    keys_touch(&w->keys, keys_find(&w->keys, "admin"));
    assert_int_equal(identify(w, boot_secret, &out, &k, &e), MQ_OK);
    assert_int_equal(out, AUTH_PARKED);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    assert_int_equal(w->auth.slow_checks, 2);
}

static void test_wrong_bootstrap_secret_refused_after_its_check(void **state)
{
    struct world *w = *state;
    struct errmsg e = ERRMSG_INIT;
    enum auth_outcome out;
    const struct key *k;
    const char *wrong = "correct-horse-battery-staple-012345678X";

    assert_int_equal(identify(w, wrong, &out, &k, &e), MQ_OK);
    assert_int_equal(out, AUTH_PARKED);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    assert_int_equal(w->resumed, 1);
    assert_int_equal(w->resume_err, MQ_ERR_UNAUTHENTICATED);
    assert_string_equal(w->why, "key admin: wrong secret");
    /* Not remembered: checked again. */
    assert_int_equal(identify(w, wrong, &out, &k, &e), MQ_OK);
    assert_int_equal(out, AUTH_PARKED);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    assert_int_equal(w->auth.slow_checks, 2);
}

static void test_parked_requests_are_bounded_and_refused_at_close(void **state)
{
    struct world *w = *state;
    struct errmsg e = ERRMSG_INIT;
    enum auth_outcome out;
    const struct key *k;

    for (int i = 0; i < AUTH_PARKED_MAX; i++) {
        assert_int_equal(identify(w, boot_secret, &out, &k, &e), MQ_OK);
        assert_int_equal(out, AUTH_PARKED);
    }
    assert_int_equal(identify(w, boot_secret, &out, &k, &e), MQ_ERR_NOT_DONE);
    assert_non_null(strstr(e.msg, "retry"));
    auth_close(&w->auth);
    assert_int_equal(w->resumed, AUTH_PARKED_MAX);
    assert_int_equal(w->resume_err, MQ_ERR_NOT_DONE);
}

static void test_auth_off_configured_and_marked(void **state)
{
    struct world *w = *state;
    struct errmsg e = ERRMSG_INIT;
    enum auth_outcome out;
    const struct key *k;
    char path[128];

    /* Off: anything goes, no token needed. */
    w->keys.auth_on = 0;
    assert_false(auth_required(&w->auth));
    assert_int_equal(identify(w, "", &out, &k, &e), MQ_OK);
    assert_int_equal(out, AUTH_OFF);

    /* Configured here, not applied yet: refused, retryable. */
    snprintf(path, sizeof path, "%s/boot", w->dir);
    write_file(path, "correct-horse-battery-staple-0123456789\n");
    auth_close(&w->auth);
    assert_int_equal(
        auth_init(&w->auth, &w->loop, &w->keys, w->dir, path, resume_cb, w, &e),
        MQ_OK);
    assert_true(auth_required(&w->auth));
    assert_true(auth_has_bootstrap(&w->auth));
    assert_int_equal(identify(w, boot_secret, &out, &k, &e), MQ_ERR_NOT_DONE);
    assert_non_null(strstr(e.msg, "being set up"));

    /* Applied: the marker is written and the secret forgotten... */
    w->keys.auth_on = 1;
    auth_note_state(&w->auth);
    assert_false(auth_has_bootstrap(&w->auth));
    snprintf(path, sizeof path, "%s/%s", w->dir, AUTH_MARKER);
    assert_int_equal(access(path, F_OK), 0);
    /* ...so that after a restart without the config key, requests wait
     * for the log's replay instead of going through. */
    w->keys.auth_on = 0;
    auth_close(&w->auth);
    assert_int_equal(
        auth_init(&w->auth, &w->loop, &w->keys, w->dir, "", resume_cb, w, &e),
        MQ_OK);
    assert_true(auth_required(&w->auth));
    assert_int_equal(identify(w, "", &out, &k, &e), MQ_ERR_NOT_DONE);
}

static void test_bootstrap_file_checked_at_start(void **state)
{
    struct world *w = *state;
    struct errmsg e = ERRMSG_INIT;
    char path[128];
    const struct {
        const char *text;
        const char *says;
    } bad[] = {
        {"short\n", "5 characters"},
        {"mqk_looks_like_a_token_0123456789abcdef\n", "mqk_"},
        {"correct-horse-battery-staple-0123456789\nsecond line\n", "printable"},
        {"", "0 characters"},
    };
    (void)state;
    snprintf(path, sizeof path, "%s/boot", w->dir);
    auth_close(&w->auth);
    assert_int_equal(auth_init(&w->auth, &w->loop, &w->keys, w->dir,
                               "/nonexistent/boot", resume_cb, w, &e),
                     MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "/nonexistent/boot: cannot open"));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, bad[i].text);
        auth_close(&w->auth);
        assert_int_equal(auth_init(&w->auth, &w->loop, &w->keys, w->dir, path,
                                   resume_cb, w, &e),
                         MQ_ERR_INVALID);
        if (strstr(e.msg, bad[i].says) == NULL ||
            strstr(e.msg, "auth_bootstrap_key_file") == NULL) {
            fail_msg("case %zu: \"%s\"", i, e.msg);
        }
        assert_null(strstr(e.msg, "horse"));
    }
    /* Blanks around the line are not part of the secret. */
    write_file(path, "  correct-horse-battery-staple-0123456789 \r\n");
    auth_close(&w->auth);
    assert_int_equal(
        auth_init(&w->auth, &w->loop, &w->keys, w->dir, path, resume_cb, w, &e),
        MQ_OK);
    assert_true(auth_has_bootstrap(&w->auth));
    assert_int_equal(w->auth.bootstrap_len, strlen(boot_secret));
    assert_memory_equal(w->auth.bootstrap, boot_secret, strlen(boot_secret));
}

static void test_permit_names_key_verb_and_namespace(void **state)
{
    struct world *w = *state;
    struct errmsg e = ERRMSG_INIT;
    const struct key *app = keys_find(&w->keys, "app");
    (void)state;
    assert_int_equal(auth_permit(app, GRANT_PUBLISH, "prd", &e), MQ_OK);
    assert_int_equal(auth_permit(app, GRANT_CONSUME, "prd", &e),
                     MQ_ERR_PERMISSION_DENIED);
    assert_string_equal(e.msg, "key app may not consume in namespace prd");
    assert_int_equal(auth_permit(app, GRANT_PUBLISH, "stg", &e),
                     MQ_ERR_PERMISSION_DENIED);
    assert_string_equal(e.msg, "key app may not publish in namespace stg");
    assert_int_equal(auth_permit(app, GRANT_ADMIN, NULL, &e),
                     MQ_ERR_PERMISSION_DENIED);
    assert_non_null(strstr(e.msg, "may not admin"));
    assert_int_equal(auth_permit(app, GRANT_PUBLISH, NULL, &e),
                     MQ_ERR_PERMISSION_DENIED);
    assert_non_null(strstr(e.msg, "every namespace"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hashes_match_independent_vectors),
        cmocka_unit_test(test_drawn_secret_verifies_and_others_do_not),
        cmocka_unit_test(test_chosen_secret_verifies_with_pbkdf2),
        cmocka_unit_test(test_secret_equal_compares_every_byte),
        cmocka_unit_test(test_token_of_a_key_parses_and_round_trips),
        cmocka_unit_test(test_bootstrap_secret_parses_as_bare),
        cmocka_unit_test(test_bad_tokens_get_clear_errors),
        cmocka_unit_test(test_bootstrap_secret_form_checked),
        cmocka_unit_test(test_cache_hits_only_the_same_token_and_key_state),
        cmocka_unit_test(test_cache_keeps_the_most_recently_used),
        cmocka_unit_test_setup_teardown(test_key_token_identifies_at_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_both_secrets_of_a_rotated_key_work,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_key_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_bootstrap_secret_checked_once_then_remembered, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_wrong_bootstrap_secret_refused_after_its_check, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_parked_requests_are_bounded_and_refused_at_close, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_auth_off_configured_and_marked,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bootstrap_file_checked_at_start,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_permit_names_key_verb_and_namespace, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
