/* test_sub.c: a subscription's cursor, pending deliveries, acks, nacks,
 * redelivery and max deliveries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "fsm_helpers.h"
#include "queue.h"
#include "sub.h"

#define TIMEOUT 1000 /* the subscriptions' ack timeout */

struct fix {
    struct fsm_ctx ctx;
    struct queue *q;
};

static void add(struct fix *x, int n)
{
    for (int i = 0; i < n; i++) {
        char id[32];
        struct pub_view v;
        snprintf(id, sizeof id, "id-%llu",
                 (unsigned long long)x->q->msgs.last_seq + 1);
        struct blob b = pub_blob(id, "payload");
        assert_int_equal(pub_scan(b.data, b.len, &v, NULL), MQ_OK);
        struct msg *m =
            msg_new(b.data, b.len, &v, x->q->msgs.last_seq + 1, 100, 0);
        assert_non_null(m);
        assert_int_equal(queue_append(x->q, m, 0, NULL), MQ_OK);
        blob_free(&b);
    }
}

static int setup(void **state)
{
    struct fix *x = calloc(1, sizeof *x);
    struct queue_config c;
    memset(&c, 0, sizeof c);
    strcpy(c.name, "orders");
    c.ack_timeout_ms = TIMEOUT;
    assert_int_equal(queue_config_normalize(&c, NULL), MQ_OK);
    x->q = queue_new(&c, 0, &x->ctx);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fix *x = *state;
    queue_free(x->q);
    trash_release(&x->ctx.trash);
    free(x);
    return 0;
}

static struct sub *mksub(struct fix *x, int start, uint64_t start_seq,
                         uint32_t max_deliveries)
{
    struct sub_config sc;
    memset(&sc, 0, sizeof sc);
    strcpy(sc.name, "workers");
    sc.start = start;
    sc.start_seq = start_seq;
    sc.max_deliveries = max_deliveries;
    assert_int_equal(sub_config_normalize(&sc, &x->q->cfg, NULL), MQ_OK);
    struct sub *s = sub_new(&sc, &x->q->msgs, 0, &x->ctx);
    assert_non_null(s);
    assert_int_equal(queue_add_sub(x->q, s), MQ_OK);
    return s;
}

/* Delivers up to @max at @now and checks the (seq, attempt) pairs. */
static void expect_deliver(struct sub *s, struct queue *q, uint64_t now,
                           size_t max, const uint64_t *seqs,
                           const uint32_t *attempts, size_t n)
{
    struct delivery d[64];
    size_t got = 99;
    assert_int_equal(sub_deliver(s, &q->msgs, now, max, d, &got), MQ_OK);
    assert_int_equal(got, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(d[i].m->rec.seq, seqs[i]);
        assert_int_equal(d[i].attempt, attempts ? attempts[i] : 1);
    }
}

#define SEQS(...) ((const uint64_t[]){__VA_ARGS__})
#define ATT(...) ((const uint32_t[]){__VA_ARGS__})

static void do_ack(struct sub *s, int nack, uint64_t now, uint64_t delay,
                   const uint64_t *seqs, size_t n, uint32_t want_done,
                   uint32_t want_already)
{
    uint32_t done = 0, already = 0;
    assert_int_equal(sub_check_seqs(s, seqs, n, NULL), MQ_OK);
    sub_ack(s, seqs, n, nack, now, delay, &done, &already);
    assert_int_equal(done, want_done);
    assert_int_equal(already, want_already);
}

static void test_sub_start_new_sees_only_later_messages(void **state)
{
    struct fix *x = *state;
    add(x, 3);
    struct sub *s = mksub(x, MQ_START_NEW, 0, 0);
    assert_int_equal(s->next_seq, 4);
    expect_deliver(s, x->q, 10, 10, NULL, NULL, 0);
    add(x, 2);
    expect_deliver(s, x->q, 10, 10, SEQS(4, 5), NULL, 2);
}

