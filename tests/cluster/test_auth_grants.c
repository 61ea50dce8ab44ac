/* test_auth_grants.c: what a key may do, through libmq on a cluster with
 * authentication on. A publish-only key publishes in its namespace, and is
 * refused PERMISSION_DENIED (naming the verb and the namespace) to consume,
 * delete a queue, publish elsewhere or manage keys, and nothing changes; a
 * consume-only key fetches and acks and sees in lists only the queues of
 * its namespaces; deny beats allow; changing a key's grants takes effect on
 * a connection already open; an expired key is refused UNAUTHENTICATED. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

static struct cluster cl_;

static int setup(void **state)
{
    struct cluster_opts o = CLUSTER_OPTS_INIT;
    o.auth_secret = "grants-bootstrap-secret-0123456789-abcdef";
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

/* A client of every node presenting @token. */
static mq_client *client_with(struct cluster *c, const char *token)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    o.urls = c->urls;
    o.timeout_ms = 10000;
    o.token = token;
    assert_int_equal(mq_client_open(&cl, &o), MQ_OK);
    return cl;
}

/* Creates key @name with @n grants; its token into @token. */
static void make_key(mq_client *admin, const char *name, const mq_grant *g,
                     size_t n, uint64_t expires_in_ms, char *token)
{
    mq_key_config kc = MQ_KEY_CONFIG_INIT;
    mq_key_info info;
    kc.name = name;
    kc.grants = g;
    kc.n_grants = n;
    kc.expires_in_ms = expires_in_ms;
    if (mq_key_create(admin, &kc, &info, token, MQ_TOKEN_MAX + 1, 0) != MQ_OK) {
        fail_msg("create key %s: %s", name, mq_errmsg());
    }
    assert_string_equal(info.name, name);
    assert_int_equal(info.n_grants, n);
    assert_int_equal(info.n_secrets, 1);
}

static mq_err publish(mq_client *cl, const char *queue)
{
    mq_pub m = {0};
    m.payload = "x";
    m.payload_len = 1;
    return mq_publish(cl, queue, &m, NULL, 0);
}

static void create_queue(mq_client *cl, const char *name, const char *sub)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    qc.name = name;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 0), MQ_OK);
    sc.queue = name;
    sc.name = sub;
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 0), MQ_OK);
}

static void assert_refused(mq_err rv, mq_err want, const char *says)
{
    if (rv != want || strstr(mq_errmsg(), says) == NULL) {
        fail_msg("got %s (%s), want %s saying \"%s\"", mq_strerror(rv),
                 mq_errmsg(), mq_strerror(want), says);
    }
}

static uint64_t messages(mq_client *admin, const char *queue)
{
    mq_queue_info qi;
    assert_int_equal(mq_queue_info_get(admin, queue, &qi, 0), MQ_OK);
    return qi.messages;
}

