/* fuzz_common.c: checks shared by the FSM fuzz targets. */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mq.pb-c.h"

void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    abort();
}

static struct blob base_entry;

struct fsm *fuzz_base_fsm(void)
{
    struct fsm *f = fsm_new();
    struct errmsg e = ERRMSG_INIT;
    FUZZ_CHECK(f != NULL);
    if (base_entry.data == NULL) {
        struct tcmd *t = tcmd_new(1000);
        Mq__V1__QueueConfig *qc = tcmd_queue_create(t, "q");
        qc->max_messages = 8;
        qc->duplicate_window_ms = 1000;
        qc->ack_timeout_ms = 100;
        qc->max_deliveries = 3;
        qc = tcmd_queue_create(t, "w");
        qc->retention = MQ__V1__RETENTION__RETENTION_WORK;
        qc->discard = MQ__V1__DISCARD__DISCARD_REJECT;
        qc->max_messages = 16;
        qc->max_age_ms = 5000;
        tcmd_sub_create(t, "q", "s")->start =
            MQ__V1__START_POSITION__START_FIRST;
        tcmd_sub_create(t, "w", "a")->start =
            MQ__V1__START_POSITION__START_FIRST;
        tcmd_sub_create(t, "w", "b");
        /* Moves "with force" (dead letters, redrives) fill "r" and its
         * dead-letter queue "d" past their limits. */
        qc = tcmd_queue_create(t, "d");
        qc->discard = MQ__V1__DISCARD__DISCARD_REJECT;
        qc->max_bytes = 100;
        qc = tcmd_queue_create(t, "r");
        qc->discard = MQ__V1__DISCARD__DISCARD_REJECT;
        qc->max_bytes = 200;
        qc->max_deliveries = 1;
        qc->ack_timeout_ms = 100;
        qc->dead_letter_queue = "d";
        qc->delay_ms = 50;
        tcmd_sub_create(t, "r", "x")->start =
            MQ__V1__START_POSITION__START_FIRST;
        tcmd_publish_msg(t, "r", "1", "one");
        tcmd_publish_msg(t, "q", "1", "one");
        tcmd_publish_msg(t, "q", "2", "two");
        tcmd_publish_msg(t, "w", "1", "one");
        tcmd_publish_msg(t, "w", "2", "two");
        tcmd_deliver(t, "q", "s", 1);
        base_entry = tcmd_entry(t); /* kept for the process's life */
        tcmd_free(t);
    }
    FUZZ_CHECK(fsm_apply(f, base_entry.data, base_entry.len, &e) == MQ_OK);
    return f;
}

void fuzz_check_deliveries(const struct fsm *f)
{
    for (size_t i = 0; i < f->n_dels; i++) {
        const struct delivery *d = &f->dels[i];
        size_t len = msg_delivery_size(d->m, d->attempt);
        uint8_t *buf = malloc(len);
        FUZZ_CHECK(buf != NULL);
        FUZZ_CHECK(msg_encode_delivery(d->m, d->attempt, buf) == buf + len);
        Mq__V1__Delivery *dv = mq__v1__delivery__unpack(NULL, len, buf);
        FUZZ_CHECK(dv != NULL);
        FUZZ_CHECK(dv->seq == d->m->rec.seq);
        FUZZ_CHECK(dv->attempt == d->attempt);
        FUZZ_CHECK(dv->payload.len > 0);
        mq__v1__delivery__free_unpacked(dv, NULL);
        free(buf);
    }
}

/* A Command that touches every subscription: deliver, ack the lowest
 * pending seq (term it in round 1), nack the highest; one publish per
 * queue; in round 2, a redrive of each queue's dead-letter queue back into
 * it; time moves on. */
