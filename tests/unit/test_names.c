/* test_names.c: queue/subscription names, message ids and event names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "names.h"

/* A string of @n copies of @c (n < 512). */
static const char *rep(char c, size_t n)
{
    static char buf[512];
    memset(buf, c, n);
    buf[n] = '\0';
    return buf;
}

static mq_err name(const char *s, struct errmsg *e)
{
    return name_check(s, strlen(s), "queue name", e);
}

static void test_name_valid_forms_accepted(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(name("orders", &e), MQ_OK);
    assert_int_equal(name("a", &e), MQ_OK);
    assert_int_equal(name("0", &e), MQ_OK);
    assert_int_equal(name("Orders_v2.eu-west-1", &e), MQ_OK);
    assert_int_equal(name("9lives", &e), MQ_OK);
}

static void test_name_64_chars_accepted_65_refused(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(name(rep('q', MQ_NAME_MAX), &e), MQ_OK);
    assert_int_equal(name(rep('q', MQ_NAME_MAX + 1), &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "queue name is 65 characters"));
    assert_non_null(strstr(e.msg, "at most 64"));
}

static void test_name_empty_refused(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(name_check("", 0, "subscription name", &e),
                     MQ_ERR_INVALID);
    assert_string_equal(e.msg, "subscription name is empty");
    assert_int_equal(name_check(NULL, 0, "queue name", &e), MQ_ERR_INVALID);
    assert_string_equal(e.msg, "queue name is empty");
}

static void test_name_bad_first_character_refused(void **state)
{
    (void)state;
    const char *bad[] = {"_x", "-x", ".x", " x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct errmsg e = ERRMSG_INIT;
        assert_int_equal(name(bad[i], &e), MQ_ERR_INVALID);
        assert_non_null(strstr(e.msg, "must start with a letter or digit"));
    }
}

static void test_name_bad_character_refused_with_position(void **state)
{
    (void)state;
    const char *bad[] = {"ab c", "ab/c", "ab*c", "ab>c", "ab\xc3\xa9", "ab:c"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct errmsg e = ERRMSG_INIT;
        assert_int_equal(name(bad[i], &e), MQ_ERR_INVALID);
        assert_non_null(strstr(e.msg, "at position 3"));
    }
}

static void test_name_embedded_nul_refused(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(name_check("ab\0c", 4, "queue name", &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "position 3"));
}

static void test_id_printable_ascii_accepted(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    const char *ok = "order-42:{\"x\"}~!";
    assert_int_equal(id_check(ok, strlen(ok), &e), MQ_OK);
    assert_int_equal(id_check("x", 1, &e), MQ_OK);
}

static void test_id_128_accepted_129_refused(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(id_check(rep('i', MQ_ID_MAX), MQ_ID_MAX, &e), MQ_OK);
    assert_int_equal(id_check(rep('i', MQ_ID_MAX + 1), MQ_ID_MAX + 1, &e),
                     MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "message id is 129 bytes"));
    assert_non_null(strstr(e.msg, "at most 128"));
}

static void test_id_empty_refused(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(id_check("", 0, &e), MQ_ERR_INVALID);
    assert_string_equal(e.msg, "message id is empty");
}

static void test_id_space_control_and_high_bytes_refused(void **state)
{
    (void)state;
    const char *bad[] = {"a b", "a\tb",
                         "a\x7f"
                         "b",
                         "a\x80"
                         "b",
                         "a\nb"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct errmsg e = ERRMSG_INIT;
        assert_int_equal(id_check(bad[i], strlen(bad[i]), &e), MQ_ERR_INVALID);
        assert_non_null(strstr(e.msg, "not printable ASCII at position 2"));
    }
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(id_check("a\0b", 3, &e), MQ_ERR_INVALID);
}

static mq_err ev(const char *s, struct errmsg *e)
{
    return event_check(s, strlen(s), e);
}

static void test_event_valid_forms_accepted(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(ev("order.created", &e), MQ_OK);
    assert_int_equal(ev("x", &e), MQ_OK);
    assert_int_equal(ev("a_b-c.D9.e", &e), MQ_OK);
    assert_int_equal(ev("_.-", &e), MQ_OK);
}

static void test_event_128_accepted_129_refused(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(ev(rep('e', MQ_EVENT_MAX), &e), MQ_OK);
    assert_int_equal(ev(rep('e', MQ_EVENT_MAX + 1), &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "event name is 129 bytes"));
}

static void test_event_empty_refused(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(event_check("", 0, &e), MQ_ERR_INVALID);
    assert_string_equal(e.msg, "event name is empty");
}

static void test_event_empty_tokens_refused(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(ev(".a", &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "empty token at position 1"));
    assert_int_equal(ev("a..b", &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "empty token at position 3"));
    assert_int_equal(ev("a.", &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "ends with an empty token"));
    assert_int_equal(ev(".", &e), MQ_ERR_INVALID);
}

static void test_event_wildcards_and_bad_characters_refused(void **state)
{
    (void)state;
    const char *bad[] = {"a.*", "a.>", "a b", "a/b", "a\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct errmsg e = ERRMSG_INIT;
        assert_int_equal(ev(bad[i], &e), MQ_ERR_INVALID);
        assert_non_null(strstr(e.msg, "character other than letters"));
    }
}

static void test_checks_accept_null_errmsg(void **state)
{
    (void)state;
    assert_int_equal(name_check("", 0, "x", NULL), MQ_ERR_INVALID);
    assert_int_equal(id_check("", 0, NULL), MQ_ERR_INVALID);
    assert_int_equal(event_check("", 0, NULL), MQ_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_valid_forms_accepted),
        cmocka_unit_test(test_name_64_chars_accepted_65_refused),
        cmocka_unit_test(test_name_empty_refused),
        cmocka_unit_test(test_name_bad_first_character_refused),
        cmocka_unit_test(test_name_bad_character_refused_with_position),
        cmocka_unit_test(test_name_embedded_nul_refused),
        cmocka_unit_test(test_id_printable_ascii_accepted),
        cmocka_unit_test(test_id_128_accepted_129_refused),
        cmocka_unit_test(test_id_empty_refused),
        cmocka_unit_test(test_id_space_control_and_high_bytes_refused),
        cmocka_unit_test(test_event_valid_forms_accepted),
        cmocka_unit_test(test_event_128_accepted_129_refused),
        cmocka_unit_test(test_event_empty_refused),
        cmocka_unit_test(test_event_empty_tokens_refused),
        cmocka_unit_test(test_event_wildcards_and_bad_characters_refused),
        cmocka_unit_test(test_checks_accept_null_errmsg),
    };
    return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