static void test_publish_only_key_cannot_consume_or_delete(void **state)
{
    struct cluster *c = *state;
    mq_client *admin = cluster_client(c);
    char token[MQ_TOKEN_MAX + 1];
    mq_grant g[] = {{0, "prd", MQ_VERB_PUBLISH}};
    mq_msg **msgs = NULL;
    size_t n = 0;
    mq_key_info *keys;
    mq_queue_info *queues;
    CLUSTER_TEST_BEGIN(c);

    create_queue(admin, "prd/orders", "billing");
    create_queue(admin, "stg/orders", "billing");
    make_key(admin, "publisher", g, 1, 0, token);
    mq_client *pub = client_with(c, token);

    assert_int_equal(publish(pub, "prd/orders"), MQ_OK);
    assert_refused(mq_fetch(pub, "prd/orders", "billing", 10, 0, &msgs, &n),
                   MQ_ERR_PERMISSION_DENIED,
                   "key publisher may not consume in namespace prd");
    assert_refused(mq_queue_delete(pub, "prd/orders", 0),
                   MQ_ERR_PERMISSION_DENIED,
                   "key publisher may not manage in namespace prd");
    assert_refused(mq_queue_purge(pub, "prd/orders", 0),
                   MQ_ERR_PERMISSION_DENIED, "may not manage");
    assert_refused(publish(pub, "stg/orders"), MQ_ERR_PERMISSION_DENIED,
                   "key publisher may not publish in namespace stg");
    assert_refused(publish(pub, "orders"), MQ_ERR_PERMISSION_DENIED,
                   "may not publish in namespace default");
    assert_refused(mq_key_list(pub, &keys, &n, 0), MQ_ERR_PERMISSION_DENIED,
                   "key publisher may not admin the cluster");
    assert_refused(mq_node_remove(pub, 3, 0), MQ_ERR_PERMISSION_DENIED,
                   "may not admin");
    {
        mq_node_reply *rl = NULL;
        size_t rn = 0;
        assert_refused(mq_node_reload_tls(pub, &rl, &rn, 0),
                       MQ_ERR_PERMISSION_DENIED, "may not admin");
        mq_node_replies_free(rl);
    }
    assert_refused(mq_cancel(pub, "some-id", NULL, NULL, 0),
                   MQ_ERR_PERMISSION_DENIED, "in every namespace");
    /* Lists: nothing it may consume or manage. */
    assert_int_equal(mq_queue_list(pub, &queues, &n, 0), MQ_OK);
    assert_int_equal(n, 0);
    mq_queue_list_free(queues);

    /* Nothing changed: the queues, their one message, the keys. */
    assert_int_equal(messages(admin, "prd/orders"), 1);
    assert_int_equal(messages(admin, "stg/orders"), 0);
    assert_int_equal(mq_key_list(admin, &keys, &n, 0), MQ_OK);
    assert_int_equal(n, 2);
    mq_key_list_free(keys);

    /* Each refusal is an audit line naming key, verb and target. */
    int lines = 0;
    for (int i = 0; i < c->n; i++) {
        lines += cluster_log_count(c, i,
                                   "audit: refused fetch: key=publisher "
                                   "verb=consume target=prd/orders");
        lines += cluster_log_count(c, i,
                                   "audit: refused queue delete: "
                                   "key=publisher verb=manage "
                                   "target=prd/orders");
    }
    assert_int_equal(lines, 2);
    mq_client_close(pub);
    mq_client_close(admin);
    CLUSTER_TEST_PASSED(c);
}

static void test_consume_key_sees_only_its_namespaces(void **state)
{
    struct cluster *c = *state;
    mq_client *admin = cluster_client(c);
    char token[MQ_TOKEN_MAX + 1];
    mq_grant g[] = {{0, "prd", MQ_VERB_CONSUME}};
    mq_msg **msgs = NULL;
    size_t n = 0;
    mq_queue_info *queues;
    mq_sub_info *subs;
    mq_msg_status *st;
    CLUSTER_TEST_BEGIN(c);

    assert_int_equal(publish(admin, "stg/orders"), MQ_OK);
    make_key(admin, "reader", g, 1, 0, token);
    mq_client *rd = client_with(c, token);
    assert_int_equal(mq_fetch(rd, "prd/orders", "billing", 10, 1000, &msgs, &n),
                     MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mq_ack(rd, msgs[0], 0), MQ_OK);
    char id[MQ_ID_MAX + 1];
    snprintf(id, sizeof id, "%s", mq_msg_id(msgs[0]));
    mq_msgs_free(msgs, n);
    assert_refused(publish(rd, "prd/orders"), MQ_ERR_PERMISSION_DENIED,
                   "key reader may not publish in namespace prd");

    assert_int_equal(mq_queue_list(rd, &queues, &n, 0), MQ_OK);
    assert_int_equal(n, 1);
    assert_string_equal(queues[0].name, "prd/orders");
    mq_queue_list_free(queues);
    assert_int_equal(mq_sub_list(rd, NULL, &subs, &n, 0), MQ_OK);
    assert_int_equal(n, 1);
    assert_string_equal(subs[0].queue, "prd/orders");
    mq_sub_list_free(subs);
    assert_refused(mq_sub_list(rd, "stg/orders", &subs, &n, 0),
                   MQ_ERR_PERMISSION_DENIED, "namespace stg");
    assert_int_equal(mq_message_status(rd, id, NULL, &st, &n, 0), MQ_OK);
    assert_int_equal(n, 1);
    assert_string_equal(st[0].queue, "prd/orders");
    mq_msg_status_free(st, n);
    /* An id in both namespaces: the key's status lookup shows its own. */
    mq_pub m = {0};
    m.id = "shared-1";
    m.payload = "x";
    m.payload_len = 1;
    assert_int_equal(mq_publish(admin, "prd/orders", &m, NULL, 0), MQ_OK);
    assert_int_equal(mq_publish(admin, "stg/orders", &m, NULL, 0), MQ_OK);
    assert_int_equal(mq_message_status(admin, "shared-1", NULL, &st, &n, 0),
                     MQ_OK);
    assert_int_equal(n, 2);
    mq_msg_status_free(st, n);
    /* rd did not write them: it reads from a follower that has applied
     * them once every node has. */
    assert_int_equal(cluster_settle(c, 10000), 0);
    assert_int_equal(mq_message_status(rd, "shared-1", NULL, &st, &n, 0),
                     MQ_OK);
    assert_int_equal(n, 1);
    assert_string_equal(st[0].queue, "prd/orders");
    mq_msg_status_free(st, n);
    mq_client_close(rd);
    mq_client_close(admin);
    CLUSTER_TEST_PASSED(c);
}

