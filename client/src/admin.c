/* admin.c: queue and subscription administration. Creates and deletes go
 * to the leader; info and list are reads, answered by the known leader
 * (freshest) or any node. */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "client.h"
#include "conn.h"
#include "lasterr.h"

static void copy_name(char *dst, const char *src)
{
    snprintf(dst, MQ_NAME_MAX + 1, "%s", src != NULL ? src : "");
}

void admin_queue_config_to_pb(Mq__V1__QueueConfig *pb, const mq_queue_config *c)
{
    static const Mq__V1__QueueConfig init = MQ__V1__QUEUE_CONFIG__INIT;

    *pb = init;
    pb->name = (char *)c->name;
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
}

void admin_queue_info_from_pb(mq_queue_info *out, const Mq__V1__QueueInfo *pb)
{
    const Mq__V1__QueueConfig *c = pb->config;

    memset(out, 0, sizeof *out);
    if (c != NULL) {
        copy_name(out->name, c->name);
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
    }
    out->messages = pb->messages;
    out->bytes = pb->bytes;
    out->first_seq = pb->first_seq;
    out->last_seq = pb->last_seq;
    out->subscriptions = pb->subscriptions;
    out->created_at_ms = pb->created_at_ms;
}

void admin_sub_config_to_pb(Mq__V1__SubConfig *pb, const mq_sub_config *c)
{
    static const Mq__V1__SubConfig init = MQ__V1__SUB_CONFIG__INIT;

    *pb = init;
    pb->queue = (char *)c->queue;
    pb->name = (char *)c->name;
    switch (c->start) {
    case MQ_START_FIRST:
        pb->start = MQ__V1__START_POSITION__START_FIRST;
        break;
    case MQ_START_SEQ:
        pb->start = MQ__V1__START_POSITION__START_SEQ;
        break;
    case MQ_START_NEW:
        pb->start = MQ__V1__START_POSITION__START_NEW;
        break;
    }
    pb->start_seq = c->start_seq;
    pb->ack_timeout_ms = c->ack_timeout_ms;
    pb->max_deliveries = c->max_deliveries;
}

void admin_sub_info_from_pb(mq_sub_info *out, const Mq__V1__SubInfo *pb)
{
    memset(out, 0, sizeof *out);
    if (pb->config != NULL) {
        copy_name(out->queue, pb->config->queue);
        copy_name(out->name, pb->config->name);
        out->ack_timeout_ms = pb->config->ack_timeout_ms;
        out->max_deliveries = pb->config->max_deliveries;
    }
    out->next_seq = pb->next_seq;
    out->ack_floor = pb->ack_floor;
    out->pending = pb->pending;
    out->in_flight = pb->in_flight;
    out->delivered = pb->delivered;
    out->acked = pb->acked;
    out->created_at_ms = pb->created_at_ms;
}

mq_err admin_queue_config_check(const mq_queue_config *c)
{
    mq_err rv = check_name(c->name, "queue name");

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
    return MQ_OK;
}

mq_err admin_sub_config_check(const mq_sub_config *c)
{
    mq_err rv = check_name(c->queue, "queue name");

    if (rv == MQ_OK) {
        rv = check_name(c->name, "subscription name");
    }
    if (rv != MQ_OK) {
        return rv;
    }
    if (c->start != MQ_START_NEW && c->start != MQ_START_FIRST &&
        c->start != MQ_START_SEQ) {
        return lasterr_fail(MQ_ERR_INVALID, "start %d is unknown",
                            (int)c->start);
    }
    if (c->start == MQ_START_SEQ && c->start_seq == 0) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "start_seq must be at least 1 with MQ_START_SEQ");
    }
    return MQ_OK;
}

/* ---- calls ----------------------------------------------------------- */

/* Runs @req as @what; with @want set, the reply must have that body. */
static mq_err admin_call(mq_client *c, const char *what, enum conn_route route,
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

static void release(Mq__V1__Reply *r)
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
    char what[MQ_NAME_MAX + 32];
    mq_err rv;

    if (c == NULL || cfg == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "create queue: %s is NULL",
                            c == NULL ? "client" : "config");
    }
    if ((rv = admin_queue_config_check(cfg)) != MQ_OK) {
        lasterr_wrap("create queue");
        return rv;
    }
    snprintf(what, sizeof what, "create queue %s", cfg->name);
    admin_queue_config_to_pb(&pb, cfg);
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
    release(r);
    return rv;
}

