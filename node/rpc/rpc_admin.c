/* rpc_admin.c: queues and subscriptions: create, update, delete, purge,
 * redrive, cancel (writes, through the log) and info and lists (reads,
 * from this node's applied state). The node's status: rpc_nodestatus.c. */
#include "rpc_admin.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "diskuse.h"
#include "errors.h"
#include "grants.h"
#include "names.h"
#include "pbconv.h"
#include "rpc_auth.h"
#include "rpc_members.h"

/* Reads ------------------------------------------------------------------ */

/* Whether @call's key may see queue @q in a list: consume or manage in its
 * namespace (always, with authentication off). */
static int listed(const struct call *call, const struct queue *q)
{
    return rpc_auth_may(call, GRANT_CONSUME, q->cfg.name) ||
           rpc_auth_may(call, GRANT_MANAGE, q->cfg.name);
}

static uint64_t count_scheduled(const struct queue *q, uint64_t now_ms)
{
    uint64_t n = 0;
    for (uint64_t seq = q->msgs.first_seq; seq <= q->msgs.last_seq; seq++) {
        const struct msg *m = queue_get(q, seq);
        n += m != NULL && m->rec.deliver_at_ms > now_ms;
    }
    return n;
}

static void fill_queue_info(Mq__V1__QueueInfo *qi, Mq__V1__QueueConfig *qc,
                            const struct queue *q)
{
    mq__v1__queue_info__init(qi);
    pbconv_queue_to(qc, &q->cfg);
    qi->config = qc;
    qi->messages = q->msgs.n_msgs;
    qi->bytes = q->msgs.n_bytes;
    qi->first_seq = q->msgs.n_msgs ? q->msgs.first_seq : 0;
    qi->last_seq = q->msgs.last_seq;
    qi->subscriptions = (uint32_t)q->n_subs;
    qi->created_at_ms = q->created_at_ms;
    qi->scheduled = count_scheduled(q, call_now_ms());
    const struct msg *first =
        q->msgs.n_msgs ? queue_get(q, q->msgs.first_seq) : NULL;
    qi->oldest_age_ms =
        first != NULL && call_now_ms() > first->rec.published_at_ms
            ? call_now_ms() - first->rec.published_at_ms
            : 0;
    qi->remembered_ids = dedup_len(&q->dedup) + tombs_len(&q->tombs);
    qi->duplicate_ids = dedup_len(&q->dedup);
    for (size_t i = 0; i < q->n_subs; i++) {
        qi->ack_records += subhist_len(&q->subs[i]->hist);
    }
    qi->ids_bytes = qi->duplicate_ids * DEDUP_NOMINAL_BYTES +
                    tombs_len(&q->tombs) * TOMB_NOMINAL_BYTES +
                    qi->ack_records * SUBHIST_ACK_NOMINAL_BYTES;
}

static void fill_sub_info(Mq__V1__SubInfo *si, Mq__V1__SubConfig *sc,
                          char **filters, const struct queue *q,
                          const struct sub *s)
{
    mq__v1__sub_info__init(si);
    pbconv_sub_to(sc, &s->cfg, q->cfg.name, filters);
    si->config = sc;
    si->next_seq = s->next_seq;
    si->ack_floor = sub_ack_floor(s);
    struct call_sub_counts counts;
    call_sub_counts(q, s, &counts);
    si->pending = counts.pending;
    si->in_flight = counts.in_flight;
    si->delivered = s->delivered;
    si->acked = s->acked;
    si->created_at_ms = s->created_at_ms;
    si->dead_lettered = s->dead_lettered;
    si->scheduled = counts.scheduled;
    si->lag = counts.pending + counts.in_flight + counts.scheduled;
    const struct msg *m = queue_sub_oldest(q, s);
    uint64_t now = call_now_ms();
    si->lag_ms = m != NULL && now > m->rec.deliver_at_ms
                     ? now - m->rec.deliver_at_ms
                     : 0;
}

void rpc_reply_queue_info(struct call *call, const struct queue *q)
{
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__QueueInfo qi;
    Mq__V1__QueueConfig qc;
    fill_queue_info(&qi, &qc, q);
    reply.body_case = MQ__V1__REPLY__BODY_QUEUE;
    reply.queue = &qi;
    call_reply(call, &reply);
}

