/* admin.c: queue administration, and the call that subscription
 * administration (subadmin.c) shares. Creates, deletes, purges and redrives
 * go to the leader; info and list are reads, answered by the known leader
 * (freshest) or any node. Queue names are the caller's in the client's
 * namespace (client_qname). */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "client.h"
#include "conn.h"
#include "lasterr.h"

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src != NULL ? src : "");
}

void admin_queue_config_to_pb(Mq__V1__QueueConfig *pb, const mq_queue_config *c,
                              const struct admin_names *names)
{
    static const Mq__V1__QueueConfig init = MQ__V1__QUEUE_CONFIG__INIT;

    *pb = init;
    pb->name = (char *)names->queue;
    pb->retention = c->retention == MQ_RETENTION_WORK
                        ? MQ__V1__RETENTION__RETENTION_WORK
                        : MQ__V1__RETENTION__RETENTION_LIMITS;
    pb->discard = c->discard == MQ_DISCARD_REJECT
                      ? MQ__V1__DISCARD__DISCARD_REJECT
                      : MQ__V1__DISCARD__DISCARD_OLD;
    pb->max_messages = c->max_messages;
    pb->max_bytes = c->max_bytes;
    pb->max_age_ms = c->max_age_ms;
    pb->max_message_bytes = c->max_message_bytes;
    pb->duplicate_window_ms = c->duplicate_window_ms;
    pb->ack_timeout_ms = c->ack_timeout_ms;
    pb->max_deliveries = c->max_deliveries;
    pb->delay_ms = c->delay_ms;
    pb->max_delay_ms = c->max_delay_ms;
    pb->dead_letter_queue = (char *)names->dlq;
    pb->status_ttl_ms = c->status_ttl_ms;
    pb->status_max = c->status_max;
}

void admin_queue_info_from_pb(mq_queue_info *out, const Mq__V1__QueueInfo *pb)
{
    const Mq__V1__QueueConfig *c = pb->config;

    memset(out, 0, sizeof *out);
    if (c != NULL) {
        copy_str(out->name, sizeof out->name, c->name);
        out->retention = c->retention == MQ__V1__RETENTION__RETENTION_WORK
                             ? MQ_RETENTION_WORK
                             : MQ_RETENTION_LIMITS;
        out->discard = c->discard == MQ__V1__DISCARD__DISCARD_REJECT
                           ? MQ_DISCARD_REJECT
                           : MQ_DISCARD_OLD;
        out->max_messages = c->max_messages;
        out->max_bytes = c->max_bytes;
        out->max_age_ms = c->max_age_ms;
        out->max_message_bytes = c->max_message_bytes;
        out->duplicate_window_ms = c->duplicate_window_ms;
        out->ack_timeout_ms = c->ack_timeout_ms;
        out->max_deliveries = c->max_deliveries;
        out->delay_ms = c->delay_ms;
        out->max_delay_ms = c->max_delay_ms;
        copy_str(out->dead_letter_queue, sizeof out->dead_letter_queue,
                 c->dead_letter_queue);
        out->status_ttl_ms = c->status_ttl_ms;
        out->status_max = c->status_max;
    }
    out->messages = pb->messages;
    out->bytes = pb->bytes;
    out->first_seq = pb->first_seq;
    out->last_seq = pb->last_seq;
    out->subscriptions = pb->subscriptions;
    out->created_at_ms = pb->created_at_ms;
    out->scheduled = pb->scheduled;
    out->remembered_ids = pb->remembered_ids;
    out->duplicate_ids = pb->duplicate_ids;
    out->ack_records = pb->ack_records;
    out->ids_bytes = pb->ids_bytes;
    out->oldest_age_ms = pb->oldest_age_ms;
}

mq_err admin_queue_config_check(const mq_queue_config *c, const char *ns,
                                struct admin_names *names)
{
    mq_err rv = check_qname(c->name, ns, "queue name", names->queue);

