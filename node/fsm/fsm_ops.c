/* fsm_ops.c: the consuming side of the FSM: handing messages to a
 * subscription (deliver), ack / nack / touch / term, cancelling a delayed
 * message, purging a queue. */
#include <string.h>

#include "fsm_internal.h"
#include "sub.h"

mq_err fsm_apply_deliver(struct fsm *f, const Mq__V1__DeliverOp *op,
                         struct fsm_op_result *r)
{
    struct queue *q = fsm_find_queue(f, op->queue, r);
    struct sub *s = q ? fsm_find_sub(q, op->sub, r) : NULL;
    size_t max = op->max_messages;
    size_t n = 0;

    if (s == NULL) {
        return MQ_OK;
    }
    if (max == 0 || max > MQ_MAX_BATCH) {
        max = max == 0 ? 1 : MQ_MAX_BATCH;
    }
    if (fsm_reserve((void **)&f->dels, &f->dels_cap, f->n_dels + max,
                    sizeof *f->dels) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    r->first = f->n_dels;
    mq_err rv =
        sub_deliver(s, &q->msgs, f->now_ms, max, &f->dels[f->n_dels], &n);
    r->n = n;
    for (size_t i = 0; i < n; i++) {
        q->counts.delivered++;
        q->counts.redelivered += f->dels[f->n_dels + i].attempt > 1;
        s->redelivered += f->dels[f->n_dels + i].attempt > 1;
    }
    f->n_dels += n;
    if (rv == MQ_OK && s->n_dl > 0) {
        rv = fsm_dead_letters(f, q, s, NULL);
    }
    return rv; /* the queue is trimmed after the op (fsm_touch) */
}

mq_err fsm_apply_ack(struct fsm *f, const Mq__V1__AckOp *op,
                     struct fsm_op_result *r)
{
    struct queue *q = fsm_find_queue(f, op->queue, r);
    struct sub *s = q ? fsm_find_sub(q, op->sub, r) : NULL;
    mq_err rv;

    if (s == NULL) {
        return MQ_OK;
    }
    if (op->mode > MQ__V1__ACK_MODE__TERM) {
        r->err = MQ_ERR_INVALID;
        errmsg_set(&r->e, "unknown ack mode %d", (int)op->mode);
        return MQ_OK;
    }
    r->err = sub_check_seqs(s, op->seqs, op->n_seqs, &r->e);
    if (r->err != MQ_OK) {
        return MQ_OK;
    }
    rv = sub_ack(s, op->seqs, op->n_seqs, (int)op->mode, f->now_ms,
                 op->delay_ms, &r->done, &r->already);
    if (op->mode == MQ__V1__ACK_MODE__ACK && r->done > 0) {
        queue_ids_added(q, f->now_ms); /* ack records (evict.h) */
    }
    if (op->mode == MQ__V1__ACK_MODE__ACK) {
        q->counts.acked += r->done;
    } else if (op->mode == MQ__V1__ACK_MODE__NACK) {
        q->counts.nacked += r->done;
    }
    if (rv == MQ_OK && s->n_dl > 0) {
        rv = fsm_dead_letters(f, q, s, op->reason);
    }
    return rv; /* the queue is trimmed after the op (fsm_touch) */
}

/* Cancels message @id of @q if stored and not yet due. */
static mq_err cancel_in(struct fsm *f, struct queue *q, const char *id,
                        struct fsm_op_result *r)
{
    struct msg *m = queue_find_id(q, id, strlen(id));
    if (m == NULL) {
        return MQ_ERR_NOT_FOUND;
    }
    if (m->rec.deliver_at_ms <= f->now_ms) {
        r->err = MQ_ERR_INVALID;
        errmsg_set(&r->e,
                   "message %s of queue %s was due already: too late to "
                   "cancel",
                   id, q->cfg.name);
        return MQ_OK;
    }
    r->seq = m->rec.seq;
    r->queue = q->cfg.name;
    r->err = MQ_OK;
    fsm_touch(f, q);
    return queue_remove_why(q, m->rec.seq, TOMB_CANCELLED, f->now_ms);
}

mq_err fsm_apply_cancel(struct fsm *f, const Mq__V1__CancelOp *op,
                        struct fsm_op_result *r)
{
    const char *id = op->id ? op->id : "";
    mq_err rv = MQ_ERR_NOT_FOUND;

    if (op->queue && op->queue[0]) {
        struct queue *q = fsm_find_queue(f, op->queue, r);
        if (q == NULL) {
            return MQ_OK;
        }
        rv = cancel_in(f, q, id, r);
    } else {
        for (size_t i = 0; i < f->n_queues && rv == MQ_ERR_NOT_FOUND; i++) {
            rv = cancel_in(f, f->queues[i], id, r);
        }
    }
    if (rv == MQ_ERR_NOT_FOUND) {
        r->err = MQ_ERR_NOT_FOUND;
        errmsg_set(&r->e, "no stored message has id %s", id);
        return MQ_OK;
    }
    return rv;
}

mq_err fsm_apply_purge(struct fsm *f, const char *name, struct fsm_op_result *r)
{
    struct queue *q = fsm_find_queue(f, name, r);
    if (q == NULL) {
        return MQ_OK;
    }
    r->done = (uint32_t)q->msgs.n_msgs;
    return queue_purge(q, f->now_ms);
}