static struct tcmd *exercise(const struct fsm *f, int round)
{
    struct tcmd *t = tcmd_new(f->now_ms + 50 + 1000 * (uint64_t)round);
    for (size_t i = 0; i < f->n_queues && i < 8; i++) {
        const struct queue *q = f->queues[i];
        for (size_t k = 0; k < q->n_subs && k < 8; k++) {
            const struct sub *s = q->subs[k];
            tcmd_deliver(t, q->cfg.name, s->cfg.name, 4);
            if (s->first != NULL) {
                tcmd_ack_mode(t, q->cfg.name, s->cfg.name,
                              round == 1 ? MQ__V1__ACK_MODE__TERM
                                         : MQ__V1__ACK_MODE__ACK,
                              0, NULL, &s->first->seq, 1);
            }
            if (s->last != NULL && s->last != s->first) {
                tcmd_ack(t, q->cfg.name, s->cfg.name, 1, 10, &s->last->seq, 1);
            }
        }
        char id[32];
        snprintf(id, sizeof id, "fuzz-%d", round);
        tcmd_publish_msg(t, q->cfg.name, id, "exercise");
        if (round == 2) {
            tcmd_redrive(t, q->cfg.dead_letter_queue, q->cfg.name, 5);
        }
    }
    /* Keys: used, then their old secrets retired, then revoked (the last
     * admin key stays: refused alike on both copies). */
    for (size_t i = 0; i < f->keys.n && i < 8; i++) {
        const char *name = f->keys.items[i]->name;
        tcmd_key_used(t, name, f->now_ms + 1);
        if (round == 1) {
            tcmd_key_rotate(t, name, 0, 1);
        } else if (round == 2) {
            tcmd_key_revoke(t, name);
        }
    }
    return t;
}

void fuzz_check_restore_round_trip(struct fsm *f)
{
    struct errmsg e = ERRMSG_INIT;
    struct blob s1 = snap_take(f);
    struct fsm *g = fsm_new();
    FUZZ_CHECK(g != NULL);
    FUZZ_CHECK(fsm_restore(g, s1.data, s1.len, &e) == MQ_OK);
    struct blob s2 = snap_take(g);
    FUZZ_CHECK(blob_equal(&s1, &s2));
    blob_free(&s2);
    /* The next due time is never in the past (the leader would propose
     * the time without end), unless nothing is due at all (UINT64_MAX, also
     * at a clock of UINT64_MAX), and the copy works out no earlier one. */
    FUZZ_CHECK(fsm_next_due(f) > f->now_ms || fsm_next_due(f) == UINT64_MAX);
    FUZZ_CHECK(fsm_next_due(g) >= fsm_next_due(f));
    for (int round = 0; round < 3; round++) {
        struct tcmd *t = exercise(f, round);
        struct blob entry = tcmd_entry(t);
        FUZZ_CHECK(fsm_apply(f, entry.data, entry.len, &e) == MQ_OK);
        fuzz_check_deliveries(f);
        FUZZ_CHECK(fsm_apply(g, entry.data, entry.len, &e) == MQ_OK);
        fuzz_check_deliveries(g);
        FUZZ_CHECK(f->n_ops == g->n_ops && f->n_pubs == g->n_pubs &&
                   f->n_dels == g->n_dels);
        for (size_t i = 0; i < f->n_ops; i++) {
            FUZZ_CHECK(f->ops[i].err == g->ops[i].err);
            FUZZ_CHECK(f->ops[i].n == g->ops[i].n);
            FUZZ_CHECK(f->ops[i].done == g->ops[i].done);
        }
        for (size_t i = 0; i < f->n_pubs; i++) {
            FUZZ_CHECK(f->pubs[i].err == g->pubs[i].err);
            FUZZ_CHECK(f->pubs[i].seq == g->pubs[i].seq);
            FUZZ_CHECK(f->pubs[i].duplicate == g->pubs[i].duplicate);
        }
        for (size_t i = 0; i < f->n_dels; i++) {
            FUZZ_CHECK(f->dels[i].m->rec.seq == g->dels[i].m->rec.seq);
            FUZZ_CHECK(f->dels[i].attempt == g->dels[i].attempt);
        }
        entry_free(&entry);
        tcmd_free(t);
    }
    struct blob a = snap_take(f), b = snap_take(g);
    FUZZ_CHECK(blob_equal(&a, &b));
    blob_free(&a);
    blob_free(&b);
    blob_free(&s1);
    fsm_free(g);
}