static void reply_sub_info(struct call *call, const struct queue *q,
                           const struct sub *s)
{
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__SubInfo si;
    Mq__V1__SubConfig sc;
    char *filters[SUB_MAX_FILTERS];
    fill_sub_info(&si, &sc, filters, q, s);
    reply.body_case = MQ__V1__REPLY__BODY_SUB;
    reply.sub = &si;
    call_reply(call, &reply);
}

/* The queue named by @name, or NULL after replying NOT_FOUND / INVALID. */
static const struct queue *existing_queue(struct call *call, const char *name)
{
    const char *full = call_qname(call, name, call->qname);
    const struct queue *q = full ? fsm_queue(call->rpc->f, full) : NULL;
    if (full != NULL && q == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND, "queue %s does not exist",
                         full);
    }
    return q;
}

void rpc_queue_info(struct call *call)
{
    const struct queue *q = existing_queue(call, call->in->queue_info->name);
    if (q != NULL) {
        rpc_reply_queue_info(call, q);
    }
}

void rpc_queue_list(struct call *call)
{
    const struct fsm *f = call->rpc->f;
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__QueueListReply list = MQ__V1__QUEUE_LIST_REPLY__INIT;
    size_t n = f->n_queues;
    Mq__V1__QueueInfo *qi = mq_calloc(n, sizeof *qi);
    Mq__V1__QueueConfig *qc = mq_calloc(n, sizeof *qc);
    Mq__V1__QueueInfo **qp = mq_calloc(n, sizeof *qp);

    if (!qi || !qc || !qp) {
        mq_free(qi);
        mq_free(qc);
        mq_free(qp);
        call_reply_error(call, MQ_ERR_NO_MEMORY, "queue list: out of memory");
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (listed(call, f->queues[i])) {
            fill_queue_info(&qi[k], &qc[k], f->queues[i]);
            qp[k] = &qi[k];
            k++;
        }
    }
    list.queues = qp;
    list.n_queues = k;
    reply.body_case = MQ__V1__REPLY__BODY_QUEUES;
    reply.queues = &list;
    call_reply(call, &reply);
    mq_free(qi);
    mq_free(qc);
    mq_free(qp);
}

void rpc_sub_info(struct call *call)
{
    const Mq__V1__SubInfoRequest *in = call->in->sub_info;
    const struct queue *q = existing_queue(call, in->queue);
    const struct sub *s = q ? queue_sub(q, in->name ? in->name : "") : NULL;
    if (q == NULL) {
        return;
    }
    if (s == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND,
                         "subscription %s of queue %s does not exist",
                         in->name ? in->name : "", q->cfg.name);
        return;
    }
    reply_sub_info(call, q, s);
}

void rpc_sub_list(struct call *call)
{
    const struct fsm *f = call->rpc->f;
    const char *only = call->in->sub_list->queue;
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__SubListReply list = MQ__V1__SUB_LIST_REPLY__INIT;
    const struct queue *oq = NULL;
    size_t n = 0;

    if (only && only[0] && (oq = existing_queue(call, only)) == NULL) {
        return;
    }
    for (size_t i = 0; i < f->n_queues; i++) {
        if (oq == NULL ? listed(call, f->queues[i]) : oq == f->queues[i]) {
            n += f->queues[i]->n_subs;
        }
    }
    Mq__V1__SubInfo *si = mq_calloc(n, sizeof *si);
    Mq__V1__SubConfig *sc = mq_calloc(n, sizeof *sc);
    Mq__V1__SubInfo **sp = mq_calloc(n, sizeof *sp);
    char **filters = mq_calloc(n * SUB_MAX_FILTERS, sizeof *filters);
    if (!si || !sc || !sp || !filters) {
        mq_free(si);
        mq_free(sc);
        mq_free(sp);
        mq_free(filters);
        call_reply_error(call, MQ_ERR_NO_MEMORY, "sub list: out of memory");
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < f->n_queues; i++) {
        const struct queue *q = f->queues[i];
        if (oq != NULL ? oq != q : !listed(call, q)) {
            continue;
        }
        for (size_t j = 0; j < q->n_subs; j++, k++) {
            fill_sub_info(&si[k], &sc[k], &filters[k * SUB_MAX_FILTERS], q,
                          q->subs[j]);
            sp[k] = &si[k];
        }
    }
    list.subs = sp;
    list.n_subs = n;
    reply.body_case = MQ__V1__REPLY__BODY_SUBS;
    reply.subs = &list;
    call_reply(call, &reply);
    mq_free(si);
    mq_free(sc);
    mq_free(sp);
    mq_free(filters);
}

