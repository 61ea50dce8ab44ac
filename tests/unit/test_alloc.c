/* test_alloc.c: the allocator's failure injection, which every OOM test
 * relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <raft.h>

#include <cmocka.h>

#include "alloc.h"
#include "raft_heap.h"

static void test_alloc_fail_at_fails_exactly_the_nth(void **state)
{
    (void)state;
    test_alloc_fail_at(2);
    void *a = mq_malloc(8), *b = mq_calloc(2, 8), *c = mq_malloc(8);
    void *d = mq_malloc(8); /* one failure only */
    test_alloc_fail_at(-1);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(c);
    assert_non_null(d);
    mq_free(a);
    mq_free(b);
    mq_free(d);
}

static void test_alloc_counts_every_kind(void **state)
{
    (void)state;
    test_alloc_fail_at(0);
    assert_null(mq_strdup("x"));
    test_alloc_fail_at(0);
    void *p = mq_realloc(NULL, 4);
    assert_null(p);
    test_alloc_fail_at(0);
    assert_null(mq_calloc(1, 1));
    test_alloc_fail_at(-1);
    char *s = mq_strndup("hello", 3);
    assert_string_equal(s, "hel");
    mq_free(s);
    p = mq_malloc(0); /* zero bytes: still a pointer to free */
    assert_non_null(p);
    mq_free(p);
    mq_free(NULL);
}

static void test_alloc_raft_heap_goes_through_mq_malloc(void **state)
{
    (void)state;
    raft_heap_install();
    test_alloc_fail_at(0);
    assert_null(raft_malloc(16));
    test_alloc_fail_at(0);
    assert_null(raft_aligned_alloc(64, 128));
    test_alloc_fail_at(-1);
    void *p = raft_malloc(16);
    assert_non_null(p);
    raft_free(p);
    p = raft_aligned_alloc(64, 128);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 64, 0);
    raft_aligned_free(64, p);
    raft_heap_set_default();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_fail_at_fails_exactly_the_nth),
        cmocka_unit_test(test_alloc_counts_every_kind),
        cmocka_unit_test(test_alloc_raft_heap_goes_through_mq_malloc),
    };
    return cmocka_run_group_tests_name("alloc", tests, NULL, NULL);
}
