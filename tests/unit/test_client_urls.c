/* test_client_urls.c: parsing of the node URL list (client/src/urls.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mq.h"
#include "urls.h"

#include <cmocka.h>

static void test_urls_three_with_spaces_are_trimmed(void **state)
{
    char **urls;
    size_t n;

    (void)state;
    assert_int_equal(urls_parse(" tcp://127.0.0.1:7001 ,tcp://127.0.0.1:7002,"
                                "\ttcp://[::1]:7003 ",
                                &urls, &n),
                     MQ_OK);
    assert_int_equal(n, 3);
    assert_string_equal(urls[0], "tcp://127.0.0.1:7001");
    assert_string_equal(urls[1], "tcp://127.0.0.1:7002");
    assert_string_equal(urls[2], "tcp://[::1]:7003");
    urls_free(urls, n);
}

static void test_urls_repeated_entry_is_dropped(void **state)
{
    char **urls;
    size_t n;

    (void)state;
    assert_int_equal(
        urls_parse("ipc:///tmp/a,ipc:///tmp/b,ipc:///tmp/a", &urls, &n), MQ_OK);
    assert_int_equal(n, 2);
    assert_string_equal(urls[1], "ipc:///tmp/b");
    urls_free(urls, n);
}

static void test_urls_single_entry_is_a_list(void **state)
{
    char **urls;
    size_t n;

    (void)state;
    assert_int_equal(urls_parse("tls+tcp://node1:7001", &urls, &n), MQ_OK);
    assert_int_equal(n, 1);
    assert_string_equal(urls[0], "tls+tcp://node1:7001");
    urls_free(urls, n);
}

static void expect_invalid(const char *list, const char *words)
{
    char **urls = (char **)1;
    size_t n = 99;

    assert_int_equal(urls_parse(list, &urls, &n), MQ_ERR_INVALID);
    assert_null(urls);
    assert_int_equal(n, 0);
    if (strstr(mq_errmsg(), words) == NULL) {
        fail_msg("\"%s\": message \"%s\" lacks \"%s\"", list ? list : "NULL",
                 mq_errmsg(), words);
    }
}

static void test_urls_bad_lists_are_refused_naming_the_entry(void **state)
{
    char longurl[MQ_URL_MAX + 16];
    char many[64 * 40] = "";

    (void)state;
    expect_invalid(NULL, "no node URLs");
    expect_invalid("", "no node URLs");
    expect_invalid("   ", "no node URLs");
    expect_invalid("tcp://a:1,,tcp://b:2", "URL 2 is empty");
    expect_invalid("tcp://a:1,", "URL 2 is empty");
    expect_invalid("127.0.0.1:7001", "URL 1 \"127.0.0.1:7001\" is not "
                                     "scheme://address");
    expect_invalid("tcp://", "is not scheme://address");
    expect_invalid("://x", "is not scheme://address");
    expect_invalid("tcp://a:1,tcp://b c:2", "URL 2 \"tcp://b c:2\" has a "
                                            "space");
    expect_invalid("t_p://a:1", "bad scheme");
    memset(longurl, 'a', sizeof longurl - 1);
    memcpy(longurl, "tcp://", 6);
    longurl[sizeof longurl - 1] = '\0';
    expect_invalid(longurl, "at most 255 are allowed");
    for (int i = 0; i < URLS_MAX + 1; i++) {
        char one[40];
        snprintf(one, sizeof one, "%stcp://127.0.0.1:%d", i ? "," : "",
                 7000 + i);
        strcat(many, one);
    }
    expect_invalid(many, "more than 16 node URLs");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls_three_with_spaces_are_trimmed),
        cmocka_unit_test(test_urls_repeated_entry_is_dropped),
        cmocka_unit_test(test_urls_single_entry_is_a_list),
        cmocka_unit_test(test_urls_bad_lists_are_refused_naming_the_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
