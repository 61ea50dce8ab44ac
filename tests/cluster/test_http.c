/* test_http.c: mqd's HTTP listener on a real three-node cluster.
 * - /metrics of every node passes `promtool check metrics` (Prometheus's
 *   own linter) and shows the queue, its subscription and the leader;
 * - /readyz turns 503 on a node cut off from the majority (the two others
 *   stopped with SIGSTOP), naming why, and 200 again once they run;
 *   /livez stays 200 throughout;
 * - /healthz?verbose is JSON naming every check; /healthz is one line;
 * - the listener is bounded: a connection past http_max_connections is
 *   closed at once, one that sends nothing is closed after
 *   http_timeout_ms, a head past http_max_request_bytes gets 431, and the
 *   listener serves again afterwards; unknown paths get 404, other methods
 *   405. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"
#include "httpget.h"
#include "mq.h"

#define PAGE (1u << 20)

/* The cluster of the test running: stopped by the teardown if an
 * assertion left the test early (its logs are then printed). */
static struct cluster *live;

static int start(struct cluster *c, const char *extra)
{
    struct cluster_opts o = CLUSTER_OPTS_INIT;
    o.http = 1;
    o.extra = extra;
    live = c;
    return cluster_start_opts(c, 3, &o);
}

static int stop_live(void **state)
{
    (void)state;
    if (live != NULL) {
        cluster_stop(live);
        live = NULL;
    }
    return 0;
}

/* The value of sample @line_start ("name{labels} ") in @page, or -1. */
static double sample(const char *page, const char *line_start)
{
    char needle[512];
    snprintf(needle, sizeof needle, "\n%s ", line_start);
    const char *p = strstr(page, needle);
    return p ? strtod(p + strlen(needle), NULL) : -1;
}