    names->dlq[0] = '\0';
    if (rv == MQ_OK && c->dead_letter_queue != NULL &&
        c->dead_letter_queue[0] != '\0') {
        rv = check_qname(c->dead_letter_queue, ns, "dead-letter queue name",
                         names->dlq);
    }
    if (rv != MQ_OK) {
        return rv;
    }
    if (c->retention != MQ_RETENTION_LIMITS &&
        c->retention != MQ_RETENTION_WORK) {
        return lasterr_fail(MQ_ERR_INVALID, "retention %d is unknown",
                            (int)c->retention);
    }
    if (c->discard != MQ_DISCARD_OLD && c->discard != MQ_DISCARD_REJECT) {
        return lasterr_fail(MQ_ERR_INVALID, "discard %d is unknown",
                            (int)c->discard);
    }
    if (c->max_delay_ms != 0 && c->delay_ms > c->max_delay_ms) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "delay_ms %llu is over max_delay_ms %llu",
                            (unsigned long long)c->delay_ms,
                            (unsigned long long)c->max_delay_ms);
    }
    return MQ_OK;
}

/* ---- calls ----------------------------------------------------------- */

mq_err admin_call(mq_client *c, const char *what, enum conn_route route,
                  uint32_t timeout_ms, const Mq__V1__Request *req,
                  Mq__V1__Reply__BodyCase want, Mq__V1__Reply **out)
{
    struct conn_call call = {
        .what = what,
        .route = route,
        .timeout_ms = client_timeout(c, timeout_ms),
    };
    mq_err rv = conn_call(c->conn, &call, req, out);

    if (rv == MQ_OK && want != MQ__V1__REPLY__BODY__NOT_SET &&
        (*out)->body_case != want) {
        int got = (int)(*out)->body_case;
        mq__v1__reply__free_unpacked(*out, NULL);
        *out = NULL;
        return lasterr_fail(MQ_ERR_PROTOCOL,
                            "%s: the reply has body %d, not %d", what, got,
                            (int)want);
    }
    return rv;
}

void admin_release(Mq__V1__Reply *r)
{
    if (r != NULL) {
        mq__v1__reply__free_unpacked(r, NULL);
    }
}

MQ_API mq_err mq_queue_create(mq_client *c, const mq_queue_config *cfg,
                              mq_queue_info *info, uint32_t timeout_ms)
{
    Mq__V1__QueueCreateRequest qc = MQ__V1__QUEUE_CREATE_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__QueueConfig pb;
    Mq__V1__Reply *r = NULL;
    struct admin_names names;
    char what[MQ_QNAME_MAX + 32];
    mq_err rv;

    if (c == NULL || cfg == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "create queue: %s is NULL",
                            c == NULL ? "client" : "config");
    }
    if ((rv = admin_queue_config_check(cfg, c->opts.ns, &names)) != MQ_OK) {
        lasterr_wrap("create queue");
        return rv;
    }
    snprintf(what, sizeof what, "create queue %s", names.queue);
    admin_queue_config_to_pb(&pb, cfg, &names);
    qc.config = &pb;
    req.body_case = MQ__V1__REQUEST__BODY_QUEUE_CREATE;
    req.queue_create = &qc;
    rv = admin_call(c, what, CONN_LEADER, timeout_ms, &req,
                    info != NULL ? MQ__V1__REPLY__BODY_QUEUE
                                 : MQ__V1__REPLY__BODY__NOT_SET,
                    &r);
    if (rv == MQ_OK && info != NULL) {
        admin_queue_info_from_pb(info, r->queue);
    }
    admin_release(r);
    return rv;
}

MQ_API mq_err mq_queue_update(mq_client *c, const mq_queue_config *cfg,
                              uint32_t set, mq_queue_info *info,
                              uint32_t timeout_ms)
{
    Mq__V1__QueueUpdateRequest qu = MQ__V1__QUEUE_UPDATE_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__QueueConfig pb;
    Mq__V1__Reply *r = NULL;
    struct admin_names names;
    char what[MQ_QNAME_MAX + 32];
    mq_err rv;

    if (c == NULL || cfg == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "update queue: %s is NULL",
                            c == NULL ? "client" : "config");
    }
    if ((rv = admin_queue_config_check(cfg, c->opts.ns, &names)) != MQ_OK) {
        lasterr_wrap("update queue");
        return rv;
    }
    if (set == 0 || (set & ~MQ_QUEUE_SET_ALL) != 0) {
        return lasterr_fail(MQ_ERR_INVALID, "update queue %s: %s", names.queue,
                            set == 0 ? "no setting to change"
                                     : "name and retention cannot change");
    }
    snprintf(what, sizeof what, "update queue %s", names.queue);
    admin_queue_config_to_pb(&pb, cfg, &names);
    qu.config = &pb;
    qu.set = set;
    req.body_case = MQ__V1__REQUEST__BODY_QUEUE_UPDATE;
    req.queue_update = &qu;
    rv = admin_call(c, what, CONN_LEADER, timeout_ms, &req,
                    info != NULL ? MQ__V1__REPLY__BODY_QUEUE
                                 : MQ__V1__REPLY__BODY__NOT_SET,
                    &r);
    if (rv == MQ_OK && info != NULL) {
        admin_queue_info_from_pb(info, r->queue);
    }
    admin_release(r);
    return rv;
}

