/* peer.c: raft messages as protobuf over nng, around raft_uv.
 *
 * Every raft_io call but send goes to raft_uv, whose callbacks we wrap so
 * that an I/O error stops the node and so that the node hears of every
 * event. send encodes the message into an nng message at once (raft's
 * memory is not needed after that) and reports completion on the next loop
 * iteration. Received messages come from the PULL socket's nng thread
 * through the bridge, are decoded here and handed to raft; raft takes over
 * the entries and snapshot data, which are decoded straight into raft's
 * heap.
 *
 * libraft 0.15 defects guarded here (all fixed upstream in 0.16-0.18):
 * (1) Entries whose size is not a multiple of 8 bytes make 0.15 lose other
 *     entries at restart: an AppendEntries carrying one is refused whole.
 * (2) 0.15 commits the leader's last stored entry once a majority matches
 *     it, even when that entry is from an earlier term (Raft paper 5.4.2,
 *     "Figure 8"). The leader appends a barrier as soon as it is elected
 *     (consensus.c) and here drops every successful AppendEntries result
 *     whose last index is below that barrier and above the commit index:
 *     match indexes, and so the commit index, only move once a majority
 *     holds an entry of the leader's own term. (A result at or below the
 *     commit index cannot move it; one acknowledges an installed snapshot.)
 *     0.15 also counts the leader itself at its last stored index: until
 *     the barrier is on the leader's own disk that is an entry of an earlier
 *     term, which one follower's acknowledgement of the barrier would
 *     commit; so until then no success above the commit index counts.
 *     consensus.c checks on every move of the commit index that it lands
 *     on an entry of the leader's term, and stops the node if not.
 *     Also, a 0.15 follower answers an AppendEntries that added nothing with
 *     its last stored index, which may be a stale entry of an old term past
 *     what the leader sent; we cap that answer at the last index the
 *     request proved equal on both sides.
 * (5) Any raft I/O error ends the process, so that a supervisor restarts
 *     the node from its disk, rather than running on with a broken log.
 * (6) PUSH sockets get a send buffer, and every socket a receive limit.
 * (7) A 0.15 leader ignores rejections at or below the index it believes a
 *     follower matched, so a follower that lost its data dir would never be
 *     sent anything again: when a rejection of the leader's own term says
 *     the follower's log ends below that match, we reset the leader's
 *     progress for it to probing (never past the end of the leader's log),
 *     and raft sends it entries or a snapshot from there. A rejection of an
 *     older term, which raft itself ignores, is left alone.
 * (13) 0.15 sends the result of a follower's log write or snapshot install
 *     when it completes, to the leader it knows then: to none (id 0, no
 *     address, which crashed the send) after it saw a newer term, or to a
 *     leader of a later term that never asked for it. Neither goes out
 *     (peer_write.c marks the results of writes begun in an earlier term). */
#include "peer.h"

#include <nng/protocol/pipeline0/pull.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "guard.h"
#include "hash.h"
#include "log.h"
#include "peer_codec.h"
#include "segcheck.h"
#include "stopguard.h"
#include "termvote.h"
#include "tlsconf.h"
#include "wallclock.h"

struct peer_done {
    struct peer_done *next;
    struct raft_io_send *req;
    raft_io_send_cb cb;
    int status;
};

static struct peer *peer_of(struct raft_io *io)
{
    return io->impl;
}

static void peer_fire_event(struct peer *p)
{
    if (p->event_cb && !p->closing) {
        p->event_cb(p->event_arg);
    }
}

/* Guard (5): raft I/O errors are fatal. */
static void peer_io_fatal(struct peer *p, const char *what, int status)
{
    LOG_ERROR("raft I/O failed: %s: %s (%s); stopping so that a supervisor "
              "restarts the node",
              what, raft_strerror(status), p->uv.errmsg);
    _exit(1);
}

static void snap_fatal_cb(void *arg, const char *what, int status)
{
    peer_io_fatal(arg, what, status);
}

static void snap_event_cb(void *arg)
{
    peer_fire_event(arg);
}

/* The stub transport ------------------------------------------------------ */

static int stub_init(struct raft_uv_transport *t, raft_id id,
                     const char *address)
{
    (void)t;
    (void)id;
    (void)address;
    return 0;
}

static int stub_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    (void)t;
    (void)cb;
    return 0;
}

static int stub_connect(struct raft_uv_transport *t,
                        struct raft_uv_connect *req, raft_id id,
                        const char *address, raft_uv_connect_cb cb)
{
    (void)t;
    (void)req;
    (void)id;
    (void)address;
    (void)cb;
    return RAFT_NOCONNECTION;
}

static void stub_close(struct raft_uv_transport *t,
                       raft_uv_transport_close_cb cb)
{
    cb(t);
}

/* Learning client URLs ----------------------------------------------------
 *
 * Who says where a node serves clients: with peer TLS, the node itself in
 * its signed hello (peer_auth.c), so its latest word counts; without, the
 * first message of a member, and a later message saying otherwise is
 * ignored (logged once): a node's client URL then changes only through the
 * membership (the node removed and added again at another peer URL, whose
 * first message is heard anew), or when this node restarts. */

