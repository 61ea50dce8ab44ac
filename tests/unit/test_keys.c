/* test_keys.c: keys in the replicated state: the bootstrap turns
 * authentication on once; create, update, rotate, revoke and last-used
 * change a key only as each op says, and a refused op changes nothing;
 * the cluster always keeps an admin key; snapshots carry the keys (only
 * once authentication is on, so older snapshots restore with it off),
 * restore gives back the same state and refuses damaged sections; every
 * allocation failure is clean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "fsm.h"
#include "fsm_helpers.h"
#include "fsm_keys.h"
#include "keys_snap.h"

#define ALL_VERBS 15u

/* Applies @t (then frees it) and returns the result of its op @i. */
static struct fsm_op_result apply(struct fsm *f, struct tcmd *t)
{
    struct errmsg e = ERRMSG_INIT;
    mq_err rv = fsm_apply_tcmd(f, t, &e);
    tcmd_free(t);
    assert_int_equal(rv, MQ_OK);
    assert_true(f->n_ops >= 1);
    return f->ops[0];
}

/* A state with authentication on: the bootstrap key "admin" (secret 0xAA)
 * and key "app" (0x01) allowed to publish and consume in prd. */
static struct fsm *with_keys(void)
{
    struct fsm *f = fsm_new();
    struct tcmd *t = tcmd_new(1000);
    tcmd_key_grant(t, tcmd_key_create(t, "admin", 0xAA, 1), NULL, 0, "*",
                   ALL_VERBS);
    assert_int_equal(apply(f, t).err, MQ_OK);
    t = tcmd_new(2000);
    Mq__V1__KeyCreateOp *kc = tcmd_key_create(t, "app", 0x01, 0);
    tcmd_key_grant(t, kc, NULL, 0, "prd", 3);
    kc->request_id = "req-1";
    assert_int_equal(apply(f, t).err, MQ_OK);
    return f;
}

static void test_bootstrap_turns_auth_on_once(void **state)
{
    struct fsm *f = fsm_new();
    struct tcmd *t = tcmd_new(1000);
    (void)state;
    assert_false(f->keys.auth_on);
    tcmd_key_grant(t, tcmd_key_create(t, "admin", 0xAA, 1), NULL, 0, "*",
                   ALL_VERBS);
    assert_int_equal(apply(f, t).err, MQ_OK);
    assert_true(f->keys.auth_on);
    const struct key *k = keys_find(&f->keys, "admin");
    assert_non_null(k);
    assert_true(k->bootstrap);
    assert_int_equal(k->n_secrets, 1);
    assert_int_equal(k->created_at_ms, 1000);
    assert_int_equal(k->secrets[0].created_at_ms, 1000);
    assert_true(key_is_admin(k));
    /* A second bootstrap (another node's proposal) changes nothing. */
    t = tcmd_new(1500);
    tcmd_key_create(t, "admin2", 0xBB, 1);
    struct fsm_op_result r = apply(f, t);
    assert_int_equal(r.err, MQ_ERR_EXISTS);
    assert_non_null(strstr(r.e.msg, "applied once"));
    assert_int_equal(f->keys.n, 1);
    assert_int_equal(keys_find(&f->keys, "admin")->secrets[0].hash[0], 0xAA);
    fsm_free(f);
}

static void test_key_ops_refused_while_auth_is_off(void **state)
{
    struct fsm *f = fsm_new();
    struct tcmd *t = tcmd_new(1000);
    (void)state;
    tcmd_key_create(t, "app", 0x01, 0);
    struct fsm_op_result r = apply(f, t);
    assert_int_equal(r.err, MQ_ERR_INVALID);
    assert_non_null(strstr(r.e.msg, "authentication is off"));
    assert_false(f->keys.auth_on);
    assert_int_equal(f->keys.n, 0);
    t = tcmd_new(1000);
    tcmd_key_revoke(t, "app");
    assert_int_equal(apply(f, t).err, MQ_ERR_INVALID);
    fsm_free(f);
}

