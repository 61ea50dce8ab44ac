/* test_snapshot.c: snapshots are deterministic, restore gives back the same
 * state, bad snapshots change nothing, and every allocation failure is
 * clean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include <cmocka.h>

#include "alloc.h"
#include "cmd.h"
#include "fsm.h"
#include "fsm_helpers.h"
#include "raft.pb-c.h"

/* The scenario's state as a snapshot. */
static int setup(void **state)
{
    struct fsm *f = fsm_new();
    struct blob *snap = malloc(sizeof *snap);
    scenario_apply(f);
    *snap = snap_take(f);
    fsm_free(f);
    *state = snap;
    return 0;
}

static int teardown(void **state)
{
    blob_free(*state);
    free(*state);
    return 0;
}

static struct fsm *restored(const struct blob *snap)
{
    struct fsm *f = fsm_new();
    struct errmsg e = ERRMSG_INIT;
    mq_err rv = fsm_restore(f, snap->data, snap->len, &e);
    if (rv != MQ_OK) {
        fail_msg("fsm_restore: %d %s", rv, e.msg);
    }
    return f;
}

/* Commands to apply after the scenario, touching every part of the state. */
static struct tcmd *more(int i)
{
    struct tcmd *t = tcmd_new(21000 + 400 * (uint64_t)i);
    switch (i % 4) {
    case 0:
        tcmd_deliver(t, "jobs", "w1", 10);
        tcmd_deliver(t, "jobs", "w2", 10);
        tcmd_deliver(t, "orders", "audit", 10);
        tcmd_deliver(t, "aged", "a1", 10);
        break;
    case 1:
        for (uint64_t s = 1; s < 12; s++) {
            tcmd_ack(t, "jobs", "w1", 0, 0, &s, 1);
            tcmd_ack(t, "jobs", "w2", (int)(s % 2), 50, &s, 1);
            tcmd_ack(t, "orders", "audit", 0, 0, &s, 1);
        }
        break;
    case 2:
        tcmd_publish_msg(t, "orders", "o-1", "dup?"); /* remembered */
        tcmd_publish_msg(t, "orders", "o-9", "new");
        tcmd_publish_msg(t, "jobs", "j-1", "dup?");
        tcmd_publish_msg(t, "jobs", "j-9", "new");
        tcmd_publish_msg(t, "aged", "a-9", "new");
        break;
    default:
        tcmd_sub_create(t, "orders", "late")->start =
            MQ__V1__START_POSITION__START_FIRST;
        tcmd_deliver(t, "orders", "late", 2);
        break;
    }
    return t;
}

/* Everything the results of the last Command say, as text. */
static void results(const struct fsm *f, char *out, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_ops && n < size; i++) {
        const struct fsm_op_result *r = &f->ops[i];
        n += (size_t)snprintf(out + n, size - n, "op %d %s %zu %zu %u %u;",
                              r->err, r->e.msg, r->first, r->n, r->done,
                              r->already);
    }
    for (size_t i = 0; i < f->n_pubs && n < size; i++) {
        const struct fsm_pub *p = &f->pubs[i];
        n += (size_t)snprintf(out + n, size - n, "pub %d %d %llu;", p->err,
                              p->duplicate, (unsigned long long)p->seq);
    }
    for (size_t i = 0; i < f->n_dels && n < size; i++) {
        const struct delivery *d = &f->dels[i];
        n += (size_t)snprintf(out + n, size - n, "del %llu %u;",
                              (unsigned long long)d->m->rec.seq, d->attempt);
    }
}

static void test_snapshot_same_commands_give_identical_bytes(void **state)
{
    const struct blob *snap = *state;
    struct fsm *f = fsm_new();
    scenario_apply(f);
    struct blob again = snap_take(f);
    assert_true(blob_equal(snap, &again));
    /* Taking it twice gives the same bytes, too. */
    blob_free(&again);
    again = snap_take(f);
    assert_true(blob_equal(snap, &again));
    blob_free(&again);
    fsm_free(f);
}

static void test_snapshot_empty_fsm_is_header_only(void **state)
{
    (void)state;
    struct fsm *f = fsm_new();
    struct blob b = snap_take(f);
    assert_int_equal(b.len, 24);
    assert_memory_equal(b.data, "MQSNAP01", 8);
    struct fsm *g = restored(&b);
    assert_int_equal(g->n_queues, 0);
    blob_free(&b);
    fsm_free(f);
    fsm_free(g);
}

