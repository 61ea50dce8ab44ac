/* test_fifo.c: the chunked FIFO of ids and statuses: records in order
 * across chunks, room reserved that pops do not take away, memory given
 * back, the total it counts, and views that a snapshot reads while records
 * are added and dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "fifo.h"

struct rec {
    uint64_t n, check;
};

static void push_n(struct fifo *f, uint64_t *next, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct rec *r = fifo_push(f);
        assert_non_null(r);
        assert_int_equal(r->n, 0); /* zeroed */
        r->n = *next;
        r->check = ~*next;
        (*next)++;
    }
}

/* The records are first, first + 1, ... in order. */
static void check_order(const struct fifo *f, uint64_t first)
{
    for (size_t i = 0; i < fifo_len(f); i++) {
        const struct rec *r = fifo_at(f, i);
        assert_int_equal(r->n, first + i);
        assert_int_equal(r->check, ~(first + i));
    }
}

static void test_fifo_keeps_order_across_chunks_and_counts(void **state)
{
    (void)state;
    struct fifo f;
    uint64_t acct = 0, next = 0, first = 0, rs = 7;
    fifo_init(&f, sizeof(struct rec));
    fifo_own(&f, NULL, &acct, 10);
    /* Grows past one chunk, drains, grows again: in steps of random size. */
    for (int round = 0; round < 200; round++) {
        rs = rs * 6364136223846793005ull + 1442695040888963407ull;
        size_t add = (size_t)(rs >> 33) % 700;
        push_n(&f, &next, add);
        rs = rs * 6364136223846793005ull + 1442695040888963407ull;
        size_t drop = (size_t)(rs >> 33) % 700;
        for (size_t i = 0; i < drop && fifo_len(&f) > 0; i++) {
            fifo_pop(&f);
            first++;
        }
        if (round % 7 == 0) {
            fifo_shrink(&f);
        }
        assert_int_equal(fifo_len(&f), next - first);
        assert_int_equal(acct, 10 * fifo_len(&f));
        check_order(&f, first);
    }
    fifo_close(&f);
    assert_int_equal(acct, 0);
}

static void test_fifo_reserved_room_survives_pops(void **state)
{
    (void)state;
    struct fifo f;
    uint64_t next = 0;
    fifo_init(&f, sizeof(struct rec));
    for (size_t len = 0; len < 3000; len += 97) {
        push_n(&f, &next, 97);
        assert_int_equal(fifo_reserve(&f, 300), MQ_OK);
        for (int i = 0; i < 150; i++) {
            fifo_pop(&f); /* crosses chunks: the room stays */
        }
        test_alloc_fail_at(0); /* any allocation now fails */
        push_n(&f, &next, 300);
        test_alloc_fail_at(-1);
        check_order(&f, next - fifo_len(&f));
    }
    fifo_close(&f);
}

static void test_fifo_oom_leaves_records_unchanged(void **state)
{
    (void)state;
    struct fifo f;
    uint64_t next = 0;
    fifo_init(&f, sizeof(struct rec));
    push_n(&f, &next, 1000);
    for (int n = 0; n < 8; n++) {
        test_alloc_fail_at(n);
        mq_err rv = fifo_reserve(&f, 5000);
        test_alloc_fail_at(-1);
        assert_true(rv == MQ_OK || rv == MQ_ERR_NO_MEMORY);
        assert_int_equal(fifo_len(&f), 1000);
        check_order(&f, 0);
    }
    test_alloc_fail_at(0);
    fifo_shrink(&f); /* keeps what it has */
    test_alloc_fail_at(-1);
    check_order(&f, 0);
    fifo_close(&f);
}

static void test_fifo_gives_memory_back(void **state)
{
    (void)state;
    struct fifo f;
    uint64_t next = 0;
    fifo_init(&f, sizeof(struct rec));
    push_n(&f, &next, 100000);
    size_t full = fifo_mem_bytes(&f);
    assert_true(full >= 100000 * sizeof(struct rec));
    assert_true(full < 100000 * sizeof(struct rec) * 11 / 10);
    while (fifo_len(&f) > 10) {
        fifo_pop(&f); /* chunks the head left are freed as it goes */
    }
    assert_true(fifo_mem_bytes(&f) <= 2 * FIFO_CHUNK_MAX * sizeof(struct rec));
    fifo_shrink(&f);
    assert_true(fifo_mem_bytes(&f) <= 64 * sizeof(struct rec));
    check_order(&f, next - 10);
    while (fifo_len(&f) > 0) {
        fifo_pop(&f);
    }
    fifo_shrink(&f);
    assert_int_equal(fifo_mem_bytes(&f), 0);
    push_n(&f, &next, 3); /* and works on */
    check_order(&f, next - 3);
    fifo_close(&f);
}

/* What a view reads equals what the FIFO held when it was taken. */
static void check_view(const struct fifo_view *v, uint64_t first, size_t len)
{
    assert_int_equal(v->len, len);
    for (size_t i = 0; i < len; i++) {
        const struct rec *r = fifo_view_at(v, i);
        assert_int_equal(r->n, first + i);
        assert_int_equal(r->check, ~(first + i));
    }
}

static void test_fifo_view_reads_records_while_they_change(void **state)
{
    (void)state;
    /* Short (one chunk, laid out again as it goes) and long (chunks). */
    const size_t sizes[] = {5, 40, FIFO_CHUNK_MAX - 3, 5 * FIFO_CHUNK_MAX + 7};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        struct trash t = TRASH_INIT;
        struct fifo f;
        struct fifo_view v;
        uint64_t next = 0;
        fifo_init(&f, sizeof(struct rec));
        fifo_own(&f, &t, NULL, 0);
        push_n(&f, &next, sizes[k] + 30);
        for (int i = 0; i < 30; i++) {
            fifo_pop(&f);
        }
        void *mem = malloc(fifo_view_size(&f) + 1);
        trash_hold_snapshot(&t);
        fifo_view_take(&f, &v, mem);
        /* Apply goes on: drops everything, adds as much again, shrinks. */
        for (int round = 0; round < 3; round++) {
            while (fifo_len(&f) > 0) {
                fifo_pop(&f);
            }
            push_n(&f, &next, sizes[k] + 50);
            fifo_shrink(&f);
        }
        check_view(&v, 30, sizes[k]);
        fifo_close(&f); /* even the FIFO going leaves the view readable */
        check_view(&v, 30, sizes[k]);
        assert_true(t.n_chunks > 0);
        trash_release_snapshot(&t); /* frees what waited */
        assert_int_equal(t.n_chunks, 0);
        free(mem);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_keeps_order_across_chunks_and_counts),
        cmocka_unit_test(test_fifo_reserved_room_survives_pops),
        cmocka_unit_test(test_fifo_oom_leaves_records_unchanged),
        cmocka_unit_test(test_fifo_gives_memory_back),
        cmocka_unit_test(test_fifo_view_reads_records_while_they_change),
    };
    return cmocka_run_group_tests_name("fifo", tests, NULL, NULL);
}
