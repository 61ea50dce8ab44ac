/* subadmin.c: subscription administration (mq_sub_*): settings and
 * counters mapped field for field between mq.h and mq.proto, local checks,
 * and the calls, made the way admin.c makes them. */
#include "subadmin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "check.h"
#include "client.h"
#include "conn.h"
#include "lasterr.h"

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src != NULL ? src : "");
}

void subadmin_config_to_pb(Mq__V1__SubConfig *pb, const mq_sub_config *c,
                           const char *qname)
{
    static const Mq__V1__SubConfig init = MQ__V1__SUB_CONFIG__INIT;

    *pb = init;
    pb->queue = (char *)qname;
    pb->name = (char *)c->name;
    switch (c->start) {
    case MQ_START_FIRST:
        pb->start = MQ__V1__START_POSITION__START_FIRST;
        break;
    case MQ_START_SEQ:
        pb->start = MQ__V1__START_POSITION__START_SEQ;
        break;
    case MQ_START_TIME:
        pb->start = MQ__V1__START_POSITION__START_TIME;
        break;
    case MQ_START_NEW:
        pb->start = MQ__V1__START_POSITION__START_NEW;
        break;
    }
    pb->start_seq = c->start_seq;
    pb->start_time_ms = c->start_time_ms;
    pb->ack_timeout_ms = c->ack_timeout_ms;
    pb->max_deliveries = c->max_deliveries;
    pb->n_filters = c->n_filters;
    pb->filters = c->n_filters > 0 ? (char **)c->filters : NULL;
}

/* Joins @list (@n) into @out (@size bytes) with ","; a list that does not
 * fit ends with "...". */
static void join_filters(char *out, size_t size, char *const *list, size_t n)
{
    size_t len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *f = list[i] != NULL ? list[i] : "";
        size_t need = (i > 0) + strlen(f);
        size_t room = size - 1 - len;
        /* Each filter but the last leaves room for ",...". */
        if (need > room || (i + 1 < n && need + 4 > room)) {
            snprintf(out + len, size - len, "%s...", i > 0 ? "," : "");
            return;
        }
        len += (size_t)snprintf(out + len, size - len, "%s%s", i > 0 ? "," : "",
                                f);
    }
}

void subadmin_info_from_pb(mq_sub_info *out, const Mq__V1__SubInfo *pb)
{
    memset(out, 0, sizeof *out);
    if (pb->config != NULL) {
        copy_str(out->queue, sizeof out->queue, pb->config->queue);
        copy_str(out->name, sizeof out->name, pb->config->name);
        out->ack_timeout_ms = pb->config->ack_timeout_ms;
        out->max_deliveries = pb->config->max_deliveries;
        join_filters(out->filters, sizeof out->filters, pb->config->filters,
                     pb->config->n_filters);
    }
    out->next_seq = pb->next_seq;
    out->ack_floor = pb->ack_floor;
    out->pending = pb->pending;
    out->in_flight = pb->in_flight;
    out->delivered = pb->delivered;
    out->acked = pb->acked;
    out->created_at_ms = pb->created_at_ms;
    out->dead_lettered = pb->dead_lettered;
    out->scheduled = pb->scheduled;
    out->lag = pb->lag;
    out->lag_ms = pb->lag_ms;
}

mq_err subadmin_config_check(const mq_sub_config *c, const char *ns,
                             char qname[MQ_QNAME_MAX + 1])
{
    mq_err rv = check_qname(c->queue, ns, "queue name", qname);

    if (rv == MQ_OK) {
        rv = check_name(c->name, "subscription name");
    }
    if (rv != MQ_OK) {
        return rv;
    }
    if (c->start != MQ_START_NEW && c->start != MQ_START_FIRST &&
        c->start != MQ_START_SEQ && c->start != MQ_START_TIME) {
        return lasterr_fail(MQ_ERR_INVALID, "start %d is unknown",
                            (int)c->start);
    }
    if (c->start == MQ_START_SEQ && c->start_seq == 0) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "start_seq must be at least 1 with MQ_START_SEQ");
    }
    if (c->n_filters > 0 && c->filters == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "%zu filters but filters is NULL",
                            c->n_filters);
    }
    for (size_t i = 0; i < c->n_filters; i++) {
        if ((rv = check_filter(c->filters[i])) != MQ_OK) {
            return rv;
        }
    }
    return MQ_OK;
}