static void learn(struct peer *p, uint64_t id, const char *client_url,
                  const char *peer_url, int authenticated)
{
    struct peer_known *k = NULL;
    for (size_t i = 0; i < p->n_known; i++) {
        if (p->known[i].id == id) {
            k = &p->known[i];
            break;
        }
    }
    if (k == NULL) {
        if (p->n_known == sizeof p->known / sizeof p->known[0]) {
            return;
        }
        k = &p->known[p->n_known++];
        memset(k, 0, sizeof *k);
        k->id = id;
    }
    if (client_url == NULL || strlen(client_url) >= MQ_URL_MAX ||
        peer_url == NULL || strlen(peer_url) >= MQ_URL_MAX) {
        return;
    }
    if (!authenticated && k->client_url[0] != '\0' &&
        strcmp(k->peer_url, peer_url) == 0) {
        if (strcmp(k->client_url, client_url) != 0 && !k->warned) {
            k->warned = 1;
            LOG_WARN("node %llu says its client URL is %s, known as %s: "
                     "ignored (without peer TLS a node's client URL changes "
                     "only when it is added again, or this node restarts)",
                     (unsigned long long)id, client_url, k->client_url);
        }
        return;
    }
    strcpy(k->client_url, client_url);
    strcpy(k->peer_url, peer_url);
    k->warned = 0;
}

const char *peer_client_url(const struct peer *p, uint64_t id)
{
    for (size_t i = 0; i < p->n_known; i++) {
        if (p->known[i].id == id && p->known[i].client_url[0]) {
            return p->known[i].client_url;
        }
    }
    return NULL;
}

/* Sending ----------------------------------------------------------------- */

static void idle_cb(uv_idle_t *h);

static void done_push(struct peer *p, struct raft_io_send *req,
                      raft_io_send_cb cb, int status)
{
    struct peer_done *d = mq_malloc(sizeof *d);
    if (d == NULL) {
        LOG_ERROR("out of memory queueing a send completion; stopping");
        _exit(1);
    }
    d->next = NULL;
    d->req = req;
    d->cb = cb;
    d->status = status;
    if (p->done_tail) {
        p->done_tail->next = d;
    } else {
        p->done_head = d;
        uv_idle_start(&p->idle, idle_cb);
    }
    p->done_tail = d;
}

static void flush_done(struct peer *p, int force_status)
{
    struct peer_done *d = p->done_head;
    p->done_head = p->done_tail = NULL;
    while (d != NULL) {
        struct peer_done *next = d->next;
        if (d->cb) {
            d->cb(d->req, force_status ? force_status : d->status);
        }
        mq_free(d);
        d = next;
    }
}

static void idle_cb(uv_idle_t *h)
{
    struct peer *p = h->data;
    uv_idle_stop(h);
    flush_done(p, 0);
    peer_fire_event(p);
}

static int io_send(struct raft_io *io, struct raft_io_send *req,
                   const struct raft_message *m, raft_io_send_cb cb)
{
    struct peer *p = peer_of(io);
    struct raft_message capped;
    nng_msg *msg = NULL;
    int status;

    if (p->closing) {
        return RAFT_CANCELED;
    }
    /* Guard (13): 0.15 sends the result of a write that outlived its term to
     * the leader it knows now, or, when it knows none (a follower that saw
     * a newer term clears its leader to id 0 and no address), to nobody:
     * neither may go out. */
    if (m->server_id == 0 || m->server_address == NULL ||
        m->server_address[0] == '\0' ||
        (m->type == RAFT_IO_APPEND_ENTRIES_RESULT && p->write.stale)) {
        p->write.results_dropped++;
        LOG_DEBUG("not sending a %s to node %llu: %s",
                  m->type == RAFT_IO_APPEND_ENTRIES_RESULT ? "log write result"
                                                           : "message",
                  (unsigned long long)m->server_id,
                  p->write.stale ? "it answers a write of an earlier term"
                                 : "no such node known");
        done_push(p, req, cb, RAFT_NOCONNECTION);
        return 0;
    }
    /* A node whose clock is far ahead of a majority's does not stand for
     * election: as leader it would move the cluster's clock forward. */
    if (m->type == RAFT_IO_REQUEST_VOTE && p->io.data != NULL &&
        peer_clock_ahead(p, p->io.data)) {
        if (p->declined_term != m->request_vote.term) {
            p->declined_term = m->request_vote.term;
            LOG_WARN("not standing for election (term %llu): this node's "
                     "clock is more than max_clock_skew_ms %llu ahead of a "
                     "majority of the nodes; fix its clock",
                     (unsigned long long)m->request_vote.term,
                     (unsigned long long)p->cfg->max_clock_skew_ms);
        }
        done_push(p, req, cb, RAFT_NOCONNECTION);
        return 0;
    }
    p->self.now_ms = wallclock_ms();
    if (m->type == RAFT_IO_APPEND_ENTRIES_RESULT && p->in_append) {
        /* Guard (2), follower side: see the comment at the top. */
        capped = *m;
        capped.append_entries_result.last_log_index = guard_cap_append_result(
            p->append_prev, p->append_n, m->append_entries_result.rejected,
            m->append_entries_result.last_log_index);
        m = &capped;
    }
    status = peer_encode(&p->self, m, &msg);
    if (status == 0) {
        struct peer_conn *c =
            peer_conns_get(&p->conns, m->server_id, m->server_address);
        size_t len = nng_msg_len(msg);
        if (c == NULL || nng_sendmsg(c->sock, msg, NNG_FLAG_NONBLOCK) != 0) {
            p->dropped_out++;
            status = RAFT_NOCONNECTION;
        } else {
            msg = NULL;
            p->msgs_out++;
            p->bytes_out += len;
        }
    }
    if (msg) {
        nng_msg_free(msg);
    }
    done_push(p, req, cb, status);
    return 0;
}