static void test_snapshot_restore_gives_same_bytes(void **state)
{
    const struct blob *snap = *state;
    struct fsm *f = restored(snap);
    struct blob again = snap_take(f);
    assert_true(blob_equal(snap, &again));
    /* The scenario's three queues, and the dead-letter queue that its
     * max_deliveries filled. */
    assert_int_equal(f->n_queues, 4);
    assert_int_equal(f->now_ms, 20000);
    blob_free(&again);
    fsm_free(f);
}

static void test_snapshot_restored_fsm_behaves_like_original(void **state)
{
    const struct blob *snap = *state;
    struct fsm *orig = fsm_new();
    scenario_apply(orig);
    struct fsm *copy = restored(snap);
    static char ra[16384], rb[16384];

    for (int i = 0; i < 12; i++) {
        struct tcmd *t = more(i);
        struct errmsg e = ERRMSG_INIT;
        assert_int_equal(fsm_apply_tcmd(orig, t, &e), MQ_OK);
        assert_int_equal(fsm_apply_tcmd(copy, t, &e), MQ_OK);
        results(orig, ra, sizeof ra);
        results(copy, rb, sizeof rb);
        assert_string_equal(ra, rb);
        struct blob sa = snap_take(orig), sb = snap_take(copy);
        assert_true(blob_equal(&sa, &sb));
        blob_free(&sa);
        blob_free(&sb);
        tcmd_free(t);
    }
    fsm_free(orig);
    fsm_free(copy);
}

/* Applies @t (then frees it), expecting MQ_OK. */
static void apply_ok(struct fsm *f, struct tcmd *t)
{
    struct errmsg e = ERRMSG_INIT;
    mq_err rv = fsm_apply_tcmd(f, t, &e);
    if (rv != MQ_OK) {
        fail_msg("fsm_apply: %d %s", rv, e.msg);
    }
    tcmd_free(t);
}

/* @f's snapshot restores into a fresh FSM whose snapshot is the same
 * bytes. */
static void expect_round_trip(struct fsm *f)
{
    struct blob s1 = snap_take(f);
    struct fsm *g = restored(&s1);
    struct blob s2 = snap_take(g);
    assert_true(blob_equal(&s1, &s2));
    blob_free(&s1);
    blob_free(&s2);
    fsm_free(g);
}

static void
test_snapshot_reject_queue_past_max_bytes_by_redrive_restores(void **state)
{
    (void)state;
    /* A redrive stores "with force": a "reject" queue takes a message over
     * its max_bytes. Restore refused that state ("queue default/dst: message
     * 1: queue default/dst is full: max_bytes 100 reached"), wedging every
     * node that took the snapshot. */
    char big[151];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct fsm *f = fsm_new();
    struct tcmd *t = tcmd_new(1000);
    tcmd_queue_create(t, "src");
    Mq__V1__QueueConfig *qc = tcmd_queue_create(t, "dst");
    qc->max_bytes = 100;
    qc->discard = MQ__V1__DISCARD__DISCARD_REJECT;
    tcmd_publish_msg(t, "src", "s-1", big);
    tcmd_redrive(t, "src", "dst", 10);
    apply_ok(f, t);
    assert_int_equal(f->ops[3].err, MQ_OK);
    assert_int_equal(f->ops[3].done, 1);
    const struct queue *dst = fsm_queue(f, "dst");
    assert_int_equal(dst->msgs.n_msgs, 1);
    assert_true(dst->msgs.n_bytes > 100);
    expect_round_trip(f);
    fsm_free(f);
}

static void test_snapshot_reject_dlq_past_max_bytes_restores(void **state)
{
    (void)state;
    /* Dead letters move "with force" too: a dead-letter queue created by
     * hand with max_bytes 60 and discard reject takes a dead letter of more
     * (its headers alone say where it came from). */
    struct fsm *f = fsm_new();
    struct tcmd *t = tcmd_new(1000);
    Mq__V1__QueueConfig *qc = tcmd_queue_create(t, "parked");
    qc->max_bytes = 60;
    qc->discard = MQ__V1__DISCARD__DISCARD_REJECT;
    qc = tcmd_queue_create(t, "orders");
    qc->dead_letter_queue = "parked";
    qc->max_deliveries = 1;
    qc->ack_timeout_ms = 100;
    tcmd_sub_create(t, "orders", "s");
    tcmd_publish_msg(t, "orders", "a", "x");
    tcmd_deliver(t, "orders", "s", 10);
    apply_ok(f, t);
    t = tcmd_new(2000); /* ack deadline passed: max deliveries reached */
    tcmd_deliver(t, "orders", "s", 10);
    apply_ok(f, t);
    const struct queue *parked = fsm_queue(f, "parked");
    assert_int_equal(parked->msgs.n_msgs, 1);
    assert_true(parked->msgs.n_bytes > 60);
    expect_round_trip(f);
    fsm_free(f);
}