static void test_create_checks_name_grants_hash_and_expiry(void **state)
{
    struct fsm *f = with_keys();
    struct tcmd *t;
    struct fsm_op_result r;
    (void)state;

    t = tcmd_new(3000);
    tcmd_key_create(t, "bad name", 0x02, 0);
    r = apply(f, t);
    assert_int_equal(r.err, MQ_ERR_INVALID);
    assert_non_null(strstr(r.e.msg, "key name"));

    t = tcmd_new(3000);
    tcmd_key_grant(t, tcmd_key_create(t, "k", 0x02, 0), NULL, 0, "prd",
                   GRANT_ADMIN);
    r = apply(f, t);
    assert_int_equal(r.err, MQ_ERR_INVALID);
    assert_non_null(strstr(r.e.msg, "admin is cluster-wide"));

    t = tcmd_new(3000);
    tcmd_key_create(t, "k", 0x02, 0)->secret->salt.len = 3;
    r = apply(f, t);
    assert_int_equal(r.err, MQ_ERR_INVALID);
    assert_non_null(strstr(r.e.msg, "salt of 3 bytes"));

    t = tcmd_new(3000);
    tcmd_key_create(t, "k", 0x02, 0)->secret->kind = 7;
    assert_int_equal(apply(f, t).err, MQ_ERR_INVALID);

    t = tcmd_new(3000);
    tcmd_key_create(t, "k", 0x02, 0)->expires_at_ms = 3000;
    r = apply(f, t);
    assert_int_equal(r.err, MQ_ERR_INVALID);
    assert_non_null(strstr(r.e.msg, "expiry"));

    t = tcmd_new(3000);
    tcmd_key_create(t, "app", 0x02, 0);
    r = apply(f, t);
    assert_int_equal(r.err, MQ_ERR_EXISTS);
    /* Nothing of the above was made; app keeps its secret. */
    assert_int_equal(f->keys.n, 2);
    assert_null(keys_find(&f->keys, "k"));
    assert_int_equal(keys_find(&f->keys, "app")->secrets[0].hash[0], 0x01);
    fsm_free(f);
}

/* A retry of a create whose reply was lost (the same request id) gets a
 * new secret in place of the one nobody saw. */
static void test_create_retry_with_same_request_id_replaces_secret(void **state)
{
    struct fsm *f = with_keys();
    struct tcmd *t = tcmd_new(3000);
    (void)state;
    uint64_t gen = keys_find(&f->keys, "app")->gen;
    tcmd_key_create(t, "app", 0x05, 0)->request_id = "req-1";
    assert_int_equal(apply(f, t).err, MQ_OK);
    const struct key *k = keys_find(&f->keys, "app");
    assert_int_equal(k->n_secrets, 1);
    assert_int_equal(k->secrets[0].hash[0], 0x05);
    assert_true(k->gen > gen);
    t = tcmd_new(3100);
    tcmd_key_create(t, "app", 0x06, 0)->request_id = "req-2";
    assert_int_equal(apply(f, t).err, MQ_ERR_EXISTS);
    assert_int_equal(keys_find(&f->keys, "app")->secrets[0].hash[0], 0x05);
    fsm_free(f);
}

static void test_update_replaces_grants_and_expiry(void **state)
{
    struct fsm *f = with_keys();
    struct tcmd *t = tcmd_new(3000);
    (void)state;
    Mq__V1__KeyUpdateOp *ku = tcmd_key_update(t, "app");
    tcmd_key_grant(t, NULL, ku, 0, "team-*", GRANT_CONSUME);
    tcmd_key_grant(t, NULL, ku, 1, "team-secret", GRANT_CONSUME);
    ku->set_expiry = 1;
    ku->expires_at_ms = 90000;
    assert_int_equal(apply(f, t).err, MQ_OK);
    const struct key *k = keys_find(&f->keys, "app");
    assert_int_equal(k->n_grants, 2);
    assert_int_equal(k->expires_at_ms, 90000);
    assert_true(grants_allow(k->grants, k->n_grants, GRANT_CONSUME, "team-a"));
    assert_false(
        grants_allow(k->grants, k->n_grants, GRANT_CONSUME, "team-secret"));
    assert_false(grants_allow(k->grants, k->n_grants, GRANT_PUBLISH, "prd"));

    /* A bad grant changes nothing. */
    t = tcmd_new(3100);
    tcmd_key_grant(t, NULL, tcmd_key_update(t, "app"), 0, "a b", GRANT_CONSUME);
    assert_int_equal(apply(f, t).err, MQ_ERR_INVALID);
    assert_int_equal(keys_find(&f->keys, "app")->n_grants, 2);

    t = tcmd_new(3200);
    tcmd_key_update(t, "nosuch")->set_expiry = 1;
    assert_int_equal(apply(f, t).err, MQ_ERR_NOT_FOUND);
    fsm_free(f);
}