MQ_API mq_err mq_queue_info_get(mq_client *c, const char *name,
                                mq_queue_info *info, uint32_t timeout_ms)
{
    Mq__V1__QueueInfoRequest qi = MQ__V1__QUEUE_INFO_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__Reply *r = NULL;
    char what[MQ_QNAME_MAX + 32], qname[MQ_QNAME_MAX + 1];
    mq_err rv;

    if (c == NULL || info == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "get queue: %s is NULL",
                            c == NULL ? "client" : "info");
    }
    if ((rv = client_qname(c, name, "queue name", qname)) != MQ_OK) {
        lasterr_wrap("get queue");
        return rv;
    }
    snprintf(what, sizeof what, "get queue %s", qname);
    qi.name = qname;
    req.body_case = MQ__V1__REQUEST__BODY_QUEUE_INFO;
    req.queue_info = &qi;
    rv = admin_call(c, what, CONN_ANY, timeout_ms, &req,
                    MQ__V1__REPLY__BODY_QUEUE, &r);
    if (rv == MQ_OK) {
        admin_queue_info_from_pb(info, r->queue);
    }
    admin_release(r);
    return rv;
}

MQ_API mq_err mq_queue_list(mq_client *c, mq_queue_info **out, size_t *n,
                            uint32_t timeout_ms)
{
    Mq__V1__QueueListRequest ql = MQ__V1__QUEUE_LIST_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__Reply *r = NULL;
    mq_queue_info *list;
    size_t count = 0;
    mq_err rv;

    if (c == NULL || out == NULL || n == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "list queues: an argument is "
                                            "NULL");
    }
    *out = NULL;
    *n = 0;
    req.body_case = MQ__V1__REQUEST__BODY_QUEUE_LIST;
    req.queue_list = &ql;
    rv = admin_call(c, "list queues", CONN_ANY, timeout_ms, &req,
                    MQ__V1__REPLY__BODY__NOT_SET, &r);
    if (rv != MQ_OK) {
        return rv;
    }
    if (r->body_case == MQ__V1__REPLY__BODY_QUEUES) {
        count = r->queues->n_queues;
    } else if (r->body_case != MQ__V1__REPLY__BODY__NOT_SET) {
        admin_release(r);
        return lasterr_fail(MQ_ERR_PROTOCOL,
                            "list queues: the reply is not a queue list");
    }
    list = calloc(count + 1, sizeof *list);
    if (list == NULL) {
        admin_release(r);
        return lasterr_fail(MQ_ERR_NO_MEMORY, "list queues: out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        admin_queue_info_from_pb(&list[i], r->queues->queues[i]);
    }
    admin_release(r);
    *out = list;
    *n = count;
    return MQ_OK;
}

MQ_API void mq_queue_list_free(mq_queue_info *list)
{
    free(list);
}

/* A request that names one queue and is answered without a body: delete,
 * purge. @verb says what ("delete"). */
static mq_err queue_op(mq_client *c, const char *verb, const char *name,
                       Mq__V1__Request *req, char **name_field,
                       uint32_t timeout_ms)
{
    char what[MQ_QNAME_MAX + 32], qname[MQ_QNAME_MAX + 1];
    Mq__V1__Reply *r = NULL;
    mq_err rv;

    if (c == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "%s queue: client is NULL", verb);
    }
    if ((rv = client_qname(c, name, "queue name", qname)) != MQ_OK) {
        lasterr_wrap("%s queue", verb);
        return rv;
    }
    snprintf(what, sizeof what, "%s queue %s", verb, qname);
    *name_field = qname;
    rv = admin_call(c, what, CONN_LEADER, timeout_ms, req,
                    MQ__V1__REPLY__BODY__NOT_SET, &r);
    admin_release(r);
    return rv;
}

