/* test_auth_revoke.c: a key revoked (or whose grants are narrowed) through
 * one node is refused on every node within about one round trip, on the
 * connections each client already has open (no reconnect): one client per
 * node, each having used the key, sends requests again right after the
 * revoke's reply, and every node refuses it within REFUSED_WITHIN_MS; no
 * request is carried out after that. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

/* The harness's heartbeat is 60 ms; a change is applied on the followers
 * when they hear it is committed, which the leader tells them at once. */
#define REFUSED_WITHIN_MS 500

static struct cluster cl_;

static int setup(void **state)
{
    struct cluster_opts o = CLUSTER_OPTS_INIT;
    o.auth_secret = "revoke-bootstrap-secret-0123456789-abcdef";
    if (cluster_start_opts(&cl_, 3, &o) != 0) {
        cluster_stop(&cl_);
        return -1;
    }
    *state = &cl_;
    return 0;
}

static int teardown(void **state)
{
    if (cluster_stop(*state) != 0) {
        fprintf(stderr, "cluster: a node did not stop cleanly\n");
        exit(1);
    }
    return 0;
}

/* A client of node @i alone presenting @token; catch-up reads answered by
 * that node (a follower too). */
static mq_client *node_client(struct cluster *c, int i, const char *token)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    o.urls = c->nodes[i].client_url;
    o.timeout_ms = 3000;
    o.token = token;
    assert_int_equal(mq_client_open(&cl, &o), MQ_OK);
    return cl;
}

static mq_err read_one(mq_client *cl)
{
    mq_read_opts ro = MQ_READ_OPTS_INIT;
    mq_msg **msgs = NULL;
    size_t n = 0;
    ro.max_messages = 1;
    mq_err rv = mq_read(cl, "jobs", &ro, &msgs, &n, NULL, 0);
    mq_msgs_free(msgs, n);
    return rv;
}

static mq_err publish(mq_client *cl)
{
    mq_pub m = {0};
    m.payload = "x";
    m.payload_len = 1;
    return mq_publish(cl, "jobs", &m, NULL, 0);
}

static void make_key(mq_client *admin, const char *name, unsigned verbs,
                     char *token)
{
    mq_key_config kc = MQ_KEY_CONFIG_INIT;
    mq_grant g[] = {{0, "*", verbs}};
    kc.name = name;
    kc.grants = g;
    kc.n_grants = 1;
    assert_int_equal(
        mq_key_create(admin, &kc, NULL, token, MQ_TOKEN_MAX + 1, 0), MQ_OK);
}

/* Calls @op on each client until it fails; checks that it fails with
 * @want within REFUSED_WITHIN_MS of @t0 on every node. */
static void assert_refused_everywhere(struct cluster *c, mq_client **cl,
                                      mq_err (*op)(mq_client *), mq_err want,
                                      const char *says, uint64_t t0)
{
    for (int i = 0; i < c->n; i++) {
        mq_err rv;
        int served = 0;
        while ((rv = op(cl[i])) == MQ_OK &&
               test_now_ms() - t0 < REFUSED_WITHIN_MS) {
            served++;
        }
        uint64_t ms = test_now_ms() - t0;
        fprintf(stderr,
                "node %d: refused %llu ms after the change's reply (%d "
                "requests served before)\n",
                c->nodes[i].id, (unsigned long long)ms, served);
        if (rv != want || strstr(mq_errmsg(), says) == NULL) {
            fail_msg("node %d: %s (%s), want %s", c->nodes[i].id,
                     mq_strerror(rv), mq_errmsg(), mq_strerror(want));
        }
        assert_true(ms < REFUSED_WITHIN_MS);
    }
}

static void test_revoked_key_refused_on_every_node(void **state)
{
    struct cluster *c = *state;
    mq_client *admin = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    char token[MQ_TOKEN_MAX + 1];
    mq_client *cl[CLUSTER_MAX];
    CLUSTER_TEST_BEGIN(c);

    qc.name = "jobs";
    assert_int_equal(mq_queue_create(admin, &qc, NULL, 0), MQ_OK);
    make_key(admin, "svc", MQ_VERB_PUBLISH | MQ_VERB_CONSUME, token);
    for (int i = 0; i < c->n; i++) {
        cl[i] = node_client(c, i, token);
        /* The key works there, and the connection is open. */
        assert_int_equal(publish(cl[i]), MQ_OK);
        assert_int_equal(read_one(cl[i]), MQ_OK);
    }
    /* Revoked through one node (a client of a follower's URL). */
    int leader = cluster_wait_leader(c, 5000);
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *via = NULL;
    o.urls = c->nodes[(leader + 1) % c->n].client_url;
    o.token = c->token;
    assert_int_equal(mq_client_open(&via, &o), MQ_OK);
    assert_int_equal(mq_key_revoke(via, "svc", 0), MQ_OK);
    uint64_t t0 = test_now_ms();
    assert_refused_everywhere(c, cl, read_one, MQ_ERR_UNAUTHENTICATED,
                              "key svc: unknown or revoked", t0);
    assert_refused_everywhere(c, cl, publish, MQ_ERR_UNAUTHENTICATED,
                              "key svc: unknown or revoked", test_now_ms());
    for (int i = 0; i < c->n; i++) {
        mq_client_close(cl[i]);
    }
    mq_client_close(via);
    mq_client_close(admin);
    CLUSTER_TEST_PASSED(c);
}

static void test_narrowed_grants_refused_on_every_node(void **state)
{
    struct cluster *c = *state;
    mq_client *admin = cluster_client(c);
    char token[MQ_TOKEN_MAX + 1];
    mq_client *cl[CLUSTER_MAX];
    mq_key_config kc = MQ_KEY_CONFIG_INIT;
    mq_grant g[] = {{0, "*", MQ_VERB_PUBLISH}};
    CLUSTER_TEST_BEGIN(c);

    make_key(admin, "reader", MQ_VERB_PUBLISH | MQ_VERB_CONSUME, token);
    for (int i = 0; i < c->n; i++) {
        cl[i] = node_client(c, i, token);
        assert_int_equal(read_one(cl[i]), MQ_OK);
    }
    kc.name = "reader";
    kc.grants = g;
    kc.n_grants = 1;
    assert_int_equal(mq_key_update(admin, &kc, MQ_KEY_SET_GRANTS, NULL, 0),
                     MQ_OK);
    assert_refused_everywhere(c, cl, read_one, MQ_ERR_PERMISSION_DENIED,
                              "key reader may not consume in namespace "
                              "default",
                              test_now_ms());
    for (int i = 0; i < c->n; i++) {
        assert_int_equal(publish(cl[i]), MQ_OK); /* what is left works */
        mq_client_close(cl[i]);
    }
    mq_client_close(admin);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_revoked_key_refused_on_every_node),
        cmocka_unit_test(test_narrowed_grants_refused_on_every_node),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
