/* msgstatus.c: mq_message_status and mq_msg_status_free. The node answers
 * with one MessageStatus per queue that knows the id; none at all (or
 * NOT_FOUND) means no queue knows it: never stored, or gone for longer
 * than the queue's status_ttl_ms.
 *
 * A lookup goes where reads go (read.h): to a follower, which answers once
 * it has applied the client's own last write (a publish, cancel, ack...),
 * so that a client always finds what it did itself; or, with
 * reads_from_leader, to the leader only. */
#include "msgstatus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "client.h"
#include "conn.h"
#include "lasterr.h"
#include "read.h"

/* The states are copied by number: mq.h and mq.proto must agree. */
_Static_assert((int)MQ_MSG_STORED == MQ__V1__MESSAGE_STATE__MSG_STORED &&
                   (int)MQ_MSG_ACKED == MQ__V1__MESSAGE_STATE__MSG_ACKED &&
                   (int)MQ_MSG_EXPIRED == MQ__V1__MESSAGE_STATE__MSG_EXPIRED &&
                   (int)MQ_MSG_PURGED == MQ__V1__MESSAGE_STATE__MSG_PURGED &&
                   (int)MQ_MSG_CANCELLED ==
                       MQ__V1__MESSAGE_STATE__MSG_CANCELLED &&
                   (int)MQ_MSG_DEAD_LETTERED ==
                       MQ__V1__MESSAGE_STATE__MSG_DEAD_LETTERED &&
                   (int)MQ_MSG_DELETED == MQ__V1__MESSAGE_STATE__MSG_DELETED &&
                   (int)MQ_MSG_REDRIVEN == MQ__V1__MESSAGE_STATE__MSG_REDRIVEN,
               "mq_msg_state differs from mq.proto's MessageState");
_Static_assert((int)MQ_SUB_PENDING == MQ__V1__SUB_STATE__SUB_PENDING &&
                   (int)MQ_SUB_SCHEDULED == MQ__V1__SUB_STATE__SUB_SCHEDULED &&
                   (int)MQ_SUB_DELIVERED == MQ__V1__SUB_STATE__SUB_DELIVERED &&
                   (int)MQ_SUB_ACKED == MQ__V1__SUB_STATE__SUB_ACKED &&
                   (int)MQ_SUB_DEAD_LETTERED ==
                       MQ__V1__SUB_STATE__SUB_DEAD_LETTERED &&
                   (int)MQ_SUB_FILTERED == MQ__V1__SUB_STATE__SUB_FILTERED,
               "mq_sub_state differs from mq.proto's SubState");

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src != NULL ? src : "");
}

