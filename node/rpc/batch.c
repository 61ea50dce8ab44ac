/* batch.c: group commit.
 *
 * Happy path: batch_add queues an op and arms the check handle; after the
 * loop iteration's events, flush packs every queued op (up to
 * max_entry_bytes per entry) into a Command stamped with the leader's clock
 * and proposes it. When raft applies the entry, the FSM leaves one result
 * per op and applied_cb hands each to its op's callback, in order. Failure
 * modes: not leader or out of memory when proposing (each op's callback
 * gets the error at once); leadership lost before commit (raft calls
 * applied_cb with an error; each op gets MQ_ERR_UNAVAILABLE, as its outcome
 * is unknown). */
#include "batch.h"

#include <raft.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "cmd.h"
#include "log.h"
#include "wallclock.h"

struct proposal {
    struct raft_apply req;
    struct batch *b;
    uint64_t proposed_ns;
    size_t n;
    struct batch_item items[];
};

/* Records, for a publish or a delivery op (others are not measured), the
 * stage @pub or @del from @from_ns to @to_ns (stages.h). @op_case is
 * read before the op's callback, which may free the op. */
static void record(struct batch *b, int op_case, enum stage_id pub,
                   enum stage_id del, uint64_t from_ns, uint64_t to_ns)
{
    if (op_case == MQ__V1__OP__OP_PUBLISH) {
        stages_record(&b->c->stages, pub, from_ns, to_ns);
    } else if (op_case == MQ__V1__OP__OP_DELIVER) {
        stages_record(&b->c->stages, del, from_ns, to_ns);
    }
}

static void idle_noop(uv_idle_t *h)
{
    (void)h; /* only keeps the loop from blocking until check runs */
}

static void arm(struct batch *b)
{
    if (b->n_items > 0 && b->inflight < b->cfg->max_inflight_entries) {
        uv_idle_start(&b->idle, idle_noop);
    } else {
        uv_idle_stop(&b->idle);
    }
}

static void fail_items(struct batch_item *items, size_t n, mq_err err)
{
    for (size_t i = 0; i < n; i++) {
        items[i].cb(items[i].arg, err, NULL, NULL, 0);
    }
}

static void applied_cb(struct raft_apply *req, int status, void *result)
{
    struct proposal *pr = req->data;
    struct batch *b = pr->b;
    const struct fsm *f = result;

    b->inflight--;
    if (status != 0 || f == NULL) {
        mq_err err =
            status == RAFT_NOMEM ? MQ_ERR_NO_MEMORY : MQ_ERR_UNAVAILABLE;
        LOG_DEBUG("entry of %zu ops not applied here: %s", pr->n,
                  raft_strerror(status));
        fail_items(pr->items, pr->n, err);
    } else {
        /* The FSM answered every op of this Command, in order. */
        uint64_t applied_ns = uv_hrtime();
        for (size_t i = 0; i < pr->n; i++) {
            const struct fsm_op_result *r = i < f->n_ops ? &f->ops[i] : NULL;
            struct batch_item *it = &pr->items[i];
            int op_case = it->op->op_case;
            record(b, op_case, STAGE_PUB_COMMIT, STAGE_DEL_COMMIT,
                   pr->proposed_ns, applied_ns);
            if (r == NULL) {
                it->cb(it->arg, MQ_ERR_INTERNAL, NULL, NULL, req->index);
            } else {
                it->cb(it->arg, MQ_OK, r, f, req->index);
            }
            record(b, op_case, STAGE_PUB_REPLY, STAGE_DEL_REPLY, applied_ns,
                   uv_hrtime());
        }
    }
    mq_free(pr);
    arm(b);
}

