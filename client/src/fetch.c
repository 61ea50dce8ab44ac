/* fetch.c: mq_fetch and the settling verbs (ack, nack, touch, term). A
 * fetch is a long poll: the node holds it up to max_wait_ms, so each
 * attempt waits the client's attempt timeout plus max_wait_ms for the
 * reply. Attempts are sequential: a fetch is sent to another node only once
 * the previous attempt has ended (its ctx closed, so a late reply is
 * dropped, and the messages it carried are delivered again after the ack
 * timeout). */
#include "fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "client.h"
#include "conn.h"
#include "lasterr.h"
#include "msg.h"

/* ---- fetch ----------------------------------------------------------- */

#define FETCH_MAX_MESSAGES 100 /* mq_fetch_opts' default */

/* The long poll a fetch may ask for within @timeout_ms: room is left for
 * the reply (the attempt timeout, at most half the deadline). */
static uint32_t fetch_wait(const mq_client *c, uint32_t max_wait_ms,
                           uint64_t timeout_ms)
{
    uint64_t reserve = c->opts.attempt_timeout_ms;

    if (reserve > timeout_ms / 2) {
        reserve = timeout_ms / 2;
    }
    if ((uint64_t)max_wait_ms + reserve > timeout_ms) {
        return (uint32_t)(timeout_ms - reserve);
    }
    return max_wait_ms;
}

mq_err fetch_run(mq_client *c, const char *queue, const char *sub,
                 size_t max_messages, uint32_t max_wait_ms, uint64_t timeout_ms,
                 const _Atomic int *stop, mq_msg ***msgs, size_t *n,
                 mq_fetch_info *info)
{
    Mq__V1__FetchRequest fr = MQ__V1__FETCH_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    char what[MQ_QNAME_MAX + MQ_NAME_MAX + 32], full[MQ_QNAME_MAX + 1];
    struct conn_call call = {
        .what = what,
        .route = CONN_LEADER,
        .stop = stop,
    };
    const Mq__V1__FetchReply *fetch;
    Mq__V1__Reply *r;
    mq_err rv;

    *msgs = NULL;
    *n = 0;
    if (info != NULL) {
        memset(info, 0, sizeof *info);
    }
    if (timeout_ms == 0) {
        timeout_ms = (uint64_t)c->opts.timeout_ms + max_wait_ms;
    }
    max_wait_ms = fetch_wait(c, max_wait_ms, timeout_ms);
    call.timeout_ms = timeout_ms;
    call.extra_ms = max_wait_ms;
    snprintf(what, sizeof what, "fetch from %s/%s", queue, sub);
    fr.queue = (char *)queue;
    fr.sub = (char *)sub;
    fr.max_messages = (uint32_t)max_messages;
    fr.max_wait_ms = max_wait_ms;
    req.body_case = MQ__V1__REQUEST__BODY_FETCH;
    req.fetch = &fr;
    rv = conn_call(c->conn, &call, &req, &r);
    if (rv != MQ_OK) {
        return rv;
    }
    if (r->body_case != MQ__V1__REPLY__BODY_FETCH) {
        mq__v1__reply__free_unpacked(r, NULL);
        return lasterr_fail(MQ_ERR_PROTOCOL,
                            "%s: the reply is not a fetch reply", what);
    }
    fetch = r->fetch;
    check_qname_full(queue, full);
    rv = msg_array_new(fetch->messages, fetch->n_messages, full, sub, msgs);
    if (rv == MQ_OK) {
        *n = fetch->n_messages;
        if (info != NULL) {
            info->pending = fetch->pending;
            info->in_flight = fetch->in_flight;
            info->scheduled = fetch->scheduled;
        }
    }
    mq__v1__reply__free_unpacked(r, NULL);
    if (rv != MQ_OK) {
        /* They are delivered again after the ack timeout. */
        return lasterr_fail(rv, "%s: out of memory", what);
    }
    return MQ_OK;
}

/* mq_fetch_with, the options given one by one. */
static mq_err fetch_checked(mq_client *c, const char *queue, const char *sub,
                            size_t max_messages, uint32_t max_wait_ms,
                            mq_msg ***msgs, size_t *n, mq_fetch_info *info,
                            uint64_t timeout_ms)
{
    char qname[MQ_QNAME_MAX + 1];
    mq_err rv;

    if (c == NULL || msgs == NULL || n == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "fetch: %s is NULL",
                            c == NULL      ? "client"
                            : msgs == NULL ? "msgs"
                                           : "n");
    }
    *msgs = NULL;
    *n = 0;
    if ((rv = client_sub_check(c, queue, sub, qname)) != MQ_OK) {
        lasterr_wrap("fetch");
        return rv;
    }
    if (max_messages == 0 || max_messages > MQ_MAX_BATCH) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "fetch from %s/%s: max_messages is %zu, 1..%d "
                            "are allowed",
                            qname, sub, max_messages, MQ_MAX_BATCH);
    }
    return fetch_run(c, qname, sub, max_messages, max_wait_ms, timeout_ms, NULL,
                     msgs, n, info);
}

