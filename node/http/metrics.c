/* metrics.c: the Prometheus text page of a snapshot (metrics.h). Each
 * family is written whole (HELP, TYPE, then its samples), as the format
 * requires; histograms are written cumulative with their +Inf bucket,
 * _sum and _count, in seconds or bytes. */
#include "metrics.h"

#include <string.h>

#include "health.h"
#include "rpc_stats.h"

#define MVERSION MQ_VERSION_STRING

static void family(struct textbuf *b, const char *name, const char *type,
                   const char *help)
{
    textbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One family of a single unlabelled sample. */
static void single(struct textbuf *b, const char *name, const char *type,
                   const char *help, uint64_t v)
{
    family(b, name, type, help);
    textbuf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void single_f(struct textbuf *b, const char *name, const char *type,
                     const char *help, double v)
{
    family(b, name, type, help);
    textbuf_printf(b, "%s %.6g\n", name, v);
}

/* A histogram family from @h, whose values are in units of @scale of the
 * family's unit (1e-9: ns into seconds; 1: bytes). */
static void histogram(struct textbuf *b, const char *name, const char *help,
                      const struct histo *h, double scale)
{
    uint64_t cum = 0;
    family(b, name, "histogram", help);
    for (size_t i = 0; i < h->n_bounds; i++) {
        cum += h->counts[i];
        textbuf_printf(b, "%s_bucket{le=\"%.9g\"} %llu\n", name,
                       (double)h->bounds[i] * scale, (unsigned long long)cum);
    }
    cum += h->counts[h->n_bounds];
    textbuf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name,
                   (unsigned long long)cum);
    textbuf_printf(b, "%s_sum %.9g\n", name, (double)h->sum * scale);
    textbuf_printf(b, "%s_count %llu\n", name, (unsigned long long)h->count);
}

static void render_raft(struct textbuf *b, const struct figures *f)
{
    static const char *const roles[] = {"leader", "follower", "candidate",
                                        "unavailable"};
    const char *role = f->role ? f->role : "unavailable";

    family(b, "mq_build_info", "gauge", "The version of this mqd (always 1).");
    textbuf_printf(b, "mq_build_info{version=\"%s\"} 1\n", MVERSION);
    single(b, "mq_node_id", "gauge", "This node's id.", f->id);
    family(b, "mq_raft_role", "gauge",
           "1 for this node's raft role, 0 for the others.");
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        textbuf_printf(b, "mq_raft_role{role=\"%s\"} %d\n", roles[i],
                       strcmp(role, roles[i]) == 0);
    }
    single(b, "mq_raft_is_leader", "gauge", "1 if this node is the leader.",
           strcmp(role, "leader") == 0);
    single(b, "mq_raft_leader_id", "gauge",
           "The leader this node knows of; 0 for none.", f->leader_id);
    single(b, "mq_raft_term", "gauge", "Current raft term.", f->term);
    single(b, "mq_raft_commit_index", "gauge",
           "Highest log index known committed.", f->commit_index);
    single(b, "mq_raft_applied_index", "gauge",
           "Highest log index applied to the state machine.", f->applied_index);
    single(b, "mq_raft_last_index", "gauge",
           "Highest log index stored on this node.", f->last_index);
    single(b, "mq_raft_snapshot_index", "gauge",
           "Last log index of this node's latest snapshot.", f->snapshot_index);
    single(b, "mq_raft_voters", "gauge", "Voters in the configuration.",
           f->voters);
    single(b, "mq_raft_voters_reachable", "gauge",
           "Voters this node heard from within two election timeouts, itself "
           "included.",
           f->voters_reachable);
    single(b, "mq_raft_elections_total", "counter",
           "Elections this node started (not counting pre-votes).",
           f->elections);
    single(b, "mq_raft_leader_changes_total", "counter",
           "Leaders this node came to know (a new leader or a new term).",
           f->leader_changes);
    family(b, "mq_raft_follower_match_lag_entries", "gauge",
           "On the leader: log entries each other node has not stored yet.");
    for (size_t i = 0; i < f->n_peers; i++) {
        if (f->peers[i].match_lag >= 0) {
            textbuf_printf(b,
                           "mq_raft_follower_match_lag_entries{peer=\"%llu\"} "
                           "%lld\n",
                           (unsigned long long)f->peers[i].id,
                           (long long)f->peers[i].match_lag);
        }
    }
    family(b, "mq_clock_skew_seconds", "gauge",
           "Each other node's wall clock minus this node's, as measured from "
           "its recent messages.");
    for (size_t i = 0; i < f->n_peers; i++) {
        if (f->peers[i].skew_known) {
            textbuf_printf(b, "mq_clock_skew_seconds{peer=\"%llu\"} %.3f\n",
                           (unsigned long long)f->peers[i].id,
                           (double)f->peers[i].clock_skew_ms / 1000);
        }
    }
}

