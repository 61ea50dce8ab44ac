/* fetch.c: mq_fetch, ack and nack, and mq_msg. A fetch is a long poll: the
 * node holds it up to max_wait_ms, so each attempt waits the client's
 * attempt timeout plus max_wait_ms for the reply. Attempts are sequential:
 * a fetch is sent to another node only once the previous attempt has ended
 * (its ctx closed, so a late reply is dropped, and the messages it carried
 * are delivered again after the ack timeout). */
#include "fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "client.h"
#include "conn.h"
#include "lasterr.h"

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

static char *put_str(char **p, const char *s)
{
    size_t len = strlen(s) + 1;
    char *at = *p;

    memcpy(at, s, len);
    *p += len;
    return at;
}

mq_msg *fetch_msg_new(const Mq__V1__Delivery *d, const char *queue,
                      const char *sub)
{
    size_t n = d->n_headers;
    size_t strs = strlen(queue) + strlen(sub) + strlen(or_empty(d->id)) +
                  strlen(or_empty(d->event)) + 4;
    mq_msg *m;
    char *p;

    for (size_t i = 0; i < n; i++) {
        strs += strlen(or_empty(d->headers[i]->key)) +
                strlen(or_empty(d->headers[i]->value)) + 2;
    }
    m = malloc(sizeof *m + n * sizeof *m->headers + strs + d->payload.len + 1);
    if (m == NULL) {
        return NULL;
    }
    m->headers = (mq_header *)(m + 1);
    p = (char *)(m->headers + n);
    m->queue = put_str(&p, queue);
    m->sub = put_str(&p, sub);
    m->id = put_str(&p, or_empty(d->id));
    m->event = put_str(&p, or_empty(d->event));
    for (size_t i = 0; i < n; i++) {
        m->headers[i].key = put_str(&p, or_empty(d->headers[i]->key));
        m->headers[i].value = put_str(&p, or_empty(d->headers[i]->value));
    }
    m->n_headers = n;
    if (d->payload.len > 0) {
        memcpy(p, d->payload.data, d->payload.len);
    }
    p[d->payload.len] = '\0';
    m->payload = p;
    m->payload_len = d->payload.len;
    m->seq = d->seq;
    m->published_at_ms = d->published_at_ms;
    m->attempt = d->attempt;
    return m;
}

/* ---- accessors ------------------------------------------------------- */

MQ_API const char *mq_msg_queue(const mq_msg *m)
{
    return m->queue;
}

MQ_API const char *mq_msg_sub(const mq_msg *m)
{
    return m->sub;
}

MQ_API uint64_t mq_msg_seq(const mq_msg *m)
{
    return m->seq;
}

MQ_API const char *mq_msg_id(const mq_msg *m)
{
    return m->id;
}

MQ_API const char *mq_msg_event(const mq_msg *m)
{
    return m->event;
}

MQ_API const void *mq_msg_payload(const mq_msg *m, size_t *len)
{
    if (len != NULL) {
        *len = m->payload_len;
    }
    return m->payload;
}

MQ_API uint64_t mq_msg_published_at(const mq_msg *m)
{
    return m->published_at_ms;
}

MQ_API uint32_t mq_msg_attempt(const mq_msg *m)
{
    return m->attempt;
}

MQ_API size_t mq_msg_header_count(const mq_msg *m)
{
    return m->n_headers;
}

MQ_API const mq_header *mq_msg_header_at(const mq_msg *m, size_t i)
{
    return i < m->n_headers ? &m->headers[i] : NULL;
}

MQ_API const char *mq_msg_header(const mq_msg *m, const char *key)
{
    for (size_t i = 0; key != NULL && i < m->n_headers; i++) {
        if (strcmp(m->headers[i].key, key) == 0) {
            return m->headers[i].value;
        }
    }
    return NULL;
}

MQ_API void mq_msg_free(mq_msg *m)
{
    free(m);
}

MQ_API void mq_msgs_free(mq_msg **msgs, size_t n)
{
    if (msgs == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        mq_msg_free(msgs[i]);
    }
    free(msgs);
}

/* ---- fetch ----------------------------------------------------------- */

static mq_err check_sub(const char *queue, const char *sub)
{
    mq_err rv = check_name(queue, "queue name");

    if (rv == MQ_OK) {
        rv = check_name(sub, "subscription name");
    }
    return rv;
}

mq_err fetch_run(mq_client *c, const char *queue, const char *sub,
                 size_t max_messages, uint32_t max_wait_ms,
                 const _Atomic int *stop, mq_msg ***msgs, size_t *n)
{
    Mq__V1__FetchRequest fr = MQ__V1__FETCH_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    char what[2 * MQ_NAME_MAX + 32];
    struct conn_call call = {
        .what = what,
        .route = CONN_LEADER,
        .timeout_ms = (uint64_t)c->opts.timeout_ms + max_wait_ms,
        .extra_ms = max_wait_ms,
        .stop = stop,
    };
    const Mq__V1__FetchReply *fetch;
    Mq__V1__Reply *r;
    mq_msg **out;
    mq_err rv;

    *msgs = NULL;
    *n = 0;
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
                            "%s: the reply is not a fetch "
                            "reply",
                            what);
    }
    fetch = r->fetch;
    out = calloc(fetch->n_messages + 1, sizeof *out);
    if (out == NULL) {
        mq__v1__reply__free_unpacked(r, NULL);
        return lasterr_fail(MQ_ERR_NO_MEMORY, "%s: out of memory", what);
    }
    for (size_t i = 0; i < fetch->n_messages; i++) {
        out[i] = fetch_msg_new(fetch->messages[i], queue, sub);
        if (out[i] == NULL) {
            mq_msgs_free(out, i);
            mq__v1__reply__free_unpacked(r, NULL);
            /* They are delivered again after the ack timeout. */
            return lasterr_fail(MQ_ERR_NO_MEMORY, "%s: out of memory", what);
        }
    }
    *msgs = out;
    *n = fetch->n_messages;
    mq__v1__reply__free_unpacked(r, NULL);
    return MQ_OK;
}