MQ_API mq_err mq_fetch(mq_client *c, const char *queue, const char *sub,
                       size_t max_messages, uint32_t max_wait_ms,
                       mq_msg ***msgs, size_t *n)
{
    return fetch_checked(c, queue, sub, max_messages, max_wait_ms, msgs, n,
                         NULL, 0);
}

MQ_API mq_err mq_fetch_with(mq_client *c, const char *queue, const char *sub,
                            const mq_fetch_opts *o, mq_msg ***msgs, size_t *n,
                            mq_fetch_info *info, uint32_t timeout_ms)
{
    static const mq_fetch_opts defaults = MQ_FETCH_OPTS_INIT;

    if (info != NULL) {
        memset(info, 0, sizeof *info);
    }
    if (o == NULL) {
        o = &defaults;
    }
    return fetch_checked(c, queue, sub,
                         o->max_messages != 0 ? o->max_messages
                                              : FETCH_MAX_MESSAGES,
                         o->max_wait_ms, msgs, n, info, timeout_ms);
}

/* ---- settling -------------------------------------------------------- */

static const char *const verb_names[] = {
    [FETCH_ACK] = "ack",
    [FETCH_NACK] = "nack",
    [FETCH_TOUCH] = "touch",
    [FETCH_TERM] = "term",
};

mq_err fetch_settle(mq_client *c, const char *queue, const char *sub,
                    const uint64_t *seqs, size_t n, enum fetch_verb verb,
                    uint64_t delay_ms, const char *reason, uint64_t timeout_ms)
{
    Mq__V1__AckRequest ar = MQ__V1__ACK_REQUEST__INIT;
    Mq__V1__NackRequest nr = MQ__V1__NACK_REQUEST__INIT;
    Mq__V1__TouchRequest tr = MQ__V1__TOUCH_REQUEST__INIT;
    Mq__V1__TermRequest xr = MQ__V1__TERM_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    char what[MQ_QNAME_MAX + MQ_NAME_MAX + 48];
    struct conn_call call = {
        .what = what,
        .route = CONN_LEADER,
        .timeout_ms = timeout_ms,
    };
    Mq__V1__Reply *r;
    mq_err rv;

    if (n == 1) {
        snprintf(what, sizeof what, "%s %s/%s seq %llu", verb_names[verb],
                 queue, sub, (unsigned long long)seqs[0]);
    } else {
        snprintf(what, sizeof what, "%s %zu messages of %s/%s",
                 verb_names[verb], n, queue, sub);
    }
    switch (verb) {
    case FETCH_ACK:
        ar.queue = (char *)queue;
        ar.sub = (char *)sub;
        ar.n_seqs = n;
        ar.seqs = (uint64_t *)seqs;
        req.body_case = MQ__V1__REQUEST__BODY_ACK;
        req.ack = &ar;
        break;
    case FETCH_NACK:
        nr.queue = (char *)queue;
        nr.sub = (char *)sub;
        nr.n_seqs = n;
        nr.seqs = (uint64_t *)seqs;
        nr.delay_ms = delay_ms;
        req.body_case = MQ__V1__REQUEST__BODY_NACK;
        req.nack = &nr;
        break;
    case FETCH_TOUCH:
        tr.queue = (char *)queue;
        tr.sub = (char *)sub;
        tr.n_seqs = n;
        tr.seqs = (uint64_t *)seqs;
        req.body_case = MQ__V1__REQUEST__BODY_TOUCH;
        req.touch = &tr;
        break;
    case FETCH_TERM:
        xr.queue = (char *)queue;
        xr.sub = (char *)sub;
        xr.n_seqs = n;
        xr.seqs = (uint64_t *)seqs;
        xr.reason = reason != NULL ? (char *)reason : (char *)"";
        req.body_case = MQ__V1__REQUEST__BODY_TERM;
        req.term = &xr;
        break;
    }
    rv = conn_call(c->conn, &call, &req, &r);
    if (rv == MQ_OK) {
        mq__v1__reply__free_unpacked(r, NULL);
    }
    return rv;
}