/* Receiving --------------------------------------------------------------- */

static void recv_cb(void *arg) /* nng thread */
{
    struct peer *p = arg;
    int rv = nng_aio_result(p->recv_aio);
    if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
        return;
    }
    if (rv == 0) {
        bridge_push_peer(p->bridge, nng_aio_get_msg(p->recv_aio));
    }
    nng_recv_aio(p->pull, p->recv_aio);
}

/* A message that does not decode: dropped. Its connection is not closed
 * here: closing PULL pipes while their messages flow left nng 1.5.2's
 * socket close waiting forever at the node's stop (test_peer_port). A
 * connection that only sends such bytes is never bound to a member, and
 * peer_auth_sweep closes it after peer_hello_timeout_ms. */
static void drop_bad(struct peer *p, uint32_t pipe, const char *why)
{
    p->bad_in++;
    /* Log the first few, then every 1000th: a flood must not flood logs. */
    if (p->bad_in <= 10 || p->bad_in % 1000 == 0) {
        LOG_WARN("dropped a message on the peer port, connection %u (%llu "
                 "so far): %s",
                 pipe, (unsigned long long)p->bad_in, why);
    }
}

/* Clocks ------------------------------------------------------------------ */

int peer_clock_ahead(struct peer *p, const struct raft *r)
{
    uint64_t ids[CONFIG_MAX_MEMBERS * 2];
    size_t n = 0, voters = 0;
    for (unsigned i = 0; i < r->configuration.n; i++) {
        const struct raft_server *s = &r->configuration.servers[i];
        if (s->role != RAFT_VOTER) {
            continue;
        }
        voters++;
        if (s->id != p->id && n < sizeof ids / sizeof ids[0]) {
            ids[n++] = s->id;
        }
    }
    size_t behind = clockskew_behind_us(
        &p->skew, ids, n, (int64_t)p->cfg->max_clock_skew_ms, uv_now(p->loop));
    return voters > 1 && behind >= voters / 2 + 1;
}

size_t peer_voters_heard(struct peer *p, const struct raft *r,
                         uint64_t within_ms, size_t *voters)
{
    uint64_t now = uv_now(p->loop);
    size_t heard = 0;
    *voters = 0;
    for (unsigned i = 0; i < r->configuration.n; i++) {
        const struct raft_server *s = &r->configuration.servers[i];
        if (s->role != RAFT_VOTER) {
            continue;
        }
        (*voters)++;
        const struct clockskew_peer *cp = clockskew_get(&p->skew, s->id);
        if (s->id == p->id || (cp != NULL && cp->heard_ms != 0 &&
                               now - cp->heard_ms <= within_ms)) {
            heard++;
        }
    }
    return heard;
}

/* Measures node @from's clock from a message it sent at @sent_ms, warns
 * (once a minute per node) when it is more than max_clock_skew_ms off, and
 * refuses our vote to a candidate whose clock is that far ahead of ours.
 * Returns 0 if the message must be dropped. */
static int measure_clock(struct peer *p, uint64_t from, uint64_t sent_ms,
                         int type, const struct raft_message *m)
{
    uint64_t mono = uv_now(p->loop);
    int64_t max = (int64_t)p->cfg->max_clock_skew_ms;
    int64_t skew =
        clockskew_update(&p->skew, from, sent_ms, wallclock_ms(), mono);
    struct clockskew_peer *cp = clockskew_get(&p->skew, from);
    int far = skew > max || clockskew_is_behind(cp, max);
    int warn = far && (cp->warned_ms == 0 || mono - cp->warned_ms >= 60000);
    if (warn) {
        cp->warned_ms = mono;
        LOG_WARN("node %llu's clock is %lld ms %s this node's (more than "
                 "max_clock_skew_ms %lld): check both clocks (NTP)",
                 (unsigned long long)from, (long long)(skew < 0 ? -skew : skew),
                 skew < 0 ? "behind" : "ahead of", (long long)max);
    }
    if (type == RAFT_IO_REQUEST_VOTE && skew > max) {
        p->votes_refused++;
        if (warn || p->votes_refused <= 3) {
            LOG_WARN("not voting for node %llu in term %llu: its clock is "
                     "%lld ms ahead of this node's",
                     (unsigned long long)from,
                     (unsigned long long)m->request_vote.term, (long long)skew);
        }
        return 0;
    }
    return 1;
}

