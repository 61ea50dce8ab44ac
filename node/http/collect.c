/* collect.c: the loop thread's snapshot of the node's figures (see
 * collect.h). Queues are ranked by bytes stored (then messages); the
 * first metrics_max_queues are listed, each with up to
 * FIGURES_SUBS_PER_QUEUE subscriptions (the largest lag first), and the
 * rest are summed into FIGURES_OTHER rows, so that a node with 10,000
 * queues produces a page of the same size as one with 50. */
#include "collect.h"

#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "alloc.h"
#include "diskuse.h"
#include "wallclock.h"

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Ranks queues: more bytes first, then more messages, then by name. */
static int cmp_queue_size(const void *a, const void *b)
{
    const struct queue *x = *(const struct queue *const *)a;
    const struct queue *y = *(const struct queue *const *)b;
    if (x->msgs.n_bytes != y->msgs.n_bytes) {
        return x->msgs.n_bytes > y->msgs.n_bytes ? -1 : 1;
    }
    if (x->msgs.n_msgs != y->msgs.n_msgs) {
        return x->msgs.n_msgs > y->msgs.n_msgs ? -1 : 1;
    }
    return strcmp(x->cfg.name, y->cfg.name);
}

static int cmp_sub_lag(const void *a, const void *b)
{
    const struct fig_sub *x = a, *y = b;
    if (x->lag_messages != y->lag_messages) {
        return x->lag_messages > y->lag_messages ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

static uint64_t age_ms(uint64_t now_ms, uint64_t t_ms)
{
    return now_ms > t_ms ? now_ms - t_ms : 0;
}

/* The figures of subscription @s of @q, as `mqctl sub info` counts them
 * (rpc/call.c's call_sub_counts), and the age of its oldest message not
 * acked (queue_sub_oldest). */
static void sub_figures(const struct queue *q, const struct sub *s,
                        uint64_t now_ms, struct fig_sub *out)
{
    uint64_t from =
        s->next_seq < q->msgs.first_seq ? q->msgs.first_seq : s->next_seq;
    const struct msg *oldest = queue_sub_oldest(q, s);

    memset(out, 0, sizeof *out);
    snprintf(out->queue, sizeof out->queue, "%s", q->cfg.name);
    snprintf(out->name, sizeof out->name, "%s", s->cfg.name);
    out->n_subs = 1;
    out->pending = q->msgs.last_seq >= from ? q->msgs.last_seq - from + 1 : 0;
    out->scheduled = sub_scheduled(s);
    out->in_flight = sub_in_flight(s) - out->scheduled;
    out->lag_messages = out->pending + out->in_flight + out->scheduled;
    out->lag_ms = oldest ? age_ms(now_ms, oldest->rec.deliver_at_ms) : 0;
    out->delivered = s->delivered;
    out->redelivered = s->redelivered;
    out->acked = s->acked;
    out->dead_lettered = s->dead_lettered;
}

/* Adds @s into the summed row @sum. */
static void sub_add(struct fig_sub *sum, const struct fig_sub *s)
{
    sum->n_subs += s->n_subs;
    sum->lag_messages += s->lag_messages;
    if (s->lag_ms > sum->lag_ms) {
        sum->lag_ms = s->lag_ms;
    }
    sum->pending += s->pending;
    sum->in_flight += s->in_flight;
    sum->scheduled += s->scheduled;
    sum->delivered += s->delivered;
    sum->redelivered += s->redelivered;
    sum->acked += s->acked;
    sum->dead_lettered += s->dead_lettered;
}

static void queue_figures(const struct fsm *f, const struct queue *q,
                          uint64_t now_ms, struct fig_queue *out)
{
    const struct msg *first = NULL;
    uint64_t delayed = q->delayed.len;

    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", q->cfg.name);
    out->n_queues = 1;
    out->messages = q->msgs.n_msgs;
    out->bytes = q->msgs.n_bytes;
    /* Delayed messages not yet due: the queue's schedule holds them (and
     * may still hold some removed before their time); the ring counts
     * the delayed ones stored (some perhaps due). Both bound it. */
    if (q->msgs.n_delayed < delayed) {
        delayed = q->msgs.n_delayed;
    }
    out->scheduled = delayed < out->messages ? delayed : out->messages;
    out->ready = out->messages - out->scheduled;
    for (size_t j = 0; j < q->n_subs; j++) {
        out->in_flight += sub_in_flight(q->subs[j]) - sub_scheduled(q->subs[j]);
    }
    out->subscriptions = q->n_subs;
    if (q->cfg.dead_letter_queue[0] != '\0') {
        const struct queue *d = fsm_queue(f, q->cfg.dead_letter_queue);
        out->dead_letter_depth = d ? d->msgs.n_msgs : 0;
    }
    if (q->msgs.n_msgs > 0) {
        first = queue_get(q, q->msgs.first_seq);
    }
    out->oldest_age_ms = first ? age_ms(now_ms, first->rec.published_at_ms) : 0;
    out->counts = q->counts;
}

static void queue_add(struct fig_queue *sum, const struct fig_queue *q)
{
    sum->n_queues += q->n_queues;
    sum->messages += q->messages;
    sum->bytes += q->bytes;
    sum->ready += q->ready;
    sum->scheduled += q->scheduled;
    sum->in_flight += q->in_flight;
    sum->dead_letter_depth += q->dead_letter_depth;
    if (q->oldest_age_ms > sum->oldest_age_ms) {
        sum->oldest_age_ms = q->oldest_age_ms;
    }
    sum->subscriptions += q->subscriptions;
    sum->counts.published += q->counts.published;
    sum->counts.duplicates += q->counts.duplicates;
    sum->counts.delivered += q->counts.delivered;
    sum->counts.redelivered += q->counts.redelivered;
    sum->counts.acked += q->counts.acked;
    sum->counts.nacked += q->counts.nacked;
    sum->counts.dead_lettered += q->counts.dead_lettered;
    sum->counts.expired += q->counts.expired;
}

/* Appends the subscription rows of listed queue @q to @fg (room made by
 * the caller: at most FIGURES_SUBS_PER_QUEUE + 1), the largest lag first,
 * summing the rest. @tmp holds q->n_subs rows. */
static void list_subs(struct figures *fg, const struct queue *q,
                      uint64_t now_ms, struct fig_sub *tmp)
{
    for (size_t j = 0; j < q->n_subs; j++) {
        sub_figures(q, q->subs[j], now_ms, &tmp[j]);
    }
    if (q->n_subs > FIGURES_SUBS_PER_QUEUE) {
        qsort(tmp, q->n_subs, sizeof *tmp, cmp_sub_lag);
    }
    for (size_t j = 0; j < q->n_subs; j++) {
        if (j < FIGURES_SUBS_PER_QUEUE) {
            fg->subs[fg->n_subs++] = tmp[j];
            continue;
        }
        if (j == FIGURES_SUBS_PER_QUEUE) {
            struct fig_sub *sum = &fg->subs[fg->n_subs++];
            memset(sum, 0, sizeof *sum);
            snprintf(sum->queue, sizeof sum->queue, "%s", q->cfg.name);
            snprintf(sum->name, sizeof sum->name, "%s", FIGURES_OTHER);
        }
        sub_add(&fg->subs[fg->n_subs - 1], &tmp[j]);
    }
}

mq_err collect_queue_rows(struct figures *fg, const struct fsm *f,
                          uint64_t max_listed, uint64_t now_ms)
{
    size_t n = f->n_queues;
    size_t listed = n < max_listed ? n : (size_t)max_listed;
    size_t max_subs = 0, sub_rows = 1;
    struct queue **order = mq_malloc((n ? n : 1) * sizeof *order);
    struct fig_sub *tmp = NULL;

    if (order == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    if (n > 0) {
        memcpy(order, f->queues, n * sizeof *order);
        qsort(order, n, sizeof *order, cmp_queue_size);
    }
    for (size_t i = 0; i < n; i++) {
        fg->n_subs_total += f->queues[i]->n_subs;
        if (i < listed) {
            size_t k = order[i]->n_subs;
            max_subs = k > max_subs ? k : max_subs;
            sub_rows +=
                k > FIGURES_SUBS_PER_QUEUE ? FIGURES_SUBS_PER_QUEUE + 1 : k;
        }
    }
    fg->n_queues_total = n;
    fg->queues = mq_calloc(listed + 1, sizeof *fg->queues);
    fg->subs = mq_calloc(sub_rows, sizeof *fg->subs);
    tmp = mq_calloc(max_subs ? max_subs : 1, sizeof *tmp);
    if (fg->queues == NULL || fg->subs == NULL || tmp == NULL) {
        mq_free(order);
        mq_free(tmp);
        return MQ_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < listed; i++) {
        queue_figures(f, order[i], now_ms, &fg->queues[fg->n_queues++]);
        list_subs(fg, order[i], now_ms, tmp);
    }
    if (listed < n) {
        struct fig_queue *qsum = &fg->queues[fg->n_queues++];
        struct fig_sub *ssum = &fg->subs[fg->n_subs];
        struct fig_queue one;
        struct fig_sub s;
        fg->queues_other = 1;
        memset(qsum, 0, sizeof *qsum);
        snprintf(qsum->name, sizeof qsum->name, "%s", FIGURES_OTHER);
        memset(ssum, 0, sizeof *ssum);
        snprintf(ssum->queue, sizeof ssum->queue, "%s", FIGURES_OTHER);
        snprintf(ssum->name, sizeof ssum->name, "%s", FIGURES_OTHER);
        for (size_t i = listed; i < n; i++) {
            queue_figures(f, order[i], now_ms, &one);
            queue_add(qsum, &one);
            for (size_t j = 0; j < order[i]->n_subs; j++) {
                sub_figures(order[i], order[i]->subs[j], now_ms, &s);
                sub_add(ssum, &s);
            }
        }
        if (ssum->n_subs > 0) {
            fg->n_subs++;
        }
    }
    mq_free(order);
    mq_free(tmp);
    return MQ_OK;
}

static void collect_raft(struct figures *fg, const struct collect_sources *s)
{
    struct raft *r = &s->cons->raft;
    uint64_t mono = uv_now(s->peer->loop);
    size_t voters = 0;
    int leader = consensus_is_leader(s->cons);

    fg->role = consensus_role(s->cons);
    fg->leader_ready = consensus_leader_ready(s->cons);
    fg->leader_id = consensus_leader(s->cons, NULL);
    fg->term = r->current_term;
    fg->commit_index = r->commit_index;
    fg->applied_index = r->last_applied;
    fg->last_index = raft_last_index(r);
    fg->snapshot_index = r->log.snapshot.last_index;
    fg->voters_reachable =
        peer_voters_heard(s->peer, r, 2 * s->cfg->election_timeout_ms, &voters);
    fg->voters = voters;
    fg->elections = s->cons->elections;
    fg->leader_changes = s->cons->leader_changes;
    fg->removed = s->cons->removed;
    fg->rejoining = s->cons->rejoining;
    for (unsigned i = 0; i < r->configuration.n; i++) {
        const struct raft_server *sv = &r->configuration.servers[i];
        struct fig_peer *p;
        const struct clockskew_peer *cp;
        if (sv->id == s->cfg->id || fg->n_peers == FIGURES_MAX_PEERS) {
            continue;
        }
        p = &fg->peers[fg->n_peers++];
        p->id = sv->id;
        p->voter = sv->role == RAFT_VOTER;
        p->match_lag = -1;
        if (leader && r->leader_state.progress != NULL) {
            uint64_t match = r->leader_state.progress[i].match_index;
            p->match_lag =
                (int64_t)(fg->last_index > match ? fg->last_index - match : 0);
        }
        cp = clockskew_get(&s->peer->skew, sv->id);
        if (cp != NULL && cp->heard_ms != 0 &&
            mono - cp->heard_ms <= CLOCKSKEW_FRESH_MS) {
            p->skew_known = 1;
            p->clock_skew_ms = cp->skew_ms;
        }
    }
}

static void collect_disk(struct figures *fg, const struct collect_sources *s)
{
    struct disk_use du;
    struct statvfs vfs;

    disk_use_read(s->cfg->data_dir, &du);
    fg->log_bytes = du.log_bytes;
    fg->snapshot_bytes = du.snapshot_bytes;
    fg->disk_free_bytes = du.free_bytes;
    if (statvfs(s->cfg->data_dir, &vfs) == 0) {
        fg->disk_size_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
    }
    fg->memory_bytes = fsm_mem_bytes(s->fsm);
    fg->memory_budget_bytes = s->cfg->memory_budget_bytes;
    fg->fsync_ns = s->peer->write.append_ns;
    fg->snapshots_taken = s->peer->write.snapshots_taken;
    fg->snapshots_installed = s->peer->write.snapshots_installed;
    fg->snapshot_written_bytes = s->peer->write.snapshot_bytes_total;
    fg->snapshot_ns = s->peer->write.snapshot_ns;
    fg->installing = s->peer->write.installing;
}

struct figures *collect_figures(const struct collect_sources *s)
{
    struct figures *fg = figures_new();
    struct bridge_stats bs;

    if (fg == NULL) {
        return NULL;
    }
    fg->taken_mono_ms = mono_ms();
    fg->taken_wall_ms = wallclock_ms();
    fg->id = s->cfg->id;
    fg->ready_max_apply_lag = s->cfg->ready_max_apply_lag;
    collect_raft(fg, s);
    collect_disk(fg, s);

    bridge_stats(s->bridge, &bs);
    fg->connections = bs.connections;
    fg->requests_active = bs.active;
    fg->replies_not_sent = bs.replies_not_sent;
    fg->waiting_fetches = waitset_count(&s->rpc->waiting);
    fg->requests_total = s->rpc->requests;
    fg->rpc = s->rpc->stats;
    fg->entry_bytes = s->batch->entry_bytes;
    fg->entries_proposed = s->batch->entries;
    fg->ops_proposed = s->batch->ops;
    fg->peer_dropped_out = s->peer->dropped_out;
    fg->peer_bad_in = s->peer->bad_in;
    fg->peer_results_dropped = s->peer->write.results_dropped;
    fg->peer_msgs_in = s->peer->msgs_in;
    fg->peer_msgs_out = s->peer->msgs_out;

    if (collect_queue_rows(fg, s->fsm, s->cfg->metrics_max_queues,
                           fg->taken_wall_ms) != MQ_OK) {
        figures_release(fg);
        return NULL;
    }
    return fg;
}