/* Settles one message @m: a message of a read has no subscription. */
static mq_err settle_msg(mq_client *c, const mq_msg *m, enum fetch_verb verb,
                         uint64_t delay_ms, const char *reason,
                         uint32_t timeout_ms)
{
    if (c == NULL || m == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "%s: %s is NULL", verb_names[verb],
                            c == NULL ? "client" : "message");
    }
    if (m->sub[0] == '\0') {
        return lasterr_fail(MQ_ERR_INVALID,
                            "%s %s seq %llu: the message was read, not "
                            "delivered to a subscription",
                            verb_names[verb], m->queue,
                            (unsigned long long)m->seq);
    }
    return fetch_settle(c, m->queue, m->sub, &m->seq, 1, verb, delay_ms, reason,
                        client_timeout(c, timeout_ms));
}

MQ_API mq_err mq_ack(mq_client *c, const mq_msg *m, uint32_t timeout_ms)
{
    return settle_msg(c, m, FETCH_ACK, 0, NULL, timeout_ms);
}

MQ_API mq_err mq_nack(mq_client *c, const mq_msg *m, uint64_t delay_ms,
                      uint32_t timeout_ms)
{
    return settle_msg(c, m, FETCH_NACK, delay_ms, NULL, timeout_ms);
}

MQ_API mq_err mq_touch(mq_client *c, const mq_msg *m, uint32_t timeout_ms)
{
    return settle_msg(c, m, FETCH_TOUCH, 0, NULL, timeout_ms);
}

MQ_API mq_err mq_term(mq_client *c, const mq_msg *m, const char *reason,
                      uint32_t timeout_ms)
{
    if (reason != NULL && strlen(reason) > CHECK_HEADER_VALUE_MAX) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "term: reason is longer than %d bytes",
                            CHECK_HEADER_VALUE_MAX);
    }
    return settle_msg(c, m, FETCH_TERM, 0, reason, timeout_ms);
}

MQ_API mq_err mq_ack_seqs(mq_client *c, const char *queue, const char *sub,
                          const uint64_t *seqs, size_t n, uint32_t timeout_ms)
{
    char qname[MQ_QNAME_MAX + 1];
    mq_err rv;

    if (c == NULL || (seqs == NULL && n > 0)) {
        return lasterr_fail(MQ_ERR_INVALID, "ack: %s is NULL",
                            c == NULL ? "client" : "seqs");
    }
    if ((rv = client_sub_check(c, queue, sub, qname)) != MQ_OK) {
        lasterr_wrap("ack");
        return rv;
    }
    if (n > MQ_MAX_BATCH) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "ack %s/%s: %zu seqs, at most %d are allowed",
                            qname, sub, n, MQ_MAX_BATCH);
    }
    if (n == 0) {
        return MQ_OK;
    }
    return fetch_settle(c, qname, sub, seqs, n, FETCH_ACK, 0, NULL,
                        client_timeout(c, timeout_ms));
}

/* Checks what mq_nack_seqs and mq_term_seqs take; @verb names the call. */
static mq_err seqs_check(mq_client *c, const char *queue, const char *sub,
                         const uint64_t *seqs, size_t n, const char *verb,
                         char *qname)
{
    mq_err rv;

    if (c == NULL || (seqs == NULL && n > 0)) {
        return lasterr_fail(MQ_ERR_INVALID, "%s: %s is NULL", verb,
                            c == NULL ? "client" : "seqs");
    }
    if ((rv = client_sub_check(c, queue, sub, qname)) != MQ_OK) {
        lasterr_wrap("%s", verb);
        return rv;
    }
    if (n > MQ_MAX_BATCH) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "%s %s/%s: %zu seqs, at most %d are allowed", verb,
                            qname, sub, n, MQ_MAX_BATCH);
    }
    return MQ_OK;
}

MQ_API mq_err mq_nack_seqs(mq_client *c, const char *queue, const char *sub,
                           const uint64_t *seqs, size_t n, uint64_t delay_ms,
                           uint32_t timeout_ms)
{
    char qname[MQ_QNAME_MAX + 1];
    mq_err rv = seqs_check(c, queue, sub, seqs, n, "nack", qname);

    if (rv != MQ_OK || n == 0) {
        return rv;
    }
    return fetch_settle(c, qname, sub, seqs, n, FETCH_NACK, delay_ms, NULL,
                        client_timeout(c, timeout_ms));
}

MQ_API mq_err mq_term_seqs(mq_client *c, const char *queue, const char *sub,
                           const uint64_t *seqs, size_t n, const char *reason,
                           uint32_t timeout_ms)
{
    char qname[MQ_QNAME_MAX + 1];
    mq_err rv = seqs_check(c, queue, sub, seqs, n, "term", qname);

    if (rv != MQ_OK || n == 0) {
        return rv;
    }
    if (reason != NULL && strlen(reason) > CHECK_HEADER_VALUE_MAX) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "term: reason is longer than %d bytes",
                            CHECK_HEADER_VALUE_MAX);
    }
    return fetch_settle(c, qname, sub, seqs, n, FETCH_TERM, 0, reason,
                        client_timeout(c, timeout_ms));
}