static void test_the_last_admin_key_stays(void **state)
{
    struct fsm *f = with_keys();
    struct tcmd *t;
    struct fsm_op_result r;
    (void)state;

    t = tcmd_new(3000);
    tcmd_key_revoke(t, "admin");
    r = apply(f, t);
    assert_int_equal(r.err, MQ_ERR_INVALID);
    assert_non_null(strstr(r.e.msg, "last admin key"));
    t = tcmd_new(3000);
    tcmd_key_grant(t, NULL, tcmd_key_update(t, "admin"), 0, "*", GRANT_CONSUME);
    assert_int_equal(apply(f, t).err, MQ_ERR_INVALID);
    assert_true(key_is_admin(keys_find(&f->keys, "admin")));

    /* With another admin key, the bootstrap key may go. */
    t = tcmd_new(3100);
    tcmd_key_grant(t, tcmd_key_create(t, "ops", 0x03, 0), NULL, 0, "*",
                   GRANT_ADMIN);
    assert_int_equal(apply(f, t).err, MQ_OK);
    t = tcmd_new(3200);
    tcmd_key_revoke(t, "admin");
    assert_int_equal(apply(f, t).err, MQ_OK);
    assert_null(keys_find(&f->keys, "admin"));
    assert_null(keys_bootstrap(&f->keys));
    assert_true(f->keys.auth_on); /* stays on */
    t = tcmd_new(3300);
    tcmd_key_revoke(t, "admin");
    assert_int_equal(apply(f, t).err, MQ_ERR_NOT_FOUND);
    fsm_free(f);
}

static void
test_rotate_adds_a_second_secret_and_retire_keeps_newest(void **state)
{
    struct fsm *f = with_keys();
    struct tcmd *t = tcmd_new(3000);
    struct fsm_op_result r;
    (void)state;
    tcmd_key_rotate(t, "app", 0x02, 0)->request_id = "rot-1";
    assert_int_equal(apply(f, t).err, MQ_OK);
    const struct key *k = keys_find(&f->keys, "app");
    assert_int_equal(k->n_secrets, 2);
    assert_int_equal(k->secrets[0].hash[0], 0x01);
    assert_int_equal(k->secrets[1].hash[0], 0x02);
    assert_int_equal(k->secrets[1].created_at_ms, 3000);

    /* A third secret is refused... */
    t = tcmd_new(3100);
    tcmd_key_rotate(t, "app", 0x03, 0)->request_id = "rot-2";
    r = apply(f, t);
    assert_int_equal(r.err, MQ_ERR_INVALID);
    assert_non_null(strstr(r.e.msg, "retire the old one first"));
    /* ...unless it is a retry of the rotate that added the second. */
    t = tcmd_new(3200);
    tcmd_key_rotate(t, "app", 0x04, 0)->request_id = "rot-1";
    assert_int_equal(apply(f, t).err, MQ_OK);
    k = keys_find(&f->keys, "app");
    assert_int_equal(k->n_secrets, 2);
    assert_int_equal(k->secrets[0].hash[0], 0x01);
    assert_int_equal(k->secrets[1].hash[0], 0x04);

    t = tcmd_new(3300);
    tcmd_key_rotate(t, "app", 0, 1);
    assert_int_equal(apply(f, t).err, MQ_OK);
    k = keys_find(&f->keys, "app");
    assert_int_equal(k->n_secrets, 1);
    assert_int_equal(k->secrets[0].hash[0], 0x04);
    /* Retiring again is a success that changes nothing. */
    uint64_t gen = k->gen;
    t = tcmd_new(3400);
    tcmd_key_rotate(t, "app", 0, 1);
    assert_int_equal(apply(f, t).err, MQ_OK);
    assert_int_equal(keys_find(&f->keys, "app")->n_secrets, 1);
    assert_int_equal(keys_find(&f->keys, "app")->gen, gen);
    fsm_free(f);
}

static void test_used_moves_last_used_forward_only(void **state)
{
    struct fsm *f = with_keys();
    struct tcmd *t = tcmd_new(3000);
    (void)state;
    uint64_t gen = keys_find(&f->keys, "app")->gen;
    tcmd_key_used(t, "app", 2500);
    assert_int_equal(apply(f, t).err, MQ_OK);
    assert_int_equal(keys_find(&f->keys, "app")->last_used_ms, 2500);
    t = tcmd_new(3100);
    tcmd_key_used(t, "app", 2000);
    apply(f, t);
    assert_int_equal(keys_find(&f->keys, "app")->last_used_ms, 2500);
    /* Not a change of the key: verified tokens stay remembered. */
    assert_int_equal(keys_find(&f->keys, "app")->gen, gen);
    t = tcmd_new(3200);
    tcmd_key_used(t, "gone", 3000);
    assert_int_equal(apply(f, t).err, MQ_ERR_NOT_FOUND);
    fsm_free(f);
}