/* What the guards need to know of raft now. */
static struct guard_view peer_guard_view(const struct peer *p, struct raft *r)
{
    return (struct guard_view){.is_leader = raft_state(r) == RAFT_LEADER,
                               .term = r->current_term,
                               .term_first_index = p->term_first_index,
                               .last_stored = r->last_stored,
                               .commit_index = r->commit_index};
}

/* Guard (7): see the comment at the top. The progress states are 0.15's
 * PROGRESS__PROBE (0) and PROGRESS__SNAPSHOT (2). */
static void reset_if_log_lost(struct raft *r, const struct guard_view *v,
                              uint64_t from,
                              const struct raft_append_entries_result *res)
{
    raft_index last = raft_last_index(r);
    if (!v->is_leader) {
        return;
    }
    for (unsigned i = 0; i < r->configuration.n; i++) {
        struct raft_progress *pr = &r->leader_state.progress[i];
        if (r->configuration.servers[i].id != from || pr->state == 2 ||
            !guard_follower_lost_log(v, res->term, res->rejected,
                                     res->last_log_index, pr->match_index)) {
            continue;
        }
        LOG_WARN("node %llu lost its log (its last index is %llu, it had "
                 "matched %llu): replicating to it from scratch",
                 (unsigned long long)from,
                 (unsigned long long)res->last_log_index,
                 (unsigned long long)pr->match_index);
        pr->state = 0;
        pr->match_index = 0;
        /* Never past the end of our log (next index at most last + 1). */
        pr->next_index = (res->rejected < last ? res->rejected : last) + 1;
    }
}

static void tell_not_member(struct peer *p, const struct raft *r, uint64_t id,
                            const char *address)
{
    nng_msg *msg = NULL;
    struct peer_conn *c = peer_conns_get(&p->conns, id, address);
    p->self.now_ms = wallclock_ms();
    if (c == NULL ||
        peer_encode_not_member(&p->self, r->configuration_index, &msg) != 0 ||
        nng_sendmsg(c->sock, msg, NNG_FLAG_NONBLOCK) != 0) {
        if (msg) {
            nng_msg_free(msg);
        }
        return;
    }
    LOG_INFO("told node %llu (%s), which asked for votes, that it is not in "
             "the configuration",
             (unsigned long long)id, address);
}

void peer_deliver(struct peer *p, nng_msg *msg)
{
    Mq__V1__PeerMessage *pm;
    struct raft_message m;
    struct raft *r = p->io.data;
    const char *why = NULL, *url = NULL;
    uint32_t pipe = nng_pipe_id(nng_msg_get_pipe(msg));
    enum peer_verdict verdict;

    if (p->closing || p->recv_cb == NULL) {
        nng_msg_free(msg);
        return;
    }
    p->msgs_in++;
    p->bytes_in += nng_msg_len(msg);
    pm = peer_decode(nng_msg_body(msg), nng_msg_len(msg), p->self.cluster, &m,
                     &why);
    nng_msg_free(msg);
    if (pm == NULL) {
        drop_bad(p, pipe, why);
        return;
    }
    if (pm->from_id == p->id) {
        peer_message_release(&m);
        drop_bad(p, pipe, "a message from this node's own id");
        goto out;
    }
    /* Only members speak here (peer_auth.h); a hello binds the connection. */
    verdict =
        peer_auth_admit(&p->auth, &r->configuration, r->current_term, pipe, pm,
                        &m, uv_now(p->loop), wallclock_ms(), &url);
    if (url != NULL) {
        learn(p, pm->from_id, url, pm->from_address,
              pm->body_case == MQ__V1__PEER_MESSAGE__BODY_HELLO);
    }
    if (verdict == PEER_DROP) {
        peer_message_release(&m);
        goto out;
    }
    if (verdict == PEER_TELL_NOT_MEMBER) {
        /* A node that is not in our configuration (removed, and never
         * told, since a leader stops sending to what it removed) asks for
         * votes: tell it, and keep it out of our elections. */
        tell_not_member(p, r, pm->from_id, pm->from_address);
        goto out;
    }
    if (pm->sent_at_ms != 0 &&
        !measure_clock(p, pm->from_id, pm->sent_at_ms, m.type, &m)) {
        peer_message_release(&m);
        goto out;
    }
    if (pm->not_member) {
        if (p->not_member_cb) {
            p->not_member_cb(p->event_arg, pm->from_id, pm->config_index);
        }
        goto out;
    }

    /* Guard (2), leader side: see the comment at the top. Until the
     * barrier is appended (term_first_index 0), and until it is on this
     * node's own disk, no success above the commit index counts. */
    if (m.type == RAFT_IO_APPEND_ENTRIES_RESULT) {
        struct guard_view v = peer_guard_view(p, r);
        if (guard_drop_append_result(&v, m.append_entries_result.rejected,
                                     m.append_entries_result.last_log_index)) {
            goto out;
        }
        reset_if_log_lost(r, &v, pm->from_id, &m.append_entries_result);
    }
    if (m.type == RAFT_IO_APPEND_ENTRIES) {
        p->in_append = 1;
        p->append_prev = m.append_entries.prev_log_index;
        p->append_n = m.append_entries.n_entries;
    }
    p->last_in_ms = uv_now(p->loop);
    p->recv_cb(&p->io, &m);
    p->in_append = 0;
    peer_fire_event(p);
out:
    peer_decode_free(pm);
}

