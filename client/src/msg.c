/* msg.c: mq_msg, the messages a fetch delivers and a read returns, and
 * their accessors. */
#include "msg.h"

#include <stdlib.h>
#include <string.h>

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

mq_msg *msg_new(const Mq__V1__Delivery *d, const char *queue, const char *sub)
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
    m->deliver_at_ms = d->deliver_at_ms > d->published_at_ms
                           ? d->deliver_at_ms
                           : d->published_at_ms;
    m->attempt = d->attempt;
    return m;
}

mq_err msg_array_new(Mq__V1__Delivery *const *d, size_t n, const char *queue,
                     const char *sub, mq_msg ***out)
{
    mq_msg **msgs = calloc(n + 1, sizeof *msgs);

    *out = NULL;
    if (msgs == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < n; i++) {
        msgs[i] = msg_new(d[i], queue, sub);
        if (msgs[i] == NULL) {
            mq_msgs_free(msgs, i);
            return MQ_ERR_NO_MEMORY;
        }
    }
    *out = msgs;
    return MQ_OK;
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

MQ_API uint64_t mq_msg_deliver_at(const mq_msg *m)
{
    return m->deliver_at_ms;
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
