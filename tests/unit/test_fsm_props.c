/* test_fsm_props.c: properties of the state machine over random Command
 * sequences (random_cmd, deterministic seeds): every state apply produces
 * snapshots, restores, and snapshots again to the same bytes, and the
 * restored copy goes on exactly like the original. The sequences are
 * checked to reach the states that matter (queues past their limits after
 * moves "with force", dead letters, redrives, purges, delays), so that the
 * property is not tested on easy states only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "fsm.h"
#include "fsm_helpers.h"

#define N_SEEDS 1000
#define N_CMDS 60
#define CHECK_EVERY 15

/* What the sequences reached, over all seeds. */
struct reach {
    int over_limits; /* a "reject" queue past max_bytes or max_messages */
    int redriven, dead_letters, purged, delayed, discarded;
    int refused_full;
};

static void count_reach(const struct fsm *f, struct reach *rc)
{
    for (size_t i = 0; i < f->n_pubs; i++) {
        rc->refused_full += f->pubs[i].err == MQ_ERR_FULL;
    }
    for (size_t i = 0; i < f->n_queues; i++) {
        const struct queue *q = f->queues[i];
        if (q->cfg.discard == MQ_DISCARD_REJECT &&
            ((q->cfg.max_bytes && q->msgs.n_bytes > q->cfg.max_bytes) ||
             (q->cfg.max_messages && q->msgs.n_msgs > q->cfg.max_messages))) {
            rc->over_limits++;
        }
        rc->delayed += q->msgs.n_delayed > 0;
        for (size_t k = 0; k < tombs_len(&q->tombs); k++) {
            int st = tomb_state(tombs_at(&q->tombs, k));
            rc->purged += st == TOMB_PURGED;
            rc->discarded += st == TOMB_EXPIRED;
            rc->redriven += st == TOMB_REDRIVEN;
        }
        for (size_t j = 0; j < q->n_subs; j++) {
            rc->dead_letters += q->subs[j]->dead_lettered > 0;
        }
    }
}

/* Restores @f's snapshot into a new FSM, which must snapshot to the same
 * bytes; returns it. */
static struct fsm *round_trip(struct fsm *f, uint64_t seed, int at)
{
    struct blob s1 = snap_take(f);
    struct fsm *g = fsm_new();
    struct errmsg e = ERRMSG_INIT;
    mq_err rv = fsm_restore(g, s1.data, s1.len, &e);
    if (rv != MQ_OK) {
        fail_msg("seed %llu command %d: restore: %d %s",
                 (unsigned long long)seed, at, rv, e.msg);
    }
    struct blob s2 = snap_take(g);
    if (!blob_equal(&s1, &s2)) {
        fail_msg("seed %llu command %d: second snapshot differs",
                 (unsigned long long)seed, at);
    }
    blob_free(&s1);
    blob_free(&s2);
    return g;
}

/* The results of the last Command of @a and @b are the same. */
static void assert_same_results(const struct fsm *a, const struct fsm *b)
{
    assert_int_equal(a->n_ops, b->n_ops);
    assert_int_equal(a->n_pubs, b->n_pubs);
    assert_int_equal(a->n_dels, b->n_dels);
    for (size_t i = 0; i < a->n_ops; i++) {
        assert_int_equal(a->ops[i].err, b->ops[i].err);
        assert_string_equal(a->ops[i].e.msg, b->ops[i].e.msg);
        assert_int_equal(a->ops[i].done, b->ops[i].done);
        assert_int_equal(a->ops[i].already, b->ops[i].already);
        assert_int_equal(a->ops[i].n, b->ops[i].n);
        assert_int_equal(a->ops[i].remaining, b->ops[i].remaining);
    }
    for (size_t i = 0; i < a->n_pubs; i++) {
        assert_int_equal(a->pubs[i].err, b->pubs[i].err);
        assert_int_equal(a->pubs[i].seq, b->pubs[i].seq);
        assert_int_equal(a->pubs[i].duplicate, b->pubs[i].duplicate);
    }
    for (size_t i = 0; i < a->n_dels; i++) {
        assert_int_equal(a->dels[i].m->rec.seq, b->dels[i].m->rec.seq);
        assert_int_equal(a->dels[i].attempt, b->dels[i].attempt);
    }
}