static void test_sub_start_first_and_seq_positions(void **state)
{
    struct fix *x = *state;
    add(x, 5);
    queue_remove(x->q, 1);
    queue_remove(x->q, 2);
    struct sub *s = mksub(x, MQ_START_FIRST, 0, 0);
    assert_int_equal(s->next_seq, 3);
    expect_deliver(s, x->q, 10, 10, SEQS(3, 4, 5), NULL, 3);
    assert_int_equal(queue_del_sub(x->q, "workers"), MQ_OK);

    s = mksub(x, MQ_START_SEQ, 4, 0);
    expect_deliver(s, x->q, 10, 10, SEQS(4, 5), NULL, 2);
    assert_int_equal(queue_del_sub(x->q, "workers"), MQ_OK);

    /* Below the first stored: starts at the first. */
    s = mksub(x, MQ_START_SEQ, 1, 0);
    assert_int_equal(s->next_seq, 3);
    assert_int_equal(queue_del_sub(x->q, "workers"), MQ_OK);

    /* Past the last: waits for it. */
    s = mksub(x, MQ_START_SEQ, 8, 0);
    add(x, 2); /* 6, 7 */
    expect_deliver(s, x->q, 10, 10, NULL, NULL, 0);
    add(x, 2); /* 8, 9 */
    expect_deliver(s, x->q, 10, 10, SEQS(8, 9), NULL, 2);
}

static void test_sub_delivers_new_in_seq_order_up_to_max(void **state)
{
    struct fix *x = *state;
    struct sub *s = mksub(x, MQ_START_FIRST, 0, 0);
    add(x, 5);
    assert_int_equal(sub_available(s, &x->q->msgs, 10, 100), 5);
    assert_int_equal(sub_available(s, &x->q->msgs, 10, 2), 2);
    expect_deliver(s, x->q, 10, 2, SEQS(1, 2), NULL, 2);
    expect_deliver(s, x->q, 10, 2, SEQS(3, 4), NULL, 2);
    expect_deliver(s, x->q, 10, 2, SEQS(5), NULL, 1);
    expect_deliver(s, x->q, 10, 2, NULL, NULL, 0);
    assert_int_equal(sub_in_flight(s), 5);
    assert_int_equal(s->delivered, 5);
    assert_int_equal(sub_next_due(s), 10 + TIMEOUT);
    assert_int_equal(sub_available(s, &x->q->msgs, 10, 100), 0);
}

static void test_sub_ack_floor_follows_lowest_pending(void **state)
{
    struct fix *x = *state;
    struct sub *s = mksub(x, MQ_START_FIRST, 0, 0);
    add(x, 4);
    assert_int_equal(sub_ack_floor(s), 0);
    expect_deliver(s, x->q, 10, 10, SEQS(1, 2, 3, 4), NULL, 4);
    assert_int_equal(sub_ack_floor(s), 0);
    do_ack(s, 0, 20, 0, SEQS(2, 3), 2, 2, 0);
    assert_int_equal(sub_ack_floor(s), 0);
    do_ack(s, 0, 20, 0, SEQS(1), 1, 1, 0);
    assert_int_equal(sub_ack_floor(s), 3);
    do_ack(s, 0, 20, 0, SEQS(4), 1, 1, 0);
    assert_int_equal(sub_ack_floor(s), 4);
    assert_int_equal(sub_in_flight(s), 0);
    assert_int_equal(s->acked, 4);
    assert_int_equal(sub_next_due(s), UINT64_MAX);
}

static void test_sub_ack_of_never_delivered_seq_is_invalid(void **state)
{
    struct fix *x = *state;
    struct sub *s = mksub(x, MQ_START_FIRST, 0, 0);
    struct errmsg e = ERRMSG_INIT;
    add(x, 3);
    expect_deliver(s, x->q, 10, 1, SEQS(1), NULL, 1);

    assert_int_equal(sub_check_seqs(s, SEQS(1, 2), 2, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "seq 2 was never delivered"));
    assert_non_null(strstr(e.msg, "subscription workers"));
    assert_int_equal(sub_check_seqs(s, SEQS(0), 1, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "seq 0"));
    assert_int_equal(sub_check_seqs(s, SEQS(UINT64_MAX), 1, &e),
                     MQ_ERR_INVALID);
    /* Nothing changed. */
    assert_int_equal(sub_in_flight(s), 1);
    assert_int_equal(s->next_seq, 2);
}