/* Proposes the first @n waiting items as one entry. */
static void propose(struct batch *b, size_t n)
{
    struct proposal *pr;
    Mq__V1__Command cmd = MQ__V1__COMMAND__INIT;
    Mq__V1__Op **ops;
    void *buf = NULL;
    size_t len = 0;
    mq_err rv;

    pr = mq_malloc(sizeof *pr + n * sizeof pr->items[0]);
    ops = mq_malloc(n * sizeof *ops);
    if (pr == NULL || ops == NULL) {
        mq_free(pr);
        mq_free(ops);
        rv = MQ_ERR_NO_MEMORY;
        goto fail;
    }
    pr->b = b;
    pr->n = n;
    pr->req.data = pr;
    pr->proposed_ns = uv_hrtime();
    memcpy(pr->items, b->items, n * sizeof pr->items[0]);
    for (size_t i = 0; i < n; i++) {
        record(b, pr->items[i].op->op_case, STAGE_PUB_QUEUE, STAGE_DEL_QUEUE,
               pr->items[i].batched_ns, pr->proposed_ns);
    }
    for (size_t i = 0; i < n; i++) {
        ops[i] = b->items[i].op;
    }
    cmd.now_ms = wallclock_ms();
    cmd.ids_budget_bytes = b->cfg->ids_budget_bytes; /* fsm/evict.h */
    cmd.ops = ops;
    cmd.n_ops = n;
    rv = cmd_pack(&cmd, &buf, &len);
    mq_free(ops);
    if (rv == MQ_OK) {
        rv = consensus_propose(b->c, &pr->req, buf, len, applied_cb);
        if (rv != MQ_OK) {
            raft_free(buf);
        }
    }
    if (rv != MQ_OK) {
        mq_free(pr);
        goto fail;
    }
    b->inflight++;
    b->entries++;
    histo_observe(&b->entry_bytes, len);
    b->ops += n;
    memmove(b->items, b->items + n, (b->n_items - n) * sizeof *b->items);
    b->n_items -= n;
    return;
fail : {
    /* Take the items out first: their callbacks may add new ones. */
    struct batch_item *failed = mq_malloc(n * sizeof *failed);
    if (failed == NULL) {
        LOG_ERROR("out of memory failing a batch; stopping");
        _exit(1);
    }
    memcpy(failed, b->items, n * sizeof *failed);
    memmove(b->items, b->items + n, (b->n_items - n) * sizeof *b->items);
    b->n_items -= n;
    fail_items(failed, n, rv);
    mq_free(failed);
}
}

static void flush(struct batch *b)
{
    while (b->n_items > 0 && b->inflight < b->cfg->max_inflight_entries) {
        size_t n = 0, bytes = 0;
        while (n < b->n_items && (n == 0 || bytes + b->items[n].bytes <=
                                                b->cfg->max_entry_bytes)) {
            bytes += b->items[n].bytes;
            n++;
        }
        propose(b, n);
    }
    arm(b);
}

static void check_cb(uv_check_t *h)
{
    flush(h->data);
}

void batch_init(struct batch *b, uv_loop_t *loop, struct consensus *c,
                struct fsm *f, const struct config *cfg)
{
    memset(b, 0, sizeof *b);
    b->c = c;
    b->f = f;
    b->cfg = cfg;
    histo_init(&b->entry_bytes, histo_size_bytes, histo_size_bytes_n);
    uv_check_init(loop, &b->check);
    b->check.data = b;
    uv_check_start(&b->check, check_cb);
    uv_idle_init(loop, &b->idle);
    b->idle.data = b;
}

mq_err batch_add(struct batch *b, Mq__V1__Op *op, size_t bytes, batch_cb cb,
                 void *arg)
{
    if (b->n_items == b->cap_items) {
        size_t cap = b->cap_items ? b->cap_items * 2 : 64;
        struct batch_item *items = mq_realloc(b->items, cap * sizeof *items);
        if (items == NULL) {
            return MQ_ERR_NO_MEMORY;
        }
        b->items = items;
        b->cap_items = cap;
    }
    b->items[b->n_items].op = op;
    b->items[b->n_items].bytes = bytes + 16;
    b->items[b->n_items].cb = cb;
    b->items[b->n_items].arg = arg;
    b->items[b->n_items].batched_ns = uv_hrtime();
    b->n_items++;
    arm(b);
    return MQ_OK;
}

void batch_fail_waiting(struct batch *b, mq_err err)
{
    size_t n = b->n_items;
    if (n == 0) {
        return;
    }
    struct batch_item *failed = mq_malloc(n * sizeof *failed);
    if (failed == NULL) {
        LOG_ERROR("out of memory failing a batch; stopping");
        _exit(1);
    }
    memcpy(failed, b->items, n * sizeof *failed);
    b->n_items = 0;
    fail_items(failed, n, err);
    mq_free(failed);
    arm(b);
}

void batch_close(struct batch *b)
{
    batch_fail_waiting(b, MQ_ERR_NOT_DONE); /* never proposed */
    uv_check_stop(&b->check);
    uv_idle_stop(&b->idle);
    uv_close((uv_handle_t *)&b->check, NULL);
    uv_close((uv_handle_t *)&b->idle, NULL);
    mq_free(b->items);
    b->items = NULL;
}
