/* test_errmsg.c: error messages that gain context on the way up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "errmsg.h"

static void test_errmsg_wrap_prefixes_context(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    errmsg_set(&e, "truncated record at %d", 8812);
    errmsg_wrap(&e, "queue %s", "orders");
    errmsg_wrap(&e, "restore snapshot %s", "7-1042");
    assert_string_equal(
        e.msg,
        "restore snapshot 7-1042: queue orders: truncated record at 8812");
}

static void test_errmsg_wrap_of_empty_message_is_context_only(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    errmsg_wrap(&e, "publish to %s", "orders");
    assert_string_equal(e.msg, "publish to orders");
}

static void test_errmsg_long_messages_cut_and_terminated(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    errmsg_set(&e, "%s", big);
    assert_int_equal(strlen(e.msg), ERRMSG_SIZE - 1);
    errmsg_wrap(&e, "ctx");
    assert_int_equal(strlen(e.msg), ERRMSG_SIZE - 1);
    assert_memory_equal(e.msg, "ctx: xxx", 8);
    /* A prefix as long as the buffer leaves no room for the old text. */
    errmsg_wrap(&e, "%s", big);
    assert_int_equal(strlen(e.msg), ERRMSG_SIZE - 1);
    errmsg_set(NULL, "dropped");
    errmsg_wrap(NULL, "dropped");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errmsg_wrap_prefixes_context),
        cmocka_unit_test(test_errmsg_wrap_of_empty_message_is_context_only),
        cmocka_unit_test(test_errmsg_long_messages_cut_and_terminated),
    };
    return cmocka_run_group_tests_name("errmsg", tests, NULL, NULL);
}