static void test_sub_ack_twice_counts_as_already(void **state)
{
    struct fix *x = *state;
    struct sub *s = mksub(x, MQ_START_FIRST, 0, 0);
    add(x, 2);
    expect_deliver(s, x->q, 10, 10, SEQS(1, 2), NULL, 2);
    do_ack(s, 0, 20, 0, SEQS(1), 1, 1, 0);
    do_ack(s, 0, 20, 0, SEQS(1, 2), 2, 1, 1);
    do_ack(s, 0, 20, 0, SEQS(1, 2), 2, 0, 2);
    assert_int_equal(s->acked, 2);
    /* A nack of an acked seq is counted as already too, and changes
     * nothing. */
    do_ack(s, 1, 20, 0, SEQS(2), 1, 0, 1);
    expect_deliver(s, x->q, 5000, 10, NULL, NULL, 0);
}

static void test_sub_ack_timeout_redelivers_only_when_due(void **state)
{
    struct fix *x = *state;
    struct sub *s = mksub(x, MQ_START_FIRST, 0, 0);
    add(x, 3);
    expect_deliver(s, x->q, 100, 10, SEQS(1, 2, 3), NULL, 3);
    add(x, 2); /* 4, 5: new */

    /* One ms before the deadline only new messages go out. */
    expect_deliver(s, x->q, 100 + TIMEOUT - 1, 1, SEQS(4), NULL, 1);
    assert_int_equal(sub_available(s, &x->q->msgs, 100 + TIMEOUT - 1, 10), 1);
    /* At the deadline: redeliveries first, in seq order, attempt 2, then
     * new messages. */
    expect_deliver(s, x->q, 100 + TIMEOUT, 10, SEQS(1, 2, 3, 5),
                   ATT(2, 2, 2, 1), 4);
    /* Their new deadline is from now. */
    assert_int_equal(sub_next_due(s), 100 + TIMEOUT - 1 + TIMEOUT);
    /* 4 is due first now (delivered at 1099), then 1, 2, 3 again. */
    expect_deliver(s, x->q, 100 + 2 * TIMEOUT, 10, SEQS(4, 1, 2, 3, 5),
                   ATT(2, 3, 3, 3, 2), 5);
    assert_int_equal(s->delivered, 3 + 1 + 4 + 5);
}

static void test_sub_redelivery_limited_by_max(void **state)
{
    struct fix *x = *state;
    struct sub *s = mksub(x, MQ_START_FIRST, 0, 0);
    add(x, 3);
    expect_deliver(s, x->q, 0, 10, SEQS(1, 2, 3), NULL, 3);
    expect_deliver(s, x->q, TIMEOUT, 2, SEQS(1, 2), ATT(2, 2), 2);
    expect_deliver(s, x->q, TIMEOUT, 2, SEQS(3), ATT(2), 1);
}

static void test_sub_nack_with_delay_redelivers_after_delay(void **state)
{
    struct fix *x = *state;
    struct sub *s = mksub(x, MQ_START_FIRST, 0, 0);
    add(x, 3);
    expect_deliver(s, x->q, 100, 10, SEQS(1, 2, 3), NULL, 3);
    do_ack(s, 1, 200, 50, SEQS(2), 1, 1, 0);
    do_ack(s, 1, 200, 0, SEQS(3), 1, 1, 0); /* at once */
    assert_int_equal(sub_next_due(s), 200);
    expect_deliver(s, x->q, 200, 10, SEQS(3), ATT(2), 1);
    expect_deliver(s, x->q, 249, 10, NULL, NULL, 0);
    expect_deliver(s, x->q, 250, 10, SEQS(2), ATT(2), 1);
    /* A nack keeps the message pending: the floor stays. */
    assert_int_equal(sub_ack_floor(s), 0);
    assert_int_equal(sub_in_flight(s), 3);
}

