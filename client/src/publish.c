/* publish.c: mq_publish, mq_publish_batch(_flags) and mq_cancel. Every
 * message is checked before anything is sent (check.h); generated ids are
 * made once, so that the retries of conn_call resend the same ids and the
 * node stores each message once. */
#include "publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "client.h"
#include "conn.h"
#include "errors.h"
#include "ids.h"
#include "lasterr.h"

void publish_pb_fill(Mq__V1__PubMessage *pb, Mq__V1__Header *hdrs,
                     Mq__V1__Header **hptrs, const mq_pub *m, const char *id)
{
    static const Mq__V1__PubMessage pb_init = MQ__V1__PUB_MESSAGE__INIT;
    static const Mq__V1__Header hdr_init = MQ__V1__HEADER__INIT;

    *pb = pb_init;
    pb->id = (char *)id;
    pb->event = m->event != NULL && m->event[0] != '\0'
                    ? (char *)m->event
                    : (char *)PUBLISH_DEFAULT_EVENT;
    for (size_t i = 0; i < m->n_headers; i++) {
        hdrs[i] = hdr_init;
        hdrs[i].key = (char *)m->headers[i].key;
        hdrs[i].value = (char *)m->headers[i].value;
        hptrs[i] = &hdrs[i];
    }
    pb->n_headers = m->n_headers;
    pb->headers = m->n_headers > 0 ? hptrs : NULL;
    pb->payload.data = (uint8_t *)m->payload;
    pb->payload.len = m->payload_len;
    pb->delay_ms = m->delay_ms;
}

mq_err publish_send(mq_client *c, const char *queue, Mq__V1__PubMessage **msgs,
                    size_t n, int atomic, uint64_t timeout_ms,
                    const _Atomic int *stop, Mq__V1__Reply **out)
{
    Mq__V1__PublishRequest pr = MQ__V1__PUBLISH_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    char what[MQ_QNAME_MAX + 16];
    struct conn_call call = {
        .what = what,
        .route = CONN_LEADER,
        .timeout_ms = timeout_ms,
        .stop = stop,
    };
    Mq__V1__Reply *r;
    mq_err rv;

    *out = NULL;
    snprintf(what, sizeof what, "publish to %s", queue);
    pr.queue = (char *)queue;
    pr.n_messages = n;
    pr.messages = msgs;
    pr.atomic = atomic != 0;
    req.body_case = MQ__V1__REQUEST__BODY_PUBLISH;
    req.publish = &pr;
    rv = conn_call(c->conn, &call, &req, &r);
    if (rv != MQ_OK) {
        return rv;
    }
    if (r->body_case != MQ__V1__REPLY__BODY_PUBLISH ||
        r->publish->n_results != n) {
        size_t got = r->body_case == MQ__V1__REPLY__BODY_PUBLISH
                         ? r->publish->n_results
                         : 0;
        mq__v1__reply__free_unpacked(r, NULL);
        return lasterr_fail(MQ_ERR_PROTOCOL,
                            "%s: the reply has %zu results for %zu messages",
                            what, got, n);
    }
    conn_note_written(c->conn, r->publish->index);
    *out = r;
    return MQ_OK;
}

void publish_result_fill(mq_pub_result *res, const Mq__V1__PublishReply *rep,
                         size_t i, mq_err err, const char *id)
{
    const Mq__V1__PublishResult *r = rep != NULL ? rep->results[i] : NULL;
    int ok;

    res->err = r != NULL ? err_from_status(r->status) : err;
    ok = r != NULL && res->err == MQ_OK;
    res->seq = ok ? r->seq : 0;
    res->duplicate = ok && r->duplicate;
    res->durable = ok && rep->durable;
    res->index = ok ? rep->index : 0;
    snprintf(res->id, sizeof res->id, "%s", id);
}

/* Memory of one synchronous request: each message's check, and the
 * protobuf views of those sent. */
struct pubbuf {
    mq_err *errs; /* of check_pub: MQ_OK for a message sent */
    Mq__V1__PubMessage *pbs;
    Mq__V1__PubMessage **ptrs; /* the messages sent, in order */
    Mq__V1__Header *hdrs;
    Mq__V1__Header **hptrs;
    char (*gen)[IDS_BUF]; /* generated ids */
    const char **ids;     /* the id of each message */
};

static void pubbuf_free(struct pubbuf *b)
{
    free(b->errs);
    free(b->pbs);
    free(b->ptrs);
    free(b->hdrs);
    free(b->hptrs);
    free(b->gen);
    free(b->ids);
}

/* Allocates @b for @n messages, and header views for those whose b->errs
 * (set by the caller) is MQ_OK. */