static void apply_ok(struct fsm *f, struct tcmd *t, uint64_t seed, int at)
{
    struct errmsg e = ERRMSG_INIT;
    mq_err rv = fsm_apply_tcmd(f, t, &e);
    if (rv != MQ_OK) {
        fail_msg("seed %llu command %d: apply: %d %s", (unsigned long long)seed,
                 at, rv, e.msg);
    }
}

static void test_fsm_props_every_state_restores_to_same_bytes(void **state)
{
    (void)state;
    struct reach rc = {0};
    for (uint64_t seed = 1; seed <= N_SEEDS; seed++) {
        struct fsm *f = fsm_new();
        uint64_t rs = seed, now = 1000;
        for (int i = 1; i <= N_CMDS; i++) {
            struct tcmd *t = random_cmd(f, &rs, &now);
            apply_ok(f, t, seed, i);
            tcmd_free(t);
            count_reach(f, &rc);
            if (i % CHECK_EVERY != 0) {
                continue;
            }
            /* The restored copy snapshots to the same bytes and goes on
             * like the original: the next Commands give the same results
             * and the same state. */
            struct fsm *g = round_trip(f, seed, i);
            uint64_t rs2 = rs, now2 = now;
            for (int k = 0; k < 3; k++) {
                struct tcmd *u = random_cmd(f, &rs2, &now2);
                apply_ok(f, u, seed, i + k);
                apply_ok(g, u, seed, i + k);
                assert_same_results(f, g);
                tcmd_free(u);
            }
            struct blob a = snap_take(f), b = snap_take(g);
            assert_true(blob_equal(&a, &b));
            blob_free(&a);
            blob_free(&b);
            fsm_free(g);
        }
        fsm_free(f);
    }
    printf("reached: %d states past a reject queue's limits, %d redriven, "
           "%d subscriptions with dead letters, %d purged and %d "
           "discarded or expired statuses, %d publishes refused full, %d "
           "queues with delayed messages\n",
           rc.over_limits, rc.redriven, rc.dead_letters, rc.purged,
           rc.discarded, rc.refused_full, rc.delayed);
    assert_true(rc.over_limits > 0);
    assert_true(rc.redriven > 0);
    assert_true(rc.dead_letters > 0);
    assert_true(rc.purged > 0);
    assert_true(rc.discarded > 0);
    assert_true(rc.refused_full > 0);
    assert_true(rc.delayed > 0);
}

/* @f's snapshot without its clock (bytes 8..15 of the header). */
static struct blob snap_no_clock(struct fsm *f)
{
    struct blob b = snap_take(f);
    memset(b.data + 8, 0, 8);
    return b;
}

/* A copy of @f, through a snapshot. */
static struct fsm *copy_of(struct fsm *f)
{
    struct blob s = snap_take(f);
    struct fsm *g = fsm_new();
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(fsm_restore(g, s.data, s.len, &e), MQ_OK);
    blob_free(&s);
    return g;
}

static void apply_time_only(struct fsm *f, uint64_t now_ms)
{
    struct tcmd *t = tcmd_new(now_ms);
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(fsm_apply_tcmd(f, t, &e), MQ_OK);
    tcmd_free(t);
}

static void test_fsm_props_nothing_falls_due_before_next_due(void **state)
{
    (void)state;
    /* fsm_next_due is when the leader proposes the time on an idle
     * cluster: were anything to change by time alone before it, that
     * change would wait for unrelated traffic. So, on a state settled at
     * its own time (a Command without ops at now_ms: apply also trims
     * what is not time-driven, such as messages every subscription of a
     * "work" queue passed), a Command without ops just before the next
     * due time changes nothing but the clock. And the next due time is
     * never in the past, else the leader would propose the time again and
     * again. */
    int checked = 0, never = 0;
    for (uint64_t seed = 2001; seed <= 2150; seed++) {
        struct fsm *f = fsm_new();
        uint64_t rs = seed, now = 1000;
        for (int i = 1; i <= 40; i++) {
            struct tcmd *t = random_cmd(f, &rs, &now);
            apply_ok(f, t, seed, i);
            tcmd_free(t);
            assert_true(fsm_next_due(f) > f->now_ms);
            if (i % 4 != 0) {
                continue;
            }
            struct fsm *g = copy_of(f);
            apply_time_only(g, g->now_ms); /* settled */
            uint64_t due = fsm_next_due(g);
            assert_true(due > g->now_ms);
            uint64_t before =
                due == UINT64_MAX ? g->now_ms + 40ull * 86400000 : due - 1;
            struct fsm *h = copy_of(g);
            apply_time_only(h, before);
            struct blob a = snap_no_clock(g), b = snap_no_clock(h);
            if (!blob_equal(&a, &b)) {
                fail_msg("seed %llu command %d: a Command at %llu, before "
                         "the next due time %llu, changed the state",
                         (unsigned long long)seed, i,
                         (unsigned long long)before, (unsigned long long)due);
            }
            blob_free(&a);
            blob_free(&b);
            /* The copy, restored, works the due time out again: never
             * earlier than the original's (a bound kept as it went). */
            assert_true(fsm_next_due(h) > h->now_ms);
            fsm_free(h);
            fsm_free(g);
            g = round_trip(f, seed, i);
            assert_true(fsm_next_due(g) >= fsm_next_due(f));
            fsm_free(g);
            checked++;
            never += due == UINT64_MAX;
        }
        fsm_free(f);
    }
    printf("%d states checked, %d with nothing due\n", checked, never);
    assert_true(checked > never);
}

