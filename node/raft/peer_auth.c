/* peer_auth.c: binding peer connections to member ids (peer_auth.h). */
#include "peer_auth.h"

#include <string.h>

#include "alloc.h"
#include "log.h"
#include "pemfile.h"
#include "pipeabort.h"

/* At most one log line per reason in this time. */
#define LOG_EVERY_MS 10000

enum { WHY_HELLO, WHY_BEFORE_HELLO, WHY_NOT_MEMBER, WHY_OTHER_ID, WHY_TIMEOUT };

struct peer_pipe {
    uint32_t pipe;
    uint64_t id;       /* the member it is bound to; 0: none yet */
    uint64_t added_ms; /* loop time */
    uint64_t dropped;  /* messages dropped before it was bound */
};

void peer_auth_init(struct peer_auth *a, const struct config *cfg,
                    struct bridge *bridge, struct tlsid *id)
{
    memset(a, 0, sizeof *a);
    a->cfg = cfg;
    a->bridge = bridge;
    a->id = id;
    hmap_init(&a->pipes);
}

void peer_auth_close(struct peer_auth *a)
{
    for (size_t i = 0; i < a->pipes.cap; i++) {
        mq_free(a->pipes.slots[i].val);
    }
    hmap_close(&a->pipes);
    tlsid_free(a->id);
    a->id = NULL;
}

void peer_auth_set_id(struct peer_auth *a, struct tlsid *id)
{
    tlsid_free(a->id);
    a->id = id;
}

/* Whether to log for @why now (at most once per LOG_EVERY_MS). */
static int may_log(struct peer_auth *a, int why, uint64_t now)
{
    if (a->logged_ms[why] != 0 && now - a->logged_ms[why] < LOG_EVERY_MS) {
        return 0;
    }
    a->logged_ms[why] = now ? now : 1;
    return 1;
}

static struct peer_pipe *pipe_get(struct peer_auth *a, uint32_t pipe,
                                  uint64_t now)
{
    struct peer_pipe *pp = hmap_get(&a->pipes, pipe);
    if (pp == NULL && (pp = mq_calloc(1, sizeof *pp)) != NULL) {
        pp->pipe = pipe;
        pp->added_ms = now;
        if (hmap_put(&a->pipes, pipe, pp) != MQ_OK) {
            mq_free(pp);
            pp = NULL;
        }
    }
    return pp;
}

void peer_auth_pipe_added(struct peer_auth *a, uint32_t pipe, uint64_t now)
{
    (void)pipe_get(a, pipe, now);
}

void peer_auth_pipe_removed(struct peer_auth *a, uint32_t pipe)
{
    mq_free(hmap_del(&a->pipes, pipe));
    hmap_shrink(&a->pipes);
}

/* Closes @pipe, which may be sending still: pipeabort.h says why not
 * nng_pipe_close. Its REM event frees its state. */
static void close_pipe(struct peer_auth *a, uint32_t pipe)
{
    nng_pipe p = NNG_PIPE_INITIALIZER;
    p.id = pipe;
    a->closed++;
    pipe_abort(p);
}

static void bind_pipe(struct peer_auth *a, struct peer_pipe *pp, uint64_t id)
{
    pp->id = id;
    bridge_peer_pipe_bound(a->bridge, pp->pipe);
}

static const struct raft_server *member(const struct raft_configuration *conf,
                                        uint64_t id)
{
    for (unsigned i = 0; i < conf->n; i++) {
        if (conf->servers[i].id == id) {
            return &conf->servers[i];
        }
    }
    return NULL;
}

static uint64_t message_term(const struct raft_message *m)
{
    switch (m->type) {
    case RAFT_IO_APPEND_ENTRIES:
        return m->append_entries.term;
    case RAFT_IO_INSTALL_SNAPSHOT:
        return m->install_snapshot.term;
    default:
        return 0;
    }
}

/* A hello on @pp: checked (signed, with peer TLS) and @pp bound. */
static enum peer_verdict hello(struct peer_auth *a,
                               const struct raft_configuration *conf,
                               struct peer_pipe *pp,
                               const Mq__V1__PeerMessage *pm, uint64_t now,
                               uint64_t wall_ms, const char **learn_url)
{
    const struct raft_server *s = member(conf, pm->from_id);
    struct errmsg e = ERRMSG_INIT;
    char host[256];

    if (a->id == NULL) { /* peer TLS off: the sender's word */
        if (pp->id == 0 && (s != NULL || conf->n == 0)) {
            bind_pipe(a, pp, pm->from_id);
        }
        return PEER_DROP;
    }
    /* The certificate must name the host of the member's peer URL as this
     * node's configuration has it; a node not in it is checked against
     * the URL it gives (its messages are then judged as a non-member's). */
    pemfile_url_host(s != NULL ? s->address : pm->from_address, host,
                     sizeof host);
    struct peer_hello_ctx ctx = {.id = a->id,
                                 .cluster_name = a->cfg->cluster_name,
                                 .self_id = a->cfg->id,
                                 .now_ms = wall_ms,
                                 .max_skew_ms = a->cfg->max_clock_skew_ms,
                                 .host = host,
                                 .seen = &a->seen};
    if (pp->id != 0 && pp->id != pm->from_id) {
        errmsg_set(&e, "connection already bound to node %llu",
                   (unsigned long long)pp->id);
    } else if (peer_hello_verify(pm, &ctx, &e) == MQ_OK) {
        a->hellos_ok++;
        if (pp->id == 0) {
            LOG_INFO("peer connection %u authenticated as node %llu (%s)",
                     pp->pipe, (unsigned long long)pm->from_id,
                     pm->from_address);
        }
        bind_pipe(a, pp, pm->from_id);
        *learn_url = pm->from_client_url;
        return PEER_DROP;
    }
    a->hellos_failed++;
    if (may_log(a, WHY_HELLO, now) || a->hellos_failed <= 3) {
        LOG_WARN("peer connection %u closed: its hello as node %llu (%s) "
                 "failed: %s (%llu hellos refused so far)",
                 pp->pipe, (unsigned long long)pm->from_id, pm->from_address,
                 e.msg, (unsigned long long)a->hellos_failed);
    }
    close_pipe(a, pp->pipe);
    return PEER_DROP;
}

