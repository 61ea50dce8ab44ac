/* fsm.c: applying Commands to the queues.
 *
 * Happy path: decode the entry, advance the clock to the Command's time,
 * apply each op in order and record its result for the leader to answer
 * with. Failure modes: an entry that is not a Command is skipped (every
 * replica skips it alike); an op that is refused (unknown queue, full
 * queue, ...) changes nothing and records its error; running out of memory
 * is reported to the caller, which stops the node, since a replica that
 * applied only part of a Command would differ from the others. */
#include "fsm.h"
#include "fsm_internal.h"

#include <raft.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "cmd.h"
#include "fsm_keys.h"
#include "hash.h"
#include "log.h"
#include "msg.h"
#include "names.h"
#include "pbconv.h"
#include "pbscan.h"

struct fsm *fsm_new(void)
{
    struct fsm *f = mq_calloc(1, sizeof *f);
    if (f != NULL) {
        due_heap_init(&f->due);
        keys_init(&f->keys);
        evict_heap_init(&f->ids_heap);
    }
    return f;
}

static void free_queues(struct queue **queues, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        queue_free(queues[i]);
    }
    mq_free(queues);
}

void fsm_free(struct fsm *f)
{
    if (f == NULL) {
        return;
    }
    free_queues(f->queues, f->n_queues);
    keys_close(&f->keys);
    due_heap_close(&f->due);
    evict_heap_close(&f->ids_heap);
    trash_close(&f->ctx.trash);
    fsm_snap_free(f);
    mq_free(f->ops);
    mq_free(f->pubs);
    mq_free(f->dels);
    mq_free(f);
}