/* Admin writes ------------------------------------------------------------ */

static void admin_done(void *arg, mq_err err, const struct fsm_op_result *r,
                       const struct fsm *f, uint64_t index)
{
    struct call *call = arg;
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    call->index = err == MQ_OK ? index : 0;
    if (err == MQ_ERR_NOT_LEADER) {
        call_reply_not_leader(call);
        return;
    }
    if (err != MQ_OK) {
        call_reply_error(call, err,
                         "%s: leadership changed before the change "
                         "committed; it may or may not be made: retry",
                         call->name);
        return;
    }
    if (r->err != MQ_OK) {
        call_reply_error(call, r->err, "%s", r->e.msg);
        return;
    }
    const struct queue *q;
    const struct sub *s;
    switch (call->op.op_case) {
    case MQ__V1__OP__OP_QUEUE_CREATE:
    case MQ__V1__OP__OP_QUEUE_PURGE:
    case MQ__V1__OP__OP_QUEUE_UPDATE:
        q = fsm_queue(f, call->qname);
        if (q) {
            rpc_reply_queue_info(call, q);
            return;
        }
        break;
    case MQ__V1__OP__OP_SUB_CREATE:
        q = fsm_queue(f, call->qname);
        s = q ? queue_sub(q, call->scfg.name) : NULL;
        if (s) {
            reply_sub_info(call, q, s);
            return;
        }
        break;
    case MQ__V1__OP__OP_CANCEL: {
        Mq__V1__CancelReply cr = MQ__V1__CANCEL_REPLY__INIT;
        cr.queue = (char *)(r->queue ? r->queue : "");
        cr.seq = r->seq;
        reply.body_case = MQ__V1__REPLY__BODY_CANCEL;
        reply.cancel = &cr;
        call_reply(call, &reply);
        return;
    }
    case MQ__V1__OP__OP_REDRIVE: {
        Mq__V1__RedriveReply rr = MQ__V1__REDRIVE_REPLY__INIT;
        rr.moved = r->done;
        rr.remaining = r->remaining;
        reply.body_case = MQ__V1__REPLY__BODY_REDRIVE;
        reply.redrive = &rr;
        call_reply(call, &reply);
        return;
    }
    default:
        break;
    }
    call_reply(call, &reply);
}

static void propose_admin(struct call *call, const char *what)
{
    call->name = mq_strdup(what);
    if (call->name == NULL || batch_add(call->rpc->batch, &call->op, 256,
                                        admin_done, call) != MQ_OK) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "%s: out of memory", what);
    }
}

void rpc_queue_create(struct call *call)
{
    const Mq__V1__QueueConfig *in = call->in->queue_create->config;
    struct errmsg e = ERRMSG_INIT;
    char what[160];

    if (call_qname(call, in ? in->name : NULL, call->qname) == NULL) {
        return;
    }
    pbconv_queue_from(&call->qcfg, in);
    snprintf(call->qcfg.name, sizeof call->qcfg.name, "%s", call->qname);
    mq_err rv = queue_config_normalize(&call->qcfg, &e);
    if (rv != MQ_OK) {
        call_reply_error(call, rv, "%s", e.msg);
        return;
    }
    pbconv_queue_to(&call->body.qc, &call->qcfg);
    mq__v1__op__init(&call->op);
    call->op.op_case = MQ__V1__OP__OP_QUEUE_CREATE;
    call->op.queue_create = &call->body.qc;
    snprintf(what, sizeof what, "queue create %s", call->qname);
    propose_admin(call, what);
}