enum peer_verdict peer_auth_admit(struct peer_auth *a,
                                  const struct raft_configuration *conf,
                                  uint64_t term, uint32_t pipe,
                                  const Mq__V1__PeerMessage *pm,
                                  const struct raft_message *m, uint64_t now,
                                  uint64_t wall_ms, const char **learn_url)
{
    struct peer_pipe *pp = pipe_get(a, pipe, now);
    int is_member = conf->n == 0 || member(conf, pm->from_id) != NULL;

    *learn_url = NULL;
    if (pp == NULL) {
        return PEER_DROP; /* out of memory: raft tolerates a lost message */
    }
    if (pm->body_case == MQ__V1__PEER_MESSAGE__BODY_HELLO) {
        return hello(a, conf, pp, pm, now, wall_ms, learn_url);
    }
    if (a->id != NULL && pp->id == 0) {
        a->dropped_before_hello++;
        pp->dropped++;
        if (may_log(a, WHY_BEFORE_HELLO, now)) {
            LOG_WARN("dropped a message from node %llu on peer connection "
                     "%u: it came before the connection's hello (%llu so "
                     "far)",
                     (unsigned long long)pm->from_id, pipe,
                     (unsigned long long)a->dropped_before_hello);
        }
        return PEER_DROP;
    }
    if (pp->id != 0 && pp->id != pm->from_id) {
        if (may_log(a, WHY_OTHER_ID, now)) {
            LOG_WARN("peer connection %u closed: bound to node %llu, it "
                     "carried a message from node %llu",
                     pipe, (unsigned long long)pp->id,
                     (unsigned long long)pm->from_id);
        }
        close_pipe(a, pipe);
        return PEER_DROP;
    }
    if (!is_member) {
        if (m->type == RAFT_IO_REQUEST_VOTE) {
            return PEER_TELL_NOT_MEMBER;
        }
        if (!((m->type == RAFT_IO_APPEND_ENTRIES ||
               m->type == RAFT_IO_INSTALL_SNAPSHOT) &&
              message_term(m) >= term)) {
            a->dropped_not_member++;
            if (may_log(a, WHY_NOT_MEMBER, now)) {
                LOG_WARN("dropped a message from node %llu (%s): not in "
                         "this node's configuration (%llu so far)",
                         (unsigned long long)pm->from_id, pm->from_address,
                         (unsigned long long)a->dropped_not_member);
            }
            return PEER_DROP;
        }
    }
    if (pp->id == 0) {
        bind_pipe(a, pp, pm->from_id); /* peer TLS off: the sender's word */
    }
    if (a->id == NULL && is_member) {
        *learn_url = pm->from_client_url;
    }
    return PEER_ADMIT;
}

void peer_auth_sweep(struct peer_auth *a, uint64_t now)
{
    uint64_t timeout = a->cfg->peer_hello_timeout_ms;
    for (size_t i = 0; i < a->pipes.cap; i++) {
        struct peer_pipe *pp = a->pipes.slots[i].val;
        if (pp != NULL && pp->id == 0 && now - pp->added_ms >= timeout &&
            pp->added_ms != UINT64_MAX) {
            a->timed_out++;
            if (may_log(a, WHY_TIMEOUT, now)) {
                LOG_WARN("peer connection %u closed: no member's %s in %llu "
                         "ms (%llu messages dropped; %llu connections "
                         "closed so far for this)",
                         pp->pipe, a->id ? "hello" : "hello or message",
                         (unsigned long long)timeout,
                         (unsigned long long)pp->dropped,
                         (unsigned long long)a->timed_out);
            }
            pp->added_ms = UINT64_MAX; /* closed once */
            close_pipe(a, pp->pipe);
        }
    }
}

void peer_auth_counts(const struct peer_auth *a, uint64_t *open,
                      uint64_t *bound)
{
    *open = a->pipes.len;
    *bound = 0;
    for (size_t i = 0; i < a->pipes.cap; i++) {
        const struct peer_pipe *pp = a->pipes.slots[i].val;
        if (pp != NULL && pp->id != 0) {
            (*bound)++;
        }
    }
}