/* The time of the oldest record of FIFO @rank of @q (0 its ids, 1 its
 * statuses, 2 + i the acks of subscription i), or UINT64_MAX. */
static uint64_t head_time(const struct queue *q, size_t rank)
{
    if (rank == 0) {
        return dedup_len(&q->dedup) ? dedup_at(&q->dedup, 0)->at_ms
                                    : UINT64_MAX;
    }
    if (rank == 1) {
        return tombs_len(&q->tombs) ? tomb_gone_at(tombs_at(&q->tombs, 0))
                                    : UINT64_MAX;
    }
    const struct subhist *h = &q->subs[rank - 2]->hist;
    return subhist_len(h) ? subhist_at(h, 0)->at_ms : UINT64_MAX;
}

/* The bound as evict.h states it, done the plain way: while over
 * @budget, look at every FIFO of every queue (queues in name order, FIFOs
 * in rank order) and drop the head with the earliest time. */
static void evict_by_hand(struct fsm *g, uint64_t budget)
{
    while (fsm_ids_bytes(g) > budget) {
        struct queue *best = NULL;
        size_t best_rank = 0;
        uint64_t best_t = UINT64_MAX;
        for (size_t i = 0; i < g->n_queues; i++) {
            struct queue *q = g->queues[i];
            for (size_t r = 0; r < 2 + q->n_subs; r++) {
                uint64_t t = head_time(q, r);
                if (t < best_t) {
                    best_t = t;
                    best = q;
                    best_rank = r;
                }
            }
        }
        assert_non_null(best);
        if (best_rank == 0) {
            dedup_pop(&best->dedup);
        } else if (best_rank == 1) {
            tombs_pop(&best->tombs);
        } else {
            subhist_pop(&best->subs[best_rank - 2]->hist);
        }
    }
}

static void
test_fsm_props_bound_forgets_oldest_first_alike_everywhere(void **state)
{
    (void)state;
    /* Random sequences under a small bound of ids and statuses (a few
     * dozen records), changed now and then. After each Command: the
     * total is within the bound; the records left are those of the same
     * Command applied without a bound to a copy restored from the state
     * before it, then forgotten by hand oldest first (evict_by_hand); and
     * that copy, applying the Command itself, gets there too. */
    uint64_t evicted = 0, commands = 0;
    for (uint64_t seed = 3001; seed <= 3200; seed++) {
        struct fsm *f = fsm_new();
        uint64_t rs = seed, now = 1000;
        uint64_t budget = 100 + test_rand(&rs) % 2000;
        for (int i = 1; i <= 40; i++) {
            struct tcmd *t = random_cmd(f, &rs, &now);
            if (i % 10 == 0) {
                budget = test_rand(&rs) % 5 ? 100 + test_rand(&rs) % 2000 : 0;
            }
            struct blob before = snap_take(f);
            struct fsm *g = fsm_new(), *h = fsm_new();
            struct errmsg e = ERRMSG_INIT;
            assert_int_equal(fsm_restore(g, before.data, before.len, &e),
                             MQ_OK);
            assert_int_equal(fsm_restore(h, before.data, before.len, &e),
                             MQ_OK);
            apply_ok(g, t, seed, i); /* no bound */
            tcmd_set_ids_budget(t, budget);
            uint64_t ev = f->stats.ids_evicted;
            apply_ok(f, t, seed, i);
            apply_ok(h, t, seed, i);
            evicted += f->stats.ids_evicted - ev;
            commands++;
            if (budget != 0) {
                assert_true(fsm_ids_bytes(f) <= budget);
                evict_by_hand(g, budget);
            }
            struct blob a = snap_take(f), b = snap_take(g), c = snap_take(h);
            if (!blob_equal(&a, &b) || !blob_equal(&a, &c)) {
                fail_msg("seed %llu command %d: the bound of %llu forgot "
                         "other records than the oldest (by hand: %s; on a "
                         "restored copy: %s)",
                         (unsigned long long)seed, i,
                         (unsigned long long)budget,
                         blob_equal(&a, &b) ? "same" : "differs",
                         blob_equal(&a, &c) ? "same" : "differs");
            }
            assert_int_equal(fsm_ids_bytes(f), fsm_ids_bytes(h));
            blob_free(&a);
            blob_free(&b);
            blob_free(&c);
            blob_free(&before);
            fsm_free(g);
            fsm_free(h);
            tcmd_free(t);
        }
        fsm_free(f);
    }
    printf("%llu commands, %llu records forgotten\n",
           (unsigned long long)commands, (unsigned long long)evicted);
    assert_true(evicted > commands); /* the bound was at work */
}

