/* peer_write.c: log writes and snapshot installs, with our callback first.
 *
 * Each write remembers the term it began in. When raft_uv completes it, an
 * error stops the node; otherwise raft's callback runs, and if the term has
 * changed meanwhile the AppendEntries result that raft sends from it is
 * dropped (w->stale): the leader of the new term never asked for it, and
 * the one that did is no longer leader. A follower whose write outlives an
 * election then answers its new leader's next request instead, which is
 * what upstream raft does since 0.18. */
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
};

struct put_op {
    struct raft_io_snapshot_put req;
    struct raft_io_snapshot_put *orig;
    raft_io_snapshot_put_cb cb;
    struct peer_write *w;
    uint64_t term;
    uint64_t start_ns, bytes;
    int install; /* a leader's snapshot, not ours */
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
    w->stale = !*w->closing && !guard_result_current(op->term, term_now(w));
    op->orig->cb = op->cb;
    op->cb(op->orig, status);
    w->stale = 0;
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

static void append_done(struct raft_io_append *req, int status)
{
    struct append_op *op = req->data;
    struct peer_write *w = op->w;
    if (status != 0 && !(*w->closing && status == RAFT_CANCELED)) {
        w->fatal_cb(w->arg, "append to log", status);
    }
    /* raft_uv completes an append once its data is written and synced
     * (fdatasync, or O_DSYNC writes): this is the node's fsync latency. */
    histo_observe(&w->append_ns, uv_hrtime() - op->start_ns);
    if (!hold(w, op, status)) {
        append_finish(op, status);
    }
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
    *op = (struct append_op){.orig = req, .cb = cb, .w = w};
    op->req.data = op;
    op->term = term_now(w);
    op->start_ns = uv_hrtime();
    if (w->hold_ms && is_leader(w) && w->hold_term != op->term) {
        w->hold_term = op->term;
        w->hold_until_ms = uv_now(w->loop) + w->hold_ms;
    }
    rv = w->uv->append(w->uv, &op->req, entries, n, append_done);
    if (rv != 0) {
        mq_free(op);
    }
    return rv;
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
    w->installing += op->install;
    rv = peer_snapshot_put(w->snap, trailing, &op->req, snapshot, put_done);
    if (rv != 0) {
        w->installing -= op->install;
        mq_free(op);
    }
    return rv;
}

void peer_write_close(struct peer_write *w)
{
    release_held(w);
    if (w->hold_timer_open) {
        w->hold_timer_open = 0;
        uv_close((uv_handle_t *)&w->hold_timer, NULL);
    }
}