static void test_snapshot_restore_replaces_existing_state(void **state)
{
    const struct blob *snap = *state;
    struct fsm *f = fsm_new();
    struct tcmd *t = tcmd_new(99999);
    tcmd_queue_create(t, "other");
    tcmd_publish_msg(t, "other", "x", "y");
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(fsm_apply_tcmd(f, t, &e), MQ_OK);
    tcmd_free(t);
    assert_int_equal(fsm_restore(f, snap->data, snap->len, &e), MQ_OK);
    assert_null(fsm_queue(f, "other"));
    assert_int_equal(f->now_ms, 20000); /* the snapshot's clock */
    struct blob again = snap_take(f);
    assert_true(blob_equal(snap, &again));
    blob_free(&again);
    fsm_free(f);
}

static void test_snapshot_removed_messages_readable_until_done(void **state)
{
    (void)state;
    struct fsm *f = fsm_new();
    scenario_apply(f);
    struct blob before = snap_take(f);
    struct raft_buffer *bufs = NULL;
    unsigned n = 0;
    struct errmsg e = ERRMSG_INIT;

    assert_int_equal(fsm_snapshot(f, &bufs, &n), MQ_OK);
    /* One queue is taken now; the others before they change, or after. */
    assert_false(fsm_snapshot_step(f, 1));
    /* A second one while this one is outstanding is refused. */
    struct raft_buffer *bufs2 = NULL;
    unsigned n2 = 0;
    assert_int_equal(fsm_snapshot(f, &bufs2, &n2), MQ_ERR_INTERNAL);

    /* Remove messages every way: ack (work retention), discard old, max
     * age, queue delete, and restore over the whole state. */
    struct tcmd *t = tcmd_new(30000);
    for (uint64_t s = 1; s < 12; s++) {
        tcmd_ack(t, "jobs", "w1", 0, 0, &s, 1);
        tcmd_ack(t, "jobs", "w2", 0, 0, &s, 1);
    }
    Mq__V1__PublishOp *op = tcmd_publish(t, "orders");
    for (int i = 0; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof id, "flood-%d", i);
        struct blob b = pub_blob(id, "flood");
        tcmd_publish_add(t, op, &b);
        blob_free(&b);
    }
    tcmd_queue_delete(t, "aged");
    assert_int_equal(fsm_apply_tcmd(f, t, &e), MQ_OK);
    tcmd_free(t);
    for (int i = 0; i < 3; i++) {
        t = tcmd_new(40000 + (uint64_t)i); /* ends the results' hold */
        assert_int_equal(fsm_apply_tcmd(f, t, &e), MQ_OK);
        tcmd_free(t);
    }
    struct fsm *other = fsm_new();
    struct blob empty = snap_take(other);
    assert_int_equal(fsm_restore(f, empty.data, empty.len, &e), MQ_OK);
    assert_int_equal(f->n_queues, 0);
    blob_free(&empty);
    fsm_free(other);

    /* The encoder runs now, on raft's thread pool, and raft writes the
     * buffers after: they hold the state fsm_snapshot saw (the sanitizer
     * build catches a read of freed memory). */
    assert_int_equal(fsm_snapshot_encode(f, &bufs, &n), MQ_OK);
    t = tcmd_new(45000); /* apply goes on while raft writes */
    tcmd_queue_create(t, "late");
    tcmd_publish_msg(t, "late", "late-1", "payload");
    assert_int_equal(fsm_apply_tcmd(f, t, &e), MQ_OK);
    tcmd_free(t);
    struct blob during = snap_concat(bufs, n);
    assert_true(blob_equal(&before, &during));
    fsm_snapshot_done(f, &bufs, &n);
    assert_null(bufs);
    assert_int_equal(n, 0);
    /* What the restore replaced stays until the next Command, since the
     * last results may point into it. */
    t = tcmd_new(50000);
    assert_non_null(fsm_queue(f, "late"));
    assert_int_equal(fsm_apply_tcmd(f, t, &e), MQ_OK);
    tcmd_free(t);
    assert_int_equal(f->ctx.trash.n_held, 0);
    /* Done twice does no harm. */
    fsm_snapshot_done(f, &bufs, &n);
    blob_free(&during);
    blob_free(&before);
    fsm_free(f);
}

