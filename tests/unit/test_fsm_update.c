/* test_fsm_update.c: queue update (QueueUpdateOp) applied by the FSM: the
 * settings named change on every replica alike and survive a snapshot;
 * lowered limits hold at once; bad updates change nothing; a create with
 * other settings names the settings that differ. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fsm.h"
#include "fsm_helpers.h"

static int setup(void **state)
{
    struct fsm *f = fsm_new();
    assert_non_null(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fsm_free(*state);
    return 0;
}

/* Applies @t (then frees it); fails the test unless fsm_apply is MQ_OK. */
static void apply(struct fsm *f, struct tcmd *t)
{
    struct errmsg e = ERRMSG_INIT;
    mq_err rv = fsm_apply_tcmd(f, t, &e);
    if (rv != MQ_OK) {
        fail_msg("fsm_apply: %d %s", rv, e.msg);
    }
    tcmd_free(t);
}

static void create_queue(struct fsm *f, uint64_t now, const char *name)
{
    struct tcmd *t = tcmd_new(now);
    tcmd_queue_create(t, name);
    apply(f, t);
    assert_int_equal(f->ops[0].err, MQ_OK);
}

static void publish_n(struct fsm *f, uint64_t now, const char *queue, int n)
{
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "m-%d", i);
        struct tcmd *t = tcmd_new(now);
        tcmd_publish_msg(t, queue, id, "payload");
        apply(f, t);
        assert_int_equal(f->ops[0].err, MQ_OK);
    }
}

static int config_equal(const struct queue_config *a,
                        const struct queue_config *b)
{
    char diff[256];
    return queue_config_diff(a, b, diff, sizeof diff) == 0 &&
           strcmp(a->name, b->name) == 0;
}

static void test_update_changes_named_settings_only(void **state)
{
    struct fsm *f = *state;
    create_queue(f, 1000, "orders");
    struct queue *q = fsm_queue(f, "orders");
    struct queue_config before = q->cfg;

    struct tcmd *t = tcmd_new(2000);
    Mq__V1__QueueConfig *qc =
        tcmd_queue_update(t, "default/orders",
                          MQ_QUEUE_SET_MAX_MESSAGES | MQ_QUEUE_SET_ACK_TIMEOUT);
    qc->max_messages = 500;
    qc->ack_timeout_ms = 60000;
    qc->max_bytes = 12345; /* not named in set: ignored */
    apply(f, t);
    assert_int_equal(f->ops[0].err, MQ_OK);
    assert_ptr_equal(fsm_queue(f, "orders"), q);
    assert_int_equal(q->cfg.max_messages, 500);
    assert_int_equal(q->cfg.ack_timeout_ms, 60000);
    assert_int_equal(q->cfg.max_bytes, before.max_bytes);
    assert_int_equal(q->created_at_ms, 1000);

    /* A second update of another setting keeps the first. */
    t = tcmd_new(3000);
    tcmd_queue_update(t, "default/orders", MQ_QUEUE_SET_DEAD_LETTER_QUEUE)
        ->dead_letter_queue = "default/orders-dead";
    apply(f, t);
    assert_int_equal(f->ops[0].err, MQ_OK);
    assert_int_equal(q->cfg.max_messages, 500);
    assert_string_equal(q->cfg.dead_letter_queue, "default/orders-dead");

    /* 0 means the default, as at create. */
    t = tcmd_new(4000);
    tcmd_queue_update(t, "default/orders",
                      MQ_QUEUE_SET_ACK_TIMEOUT |
                          MQ_QUEUE_SET_DEAD_LETTER_QUEUE);
    apply(f, t);
    assert_int_equal(f->ops[0].err, MQ_OK);
    assert_int_equal(q->cfg.ack_timeout_ms, QUEUE_DEFAULT_ACK_TIMEOUT_MS);
    assert_string_equal(q->cfg.dead_letter_queue, "default/orders.dlq");
}