static void render_disk(struct textbuf *b, const struct figures *f)
{
    histogram(b, "mq_log_fsync_duration_seconds",
              "Raft log appends from start to completion: write and fsync.",
              &f->fsync_ns, 1e-9);
    histogram(b, "mq_snapshot_write_duration_seconds",
              "Snapshots written, from start to completion (checksum, write, "
              "fsync).",
              &f->snapshot_ns, 1e-9);
    family(b, "mq_snapshots_written_total", "counter",
           "Snapshots written: taken by this node, or installed from the "
           "leader.");
    textbuf_printf(b, "mq_snapshots_written_total{kind=\"taken\"} %llu\n",
                   (unsigned long long)f->snapshots_taken);
    textbuf_printf(b, "mq_snapshots_written_total{kind=\"installed\"} %llu\n",
                   (unsigned long long)f->snapshots_installed);
    single(b, "mq_snapshot_written_bytes_total", "counter",
           "Bytes of the snapshots written.", f->snapshot_written_bytes);
    single(b, "mq_snapshot_installing", "gauge",
           "1 while a snapshot from the leader is being installed.",
           f->installing ? 1 : 0);
    single(b, "mq_log_size_bytes", "gauge",
           "Raft log segments in the data dir.", f->log_bytes);
    single(b, "mq_snapshot_size_bytes", "gauge",
           "Snapshot files in the data dir.", f->snapshot_bytes);
    single(b, "mq_disk_free_bytes", "gauge",
           "Free space of the data dir's file system (for mqd's user).",
           f->disk_free_bytes);
    single(b, "mq_disk_size_bytes", "gauge",
           "Size of the data dir's file system.", f->disk_size_bytes);
    single(b, "mq_memory_used_bytes", "gauge",
           "Memory held by stored messages and their indexes (what the "
           "budget limits).",
           f->memory_bytes);
    single(b, "mq_memory_budget_bytes", "gauge",
           "The memory budget (memory_budget_bytes).", f->memory_budget_bytes);
}

