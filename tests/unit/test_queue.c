/* test_queue.c: a queue's ring of messages, its limits and retention. */
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

struct fix {
    struct fsm_ctx ctx;
    struct queue *q;
    int n_made;
};

/* A message with payload @payload, seq last_seq + 1, published at @at. */
static struct msg *mk(struct fix *x, const char *payload, uint64_t at)
{
    char id[32];
    struct pub_view v;
    snprintf(id, sizeof id, "id-%d", x->n_made++);
    struct blob b = pub_blob(id, payload);
    assert_int_equal(pub_scan(b.data, b.len, &v, NULL), MQ_OK);
    struct msg *m = msg_new(b.data, b.len, &v, x->q->msgs.last_seq + 1, at, at);
    assert_non_null(m);
    blob_free(&b);
    return m;
}

/* Appends a message and checks it got the next seq. */
static uint64_t add(struct fix *x, const char *payload, uint64_t at)
{
    struct msg *m = mk(x, payload, at);
    uint64_t seq = m->rec.seq;
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(queue_append(x->q, m, 0, &e), MQ_OK);
    assert_int_equal(x->q->msgs.last_seq, seq);
    return seq;
}

static struct fix *fix_new(const struct queue_config *cfg)
{
    struct fix *x = calloc(1, sizeof *x);
    struct queue_config c = *cfg;
    assert_int_equal(queue_config_normalize(&c, NULL), MQ_OK);
    x->q = queue_new(&c, 1000, &x->ctx);
    assert_non_null(x->q);
    return x;
}

static void fix_free(struct fix *x)
{
    queue_free(x->q);
    trash_release(&x->ctx.trash);
    free(x);
}

static struct queue_config config(const char *name)
{
    struct queue_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", name);
    return c;
}

static int setup_plain(void **state)
{
    struct queue_config c = config("orders");
    *state = fix_new(&c);
    return 0;
}

static int setup_reject2(void **state)
{
    struct queue_config c = config("orders");
    c.max_messages = 2;
    c.discard = MQ_DISCARD_REJECT;
    *state = fix_new(&c);
    return 0;
}

static int teardown(void **state)
{
    fix_free(*state);
    return 0;
}

/* Checks the stored seqs are exactly @seqs. */
static void expect_seqs(const struct queue *q, const uint64_t *seqs, size_t n)
{
    size_t k = 0;
    uint64_t bytes = 0;
    for (uint64_t s = q->msgs.first_seq; s <= q->msgs.last_seq; s++) {
        struct msg *m = queue_get(q, s);
        if (m != NULL) {
            assert_true(k < n);
            assert_int_equal(s, seqs[k]);
            assert_int_equal(m->rec.seq, s);
            bytes += m->rec.blob_len;
            k++;
        }
    }
    assert_int_equal(k, n);
    assert_int_equal(q->msgs.n_msgs, n);
    assert_int_equal(q->msgs.n_bytes, bytes);
    if (n > 0) {
        assert_int_equal(q->msgs.first_seq,
                         seqs[0]); /* slot 0 holds a message */
    } else {
        assert_int_equal(q->msgs.first_seq, q->msgs.last_seq + 1);
    }
}

static void test_queue_config_defaults_filled(void **state)
{
    (void)state;
    struct queue_config c = config("q1");
    assert_int_equal(queue_config_normalize(&c, NULL), MQ_OK);
    assert_int_equal(c.max_message_bytes, QUEUE_DEFAULT_MAX_MESSAGE_BYTES);
    assert_int_equal(c.duplicate_window_ms, QUEUE_DEFAULT_DUPLICATE_WINDOW_MS);
    assert_int_equal(c.ack_timeout_ms, QUEUE_DEFAULT_ACK_TIMEOUT_MS);
}

static void test_queue_config_bad_settings_refused(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    struct queue_config c = config("bad name");
    assert_int_equal(queue_config_normalize(&c, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "queue name"));
    c = config("q");
    c.retention = 2;
    assert_int_equal(queue_config_normalize(&c, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "retention"));
    c = config("q");
    c.discard = -1;
    assert_int_equal(queue_config_normalize(&c, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "discard"));
    c = config("q");
    c.max_message_bytes = QUEUE_MAX_MESSAGE_BYTES_LIMIT + 1;
    assert_int_equal(queue_config_normalize(&c, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "max_message_bytes 8388609"));
}

