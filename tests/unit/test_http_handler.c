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
static void *slow_ask; /* the ask parked by "Bearer slow" */
static int slow_done;  /* its slow check has ended */

/* The loop side's check (rpc_auth_http in the node). */
static mq_err check_key(void *arg, const char *auth, void *ask, int *parked,
                        int *status, char *why, size_t len)
{
    (void)arg;
    checks++;
    *parked = 0;
    if (strcmp(auth, "Bearer good") == 0) {
        return MQ_OK;
    }
    if (strcmp(auth, "Bearer slow") == 0) {
        if (slow_done) {
            return MQ_OK;
        }
        slow_ask = ask;
        *parked = 1;
        return MQ_ERR_NOT_DONE;
    }
    if (strcmp(auth, "Bearer weak") == 0) {
        *status = 403;
        snprintf(why, len, "this key may not read it");
        return MQ_ERR_PERMISSION_DENIED;
    }
    snprintf(why, len, "a key is needed");
    return MQ_ERR_UNAUTHENTICATED;
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
    slow_ask = NULL;
    slow_done = 0;
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
    /* Called again while it waits, as httpd does; the loop's side (the
     * key check) runs in between. */
    for (int i = 0; i < 1000 && http_handle(&fx->h, &req, &cookie, rep) > 0;
         i++) {
        http_run_asks(&fx->h);
        if (slow_ask != NULL && slow_done) {
            http_auth_resume(&fx->h, slow_ask, MQ_OK, NULL);
            slow_ask = NULL;
        }
        slow_done = slow_ask != NULL; /* ends at the next turn */
    }
    return rep->status;
}

static void test_metrics_without_a_key_is_refused(void **state)
{
    struct fixture *fx = *state;
    struct httpd_reply rep;
    assert_int_equal(get(fx, "/metrics", NULL, &rep), 401);
    assert_non_null(strstr(rep.headers, "WWW-Authenticate: Bearer"));
    assert_string_equal(rep.body, "a key is needed\n");
    mq_free(rep.body);
    assert_int_equal(get(fx, "/metrics", "Bearer weak", &rep), 403);
    assert_string_equal(rep.headers, "");
    assert_string_equal(rep.body, "this key may not read it\n");
    mq_free(rep.body);
    assert_int_equal(checks, 2);
    assert_int_equal(atomic_load(&fx->h.auth_refused), 2);

    assert_int_equal(get(fx, "/metrics", "Bearer good", &rep), 200);
    assert_non_null(strstr(rep.body, "\nmq_node_id 7\n"));
    assert_non_null(
        strstr(rep.body, "\nmq_auth_refusals_total{listener=\"http\"} 2\n"));
    mq_free(rep.body);
}

/* A key whose check is slow (the bootstrap secret's) waits for it: the
 * request is served once auth resumes it; every ask is free after. */
static void test_slow_key_check_waits(void **state)
{
    struct fixture *fx = *state;
    struct httpd_reply rep;
    assert_int_equal(get(fx, "/metrics", "Bearer slow", &rep), 200);
    mq_free(rep.body);
    assert_int_equal(checks, 2);
    for (size_t i = 0; i < HTTP_ASKS_MAX; i++) {
        assert_int_equal(fx->h.asks[i].state, HTTP_ASK_FREE);
        assert_null(fx->h.asks[i].token);
    }
}

/* With every ask taken, a request is refused at once (503), not queued. */
static void test_too_many_waiting_checks(void **state)
{
    struct fixture *fx = *state;
    struct httpd_reply rep;
    for (size_t i = 0; i < HTTP_ASKS_MAX; i++) {
        fx->h.asks[i].state = HTTP_ASK_PARKED;
    }
    assert_int_equal(get(fx, "/metrics", "Bearer good", &rep), 503);
    assert_non_null(strstr(rep.body, "too many requests wait"));
    mq_free(rep.body);
    assert_int_equal(checks, 0);
    for (size_t i = 0; i < HTTP_ASKS_MAX; i++) {
        fx->h.asks[i].state = HTTP_ASK_FREE;
    }
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
        cmocka_unit_test_setup_teardown(test_slow_key_check_waits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_too_many_waiting_checks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_path_and_stalled_loop,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