static mq_err pubbuf_alloc_views(struct pubbuf *b, const mq_pub *msgs, size_t n)
{
    size_t n_hdrs = 0;

    for (size_t i = 0; i < n; i++) {
        if (b->errs[i] == MQ_OK) {
            n_hdrs += msgs[i].n_headers; /* checked: at most 64 each */
        }
    }
    b->pbs = calloc(n, sizeof *b->pbs);
    b->ptrs = calloc(n, sizeof *b->ptrs);
    b->gen = calloc(n, sizeof *b->gen);
    b->ids = calloc(n, sizeof *b->ids);
    b->hdrs = calloc(n_hdrs + 1, sizeof *b->hdrs);
    b->hptrs = calloc(n_hdrs + 1, sizeof *b->hptrs);
    if (b->pbs == NULL || b->ptrs == NULL || b->gen == NULL || b->ids == NULL ||
        b->hdrs == NULL || b->hptrs == NULL) {
        return lasterr_fail(MQ_ERR_NO_MEMORY, "out of memory");
    }
    return MQ_OK;
}

/* Fills every result (if any) with its message's own error from @errs (may
 * be NULL), else with @err, keeping the ids known (@ids may be NULL: the
 * given ones). */
static void fail_all(mq_pub_result *results, const mq_pub *msgs, size_t n,
                     const char **ids, const mq_err *errs, mq_err err)
{
    for (size_t i = 0; results != NULL && i < n; i++) {
        const char *id = ids != NULL && ids[i] != NULL        ? ids[i]
                         : msgs != NULL && msgs[i].id != NULL ? msgs[i].id
                                                              : "";
        publish_result_fill(&results[i], NULL, i,
                            errs != NULL && errs[i] != MQ_OK ? errs[i] : err,
                            id);
    }
}

/* A batch was answered: mq_errmsg names its first message refused, by
 * libmq's checks (@errs[i], whose message is @refused) or by the node (its
 * result's detail, e.g. what is full and by how much); unchanged if none
 * was. */
static void batch_refused(const char *qname, const Mq__V1__PublishReply *rep,
                          const mq_err *errs, size_t n, const char *refused)
{
    for (size_t i = 0, k = 0; i < n; i++) {
        if (errs[i] != MQ_OK) {
            lasterr_set("%s", refused);
            return;
        }
        const Mq__V1__PublishResult *pr =
            k < rep->n_results ? rep->results[k] : NULL;
        k++;
        mq_err err = pr != NULL ? err_from_status(pr->status) : MQ_OK;
        if (err != MQ_OK) {
            lasterr_set("publish to %s: message %zu: %s", qname, i + 1,
                        pr->detail != NULL && pr->detail[0] != '\0'
                            ? pr->detail
                            : mq_strerror(err));
            return;
        }
    }
}

/* mq_publish_batch_flags, with messages named "message N" unless
 * @single. A message refused by the local checks fails alone and the others
 * are sent, except in a single publish, an all-or-nothing batch, or when
 * none is left: then nothing is sent and the call fails with its error.
 * mq_errmsg names the first message refused, by libmq or by the node. */
static mq_err publish_many(mq_client *c, const char *queue, const mq_pub *msgs,
                           size_t n, unsigned flags, mq_pub_result *results,
                           uint32_t timeout_ms, int single)
{
    int atomic = (flags & MQ_PUBLISH_ATOMIC) != 0;
    char qname[MQ_QNAME_MAX + 1], refused[LASTERR_SIZE] = "";
    struct pubbuf b = {0};
    mq_err rv, first_err = MQ_OK;
    Mq__V1__Reply *r;
    size_t h = 0, n_sent = 0;

    if (c == NULL || (msgs == NULL && n > 0)) {
        return lasterr_fail(MQ_ERR_INVALID, "publish: %s is NULL",
                            c == NULL ? "client" : "msgs");
    }
    if ((rv = client_qname(c, queue, "queue name", qname)) != MQ_OK) {
        lasterr_wrap("publish");
        fail_all(results, msgs, n, NULL, NULL, rv);
        return rv;
    }
    if (n == 0 || n > MQ_MAX_BATCH) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "publish to %s: %zu messages, 1..%d are allowed",
                            qname, n, MQ_MAX_BATCH);
    }
    if ((flags & ~MQ_PUBLISH_ATOMIC) != 0) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "publish to %s: flags 0x%x are unknown", qname,
                            flags & ~MQ_PUBLISH_ATOMIC);
    }
    if ((b.errs = calloc(n, sizeof *b.errs)) == NULL) {
        return lasterr_fail(MQ_ERR_NO_MEMORY, "publish to %s: out of memory",
                            qname);
    }
    for (size_t i = 0; i < n; i++) {
        if ((b.errs[i] = check_pub(&msgs[i])) == MQ_OK) {
            n_sent++;
        } else if (first_err == MQ_OK) {
            first_err = b.errs[i];
            if (single) {
                lasterr_wrap("publish to %s", qname);
            } else {
                lasterr_wrap("publish to %s: message %zu", qname, i + 1);
            }
            snprintf(refused, sizeof refused, "%s", mq_errmsg());
        }
    }
    if (first_err != MQ_OK && (single || atomic || n_sent == 0)) {
        fail_all(results, msgs, n, NULL, b.errs, first_err);
        pubbuf_free(&b);
        return lasterr_fail(first_err, "%s", refused);
    }
    if ((rv = pubbuf_alloc_views(&b, msgs, n)) != MQ_OK) {
        pubbuf_free(&b);
        lasterr_wrap("publish to %s", qname);
        return rv;
    }
    n_sent = 0;
    for (size_t i = 0; i < n; i++) {
        b.ids[i] = msgs[i].id;
        if (b.errs[i] != MQ_OK) {
            continue; /* not sent: no id made */
        }
        if (b.ids[i] == NULL) {
            ids_next(&c->ids, b.gen[i]);
            b.ids[i] = b.gen[i];
        }
        publish_pb_fill(&b.pbs[i], &b.hdrs[h], &b.hptrs[h], &msgs[i], b.ids[i]);
        b.ptrs[n_sent++] = &b.pbs[i];
        h += msgs[i].n_headers;
    }
    rv = publish_send(c, qname, b.ptrs, n_sent, atomic,
                      client_timeout(c, timeout_ms), NULL, &r);
    if (rv != MQ_OK) {
        fail_all(results, msgs, n, b.ids, b.errs, rv);
        pubbuf_free(&b);
        return rv;
    }
    for (size_t i = 0, k = 0; results != NULL && i < n; i++) {
        if (b.errs[i] == MQ_OK) {
            publish_result_fill(&results[i], r->publish, k++, MQ_OK, b.ids[i]);
        } else {
            publish_result_fill(&results[i], NULL, i, b.errs[i],
                                b.ids[i] != NULL ? b.ids[i] : "");
        }
    }
    if (single) {
        const Mq__V1__PublishResult *pr = r->publish->results[0];
        rv = err_from_status(pr->status);
        if (rv != MQ_OK) {
            lasterr_set("publish to %s: %s", qname,
                        pr->detail != NULL && pr->detail[0] != '\0'
                            ? pr->detail
                            : mq_strerror(rv));
        }
    } else {
        batch_refused(qname, r->publish, b.errs, n, refused);
    }
    mq__v1__reply__free_unpacked(r, NULL);
    pubbuf_free(&b);
    return rv;
}

