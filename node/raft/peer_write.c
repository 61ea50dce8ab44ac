/* peer_write.c: log writes and snapshot installs, with our callback first.
 *
 * Each write remembers the term it began in. When raft_uv completes it, an
 * error stops the node; otherwise raft's callback runs, and if the term has
 * changed meanwhile the AppendEntries result that raft sends from it is
 * dropped (w->stale): the leader of the new term never asked for it, and
 * the one that did is no longer leader. A follower whose write outlives an
 * election then answers its new leader's next request instead, which is
 * what upstream raft does since 0.18.
 *
 * Barriers (guard 14): in raft_uv 0.15 a truncate and a snapshot write each
 * wait on a barrier, and a barrier asked for while another is under way is
 * never run (upstream fixed it in 0.18): a truncate asked for while a
 * snapshot is written never reaches the disk, so the entries it removed
 * from raft's memory stay in the log files and come back at the next start;
 * a snapshot write asked for during a truncate never ends. So at most one
 * of them is in raft_uv at a time; the others wait here, in raft's order,
 * with every append raft asked for after them. A truncate is over when the
 * first append started after it completes (raft_uv holds appends until its
 * truncate is done, and raft 0.15 always appends right after a truncate).
 * A snapshot write is over once its callback has returned: raft_uv frees
 * its barrier only after calling it, so what waited starts on the next
 * loop iteration. */
#include "peer_write.h"

#include "alloc.h"
#include "guard.h"
#include "log.h"

struct append_op {
    struct raft_io_append req;
    struct raft_io_append *orig;
    raft_io_append_cb cb;
    struct peer_write *w;
    uint64_t term;     /* when the write began */
    uint64_t start_ns; /* uv_hrtime() then */
    const struct raft_entry *entries;
    unsigned n;
    int ends_truncate; /* the first append after a truncate */
    uint64_t first;    /* raft index of its first entry (0: unknown) */
    int leader;        /* began as leader */
};

struct put_op {
    struct raft_io_snapshot_put req;
    struct raft_io_snapshot_put *orig;
    raft_io_snapshot_put_cb cb;
    struct peer_write *w;
    uint64_t term;
    uint64_t start_ns, bytes;
    int install; /* a leader's snapshot, not ours */
    unsigned trailing;
    const struct raft_snapshot *snapshot;
};

/* An operation waiting for raft_uv's barrier to be free. */
struct peer_pending {
    struct peer_pending *next;
    enum { PENDING_APPEND, PENDING_TRUNCATE, PENDING_PUT } kind;
    struct append_op *append;
    struct put_op *put;
    raft_index index; /* PENDING_TRUNCATE */
};

/* A completed append held by the test hook. */
struct peer_held {
    struct peer_held *next;
    struct append_op *op;
    int status;
};

static uint64_t term_now(const struct peer_write *w)
{
    const struct raft *r = w->io->data;
    return r ? r->current_term : 0;
}

static int is_leader(const struct peer_write *w)
{
    struct raft *r = w->io->data;
    return r && raft_state(r) == RAFT_LEADER;
}

int peer_write_init(struct peer_write *w, uv_loop_t *loop, uint64_t hold_ms)
{
    w->loop = loop;
    w->hold_ms = hold_ms;
    histo_init(&w->append_ns, histo_latency_ns, histo_latency_ns_n);
    histo_init(&w->snapshot_ns, histo_latency_ns, histo_latency_ns_n);
    if (hold_ms == 0) {
        return 0;
    }
    int rv = uv_timer_init(loop, &w->hold_timer);
    if (rv == 0) {
        w->hold_timer.data = w;
        w->hold_timer_open = 1;
        LOG_WARN("test hook: a new leader's log writes complete %llu ms "
                 "late",
                 (unsigned long long)hold_ms);
    }
    return rv;
}

/* Runs raft's callback of a completed append. */
static void append_finish(struct append_op *op, int status)
{
    struct peer_write *w = op->w;
    uint64_t now = 0;
    if (w->stages != NULL && status == 0) {
        now = uv_hrtime();
        stages_written(w->stages, op->first, op->n, now, op->leader);
        w->stages->cb_ns = now; /* what it commits, it commits now */
    }
    w->stale = !*w->closing && !guard_result_current(op->term, term_now(w));
    op->orig->cb = op->cb;
    op->cb(op->orig, status);
    w->stale = 0;
    if (w->stages != NULL) {
        w->stages->cb_ns = 0;
    }
    mq_free(op);
    w->event_cb(w->arg);
}

static void release_held(struct peer_write *w)
{
    struct peer_held *h = w->held_head;
    w->held_head = w->held_tail = NULL;
    while (h != NULL) {
        struct peer_held *next = h->next;
        append_finish(h->op, h->status);
        mq_free(h);
        h = next;
    }
}

static void hold_timer_cb(uv_timer_t *t)
{
    release_held(t->data);
}

/* Test hook: whether to hold this completion (queued behind any held one,
 * so that raft sees completions in order). */