MQ_API mq_err mq_queue_info_get(mq_client *c, const char *name,
                                mq_queue_info *info, uint32_t timeout_ms)
{
    Mq__V1__QueueInfoRequest qi = MQ__V1__QUEUE_INFO_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__Reply *r = NULL;
    char what[MQ_NAME_MAX + 32];
    mq_err rv;

    if (c == NULL || info == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "get queue: %s is NULL",
                            c == NULL ? "client" : "info");
    }
    if ((rv = check_name(name, "queue name")) != MQ_OK) {
        lasterr_wrap("get queue");
        return rv;
    }
    snprintf(what, sizeof what, "get queue %s", name);
    qi.name = (char *)name;
    req.body_case = MQ__V1__REQUEST__BODY_QUEUE_INFO;
    req.queue_info = &qi;
    rv = admin_call(c, what, CONN_ANY, timeout_ms, &req,
                    MQ__V1__REPLY__BODY_QUEUE, &r);
    if (rv == MQ_OK) {
        admin_queue_info_from_pb(info, r->queue);
    }
    release(r);
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
        release(r);
        return lasterr_fail(MQ_ERR_PROTOCOL,
                            "list queues: the reply is not a queue list");
    }
    list = calloc(count + 1, sizeof *list);
    if (list == NULL) {
        release(r);
        return lasterr_fail(MQ_ERR_NO_MEMORY, "list queues: out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        admin_queue_info_from_pb(&list[i], r->queues->queues[i]);
    }
    release(r);
    *out = list;
    *n = count;
    return MQ_OK;
}

MQ_API void mq_queue_list_free(mq_queue_info *list)
{
    free(list);
}

MQ_API mq_err mq_queue_delete(mq_client *c, const char *name,
                              uint32_t timeout_ms)
{
    Mq__V1__QueueDeleteRequest qd = MQ__V1__QUEUE_DELETE_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__Reply *r = NULL;
    char what[MQ_NAME_MAX + 32];
    mq_err rv;

    if (c == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "delete queue: client is NULL");
    }
    if ((rv = check_name(name, "queue name")) != MQ_OK) {
        lasterr_wrap("delete queue");
        return rv;
    }
    snprintf(what, sizeof what, "delete queue %s", name);
    qd.name = (char *)name;
    req.body_case = MQ__V1__REQUEST__BODY_QUEUE_DELETE;
    req.queue_delete = &qd;
    rv = admin_call(c, what, CONN_LEADER, timeout_ms, &req,
                    MQ__V1__REPLY__BODY__NOT_SET, &r);
    release(r);
    return rv;
}

MQ_API mq_err mq_sub_create(mq_client *c, const mq_sub_config *cfg,
                            mq_sub_info *info, uint32_t timeout_ms)
{
    Mq__V1__SubCreateRequest sc = MQ__V1__SUB_CREATE_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__SubConfig pb;
    Mq__V1__Reply *r = NULL;
    char what[2 * MQ_NAME_MAX + 32];
    mq_err rv;

    if (c == NULL || cfg == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "create subscription: %s is NULL",
                            c == NULL ? "client" : "config");
    }
    if ((rv = admin_sub_config_check(cfg)) != MQ_OK) {
        lasterr_wrap("create subscription");
        return rv;
    }
    snprintf(what, sizeof what, "create subscription %s/%s", cfg->queue,
             cfg->name);
    admin_sub_config_to_pb(&pb, cfg);
    sc.config = &pb;
    req.body_case = MQ__V1__REQUEST__BODY_SUB_CREATE;
    req.sub_create = &sc;
    rv = admin_call(c, what, CONN_LEADER, timeout_ms, &req,
                    info != NULL ? MQ__V1__REPLY__BODY_SUB
                                 : MQ__V1__REPLY__BODY__NOT_SET,
                    &r);
    if (rv == MQ_OK && info != NULL) {
        admin_sub_info_from_pb(info, r->sub);
    }
    release(r);
    return rv;
}