static void test_queue_append_get_remove(void **state)
{
    struct fix *x = *state;
    struct queue *q = x->q;
    assert_null(queue_get(q, 0));
    assert_null(queue_get(q, 1));
    assert_int_equal(add(x, "a", 1), 1);
    assert_int_equal(add(x, "bb", 2), 2);
    assert_int_equal(add(x, "ccc", 3), 3);
    assert_int_equal(queue_get(q, 2)->rec.published_at_ms, 2);
    assert_null(queue_get(q, 4));
    assert_null(queue_get(q, 0));
    queue_remove(q, 2);
    queue_remove(q, 2); /* twice: nothing more */
    queue_remove(q, 99);
    assert_null(queue_get(q, 2));
    expect_seqs(q, (uint64_t[]){1, 3}, 2);
    queue_remove(q, 1);
    expect_seqs(q, (uint64_t[]){3}, 1);
    queue_remove(q, 3);
    expect_seqs(q, NULL, 0);
    assert_int_equal(q->msgs.last_seq, 3);
    assert_int_equal(add(x, "d", 4), 4); /* seqs never restart */
    expect_seqs(q, (uint64_t[]){4}, 1);
}

static void test_queue_ring_grows_across_wrap_around(void **state)
{
    struct fix *x = *state;
    struct queue *q = x->q;
    uint64_t expect[400];
    size_t n = 0;

    for (int i = 0; i < 64; i++) {
        add(x, "m", 1);
    }
    assert_int_equal(q->msgs.cap, 64);
    for (uint64_t s = 1; s <= 40; s++) {
        queue_remove(q, s);
    }
    /* The ring's head is at slot 40; these wrap to slots 0..39. */
    for (int i = 0; i < 40; i++) {
        add(x, "w", 2);
    }
    assert_int_equal(q->msgs.cap, 64);
    assert_int_equal(q->msgs.head, 40);
    /* Full and wrapped: the next append grows the ring. */
    for (int i = 0; i < 200; i++) {
        add(x, "g", 3);
    }
    assert_true(q->msgs.cap >= 264);
    for (uint64_t s = 41; s <= 304; s++) {
        expect[n++] = s;
    }
    expect_seqs(q, expect, n);
    assert_int_equal(queue_get(q, 41)->rec.published_at_ms, 1);
    assert_int_equal(queue_get(q, 65)->rec.published_at_ms, 2);
    assert_int_equal(queue_get(q, 104)->rec.published_at_ms, 2);
    assert_int_equal(queue_get(q, 105)->rec.published_at_ms, 3);
}

static void test_queue_trims_front_after_middle_removals(void **state)
{
    struct fix *x = *state;
    struct queue *q = x->q;
    for (int i = 0; i < 6; i++) {
        add(x, "m", 1);
    }
    queue_remove(q, 2);
    queue_remove(q, 3);
    queue_remove(q, 5);
    assert_int_equal(q->msgs.first_seq, 1);
    queue_remove(q, 1); /* front goes past the empty 2 and 3 */
    assert_int_equal(q->msgs.first_seq, 4);
    expect_seqs(q, (uint64_t[]){4, 6}, 2);
    queue_remove(q, 4);
    assert_int_equal(q->msgs.first_seq, 6);
    queue_remove(q, 6);
    expect_seqs(q, NULL, 0);
    assert_int_equal(q->msgs.first_seq, 7);
}

static void test_queue_append_full_rejects(void **state)
{
    struct fix *x = *state; /* max_messages 2, discard reject */
    struct queue *q = x->q;
    struct errmsg e = ERRMSG_INIT;

    add(x, "a", 1);
    add(x, "b", 2);
    struct msg *m = mk(x, "c", 3);
    assert_int_equal(queue_append(q, m, 0, &e), MQ_ERR_FULL);
    assert_non_null(strstr(e.msg, "queue default/orders is full"));
    assert_non_null(strstr(e.msg, "max_messages 2"));
    expect_seqs(q, (uint64_t[]){1, 2}, 2); /* nothing changed */
    assert_int_equal(q->msgs.last_seq, 2);
    assert_int_equal(queue_check_room(q, 1, &e), MQ_ERR_FULL);
    msg_free(m);
}

static void test_queue_max_bytes_reject_names_limit(void **state)
{
    (void)state;
    struct queue_config c = config("orders");
    c.max_bytes = 40;
    c.discard = MQ_DISCARD_REJECT;
    struct fix *x = fix_new(&c);
    struct errmsg e = ERRMSG_INIT;

    add(x, "0123456789", 1); /* about 20 bytes of PubMessage */
    struct msg *m = mk(x, "0123456789abcdefghijklmnopqrstuvwxyz", 2);
    uint64_t before = x->q->msgs.n_bytes;
    assert_int_equal(queue_append(x->q, m, 0, &e), MQ_ERR_FULL);
    assert_non_null(strstr(e.msg, "max_bytes 40"));
    assert_int_equal(x->q->msgs.n_bytes, before);
    expect_seqs(x->q, (uint64_t[]){1}, 1);
    msg_free(m);
    fix_free(x);
}