static void test_sub_huge_delay_and_timeout_do_not_wrap(void **state)
{
    struct fix *x = *state;
    struct sub *s = mksub(x, MQ_START_FIRST, 0, 0);
    add(x, 2);
    s->cfg.ack_timeout_ms = UINT64_MAX; /* a queue setting: any uint64 */
    expect_deliver(s, x->q, 100, 10, SEQS(1, 2), NULL, 2);
    assert_true(sub_next_due(s) == UINT64_MAX);
    expect_deliver(s, x->q, 200, 10, NULL, NULL, 0);
    /* A nack delay from a client: now + delay must not wrap to the past. */
    do_ack(s, 1, 300, UINT64_MAX - 10, SEQS(1), 1, 1, 0);
    expect_deliver(s, x->q, 400, 10, NULL, NULL, 0);
}

static void test_sub_max_deliveries_gives_up_after_last_attempt(void **state)
{
    struct fix *x = *state;
    struct sub *s = mksub(x, MQ_START_FIRST, 0, 2);
    add(x, 2);
    expect_deliver(s, x->q, 0, 10, SEQS(1, 2), NULL, 2);
    do_ack(s, 0, 0, 0, SEQS(2), 1, 1, 0);
    expect_deliver(s, x->q, TIMEOUT, 10, SEQS(1), ATT(2), 1);
    /* Second attempt timed out: given up (for the FSM to dead-letter),
     * not delivered a third time. */
    expect_deliver(s, x->q, 2 * TIMEOUT, 10, NULL, NULL, 0);
    assert_int_equal(s->n_dl, 1);
    assert_int_equal(s->dl[0].seq, 1);
    assert_int_equal(s->dl[0].attempts, 2);
    assert_false(s->dl[0].term);
    assert_int_equal(sub_in_flight(s), 0);
    assert_int_equal(sub_ack_floor(s), 2);
    /* Its ack now counts as already. */
    do_ack(s, 0, 2 * TIMEOUT, 0, SEQS(1), 1, 0, 1);
}

static void test_sub_max_deliveries_inherited_from_queue(void **state)
{
    struct fix *x = *state;
    struct sub_config sc;
    x->q->cfg.max_deliveries = 3;
    memset(&sc, 0, sizeof sc);
    strcpy(sc.name, "s");
    assert_int_equal(sub_config_normalize(&sc, &x->q->cfg, NULL), MQ_OK);
    assert_int_equal(sc.max_deliveries, 3);
    assert_int_equal(sc.ack_timeout_ms, TIMEOUT);
    sc.max_deliveries = 7;
    sc.ack_timeout_ms = 5;
    assert_int_equal(sub_config_normalize(&sc, &x->q->cfg, NULL), MQ_OK);
    assert_int_equal(sc.max_deliveries, 7);
    assert_int_equal(sc.ack_timeout_ms, 5);
}

static void test_sub_config_bad_settings_refused(void **state)
{
    struct fix *x = *state;
    struct sub_config sc;
    struct errmsg e = ERRMSG_INIT;
    memset(&sc, 0, sizeof sc);
    assert_int_equal(sub_config_normalize(&sc, &x->q->cfg, &e), MQ_ERR_INVALID);
    assert_string_equal(e.msg, "subscription name is empty");
    strcpy(sc.name, "s");
    sc.start = 9;
    assert_int_equal(sub_config_normalize(&sc, &x->q->cfg, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "start must be"));
    sc.start = MQ_START_SEQ;
    sc.start_seq = 0;
    assert_int_equal(sub_config_normalize(&sc, &x->q->cfg, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "start seq must be at least 1"));
}