void rpc_queue_update(struct call *call)
{
    const Mq__V1__QueueUpdateRequest *in = call->in->queue_update;
    const Mq__V1__QueueConfig *pb = in->config;
    char what[160];

    if (existing_queue(call, pb ? pb->name : NULL) == NULL) {
        return;
    }
    /* The FSM checks the settings against those of the moment it applies
     * the op (an update before this one may change them); here only what
     * no state can make valid. */
    if (in->set == 0 || (in->set & ~QUEUE_SET_ALL) != 0) {
        call_reply_error(call, MQ_ERR_INVALID, "queue update %s: %s",
                         call->qname,
                         in->set == 0 ? "no setting to change"
                                      : "name and retention cannot change");
        return;
    }
    pbconv_queue_from(&call->qcfg, pb);
    snprintf(call->qcfg.name, sizeof call->qcfg.name, "%s", call->qname);
    pbconv_queue_to(&call->body.qu.qc, &call->qcfg);
    mq__v1__queue_update_op__init(&call->body.qu.op);
    call->body.qu.op.config = &call->body.qu.qc;
    call->body.qu.op.set = in->set;
    mq__v1__op__init(&call->op);
    call->op.op_case = MQ__V1__OP__OP_QUEUE_UPDATE;
    call->op.queue_update = &call->body.qu.op;
    snprintf(what, sizeof what, "queue update %s", call->qname);
    propose_admin(call, what);
}

/* Proposes an op naming one existing queue (delete, purge). */
static void propose_on_queue(struct call *call, const char *name, int op_case,
                             const char *verb)
{
    char what[160];
    if (existing_queue(call, name) == NULL) {
        return;
    }
    mq__v1__op__init(&call->op);
    call->op.op_case = op_case;
    if (op_case == MQ__V1__OP__OP_QUEUE_DELETE) {
        call->op.queue_delete = call->qname;
    } else {
        call->op.queue_purge = call->qname;
    }
    snprintf(what, sizeof what, "queue %s %s", verb, call->qname);
    propose_admin(call, what);
}

void rpc_queue_delete(struct call *call)
{
    propose_on_queue(call, call->in->queue_delete->name,
                     MQ__V1__OP__OP_QUEUE_DELETE, "delete");
}

void rpc_queue_purge(struct call *call)
{
    propose_on_queue(call, call->in->queue_purge->name,
                     MQ__V1__OP__OP_QUEUE_PURGE, "purge");
}

void rpc_sub_create(struct call *call)
{
    const Mq__V1__SubConfig *in = call->in->sub_create->config;
    struct errmsg e = ERRMSG_INIT;
    const char *name = in && in->name ? in->name : "";
    const struct queue *q = existing_queue(call, in ? in->queue : NULL);
    char what[200];
    mq_err rv;

    if (q == NULL) {
        return;
    }
    if (name_check(name, strlen(name), "subscription name", &e) != MQ_OK ||
        pbconv_sub_from(&call->scfg, in, &e) != MQ_OK) {
        call_reply_error(call, MQ_ERR_INVALID, "%s", e.msg);
        return;
    }
    rv = sub_config_normalize(&call->scfg, &q->cfg, &e);
    if (rv != MQ_OK) {
        call_reply_error(call, rv, "sub create %s %s: %s", q->cfg.name, name,
                         e.msg);
        return;
    }
    pbconv_sub_to(&call->body.sc, &call->scfg, call->qname, call->filters);
    mq__v1__op__init(&call->op);
    call->op.op_case = MQ__V1__OP__OP_SUB_CREATE;
    call->op.sub_create = &call->body.sc;
    snprintf(what, sizeof what, "sub create %s %s", call->qname, name);
    propose_admin(call, what);
}

void rpc_sub_delete(struct call *call)
{
    const Mq__V1__SubDeleteRequest *in = call->in->sub_delete;
    const struct queue *q = existing_queue(call, in->queue);
    char what[200];
    if (q == NULL) {
        return;
    }
    if (queue_sub(q, in->name ? in->name : "") == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND,
                         "subscription %s of queue %s does not exist",
                         in->name ? in->name : "", q->cfg.name);
        return;
    }
    mq__v1__sub_ref__init(&call->body.ref);
    call->body.ref.queue = call->qname;
    call->body.ref.name = in->name;
    mq__v1__op__init(&call->op);
    call->op.op_case = MQ__V1__OP__OP_SUB_DELETE;
    call->op.sub_delete = &call->body.ref;
    snprintf(what, sizeof what, "sub delete %s %s", call->qname, in->name);
    propose_admin(call, what);
}