/* Index of the first queue whose name is >= @name. */
static size_t queue_pos(const struct fsm *f, const char *name)
{
    size_t lo = 0, hi = f->n_queues;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(f->queues[mid]->cfg.name, name) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

struct queue *fsm_queue(const struct fsm *f, const char *name)
{
    char full[MQ_QNAME_MAX + 1];
    if (name == NULL) {
        return NULL;
    }
    if (strchr(name, '/') == NULL) { /* namespace "default" */
        snprintf(full, sizeof full, "default/%s", name);
        name = full;
    }
    size_t i = queue_pos(f, name);
    if (i < f->n_queues && strcmp(f->queues[i]->cfg.name, name) == 0) {
        return f->queues[i];
    }
    return NULL;
}

mq_err fsm_add_queue(struct fsm *f, struct queue *q)
{
    size_t i = queue_pos(f, q->cfg.name);
    if (due_heap_reserve(&f->due, 1) != MQ_OK ||
        evict_heap_reserve(&f->ids_heap, 1) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    if (f->n_queues == f->queues_cap) {
        size_t cap = f->queues_cap ? f->queues_cap * 2 : 16;
        struct queue **queues = mq_realloc(f->queues, cap * sizeof *queues);
        if (queues == NULL) {
            return MQ_ERR_NO_MEMORY;
        }
        f->queues = queues;
        f->queues_cap = cap;
    }
    struct queue **queues = f->queues;
    memmove(&queues[i + 1], &queues[i], (f->n_queues - i) * sizeof *queues);
    queues[i] = q;
    f->n_queues++;
    int became_due;
    q->due.at_ms = queue_next_due(q, f->now_ms, &became_due);
    q->due_heap = &f->due;
    due_heap_add(&f->due, &q->due);
    q->ids_heap = &f->ids_heap;
    evict_heap_add(&f->ids_heap, &q->ids);
    return MQ_OK;
}

void fsm_touch(struct fsm *f, struct queue *q)
{
    queue_changing(q);
    for (size_t i = 0; i < f->n_touched; i++) {
        if (f->touched[i] == q) {
            return;
        }
    }
    if (f->n_touched < sizeof f->touched / sizeof f->touched[0]) {
        f->touched[f->n_touched++] = q;
    }
}

void fsm_note(struct fsm *f, int level, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    if (f->on_note == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    f->on_note(f->on_note_arg, level, line);
}

uint64_t fsm_next_due(const struct fsm *f)
{
    const struct due_item *it = due_heap_top(&f->due);
    return it ? it->at_ms : UINT64_MAX;
}

/* The queues whose time has come (at f->now_ms): with @trim, drops what
 * retention says must go in each first (apply); then works out when each
 * next falls due, waking fetches (with @wake) for delayed messages now
 * due. Visits only those queues. */
static mq_err due_run(struct fsm *f, int trim, int wake)
{
    struct due_item *it;
    while ((it = due_heap_top(&f->due)) != NULL && it->at_ms <= f->now_ms) {
        struct queue *q =
            (struct queue *)((char *)it - offsetof(struct queue, due));
        int became_due = 0;
        f->stats.queues_visited++;
        if (trim) {
            queue_changing(q);
            mq_err rv = queue_trim(q, f->now_ms);
            if (rv != MQ_OK) {
                return rv;
            }
        }
        uint64_t t = queue_next_due(q, f->now_ms, &became_due);
        /* The trim left nothing due at now_ms; should something be, it is
         * due at the next tick, and this loop ends. */
        due_heap_set(&f->due, it, t > f->now_ms ? t : f->now_ms + 1);
        if (became_due && wake && f->on_publish) {
            f->on_publish(f->on_publish_arg, q);
        }
    }
    return MQ_OK;
}

void fsm_due_update(struct fsm *f, int wake)
{
    (void)due_run(f, 0, wake); /* without trimming, nothing fails */
}

/* Grows one of the result arrays to hold @need elements. */
mq_err fsm_reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) {
        return MQ_OK;
    }
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        c *= 2;
    }
    void *p = mq_realloc(*arr, c * elem);
    if (p == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    *arr = p;
    *cap = c;
    return MQ_OK;
}

struct queue *fsm_find_queue(struct fsm *f, const char *name,
                             struct fsm_op_result *r)
{
    struct queue *q = fsm_queue(f, name);
    if (q == NULL) {
        r->err = MQ_ERR_NOT_FOUND;
        errmsg_set(&r->e, "queue %s does not exist", name ? name : "");
    } else {
        fsm_touch(f, q);
    }
    return q;
}

struct sub *fsm_find_sub(struct queue *q, const char *name,
                         struct fsm_op_result *r)
{
    struct sub *s = queue_sub(q, name ? name : "");
    if (s == NULL) {
        r->err = MQ_ERR_NOT_FOUND;
        errmsg_set(&r->e, "subscription %s of queue %s does not exist",
                   name ? name : "", q->cfg.name);
    }
    return s;
}

static mq_err apply_queue_create(struct fsm *f, const Mq__V1__QueueConfig *pb,
                                 struct fsm_op_result *r)
{
    struct queue_config cfg;
    const char *name = pb && pb->name ? pb->name : "";

    char full[MQ_QNAME_MAX + 1];
    r->err = qname_normalize(name, full, &r->e);
    if (r->err != MQ_OK) {
        return MQ_OK;
    }
    pbconv_queue_from(&cfg, pb);
    r->err = queue_config_normalize(&cfg, &r->e);
    if (r->err != MQ_OK) {
        return MQ_OK;
    }
    struct queue *q = fsm_queue(f, cfg.name);
    if (q != NULL) {
        char diff[sizeof r->e.msg];
        if (queue_config_diff(&q->cfg, &cfg, diff, sizeof diff) > 0) {
            r->err = MQ_ERR_EXISTS;
            errmsg_set(&r->e, "queue %s exists with other settings: %s",
                       cfg.name, diff);
        }
        return MQ_OK;
    }
    q = queue_new(&cfg, f->now_ms, &f->ctx);
    if (q == NULL || fsm_add_queue(f, q) != MQ_OK) {
        queue_free(q);
        return MQ_ERR_NO_MEMORY;
    }
    return MQ_OK;
}

static void apply_queue_delete(struct fsm *f, const char *name,
                               struct fsm_op_result *r)
{
    struct queue *q = fsm_find_queue(f, name, r);
    if (q == NULL) {
        return;
    }
    size_t i = queue_pos(f, q->cfg.name);
    f->n_touched = 0; /* gone: nothing to trim */
    queue_free(f->queues[i]);
    memmove(&f->queues[i], &f->queues[i + 1],
            (f->n_queues - i - 1) * sizeof *f->queues);
    f->n_queues--;
}

static int sub_config_equal(const struct sub_config *a,
                            const struct sub_config *b)
{
    /* The start position only matters at creation. */
    return strcmp(a->name, b->name) == 0 &&
           a->ack_timeout_ms == b->ack_timeout_ms &&
           a->max_deliveries == b->max_deliveries &&
           a->n_filters == b->n_filters &&
           memcmp(a->filters, b->filters, sizeof a->filters) == 0;
}

static mq_err apply_sub_create(struct fsm *f, const Mq__V1__SubConfig *pb,
                               struct fsm_op_result *r)
{
    struct sub_config cfg;
    const char *name = pb && pb->name ? pb->name : "";
    struct queue *q = fsm_find_queue(f, pb ? pb->queue : NULL, r);

    if (q == NULL) {
        return MQ_OK;
    }
    r->err = name_check(name, strlen(name), "subscription name", &r->e);
    if (r->err != MQ_OK) {
        return MQ_OK;
    }
    r->err = pbconv_sub_from(&cfg, pb, &r->e);
    if (r->err != MQ_OK) {
        return MQ_OK;
    }
    r->err = sub_config_normalize(&cfg, &q->cfg, &r->e);
    if (r->err != MQ_OK) {
        return MQ_OK;
    }
    struct sub *s = queue_sub(q, cfg.name);
    if (s != NULL) {
        if (!sub_config_equal(&s->cfg, &cfg)) {
            r->err = MQ_ERR_EXISTS;
            errmsg_set(&r->e,
                       "subscription %s of queue %s exists with other "
                       "settings",
                       cfg.name, q->cfg.name);
        }
        return MQ_OK;
    }
    if (q->n_subs >= QUEUE_MAX_SUBS) {
        r->err = MQ_ERR_FULL;
        errmsg_set(&r->e, "queue %s has %d subscriptions, the most allowed",
                   q->cfg.name, QUEUE_MAX_SUBS);
        return MQ_OK;
    }
    s = sub_new(&cfg, &q->msgs, f->now_ms, &f->ctx);
    if (s == NULL || queue_add_sub(q, s) != MQ_OK) {
        sub_free(s);
        return MQ_ERR_NO_MEMORY;
    }
    return MQ_OK;
}

static mq_err apply_sub_delete(struct fsm *f, const Mq__V1__SubRef *ref,
                               struct fsm_op_result *r)
{
    struct queue *q = fsm_find_queue(f, ref ? ref->queue : NULL, r);
    if (q == NULL || fsm_find_sub(q, ref->name, r) == NULL) {
        return MQ_OK;
    }
    queue_del_sub(q, ref->name);
    return MQ_OK;
}

static mq_err apply_op(struct fsm *f, const Mq__V1__Op *op,
                       struct fsm_op_result *r)
{
    switch (op->op_case) {
    case MQ__V1__OP__OP_PUBLISH:
        return fsm_apply_publish(f, op->publish, r);
    case MQ__V1__OP__OP_QUEUE_CREATE:
        return apply_queue_create(f, op->queue_create, r);
    case MQ__V1__OP__OP_QUEUE_DELETE:
        apply_queue_delete(f, op->queue_delete, r);
        return MQ_OK;
    case MQ__V1__OP__OP_SUB_CREATE:
        return apply_sub_create(f, op->sub_create, r);
    case MQ__V1__OP__OP_SUB_DELETE:
        return apply_sub_delete(f, op->sub_delete, r);
    case MQ__V1__OP__OP_DELIVER:
        return fsm_apply_deliver(f, op->deliver, r);
    case MQ__V1__OP__OP_ACK:
        return fsm_apply_ack(f, op->ack, r);
    case MQ__V1__OP__OP_CANCEL:
        return fsm_apply_cancel(f, op->cancel, r);
    case MQ__V1__OP__OP_QUEUE_PURGE:
        return fsm_apply_purge(f, op->queue_purge, r);
    case MQ__V1__OP__OP_REDRIVE:
        return fsm_apply_redrive(f, op->redrive, r);
    case MQ__V1__OP__OP_QUEUE_UPDATE:
        return fsm_apply_queue_update(f, op->queue_update, r);
    case MQ__V1__OP__OP_KEY_CREATE:
        return fsm_apply_key_create(f, op->key_create, r);
    case MQ__V1__OP__OP_KEY_UPDATE:
        return fsm_apply_key_update(f, op->key_update, r);
    case MQ__V1__OP__OP_KEY_ROTATE:
        return fsm_apply_key_rotate(f, op->key_rotate, r);
    case MQ__V1__OP__OP_KEY_REVOKE:
        return fsm_apply_key_revoke(f, op->key_revoke, r);
    case MQ__V1__OP__OP_KEY_USED:
        return fsm_apply_key_used(f, op->key_used, r);
    default:
        r->err = MQ_ERR_PROTOCOL;
        errmsg_set(&r->e, "unknown operation %d", (int)op->op_case);
        return MQ_OK;
    }
}

/* Applies one op, then trims the queues it changed (retention: a
 * subscription passing messages of a "work" queue, one created on it, a
 * message removed ahead of others...), so that nothing but time is left
 * for the next Command to find. */
static mq_err apply_op_trim(struct fsm *f, const Mq__V1__Op *op,
                            struct fsm_op_result *r)
{
    f->n_touched = 0;
    mq_err rv = apply_op(f, op, r);
    for (size_t i = 0; i < f->n_touched && rv == MQ_OK; i++) {
        f->stats.queues_visited++;
        rv = queue_trim(f->touched[i], f->now_ms);
    }
    f->n_touched = 0;
    return rv;
}

mq_err fsm_apply(struct fsm *f, const void *buf, size_t len, struct errmsg *e)
{
    Mq__V1__Command *c;
    mq_err rv;

    /* The last Command's results are over: free what they kept. */
    if (f->holding_results) {
        trash_release(&f->ctx.trash);
        f->holding_results = 0;
    }
    f->n_ops = f->n_pubs = f->n_dels = 0;
    rv = cmd_decode(buf, len, &c, e);
    if (rv != MQ_OK) {
        return rv;
    }
    trash_hold(&f->ctx.trash);
    f->holding_results = 1;
    f->stats.applied++;
    if (c->now_ms > f->now_ms) {
        f->now_ms = c->now_ms;
    }
    if (fsm_reserve((void **)&f->ops, &f->ops_cap, c->n_ops, sizeof *f->ops) !=
        MQ_OK) {
        rv = MQ_ERR_NO_MEMORY;
        errmsg_set(e, "out of memory applying a command");
        goto out;
    }
    /* What the clock made due first, visiting only the queues it is due
     * in (due.h): a message past its max_age is not delivered. */
    rv = due_run(f, 1, 1);
    for (size_t i = 0; i < c->n_ops && rv == MQ_OK; i++) {
        struct fsm_op_result *r = &f->ops[f->n_ops++];
        memset(r, 0, sizeof *r);
        rv = apply_op_trim(f, c->ops[i], r);
    }
    if (rv == MQ_OK) {
        fsm_due_update(f, 1);
        /* The bound of ids and statuses this Command brings (the
         * leader's; 0 in entries that predate it: none). */
        f->ids_budget_bytes = c->ids_budget_bytes;
        f->stats.ids_evicted +=
            evict_run(&f->ids_heap, &f->ctx, c->ids_budget_bytes);
    } else {
        errmsg_set(e, "out of memory applying a command");
    }
out:
    mq__v1__command__free_unpacked(c, &cmd_pb_alloc);
    return rv;
}

/* raft_fsm glue ---------------------------------------------------------- */

static int fsm_apply_cb(struct raft_fsm *rf, const struct raft_buffer *buf,
                        void **result)
{
    struct fsm *f = rf->data;
    struct errmsg e = ERRMSG_INIT;
    mq_err rv = fsm_apply(f, buf->base, buf->len, &e);

    if (rv == MQ_ERR_NO_MEMORY) {
        /* A replica that applied part of a Command differs from the
         * others: stop, and let the restart replay the log. */
        LOG_ERROR("apply: %s; stopping", e.msg);
        _exit(3);
    }
    if (rv != MQ_OK) {
        LOG_ERROR("apply: skipping entry: %s", e.msg);
    }
    *result = f;
    return 0;
}

static int fsm_snapshot_cb(struct raft_fsm *rf, struct raft_buffer *bufs[],
                           unsigned *n_bufs)
{
    mq_err rv = fsm_snapshot(rf->data, bufs, n_bufs);
    return rv == MQ_OK ? 0 : RAFT_NOMEM;
}

/* Raft's thread pool: encodes what fsm_snapshot_cb took. */
static int fsm_snapshot_async_cb(struct raft_fsm *rf,
                                 struct raft_buffer *bufs[], unsigned *n_bufs)
{
    mq_err rv = fsm_snapshot_encode(rf->data, bufs, n_bufs);
    return rv == MQ_OK ? 0 : RAFT_NOMEM;
}

static int fsm_snapshot_finalize_cb(struct raft_fsm *rf,
                                    struct raft_buffer *bufs[],
                                    unsigned *n_bufs)
{
    fsm_snapshot_done(rf->data, bufs, n_bufs);
    return 0;
}

/* Returns raft's error code on failure; the node stops then (consensus.c's
 * restore_cb), since libraft 0.15 would leave a follower that failed to
 * install a snapshot running without its log. */
static int fsm_restore_cb(struct raft_fsm *rf, struct raft_buffer *buf)
{
    struct errmsg e = ERRMSG_INIT;
    mq_err rv = fsm_restore(rf->data, buf->base, buf->len, &e);
    if (rv != MQ_OK) {
        LOG_ERROR("restore snapshot: %s", e.msg);
        return rv == MQ_ERR_NO_MEMORY ? RAFT_NOMEM : RAFT_CORRUPT;
    }
    raft_free(buf->base); /* restore owns the buffer once it succeeds */
    return 0;
}

void fsm_raft(struct fsm *f, struct raft_fsm *rf)
{
    memset(rf, 0, sizeof *rf);
    rf->version = 3;
    rf->data = f;
    rf->apply = fsm_apply_cb;
    rf->snapshot = fsm_snapshot_cb;
    rf->restore = fsm_restore_cb;
    rf->snapshot_finalize = fsm_snapshot_finalize_cb;
    rf->snapshot_async = fsm_snapshot_async_cb;
}