static void test_sub_pending_removed_from_queue_forgotten(void **state)
{
    struct fix *x = *state;
    struct sub *s = mksub(x, MQ_START_FIRST, 0, 0);
    add(x, 4);
    expect_deliver(s, x->q, 0, 10, SEQS(1, 2, 3, 4), NULL, 4);
    queue_remove(x->q, 1);
    queue_remove(x->q, 3);
    expect_deliver(s, x->q, TIMEOUT, 10, SEQS(2, 4), ATT(2, 2), 2);
    assert_int_equal(s->dropped, 2);
    assert_int_equal(sub_in_flight(s), 2);
    assert_int_equal(sub_ack_floor(s), 1);
}

static void test_sub_new_messages_skip_removed_seqs(void **state)
{
    struct fix *x = *state;
    struct sub *s = mksub(x, MQ_START_FIRST, 0, 0);
    add(x, 5);
    queue_remove(x->q, 2);
    queue_remove(x->q, 4);
    expect_deliver(s, x->q, 0, 10, SEQS(1, 3, 5), NULL, 3);
    assert_int_equal(s->next_seq, 6);
    /* The cursor moved past the front while the sub was behind. */
    queue_remove(x->q, 1);
    queue_remove(x->q, 3);
    queue_remove(x->q, 5);
    add(x, 1);
    expect_deliver(s, x->q, 0, 10, SEQS(6), NULL, 1);
}

static void test_sub_restore_pending_refuses_bad_order(void **state)
{
    struct fix *x = *state;
    add(x, 5);
    struct sub *s = mksub(x, MQ_START_FIRST, 0, 0);
    s->next_seq = 5;
    assert_int_equal(sub_restore_pending(s, 2, 50, 1), MQ_OK);
    assert_int_equal(sub_restore_pending(s, 2, 50, 1), MQ_ERR_PROTOCOL);
    assert_int_equal(sub_restore_pending(s, 1, 50, 1), MQ_ERR_PROTOCOL);
    assert_int_equal(sub_restore_pending(s, 5, 50, 1), MQ_ERR_PROTOCOL);
    assert_int_equal(sub_restore_pending(s, 4, 40, 3), MQ_OK);
    assert_int_equal(sub_in_flight(s), 2);
    assert_int_equal(sub_next_due(s), 40);
    expect_deliver(s, x->q, 50, 10, SEQS(4, 2, 5), ATT(4, 2, 1), 3);
}

static void test_sub_deliver_oom_reports_no_memory(void **state)
{
    struct fix *x = *state;
    struct sub *s = mksub(x, MQ_START_FIRST, 0, 0);
    struct delivery d[8];
    size_t n = 99;
    add(x, 3);
    test_alloc_fail_at(0);
    assert_int_equal(sub_deliver(s, &x->q->msgs, 0, 8, d, &n),
                     MQ_ERR_NO_MEMORY);
    test_alloc_fail_at(-1);
    assert_int_equal(n, 0);
    assert_int_equal(s->next_seq, 1);
    assert_int_equal(sub_in_flight(s), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_sub_start_new_sees_only_later_messages),
        T(test_sub_start_first_and_seq_positions),
        T(test_sub_delivers_new_in_seq_order_up_to_max),
        T(test_sub_ack_floor_follows_lowest_pending),
        T(test_sub_ack_of_never_delivered_seq_is_invalid),
        T(test_sub_ack_twice_counts_as_already),
        T(test_sub_ack_timeout_redelivers_only_when_due),
        T(test_sub_redelivery_limited_by_max),
        T(test_sub_nack_with_delay_redelivers_after_delay),
        T(test_sub_huge_delay_and_timeout_do_not_wrap),
        T(test_sub_max_deliveries_gives_up_after_last_attempt),
        T(test_sub_max_deliveries_inherited_from_queue),
        T(test_sub_config_bad_settings_refused),
        T(test_sub_pending_removed_from_queue_forgotten),
        T(test_sub_new_messages_skip_removed_seqs),
        T(test_sub_restore_pending_refuses_bad_order),
        T(test_sub_deliver_oom_reports_no_memory),
    };
    return cmocka_run_group_tests_name("sub", tests, NULL, NULL);
}