/* raft_io around raft_uv -------------------------------------------------- */

static int io_init(struct raft_io *io, raft_id id, const char *address)
{
    struct peer *p = peer_of(io);
    int rv;
    p->id = id;
    rv = p->uv.init(&p->uv, id, address);
    if (rv != 0) {
        memcpy(io->errmsg, p->uv.errmsg, sizeof io->errmsg);
    }
    return rv;
}

/* The last step of io_close: raft_uv is closed and no snapshot checksum
 * runs, so nothing queues a completion any more. */
static void finish_close(struct peer *p)
{
    uv_close((uv_handle_t *)&p->idle, NULL);
    uv_close((uv_handle_t *)&p->sweep, NULL);
    if (p->close_cb) {
        p->close_cb(&p->io);
    }
}

static void uv_closed_cb(struct raft_io *uvio)
{
    struct peer *p = uvio->data;
    flush_done(p, RAFT_CANCELED);
    peer_write_close(&p->write);
    if (peer_snapshot_busy(&p->snap)) {
        p->close_waiting = 1; /* snap_idle_cb ends the close */
        return;
    }
    finish_close(p);
}

static void snap_idle_cb(void *arg)
{
    struct peer *p = arg;
    if (p->close_waiting) {
        p->close_waiting = 0;
        finish_close(p);
    }
}

static void io_close(struct raft_io *io, raft_io_close_cb cb)
{
    struct peer *p = peer_of(io);
    p->closing = 1;
    p->close_cb = cb;
    stopguard_step("closing the peer sockets", STOPGUARD_NNG);
    if (p->pull_open) {
        nng_aio_stop(p->recv_aio);
        nng_close(p->pull);
        p->pull_open = 0;
    }
    peer_conns_close(&p->conns);
    stopguard_step("waiting for raft's storage to close", STOPGUARD_WAIT);
    uv_idle_stop(&p->idle);
    uv_timer_stop(&p->sweep);
    p->uv.close(&p->uv, uv_closed_cb);
}

static int io_load(struct raft_io *io, raft_term *term, raft_id *voted_for,
                   struct raft_snapshot **snapshot, raft_index *start_index,
                   struct raft_entry *entries[], size_t *n_entries)
{
    struct peer *p = peer_of(io);
    struct errmsg e = ERRMSG_INIT;
    int rv;

    /* raft_uv drops the entries after a damaged batch of an open segment,
     * and refuses bytes that never held an entry: segcheck.h. */
    if (segcheck_open(p->cfg->data_dir, &e) != MQ_OK) {
        snprintf(io->errmsg, RAFT_ERRMSG_BUF_SIZE, "%s", e.msg);
        return RAFT_CORRUPT;
    }
    rv = p->uv.load(&p->uv, term, voted_for, snapshot, start_index, entries,
                    n_entries);
    if (rv != 0) {
        memcpy(io->errmsg, p->uv.errmsg, sizeof io->errmsg);
        return rv;
    }
    /* Our checksum: libraft keeps none for snapshot data. raft frees what
     * load returned when start fails. */
    rv = peer_snapshot_check_loaded(&p->snap, *snapshot, io->errmsg);
    if (rv != 0) {
        return rv;
    }
    /* Nor for the term and vote: our copy must agree (termvote.h). */
    struct termvote tv = {*term, *voted_for};
    enum termvote_action act;
    if (termvote_check(p->cfg->data_dir, &tv, &act, &e) != MQ_OK) {
        snprintf(io->errmsg, RAFT_ERRMSG_BUF_SIZE, "%s", e.msg);
        return RAFT_CORRUPT;
    }
    if (act == TERMVOTE_COMPLETE) {
        if (tv.term != *term) {
            rv = p->uv.set_term(&p->uv, tv.term);
        }
        if (rv == 0 && tv.vote != 0) {
            rv = p->uv.set_vote(&p->uv, tv.vote);
        }
        if (rv != 0) {
            memcpy(io->errmsg, p->uv.errmsg, sizeof io->errmsg);
            return rv;
        }
        *term = tv.term;
        *voted_for = tv.vote;
    }
    return 0;
}

