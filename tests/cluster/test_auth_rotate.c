/* test_auth_rotate.c: rotating a key without downtime. Publishers with the
 * key's current token keep publishing while it is rotated (a second secret
 * added), while new publishers start with the new token, and until the old
 * secret is retired: not one of their requests fails. Once retired, the
 * old token is refused on every node and the new one goes on working; every
 * acknowledged message is in the queue. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
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
    o.auth_secret = "rotate-bootstrap-secret-0123456789-abcdef";
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

struct publisher {
    struct cluster *c;
    char token[MQ_TOKEN_MAX + 1];
    _Atomic int stop;
    pthread_t thread;
    unsigned long ok, failed;
    char first_error[256];
};

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

static void *publish_loop(void *arg)
{
    struct publisher *p = arg;
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    o.urls = p->c->urls;
    o.timeout_ms = 10000;
    o.token = p->token;
    if (mq_client_open(&cl, &o) != MQ_OK) {
        p->failed++;
        return NULL;
    }
    while (!atomic_load(&p->stop)) {
        mq_pub m = {0};
        m.payload = "job";
        m.payload_len = 3;
        if (mq_publish(cl, "jobs", &m, NULL, 0) == MQ_OK) {
            p->ok++;
        } else {
            if (p->failed++ == 0) {
                snprintf(p->first_error, sizeof p->first_error, "%s",
                         mq_errmsg());
            }
        }
    }
    mq_client_close(cl);
    return NULL;
}

static void start(struct publisher *p, struct cluster *c, const char *token)
{
    memset(p, 0, sizeof *p);
    p->c = c;
    snprintf(p->token, sizeof p->token, "%s", token);
    atomic_init(&p->stop, 0);
    assert_int_equal(pthread_create(&p->thread, NULL, publish_loop, p), 0);
}

static void finish(struct publisher *p)
{
    atomic_store(&p->stop, 1);
    pthread_join(p->thread, NULL);
}

static void test_rotation_fails_no_request(void **state)
{
    struct cluster *c = *state;
    mq_client *admin = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_key_config kc = MQ_KEY_CONFIG_INIT;
    mq_grant g[] = {{0, "default", MQ_VERB_PUBLISH}};
    char old_token[MQ_TOKEN_MAX + 1], new_token[MQ_TOKEN_MAX + 1];
    struct publisher before[2], after[2];
    mq_key_info info;
    CLUSTER_TEST_BEGIN(c);

    qc.name = "jobs";
    assert_int_equal(mq_queue_create(admin, &qc, NULL, 0), MQ_OK);
    kc.name = "worker";
    kc.grants = g;
    kc.n_grants = 1;
    assert_int_equal(
        mq_key_create(admin, &kc, NULL, old_token, sizeof old_token, 0), MQ_OK);
    for (int i = 0; i < 2; i++) {
        start(&before[i], c, old_token);
    }
    test_sleep_ms(500);
    assert_int_equal(
        mq_key_rotate(admin, "worker", &info, new_token, sizeof new_token, 0),
        MQ_OK);
    assert_int_equal(info.n_secrets, 2);
    assert_string_not_equal(new_token, old_token);
    for (int i = 0; i < 2; i++) {
        start(&after[i], c, new_token);
    }
    /* Both secrets in use for a while; then the old ones are moved over. */
    test_sleep_ms(1000);
    for (int i = 0; i < 2; i++) {
        finish(&before[i]);
    }
    assert_int_equal(mq_key_retire_old(admin, "worker", &info, 0), MQ_OK);
    assert_int_equal(info.n_secrets, 1);
    test_sleep_ms(500);
    for (int i = 0; i < 2; i++) {
        finish(&after[i]);
    }
    unsigned long total = 0;
    for (int i = 0; i < 2; i++) {
        fprintf(stderr, "old token publisher %d: %lu ok, %lu failed %s\n", i,
                before[i].ok, before[i].failed, before[i].first_error);
        fprintf(stderr, "new token publisher %d: %lu ok, %lu failed %s\n", i,
                after[i].ok, after[i].failed, after[i].first_error);
        assert_int_equal(before[i].failed, 0);
        assert_int_equal(after[i].failed, 0);
        assert_true(before[i].ok > 0);
        assert_true(after[i].ok > 0);
        total += before[i].ok + after[i].ok;
    }
    mq_queue_info qi;
    assert_int_equal(mq_queue_info_get(admin, "jobs", &qi, 0), MQ_OK);
    assert_int_equal(qi.messages, total);

    /* Retired: the old token is refused on every node, the new works. */
    for (int i = 0; i < c->n; i++) {
        mq_client_opts o = MQ_CLIENT_OPTS_INIT;
        mq_client *cl = NULL;
        mq_read_opts ro = MQ_READ_OPTS_INIT;
        mq_msg **msgs = NULL;
        size_t n = 0;
        o.urls = c->nodes[i].client_url;
        o.token = old_token;
        assert_int_equal(mq_client_open(&cl, &o), MQ_OK);
        assert_int_equal(mq_read(cl, "jobs", &ro, &msgs, &n, NULL, 0),
                         MQ_ERR_UNAUTHENTICATED);
        assert_non_null(strstr(mq_errmsg(), "key worker: wrong secret"));
        mq_client_close(cl);
    }
    mq_client *now = client_with(c, new_token);
    mq_pub m = {0};
    m.payload = "x";
    m.payload_len = 1;
    assert_int_equal(mq_publish(now, "jobs", &m, NULL, 0), MQ_OK);
    mq_client_close(now);
    mq_client_close(admin);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotation_fails_no_request),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