static void
test_fsm_props_snapshot_taken_while_applying_is_the_state_at_its_start(
    void **state)
{
    (void)state;
    /* A snapshot begins (fsm_snapshot), then random Commands (under a
     * small bound now and then, so that ids are forgotten, and with time
     * moving, so that trims fall due) are applied between steps that take
     * a few queues each, until every queue is taken; raft's thread pool
     * then encodes it while more Commands apply. The bytes are those of a
     * snapshot taken at once when it began, and they restore to a state
     * whose snapshot is the same bytes again. */
    int taken_early = 0, checked = 0;
    for (uint64_t seed = 4001; seed <= 4300; seed++) {
        struct fsm *f = fsm_new();
        uint64_t rs = seed, now = 1000;
        for (int i = 1; i <= 30; i++) {
            struct tcmd *t = random_cmd(f, &rs, &now);
            apply_ok(f, t, seed, i);
            tcmd_free(t);
            if (i % 10 != 0) {
                continue;
            }
            struct blob want = snap_take(f);
            struct raft_buffer *bufs = NULL;
            unsigned n = 0;
            assert_int_equal(fsm_snapshot(f, &bufs, &n), MQ_OK);
            int done = 0, k = 0;
            while (!done || k < 3) {
                if (done || test_rand(&rs) % 4 != 0) {
                    struct tcmd *u = random_cmd(f, &rs, &now);
                    if (test_rand(&rs) % 3 == 0) {
                        tcmd_set_ids_budget(u, 200 + test_rand(&rs) % 1500);
                    }
                    size_t before = f->stats.queues_visited;
                    apply_ok(f, u, seed, i + k);
                    taken_early += f->stats.queues_visited > before && !done;
                    tcmd_free(u);
                    k++;
                } else {
                    done = fsm_snapshot_step(f, test_rand(&rs) % 2);
                }
            }
            assert_int_equal(fsm_snapshot_encode(f, &bufs, &n), MQ_OK);
            struct tcmd *u = random_cmd(f, &rs, &now); /* raft writes */
            apply_ok(f, u, seed, i + k);
            tcmd_free(u);
            struct blob got = snap_concat(bufs, n);
            fsm_snapshot_done(f, &bufs, &n);
            if (!blob_equal(&want, &got)) {
                fail_msg("seed %llu command %d: the snapshot taken while "
                         "applying differs from the state at its start",
                         (unsigned long long)seed, i);
            }
            struct fsm *g = fsm_new();
            struct errmsg e = ERRMSG_INIT;
            assert_int_equal(fsm_restore(g, got.data, got.len, &e), MQ_OK);
            struct blob again = snap_take(g);
            assert_true(blob_equal(&want, &again));
            blob_free(&again);
            blob_free(&got);
            blob_free(&want);
            fsm_free(g);
            checked++;
        }
        fsm_free(f);
    }
    printf("%d snapshots checked, %d Commands applied before every queue "
           "was taken\n",
           checked, taken_early);
    assert_true(taken_early > checked);
}

