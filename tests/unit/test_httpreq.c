/* test_httpreq.c: the HTTP request head parser: a whole head gives method,
 * path, query and Authorization; a partial one asks for more; every kind
 * of bad head is refused with its status and a reason; nothing past the
 * bounds is kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "httpreq.h"

static enum httpreq_result parse(const char *s, struct http_request *r)
{
    return httpreq_parse(s, strlen(s), r);
}

static void test_whole_head_is_parsed(void **state)
{
    struct http_request r;
    const char *s = "GET /healthz?verbose&x=1 HTTP/1.1\r\nHost: a:1\r\n"
                    "authorization:   Bearer abc.def  \r\n\r\nleftover";
    (void)state;
    assert_int_equal(parse(s, &r), HTTPREQ_OK);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.path, "/healthz");
    assert_string_equal(r.query, "verbose&x=1");
    assert_string_equal(r.authorization, "Bearer abc.def");
    assert_int_equal(r.head_len, strlen(s) - strlen("leftover"));
    assert_true(httpreq_has_param(r.query, "verbose"));
    assert_true(httpreq_has_param(r.query, "x"));
    assert_false(httpreq_has_param(r.query, "verb"));
    assert_false(httpreq_has_param("", "verbose"));
}

static void test_bare_newlines_and_http10_are_accepted(void **state)
{
    struct http_request r;
    (void)state;
    assert_int_equal(parse("\r\nHEAD /metrics HTTP/1.0\nA: b\n\n", &r),
                     HTTPREQ_OK);
    assert_string_equal(r.method, "HEAD");
    assert_string_equal(r.path, "/metrics");
    assert_string_equal(r.query, "");
    assert_string_equal(r.authorization, "");
}

static void test_partial_head_asks_for_more(void **state)
{
    struct http_request r;
    const char *whole = "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n";
    (void)state;
    for (size_t n = 0; n < strlen(whole); n++) {
        enum httpreq_result rv = httpreq_parse(whole, n, &r);
        assert_int_equal(rv, HTTPREQ_MORE);
    }
    assert_int_equal(parse(whole, &r), HTTPREQ_OK);
}

static void test_bad_heads_are_refused_with_status(void **state)
{
    static const struct {
        const char *head;
        int status;
        const char *why;
    } cases[] = {
        {"get / HTTP/1.1\r\n\r\n", 400, "request line"},
        {"GET\r\n\r\n", 400, "request line"},
        {"GET / \r\n\r\n", 505, "version"},
        {"GET /\r\n\r\n", 400, "request line"},
        {"LONGMETHOD / HTTP/1.1\r\n\r\n", 501, "method"},
        {"GET http://x/ HTTP/1.1\r\n\r\n", 400, "path"},
        {"GET /a\x01 HTTP/1.1\r\n\r\n", 400, "target"},
        {"GET / HTTP/2.0\r\n\r\n", 505, "version"},
        {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "header"},
        {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, "header"},
        {"GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n", 400, "value"},
        {"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 413, "body"},
        {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 413, "body"},
    };
    struct http_request r;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(parse(cases[i].head, &r), HTTPREQ_BAD);
        if (r.status != cases[i].status ||
            strstr(r.why, cases[i].why) == NULL) {
            fail_msg("case %zu: status %d, why \"%s\"", i, r.status, r.why);
        }
    }
    /* Content-Length 0 is no body. */
    assert_int_equal(parse("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r),
                     HTTPREQ_OK);
}

static void test_nul_byte_is_refused(void **state)
{
    struct http_request r;
    const char s[] = "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n";
    (void)state;
    assert_int_equal(httpreq_parse(s, sizeof s - 1, &r), HTTPREQ_BAD);
    assert_int_equal(r.status, 400);
}

static void test_bounds_on_target_and_authorization(void **state)
{
    char buf[2048];
    char long_path[HTTPREQ_TARGET_MAX + 2];
    char long_auth[HTTPREQ_AUTH_MAX + 2];
    struct http_request r;
    (void)state;
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[0] = '/';
    long_path[sizeof long_path - 1] = '\0';
    snprintf(buf, sizeof buf, "GET %s HTTP/1.1\r\n\r\n", long_path);
    assert_int_equal(parse(buf, &r), HTTPREQ_BAD);
    assert_int_equal(r.status, 414);
    long_path[sizeof long_path - 2] = '\0'; /* exactly the maximum */
    snprintf(buf, sizeof buf, "GET %s HTTP/1.1\r\n\r\n", long_path);
    assert_int_equal(parse(buf, &r), HTTPREQ_OK);
    assert_int_equal(strlen(r.path), HTTPREQ_TARGET_MAX);

    memset(long_auth, 'k', sizeof long_auth - 1);
    long_auth[sizeof long_auth - 1] = '\0';
    snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nAuthorization: %s\r\n\r\n",
             long_auth);
    assert_int_equal(parse(buf, &r), HTTPREQ_BAD);
    assert_int_equal(r.status, 431);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_head_is_parsed),
        cmocka_unit_test(test_bare_newlines_and_http10_are_accepted),
        cmocka_unit_test(test_partial_head_asks_for_more),
        cmocka_unit_test(test_bad_heads_are_refused_with_status),
        cmocka_unit_test(test_nul_byte_is_refused),
        cmocka_unit_test(test_bounds_on_target_and_authorization),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