/* fsm_restore of @bad must fail and leave @f as @before says. */
static void expect_restore_refused(struct fsm *f, const uint8_t *bad,
                                   size_t len, const struct blob *before)
{
    struct errmsg e = ERRMSG_INIT;
    uint8_t *copy = malloc(len ? len : 1); /* exact size for the sanitizer */
    memcpy(copy, bad, len);
    mq_err rv = fsm_restore(f, copy, len, &e);
    free(copy);
    assert_int_equal(rv, MQ_ERR_PROTOCOL);
    assert_true(e.msg[0] != '\0');
    struct blob after = snap_take(f);
    assert_true(blob_equal(before, &after));
    blob_free(&after);
}

static struct fsm *small_state(struct blob *snap)
{
    struct fsm *f = fsm_new();
    struct tcmd *t = tcmd_new(5);
    tcmd_queue_create(t, "keep");
    tcmd_publish_msg(t, "keep", "k", "v");
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(fsm_apply_tcmd(f, t, &e), MQ_OK);
    tcmd_free(t);
    *snap = snap_take(f);
    return f;
}

static void test_snapshot_truncated_refused_state_unchanged(void **state)
{
    const struct blob *snap = *state;
    struct blob before;
    struct fsm *f = small_state(&before);
    for (size_t len = 0; len < snap->len; len++) {
        expect_restore_refused(f, snap->data, len, &before);
    }
    /* One byte too many. */
    uint8_t *longer = malloc(snap->len + 1);
    memcpy(longer, snap->data, snap->len);
    longer[snap->len] = 0;
    expect_restore_refused(f, longer, snap->len + 1, &before);
    free(longer);
    blob_free(&before);
    fsm_free(f);
}

static void test_snapshot_corrupted_bytes_refused_or_consistent(void **state)
{
    const struct blob *snap = *state;
    struct blob before;
    struct fsm *f = small_state(&before);
    uint8_t *bad = malloc(snap->len);
    uint64_t seed = 2024;
    int refused = 0;

    for (int round = 0; round < 3000; round++) {
        memcpy(bad, snap->data, snap->len);
        int flips = 1 + (int)(test_rand(&seed) % 3);
        for (int k = 0; k < flips; k++) {
            bad[test_rand(&seed) % snap->len] ^=
                (uint8_t)(1u << (test_rand(&seed) % 8));
        }
        struct fsm *g = fsm_new();
        struct errmsg e = ERRMSG_INIT;
        mq_err rv = fsm_restore(g, bad, snap->len, &e);
        if (rv == MQ_OK) {
            /* A flip the format cannot see (a payload byte, a counter):
             * the state must still be self-consistent: it snapshots,
             * restores to the same bytes, and applies Commands. */
            struct blob s1 = snap_take(g);
            struct fsm *h = restored(&s1);
            struct blob s2 = snap_take(h);
            assert_true(blob_equal(&s1, &s2));
            for (int i = 0; i < 4; i++) {
                struct tcmd *t = more(i);
                assert_int_equal(fsm_apply_tcmd(h, t, &e), MQ_OK);
                tcmd_free(t);
            }
            blob_free(&s1);
            blob_free(&s2);
            fsm_free(h);
        } else {
            assert_int_equal(rv, MQ_ERR_PROTOCOL);
            refused++;
            expect_restore_refused(f, bad, snap->len, &before);
        }
        fsm_free(g);
    }
    assert_true(refused > 0);
    free(bad);
    blob_free(&before);
    fsm_free(f);
}

static void test_snapshot_random_bytes_refused(void **state)
{
    (void)state;
    struct blob before;
    struct fsm *f = small_state(&before);
    uint64_t seed = 5;
    uint8_t buf[512];
    for (int round = 0; round < 2000; round++) {
        size_t len = (size_t)(test_rand(&seed) % sizeof buf);
        for (size_t i = 0; i < len; i++) {
            buf[i] = (uint8_t)test_rand(&seed);
        }
        if (round % 2 && len >= 24) { /* a good magic, random rest */
            memcpy(buf, "MQSNAP01", 8);
        }
        expect_restore_refused(f, buf, len, &before);
    }
    expect_restore_refused(f, (const uint8_t *)"MQSNAP02", 8, &before);
    blob_free(&before);
    fsm_free(f);
}

