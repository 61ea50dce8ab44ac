/* test_grants.c: what a key's grants allow: namespace patterns with mq's
 * wildcards ("prd", "team-*", "*"), verbs, deny beating allow, requests
 * that reach every namespace, and the checks of a grant's form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "grants.h"

static struct grant G(int deny, const char *ns, unsigned verbs) {
    struct grant g;
    memset(&g, 0, sizeof g);
    g.deny = (uint8_t)deny;
    g.verbs = (uint8_t)verbs;
    snprintf(g.ns, sizeof g.ns, "%s", ns);
    return g;
}

static void
test_grant_patterns_match_names_prefixes_and_all(void **state)
{
    (void)state;
    assert_true(grant_match("prd", "prd"));
    assert_false(grant_match("prd", "prd2"));
    assert_false(grant_match("prd", "pr"));
    assert_true(grant_match("team-*", "team-a"));
    assert_true(grant_match("team-*", "team-"));
    assert_false(grant_match("team-*", "team"));
    assert_false(grant_match("team-*", "teams-a"));
    assert_true(grant_match("*", "anything"));
    assert_true(grant_match("*", "default"));
}

static void test_grant_allows_only_its_verbs_on_its_namespaces(void **state)
{
    struct grant g[] = {G(0, "prd", GRANT_PUBLISH),
                        G(0, "team-*", GRANT_CONSUME | GRANT_MANAGE)};
    (void)state;
    assert_true(grants_allow(g, 2, GRANT_PUBLISH, "prd"));
    assert_false(grants_allow(g, 2, GRANT_CONSUME, "prd"));
    assert_false(grants_allow(g, 2, GRANT_MANAGE, "prd"));
    assert_false(grants_allow(g, 2, GRANT_PUBLISH, "stg"));
    assert_true(grants_allow(g, 2, GRANT_CONSUME, "team-x"));
    assert_true(grants_allow(g, 2, GRANT_MANAGE, "team-y"));
    assert_false(grants_allow(g, 2, GRANT_PUBLISH, "team-x"));
    assert_false(grants_allow(g, 2, GRANT_ADMIN, NULL));
}

static void test_no_grant_allows_nothing(void **state)
{
    (void)state;
    assert_false(grants_allow(NULL, 0, GRANT_PUBLISH, "prd"));
    assert_false(grants_allow(NULL, 0, GRANT_ADMIN, NULL));
}

static void test_deny_beats_allow_in_any_order(void **state)
{
    struct grant a[] = {G(0, "*", GRANT_CONSUME),
                        G(1, "secret", GRANT_CONSUME)};
    struct grant b[] = {G(1, "secret", GRANT_CONSUME),
                        G(0, "*", GRANT_CONSUME)};
    struct grant c[] = {G(0, "team-a", GRANT_PUBLISH | GRANT_CONSUME),
                        G(1, "team-*", GRANT_PUBLISH)};
    (void)state;
    assert_true(grants_allow(a, 2, GRANT_CONSUME, "prd"));
    assert_false(grants_allow(a, 2, GRANT_CONSUME, "secret"));
    assert_false(grants_allow(b, 2, GRANT_CONSUME, "secret"));
    assert_true(grants_allow(b, 2, GRANT_CONSUME, "prd"));
    /* A deny of one verb leaves the others. */
    assert_false(grants_allow(c, 2, GRANT_PUBLISH, "team-a"));
    assert_true(grants_allow(c, 2, GRANT_CONSUME, "team-a"));
}

/* A request that names no namespace (cancel without a queue) reaches all:
 * it needs the verb on "*" and no deny of it anywhere. */
static void test_every_namespace_needs_star_and_no_deny(void **state)
{
    struct grant some[] = {G(0, "prd", GRANT_PUBLISH)};
    struct grant all[] = {G(0, "*", GRANT_PUBLISH)};
    struct grant holed[] = {G(0, "*", GRANT_PUBLISH),
                            G(1, "secret", GRANT_PUBLISH)};
    (void)state;
    assert_false(grants_allow(some, 1, GRANT_PUBLISH, NULL));
    assert_true(grants_allow(all, 1, GRANT_PUBLISH, NULL));
    assert_false(grants_allow(holed, 2, GRANT_PUBLISH, NULL));
    assert_true(grants_allow(holed, 2, GRANT_PUBLISH, "prd"));
}

