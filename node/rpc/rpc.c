/* rpc.c: client requests: decode, validate, route, reply.
 *
 * A request over max_request_bytes is refused (TOO_LARGE, naming both
 * sizes, logged) before it is decoded.
 *
 * Happy path for a write: decode the Request, check it against this node's
 * applied state (so that bad input is refused before it reaches the log),
 * hand one op to batch.c, and answer from the FSM's result once the entry
 * is applied. Reads are answered at once from the applied state. Failure
 * modes: malformed bytes (PROTOCOL), invalid values (INVALID and friends,
 * naming the field), not leader (NOT_LEADER with the leader's URL),
 * refused before anything was done (NOT_DONE: a leader still applying the
 * log, a node shutting down or removed), leadership lost after proposing
 * (UNAVAILABLE: the outcome is unknown; retry with the same ids).
 * Every path replies exactly once and frees the call. Queue and
 * subscription admin is in rpc_admin.c, fetch in rpc_fetch.c, acks in
 * rpc_ack.c,
 * catch-up reads and message status in rpc_read.c. */
#include "rpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "call.h"
#include "cmd.h"
#include "errors.h"
#include "log.h"
#include "names.h"
#include "pbconv.h"
#include "pbscan.h"
#include "rpc_ack.h"
#include "rpc_admin.h"
#include "rpc_auth.h"
#include "rpc_fetch.h"
#include "rpc_keys.h"
#include "rpc_members.h"
#include "rpc_nodestatus.h"
#include "rpc_publish.h"
#include "rpc_read.h"

/* Dispatch ---------------------------------------------------------------- */

/* mqctl node reload-tls: this node's TLS files, read again. */
static void reload_tls(struct rpc *r, struct call *call)
{
    struct errmsg e = ERRMSG_INIT;
    char detail[256] = "";
    mq_err rv = MQ_ERR_INVALID;

    if (r->reload_tls_cb == NULL) {
        errmsg_set(&e, "node %llu cannot reload TLS",
                   (unsigned long long)r->cfg->id);
    } else {
        rv = r->reload_tls_cb(r->reload_tls_arg, detail, sizeof detail, &e);
    }
    if (rv != MQ_OK) {
        LOG_ERROR("reload TLS (request): %s; the old TLS settings stay", e.msg);
        call_reply_error(call, rv, "reload TLS on node %llu: %s",
                         (unsigned long long)r->cfg->id, e.msg);
        return;
    }
    LOG_INFO("reload TLS (request): %s", detail);
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    reply.detail = detail;
    call_reply(call, &reply);
}

void rpc_handle(void *arg, struct rpc_req *req, const void *data, size_t len)
{
    struct rpc *r = arg;
    struct call *call = mq_calloc(1, sizeof *call);

    r->requests++;
    if (call == NULL) {
        bridge_reply(req, NULL); /* the client's call times out */
        return;
    }
    call->rpc = r;
    call->req = req;
    call->loop_ns = uv_hrtime();
    if (r->c->removed) {
        call_reply_error(call, MQ_ERR_NOT_DONE,
                         "node %llu was removed from the cluster",
                         (unsigned long long)r->cfg->id);
        return;
    }
    if (r->closing) {
        call_reply_error(call, MQ_ERR_NOT_DONE, "node %llu is shutting down",
                         (unsigned long long)r->cfg->id);
        return;
    }
    if (len > r->cfg->max_request_bytes) {
        /* The bridge hands these over so that they get an answer: refused
         * before they are even decoded. */
        LOG_WARN("refused a request of %zu bytes: over max_request_bytes "
                 "%llu",
                 len, (unsigned long long)r->cfg->max_request_bytes);
        call_reply_error(call, MQ_ERR_TOO_LARGE,
                         "request of %zu bytes is over this node's "
                         "max_request_bytes of %llu bytes",
                         len, (unsigned long long)r->cfg->max_request_bytes);
        return;
    }
    call->in = mq__v1__request_raw__unpack(&cmd_pb_alloc, len, data);
    if (call->in == NULL) {
        call_reply_error(call, MQ_ERR_PROTOCOL,
                         "request of %zu bytes is not an mq request", len);
        return;
    }
    /* Any node checks the key against its applied keys; a request may
     * wait here for the check of a bootstrap secret. */
    if (rpc_auth_check(call)) {
        rpc_route(call);
    }
}

