/* test_fsm_ids.c: the memory the FSM counts and the bound of remembered
 * ids and statuses: the memory budget counts stored messages only; past
 * the bound the oldest ids, statuses and ack records go first, in one
 * order every replica and a copy restored from a snapshot follow; and the
 * work of an applied Command does not grow with the queues it does not
 * touch. */
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

#define ID_BYTES DEDUP_NOMINAL_BYTES
#define ST_BYTES TOMB_NOMINAL_BYTES
#define ACK_BYTES SUBHIST_ACK_NOMINAL_BYTES

static void apply(struct fsm *f, struct tcmd *t)
{
    struct errmsg e = ERRMSG_INIT;
    mq_err rv = fsm_apply_tcmd(f, t, &e);
    if (rv != MQ_OK) {
        fail_msg("fsm_apply: %d %s", rv, e.msg);
    }
    tcmd_free(t);
}

/* A copy of @f through its snapshot. */
static struct fsm *copy_of(struct fsm *f)
{
    struct blob s = snap_take(f);
    struct fsm *g = fsm_new();
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(fsm_restore(g, s.data, s.len, &e), MQ_OK);
    blob_free(&s);
    return g;
}

/* Applies @t to @f and to a copy of @f restored from its snapshot: both
 * end in the same state (the same records forgotten). */
static void apply_alike(struct fsm *f, struct tcmd *t)
{
    struct fsm *g = copy_of(f);
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(fsm_apply_tcmd(g, t, &e), MQ_OK);
    apply(f, t);
    struct blob a = snap_take(f), b = snap_take(g);
    assert_true(blob_equal(&a, &b));
    assert_int_equal(fsm_ids_bytes(f), fsm_ids_bytes(g));
    blob_free(&a);
    blob_free(&b);
    fsm_free(g);
}

/* A Command at @now with no op but the bound @budget. */
static struct tcmd *bound(uint64_t now, uint64_t budget)
{
    struct tcmd *t = tcmd_new(now);
    tcmd_set_ids_budget(t, budget);
    return t;
}

static void mkqueue(struct fsm *f, uint64_t now, const char *name, int work)
{
    struct tcmd *t = tcmd_new(now);
    Mq__V1__QueueConfig *qc = tcmd_queue_create(t, name);
    if (work) {
        qc->retention = MQ__V1__RETENTION__RETENTION_WORK;
    }
    apply(f, t);
    assert_int_equal(f->ops[0].err, MQ_OK);
}

static void mksub(struct fsm *f, uint64_t now, const char *queue,
                  const char *name)
{
    struct tcmd *t = tcmd_new(now);
    tcmd_sub_create(t, queue, name)->start =
        MQ__V1__START_POSITION__START_FIRST;
    apply(f, t);
    assert_int_equal(f->ops[0].err, MQ_OK);
}

/* Publishes @n messages "@prefix-<i>" to @queue in one Command. */
static void publish_n(struct fsm *f, uint64_t now, const char *queue,
                      const char *prefix, int n)
{
    struct tcmd *t = tcmd_new(now);
    Mq__V1__PublishOp *op = tcmd_publish(t, queue);
    for (int i = 0; i < n; i++) {
        char id[48];
        snprintf(id, sizeof id, "%s-%d", prefix, i);
        struct blob b = pub_blob(id, "payload");
        tcmd_publish_add(t, op, &b);
        blob_free(&b);
    }
    apply(f, t);
    assert_int_equal(f->ops[0].err, MQ_OK);
}

/* Delivers and acks everything subscription @sub of @queue has. */
static void consume_all(struct fsm *f, uint64_t now, const char *queue,
                        const char *sub)
{
    for (;;) {
        struct tcmd *t = tcmd_new(now);
        tcmd_deliver(t, queue, sub, MQ_MAX_BATCH);
        apply(f, t);
        size_t n = f->ops[0].n;
        if (n == 0) {
            return;
        }
        uint64_t *seqs = calloc(n, sizeof *seqs);
        for (size_t i = 0; i < n; i++) {
            seqs[i] = f->dels[f->ops[0].first + i].m->rec.seq;
        }
        t = tcmd_new(now);
        tcmd_ack(t, queue, sub, 0, 0, seqs, n);
        apply(f, t);
        free(seqs);
    }
}