static void test_queue_discard_old_drops_oldest(void **state)
{
    (void)state;
    struct queue_config c = config("orders");
    c.max_messages = 3;
    c.discard = MQ_DISCARD_OLD;
    struct fix *x = fix_new(&c);

    for (int i = 0; i < 5; i++) {
        add(x, "m", 1);
    }
    expect_seqs(x->q, (uint64_t[]){3, 4, 5}, 3);
    fix_free(x);

    c.max_messages = 0;
    c.max_bytes = 50;
    x = fix_new(&c);
    add(x, "0123456789", 1);
    add(x, "0123456789", 2);
    uint64_t one = x->q->msgs.n_bytes / 2;
    assert_true(one * 2 <= 50 && one * 3 > 50);
    add(x, "0123456789", 3);
    expect_seqs(x->q, (uint64_t[]){2, 3}, 2);
    /* One message larger than max_bytes alone is still stored. */
    char big[100];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    add(x, big, 4);
    expect_seqs(x->q, (uint64_t[]){4}, 1);
    fix_free(x);
}

static void test_queue_max_age_trim(void **state)
{
    (void)state;
    struct queue_config c = config("orders");
    c.max_age_ms = 100;
    struct fix *x = fix_new(&c);

    add(x, "a", 1000);
    add(x, "b", 1050);
    add(x, "c", 1100);
    queue_trim(x->q, 1099); /* 1000 + 100 > 1099 */
    expect_seqs(x->q, (uint64_t[]){1, 2, 3}, 3);
    queue_trim(x->q, 1100); /* 1000 + 100 <= 1100 */
    expect_seqs(x->q, (uint64_t[]){2, 3}, 2);
    queue_trim(x->q, 5000);
    expect_seqs(x->q, NULL, 0);
    queue_trim(x->q, 6000); /* empty: nothing to do */
    fix_free(x);
}

static void test_queue_huge_max_age_never_trims(void **state)
{
    (void)state;
    /* "Keep forever" spelled as the largest value must not wrap around
     * published_at + max_age and drop everything. */
    struct queue_config c = config("orders");
    c.max_age_ms = UINT64_MAX;
    struct fix *x = fix_new(&c);
    add(x, "a", 1000);
    queue_trim(x->q, 2000);
    expect_seqs(x->q, (uint64_t[]){1}, 1);
    fix_free(x);
}

static struct sub *mksub(struct queue *q, const char *name, int start,
                         uint64_t start_seq)
{
    struct sub_config sc;
    memset(&sc, 0, sizeof sc);
    snprintf(sc.name, sizeof sc.name, "%s", name);
    sc.start = start;
    sc.start_seq = start_seq;
    assert_int_equal(sub_config_normalize(&sc, &q->cfg, NULL), MQ_OK);
    struct sub *s = sub_new(&sc, &q->msgs, 0, q->ctx);
    assert_non_null(s);
    assert_int_equal(queue_add_sub(q, s), MQ_OK);
    return s;
}

static void deliver_all(struct sub *s, struct queue *q, uint64_t now)
{
    struct delivery d[64];
    size_t n;
    assert_int_equal(sub_deliver(s, &q->msgs, now, 64, d, &n), MQ_OK);
}

static void ack(struct sub *s, uint64_t seq)
{
    uint32_t done = 0, already = 0;
    sub_ack(s, &seq, 1, 0, 0, 0, &done, &already);
    assert_int_equal(done, 1);
}

static void test_queue_work_retention_trims_to_lowest_ack_floor(void **state)
{
    (void)state;
    struct queue_config c = config("jobs");
    c.retention = MQ_RETENTION_WORK;
    struct fix *x = fix_new(&c);
    struct queue *q = x->q;

    for (int i = 0; i < 5; i++) {
        add(x, "m", 1);
    }
    /* No subscription: nothing is dropped. */
    queue_trim(q, 10);
    expect_seqs(q, (uint64_t[]){1, 2, 3, 4, 5}, 5);

    struct sub *a = mksub(q, "a", MQ_START_FIRST, 0);
    struct sub *b = mksub(q, "b", MQ_START_FIRST, 0);
    deliver_all(a, q, 10);
    deliver_all(b, q, 10);
    ack(a, 1);
    ack(a, 2);
    ack(a, 3);
    ack(b, 1);
    ack(b, 3); /* b's floor is 1: 2 is pending */
    queue_trim(q, 10);
    expect_seqs(q, (uint64_t[]){2, 3, 4, 5}, 4);
    ack(b, 2);
    queue_trim(q, 10);
    expect_seqs(q, (uint64_t[]){4, 5}, 2);
    /* Deleting the slow subscription frees what the other acked. */
    ack(a, 4);
    assert_int_equal(queue_del_sub(q, "b"), MQ_OK);
    queue_trim(q, 10);
    expect_seqs(q, (uint64_t[]){5}, 1);
    assert_int_equal(queue_del_sub(q, "b"), MQ_ERR_NOT_FOUND);
    assert_ptr_equal(queue_sub(q, "a"), a);
    assert_null(queue_sub(q, "b"));
    fix_free(x);
}

