/* test_log.c: log lines as text and as JSON objects (log_format json):
 * one object per line, every field present, the message escaped so that
 * quotes, control characters and bytes that are not UTF-8 keep the line
 * valid JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Runs the LOG_* call @body with stderr sent to a file, and returns what
 * was written (static buffer). */
#define CAPTURE(out, body)                                                     \
    do {                                                                       \
        char path_[] = "/tmp/mq-test-log-XXXXXX";                              \
        int fd_ = mkstemp(path_);                                              \
        int saved_ = dup(STDERR_FILENO);                                       \
        dup2(fd_, STDERR_FILENO);                                              \
        body;                                                                  \
        dup2(saved_, STDERR_FILENO);                                           \
        close(saved_);                                                         \
        lseek(fd_, 0, SEEK_SET);                                               \
        ssize_t n_ = read(fd_, (out), sizeof(out) - 1);                        \
        (out)[n_ > 0 ? n_ : 0] = '\0';                                         \
        close(fd_);                                                            \
        unlink(path_);                                                         \
    } while (0)

static void test_text_line_has_level_node_and_place(void **state)
{
    char out[2048];
    (void)state;
    log_set_format(LOG_FORMAT_TEXT);
    log_set_node(3);
    log_set_role("leader", 9);
    CAPTURE(out, LOG_WARN("disk %s is slow", "sda"));
    assert_non_null(strstr(out, " W node=3 leader term=9 test_log.c:"));
    assert_non_null(strstr(out, "disk sda is slow\n"));
    assert_int_equal(out[strlen(out) - 1], '\n');
}

static void test_json_line_is_one_object_with_every_field(void **state)
{
    char out[2048];
    (void)state;
    log_set_format(LOG_FORMAT_JSON);
    log_set_node(2);
    log_set_role("follower", 7);
    CAPTURE(out, LOG_INFO("became %s of term %d", "follower", 7));
    log_set_format(LOG_FORMAT_TEXT);
    assert_int_equal(out[0], '{');
    assert_non_null(strstr(out, "\"level\":\"info\""));
    assert_non_null(strstr(out, "\"node\":2,"));
    assert_non_null(strstr(out, "\"role\":\"follower\""));
    assert_non_null(strstr(out, "\"term\":7,"));
    assert_non_null(strstr(out, "\"file\":\"test_log.c\""));
    assert_non_null(strstr(out, "\"line\":"));
    assert_non_null(strstr(out, "\"msg\":\"became follower of term 7\"}\n"));
    assert_non_null(strstr(out, "\"time\":\"20"));
    /* One line. */
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
}

static void test_json_message_is_escaped(void **state)
{
    char out[2048];
    (void)state;
    log_set_format(LOG_FORMAT_JSON);
    CAPTURE(out, LOG_ERROR("queue \"a\\b\"\n\tbad \xff byte, ok \xc3\xa9"));
    log_set_format(LOG_FORMAT_TEXT);
    assert_non_null(strstr(out, "\"msg\":\"queue \\\"a\\\\b\\\"\\u000a\\u0009"
                                "bad \\ufffd byte, ok \xc3\xa9\"}\n"));
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
}

/* A message longer than the line is cut inside the string: the object is
 * still closed. */
static void test_json_long_message_still_closes_the_object(void **state)
{
    char out[4096];
    char big[3000];
    (void)state;
    memset(big, '"', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    log_set_format(LOG_FORMAT_JSON);
    CAPTURE(out, LOG_ERROR("%s", big));
    log_set_format(LOG_FORMAT_TEXT);
    size_t n = strlen(out);
    assert_true(n > 100);
    assert_string_equal(out + n - 3, "\"}\n");
    /* The cut does not split an escape: an even run of backslash-quote. */
    assert_int_equal(out[n - 4], '"');
    assert_int_equal(out[n - 5], '\\');
}

static void test_format_names_parse(void **state)
{
    (void)state;
    assert_int_equal(log_format_parse("text"), LOG_FORMAT_TEXT);
    assert_int_equal(log_format_parse("json"), LOG_FORMAT_JSON);
    assert_int_equal(log_format_parse("JSON"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_line_has_level_node_and_place),
        cmocka_unit_test(test_json_line_is_one_object_with_every_field),
        cmocka_unit_test(test_json_message_is_escaped),
        cmocka_unit_test(test_json_long_message_still_closes_the_object),
        cmocka_unit_test(test_format_names_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