mq_err msgstatus_from_pb(mq_msg_status *out, const Mq__V1__MessageStatus *pb)
{
    memset(out, 0, sizeof *out);
    copy_str(out->queue, sizeof out->queue, pb->queue);
    copy_str(out->id, sizeof out->id, pb->id);
    copy_str(out->event, sizeof out->event, pb->event);
    out->seq = pb->seq;
    out->published_at_ms = pb->published_at_ms;
    out->deliver_at_ms = pb->deliver_at_ms;
    out->state = (mq_msg_state)pb->state;
    out->gone_at_ms = pb->gone_at_ms;
    if (pb->n_subs == 0) {
        return MQ_OK;
    }
    out->subs = calloc(pb->n_subs, sizeof *out->subs);
    if (out->subs == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    out->n_subs = pb->n_subs;
    for (size_t i = 0; i < pb->n_subs; i++) {
        const Mq__V1__SubStatus *s = pb->subs[i];
        copy_str(out->subs[i].name, sizeof out->subs[i].name, s->name);
        out->subs[i].state = (mq_sub_state)s->state;
        out->subs[i].attempts = s->attempts;
        out->subs[i].last_delivery_ms = s->last_delivery_ms;
        out->subs[i].acked_at_ms = s->acked_at_ms;
        out->subs[i].dead_lettered_at_ms = s->dead_lettered_at_ms;
    }
    return MQ_OK;
}

MQ_API void mq_msg_status_free(mq_msg_status *list, size_t n)
{
    if (list == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(list[i].subs);
    }
    free(list);
}

/* One lookup of @req (whose route read_route sets). Sets *out to a reply
 * with a message status body or none. */
static mq_err status_call(mq_client *c, const char *what, uint32_t timeout_ms,
                          Mq__V1__MessageStatusRequest *sr,
                          const Mq__V1__Request *req, Mq__V1__Reply **out)
{
    struct conn_call call = {.what = what};
    int leader_only;
    mq_err rv;

    read_route(c, &call, &sr->min_index, &sr->max_wait_ms, &leader_only);
    sr->leader_only = leader_only != 0;
    call.timeout_ms = client_timeout(c, timeout_ms);
    if ((rv = conn_call(c->conn, &call, req, out)) != MQ_OK) {
        return rv;
    }
    if ((*out)->body_case != MQ__V1__REPLY__BODY_MESSAGE_STATUS &&
        (*out)->body_case != MQ__V1__REPLY__BODY__NOT_SET) {
        mq__v1__reply__free_unpacked(*out, NULL);
        *out = NULL;
        return lasterr_fail(MQ_ERR_PROTOCOL,
                            "%s: the reply is not a message status reply",
                            what);
    }
    return MQ_OK;
}

MQ_API mq_err mq_message_status(mq_client *c, const char *id, const char *queue,
                                mq_msg_status **out, size_t *n,
                                uint32_t timeout_ms)
{
    Mq__V1__MessageStatusRequest sr = MQ__V1__MESSAGE_STATUS_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    char qname[MQ_QNAME_MAX + 1] = "";
    char what[MQ_ID_MAX + MQ_QNAME_MAX + 32];
    const Mq__V1__MessageStatusReply *rep;
    mq_msg_status *list;
    Mq__V1__Reply *r = NULL;
    size_t count;
    mq_err rv;

    if (c == NULL || out == NULL || n == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "message status: %s is NULL",
                            c == NULL     ? "client"
                            : out == NULL ? "out"
                                          : "n");
    }
    *out = NULL;
    *n = 0;
    if ((rv = check_id(id)) != MQ_OK ||
        (queue != NULL && queue[0] != '\0' &&
         (rv = client_qname(c, queue, "queue name", qname)) != MQ_OK)) {
        lasterr_wrap("message status");
        return rv;
    }
    if (qname[0] != '\0') {
        snprintf(what, sizeof what, "message status %s in %s", id, qname);
    } else {
        snprintf(what, sizeof what, "message status %s", id);
    }
    sr.id = (char *)id;
    sr.queue = qname;
    req.body_case = MQ__V1__REQUEST__BODY_MESSAGE_STATUS;
    req.message_status = &sr;
    rv = status_call(c, what, timeout_ms, &sr, &req, &r);
    if (rv != MQ_OK) {
        return rv;
    }
    rep = r->body_case == MQ__V1__REPLY__BODY_MESSAGE_STATUS ? r->message_status
                                                             : NULL;
    count = rep != NULL ? rep->n_statuses : 0;
    if (count == 0) {
        mq__v1__reply__free_unpacked(r, NULL);
        return lasterr_fail(MQ_ERR_NOT_FOUND,
                            "%s: no longer known (or never stored)", what);
    }
    list = calloc(count, sizeof *list);
    rv = list != NULL ? MQ_OK : MQ_ERR_NO_MEMORY;
    for (size_t i = 0; rv == MQ_OK && i < count; i++) {
        rv = msgstatus_from_pb(&list[i], rep->statuses[i]);
    }
    mq__v1__reply__free_unpacked(r, NULL);
    if (rv != MQ_OK) {
        mq_msg_status_free(list, count);
        return lasterr_fail(rv, "%s: out of memory", what);
    }
    *out = list;
    *n = count;
    return MQ_OK;
}
