/* publish.c: mq_publish and mq_publish_batch. Every message is checked
 * before anything is sent (check.h); generated ids are made once, so that
 * the retries of conn_call resend the same ids and the node stores each
 * message once. */
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
}

mq_err publish_send(mq_client *c, const char *queue, Mq__V1__PubMessage **msgs,
                    size_t n, uint64_t timeout_ms, const _Atomic int *stop,
                    Mq__V1__Reply **out)
{
    Mq__V1__PublishRequest pr = MQ__V1__PUBLISH_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    char what[MQ_NAME_MAX + 16];
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
    *out = r;
    return MQ_OK;
}

void publish_result_fill(mq_pub_result *res, const Mq__V1__PublishResult *r,
                         mq_err err, const char *id)
{
    res->err = r != NULL ? err_from_status(r->status) : err;
    res->seq = r != NULL && res->err == MQ_OK ? r->seq : 0;
    res->duplicate = r != NULL && res->err == MQ_OK && r->duplicate;
    snprintf(res->id, sizeof res->id, "%s", id);
}

/* Memory of one synchronous request's protobuf views. */
struct pubbuf {
    Mq__V1__PubMessage *pbs;
    Mq__V1__PubMessage **ptrs;
    Mq__V1__Header *hdrs;
    Mq__V1__Header **hptrs;
    char (*gen)[IDS_BUF]; /* generated ids */
    const char **ids;     /* the id of each message */
};

static void pubbuf_free(struct pubbuf *b)
{
    free(b->pbs);
    free(b->ptrs);
    free(b->hdrs);
    free(b->hptrs);
    free(b->gen);
    free(b->ids);
}

static mq_err pubbuf_alloc(struct pubbuf *b, const mq_pub *msgs, size_t n)
{
    size_t n_hdrs = 0;

    for (size_t i = 0; i < n; i++) {
        n_hdrs += msgs[i].n_headers;
    }
    memset(b, 0, sizeof *b);
    b->pbs = calloc(n, sizeof *b->pbs);
    b->ptrs = calloc(n, sizeof *b->ptrs);
    b->gen = calloc(n, sizeof *b->gen);
    b->ids = calloc(n, sizeof *b->ids);
    b->hdrs = calloc(n_hdrs + 1, sizeof *b->hdrs);
    b->hptrs = calloc(n_hdrs + 1, sizeof *b->hptrs);
    if (b->pbs == NULL || b->ptrs == NULL || b->gen == NULL || b->ids == NULL ||
        b->hdrs == NULL || b->hptrs == NULL) {
        pubbuf_free(b);
        return lasterr_fail(MQ_ERR_NO_MEMORY, "out of memory");
    }
    return MQ_OK;
}

/* Fills every result (if any) with @err, keeping the ids known. */
static void fail_all(mq_pub_result *results, size_t n, const char **ids,
                     mq_err err)
{
    for (size_t i = 0; results != NULL && i < n; i++) {
        publish_result_fill(&results[i], NULL, err,
                            ids != NULL && ids[i] != NULL ? ids[i] : "");
    }
}

/* mq_publish_batch, with messages named "message N" unless @single. */
static mq_err publish_many(mq_client *c, const char *queue, const mq_pub *msgs,
                           size_t n, mq_pub_result *results,
                           uint32_t timeout_ms, int single)
{
    struct pubbuf b;
    Mq__V1__Reply *r;
    size_t h = 0;
    mq_err rv;

    if (c == NULL || (msgs == NULL && n > 0)) {
        return lasterr_fail(MQ_ERR_INVALID, "publish: %s is NULL",
                            c == NULL ? "client" : "msgs");
    }
    if ((rv = check_name(queue, "queue name")) != MQ_OK) {
        lasterr_wrap("publish");
        fail_all(results, n, NULL, rv);
        return rv;
    }
    if (n == 0 || n > MQ_MAX_BATCH) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "publish to %s: %zu messages, 1..%d are allowed",
                            queue, n, MQ_MAX_BATCH);
    }
    for (size_t i = 0; i < n; i++) {
        if ((rv = check_pub(&msgs[i])) != MQ_OK) {
            if (single) {
                lasterr_wrap("publish to %s", queue);
            } else {
                lasterr_wrap("publish to %s: message %zu", queue, i + 1);
            }
            fail_all(results, n, NULL, rv);
            if (results != NULL) {
                for (size_t k = 0; k < n; k++) {
                    snprintf(results[k].id, sizeof results[k].id, "%s",
                             msgs[k].id != NULL ? msgs[k].id : "");
                }
            }
            return rv;
        }
    }
    if ((rv = pubbuf_alloc(&b, msgs, n)) != MQ_OK) {
        lasterr_wrap("publish to %s", queue);
        return rv;
    }
    for (size_t i = 0; i < n; i++) {
        if (msgs[i].id != NULL) {
            b.ids[i] = msgs[i].id;
        } else {
            ids_next(&c->ids, b.gen[i]);
            b.ids[i] = b.gen[i];
        }
        publish_pb_fill(&b.pbs[i], &b.hdrs[h], &b.hptrs[h], &msgs[i], b.ids[i]);
        b.ptrs[i] = &b.pbs[i];
        h += msgs[i].n_headers;
    }
    rv = publish_send(c, queue, b.ptrs, n, client_timeout(c, timeout_ms), NULL,
                      &r);
    if (rv != MQ_OK) {
        fail_all(results, n, b.ids, rv);
        pubbuf_free(&b);
        return rv;
    }
    for (size_t i = 0; results != NULL && i < n; i++) {
        publish_result_fill(&results[i], r->publish->results[i], MQ_OK,
                            b.ids[i]);
    }
    if (single) {
        const Mq__V1__PublishResult *pr = r->publish->results[0];
        rv = err_from_status(pr->status);
        if (rv != MQ_OK) {
            lasterr_set("publish to %s: %s", queue,
                        pr->detail != NULL && pr->detail[0] != '\0'
                            ? pr->detail
                            : mq_strerror(rv));
        }
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
    return publish_many(c, queue, m, 1, res, timeout_ms, 1);
}

MQ_API mq_err mq_publish_batch(mq_client *c, const char *queue,
                               const mq_pub *msgs, size_t n,
                               mq_pub_result *results, uint32_t timeout_ms)
{
    return publish_many(c, queue, msgs, n, results, timeout_ms, 0);
}
