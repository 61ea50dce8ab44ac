/* read.c: mq_read, and where reads go. A read is answered by any node
 * from the state it has applied, so it goes to a follower (conn.h's
 * CONN_FOLLOWER) unless the client reads from the leader, and then only
 * the leader answers it. A follower read carries the client's last write
 * index (or a higher min_index given): the node holds it until it has
 * applied that far (at most max_wait_ms), so each attempt waits that much
 * longer for the reply, as a fetch does. */
#include "read.h"

#include <stdio.h>
#include <string.h>

#include "check.h"
#include "client.h"
#include "lasterr.h"
#include "msg.h"

void read_route(mq_client *c, struct conn_call *call, uint64_t *min_index,
                uint32_t *max_wait_ms, int *leader_only)
{
    uint64_t written = conn_written_index(c->conn);
    int own = 0;

    if (c->opts.reads_from_leader) {
        call->route = CONN_LEADER;
        *leader_only = 1;
    } else {
        call->route = CONN_FOLLOWER;
        *leader_only = 0;
        if (written > *min_index) {
            *min_index = written;
            own = 1;
        }
    }
    if (*min_index == 0) {
        *max_wait_ms = 0;
        return;
    }
    if (own && *max_wait_ms == 0) {
        /* The client's own write is committed: a follower applies it
         * within a heartbeat or so. One that has not in half an attempt
         * answers TIMEOUT, and the call moves on to another node. */
        *max_wait_ms = c->opts.attempt_timeout_ms / 2 + 1;
        return;
    }
    if (*max_wait_ms == 0) {
        *max_wait_ms = READ_MAX_WAIT_MS;
    }
    call->extra_ms = *max_wait_ms;
}

MQ_API mq_err mq_read(mq_client *c, const char *queue, const mq_read_opts *o,
                      mq_msg ***msgs, size_t *n, mq_read_info *info,
                      uint32_t timeout_ms)
{
    static const mq_read_opts defaults = MQ_READ_OPTS_INIT;
    Mq__V1__ReadRequest rr = MQ__V1__READ_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    char qname[MQ_QNAME_MAX + 1], full[MQ_QNAME_MAX + 1];
    char what[MQ_QNAME_MAX + 16];
    struct conn_call call = {.what = what};
    const Mq__V1__ReadReply *rep;
    Mq__V1__Reply *r;
    mq_err rv;

    if (info != NULL) {
        memset(info, 0, sizeof *info);
    }
    if (c == NULL || msgs == NULL || n == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "read: %s is NULL",
                            c == NULL      ? "client"
                            : msgs == NULL ? "msgs"
                                           : "n");
    }
    *msgs = NULL;
    *n = 0;
    if ((rv = client_qname(c, queue, "queue name", qname)) != MQ_OK) {
        lasterr_wrap("read");
        return rv;
    }
    snprintf(what, sizeof what, "read %s", qname);
    if (o == NULL) {
        o = &defaults;
    }
    if (o->max_messages > MQ_MAX_BATCH) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "%s: max_messages is %u, at most %d are allowed",
                            what, o->max_messages, MQ_MAX_BATCH);
    }
    rr.queue = qname;
    rr.from_seq = o->from_seq;
    rr.from_time_ms = o->from_time_ms;
    rr.max_messages =
        o->max_messages != 0 ? o->max_messages : READ_MAX_MESSAGES;
    rr.min_index = o->min_index;
    rr.max_wait_ms = o->max_wait_ms;
    {
        int leader_only;
        read_route(c, &call, &rr.min_index, &rr.max_wait_ms, &leader_only);
        rr.leader_only = leader_only != 0;
    }
    req.body_case = MQ__V1__REQUEST__BODY_READ;
    req.read = &rr;
    call.timeout_ms = client_timeout(c, timeout_ms);
    if ((rv = conn_call(c->conn, &call, &req, &r)) != MQ_OK) {
        return rv;
    }
    if (r->body_case != MQ__V1__REPLY__BODY_READ) {
        mq__v1__reply__free_unpacked(r, NULL);
        return lasterr_fail(MQ_ERR_PROTOCOL,
                            "%s: the reply is not a read reply", what);
    }
    rep = r->read;
    check_qname_full(qname, full);
    rv = msg_array_new(rep->messages, rep->n_messages, full, "", msgs);
    if (rv == MQ_OK) {
        *n = rep->n_messages;
        if (info != NULL) {
            info->node_id = rep->node_id;
            info->applied_index = rep->applied_index;
            info->first_seq = rep->first_seq;
            info->last_seq = rep->last_seq;
        }
    }
    mq__v1__reply__free_unpacked(r, NULL);
    if (rv != MQ_OK) {
        return lasterr_fail(rv, "%s: out of memory", what);
    }
    return MQ_OK;
}