static int hold(struct peer_write *w, struct append_op *op, int status)
{
    if (w->hold_ms == 0 || *w->closing ||
        (w->held_head == NULL && uv_now(w->loop) >= w->hold_until_ms)) {
        return 0;
    }
    struct peer_held *h = mq_malloc(sizeof *h);
    if (h == NULL) {
        return 0;
    }
    *h = (struct peer_held){NULL, op, status};
    if (w->held_tail) {
        w->held_tail->next = h;
    } else {
        w->held_head = h;
        uint64_t now = uv_now(w->loop);
        uv_timer_start(&w->hold_timer, hold_timer_cb,
                       w->hold_until_ms > now ? w->hold_until_ms - now : 0, 0);
    }
    w->held_tail = h;
    return 1;
}

static void drain(struct peer_write *w);

static void release_cb(uv_timer_t *t)
{
    struct peer_write *w = t->data;
    if (w->put_over) {
        w->put_over = 0;
        w->put_busy = 0;
    }
    if (w->truncate_over) {
        w->truncate_over = 0;
        w->truncating = 0;
    }
    drain(w);
}

/* Sets *@flag and, on the next loop iteration, frees the barrier of what
 * it names and starts what waited. */
static void release_later(struct peer_write *w, int *flag)
{
    if (*w->closing) {
        return;
    }
    *flag = 1;
    if (!w->release_timer_open) {
        if (uv_timer_init(w->loop, &w->release_timer) != 0) {
            w->fatal_cb(w->arg, "set up the log writes' timer", RAFT_NOMEM);
            return;
        }
        w->release_timer.data = w;
        w->release_timer_open = 1;
    }
    uv_timer_start(&w->release_timer, release_cb, 0, 0);
}

static void append_done(struct raft_io_append *req, int status)
{
    struct append_op *op = req->data;
    struct peer_write *w = op->w;
    if (status != 0 && !(*w->closing && status == RAFT_CANCELED)) {
        w->fatal_cb(w->arg, "append to log", status);
    }
    if (op->ends_truncate) {
        /* raft_uv ran the truncate before this append */
        release_later(w, &w->truncate_over);
    }
    /* raft_uv completes an append once its data is written and synced
     * (fdatasync, or O_DSYNC writes): this is the node's fsync latency. */
    histo_observe(&w->append_ns, uv_hrtime() - op->start_ns);
    if (!hold(w, op, status)) {
        append_finish(op, status);
    }
}

/* Hands @op to raft_uv. */
static int start_append(struct peer_write *w, struct append_op *op)
{
    op->start_ns = uv_hrtime();
    if (w->mark_next_append || (w->pending_tail != NULL &&
                                w->pending_tail->kind == PENDING_TRUNCATE)) {
        w->mark_next_append = 0;
        op->ends_truncate = 1;
    }
    return w->uv->append(w->uv, &op->req, op->entries, op->n, append_done);
}

/* Queues an operation behind the barrier; 0, or RAFT_NOMEM. */
static int pend(struct peer_write *w, struct peer_pending p)
{
    struct peer_pending *q = mq_malloc(sizeof *q);
    if (q == NULL) {
        return RAFT_NOMEM;
    }
    *q = p;
    q->next = NULL;
    if (w->pending_tail != NULL) {
        w->pending_tail->next = q;
    } else {
        w->pending_head = q;
    }
    w->pending_tail = q;
    w->barrier_waits++;
    return 0;
}

int peer_write_append(struct peer_write *w, struct raft_io_append *req,
                      const struct raft_entry entries[], unsigned n,
                      raft_io_append_cb cb)
{
    struct append_op *op = mq_malloc(sizeof *op);
    int rv;
    if (op == NULL) {
        return RAFT_NOMEM;
    }
    *op = (struct append_op){
        .orig = req, .cb = cb, .w = w, .entries = entries, .n = n};
    op->req.data = op;
    op->term = term_now(w);
    op->leader = is_leader(w);
    if (w->stages != NULL && w->io->data != NULL) {
        /* raft appends at the end of its log, leader and follower alike. */
        op->first = raft_last_index(w->io->data) + 1 - n;
        stages_begun(w->stages, op->first, n, uv_hrtime());
    }
    if (w->hold_ms && is_leader(w) && w->hold_term != op->term) {
        w->hold_term = op->term;
        w->hold_until_ms = uv_now(w->loop) + w->hold_ms;
    }
    if (w->pending_head != NULL) { /* behind a waiting truncate or put */
        op->start_ns = uv_hrtime();
        rv = pend(w,
                  (struct peer_pending){.kind = PENDING_APPEND, .append = op});
    } else {
        rv = start_append(w, op);
    }
    if (rv != 0) {
        mq_free(op);
    }
    return rv;
}

static int start_truncate(struct peer_write *w, raft_index index)
{
    int rv = w->uv->truncate(w->uv, index);
    if (rv == 0) {
        w->truncating = 1;
        w->mark_next_append = 1;
    }
    return rv;
}