static void render_requests(struct textbuf *b, const struct figures *f,
                            const struct metrics_http *h)
{
    single(b, "mq_client_connections", "gauge", "Client connections open.",
           f->connections);
    single(b, "mq_requests_active", "gauge",
           "Client requests being handled (waiting fetches not counted).",
           f->requests_active);
    single(b, "mq_fetches_waiting", "gauge",
           "Fetches waiting for messages (long polls).", f->waiting_fetches);
    single(b, "mq_replies_not_sent_total", "counter",
           "Replies that could not be sent (connection gone or not reading).",
           f->replies_not_sent);
    family(b, "mq_requests_total", "counter",
           "Client requests answered, by kind and status.");
    for (int k = 0; k < RPC_STATS_KINDS; k++) {
        for (int s = 0; s < RPC_STATS_STATUSES; s++) {
            uint64_t n = f->rpc.replies[k][s];
            if (n != 0) {
                textbuf_printf(b,
                               "mq_requests_total{kind=\"%s\",status=\"%s\"} "
                               "%llu\n",
                               rpc_stats_kind_name(k), rpc_stats_status_name(s),
                               (unsigned long long)n);
            }
        }
    }
    histogram(b, "mq_publish_commit_duration_seconds",
              "Publishes from received to committed and applied.",
              &f->rpc.publish_commit_ns, 1e-9);
    histogram(b, "mq_publish_reply_duration_seconds",
              "Publishes from received to replied.", &f->rpc.publish_reply_ns,
              1e-9);
    histogram(b, "mq_raft_entry_size_bytes",
              "Size of each log entry group commit proposed.", &f->entry_bytes,
              1);
    single(b, "mq_raft_entries_proposed_total", "counter",
           "Log entries proposed by group commit.", f->entries_proposed);
    single(b, "mq_raft_ops_proposed_total", "counter",
           "Operations proposed in those entries.", f->ops_proposed);
    family(b, "mq_auth_refusals_total", "counter",
           "Requests refused for a missing or wrong key, by listener.");
    textbuf_printf(b, "mq_auth_refusals_total{listener=\"http\"} %llu\n",
                   (unsigned long long)h->auth_refused);
    family(b, "mq_peer_messages_total", "counter",
           "Raft messages received from and sent to other nodes.");
    textbuf_printf(b, "mq_peer_messages_total{direction=\"in\"} %llu\n",
                   (unsigned long long)f->peer_msgs_in);
    textbuf_printf(b, "mq_peer_messages_total{direction=\"out\"} %llu\n",
                   (unsigned long long)f->peer_msgs_out);
    family(b, "mq_peer_messages_dropped_total", "counter",
           "Raft messages dropped: a peer's send buffer full, a malformed or "
           "foreign message received, an answer from an earlier term.");
    textbuf_printf(
        b,
        "mq_peer_messages_dropped_total{reason=\"send_buffer_full\"} "
        "%llu\n",
        (unsigned long long)f->peer_dropped_out);
    textbuf_printf(b,
                   "mq_peer_messages_dropped_total{reason=\"refused\"} %llu\n",
                   (unsigned long long)f->peer_bad_in);
    textbuf_printf(b,
                   "mq_peer_messages_dropped_total{reason=\"stale_result\"} "
                   "%llu\n",
                   (unsigned long long)f->peer_results_dropped);
    single(b, "mq_http_connections", "gauge", "HTTP connections open.",
           h->connections);
    single(b, "mq_http_connections_accepted_total", "counter",
           "HTTP connections accepted.", h->accepted);
    family(b, "mq_http_connections_closed_total", "counter",
           "HTTP connections closed by the node before an answer: over "
           "http_max_connections, or the request not in within "
           "http_timeout_ms, or too large.");
    textbuf_printf(b,
                   "mq_http_connections_closed_total{reason=\"limit\"} %llu\n",
                   (unsigned long long)h->refused);
    textbuf_printf(b,
                   "mq_http_connections_closed_total{reason=\"timeout\"} "
                   "%llu\n",
                   (unsigned long long)h->timeouts);
    textbuf_printf(b,
                   "mq_http_connections_closed_total{reason=\"too_large\"} "
                   "%llu\n",
                   (unsigned long long)h->too_large);
    single_f(b, "mq_figures_age_seconds", "gauge",
             "Age of the snapshot of figures this page shows.",
             (double)h->figures_age_ms / 1000);
    if (h->cert_client_ms != 0 || h->cert_peer_ms != 0) {
        family(b, "mq_tls_certificate_expiry_timestamp_seconds", "gauge",
               "When the earliest certificate of the node's certificate "
               "file expires (Unix time): client (tls_cert_file, HTTPS too) "
               "and peer (peer_tls_cert_file).");
    }
    if (h->cert_client_ms != 0) {
        textbuf_printf(b,
                       "mq_tls_certificate_expiry_timestamp_seconds"
                       "{certificate=\"client\"} %llu\n",
                       (unsigned long long)(h->cert_client_ms / 1000));
    }
    if (h->cert_peer_ms != 0) {
        textbuf_printf(b,
                       "mq_tls_certificate_expiry_timestamp_seconds"
                       "{certificate=\"peer\"} %llu\n",
                       (unsigned long long)(h->cert_peer_ms / 1000));
    }
}

/* The labels of queue row @q: queue="name". */
static void qlabel(struct textbuf *b, const char *name, const char *queue)
{
    textbuf_printf(b, "%s{queue=\"", name);
    textbuf_label(b, queue);
    textbuf_put(b, "\"} ", 3);
}

static void slabel(struct textbuf *b, const char *name, const struct fig_sub *s)
{
    textbuf_printf(b, "%s{queue=\"", name);
    textbuf_label(b, s->queue);
    textbuf_put(b, "\",subscription=\"", 16);
    textbuf_label(b, s->name);
    textbuf_put(b, "\"} ", 3);
}

#define QFIELD(b_, f_, name_, type_, help_, expr)                              \
    do {                                                                       \
        family(b_, name_, type_, help_);                                       \
        for (size_t i_ = 0; i_ < (f_)->n_queues; i_++) {                       \
            const struct fig_queue *q = &(f_)->queues[i_];                     \
            qlabel(b_, name_, q->name);                                        \
            textbuf_printf(b_, "%llu\n", (unsigned long long)(expr));          \
        }                                                                      \
    } while (0)

#define SFIELD(b_, f_, name_, type_, help_, fmt, expr)                         \
    do {                                                                       \
        family(b_, name_, type_, help_);                                       \
        for (size_t i_ = 0; i_ < (f_)->n_subs; i_++) {                         \
            const struct fig_sub *s = &(f_)->subs[i_];                         \
            slabel(b_, name_, s);                                              \
            textbuf_printf(b_, fmt "\n", (expr));                              \
        }                                                                      \
    } while (0)