static void test_fsm_memory_budget_ignores_remembered_ids(void **state)
{
    (void)state;
    struct fsm *f = fsm_new();
    mkqueue(f, 1000, "jobs", 1);
    mksub(f, 1000, "jobs", "w");
    /* 1,000 messages pass: none is stored, each is remembered (its id for
     * duplicates, its status, its ack). */
    for (int i = 0; i < 10; i++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "m%d", i);
        publish_n(f, 2000, "jobs", prefix, 100);
        consume_all(f, 2000, "jobs", "w");
    }
    const struct queue *q = fsm_queue(f, "jobs");
    assert_int_equal(q->msgs.n_msgs, 0);
    assert_int_equal(dedup_len(&q->dedup), 1000);
    assert_int_equal(tombs_len(&q->tombs), 1000);
    assert_int_equal(subhist_len(&q->subs[0]->hist), 1000);
    assert_int_equal(fsm_mem_bytes(f), 0); /* what the budget counts */
    assert_int_equal(fsm_ids_bytes(f),
                     1000 * (ID_BYTES + ST_BYTES + ACK_BYTES));

    /* Stored messages and pending deliveries count, exactly. */
    publish_n(f, 3000, "jobs", "kept", 3);
    uint64_t stored = 0;
    for (uint64_t s = q->msgs.first_seq; s <= q->msgs.last_seq; s++) {
        stored += msg_size(queue_get(q, s)) + RING_MSG_OVERHEAD;
    }
    assert_int_equal(fsm_mem_bytes(f), stored);
    struct tcmd *t = tcmd_new(3000);
    tcmd_deliver(t, "jobs", "w", 2);
    apply(f, t);
    assert_int_equal(fsm_mem_bytes(f), stored + 2 * SUB_PENDING_BYTES);
    /* A restored copy counts the same. */
    struct fsm *g = copy_of(f);
    assert_int_equal(fsm_mem_bytes(g), fsm_mem_bytes(f));
    assert_int_equal(fsm_ids_bytes(g), fsm_ids_bytes(f));
    fsm_free(g);
    consume_all(f, 3000, "jobs", "w");
    t = tcmd_new(3000);
    uint64_t seqs[] = {1001, 1002};
    tcmd_ack(t, "jobs", "w", 0, 0, seqs, 2);
    apply(f, t);
    assert_int_equal(fsm_mem_bytes(f), 0);
    fsm_free(f);
}

static void test_fsm_bound_forgets_oldest_first_alike_on_a_copy(void **state)
{
    (void)state;
    struct fsm *f = fsm_new();
    mkqueue(f, 500, "b", 0);
    mkqueue(f, 500, "a", 0);
    mkqueue(f, 500, "w", 1);
    mksub(f, 500, "w", "s");
    publish_n(f, 1000, "b", "b1", 1); /* oldest id, queue b */
    publish_n(f, 2000, "a", "a2", 2); /* then two of a */
    publish_n(f, 3000, "w", "w3", 1); /* then w: id, status, ack at 3000 */
    consume_all(f, 3000, "w", "s");
    publish_n(f, 3000, "b", "b3", 1); /* and b at 3000 too */
    const struct queue *a = fsm_queue(f, "a"), *b = fsm_queue(f, "b"),
                       *w = fsm_queue(f, "w");
    uint64_t total = 5 * ID_BYTES + ST_BYTES + ACK_BYTES;
    assert_int_equal(fsm_ids_bytes(f), total);

    /* At the bound: nothing goes. No bound (0): nothing goes. */
    apply_alike(f, bound(4000, total));
    apply_alike(f, bound(4000, 0));
    assert_int_equal(fsm_ids_bytes(f), total);
    assert_int_equal(f->stats.ids_evicted, 0);

    /* One byte under: the oldest record goes, b's id of 1000 (b's other
     * id, of 3000, stays). */
    apply_alike(f, bound(4000, total - 1));
    assert_int_equal(dedup_len(&b->dedup), 1);
    assert_int_equal(dedup_at(&b->dedup, 0)->at_ms, 3000);
    assert_int_equal(dedup_len(&a->dedup), 2);
    /* Then a's two, of 2000. */
    apply_alike(f, bound(4000, total - 3 * ID_BYTES));
    assert_int_equal(dedup_len(&a->dedup), 0);
    assert_int_equal(f->stats.ids_evicted, 3);
    /* At 3000, the smaller queue name first: b's id goes before w's. */
    apply_alike(f, bound(4000, ID_BYTES + ST_BYTES + ACK_BYTES));
    assert_int_equal(dedup_len(&b->dedup), 0);
    assert_int_equal(dedup_len(&w->dedup), 1);
    /* Within w: its id, then its status, then its ack record. */
    apply_alike(f, bound(4000, ST_BYTES + ACK_BYTES));
    assert_int_equal(dedup_len(&w->dedup), 0);
    assert_int_equal(tombs_len(&w->tombs), 1);
    apply_alike(f, bound(4000, ACK_BYTES));
    assert_int_equal(tombs_len(&w->tombs), 0);
    assert_int_equal(subhist_len(&w->subs[0]->hist), 1);
    apply_alike(f, bound(4000, 1));
    assert_int_equal(subhist_len(&w->subs[0]->hist), 0);
    assert_int_equal(fsm_ids_bytes(f), 0);
    assert_int_equal(f->stats.ids_evicted, 7);

    /* A publish is never refused for them: under a bound of one byte,
     * the new id is stored and then forgotten at once. */
    struct tcmd *t = tcmd_new(5000);
    tcmd_set_ids_budget(t, 1);
    tcmd_publish_msg(t, "a", "late", "payload");
    apply(f, t);
    assert_int_equal(f->pubs[0].err, MQ_OK);
    assert_int_equal(a->msgs.n_msgs, 3);
    assert_int_equal(fsm_ids_bytes(f), 0);
    fsm_free(f);
}

