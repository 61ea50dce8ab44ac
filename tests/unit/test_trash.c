/* test_trash.c: deferred frees of messages; holds nest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fsm_helpers.h"
#include "trash.h"

static struct msg *mk(uint64_t seq)
{
    struct blob b = pub_blob("id", "payload");
    struct pub_view v;
    assert_int_equal(pub_scan(b.data, b.len, &v, NULL), MQ_OK);
    struct msg *m = msg_new(b.data, b.len, &v, seq, 1, 1);
    blob_free(&b);
    assert_non_null(m);
    return m;
}

static void test_trash_frees_at_once_when_not_holding(void **state)
{
    (void)state;
    struct trash t = TRASH_INIT;
    trash_put(&t, mk(1)); /* the sanitizer build reports a leak if kept */
    assert_int_equal(t.n_held, 0);
    trash_release(&t); /* no hold: harmless */
    assert_int_equal(t.holding, 0);
}

static void test_trash_nested_holds_free_at_last_release(void **state)
{
    (void)state;
    struct trash t = TRASH_INIT;
    trash_hold(&t); /* e.g. a snapshot */
    trash_hold(&t); /* e.g. the last Command's results */
    struct msg *m = mk(7);
    trash_put(&t, m);
    trash_put(&t, mk(8));
    assert_int_equal(t.n_held, 2);
    trash_release(&t);
    assert_int_equal(t.n_held, 2);
    assert_int_equal(m->rec.seq, 7); /* still readable */
    trash_release(&t);
    assert_int_equal(t.n_held, 0);
    assert_null(t.head);
}

static void test_trash_close_frees_whatever_the_holds(void **state)
{
    (void)state;
    struct trash t = TRASH_INIT;
    trash_hold(&t);
    trash_hold(&t);
    trash_put(&t, mk(1));
    trash_close(&t);
    assert_int_equal(t.n_held, 0);
    assert_int_equal(t.holding, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trash_frees_at_once_when_not_holding),
        cmocka_unit_test(test_trash_nested_holds_free_at_last_release),
        cmocka_unit_test(test_trash_close_frees_whatever_the_holds),
    };
    return cmocka_run_group_tests_name("trash", tests, NULL, NULL);
}