static void test_snapshot_bad_header_named(void **state)
{
    const struct blob *snap = *state;
    struct fsm *f = fsm_new();
    struct errmsg e = ERRMSG_INIT;
    uint8_t *bad = malloc(snap->len + 5);
    memcpy(bad, snap->data, snap->len);
    bad[7] = '2';
    assert_int_equal(fsm_restore(f, bad, snap->len, &e), MQ_ERR_PROTOCOL);
    assert_non_null(strstr(e.msg, "not an mq snapshot"));
    memcpy(bad, snap->data, snap->len);
    memset(bad + snap->len, 0, 5);
    assert_int_equal(fsm_restore(f, bad, snap->len + 5, &e), MQ_ERR_PROTOCOL);
    assert_non_null(strstr(e.msg, "5 bytes after the last queue"));
    assert_int_equal(fsm_restore(f, bad, snap->len - 3, &e), MQ_ERR_PROTOCOL);
    assert_non_null(strstr(e.msg, "queue"));
    assert_int_equal(f->n_queues, 0);
    free(bad);
    fsm_free(f);
}

static void test_snapshot_restore_survives_every_oom(void **state)
{
    const struct blob *snap = *state;
    struct blob before;
    struct fsm *f = small_state(&before);
    for (int n = 0;; n++) {
        struct errmsg e = ERRMSG_INIT;
        test_alloc_fail_at(n); /* allocation n fails; -1: none */
        mq_err rv = fsm_restore(f, snap->data, snap->len, &e);
        test_alloc_fail_at(-1);
        if (rv == MQ_OK) {
            break; /* every failure point has been visited */
        }
        assert_int_equal(rv, MQ_ERR_NO_MEMORY);
        struct blob after = snap_take(f);
        assert_true(blob_equal(&before, &after)); /* unchanged */
        blob_free(&after);
    }
    struct blob again = snap_take(f);
    assert_true(blob_equal(snap, &again));
    blob_free(&again);
    blob_free(&before);
    fsm_free(f); /* the sanitizer build reports any leak */
}

static void test_snapshot_take_survives_every_oom(void **state)
{
    const struct blob *snap = *state;
    struct fsm *f = restored(snap);
    for (int n = 0;; n++) {
        struct raft_buffer *bufs = NULL;
        unsigned nb = 0;
        test_alloc_fail_at(n);
        mq_err rv = fsm_snapshot(f, &bufs, &nb);
        int taken = rv == MQ_OK;
        if (taken) {
            assert_true(fsm_snapshot_step(f, SIZE_MAX));
            rv = fsm_snapshot_encode(f, &bufs, &nb);
        }
        test_alloc_fail_at(-1);
        if (rv == MQ_OK) {
            struct blob b = snap_concat(bufs, nb);
            assert_true(blob_equal(snap, &b));
            blob_free(&b);
            fsm_snapshot_done(f, &bufs, &nb);
            break;
        }
        assert_int_equal(rv, MQ_ERR_NO_MEMORY);
        if (taken) { /* raft calls done whatever the encoder said */
            assert_non_null(f->snap);
            fsm_snapshot_done(f, &bufs, &nb);
        }
        assert_null(f->snap); /* a later snapshot may be taken */
        assert_int_equal(f->ctx.trash.snapshots, 0);
    }
    fsm_free(f);
}

/* A one-queue snapshot: queue q (2 messages), sub s with seq 1 pending. */
static struct blob one_queue_snap(void)
{
    struct fsm *f = fsm_new();
    struct tcmd *t = tcmd_new(100);
    struct errmsg e = ERRMSG_INIT;
    tcmd_queue_create(t, "q");
    tcmd_sub_create(t, "q", "s")->start = MQ__V1__START_POSITION__START_FIRST;
    tcmd_publish_msg(t, "q", "1", "one");
    tcmd_publish_msg(t, "q", "2", "two");
    tcmd_deliver(t, "q", "s", 1);
    assert_int_equal(fsm_apply_tcmd(f, t, &e), MQ_OK);
    tcmd_free(t);
    struct blob b = snap_take(f);
    fsm_free(f);
    return b;
}