MQ_API mq_err mq_sub_create(mq_client *c, const mq_sub_config *cfg,
                            mq_sub_info *info, uint32_t timeout_ms)
{
    Mq__V1__SubCreateRequest sc = MQ__V1__SUB_CREATE_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__SubConfig pb;
    Mq__V1__Reply *r = NULL;
    char what[MQ_QNAME_MAX + MQ_NAME_MAX + 32], qname[MQ_QNAME_MAX + 1];
    mq_err rv;

    if (c == NULL || cfg == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "create subscription: %s is NULL",
                            c == NULL ? "client" : "config");
    }
    if ((rv = subadmin_config_check(cfg, c->opts.ns, qname)) != MQ_OK) {
        lasterr_wrap("create subscription");
        return rv;
    }
    snprintf(what, sizeof what, "create subscription %s/%s", qname, cfg->name);
    subadmin_config_to_pb(&pb, cfg, qname);
    sc.config = &pb;
    req.body_case = MQ__V1__REQUEST__BODY_SUB_CREATE;
    req.sub_create = &sc;
    rv = admin_call(c, what, CONN_LEADER, timeout_ms, &req,
                    info != NULL ? MQ__V1__REPLY__BODY_SUB
                                 : MQ__V1__REPLY__BODY__NOT_SET,
                    &r);
    if (rv == MQ_OK && info != NULL) {
        subadmin_info_from_pb(info, r->sub);
    }
    admin_release(r);
    return rv;
}

MQ_API mq_err mq_sub_info_get(mq_client *c, const char *queue, const char *name,
                              mq_sub_info *info, uint32_t timeout_ms)
{
    Mq__V1__SubInfoRequest si = MQ__V1__SUB_INFO_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__Reply *r = NULL;
    char what[MQ_QNAME_MAX + MQ_NAME_MAX + 32], qname[MQ_QNAME_MAX + 1];
    mq_err rv;

    if (c == NULL || info == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "get subscription: %s is NULL",
                            c == NULL ? "client" : "info");
    }
    if ((rv = client_sub_check(c, queue, name, qname)) != MQ_OK) {
        lasterr_wrap("get subscription");
        return rv;
    }
    snprintf(what, sizeof what, "get subscription %s/%s", qname, name);
    si.queue = qname;
    si.name = (char *)name;
    req.body_case = MQ__V1__REQUEST__BODY_SUB_INFO;
    req.sub_info = &si;
    rv = admin_call(c, what, CONN_ANY, timeout_ms, &req,
                    MQ__V1__REPLY__BODY_SUB, &r);
    if (rv == MQ_OK) {
        subadmin_info_from_pb(info, r->sub);
    }
    admin_release(r);
    return rv;
}

MQ_API mq_err mq_sub_list(mq_client *c, const char *queue, mq_sub_info **out,
                          size_t *n, uint32_t timeout_ms)
{
    Mq__V1__SubListRequest sl = MQ__V1__SUB_LIST_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__Reply *r = NULL;
    char what[MQ_QNAME_MAX + 32], qname[MQ_QNAME_MAX + 1] = "";
    mq_sub_info *list;
    size_t count = 0;
    mq_err rv;

    if (c == NULL || out == NULL || n == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "list subscriptions: an argument "
                                            "is NULL");
    }
    *out = NULL;
    *n = 0;
    if (queue != NULL &&
        (rv = client_qname(c, queue, "queue name", qname)) != MQ_OK) {
        lasterr_wrap("list subscriptions");
        return rv;
    }
    if (queue != NULL) {
        snprintf(what, sizeof what, "list subscriptions of %s", qname);
    } else {
        snprintf(what, sizeof what, "list subscriptions");
    }
    sl.queue = qname;
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
        admin_release(r);
        return lasterr_fail(MQ_ERR_PROTOCOL,
                            "%s: the reply is not a subscription list", what);
    }
    list = calloc(count + 1, sizeof *list);
    if (list == NULL) {
        admin_release(r);
        return lasterr_fail(MQ_ERR_NO_MEMORY, "%s: out of memory", what);
    }
    for (size_t i = 0; i < count; i++) {
        subadmin_info_from_pb(&list[i], r->subs->subs[i]);
    }
    admin_release(r);
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
    char what[MQ_QNAME_MAX + MQ_NAME_MAX + 32], qname[MQ_QNAME_MAX + 1];
    mq_err rv;

    if (c == NULL) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "delete subscription: client is NULL");
    }
    if ((rv = client_sub_check(c, queue, name, qname)) != MQ_OK) {
        lasterr_wrap("delete subscription");
        return rv;
    }
    snprintf(what, sizeof what, "delete subscription %s/%s", qname, name);
    sd.queue = qname;
    sd.name = (char *)name;
    req.body_case = MQ__V1__REQUEST__BODY_SUB_DELETE;
    req.sub_delete = &sd;
    rv = admin_call(c, what, CONN_LEADER, timeout_ms, &req,
                    MQ__V1__REPLY__BODY__NOT_SET, &r);
    admin_release(r);
    return rv;
}