static void test_queue_skip_to_leaves_empty_slots(void **state)
{
    struct fix *x = *state;
    struct queue *q = x->q;

    /* Empty queue: the next seq simply moves. */
    assert_int_equal(queue_skip_to(q, 10), MQ_OK);
    assert_int_equal(q->msgs.first_seq, 10);
    assert_int_equal(q->msgs.last_seq, 9);
    assert_int_equal(add(x, "a", 1), 10);
    /* Non-empty: slots 11..99 are empty, across several ring growths. */
    assert_int_equal(queue_skip_to(q, 100), MQ_OK);
    assert_int_equal(q->msgs.last_seq, 99);
    assert_null(queue_get(q, 50));
    assert_int_equal(add(x, "b", 2), 100);
    expect_seqs(q, (uint64_t[]){10, 100}, 2);
    queue_remove(q, 10);
    expect_seqs(q, (uint64_t[]){100}, 1);
    assert_int_equal(queue_skip_to(q, 101), MQ_OK); /* no-op */
    assert_int_equal(q->msgs.last_seq, 100);
}

static void test_queue_append_oom_leaves_queue_unchanged(void **state)
{
    struct fix *x = *state;
    struct queue *q = x->q;
    for (int i = 0; i < 64; i++) {
        add(x, "m", 1);
    }
    struct msg *m = mk(x, "next", 2);
    struct errmsg e = ERRMSG_INIT;
    test_alloc_fail_at(0);
    assert_int_equal(queue_append(q, m, 0, &e), MQ_ERR_NO_MEMORY);
    test_alloc_fail_at(-1);
    assert_int_equal(q->msgs.last_seq, 64);
    assert_int_equal(q->msgs.n_msgs, 64);
    assert_int_equal(q->msgs.cap, 64);
    assert_int_equal(queue_append(q, m, 0, &e), MQ_OK);
    assert_int_equal(q->msgs.n_msgs, 65);
}

static void test_queue_removed_messages_held_while_trash_holds(void **state)
{
    struct fix *x = *state;
    add(x, "a", 1);
    add(x, "b", 1);
    struct msg *m1 = queue_get(x->q, 1);
    trash_hold(&x->ctx.trash);
    queue_remove(x->q, 1);
    assert_int_equal(x->ctx.trash.n_held, 1);
    /* Still readable (the sanitizer build would catch a free). */
    assert_int_equal(m1->rec.seq, 1);
    trash_release(&x->ctx.trash);
    assert_int_equal(x->ctx.trash.n_held, 0);
    queue_remove(x->q, 2); /* not holding: freed at once */
    assert_int_equal(x->ctx.trash.n_held, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_config_defaults_filled),
        cmocka_unit_test(test_queue_config_bad_settings_refused),
        cmocka_unit_test_setup_teardown(test_queue_append_get_remove,
                                        setup_plain, teardown),
        cmocka_unit_test_setup_teardown(
            test_queue_ring_grows_across_wrap_around, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(
            test_queue_trims_front_after_middle_removals, setup_plain,
            teardown),
        cmocka_unit_test_setup_teardown(test_queue_append_full_rejects,
                                        setup_reject2, teardown),
        cmocka_unit_test(test_queue_max_bytes_reject_names_limit),
        cmocka_unit_test(test_queue_discard_old_drops_oldest),
        cmocka_unit_test(test_queue_max_age_trim),
        cmocka_unit_test(test_queue_huge_max_age_never_trims),
        cmocka_unit_test(test_queue_work_retention_trims_to_lowest_ack_floor),
        cmocka_unit_test_setup_teardown(test_queue_skip_to_leaves_empty_slots,
                                        setup_plain, teardown),
        cmocka_unit_test_setup_teardown(
            test_queue_append_oom_leaves_queue_unchanged, setup_plain,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_queue_removed_messages_held_while_trash_holds, setup_plain,
            teardown),
    };
    return cmocka_run_group_tests_name("queue", tests, NULL, NULL);
}