/* Rebuilds a one-queue snapshot with its QueueSnap changed by @mut and, if
 * @rec_seq is not 0, the first message record's seq set to it. */
static struct blob resnap(const struct blob *snap,
                          void (*mut)(Mq__V1__QueueSnap *), uint64_t rec_seq)
{
    uint32_t qlen;
    memcpy(&qlen, snap->data + 24, 4);
    Mq__V1__QueueSnap *qs =
        mq__v1__queue_snap__unpack(NULL, qlen, snap->data + 32);
    assert_non_null(qs);
    if (mut) {
        mut(qs);
    }
    size_t nlen = mq__v1__queue_snap__get_packed_size(qs);
    size_t rest = snap->len - 32 - qlen;
    struct blob b = {malloc(32 + nlen + rest), 32 + nlen + rest};
    memcpy(b.data, snap->data, 24);
    uint32_t hdr[2] = {(uint32_t)nlen, 0};
    memcpy(b.data + 24, hdr, 8);
    mq__v1__queue_snap__pack(qs, b.data + 32);
    memcpy(b.data + 32 + nlen, snap->data + 32 + qlen, rest);
    if (rec_seq != 0) {
        memcpy(b.data + 32 + nlen, &rec_seq, 8);
    }
    mq__v1__queue_snap__free_unpacked(qs, NULL);
    return b;
}

static void expect_resnap_refused(void (*mut)(Mq__V1__QueueSnap *),
                                  uint64_t rec_seq, const char *words)
{
    struct blob good = one_queue_snap();
    struct blob bad = resnap(&good, mut, rec_seq);
    struct fsm *f = fsm_new();
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(fsm_restore(f, bad.data, bad.len, &e), MQ_ERR_PROTOCOL);
    if (strstr(e.msg, words) == NULL) {
        fail_msg("restore error \"%s\" lacks \"%s\"", e.msg, words);
    }
    assert_int_equal(f->n_queues, 0);
    fsm_free(f);
    blob_free(&bad);
    blob_free(&good);
}

static void no_change(Mq__V1__QueueSnap *qs)
{
    (void)qs;
}

static void pending_seq_zero(Mq__V1__QueueSnap *qs)
{
    qs->subs[0]->pending[0]->seq = 0;
}

static void sub_twice(Mq__V1__QueueSnap *qs)
{
    uint8_t buf[512];
    size_t n = mq__v1__sub_snap__get_packed_size(qs->subs[0]);
    assert_true(n <= sizeof buf);
    mq__v1__sub_snap__pack(qs->subs[0], buf);
    qs->subs = realloc(qs->subs, 2 * sizeof *qs->subs);
    qs->subs[1] = mq__v1__sub_snap__unpack(NULL, n, buf);
    qs->n_subs = 2;
}

static void cursor_zero(Mq__V1__QueueSnap *qs)
{
    qs->subs[0]->next_seq = 0;
}

static void last_seq_max(Mq__V1__QueueSnap *qs)
{
    qs->last_seq = UINT64_MAX;
}

static void last_seq_far(Mq__V1__QueueSnap *qs)
{
    qs->last_seq = 1ull << 40;
}

static void n_msgs_one(Mq__V1__QueueSnap *qs)
{
    qs->n_msgs = 1;
}

static void limit_below_contents(Mq__V1__QueueSnap *qs)
{
    qs->config->max_messages = 1;
    qs->config->discard = MQ__V1__DISCARD__DISCARD_REJECT;
}

static void limit_drops_contents(Mq__V1__QueueSnap *qs)
{
    qs->config->max_messages = 1; /* discard old */
}

static void test_snapshot_rebuilt_unchanged_restores(void **state)
{
    (void)state;
    struct blob good = one_queue_snap();
    struct blob same = resnap(&good, no_change, 0);
    assert_true(blob_equal(&good, &same));
    blob_free(&same);
    blob_free(&good);
}

static void test_snapshot_impossible_states_refused(void **state)
{
    (void)state;
    /* States the FSM never reaches, which restore must not accept: each
     * would break an invariant later (a pending seq 0 makes the ack floor
     * wrap; two subscriptions of one name; a cursor at 0). */
    expect_resnap_refused(pending_seq_zero, 0, "bad pending seq 0");
    expect_resnap_refused(sub_twice, 0, "appears twice");
    expect_resnap_refused(cursor_zero, 0, "no cursor");
    expect_resnap_refused(n_msgs_one, 0, "bytes after the last queue");
}