MQ_API mq_err mq_sub_info_get(mq_client *c, const char *queue, const char *name,
                              mq_sub_info *info, uint32_t timeout_ms)
{
    Mq__V1__SubInfoRequest si = MQ__V1__SUB_INFO_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__Reply *r = NULL;
    char what[2 * MQ_NAME_MAX + 32];
    mq_err rv;

    if (c == NULL || info == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "get subscription: %s is NULL",
                            c == NULL ? "client" : "info");
    }
    if ((rv = check_name(queue, "queue name")) != MQ_OK ||
        (rv = check_name(name, "subscription name")) != MQ_OK) {
        lasterr_wrap("get subscription");
        return rv;
    }
    snprintf(what, sizeof what, "get subscription %s/%s", queue, name);
    si.queue = (char *)queue;
    si.name = (char *)name;
    req.body_case = MQ__V1__REQUEST__BODY_SUB_INFO;
    req.sub_info = &si;
    rv = admin_call(c, what, CONN_ANY, timeout_ms, &req,
                    MQ__V1__REPLY__BODY_SUB, &r);
    if (rv == MQ_OK) {
        admin_sub_info_from_pb(info, r->sub);
    }
    release(r);
    return rv;
}

MQ_API mq_err mq_sub_list(mq_client *c, const char *queue, mq_sub_info **out,
                          size_t *n, uint32_t timeout_ms)
{
    Mq__V1__SubListRequest sl = MQ__V1__SUB_LIST_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__Reply *r = NULL;
    char what[MQ_NAME_MAX + 32];
    mq_sub_info *list;
    size_t count = 0;
    mq_err rv;

    if (c == NULL || out == NULL || n == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "list subscriptions: an argument "
                                            "is NULL");
    }
    *out = NULL;
    *n = 0;
    if (queue != NULL && (rv = check_name(queue, "queue name")) != MQ_OK) {
        lasterr_wrap("list subscriptions");
        return rv;
    }
    if (queue != NULL) {
        snprintf(what, sizeof what, "list subscriptions of %s", queue);
    } else {
        snprintf(what, sizeof what, "list subscriptions");
    }
    sl.queue = queue != NULL ? (char *)queue : (char *)"";
    req.body_case = MQ__V1__REQUEST__BODY_SUB_LIST;
    req.sub_list = &sl;
    rv = admin_call(c, what, CONN_ANY, timeout_ms, &req,
                    MQ__V1__REPLY__BODY__NOT_SET, &r);
    if (rv != MQ_OK) {
        return rv;
    }
    if (r->body_case == MQ__V1__REPLY__BODY_SUBS) {
        count = r->subs->n_subs;
    } else if (r->body_case != MQ__V1__REPLY__BODY__NOT_SET) {
        release(r);
        return lasterr_fail(MQ_ERR_PROTOCOL,
                            "%s: the reply is not a subscription list", what);
    }
    list = calloc(count + 1, sizeof *list);
    if (list == NULL) {
        release(r);
        return lasterr_fail(MQ_ERR_NO_MEMORY, "%s: out of memory", what);
    }
    for (size_t i = 0; i < count; i++) {
        admin_sub_info_from_pb(&list[i], r->subs->subs[i]);
    }
    release(r);
    *out = list;
    *n = count;
    return MQ_OK;
}

MQ_API void mq_sub_list_free(mq_sub_info *list)
{
    free(list);
}

MQ_API mq_err mq_sub_delete(mq_client *c, const char *queue, const char *name,
                            uint32_t timeout_ms)
{
    Mq__V1__SubDeleteRequest sd = MQ__V1__SUB_DELETE_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__Reply *r = NULL;
    char what[2 * MQ_NAME_MAX + 32];
    mq_err rv;

    if (c == NULL) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "delete subscription: client is NULL");
    }
    if ((rv = check_name(queue, "queue name")) != MQ_OK ||
        (rv = check_name(name, "subscription name")) != MQ_OK) {
        lasterr_wrap("delete subscription");
        return rv;
    }
    snprintf(what, sizeof what, "delete subscription %s/%s", queue, name);
    sd.queue = (char *)queue;
    sd.name = (char *)name;
    req.body_case = MQ__V1__REQUEST__BODY_SUB_DELETE;
    req.sub_delete = &sd;
    rv = admin_call(c, what, CONN_LEADER, timeout_ms, &req,
                    MQ__V1__REPLY__BODY__NOT_SET, &r);
    release(r);
    return rv;
}
