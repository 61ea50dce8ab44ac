/* test_http_handler.c: the routing of mqd's HTTP endpoints and the key
 * hook, without sockets: a request without the key the hook wants is
 * refused (401 with WWW-Authenticate, or the hook's 403) and counted;
 * endpoints left open (http_metrics_open, http_health_open) do not ask
 * the hook; with the key, the page is served from the published snapshot;
 * unknown paths get 404. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "alloc.h"
#include "http.h"

static int checks;

static mq_err check_key(void *arg, const char *path, const char *auth,
                        int *status, char *why, size_t len)
{
    (void)arg;
    checks++;
    if (strcmp(auth, "Bearer good") == 0) {
        return MQ_OK;
    }
    if (strcmp(auth, "Bearer weak") == 0) {
        *status = 403;
        snprintf(why, len, "this key may not read %s", path);
        return MQ_ERR_INVALID;
    }
    snprintf(why, len, "a key is needed for %s", path);
    return MQ_ERR_INVALID;
}

struct fixture {
    struct config cfg;
    struct http h;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int setup(void **state)
{
    static struct fixture fx;
    memset(&fx, 0, sizeof fx);
    fx.cfg.http_metrics_open = 0;
    fx.cfg.http_health_open = 1;
    fx.cfg.livez_stall_ms = 30000;
    fx.h.cfg = &fx.cfg;
    fx.h.auth.check = check_key;
    uv_mutex_init(&fx.h.lock);
    /* A snapshot just published (get() keeps it fresh): no handler asks
     * the loop for one. */
    fx.h.current = figures_new();
    fx.h.current->taken_mono_ms = mono_ms();
    fx.h.current->id = 7;
    fx.h.current->role = "follower";
    fx.h.current->leader_id = 1;
    fx.h.current->memory_budget_bytes = 100;
    fx.h.seq = 1;
    atomic_store(&fx.h.beat_ms, mono_ms());
    checks = 0;
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    figures_release(fx->h.current);
    uv_mutex_destroy(&fx->h.lock);
    return 0;
}

static int get(struct fixture *fx, const char *target, const char *auth,
               struct httpd_reply *rep)
{
    struct http_request req;
    char head[512];
    uint64_t cookie = 0;
    snprintf(head, sizeof head, "GET %s HTTP/1.1\r\n%s%s%s\r\n", target,
             auth ? "Authorization: " : "", auth ? auth : "",
             auth ? "\r\n" : "");
    assert_int_equal(httpreq_parse(head, strlen(head), &req), HTTPREQ_OK);
    memset(rep, 0, sizeof *rep);
    fx->h.current->taken_mono_ms = mono_ms(); /* fresh: no wait */
    assert_int_equal(http_handle(&fx->h, &req, &cookie, rep), 0);
    return rep->status;
}

static void test_metrics_without_a_key_is_refused(void **state)
{
    struct fixture *fx = *state;
    struct httpd_reply rep;
    assert_int_equal(get(fx, "/metrics", NULL, &rep), 401);
    assert_non_null(strstr(rep.headers, "WWW-Authenticate: Bearer"));
    assert_string_equal(rep.body, "a key is needed for /metrics\n");
    mq_free(rep.body);
    assert_int_equal(get(fx, "/metrics", "Bearer weak", &rep), 403);
    assert_string_equal(rep.headers, "");
    assert_string_equal(rep.body, "this key may not read /metrics\n");
    mq_free(rep.body);
    assert_int_equal(checks, 2);
    assert_int_equal(atomic_load(&fx->h.auth_refused), 2);

    assert_int_equal(get(fx, "/metrics", "Bearer good", &rep), 200);
    assert_non_null(strstr(rep.body, "\nmq_node_id 7\n"));
    assert_non_null(
        strstr(rep.body, "\nmq_auth_refusals_total{listener=\"http\"} 2\n"));
    mq_free(rep.body);
}

static void test_open_endpoints_do_not_ask_for_a_key(void **state)
{
    struct fixture *fx = *state;
    struct httpd_reply rep;
    assert_int_equal(get(fx, "/livez", NULL, &rep), 200);
    mq_free(rep.body);
    assert_int_equal(get(fx, "/readyz", NULL, &rep), 200);
    assert_string_equal(rep.body, "ready\n");
    mq_free(rep.body);
    assert_int_equal(get(fx, "/healthz?verbose", NULL, &rep), 200);
    assert_string_equal(rep.content_type, "application/json");
    mq_free(rep.body);
    assert_int_equal(checks, 0);

    fx->cfg.http_metrics_open = 1;
    assert_int_equal(get(fx, "/metrics", NULL, &rep), 200);
    mq_free(rep.body);
    assert_int_equal(checks, 0);

    fx->cfg.http_health_open = 0;
    assert_int_equal(get(fx, "/readyz", NULL, &rep), 401);
    mq_free(rep.body);
    assert_int_equal(checks, 1);
}

static void test_no_hook_means_open(void **state)
{
    struct fixture *fx = *state;
    struct httpd_reply rep;
    fx->h.auth.check = NULL;
    assert_int_equal(get(fx, "/metrics", NULL, &rep), 200);
    mq_free(rep.body);
    assert_int_equal(checks, 0);
}

static void test_unknown_path_and_stalled_loop(void **state)
{
    struct fixture *fx = *state;
    struct httpd_reply rep;
    assert_int_equal(get(fx, "/metrics/x", "Bearer good", &rep), 404);
    mq_free(rep.body);
    /* The loop's heartbeat is 40 s old: not live. */
    atomic_store(&fx->h.beat_ms, mono_ms() - 40000);
    assert_int_equal(get(fx, "/livez", NULL, &rep), 503);
    assert_non_null(strstr(rep.body, "has not run for"));
    mq_free(rep.body);
    fx->cfg.livez_stall_ms = 0; /* never */
    assert_int_equal(get(fx, "/livez", NULL, &rep), 200);
    mq_free(rep.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_metrics_without_a_key_is_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_open_endpoints_do_not_ask_for_a_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_hook_means_open, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_path_and_stalled_loop,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