/* Snapshots ---------------------------------------------------------------- */

static struct fsm *restore(const struct blob *b, mq_err want)
{
    struct fsm *f = fsm_new();
    struct errmsg e = ERRMSG_INIT;
    mq_err rv = fsm_restore(f, b->data, b->len, &e);
    if (rv != want) {
        fail_msg("fsm_restore: %d (%s), want %d", rv, e.msg, want);
    }
    return f;
}

static int has_section(const struct blob *b)
{
    for (size_t i = 0; i + 8 <= b->len; i++) {
        if (memcmp(b->data + i, KEYS_SNAP_MAGIC, 8) == 0) {
            return 1;
        }
    }
    return 0;
}

static void test_snapshot_without_auth_has_no_keys_section(void **state)
{
    struct fsm *f = fsm_new();
    (void)state;
    scenario_apply(f);
    struct blob b = snap_take(f);
    assert_false(has_section(&b));
    struct fsm *g = restore(&b, MQ_OK);
    assert_false(g->keys.auth_on);
    assert_int_equal(g->keys.n, 0);
    blob_free(&b);
    fsm_free(f);
    fsm_free(g);
}

static void test_snapshot_restores_keys_to_the_same_bytes(void **state)
{
    struct fsm *f = with_keys();
    struct tcmd *t = tcmd_new(4000);
    (void)state;
    scenario_apply(f);
    tcmd_key_rotate(t, "app", 0x02, 0)->request_id = "rot-1";
    tcmd_key_used(t, "admin", 3999);
    Mq__V1__KeyUpdateOp *ku = tcmd_key_update(t, "app");
    tcmd_key_grant(t, NULL, ku, 1, "prd-secret", GRANT_CONSUME);
    tcmd_key_grant(t, NULL, ku, 0, "prd*", GRANT_CONSUME);
    ku->set_expiry = 1;
    ku->expires_at_ms = 99999;
    apply(f, t);
    struct blob b = snap_take(f);
    assert_true(has_section(&b));
    struct fsm *g = restore(&b, MQ_OK);
    assert_true(g->keys.auth_on);
    assert_int_equal(g->keys.n, 2);
    const struct key *a = keys_find(&f->keys, "app");
    const struct key *c = keys_find(&g->keys, "app");
    assert_int_equal(c->n_secrets, 2);
    assert_memory_equal(c->secrets, a->secrets, sizeof a->secrets);
    assert_memory_equal(c->grants, a->grants, sizeof a->grants);
    assert_string_equal(c->request_id, "rot-1");
    assert_int_equal(c->expires_at_ms, 99999);
    assert_int_equal(keys_find(&g->keys, "admin")->last_used_ms, 3999);
    assert_true(keys_find(&g->keys, "admin")->bootstrap);
    struct blob b2 = snap_take(g);
    assert_true(blob_equal(&b, &b2));
    blob_free(&b);
    blob_free(&b2);
    fsm_free(f);
    fsm_free(g);
}

/* Restoring a snapshot gives every key a gen never used before in this
 * process, so that a cache of verified tokens never takes a restored key
 * for the one it knew. */
static void test_restore_gives_new_gens(void **state)
{
    struct fsm *f = with_keys();
    (void)state;
    struct blob b = snap_take(f);
    uint64_t before = f->keys.next_gen;
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(fsm_restore(f, b.data, b.len, &e), MQ_OK);
    assert_true(keys_find(&f->keys, "app")->gen > before);
    assert_true(keys_find(&f->keys, "admin")->gen > before);
    blob_free(&b);
    fsm_free(f);
}

/* The section's offset in @b. */
static size_t section_at(const struct blob *b)
{
    for (size_t i = 0; i + 8 <= b->len; i++) {
        if (memcmp(b->data + i, KEYS_SNAP_MAGIC, 8) == 0) {
            return i;
        }
    }
    fail_msg("no keys section");
    return 0;
}