/* Runs promtool check metrics on @page; returns its exit code. */
static int promtool_check(struct cluster *c, int i, const char *page)
{
    char path[600], cmd[1400], out[4096];
    snprintf(path, sizeof path, "%s/metrics-n%d.txt", c->root, i + 1);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(page, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s", path);
    char *argv[] = {"sh", "-c", cmd, NULL};
    int rv = test_run(argv, out, sizeof out);
    if (rv != 0) {
        fprintf(stderr, "promtool check metrics on node %d: exit %d: %s\n",
                i + 1, rv, out);
    }
    return rv;
}

static void test_metrics_of_every_node_pass_promtool(void **state)
{
    static struct cluster c;
    char *page = malloc(PAGE);
    char out[4096];
    (void)state;
    assert_int_equal(start(&c, NULL), 0);
    CLUSTER_TEST_BEGIN(&c);
    assert_int_equal(cluster_mqctl(&c, out, sizeof out,
                                   "queue create orders --dead-letter-queue "
                                   "orders.dlq"),
                     0);
    assert_int_equal(
        cluster_mqctl(&c, out, sizeof out, "sub create orders workers"), 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(cluster_mqctl(&c, out, sizeof out,
                                       "publish orders created m%d --id id%d",
                                       i, i),
                         0);
    }
    assert_int_equal(cluster_mqctl(&c, out, sizeof out,
                                   "publish orders created again --id id0"),
                     0); /* a duplicate */
    assert_int_equal(
        cluster_mqctl(&c, out, sizeof out, "consume orders workers --count 2"),
        0);
    assert_int_equal(cluster_settle(&c, 10000), 0);
    int leader = cluster_leader(&c);
    assert_true(leader >= 0);

    for (int i = 0; i < 3; i++) {
        assert_int_equal(
            http_get(c.nodes[i].http_port, "/metrics", page, PAGE, 5000), 200);
        assert_int_equal(promtool_check(&c, i, page), 0);
        assert_true(sample(page, "mq_raft_is_leader") == (i == leader));
        assert_true(sample(page, "mq_raft_leader_id") == leader + 1);
        assert_true(sample(page, "mq_raft_voters") == 3);
        assert_true(sample(page, "mq_ready") == 1);
        /* Every node applied the same: the same queue figures. */
        assert_true(
            sample(page, "mq_queue_messages{queue=\"default/orders\"}") == 5);
        assert_true(sample(page, "mq_queue_messages_published_total{queue="
                                 "\"default/orders\"}") == 5);
        assert_true(
            sample(page,
                   "mq_queue_duplicates_total{queue=\"default/orders\"}") == 1);
        assert_true(sample(page, "mq_subscription_lag_messages{queue=\"default/"
                                 "orders\",subscription=\"workers\"}") == 3);
        assert_true(sample(page, "mq_log_fsync_duration_seconds_count") > 0);
        assert_true(sample(page, "mq_memory_budget_bytes") == 1073741824.0);
    }
    /* The leader measured publishes and its followers' progress. */
    assert_int_equal(
        http_get(c.nodes[leader].http_port, "/metrics", page, PAGE, 5000), 200);
    assert_true(sample(page, "mq_publish_commit_duration_seconds_count") >= 6);
    assert_true(sample(page, "mq_publish_reply_duration_seconds_count") >= 6);
    assert_true(
        sample(page, "mq_requests_total{kind=\"publish\",status=\"OK\"}") >= 6);
    assert_non_null(
        strstr(page, "\nmq_raft_follower_match_lag_entries{peer=\""));
    CLUSTER_TEST_PASSED(&c);
    live = NULL;
    assert_int_equal(cluster_stop(&c), 0);
    free(page);
}

/* Polls node @i's @path until it answers @want (up to @timeout_ms), while
 * /livez must answer 200 every time. Returns the last status. */
static int poll_until(struct cluster *c, int i, const char *path, int want,
                      int timeout_ms, char *body, size_t len)
{
    uint64_t deadline = test_now_ms() + (uint64_t)timeout_ms;
    int st = -1;
    while (test_now_ms() < deadline) {
        char text[256];
        assert_int_equal(
            http_get(c->nodes[i].http_port, "/livez", text, sizeof text, 3000),
            200);
        assert_string_equal(text, "live\n");
        st = http_get(c->nodes[i].http_port, path, body, len, 3000);
        if (st == want) {
            return st;
        }
        test_sleep_ms(100);
    }
    return st;
}

static void test_readyz_follows_the_majority_and_livez_stays(void **state)
{
    static struct cluster c;
    char body[2048];
    (void)state;
    assert_int_equal(start(&c, NULL), 0);
    CLUSTER_TEST_BEGIN(&c);
    int me = cluster_leader(&c);
    assert_true(me >= 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(
            poll_until(&c, i, "/readyz", 200, 10000, body, sizeof body), 200);
        assert_string_equal(body, "ready\n");
    }
    /* Cut the leader off from the majority: stop the two others. */
    for (int i = 0; i < 3; i++) {
        if (i != me) {
            kill(c.nodes[i].pid, SIGSTOP);
        }
    }
    assert_int_equal(
        poll_until(&c, me, "/readyz", 503, 15000, body, sizeof body), 503);
    assert_non_null(strstr(body, "not ready: no leader known: 1 of 3 voters "
                                 "reachable (a leader needs 2)"));
    assert_int_equal(http_get(c.nodes[me].http_port, "/healthz?verbose", body,
                              sizeof body, 3000),
                     503);
    assert_non_null(strstr(body, "{\"name\":\"leader\",\"ok\":false,"));
    /* Healed: ready again. */
    for (int i = 0; i < 3; i++) {
        if (i != me) {
            kill(c.nodes[i].pid, SIGCONT);
        }
    }
    assert_int_equal(
        poll_until(&c, me, "/readyz", 200, 20000, body, sizeof body), 200);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(
            poll_until(&c, i, "/readyz", 200, 20000, body, sizeof body), 200);
    }
    CLUSTER_TEST_PASSED(&c);
    live = NULL;
    assert_int_equal(cluster_stop(&c), 0);
}

static void test_healthz_verbose_is_json_of_every_check(void **state)
{
    static struct cluster c;
    char body[4096];
    static const char *const checks[] = {"serving", "member",   "leader",
                                         "applied", "snapshot", "memory"};
    (void)state;
    assert_int_equal(start(&c, NULL), 0);
    CLUSTER_TEST_BEGIN(&c);
    assert_int_equal(
        poll_until(&c, 0, "/healthz?verbose", 200, 10000, body, sizeof body),
        200);
    assert_int_equal(strncmp(body, "{\"status\":\"ready\",\"node\":1,", 27), 0);
    assert_string_equal(body + strlen(body) - 3, "]}\n");
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "{\"name\":\"%s\",\"ok\":true,", checks[i]);
        if (strstr(body, want) == NULL) {
            fail_msg("no passing check %s in %s", checks[i], body);
        }
    }
    assert_int_equal(
        http_get(c.nodes[1].http_port, "/healthz", body, sizeof body, 3000),
        200);
    assert_string_equal(body, "ok\n");
    CLUSTER_TEST_PASSED(&c);
    live = NULL;
    assert_int_equal(cluster_stop(&c), 0);
}