static void tick_wrap(struct raft_io *uvio)
{
    struct peer *p = uvio->data;
    if (p->tick_cb && !p->closing) {
        p->tick_cb(&p->io);
        peer_fire_event(p);
    }
}

static void recv_unused(struct raft_io *uvio, struct raft_message *m)
{
    (void)uvio;
    (void)m; /* the stub transport never receives */
}

static void sweep_cb(uv_timer_t *t);

static int io_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
                    raft_io_recv_cb recv)
{
    struct peer *p = peer_of(io);
    int rv;

    p->tick_cb = tick;
    p->recv_cb = recv;
    rv = p->uv.start(&p->uv, msecs, tick_wrap, recv_unused);
    if (rv != 0) {
        memcpy(io->errmsg, p->uv.errmsg, sizeof io->errmsg);
        return rv;
    }
    if ((rv = nng_pull0_open(&p->pull)) != 0) {
        snprintf(io->errmsg, sizeof io->errmsg, "peer socket: %s",
                 nng_strerror(rv));
        return RAFT_IOERR;
    }
    p->pull_open = 1;
    /* Guard (6): a receive limit (snapshots included) and a buffer. */
    nng_socket_set_size(p->pull, NNG_OPT_RECVMAXSZ,
                        (size_t)p->cfg->peer_max_message_bytes);
    nng_socket_set_int(p->pull, NNG_OPT_RECVBUF, 1024);
    {
        struct errmsg e = ERRMSG_INIT;
        if (bridge_peer_watch(p->bridge, p->pull,
                              (size_t)p->cfg->peer_max_pending_conns,
                              &e) != MQ_OK) {
            snprintf(io->errmsg, sizeof io->errmsg, "%s", e.msg);
            return RAFT_IOERR;
        }
    }
    if ((rv = tlsconf_listen(&p->pull_listener, p->pull, p->cfg->peer_url,
                             p->pull_tls)) != 0) {
        snprintf(io->errmsg, sizeof io->errmsg, "listen on peer_url %s: %s",
                 p->cfg->peer_url, nng_strerror(rv));
        return RAFT_IOERR;
    }
    uv_timer_start(&p->sweep, sweep_cb, 1000, 1000);
    if ((rv = nng_aio_alloc(&p->recv_aio, recv_cb, p)) != 0) {
        return RAFT_NOMEM;
    }
    nng_recv_aio(p->pull, p->recv_aio);
    return 0;
}

/* Closes the peer port's connections that were bound to no member in
 * time (peer_auth.h). */
static void sweep_cb(uv_timer_t *t)
{
    struct peer *p = t->data;
    if (!p->closing) {
        peer_auth_sweep(&p->auth, uv_now(p->loop));
    }
}

void peer_event(struct peer *p, enum inbound_kind kind, uint32_t pipe)
{
    if (p->closing) {
        return;
    }
    switch (kind) {
    case INBOUND_PEER_PIPE_ADD:
        peer_auth_pipe_added(&p->auth, pipe, uv_now(p->loop));
        break;
    case INBOUND_PEER_PIPE_REM:
        peer_auth_pipe_removed(&p->auth, pipe);
        break;
    case INBOUND_PEER_DIAL_UP:
        peer_conns_dial_up(&p->conns, pipe);
        break;
    default:
        break;
    }
}

mq_err peer_relisten(struct peer *p, nng_listener *l, struct errmsg *e)
{
    uint64_t quiet_ms = uv_now(p->loop) - p->last_in_ms;
    int rv;
    if (!p->pull_open || p->closing) {
        errmsg_set(e, "the peer port is closed");
        return MQ_ERR_INVALID;
    }
    if (p->last_in_ms != 0 && quiet_ms < 2 * p->cfg->election_timeout_ms) {
        errmsg_set(e,
                   "its open connections still bring messages (the last "
                   "%llu ms ago): they are not dropped",
                   (unsigned long long)quiet_ms);
        return MQ_ERR_NOT_DONE;
    }
    nng_listener_close(p->pull_listener);
    if ((rv = tlsconf_listen(&p->pull_listener, p->pull, p->cfg->peer_url,
                             p->pull_tls)) != 0) {
        errmsg_set(e, "listen on peer_url %s: %s", p->cfg->peer_url,
                   nng_strerror(rv));
        return MQ_ERR_INTERNAL;
    }
    *l = p->pull_listener;
    return MQ_OK;
}