static void test_update_survives_snapshot_and_restore(void **state)
{
    struct fsm *f = *state;
    struct errmsg e = ERRMSG_INIT;
    create_queue(f, 1000, "orders");
    publish_n(f, 1000, "orders", 3);
    struct tcmd *t = tcmd_new(2000);
    Mq__V1__QueueConfig *qc = tcmd_queue_update(
        t, "default/orders",
        MQ_QUEUE_SET_DISCARD | MQ_QUEUE_SET_MAX_BYTES | MQ_QUEUE_SET_MAX_AGE |
            MQ_QUEUE_SET_DUPLICATE_WINDOW | MQ_QUEUE_SET_MAX_DELIVERIES |
            MQ_QUEUE_SET_DELAY | MQ_QUEUE_SET_MAX_DELAY |
            MQ_QUEUE_SET_STATUS_TTL | MQ_QUEUE_SET_STATUS_MAX |
            MQ_QUEUE_SET_MAX_MESSAGE_BYTES);
    qc->discard = MQ__V1__DISCARD__DISCARD_REJECT;
    qc->max_bytes = 1 << 20;
    qc->max_age_ms = 86400000;
    qc->duplicate_window_ms = 300000;
    qc->max_deliveries = 7;
    qc->delay_ms = 1500;
    qc->max_delay_ms = 3600000;
    qc->status_ttl_ms = 600000;
    qc->status_max = 99;
    qc->max_message_bytes = 4096;
    apply(f, t);
    assert_int_equal(f->ops[0].err, MQ_OK);
    const struct queue *q = fsm_queue(f, "orders");
    assert_int_equal(q->cfg.discard, MQ_DISCARD_REJECT);
    assert_int_equal(q->cfg.max_deliveries, 7);
    assert_int_equal(q->msgs.n_msgs, 3);

    struct blob s = snap_take(f);
    struct fsm *g = fsm_new();
    assert_non_null(g);
    assert_int_equal(fsm_restore(g, s.data, s.len, &e), MQ_OK);
    const struct queue *r = fsm_queue(g, "orders");
    assert_non_null(r);
    assert_true(config_equal(&q->cfg, &r->cfg));
    assert_int_equal(r->cfg.max_message_bytes, 4096);
    assert_int_equal(r->cfg.status_max, 99);
    assert_int_equal(r->msgs.n_msgs, 3);
    /* The restored replica snapshots to the same bytes. */
    struct blob s2 = snap_take(g);
    assert_true(blob_equal(&s, &s2));
    blob_free(&s);
    blob_free(&s2);
    fsm_free(g);
}

static void
test_update_lowered_limit_drops_oldest_under_discard_old(void **state)
{
    struct fsm *f = *state;
    create_queue(f, 1000, "orders");
    publish_n(f, 1000, "orders", 5);
    const struct queue *q = fsm_queue(f, "orders");
    assert_int_equal(q->msgs.n_msgs, 5);

    struct tcmd *t = tcmd_new(2000);
    tcmd_queue_update(t, "default/orders", MQ_QUEUE_SET_MAX_MESSAGES)
        ->max_messages = 2;
    apply(f, t);
    assert_int_equal(f->ops[0].err, MQ_OK);
    assert_int_equal(q->msgs.n_msgs, 2);
    assert_int_equal(q->msgs.first_seq, 4);
    /* Their statuses say expired. */
    assert_int_equal(tombs_len(&q->tombs), 3);
}

static void test_update_lowered_limit_keeps_messages_under_reject(void **state)
{
    struct fsm *f = *state;
    struct tcmd *t = tcmd_new(1000);
    tcmd_queue_create(t, "jobs")->discard = MQ__V1__DISCARD__DISCARD_REJECT;
    apply(f, t);
    publish_n(f, 1000, "jobs", 4);
    t = tcmd_new(2000);
    tcmd_queue_update(t, "default/jobs", MQ_QUEUE_SET_MAX_MESSAGES)
        ->max_messages = 2;
    apply(f, t);
    assert_int_equal(f->ops[0].err, MQ_OK);
    const struct queue *q = fsm_queue(f, "jobs");
    assert_int_equal(q->msgs.n_msgs, 4);
    /* The next publish is refused until there is room. */
    t = tcmd_new(2001);
    tcmd_publish_msg(t, "default/jobs", "late", "x");
    apply(f, t);
    assert_int_equal(f->ops[0].err, MQ_OK);
    assert_int_equal(f->ops[0].n, 1);
    assert_int_equal(f->pubs[f->ops[0].first].err, MQ_ERR_FULL);
    assert_int_equal(q->msgs.n_msgs, 4);
}

static void test_update_lowered_max_age_trims_at_once(void **state)
{
    struct fsm *f = *state;
    create_queue(f, 1000, "aged");
    publish_n(f, 1000, "aged", 2);
    struct tcmd *t = tcmd_new(9000);
    tcmd_publish_msg(t, "default/aged", "new", "x");
    apply(f, t);
    t = tcmd_new(10000);
    tcmd_queue_update(t, "default/aged", MQ_QUEUE_SET_MAX_AGE)->max_age_ms =
        5000;
    apply(f, t);
    assert_int_equal(f->ops[0].err, MQ_OK);
    const struct queue *q = fsm_queue(f, "aged");
    /* Published at 1000: older than 5 s at 10000; the one of 9000 stays. */
    assert_int_equal(q->msgs.n_msgs, 1);
    assert_int_equal(q->msgs.first_seq, 3);
}