static void render_queues(struct textbuf *b, const struct figures *f)
{
    single(b, "mq_queues", "gauge", "Queues on this node.", f->n_queues_total);
    single(b, "mq_subscriptions", "gauge", "Subscriptions on this node.",
           f->n_subs_total);
    single(b, "mq_metrics_queues_summed", "gauge",
           "Queues whose series are summed under queue=\"(other)\" "
           "(beyond metrics_max_queues).",
           f->queues_other ? f->queues[f->n_queues - 1].n_queues : 0);
    QFIELD(b, f, "mq_queue_messages", "gauge", "Messages stored.", q->messages);
    QFIELD(b, f, "mq_queue_messages_ready", "gauge",
           "Messages stored and due (not delayed).", q->ready);
    QFIELD(b, f, "mq_queue_messages_scheduled", "gauge",
           "Delayed messages not yet due.", q->scheduled);
    QFIELD(b, f, "mq_queue_messages_in_flight", "gauge",
           "Deliveries not acked yet, over the queue's subscriptions.",
           q->in_flight);
    QFIELD(b, f, "mq_queue_stored_bytes", "gauge", "Bytes of messages stored.",
           q->bytes);
    QFIELD(b, f, "mq_queue_dead_letter_messages", "gauge",
           "Messages in the queue's dead-letter queue.", q->dead_letter_depth);
    family(b, "mq_queue_oldest_message_age_seconds", "gauge",
           "Age of the oldest message stored (0: none).");
    for (size_t i = 0; i < f->n_queues; i++) {
        qlabel(b, "mq_queue_oldest_message_age_seconds", f->queues[i].name);
        textbuf_printf(b, "%.3f\n", (double)f->queues[i].oldest_age_ms / 1000);
    }
    QFIELD(b, f, "mq_queue_messages_published_total", "counter",
           "Messages stored: published, dead letters moved in, redriven.",
           q->counts.published);
    QFIELD(b, f, "mq_queue_duplicates_total", "counter",
           "Publishes of an id already stored (answered with its seq).",
           q->counts.duplicates);
    QFIELD(b, f, "mq_queue_messages_delivered_total", "counter",
           "Deliveries, first and repeated.", q->counts.delivered);
    QFIELD(b, f, "mq_queue_messages_redelivered_total", "counter",
           "Deliveries of a message delivered before.", q->counts.redelivered);
    QFIELD(b, f, "mq_queue_messages_acked_total", "counter", "Acks.",
           q->counts.acked);
    QFIELD(b, f, "mq_queue_messages_nacked_total", "counter", "Nacks.",
           q->counts.nacked);
    QFIELD(b, f, "mq_queue_messages_dead_lettered_total", "counter",
           "Messages a subscription gave up on (max deliveries or term).",
           q->counts.dead_lettered);
    QFIELD(b, f, "mq_queue_messages_expired_total", "counter",
           "Messages dropped by max_age, or to make room (discard old).",
           q->counts.expired);

    SFIELD(b, f, "mq_subscription_lag_messages", "gauge",
           "Messages stored and not acked by the subscription (pending, in "
           "flight and scheduled, as mqctl sub info counts them).",
           "%llu", (unsigned long long)s->lag_messages);
    SFIELD(b, f, "mq_subscription_lag_seconds", "gauge",
           "Age of the oldest message the subscription has not acked (from "
           "when it was due).",
           "%.3f", (double)s->lag_ms / 1000);
    SFIELD(b, f, "mq_subscription_messages_pending", "gauge",
           "Messages stored and not delivered yet.", "%llu",
           (unsigned long long)s->pending);
    SFIELD(b, f, "mq_subscription_messages_in_flight", "gauge",
           "Deliveries not acked yet.", "%llu",
           (unsigned long long)s->in_flight);
    SFIELD(b, f, "mq_subscription_messages_scheduled", "gauge",
           "Messages waiting for a delay or a nack delay.", "%llu",
           (unsigned long long)s->scheduled);
    SFIELD(b, f, "mq_subscription_messages_delivered_total", "counter",
           "Deliveries, first and repeated.", "%llu",
           (unsigned long long)s->delivered);
    SFIELD(b, f, "mq_subscription_messages_redelivered_total", "counter",
           "Deliveries of a message delivered before.", "%llu",
           (unsigned long long)s->redelivered);
    SFIELD(b, f, "mq_subscription_messages_acked_total", "counter",
           "Messages acked.", "%llu", (unsigned long long)s->acked);
    SFIELD(b, f, "mq_subscription_messages_dead_lettered_total", "counter",
           "Messages given up on (moved to the dead-letter queue).", "%llu",
           (unsigned long long)s->dead_lettered);
}

void metrics_render(const struct figures *f, const struct metrics_http *h,
                    struct textbuf *out)
{
    struct health hl;
    health_evaluate(f, &hl);
    render_raft(out, f);
    single(out, "mq_ready", "gauge",
           "1 if /readyz would answer 200 (see /healthz?verbose).", hl.ready);
    render_disk(out, f);
    render_requests(out, f, h);
    render_queues(out, f);
}