static void test_listener_is_bounded(void **state)
{
    static struct cluster c;
    char out[8192], big[3000];
    int fds[4], closed;
    (void)state;
    assert_int_equal(start(&c, "--http_max_connections 4 --http_timeout_ms "
                               "1500 --http_max_request_bytes 2048"),
                     0);
    CLUSTER_TEST_BEGIN(&c);
    int port = c.nodes[0].http_port;
    assert_int_equal(http_get(port, "/livez", out, sizeof out, 3000), 200);

    /* Four idle connections take every place. */
    for (int i = 0; i < 4; i++) {
        fds[i] = http_connect(port);
        assert_true(fds[i] >= 0);
    }
    test_sleep_ms(200);
    const char *get = "GET /livez HTTP/1.1\r\n\r\n";
    long n = http_raw(port, get, strlen(get), out, sizeof out, 1000, &closed);
    assert_int_equal(n, 0); /* closed without a word */
    assert_int_equal(closed, 1);
    /* They send nothing: closed once http_timeout_ms has passed. */
    for (int i = 0; i < 4; i++) {
        char b;
        uint64_t t0 = test_now_ms();
        struct timeval tv = {4, 0};
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        assert_int_equal(read(fds[i], &b, 1), 0);
        assert_true(test_now_ms() - t0 < 3500);
        close(fds[i]);
    }
    /* A slow client: half a head, then nothing. */
    const char *half = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
    uint64_t t0 = test_now_ms();
    n = http_raw(port, half, strlen(half), out, sizeof out, 5000, &closed);
    assert_int_equal(n, 0);
    assert_int_equal(closed, 1);
    assert_true(test_now_ms() - t0 >= 1000 && test_now_ms() - t0 < 4000);

    /* A head over http_max_request_bytes. */
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
    n = http_raw(port, big, sizeof big, out, sizeof out, 3000, &closed);
    assert_true(n > 0);
    assert_int_equal(strncmp(out, "HTTP/1.1 431 ", 13), 0);

    /* Other paths and methods. */
    assert_int_equal(http_get(port, "/nope", out, sizeof out, 3000), 404);
    assert_non_null(strstr(out, "/metrics"));
    const char *post = "POST /metrics HTTP/1.1\r\n\r\n";
    n = http_raw(port, post, strlen(post), out, sizeof out, 3000, &closed);
    assert_int_equal(strncmp(out, "HTTP/1.1 405 ", 13), 0);
    assert_non_null(strstr(out, "\r\nAllow: GET, HEAD\r\n"));
    const char *head = "HEAD /readyz HTTP/1.1\r\n\r\n";
    n = http_raw(port, head, strlen(head), out, sizeof out, 3000, &closed);
    assert_int_equal(strncmp(out, "HTTP/1.1 200 ", 13), 0);
    assert_string_equal(strstr(out, "\r\n\r\n"), "\r\n\r\n"); /* no body */

    /* Serving again, and it counted what it closed. */
    char *page = malloc(PAGE);
    assert_int_equal(http_get(port, "/metrics", page, PAGE, 3000), 200);
    assert_true(
        sample(page, "mq_http_connections_closed_total{reason=\"limit\"}") >=
        1);
    assert_true(
        sample(page, "mq_http_connections_closed_total{reason=\"timeout\"}") >=
        5);
    assert_true(
        sample(page,
               "mq_http_connections_closed_total{reason=\"too_large\"}") >= 1);
    free(page);
    CLUSTER_TEST_PASSED(&c);
    live = NULL;
    assert_int_equal(cluster_stop(&c), 0);
}

/* GETs @path from 127.0.0.1:@port with "Authorization: @auth" (NULL:
 * none). Returns the status code (0 when there was no answer); the whole
 * answer in @out. */
