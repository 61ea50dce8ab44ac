/* test_waitset.c: the waiting fetches' index (node/rpc/waitset.c): groups
 * by subscription in arrival order, the deadline heap, the connections'
 * lists, against a plain array model; every allocation failure leaves the
 * set as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "waitset.h"

static struct waiter *mk(struct waiter *w, uint64_t deadline, uint32_t pipe)
{
    memset(w, 0, sizeof *w);
    w->deadline_ms = deadline;
    w->pipe = pipe;
    return w;
}

static void test_waitset_groups_keep_arrival_order_and_counts(void **state)
{
    struct waitset ws;
    struct waiter w[5];
    (void)state;

    waitset_init(&ws);
    assert_null(waitset_group(&ws, "default/q", "s"));
    assert_int_equal(waitset_add(&ws, mk(&w[0], 500, 1), "default/q", "s"),
                     MQ_OK);
    assert_int_equal(waitset_add(&ws, mk(&w[1], 100, 2), "default/q", "s"),
                     MQ_OK);
    assert_int_equal(waitset_add(&ws, mk(&w[2], 300, 1), "default/q", "t"),
                     MQ_OK);
    /* The names are two parts: "q"+"s.x" is not "q.s"+"x". */
    assert_int_equal(waitset_add(&ws, mk(&w[3], 300, 1), "default/q.s", "x"),
                     MQ_OK);
    assert_int_equal(waitset_add(&ws, mk(&w[4], 300, 1), "default/q", "s.x"),
                     MQ_OK);
    assert_int_equal(waitset_count(&ws), 5);
    assert_int_equal(ws.n_groups, 4);

    struct wait_group *g = waitset_group(&ws, "default/q", "s");
    assert_non_null(g);
    assert_int_equal(g->n, 2);
    assert_ptr_equal(g->head, &w[0]); /* oldest first */
    assert_ptr_equal(g->head->g_next, &w[1]);
    assert_string_equal(g->queue, "default/q");
    assert_string_equal(g->sub, "s");
    assert_int_equal(waitset_group(&ws, "default/q", "s.x")->n, 1);
    assert_int_equal(waitset_group(&ws, "default/q.s", "x")->n, 1);

    waitset_remove(&ws, &w[0]);
    assert_ptr_equal(waitset_group(&ws, "default/q", "s")->head, &w[1]);
    waitset_remove(&ws, &w[1]);
    assert_null(waitset_group(&ws, "default/q", "s")); /* freed when empty */
    assert_int_equal(ws.n_groups, 3);
    assert_int_equal(waitset_count(&ws), 3);
    waitset_close(&ws);
}

static void test_waitset_expired_in_deadline_order(void **state)
{
    enum { N = 2000 };
    struct waiter *w = calloc(N, sizeof *w);
    struct waitset ws;
    uint64_t last = 0;
    (void)state;

    assert_non_null(w);
    waitset_init(&ws);
    srand(7);
    for (int i = 0; i < N; i++) {
        char sub[16];
        snprintf(sub, sizeof sub, "s%d", i % 37);
        mk(&w[i], 1000 + (uint64_t)(rand() % 5000), (uint32_t)(i % 11));
        assert_int_equal(waitset_add(&ws, &w[i], "default/q", sub), MQ_OK);
    }
    /* Some leave from the middle (answered, or their connection closed). */
    for (int i = 0; i < N; i += 3) {
        waitset_remove(&ws, &w[i]);
    }
    assert_null(waitset_expired(&ws, 999));
    size_t popped = 0;
    struct waiter *x;
    while ((x = waitset_expired(&ws, 3000)) != NULL) {
        assert_true(x->deadline_ms >= last);
        assert_true(x->deadline_ms <= 3000);
        last = x->deadline_ms;
        waitset_remove(&ws, x);
        popped++;
    }
    size_t expect = 0;
    for (int i = 0; i < N; i++) {
        expect += i % 3 != 0 && w[i].deadline_ms <= 3000;
    }
    assert_int_equal(popped, expect);
    while ((x = waitset_any(&ws)) != NULL) {
        assert_true(x->deadline_ms > 3000);
        waitset_remove(&ws, x);
    }
    assert_int_equal(waitset_count(&ws), 0);
    assert_int_equal(ws.n_groups, 0);
    assert_int_equal(ws.groups.len, 0);
    assert_int_equal(ws.pipes.len, 0);
    waitset_close(&ws);
    free(w);
}

static void test_waitset_lists_the_waiters_of_a_connection(void **state)
{
    struct waiter w[6];
    struct waitset ws;
    int seen[6] = {0};
    (void)state;

    waitset_init(&ws);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(waitset_add(&ws, mk(&w[i], 100, i % 2 ? 7 : 9),
                                     "default/q", i < 3 ? "a" : "b"),
                         MQ_OK);
    }
    assert_null(waitset_of_pipe(&ws, 8));
    struct waiter *x;
    while ((x = waitset_of_pipe(&ws, 7)) != NULL) {
        assert_int_equal(x->pipe, 7);
        seen[x - w]++;
        waitset_remove(&ws, x);
    }
    assert_int_equal(seen[1] + seen[3] + seen[5], 3);
    assert_int_equal(seen[0] + seen[2] + seen[4], 0);
    assert_int_equal(waitset_count(&ws), 3);
    assert_int_equal(waitset_group(&ws, "default/q", "a")->n, 2);
    assert_non_null(waitset_of_pipe(&ws, 9));
    waitset_close(&ws);
}

static void test_waitset_add_survives_every_oom(void **state)
{
    struct waiter w[70];
    struct waitset ws;
    (void)state;

    waitset_init(&ws);
    for (int i = 0; i < 70; i++) {
        char sub[16];
        snprintf(sub, sizeof sub, "s%d", i);
        mk(&w[i], (uint64_t)(100 - i), (uint32_t)i);
        for (long n = 0;; n++) {
            size_t before = waitset_count(&ws), groups = ws.n_groups;
            test_alloc_fail_at(n);
            mq_err rv = waitset_add(&ws, &w[i], "default/q", sub);
            test_alloc_fail_at(-1);
            if (rv == MQ_OK) {
                break;
            }
            assert_int_equal(rv, MQ_ERR_NO_MEMORY);
            assert_int_equal(waitset_count(&ws), before);
            assert_int_equal(ws.n_groups, groups);
            assert_null(waitset_group(&ws, "default/q", sub));
            assert_null(waitset_of_pipe(&ws, (uint32_t)i));
        }
    }
    assert_int_equal(waitset_count(&ws), 70);
    assert_ptr_equal(waitset_any(&ws), &w[69]); /* earliest deadline */
    waitset_close(&ws); /* the sanitizer build reports any leak */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waitset_groups_keep_arrival_order_and_counts),
        cmocka_unit_test(test_waitset_expired_in_deadline_order),
        cmocka_unit_test(test_waitset_lists_the_waiters_of_a_connection),
        cmocka_unit_test(test_waitset_add_survives_every_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