/* An FSM with @n idle queues, each with a subscription, a stored message,
 * an id remembered and a status, nothing due for an hour; and queue
 * "active" with subscription "w". */
static struct fsm *idle_fsm(int n)
{
    struct fsm *f = fsm_new();
    for (int i = 0; i < n; i += 40) { /* 6 ops each */
        struct tcmd *t = tcmd_new(1000);
        for (int k = i; k < i + 40 && k < n; k++) {
            char name[32];
            snprintf(name, sizeof name, "idle-%05d", k);
            Mq__V1__QueueConfig *qc = tcmd_queue_create(t, name);
            qc->max_age_ms = 3600000;
            qc->status_ttl_ms = 3600000;
            qc->duplicate_window_ms = 3600000;
            tcmd_sub_create(t, name, "s")->start =
                MQ__V1__START_POSITION__START_FIRST;
            tcmd_publish_msg(t, name, "gone", "payload");
            tcmd_publish_msg(t, name, "kept", "payload");
            tcmd_purge(t, name); /* a status for each */
            tcmd_publish_msg(t, name, "stored", "payload");
        }
        apply(f, t);
    }
    mkqueue(f, 1000, "active", 1);
    mksub(f, 1000, "active", "w");
    return f;
}

/* Runs 100 Commands on queue "active" (publish 10 new ids "@tag...",
 * deliver, ack) from @now on, with bound @budget; returns the queues apply
 * visited. */
static uint64_t run_active(struct fsm *f, const char *tag, uint64_t now,
                           uint64_t budget)
{
    uint64_t before = f->stats.queues_visited;
    for (int i = 0; i < 100; i++, now += 10) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "%s%d", tag, i);
        struct tcmd *t = tcmd_new(now);
        tcmd_set_ids_budget(t, budget);
        Mq__V1__PublishOp *op = tcmd_publish(t, "active");
        for (int k = 0; k < 10; k++) {
            char id[32];
            snprintf(id, sizeof id, "%s-%d", prefix, k);
            struct blob b = pub_blob(id, "payload");
            tcmd_publish_add(t, op, &b);
            blob_free(&b);
        }
        tcmd_deliver(t, "active", "w", 10);
        apply(f, t);
        uint64_t seqs[10];
        for (size_t k = 0; k < 10; k++) {
            seqs[k] = f->dels[f->ops[1].first + k].m->rec.seq;
        }
        t = tcmd_new(now + 5);
        tcmd_set_ids_budget(t, budget);
        tcmd_ack(t, "active", "w", 0, 0, seqs, 10);
        apply(f, t);
    }
    return f->stats.queues_visited - before;
}

static void test_fsm_apply_cost_does_not_grow_with_idle_queues(void **state)
{
    (void)state;
    /* Before: every applied Command walked every queue (retention) and
     * every publish summed memory over every queue and subscription. Now
     * apply visits the queues its ops change, those whose due time came,
     * and those it forgets ids of: the same work beside 10 idle queues as
     * beside 5,000. */
    struct fsm *small = idle_fsm(10), *large = idle_fsm(5000);
    uint64_t v_small = run_active(small, "a", 2000, 0);
    uint64_t v_large = run_active(large, "a", 2000, 0);
    assert_int_equal(v_small, v_large);
    assert_true(v_large <= 200 * 2); /* the active queue, once per op */
    assert_int_equal(fsm_queue(large, "active")->msgs.n_msgs, 0);

    /* With a bound that forgets as much as each Command adds (the idle
     * queues' records, the oldest, go first): the visits follow what is
     * forgotten, not the number of queues. */
    uint64_t ids = fsm_ids_bytes(large);
    uint64_t evicted = large->stats.ids_evicted;
    uint64_t v_bound = run_active(large, "b", 4000, ids);
    evicted = large->stats.ids_evicted - evicted;
    assert_true(evicted > 0);
    assert_true(fsm_ids_bytes(large) <= ids);
    assert_true(v_bound <= v_large + 2 * evicted);
    fsm_free(small);
    fsm_free(large);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fsm_memory_budget_ignores_remembered_ids),
        cmocka_unit_test(test_fsm_bound_forgets_oldest_first_alike_on_a_copy),
        cmocka_unit_test(test_fsm_apply_cost_does_not_grow_with_idle_queues),
    };
    return cmocka_run_group_tests_name("fsm_ids", tests, NULL, NULL);
}