/* A snapshot whose keys section is @ks, packed. */
static struct blob with_section(const struct blob *b, Mq__V1__KeysSnap *ks)
{
    size_t at = section_at(b);
    size_t n = mq__v1__keys_snap__get_packed_size(ks);
    struct blob out;
    out.len = at + KEYS_SNAP_HEADER + n;
    out.data = malloc(out.len);
    memcpy(out.data, b->data, at);
    memcpy(out.data + at, KEYS_SNAP_MAGIC, 8);
    uint32_t len = (uint32_t)n, zero = 0;
    memcpy(out.data + at + 8, &len, 4);
    memcpy(out.data + at + 12, &zero, 4);
    mq__v1__keys_snap__pack(ks, out.data + at + KEYS_SNAP_HEADER);
    return out;
}

static void test_restore_refuses_damaged_keys_and_changes_nothing(void **state)
{
    struct fsm *f = with_keys();
    struct fsm *g = with_keys();
    (void)state;
    scenario_apply(g);
    struct blob b = snap_take(f);
    struct blob before = snap_take(g);
    struct errmsg e = ERRMSG_INIT;
    size_t at = section_at(&b);

    /* Cut anywhere in the section. */
    for (size_t cut = at + 1; cut < b.len; cut += 7) {
        assert_int_equal(fsm_restore(g, b.data, cut, &e), MQ_ERR_PROTOCOL);
    }
    /* Bytes after it. */
    struct blob longer = {malloc(b.len + 1), b.len + 1};
    memcpy(longer.data, b.data, b.len);
    longer.data[b.len] = 0;
    assert_int_equal(fsm_restore(g, longer.data, longer.len, &e),
                     MQ_ERR_PROTOCOL);
    blob_free(&longer);

    /* Sections that decode but hold what apply never makes. */
    Mq__V1__KeysSnap ks = MQ__V1__KEYS_SNAP__INIT;
    Mq__V1__KeySnap k1 = MQ__V1__KEY_SNAP__INIT, k2 = MQ__V1__KEY_SNAP__INIT;
    Mq__V1__KeySnap *kp[2] = {&k1, &k2};
    Mq__V1__SecretHash sh = MQ__V1__SECRET_HASH__INIT;
    Mq__V1__SecretHash *shp[3] = {&sh, &sh, &sh};
    Mq__V1__Grant gr = MQ__V1__GRANT__INIT;
    Mq__V1__Grant *grp[1] = {&gr};
    uint8_t bytes[48] = {0};
    sh.kind = 1;
    sh.salt.data = bytes;
    sh.salt.len = 16;
    sh.hash.data = bytes + 16;
    sh.hash.len = 32;
    gr.ns = "prd";
    gr.verbs = 1;
    k1.name = "a";
    k1.secrets = shp;
    k1.n_secrets = 1;
    k1.grants = grp;
    k1.n_grants = 1;
    k2 = k1;
    ks.auth_on = 1;
    ks.keys = kp;
    ks.n_keys = 1;
    struct blob ok = with_section(&b, &ks);
    struct fsm *h = restore(&ok, MQ_OK);
    assert_non_null(keys_find(&h->keys, "a"));
    fsm_free(h);
    blob_free(&ok);

    const char *why[] = {"twice",    "secrets", "grant",
                         "auth off", "name",    "iterations"};
    for (size_t i = 0; i < sizeof why / sizeof why[0]; i++) {
        Mq__V1__KeysSnap bad = ks;
        Mq__V1__KeySnap b1 = k1, b2 = k2;
        Mq__V1__KeySnap *bp[2] = {&b1, &b2};
        Mq__V1__SecretHash bsh = sh;
        Mq__V1__SecretHash *bshp[1] = {&bsh};
        Mq__V1__Grant bgr = gr;
        Mq__V1__Grant *bgrp[1] = {&bgr};
        bad.keys = bp;
        b1.secrets = bshp;
        b1.grants = bgrp;
        switch (i) {
        case 0:
            bad.n_keys = 2; /* "a" twice */
            break;
        case 1:
            b1.secrets = shp;
            b1.n_secrets = 3;
            break;
        case 2:
            bgr.ns = "prd";
            bgr.verbs = GRANT_ADMIN;
            break;
        case 3:
            bad.auth_on = 0;
            break;
        case 4:
            b1.name = "-a";
            break;
        default:
            bsh.kind = 2;
            bsh.iterations = 0;
            break;
        }
        struct blob spoiled = with_section(&b, &bad);
        assert_int_equal(fsm_restore(g, spoiled.data, spoiled.len, &e),
                         MQ_ERR_PROTOCOL);
        blob_free(&spoiled);
    }
    /* g is as it was. */
    struct blob after = snap_take(g);
    assert_true(blob_equal(&before, &after));
    blob_free(&after);
    blob_free(&before);
    blob_free(&b);
    fsm_free(f);
    fsm_free(g);
}