/* Applies @entry to a copy of the state in @before with allocation @n
 * failing. Returns fsm_apply's code; on MQ_OK, *@after is the copy's
 * snapshot. The copy is freed either way (the sanitizer build reports a
 * leak or a double free on the failure path). */
static mq_err apply_failing(const struct blob *before, const struct blob *entry,
                            long n, struct blob *after, struct errmsg *e)
{
    struct fsm *g = fsm_new();
    struct errmsg re = ERRMSG_INIT;
    assert_int_equal(fsm_restore(g, before->data, before->len, &re), MQ_OK);
    test_alloc_fail_at(n);
    mq_err rv = fsm_apply(g, entry->data, entry->len, e);
    test_alloc_fail_at(-1);
    if (rv == MQ_OK) {
        *after = snap_take(g);
    }
    fsm_free(g);
    return rv;
}

#define PROBE_MAX 4096

/* How many allocations applying @entry to the state in @before makes. */
static long count_allocations(const struct blob *before,
                              const struct blob *entry)
{
    struct fsm *g = fsm_new();
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(fsm_restore(g, before->data, before->len, &e), MQ_OK);
    test_alloc_fail_at(PROBE_MAX);
    assert_int_equal(fsm_apply(g, entry->data, entry->len, &e), MQ_OK);
    /* The failure point counts down with every allocation: what is left
     * of it says how many apply made. */
    long left = 0;
    for (void *p; (p = mq_malloc(1)) != NULL; left++) {
        free(p);
    }
    test_alloc_fail_at(-1);
    fsm_free(g);
    assert_true(left > 0); /* PROBE_MAX was enough */
    return PROBE_MAX - left;
}

static void
test_fsm_props_oom_in_apply_never_changes_state_silently(void **state)
{
    (void)state;
    /* Every allocation of every Command of random sequences fails in turn.
     * Apply must then either report MQ_ERR_NO_MEMORY (the node stops and
     * replays its log) or have done exactly what it does with memory: a
     * failure it swallowed and that changed what it did would make this
     * replica differ from the others. */
    long failures = 0, points = 0;
    for (uint64_t seed = 1001; seed <= 1040; seed++) {
        struct fsm *f = fsm_new();
        uint64_t rs = seed, now = 1000;
        for (int i = 1; i <= 40; i++) {
            struct tcmd *t = random_cmd(f, &rs, &now);
            struct blob entry = tcmd_entry(t);
            struct blob before = snap_take(f);
            struct errmsg e = ERRMSG_INIT;
            long n_allocs = count_allocations(&before, &entry);
            assert_int_equal(fsm_apply(f, entry.data, entry.len, &e), MQ_OK);
            struct blob want = snap_take(f);
            for (long n = 0; n < n_allocs; n++) {
                struct blob got = {NULL, 0};
                mq_err rv = apply_failing(&before, &entry, n, &got, &e);
                points++;
                if (rv == MQ_OK) {
                    if (!blob_equal(&want, &got)) {
                        fail_msg("seed %llu command %d: allocation %ld of "
                                 "%ld failed, apply said OK, and the state "
                                 "differs",
                                 (unsigned long long)seed, i, n, n_allocs);
                    }
                    blob_free(&got);
                    continue;
                }
                if (rv != MQ_ERR_NO_MEMORY) {
                    fail_msg("seed %llu command %d: allocation %ld failed: "
                             "%d %s",
                             (unsigned long long)seed, i, n, rv, e.msg);
                }
                failures++;
            }
            blob_free(&want);
            blob_free(&before);
            entry_free(&entry);
            tcmd_free(t);
        }
        fsm_free(f);
    }
    printf("%ld allocation failure points, %ld reported out of memory\n",
           points, failures);
    assert_true(failures > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fsm_props_every_state_restores_to_same_bytes),
        cmocka_unit_test(
            test_fsm_props_oom_in_apply_never_changes_state_silently),
        cmocka_unit_test(test_fsm_props_nothing_falls_due_before_next_due),
        cmocka_unit_test(
            test_fsm_props_bound_forgets_oldest_first_alike_everywhere),
        cmocka_unit_test(
            test_fsm_props_snapshot_taken_while_applying_is_the_state_at_its_start),
    };
    return cmocka_run_group_tests_name("fsm_props", tests, NULL, NULL);
}