MQ_API mq_err mq_queue_delete(mq_client *c, const char *name,
                              uint32_t timeout_ms)
{
    Mq__V1__QueueDeleteRequest qd = MQ__V1__QUEUE_DELETE_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;

    req.body_case = MQ__V1__REQUEST__BODY_QUEUE_DELETE;
    req.queue_delete = &qd;
    return queue_op(c, "delete", name, &req, &qd.name, timeout_ms);
}

MQ_API mq_err mq_queue_purge(mq_client *c, const char *name,
                             uint32_t timeout_ms)
{
    Mq__V1__QueuePurgeRequest qp = MQ__V1__QUEUE_PURGE_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;

    req.body_case = MQ__V1__REQUEST__BODY_QUEUE_PURGE;
    req.queue_purge = &qp;
    return queue_op(c, "purge", name, &req, &qp.name, timeout_ms);
}

MQ_API mq_err mq_queue_redrive(mq_client *c, const char *dlq, const char *to,
                               uint32_t max, uint32_t *moved,
                               uint64_t *remaining, uint32_t timeout_ms)
{
    return mq_queue_redrive_flags(c, dlq, to, max, 0, moved, remaining,
                                  timeout_ms);
}

MQ_API mq_err mq_queue_redrive_flags(mq_client *c, const char *dlq,
                                     const char *to, uint32_t max,
                                     unsigned flags, uint32_t *moved,
                                     uint64_t *remaining, uint32_t timeout_ms)
{
    Mq__V1__RedriveRequest rd = MQ__V1__REDRIVE_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    char what[2 * MQ_QNAME_MAX + 32];
    char from_name[MQ_QNAME_MAX + 1], to_name[MQ_QNAME_MAX + 1];
    Mq__V1__Reply *r = NULL;
    mq_err rv;

    if (moved != NULL) {
        *moved = 0;
    }
    if (remaining != NULL) {
        *remaining = 0;
    }
    if (c == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "redrive: client is NULL");
    }
    if ((rv = client_qname(c, dlq, "dead-letter queue name", from_name)) !=
            MQ_OK ||
        (rv = client_qname(c, to, "queue name", to_name)) != MQ_OK) {
        lasterr_wrap("redrive");
        return rv;
    }
    snprintf(what, sizeof what, "redrive %s to %s", from_name, to_name);
    if (max == 0 || max > MQ_MAX_BATCH) {
        return lasterr_fail(MQ_ERR_INVALID, "%s: max is %u, 1..%d are allowed",
                            what, max, MQ_MAX_BATCH);
    }
    if ((flags & ~MQ_REDRIVE_FORCE) != 0) {
        return lasterr_fail(MQ_ERR_INVALID, "%s: flags 0x%x are unknown", what,
                            flags & ~MQ_REDRIVE_FORCE);
    }
    rd.from = from_name;
    rd.to = to_name;
    rd.max_messages = max;
    rd.force = (flags & MQ_REDRIVE_FORCE) != 0;
    req.body_case = MQ__V1__REQUEST__BODY_REDRIVE;
    req.redrive = &rd;
    rv = admin_call(c, what, CONN_LEADER, timeout_ms, &req,
                    MQ__V1__REPLY__BODY__NOT_SET, &r);
    if (rv != MQ_OK) {
        return rv;
    }
    if (r->body_case == MQ__V1__REPLY__BODY_REDRIVE) {
        if (moved != NULL) {
            *moved = r->redrive->moved;
        }
        if (remaining != NULL) {
            *remaining = r->redrive->remaining;
        }
    } else if (r->body_case != MQ__V1__REPLY__BODY__NOT_SET) {
        rv = lasterr_fail(MQ_ERR_PROTOCOL,
                          "%s: the reply is not a redrive reply", what);
    }
    admin_release(r);
    return rv;
}
