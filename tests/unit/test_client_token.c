/* test_client_token.c: the token libmq sends (mq_client_opts token and
 * token_file): read from its file's first line, checked, and refused with
 * a message that never quotes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client.h"
#include "mq.h"

static const char tok[] = "mqk_app_"
                          "00112233445566778899aabbccddeeff"
                          "00112233445566778899aabbccddeeff";

static char path[64];

static int setup(void **state)
{
    int fd;
    (void)state;
    strcpy(path, "/tmp/mq-test-token-XXXXXX");
    fd = mkstemp(path);
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static void put(const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_token_given_or_none(void **state)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    char out[CLIENT_TOKEN_MAX + 1];
    (void)state;
    assert_int_equal(client_token(&o, out), MQ_OK);
    assert_string_equal(out, "");
    o.token = tok;
    assert_int_equal(client_token(&o, out), MQ_OK);
    assert_string_equal(out, tok);
}

static void test_token_file_first_line_without_blanks(void **state)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    char out[CLIENT_TOKEN_MAX + 1], text[256];
    (void)state;
    snprintf(text, sizeof text, "  %s \r\nsomething else\n", tok);
    put(text);
    o.token_file = path;
    assert_int_equal(client_token(&o, out), MQ_OK);
    assert_string_equal(out, tok);
}

static void test_bad_token_settings_refused_without_quoting(void **state)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    char out[CLIENT_TOKEN_MAX + 1], big[CLIENT_TOKEN_MAX + 2];
    (void)state;

    o.token = tok;
    o.token_file = path;
    assert_int_equal(client_token(&o, out), MQ_ERR_INVALID);
    assert_non_null(strstr(mq_errmsg(), "not both"));

    o.token = NULL;
    o.token_file = "/nonexistent/token";
    assert_int_equal(client_token(&o, out), MQ_ERR_INVALID);
    assert_non_null(strstr(mq_errmsg(), "/nonexistent/token"));

    put("\n");
    o.token_file = path;
    assert_int_equal(client_token(&o, out), MQ_ERR_INVALID);
    assert_non_null(strstr(mq_errmsg(), "is empty"));

    o.token_file = NULL;
    o.token = "secret\x01with-a-control-char";
    assert_int_equal(client_token(&o, out), MQ_ERR_INVALID);
    assert_non_null(strstr(mq_errmsg(), "position 7"));
    assert_null(strstr(mq_errmsg(), "secret"));

    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    o.token = big;
    assert_int_equal(client_token(&o, out), MQ_ERR_INVALID);
    assert_non_null(strstr(mq_errmsg(), "at most 512"));
}

/* mq_client_open refuses a bad token at once. */
static void test_open_refuses_bad_token(void **state)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *c = NULL;
    (void)state;
    o.urls = "tcp://127.0.0.1:1";
    o.token_file = "/nonexistent/token";
    assert_int_equal(mq_client_open(&c, &o), MQ_ERR_INVALID);
    assert_null(c);
    assert_non_null(strstr(mq_errmsg(), "open client"));
    o.token_file = NULL;
    o.token = tok;
    assert_int_equal(mq_client_open(&c, &o), MQ_OK);
    mq_client_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_given_or_none),
        cmocka_unit_test_setup_teardown(
            test_token_file_first_line_without_blanks, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_bad_token_settings_refused_without_quoting, setup, teardown),
        cmocka_unit_test(test_open_refuses_bad_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