static void test_admin_is_granted_and_denied_on_star_only(void **state)
{
    struct grant ok = G(0, "*", GRANT_ADMIN | GRANT_PUBLISH);
    struct grant on_ns = G(0, "prd", GRANT_ADMIN);
    struct grant deny_ns = G(1, "team-*", GRANT_ADMIN);
    struct grant admin_and_deny[] = {G(0, "*", GRANT_ADMIN),
                                     G(1, "*", GRANT_ADMIN)};
    struct errmsg e = ERRMSG_INIT;
    (void)state;
    assert_int_equal(grant_check(&ok, &e), MQ_OK);
    assert_int_equal(grant_check(&on_ns, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "admin is cluster-wide"));
    assert_non_null(strstr(e.msg, "prd"));
    assert_int_equal(grant_check(&deny_ns, &e), MQ_ERR_INVALID);
    assert_true(grants_allow(&ok, 1, GRANT_ADMIN, NULL));
    assert_false(grants_allow(admin_and_deny, 2, GRANT_ADMIN, NULL));
}

static void test_grant_check_refuses_bad_patterns_and_verbs(void **state)
{
    static const char *const bad[] = {"",      "-prd",  "pr d", "a*b",
                                      "**",    "prd/x", "*a",   "team-**",
                                      "p\x01", ".x"};
    static const char *const good[] = {"prd", "team-*", "*", "a*",
                                       "Prd_2.eu-west"};
    struct errmsg e = ERRMSG_INIT;
    struct grant g;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        g = G(0, bad[i], GRANT_PUBLISH);
        assert_int_equal(grant_check(&g, &e), MQ_ERR_INVALID);
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        g = G(0, good[i], GRANT_PUBLISH);
        assert_int_equal(grant_check(&g, &e), MQ_OK);
    }
    g = G(0, "prd", 0);
    assert_int_equal(grant_check(&g, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "verbs"));
    g = G(0, "prd", 16);
    assert_int_equal(grant_check(&g, &e), MQ_ERR_INVALID);
    /* A pattern as long as a name plus the '*', and one longer. */
    char ns[GRANT_NS_MAX + 2];
    memset(ns, 'a', MQ_NAME_MAX);
    strcpy(ns + MQ_NAME_MAX, "*");
    g = G(0, ns, GRANT_PUBLISH);
    assert_int_equal(grant_check(&g, &e), MQ_OK);
    memset(ns, 'a', MQ_NAME_MAX + 1);
    ns[MQ_NAME_MAX + 1] = '\0';
    g = G(0, ns, GRANT_PUBLISH);
    assert_int_equal(grant_check(&g, &e), MQ_ERR_INVALID);
}

static void test_verb_names_round_trip(void **state)
{
    (void)state;
    for (unsigned v = GRANT_PUBLISH; v <= GRANT_ADMIN; v <<= 1) {
        const char *name = grant_verb_name(v);
        assert_int_equal(grant_verb_parse(name, strlen(name)), v);
    }
    assert_int_equal(grant_verb_parse("delete", 6), 0);
    assert_int_equal(grant_verb_parse("pub", 3), 0);
    assert_string_equal(grant_verb_name(3), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grant_patterns_match_names_prefixes_and_all),
        cmocka_unit_test(test_grant_allows_only_its_verbs_on_its_namespaces),
        cmocka_unit_test(test_no_grant_allows_nothing),
        cmocka_unit_test(test_deny_beats_allow_in_any_order),
        cmocka_unit_test(test_every_namespace_needs_star_and_no_deny),
        cmocka_unit_test(test_admin_is_granted_and_denied_on_star_only),
        cmocka_unit_test(test_grant_check_refuses_bad_patterns_and_verbs),
        cmocka_unit_test(test_verb_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