/* Restores the one-queue snapshot changed by @mut; expects its 2 messages. */
static void expect_resnap_restored(void (*mut)(Mq__V1__QueueSnap *))
{
    struct blob good = one_queue_snap();
    struct blob changed = resnap(&good, mut, 0);
    struct fsm *f = restored(&changed);
    assert_int_equal(f->n_queues, 1);
    assert_int_equal(f->queues[0]->msgs.n_msgs, 2);
    expect_round_trip(f);
    fsm_free(f);
    blob_free(&changed);
    blob_free(&good);
}

static void test_snapshot_limits_not_checked_at_restore(void **state)
{
    (void)state;
    /* Limits are apply's to check: restore takes what the snapshot holds,
     * neither refusing it nor dropping any of it. */
    expect_resnap_restored(limit_below_contents);
    expect_resnap_restored(limit_drops_contents);
}

static void test_snapshot_huge_seq_gaps_refused_quickly(void **state)
{
    (void)state;
    /* A corrupted seq used to make restore allocate and fill ring slots
     * for every seq in the gap: hours and all memory. */
    expect_resnap_refused(last_seq_max, 0, "out of range");
    expect_resnap_refused(last_seq_far, 0, "removed seqs");
    expect_resnap_refused(NULL, 1ull << 58, "out of order");
}

static void test_snapshot_message_gap_refused_quickly(void **state)
{
    (void)state;
    struct blob good = one_queue_snap();
    /* The second record's seq, far past the first: the first record is
     * 32 bytes plus its blob. */
    uint32_t qlen;
    memcpy(&qlen, good.data + 24, 4);
    uint8_t *rec1 = good.data + 32 + qlen;
    uint32_t blob_len;
    memcpy(&blob_len, rec1 + 24, 4);
    uint8_t *rec2 = rec1 + 32 + blob_len;
    uint64_t seq = 1ull << 50;
    memcpy(rec2, &seq, 8);
    /* last_seq must allow it, or the error is "out of order". */
    struct blob bad = resnap(&good, last_seq_far, 0);
    struct fsm *f = fsm_new();
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(fsm_restore(f, bad.data, bad.len, &e), MQ_ERR_PROTOCOL);
    assert_non_null(strstr(e.msg, "out of order")); /* 2^50 > 2^40 */
    blob_free(&bad);
    seq = 1ull << 30;
    bad = resnap(&good, last_seq_far, 0);
    memcpy(bad.data + (rec2 - good.data) + (bad.len - good.len), &seq, 8);
    assert_int_equal(fsm_restore(f, bad.data, bad.len, &e), MQ_ERR_PROTOCOL);
    assert_non_null(strstr(e.msg, "removed seqs"));
    blob_free(&bad);
    blob_free(&good);
    fsm_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_same_commands_give_identical_bytes),
        cmocka_unit_test(test_snapshot_empty_fsm_is_header_only),
        cmocka_unit_test(test_snapshot_restore_gives_same_bytes),
        cmocka_unit_test(test_snapshot_restored_fsm_behaves_like_original),
        cmocka_unit_test(
            test_snapshot_reject_queue_past_max_bytes_by_redrive_restores),
        cmocka_unit_test(test_snapshot_reject_dlq_past_max_bytes_restores),
        cmocka_unit_test(test_snapshot_restore_replaces_existing_state),
        cmocka_unit_test(test_snapshot_removed_messages_readable_until_done),
        cmocka_unit_test(test_snapshot_truncated_refused_state_unchanged),
        cmocka_unit_test(test_snapshot_corrupted_bytes_refused_or_consistent),
        cmocka_unit_test(test_snapshot_random_bytes_refused),
        cmocka_unit_test(test_snapshot_bad_header_named),
        cmocka_unit_test(test_snapshot_restore_survives_every_oom),
        cmocka_unit_test(test_snapshot_take_survives_every_oom),
        cmocka_unit_test(test_snapshot_rebuilt_unchanged_restores),
        cmocka_unit_test(test_snapshot_impossible_states_refused),
        cmocka_unit_test(test_snapshot_limits_not_checked_at_restore),
        cmocka_unit_test(test_snapshot_huge_seq_gaps_refused_quickly),
        cmocka_unit_test(test_snapshot_message_gap_refused_quickly),
    };
    return cmocka_run_group_tests_name("snapshot", tests, setup, teardown);
}