static int get_with(int port, const char *path, const char *auth, char *out,
                    size_t len)
{
    char req[1024];
    int closed = 0;
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nConnection: close\r\n%s%s%s\r\n", path,
             auth ? "Authorization: " : "", auth ? auth : "",
             auth ? "\r\n" : "");
    if (http_raw(port, req, strlen(req), out, len, 5000, &closed) < 13 ||
        strncmp(out, "HTTP/1.1 ", 9) != 0) {
        return 0;
    }
    return atoi(out + 9);
}

/* With authentication on, /metrics needs a key (any valid one, as status
 * does): none or a wrong one gets 401 with WWW-Authenticate, the bootstrap
 * secret (its slow check parks the request) and a key made by mqctl get
 * the page; a revoked key is refused again. The health endpoints stay
 * open (http_health_open 1, the default); nothing says the token. */
static void test_keys_guard_metrics(void **state)
{
    struct cluster c;
    struct cluster_opts o = CLUSTER_OPTS_INIT;
    char *out = malloc(PAGE), bearer[MQ_TOKEN_MAX + 16];
    char token[MQ_TOKEN_MAX + 1];
    (void)state;
    o.http = 1;
    o.auth_secret = "http-bootstrap-secret-0123456789-abcdef";
    live = &c;
    assert_int_equal(cluster_start_opts(&c, 3, &o), 0);
    int port = c.nodes[0].http_port;

    /* Until the bootstrap key is applied, requests are refused 503. */
    snprintf(bearer, sizeof bearer, "Bearer %s", c.token);
    int st = 0;
    for (int i = 0; i < 100 && st != 200; i++) {
        st = get_with(port, "/metrics", bearer, out, PAGE);
        if (st != 200) {
            test_sleep_ms(100);
        }
    }
    assert_int_equal(st, 200);
    assert_non_null(strstr(out, "\nmq_node_id 1\n"));

    assert_int_equal(get_with(port, "/metrics", NULL, out, PAGE), 401);
    assert_non_null(strstr(out, "WWW-Authenticate: Bearer"));
    assert_int_equal(
        get_with(port, "/metrics", "Bearer mqk_nobody_00", out, PAGE), 401);
    assert_int_equal(get_with(port, "/metrics", "Basic abc", out, PAGE), 401);
    assert_non_null(strstr(out, "Bearer <key>"));
    assert_int_equal(get_with(port, "/readyz", NULL, out, PAGE), 200);
    assert_int_equal(get_with(port, "/livez", NULL, out, PAGE), 200);

    /* A key that may only publish in one namespace reads the figures, on
     * every node; revoked, it is refused. */
    mq_client *admin = cluster_client(&c);
    assert_non_null(admin);
    mq_key_config kc = MQ_KEY_CONFIG_INIT;
    mq_grant g[] = {{0, "ingest", MQ_VERB_PUBLISH}};
    kc.name = "scraper";
    kc.grants = g;
    kc.n_grants = 1;
    assert_int_equal(
        mq_key_create(admin, &kc, NULL, token, MQ_TOKEN_MAX + 1, 0), MQ_OK);
    snprintf(bearer, sizeof bearer, "Bearer %s", token);
    for (int n = 0; n < 3; n++) {
        st = 0;
        for (int i = 0; i < 50 && st != 200; i++) {
            st = get_with(c.nodes[n].http_port, "/metrics", bearer, out, PAGE);
            if (st != 200) {
                test_sleep_ms(100);
            }
        }
        assert_int_equal(st, 200);
        assert_null(strstr(out, token));
    }
    assert_int_equal(mq_key_revoke(admin, "scraper", 10000), MQ_OK);
    st = 200;
    for (int i = 0; i < 50 && st == 200; i++) {
        st = get_with(port, "/metrics", bearer, out, PAGE);
        if (st == 200) {
            test_sleep_ms(100);
        }
    }
    assert_int_equal(st, 401);
    assert_null(strstr(out, token));
    mq_client_close(admin);
    free(out);
    CLUSTER_TEST_PASSED(&c);
    live = NULL;
    assert_int_equal(cluster_stop(&c), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_metrics_of_every_node_pass_promtool,
                                  stop_live),
        cmocka_unit_test_teardown(
            test_readyz_follows_the_majority_and_livez_stays, stop_live),
        cmocka_unit_test_teardown(test_healthz_verbose_is_json_of_every_check,
                                  stop_live),
        cmocka_unit_test_teardown(test_listener_is_bounded, stop_live),
        cmocka_unit_test_teardown(test_keys_guard_metrics, stop_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