/* Whether @id (@len bytes) is one the state machine gives dead letters:
 * "dl-" and 32 hex digits. */
static int dead_letter_id(const uint8_t *id, size_t len)
{
    if (len != 35 || memcmp(id, "dl-", 3) != 0) {
        return 0;
    }
    for (size_t i = 3; i < len; i++) {
        if (!((id[i] >= '0' && id[i] <= '9') ||
              (id[i] >= 'a' && id[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

/* Whether @q is a dead-letter queue: some queue names it its
 * dead_letter_queue, or its oldest message is a dead letter (also once the
 * queue that sent it is gone). An empty queue passes: nothing would move. */
static int is_dead_letter_queue(const struct fsm *f, const struct queue *q)
{
    const struct msg *m;

    for (size_t i = 0; i < f->n_queues; i++) {
        if (f->queues[i] != q &&
            strcmp(f->queues[i]->cfg.dead_letter_queue, q->cfg.name) == 0) {
            return 1;
        }
    }
    if (q->msgs.n_msgs == 0) {
        return 1;
    }
    m = queue_get(q, q->msgs.first_seq);
    return m != NULL && dead_letter_id(m->blob + m->id_off, m->id_len);
}

void rpc_redrive(struct call *call)
{
    const Mq__V1__RedriveRequest *in = call->in->redrive;
    const struct queue *from;
    char what[300];
    if ((from = existing_queue(call, in->from)) == NULL) {
        return;
    }
    /* Checked here, on the leader's state, so that every client is
     * protected; the state machine moves what it is told. */
    if (!in->force && !is_dead_letter_queue(call->rpc->f, from)) {
        call_reply_error(call, MQ_ERR_INVALID,
                         "queue %s is not a dead-letter queue (no queue sends "
                         "its dead letters there, and its messages are not "
                         "dead letters): a redrive would take its messages "
                         "from its subscribers; give --force "
                         "(MQ_REDRIVE_FORCE) to move them anyway",
                         from->cfg.name);
        return;
    }
    if (call_qname(call, in->to, call->qname2) == NULL) {
        return;
    }
    if (fsm_queue(call->rpc->f, call->qname2) == NULL) {
        call_reply_error(call, MQ_ERR_NOT_FOUND, "queue %s does not exist",
                         call->qname2);
        return;
    }
    if (in->max_messages == 0 || in->max_messages > MQ_MAX_BATCH) {
        call_reply_error(call, MQ_ERR_INVALID,
                         "redrive moves 1..%d messages at a time, not %u",
                         MQ_MAX_BATCH, in->max_messages);
        return;
    }
    mq__v1__redrive_op__init(&call->body.redrive);
    call->body.redrive.from = call->qname;
    call->body.redrive.to = call->qname2;
    call->body.redrive.max_messages = in->max_messages;
    mq__v1__op__init(&call->op);
    call->op.op_case = MQ__V1__OP__OP_REDRIVE;
    call->op.redrive = &call->body.redrive;
    snprintf(what, sizeof what, "redrive %s to %s", call->qname, call->qname2);
    propose_admin(call, what);
}

void rpc_cancel(struct call *call)
{
    const Mq__V1__CancelRequest *in = call->in->cancel;
    struct errmsg e = ERRMSG_INIT;
    const char *id = in->id ? in->id : "";
    char what[200];

    if (id_check(id, strlen(id), &e) != MQ_OK) {
        call_reply_error(call, MQ_ERR_INVALID, "%s", e.msg);
        return;
    }
    if (in->queue && in->queue[0] && existing_queue(call, in->queue) == NULL) {
        return;
    }
    mq__v1__cancel_op__init(&call->body.cancel);
    call->body.cancel.id = (char *)id;
    call->body.cancel.queue = call->qname;
    mq__v1__op__init(&call->op);
    call->op.op_case = MQ__V1__OP__OP_CANCEL;
    call->op.cancel = &call->body.cancel;
    snprintf(what, sizeof what, "cancel %s", id);
    propose_admin(call, what);
}