mq_err peer_reload_tls(struct peer *p, struct errmsg *e)
{
    struct tlsconf_files f = peer_conns_tls_files(p->cfg);
    nng_tls_config *tls = NULL;
    struct tlsid *id = NULL;
    mq_err rv;

    if (p->pull_tls == NULL) {
        errmsg_set(e, "peer TLS is not configured");
        return MQ_ERR_INVALID;
    }
    if ((rv = tlsconf_server(&tls, &f, e)) != MQ_OK ||
        (rv = tlsid_load(&id, &f, e)) != MQ_OK ||
        (rv = peer_conns_reload(&p->conns, e)) != MQ_OK) {
        if (tls != NULL) {
            nng_tls_config_free(tls);
        }
        tlsid_free(id);
        return rv;
    }
    if (p->pull_open &&
        (rv = tlsconf_listener_set(p->pull_listener, p->cfg->peer_url, tls,
                                   e)) != MQ_OK) {
        nng_tls_config_free(tls);
        tlsid_free(id);
        return rv;
    }
    nng_tls_config_free(p->pull_tls);
    p->pull_tls = tls;
    peer_auth_set_id(&p->auth, id);
    return MQ_OK;
}

static int io_bootstrap(struct raft_io *io,
                        const struct raft_configuration *conf)
{
    struct peer *p = peer_of(io);
    int rv = p->uv.bootstrap(&p->uv, conf);
    if (rv != 0) {
        memcpy(io->errmsg, p->uv.errmsg, sizeof io->errmsg);
    }
    return rv;
}

static int io_recover(struct raft_io *io, const struct raft_configuration *conf)
{
    struct peer *p = peer_of(io);
    return p->uv.recover(&p->uv, conf);
}

/* Our checksummed copy of the term and vote is written (durably) before
 * raft_uv's: a crash between the two leaves it one write ahead, which the
 * next start completes (termvote.h). Both block the loop for their fsyncs,
 * once or twice per election; the debug log says how long. */
static int io_set_term(struct raft_io *io, raft_term term)
{
    struct peer *p = peer_of(io);
    struct errmsg e = ERRMSG_INIT;
    struct termvote tv = {term, 0};
    uint64_t t0 = uv_hrtime();
    if (termvote_write(p->cfg->data_dir, &tv, &e) != MQ_OK) {
        LOG_ERROR("raft I/O failed: persist term %llu: %s; stopping so that "
                  "a supervisor restarts the node",
                  (unsigned long long)term, e.msg);
        _exit(1);
    }
    uint64_t t1 = uv_hrtime();
    int rv = p->uv.set_term(&p->uv, term);
    if (rv != 0) {
        peer_io_fatal(p, "persist term", rv);
    }
    LOG_DEBUG("term %llu persisted: %s %.2f ms, raft_uv %.2f ms",
              (unsigned long long)term, TERMVOTE_FILE, (double)(t1 - t0) / 1e6,
              (double)(uv_hrtime() - t1) / 1e6);
    return rv;
}

static int io_set_vote(struct raft_io *io, raft_id server_id)
{
    struct peer *p = peer_of(io);
    struct errmsg e = ERRMSG_INIT;
    uint64_t t0 = uv_hrtime();
    if (termvote_write_vote(p->cfg->data_dir, server_id, &e) != MQ_OK) {
        LOG_ERROR("raft I/O failed: persist vote for node %llu: %s; stopping "
                  "so that a supervisor restarts the node",
                  (unsigned long long)server_id, e.msg);
        _exit(1);
    }
    uint64_t t1 = uv_hrtime();
    int rv = p->uv.set_vote(&p->uv, server_id);
    if (rv != 0) {
        peer_io_fatal(p, "persist vote", rv);
    }
    LOG_DEBUG("vote for node %llu persisted: %s %.2f ms, raft_uv %.2f ms",
              (unsigned long long)server_id, TERMVOTE_FILE,
              (double)(t1 - t0) / 1e6, (double)(uv_hrtime() - t1) / 1e6);
    return rv;
}

static int io_append(struct raft_io *io, struct raft_io_append *req,
                     const struct raft_entry entries[], unsigned n,
                     raft_io_append_cb cb)
{
    struct peer *p = peer_of(io);
    int rv = peer_write_append(&p->write, req, entries, n, cb);
    if (rv != 0 && !p->closing) {
        peer_io_fatal(p, "start log append", rv);
    }
    return rv;
}

static int io_truncate(struct raft_io *io, raft_index index)
{
    struct peer *p = peer_of(io);
    int rv = peer_write_truncate(&p->write, index);
    if (rv != 0 && !p->closing) {
        peer_io_fatal(p, "truncate log", rv);
    }
    return rv;
}

static int io_snapshot_put(struct raft_io *io, unsigned trailing,
                           struct raft_io_snapshot_put *req,
                           const struct raft_snapshot *snapshot,
                           raft_io_snapshot_put_cb cb)
{
    struct peer *p = peer_of(io);
    int rv = peer_write_snapshot_put(&p->write, trailing, req, snapshot, cb);
    if (rv != 0 && !p->closing) {
        peer_io_fatal(p, "start snapshot write", rv);
    }
    return rv;
}

static int io_snapshot_get(struct raft_io *io, struct raft_io_snapshot_get *req,
                           raft_io_snapshot_get_cb cb)
{
    return peer_snapshot_get(&peer_of(io)->snap, req, cb);
}

static raft_time io_time(struct raft_io *io)
{
    struct peer *p = peer_of(io);
    return p->uv.time(&p->uv);
}