static void test_update_bad_values_refused_nothing_changes(void **state)
{
    struct fsm *f = *state;
    create_queue(f, 1000, "orders");
    struct queue *q = fsm_queue(f, "orders");
    struct queue_config before = q->cfg;

    struct tcmd *t = tcmd_new(2000);
    tcmd_queue_update(t, "default/orders", MQ_QUEUE_SET_MAX_MESSAGE_BYTES)
        ->max_message_bytes = 9u << 20;
    tcmd_queue_update(t, "default/orders", MQ_QUEUE_SET_DELAY)->delay_ms =
        40ull * 86400000;
    tcmd_queue_update(t, "default/orders", MQ_QUEUE_SET_DEAD_LETTER_QUEUE)
        ->dead_letter_queue = "default/orders";
    tcmd_queue_update(t, "default/orders", MQ_QUEUE_SET_DISCARD)->discard = 9;
    tcmd_queue_update(t, "default/orders", 1u << 2)->retention =
        MQ__V1__RETENTION__RETENTION_WORK;
    tcmd_queue_update(t, "default/orders", 0);
    tcmd_queue_update(t, "default/orders", MQ_QUEUE_SET_DEAD_LETTER_QUEUE)
        ->dead_letter_queue = "bad name";
    apply(f, t);
    assert_int_equal(f->n_ops, 7);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(f->ops[i].err, MQ_ERR_INVALID);
        assert_non_null(strstr(f->ops[i].e.msg, "queue update"));
    }
    assert_non_null(strstr(f->ops[0].e.msg, "max_message_bytes"));
    assert_non_null(strstr(f->ops[1].e.msg, "delay_ms"));
    assert_non_null(strstr(f->ops[2].e.msg, "its own dead-letter queue"));
    assert_non_null(strstr(f->ops[3].e.msg, "discard"));
    assert_non_null(strstr(f->ops[4].e.msg, "retention cannot change"));
    assert_non_null(strstr(f->ops[5].e.msg, "no setting to change"));
    assert_non_null(strstr(f->ops[6].e.msg, "dead_letter_queue"));
    assert_true(config_equal(&q->cfg, &before));
}

static void test_update_unknown_queue_not_found(void **state)
{
    struct fsm *f = *state;
    struct tcmd *t = tcmd_new(1000);
    tcmd_queue_update(t, "default/nope", MQ_QUEUE_SET_MAX_MESSAGES)
        ->max_messages = 3;
    apply(f, t);
    assert_int_equal(f->ops[0].err, MQ_ERR_NOT_FOUND);
    assert_non_null(strstr(f->ops[0].e.msg, "queue default/nope does not"));
    assert_int_equal(f->n_queues, 0);
}

static void test_create_other_settings_names_differences(void **state)
{
    struct fsm *f = *state;
    struct tcmd *t = tcmd_new(1000);
    tcmd_queue_create(t, "orders")->max_messages = 1000;
    apply(f, t);
    t = tcmd_new(2000);
    Mq__V1__QueueConfig *qc = tcmd_queue_create(t, "orders");
    qc->max_messages = 500;
    qc->ack_timeout_ms = 60000;
    qc->max_bytes = 1 << 20;
    apply(f, t);
    assert_int_equal(f->ops[0].err, MQ_ERR_EXISTS);
    const char *msg = f->ops[0].e.msg;
    assert_non_null(strstr(msg, "queue default/orders exists with other "
                                "settings: "));
    assert_non_null(strstr(msg, "max_messages is 1000, not 500"));
    assert_non_null(strstr(msg, "max_bytes is 0, not 1MiB"));
    assert_non_null(strstr(msg, "ack_timeout_ms is 30s, not 1m"));
    assert_null(strstr(msg, "retention"));
    assert_int_equal(fsm_queue(f, "orders")->cfg.max_messages, 1000);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_update_changes_named_settings_only),
        T(test_update_survives_snapshot_and_restore),
        T(test_update_lowered_limit_drops_oldest_under_discard_old),
        T(test_update_lowered_limit_keeps_messages_under_reject),
        T(test_update_lowered_max_age_trims_at_once),
        T(test_update_bad_values_refused_nothing_changes),
        T(test_update_unknown_queue_not_found),
        T(test_create_other_settings_names_differences),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