static void
test_deny_beats_allow_and_changes_apply_to_open_clients(void **state)
{
    struct cluster *c = *state;
    mq_client *admin = cluster_client(c);
    char token[MQ_TOKEN_MAX + 1];
    mq_grant g[] = {{0, "*", MQ_VERB_PUBLISH}, {1, "stg", MQ_VERB_PUBLISH}};
    mq_grant more[] = {{0, "*", MQ_VERB_PUBLISH | MQ_VERB_MANAGE}};
    mq_key_config kc = MQ_KEY_CONFIG_INIT;
    mq_key_info info;
    CLUSTER_TEST_BEGIN(c);

    make_key(admin, "almost", g, 2, 0, token);
    mq_client *cl = client_with(c, token);
    assert_int_equal(publish(cl, "prd/orders"), MQ_OK);
    assert_refused(publish(cl, "stg/orders"), MQ_ERR_PERMISSION_DENIED,
                   "may not publish in namespace stg");
    assert_refused(mq_queue_purge(cl, "stg/orders", 0),
                   MQ_ERR_PERMISSION_DENIED, "may not manage");
    /* New grants: the same client (its connections open) may now. */
    kc.name = "almost";
    kc.grants = more;
    kc.n_grants = 1;
    assert_int_equal(mq_key_update(admin, &kc, MQ_KEY_SET_GRANTS, &info, 0),
                     MQ_OK);
    assert_int_equal(info.n_grants, 1);
    assert_int_equal(publish(cl, "stg/orders"), MQ_OK);
    assert_int_equal(mq_queue_purge(cl, "stg/orders", 0), MQ_OK);
    /* A grant that admin needs "*" for is refused, changing nothing. */
    mq_grant bad[] = {{0, "prd", MQ_VERB_ADMIN}};
    kc.grants = bad;
    assert_refused(mq_key_update(admin, &kc, MQ_KEY_SET_GRANTS, NULL, 0),
                   MQ_ERR_INVALID, "admin is cluster-wide");
    assert_int_equal(mq_key_info_get(admin, "almost", &info, 0), MQ_OK);
    assert_int_equal(info.grants[0].verbs, MQ_VERB_PUBLISH | MQ_VERB_MANAGE);
    mq_client_close(cl);
    mq_client_close(admin);
    CLUSTER_TEST_PASSED(c);
}

static void test_expired_key_is_refused(void **state)
{
    struct cluster *c = *state;
    mq_client *admin = cluster_client(c);
    char token[MQ_TOKEN_MAX + 1];
    mq_grant g[] = {{0, "prd", MQ_VERB_PUBLISH}};
    mq_err rv;
    CLUSTER_TEST_BEGIN(c);

    make_key(admin, "brief", g, 1, 2000, token);
    mq_client *cl = client_with(c, token);
    assert_int_equal(publish(cl, "prd/orders"), MQ_OK);
    uint64_t end = test_now_ms() + 10000;
    while ((rv = publish(cl, "prd/orders")) == MQ_OK && test_now_ms() < end) {
        test_sleep_ms(100);
    }
    assert_refused(rv, MQ_ERR_UNAUTHENTICATED, "key brief expired at");
    mq_client_close(cl);
    mq_client_close(admin);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_only_key_cannot_consume_or_delete),
        cmocka_unit_test(test_consume_key_sees_only_its_namespaces),
        cmocka_unit_test(
            test_deny_beats_allow_and_changes_apply_to_open_clients),
        cmocka_unit_test(test_expired_key_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