static int io_random(struct raft_io *io, int min, int max)
{
    struct peer *p = peer_of(io);
    return p->uv.random(&p->uv, min, max);
}

static int io_async_work(struct raft_io *io, struct raft_io_async_work *req,
                         raft_io_async_work_cb cb)
{
    struct peer *p = peer_of(io);
    return p->uv.async_work(&p->uv, req, cb);
}

mq_err peer_init(struct peer *p, uv_loop_t *loop, struct bridge *bridge,
                 const struct config *cfg, struct errmsg *e)
{
    int rv;

    memset(p, 0, sizeof *p);
    p->loop = loop;
    p->bridge = bridge;
    p->cfg = cfg;
    p->self.cluster = hash64(cfg->cluster_name, strlen(cfg->cluster_name));
    p->self.id = cfg->id;
    p->self.peer_url = cfg->peer_url;
    p->self.client_url = cfg->client_url;
    p->stub.init = stub_init;
    p->stub.listen = stub_listen;
    p->stub.connect = stub_connect;
    p->stub.close = stub_close;
    rv = raft_uv_init(&p->uv, loop, cfg->data_dir, &p->stub);
    if (rv != 0) {
        errmsg_set(e, "data_dir %s: %s", cfg->data_dir, p->uv.errmsg);
        return MQ_ERR_INVALID;
    }
    p->uv.data = p;
    /* Snapshot records are written straight from message memory; compressing
     * would copy the whole state once more. */
    raft_uv_set_snapshot_compression(&p->uv, false);
    /* libraft 0.15 guard: with auto-recovery (its default) a closed log
     * segment that fails its checksum is renamed "corrupt-..." and the node
     * starts without its entries and without the ones after it, forgetting
     * entries it acknowledged to a leader (and so counted in a commit).
     * Refuse to start instead, naming the file: the operator moves the data
     * dir away and the node copies the state from its peers. */
    raft_uv_set_auto_recovery(&p->uv, false);
    uv_idle_init(loop, &p->idle);
    p->idle.data = p;
    p->snap = (struct peer_snap){.loop = loop,
                                 .uv = &p->uv,
                                 .data_dir = cfg->data_dir,
                                 .closing = &p->closing,
                                 .arg = p,
                                 .fatal_cb = snap_fatal_cb,
                                 .event_cb = snap_event_cb,
                                 .idle_cb = snap_idle_cb};
    p->write = (struct peer_write){.uv = &p->uv,
                                   .snap = &p->snap,
                                   .io = &p->io,
                                   .closing = &p->closing,
                                   .arg = p,
                                   .fatal_cb = snap_fatal_cb,
                                   .event_cb = snap_event_cb};
    if (peer_write_init(&p->write, loop, cfg->test_delay_leader_append_ms) !=
        0) {
        errmsg_set(e, "cannot set up the log writes' timer");
        return MQ_ERR_INTERNAL;
    }

    p->io.version = 2;
    p->io.impl = p;
    p->io.init = io_init;
    p->io.close = io_close;
    p->io.load = io_load;
    p->io.start = io_start;
    p->io.bootstrap = io_bootstrap;
    p->io.recover = io_recover;
    p->io.set_term = io_set_term;
    p->io.set_vote = io_set_vote;
    p->io.send = io_send;
    p->io.append = io_append;
    p->io.truncate = io_truncate;
    p->io.snapshot_put = io_snapshot_put;
    p->io.snapshot_get = io_snapshot_get;
    p->io.time = io_time;
    p->io.random = io_random;
    p->io.async_work = io_async_work;
    learn(p, cfg->id, cfg->client_url, cfg->peer_url, 1);
    uv_timer_init(loop, &p->sweep);
    p->sweep.data = p;

    /* Peer TLS: the listener's configuration (mutual: the cluster CA
     * signs both ends) and this node's identity for the hello. */
    struct tlsid *id = NULL;
    if (tlsconf_is_tls_url(cfg->peer_url)) {
        struct tlsconf_files f = peer_conns_tls_files(cfg);
        mq_err rv2 = tlsconf_server(&p->pull_tls, &f, e);
        if (rv2 == MQ_OK) {
            rv2 = tlsid_load(&id, &f, e);
        }
        if (rv2 != MQ_OK) {
            errmsg_wrap(e, "peer TLS");
            return rv2;
        }
    }
    peer_auth_init(&p->auth, cfg, bridge, id);
    peer_conns_init(&p->conns, cfg, bridge, &p->self, &p->auth.id);
    return MQ_OK;
}

void peer_free(struct peer *p)
{
    if (p->recv_aio) {
        nng_aio_free(p->recv_aio);
        p->recv_aio = NULL;
    }
    peer_conns_free(&p->conns);
    peer_auth_close(&p->auth);
    if (p->pull_tls != NULL) {
        nng_tls_config_free(p->pull_tls);
        p->pull_tls = NULL;
    }
    raft_uv_close(&p->uv);
}