int peer_write_truncate(struct peer_write *w, raft_index index)
{
    if (w->mark_next_append || (w->pending_tail != NULL &&
                                w->pending_tail->kind == PENDING_TRUNCATE)) {
        /* raft 0.15 appends right after each truncate: a second one
         * before that would never be seen to end. */
        return RAFT_INVALID;
    }
    if (w->pending_head != NULL || w->put_busy || w->truncating) {
        return pend(
            w, (struct peer_pending){.kind = PENDING_TRUNCATE, .index = index});
    }
    return start_truncate(w, index);
}

static void put_done(struct raft_io_snapshot_put *req, int status)
{
    struct put_op *op = req->data;
    struct peer_write *w = op->w;
    /* peer_snap has dealt with errors and sends the event. */
    if (op->install) {
        w->installing--;
    }
    if (status == 0) {
        *(op->install ? &w->snapshots_installed : &w->snapshots_taken) += 1;
        w->snapshot_bytes_total += op->bytes;
        histo_observe(&w->snapshot_ns, uv_hrtime() - op->start_ns);
    }
    w->stale = !*w->closing && !guard_result_current(op->term, term_now(w));
    op->orig->cb = op->cb;
    op->cb(op->orig, status);
    w->stale = 0;
    mq_free(op);
    release_later(w, &w->put_over);
}

static int start_put(struct peer_write *w, struct put_op *op)
{
    op->start_ns = uv_hrtime();
    w->put_busy = 1;
    int rv = peer_snapshot_put(w->snap, op->trailing, &op->req, op->snapshot,
                               put_done);
    if (rv != 0) {
        w->put_busy = 0;
    }
    return rv;
}

int peer_write_snapshot_put(struct peer_write *w, unsigned trailing,
                            struct raft_io_snapshot_put *req,
                            const struct raft_snapshot *snapshot,
                            raft_io_snapshot_put_cb cb)
{
    struct put_op *op = mq_malloc(sizeof *op);
    int rv;
    if (op == NULL) {
        return RAFT_NOMEM;
    }
    *op = (struct put_op){.orig = req, .cb = cb, .w = w};
    op->req.data = op;
    op->term = term_now(w);
    op->start_ns = uv_hrtime();
    /* libraft 0.15 stores its own snapshots with the request in struct
     * raft (r->snapshot.put), and one sent by a leader with a request of
     * its own. */
    const struct raft *r = w->io->data;
    op->install = r == NULL || req != &r->snapshot.put;
    for (unsigned i = 0; i < snapshot->n_bufs; i++) {
        op->bytes += snapshot->bufs[i].len;
    }
    op->trailing = trailing;
    op->snapshot = snapshot;
    w->installing += op->install;
    if (w->pending_head != NULL || w->put_busy || w->truncating) {
        rv = pend(w, (struct peer_pending){.kind = PENDING_PUT, .put = op});
    } else {
        rv = start_put(w, op);
    }
    if (rv != 0) {
        w->installing -= op->install;
        mq_free(op);
    }
    return rv;
}

/* Starts what waited, in order, as far as the barrier allows. A failure to
 * start is an I/O error (raft already counts on the operation). */
static void drain(struct peer_write *w)
{
    while (w->pending_head != NULL && !*w->closing) {
        struct peer_pending *q = w->pending_head;
        int rv = 0;
        if (q->kind != PENDING_APPEND && (w->put_busy || w->truncating)) {
            return;
        }
        w->pending_head = q->next;
        if (w->pending_head == NULL) {
            w->pending_tail = NULL;
        }
        switch (q->kind) {
        case PENDING_APPEND:
            rv = start_append(w, q->append);
            break;
        case PENDING_TRUNCATE:
            rv = start_truncate(w, q->index);
            break;
        case PENDING_PUT:
            rv = start_put(w, q->put);
            break;
        }
        mq_free(q);
        if (rv != 0) {
            w->fatal_cb(w->arg, "start a log write that waited", rv);
            return;
        }
    }
}

/* At close: what never reached raft_uv ends as raft_uv ends its own. */
static void cancel_pending(struct peer_write *w)
{
    struct peer_pending *q = w->pending_head;
    w->pending_head = w->pending_tail = NULL;
    while (q != NULL) {
        struct peer_pending *next = q->next;
        if (q->kind == PENDING_APPEND) {
            append_finish(q->append, RAFT_CANCELED);
        } else if (q->kind == PENDING_PUT) {
            struct put_op *op = q->put;
            w->installing -= op->install;
            op->orig->cb = op->cb;
            op->cb(op->orig, RAFT_CANCELED);
            mq_free(op);
        }
        mq_free(q);
        q = next;
    }
}

void peer_write_close(struct peer_write *w)
{
    cancel_pending(w);
    release_held(w);
    if (w->release_timer_open) {
        w->release_timer_open = 0;
        uv_close((uv_handle_t *)&w->release_timer, NULL);
    }
    if (w->hold_timer_open) {
        w->hold_timer_open = 0;
        uv_close((uv_handle_t *)&w->hold_timer, NULL);
    }
}