/* Allocation failures --------------------------------------------------- */

static void test_key_create_survives_every_oom(void **state)
{
    (void)state;
    for (int n = 0;; n++) {
        struct fsm *f = with_keys();
        struct tcmd *t = tcmd_new(5000);
        struct errmsg e = ERRMSG_INIT;
        tcmd_key_grant(t, tcmd_key_create(t, "new", 0x09, 0), NULL, 0, "*", 1);
        struct blob entry = tcmd_entry(t);
        size_t before = f->keys.n;
        test_alloc_fail_at(n);
        mq_err rv = fsm_apply(f, entry.data, entry.len, &e);
        test_alloc_fail_at(-1);
        entry_free(&entry);
        tcmd_free(t);
        if (rv == MQ_OK) {
            assert_int_equal(f->keys.n, before + 1);
            fsm_free(f);
            break;
        }
        assert_int_equal(rv, MQ_ERR_NO_MEMORY);
        /* Decoding or the key itself failed: no key half made. */
        assert_true(f->keys.n == before || f->keys.n == before + 1);
        if (f->keys.n == before + 1) {
            assert_non_null(keys_find(&f->keys, "new"));
        }
        fsm_free(f);
    }
}

static void test_keys_snapshot_and_restore_survive_every_oom(void **state)
{
    struct fsm *f = with_keys();
    (void)state;
    struct blob b = snap_take(f);
    for (int n = 0;; n++) {
        struct raft_buffer *bufs = NULL;
        unsigned nb = 0;
        test_alloc_fail_at(n);
        mq_err rv = fsm_snapshot(f, &bufs, &nb);
        int taken = rv == MQ_OK;
        if (taken) {
            assert_true(fsm_snapshot_step(f, SIZE_MAX));
            rv = fsm_snapshot_encode(f, &bufs, &nb);
        }
        test_alloc_fail_at(-1);
        if (rv == MQ_OK) {
            struct blob s = snap_concat(bufs, nb);
            fsm_snapshot_done(f, &bufs, &nb);
            assert_true(blob_equal(&s, &b));
            blob_free(&s);
            break;
        }
        assert_int_equal(rv, MQ_ERR_NO_MEMORY);
        if (taken) { /* raft calls done whatever the encoder said */
            fsm_snapshot_done(f, &bufs, &nb);
        }
        assert_null(f->snap);
    }
    for (int n = 0;; n++) {
        struct fsm *g = fsm_new();
        struct errmsg e = ERRMSG_INIT;
        test_alloc_fail_at(n);
        mq_err rv = fsm_restore(g, b.data, b.len, &e);
        test_alloc_fail_at(-1);
        if (rv == MQ_OK) {
            assert_int_equal(g->keys.n, 2);
            fsm_free(g);
            break;
        }
        assert_int_equal(rv, MQ_ERR_NO_MEMORY);
        assert_false(g->keys.auth_on);
        assert_int_equal(g->keys.n, 0);
        fsm_free(g);
    }
    blob_free(&b);
    fsm_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bootstrap_turns_auth_on_once),
        cmocka_unit_test(test_key_ops_refused_while_auth_is_off),
        cmocka_unit_test(test_create_checks_name_grants_hash_and_expiry),
        cmocka_unit_test(
            test_create_retry_with_same_request_id_replaces_secret),
        cmocka_unit_test(test_update_replaces_grants_and_expiry),
        cmocka_unit_test(test_the_last_admin_key_stays),
        cmocka_unit_test(
            test_rotate_adds_a_second_secret_and_retire_keeps_newest),
        cmocka_unit_test(test_used_moves_last_used_forward_only),
        cmocka_unit_test(test_snapshot_without_auth_has_no_keys_section),
        cmocka_unit_test(test_snapshot_restores_keys_to_the_same_bytes),
        cmocka_unit_test(test_restore_gives_new_gens),
        cmocka_unit_test(test_restore_refuses_damaged_keys_and_changes_nothing),
        cmocka_unit_test(test_key_create_survives_every_oom),
        cmocka_unit_test(test_keys_snapshot_and_restore_survive_every_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