MQ_API mq_err mq_publish(mq_client *c, const char *queue, const mq_pub *m,
                         mq_pub_result *res, uint32_t timeout_ms)
{
    if (m == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "publish: message is NULL");
    }
    return publish_many(c, queue, m, 1, 0, res, timeout_ms, 1);
}

MQ_API mq_err mq_publish_batch(mq_client *c, const char *queue,
                               const mq_pub *msgs, size_t n,
                               mq_pub_result *results, uint32_t timeout_ms)
{
    return publish_many(c, queue, msgs, n, 0, results, timeout_ms, 0);
}

MQ_API mq_err mq_publish_batch_flags(mq_client *c, const char *queue,
                                     const mq_pub *msgs, size_t n,
                                     unsigned flags, mq_pub_result *results,
                                     uint32_t timeout_ms)
{
    return publish_many(c, queue, msgs, n, flags, results, timeout_ms, 0);
}

MQ_API mq_err mq_cancel(mq_client *c, const char *id, const char *queue,
                        uint64_t *seq_out, uint32_t timeout_ms)
{
    Mq__V1__CancelRequest cr = MQ__V1__CANCEL_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    char qname[MQ_QNAME_MAX + 1] = "";
    char what[MQ_ID_MAX + MQ_QNAME_MAX + 32];
    struct conn_call call = {.what = what, .route = CONN_LEADER};
    Mq__V1__Reply *r;
    mq_err rv;

    if (seq_out != NULL) {
        *seq_out = 0;
    }
    if (c == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "cancel: client is NULL");
    }
    if ((rv = check_id(id)) != MQ_OK ||
        (queue != NULL && queue[0] != '\0' &&
         (rv = client_qname(c, queue, "queue name", qname)) != MQ_OK)) {
        lasterr_wrap("cancel");
        return rv;
    }
    if (qname[0] != '\0') {
        snprintf(what, sizeof what, "cancel message %s in %s", id, qname);
    } else {
        snprintf(what, sizeof what, "cancel message %s", id);
    }
    call.timeout_ms = client_timeout(c, timeout_ms);
    cr.id = (char *)id;
    cr.queue = qname;
    req.body_case = MQ__V1__REQUEST__BODY_CANCEL;
    req.cancel = &cr;
    if ((rv = conn_call(c->conn, &call, &req, &r)) != MQ_OK) {
        return rv;
    }
    if (r->body_case != MQ__V1__REPLY__BODY_CANCEL &&
        r->body_case != MQ__V1__REPLY__BODY__NOT_SET) {
        mq__v1__reply__free_unpacked(r, NULL);
        return lasterr_fail(MQ_ERR_PROTOCOL,
                            "%s: the reply is not a cancel reply", what);
    }
    if (seq_out != NULL && r->body_case == MQ__V1__REPLY__BODY_CANCEL) {
        *seq_out = r->cancel->seq;
    }
    mq__v1__reply__free_unpacked(r, NULL);
    return MQ_OK;
}