MQ_API mq_err mq_fetch(mq_client *c, const char *queue, const char *sub,
                       size_t max_messages, uint32_t max_wait_ms,
                       mq_msg ***msgs, size_t *n)
{
    mq_err rv;

    if (c == NULL || msgs == NULL || n == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "fetch: %s is NULL",
                            c == NULL      ? "client"
                            : msgs == NULL ? "msgs"
                                           : "n");
    }
    *msgs = NULL;
    *n = 0;
    if ((rv = check_sub(queue, sub)) != MQ_OK) {
        lasterr_wrap("fetch");
        return rv;
    }
    if (max_messages == 0 || max_messages > MQ_MAX_BATCH) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "fetch from %s/%s: max_messages is %zu, 1..%d "
                            "are allowed",
                            queue, sub, max_messages, MQ_MAX_BATCH);
    }
    return fetch_run(c, queue, sub, max_messages, max_wait_ms, NULL, msgs, n);
}

/* ---- ack and nack ---------------------------------------------------- */

mq_err fetch_settle(mq_client *c, const char *queue, const char *sub,
                    const uint64_t *seqs, size_t n, int nack, uint64_t delay_ms,
                    uint64_t timeout_ms)
{
    Mq__V1__AckRequest ar = MQ__V1__ACK_REQUEST__INIT;
    Mq__V1__NackRequest nr = MQ__V1__NACK_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    char what[2 * MQ_NAME_MAX + 32];
    struct conn_call call = {
        .what = what,
        .route = CONN_LEADER,
        .timeout_ms = timeout_ms,
    };
    Mq__V1__Reply *r;
    mq_err rv;

    if (n == 1) {
        snprintf(what, sizeof what, "%s %s/%s seq %llu", nack ? "nack" : "ack",
                 queue, sub, (unsigned long long)seqs[0]);
    } else {
        snprintf(what, sizeof what, "%s %zu messages of %s/%s",
                 nack ? "nack" : "ack", n, queue, sub);
    }
    if (nack) {
        nr.queue = (char *)queue;
        nr.sub = (char *)sub;
        nr.n_seqs = n;
        nr.seqs = (uint64_t *)seqs;
        nr.delay_ms = delay_ms;
        req.body_case = MQ__V1__REQUEST__BODY_NACK;
        req.nack = &nr;
    } else {
        ar.queue = (char *)queue;
        ar.sub = (char *)sub;
        ar.n_seqs = n;
        ar.seqs = (uint64_t *)seqs;
        req.body_case = MQ__V1__REQUEST__BODY_ACK;
        req.ack = &ar;
    }
    rv = conn_call(c->conn, &call, &req, &r);
    if (rv == MQ_OK) {
        mq__v1__reply__free_unpacked(r, NULL);
    }
    return rv;
}

static mq_err check_settle(mq_client *c, const mq_msg *m, const char *verb)
{
    if (c == NULL || m == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "%s: %s is NULL", verb,
                            c == NULL ? "client" : "message");
    }
    return MQ_OK;
}

MQ_API mq_err mq_ack(mq_client *c, const mq_msg *m, uint32_t timeout_ms)
{
    mq_err rv = check_settle(c, m, "ack");

    if (rv != MQ_OK) {
        return rv;
    }
    return fetch_settle(c, m->queue, m->sub, &m->seq, 1, 0, 0,
                        client_timeout(c, timeout_ms));
}

MQ_API mq_err mq_nack(mq_client *c, const mq_msg *m, uint64_t delay_ms,
                      uint32_t timeout_ms)
{
    mq_err rv = check_settle(c, m, "nack");

    if (rv != MQ_OK) {
        return rv;
    }
    return fetch_settle(c, m->queue, m->sub, &m->seq, 1, 1, delay_ms,
                        client_timeout(c, timeout_ms));
}

MQ_API mq_err mq_ack_seqs(mq_client *c, const char *queue, const char *sub,
                          const uint64_t *seqs, size_t n, uint32_t timeout_ms)
{
    mq_err rv;

    if (c == NULL || (seqs == NULL && n > 0)) {
        return lasterr_fail(MQ_ERR_INVALID, "ack: %s is NULL",
                            c == NULL ? "client" : "seqs");
    }
    if ((rv = check_sub(queue, sub)) != MQ_OK) {
        lasterr_wrap("ack");
        return rv;
    }
    if (n > MQ_MAX_BATCH) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "ack %s/%s: %zu seqs, at most %d are allowed",
                            queue, sub, n, MQ_MAX_BATCH);
    }
    if (n == 0) {
        return MQ_OK;
    }
    return fetch_settle(c, queue, sub, seqs, n, 0, 0,
                        client_timeout(c, timeout_ms));
}