void rpc_route(struct call *call)
{
    struct rpc *r = call->rpc;
    int is_write = 1; /* or a read the leader answers */
    switch (call->in->body_case) {
    /* Served by any node from its applied state. Queue and subscription
     * info and lists go to the leader like writes, so that an operator
     * reads what was just changed. */
    case MQ__V1__REQUEST_RAW__BODY_STATUS:
    case MQ__V1__REQUEST_RAW__BODY_READ:
    case MQ__V1__REQUEST_RAW__BODY_MESSAGE_STATUS:
    case MQ__V1__REQUEST_RAW__BODY_RELOAD_TLS: /* this node's own files */
        is_write = 0;
        break;
    default:
        break;
    }
    if (is_write && !consensus_is_leader(r->c)) {
        call_reply_not_leader(call);
        return;
    }
    /* A leader just elected has not applied every committed entry yet: it
     * must not judge requests by that state (nor answer reads sent to the
     * leader for their freshness). */
    if (consensus_is_leader(r->c) && !consensus_leader_ready(r->c) &&
        call->in->body_case != MQ__V1__REQUEST_RAW__BODY_STATUS &&
        call->in->body_case != MQ__V1__REQUEST_RAW__BODY_RELOAD_TLS) {
        call_reply_error(call, MQ_ERR_NOT_DONE,
                         "node %llu was just elected leader and is applying "
                         "the log: retry",
                         (unsigned long long)r->cfg->id);
        return;
    }
    rpc_auth_audit(call);
    switch (call->in->body_case) {
    case MQ__V1__REQUEST_RAW__BODY_PUBLISH:
        rpc_publish(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_CREATE:
        rpc_queue_create(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_UPDATE:
        rpc_queue_update(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_INFO:
        rpc_queue_info(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_LIST:
        rpc_queue_list(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_DELETE:
        rpc_queue_delete(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_QUEUE_PURGE:
        rpc_queue_purge(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_REDRIVE:
        rpc_redrive(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_SUB_CREATE:
        rpc_sub_create(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_SUB_INFO:
        rpc_sub_info(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_SUB_LIST:
        rpc_sub_list(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_SUB_DELETE:
        rpc_sub_delete(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_FETCH:
        rpc_fetch(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_ACK:
        rpc_ack(call, SUB_ACK);
        break;
    case MQ__V1__REQUEST_RAW__BODY_NACK:
        rpc_ack(call, SUB_NACK);
        break;
    case MQ__V1__REQUEST_RAW__BODY_TOUCH:
        rpc_ack(call, SUB_TOUCH);
        break;
    case MQ__V1__REQUEST_RAW__BODY_TERM:
        rpc_ack(call, SUB_TERM);
        break;
    case MQ__V1__REQUEST_RAW__BODY_CANCEL:
        rpc_cancel(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_READ:
        rpc_read(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_MESSAGE_STATUS:
        rpc_message_status(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_STATUS:
        rpc_status(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_NODE_ADD:
        rpc_node_add(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_NODE_REMOVE:
        rpc_node_remove(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_LEADER_TRANSFER:
        rpc_leader_transfer(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_MEMBERS:
        rpc_members(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_KEY_CREATE:
        rpc_key_create(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_KEY_UPDATE:
        rpc_key_update(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_KEY_ROTATE:
        rpc_key_rotate(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_KEY_REVOKE:
        rpc_key_revoke(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_KEY_INFO:
        rpc_key_info(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_KEY_LIST:
        rpc_key_list(call);
        break;
    case MQ__V1__REQUEST_RAW__BODY_RELOAD_TLS:
        reload_tls(r, call);
        break;
    default:
        call_reply_error(call, MQ_ERR_PROTOCOL, "request has no known body");
        break;
    }
}

void rpc_init(struct rpc *r, uv_loop_t *loop, struct bridge *b,
              struct consensus *c, struct batch *batch, struct fsm *f,
              struct peer *p, const struct config *cfg)
{
    memset(r, 0, sizeof *r);
    r->bridge = b;
    r->c = c;
    r->batch = batch;
    r->f = f;
    r->peer = p;
    r->cfg = cfg;
    rpc_stats_init(&r->stats);
    waitset_init(&r->waiting);
    uv_timer_init(loop, &r->wait_timer);
    r->wait_timer.data = r;
    uv_check_init(loop, &r->read_check);
    r->read_check.data = r;
    uv_timer_init(loop, &r->mc_timer);
    r->mc_timer.data = r;
}

void rpc_leader_changed(struct rpc *r, int leader)
{
    if (!leader) {
        rpc_members_leader_lost(r);
        rpc_fail_waiting(r, MQ_ERR_NOT_LEADER);
        batch_fail_waiting(r->batch, MQ_ERR_NOT_LEADER);
        /* Reservations were for deliveries this leader proposed. */
        for (size_t i = 0; i < r->f->n_queues; i++) {
            for (size_t j = 0; j < r->f->queues[i]->n_subs; j++) {
                r->f->queues[i]->subs[j]->reserved = 0;
            }
        }
    }
}

void rpc_on_publish(void *arg, struct queue *q)
{
    rpc_wake(arg, q);
}

void rpc_on_note(void *arg, int level, const char *line)
{
    struct rpc *r = arg;
    if (consensus_leader_ready(r->c)) {
        LOG_AT(level, "%s", line);
    } else {
        LOG_DEBUG("%s (applied as a follower, or again from the log)", line);
    }
}

void rpc_close(struct rpc *r)
{
    r->closing = 1;
    rpc_fail_waiting(r, MQ_ERR_NOT_DONE); /* none had a delivery proposed */
    waitset_close(&r->waiting);
    rpc_reads_tick(r, UINT64_MAX);
    uv_timer_stop(&r->wait_timer);
    uv_close((uv_handle_t *)&r->wait_timer, NULL);
    uv_check_stop(&r->read_check);
    uv_close((uv_handle_t *)&r->read_check, NULL);
    rpc_members_close(r);
}
