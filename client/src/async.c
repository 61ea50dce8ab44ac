/* async.c: asynchronous publishing: per-queue batching, sender threads,
 * backpressure and flush (thread rules in async.h).
 *
 * Happy path: mq_publish_async checks the message, copies it into one block
 * (struct apub, with its generated id), appends it to its queue's list and
 * wakes a sender when the list becomes non-empty or full. A sender takes a
 * batch from a queue that is ready (no batch of the queue in flight, and:
 * batch_max_messages or batch_max_bytes reached, linger_ms passed since its
 * oldest message was queued (at once with linger_ms 0, the default), or a
 * flush waiting), publishes it and calls the callbacks.
 *
 * Failure modes: a request that fails as a whole (deadline, closed client,
 * unknown queue) gives its error to every callback of the batch; a message
 * refused by the node gets its own error. When max_pending_messages are
 * pending, mq_publish_async waits up to the client's timeout_ms for room,
 * then fails with MQ_ERR_TIMEOUT. On close, the batches in flight end with
 * MQ_ERR_CANCELED (the sockets are closed under them) and so do the
 * messages still queued.
 *
 * Order: a queue has at most one batch in flight (retries included), so
 * the messages of one queue are stored in the order they were queued;
 * batches of different queues go out in parallel. */
#include "async.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "client.h"
#include "errors.h"
#include "ids.h"
#include "lasterr.h"
#include "publish.h"
#include "retry.h"

/* Bytes counted per message besides its fields, for batch_max_bytes. */
#define APUB_OVERHEAD 16

/* One message queued: a single allocation holding the protobuf view and a
 * copy of every field it points to. */
struct apub {
    struct apub *next;
    uint64_t ticket;    /* queue order over all queues, from 1 */
    uint64_t queued_ms; /* monotonic */
    mq_publish_cb cb;
    void *arg;
    size_t size; /* counted against batch_max_bytes */
    Mq__V1__PubMessage pb;
    /* Then: Mq__V1__Header[n], Mq__V1__Header *[n], the strings, the
     * payload. */
};

struct aqueue {
    struct aqueue *next;
    struct apub *head, *tail;
    size_t n, bytes;
    int busy;                    /* a batch of this queue is in flight */
    char name[MQ_QNAME_MAX + 1]; /* as sent */
};

struct sender {
    struct async *a;
    pthread_t thread;
    int started;
    uint64_t first_ticket;     /* of the batch in hand; 0: none */
    Mq__V1__PubMessage **ptrs; /* batch_max_messages entries */
};

struct async {
    mq_client *c;
    pthread_mutex_t lock;
    pthread_cond_t work;   /* senders: a batch may be ready */
    pthread_cond_t space;  /* producers: pending went down */
    pthread_cond_t done;   /* flushers: a batch completed */
    struct aqueue *queues; /* senders take round-robin: served go last */
    size_t pending;        /* accepted, not answered yet */
    uint64_t last_ticket;
    int flushers;
    int closing;
    size_t n_senders;
    struct sender *senders;
};

/* ---- time ------------------------------------------------------------ */

static struct timespec abstime(uint64_t deadline_ms)
{
    struct timespec ts;
    uint64_t now = retry_now_ms();
    uint64_t wait = deadline_ms > now ? deadline_ms - now : 0;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(wait / 1000);
    ts.tv_nsec += (long)(wait % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t ca;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
}

/* ---- messages -------------------------------------------------------- */

static char *put_str(char **p, const char *s)
{
    size_t len = strlen(s) + 1;
    char *at = *p;

    memcpy(at, s, len);
    *p += len;
    return at;
}

/* Copies @m (checked) with id @id into one block. NULL: out of memory. */
static struct apub *apub_new(const mq_pub *m, const char *id, mq_publish_cb cb,
                             void *arg)
{
    const char *event = m->event != NULL && m->event[0] != '\0'
                            ? m->event
                            : PUBLISH_DEFAULT_EVENT;
    size_t n = m->n_headers;
    size_t strs = strlen(id) + 1 + strlen(event) + 1;
    struct apub *e;
    Mq__V1__Header *hdrs;
    Mq__V1__Header **hptrs;
    mq_pub copy;
    mq_header *tmp = NULL;
    char *p;

    for (size_t i = 0; i < n; i++) {
        strs += strlen(m->headers[i].key) + strlen(m->headers[i].value) + 2;
    }
    e = malloc(sizeof *e + n * (sizeof *hdrs + sizeof *hptrs) + strs +
               m->payload_len);
    if (e == NULL) {
        return NULL;
    }
    hdrs = (Mq__V1__Header *)(e + 1);
    hptrs = (Mq__V1__Header **)(hdrs + n);
    p = (char *)(hptrs + n);
    if (n > 0 && (tmp = malloc(n * sizeof *tmp)) == NULL) {
        free(e);
        return NULL;
    }
    copy = *m;
    copy.id = put_str(&p, id);
    copy.event = put_str(&p, event);
    for (size_t i = 0; i < n; i++) {
        tmp[i].key = put_str(&p, m->headers[i].key);
        tmp[i].value = put_str(&p, m->headers[i].value);
    }
    copy.headers = tmp;
    memcpy(p, m->payload, m->payload_len);
    copy.payload = p;
    publish_pb_fill(&e->pb, hdrs, hptrs, &copy, copy.id);
    free(tmp);
    e->next = NULL;
    e->cb = cb;
    e->arg = arg;
    e->size = strs + m->payload_len + APUB_OVERHEAD;
    return e;
}

/* Calls @e's callback with its result (result @i of @rep, else @err) and
 * frees @e. */
static void apub_complete(struct apub *e, const char *queue,
                          const Mq__V1__PublishReply *rep, size_t i, mq_err err)
{
    const Mq__V1__PublishResult *r = rep != NULL ? rep->results[i] : NULL;
    mq_pub_result res;

    publish_result_fill(&res, rep, i, err, e->pb.id);
    if (res.err != MQ_OK && r != NULL) {
        /* mq_errmsg, read from the callback, names the failure. */
        lasterr_set("publish to %s: %s", queue,
                    r->detail != NULL && r->detail[0] != '\0'
                        ? r->detail
                        : mq_strerror(res.err));
    }
    if (e->cb != NULL) {
        e->cb(e->arg, &res);
    }
    free(e);
}

/* ---- queues (under the lock) ----------------------------------------- */

static struct aqueue *queue_get(struct async *a, const char *name)
{
    struct aqueue *q;

    for (q = a->queues; q != NULL; q = q->next) {
        if (strcmp(q->name, name) == 0) {
            return q;
        }
    }
    q = calloc(1, sizeof *q);
    if (q == NULL) {
        return NULL;
    }
    snprintf(q->name, sizeof q->name, "%s", name);
    q->next = a->queues;
    a->queues = q;
    return q;
}

static int queue_full(const struct async *a, const struct aqueue *q)
{
    return q->n >= a->c->opts.batch_max_messages ||
           q->bytes >= a->c->opts.batch_max_bytes;
}

/* The first queue with a batch ready at @now, or NULL and *wake_ms, the
 * time when one will be (0: none pending). */
static struct aqueue *queue_ready(struct async *a, uint64_t now,
                                  uint64_t *wake_ms)
{
    *wake_ms = 0;
    for (struct aqueue *q = a->queues; q != NULL; q = q->next) {
        uint64_t at;
        if (q->n == 0 || q->busy) {
            continue;
        }
        at = q->head->queued_ms + a->c->opts.linger_ms;
        if (queue_full(a, q) || a->flushers > 0 || now >= at) {
            return q;
        }
        if (*wake_ms == 0 || at < *wake_ms) {
            *wake_ms = at;
        }
    }
    return NULL;
}

/* Moves @q to the end of the list, so that other queues are served next. */
static void queue_to_back(struct async *a, struct aqueue *q)
{
    struct aqueue **pp = &a->queues;

    if (q->next == NULL) {
        return;
    }
    while (*pp != q) {
        pp = &(*pp)->next;
    }
    *pp = q->next;
    while (*pp != NULL) {
        pp = &(*pp)->next;
    }
    *pp = q;
    q->next = NULL;
}

/* Takes a batch from @q's head: up to batch_max_messages and
 * batch_max_bytes, at least one message. Returns its length. */
static size_t queue_take(struct async *a, struct aqueue *q, struct apub **head)
{
    size_t n = 0, bytes = 0;
    struct apub *e = q->head, *last = NULL;

    while (e != NULL && n < a->c->opts.batch_max_messages &&
           (n == 0 || bytes + e->size <= a->c->opts.batch_max_bytes)) {
        bytes += e->size;
        n++;
        last = e;
        e = e->next;
    }
    *head = q->head;
    last->next = NULL;
    q->head = e;
    if (e == NULL) {
        q->tail = NULL;
    }
    q->n -= n;
    q->bytes -= bytes;
    return n;
}

/* The ticket of the oldest publish not completed, UINT64_MAX if none. */
static uint64_t oldest_ticket(const struct async *a)
{
    uint64_t t = UINT64_MAX;

    for (const struct aqueue *q = a->queues; q != NULL; q = q->next) {
        if (q->head != NULL && q->head->ticket < t) {
            t = q->head->ticket;
        }
    }
    for (size_t i = 0; i < a->n_senders; i++) {
        uint64_t f = a->senders[i].first_ticket;
        if (f != 0 && f < t) {
            t = f;
        }
    }
    return t;
}

/* ---- senders --------------------------------------------------------- */

/* Publishes the batch @head (@n messages of @q) and completes each. Runs
 * without the lock. */
static void send_batch(struct sender *s, struct aqueue *q, struct apub *head,
                       size_t n)
{
    struct async *a = s->a;
    Mq__V1__Reply *r = NULL;
    struct apub *e = head;
    char why[LASTERR_SIZE];
    size_t i;
    mq_err rv;

    for (i = 0; i < n; i++, e = e->next) {
        s->ptrs[i] = &e->pb;
    }
    rv = publish_send(a->c, q->name, s->ptrs, n, 0, a->c->opts.timeout_ms, NULL,
                      &r);
    /* Answered: make room for producers before the callbacks run, so that
     * a callback may publish again without waiting on itself. */
    pthread_mutex_lock(&a->lock);
    a->pending -= n;
    pthread_cond_broadcast(&a->space);
    pthread_mutex_unlock(&a->lock);
    if (rv != MQ_OK) {
        snprintf(why, sizeof why, "%s", mq_errmsg());
    }
    for (i = 0, e = head; i < n; i++) {
        struct apub *next = e->next;
        if (rv != MQ_OK) {
            lasterr_set("%s", why); /* a callback may have changed it */
        }
        apub_complete(e, q->name, r != NULL ? r->publish : NULL, i, rv);
        e = next;
    }
    if (r != NULL) {
        mq__v1__reply__free_unpacked(r, NULL);
    }
}

static void *sender_main(void *arg)
{
    struct sender *s = arg;
    struct async *a = s->a;

    pthread_mutex_lock(&a->lock);
    while (!a->closing) {
        uint64_t wake_ms;
        struct apub *head;
        struct aqueue *q = queue_ready(a, retry_now_ms(), &wake_ms);
        size_t n;

        if (q == NULL) {
            if (wake_ms == 0) {
                pthread_cond_wait(&a->work, &a->lock);
            } else {
                struct timespec ts = abstime(wake_ms);
                pthread_cond_timedwait(&a->work, &a->lock, &ts);
            }
            continue;
        }
        n = queue_take(a, q, &head);
        q->busy = 1;
        s->first_ticket = head->ticket;
        queue_to_back(a, q);
        if (q->n > 0) {
            pthread_cond_signal(&a->work); /* the rest may be ready too */
        }
        pthread_mutex_unlock(&a->lock);
        send_batch(s, q, head, n);
        pthread_mutex_lock(&a->lock);
        s->first_ticket = 0;
        q->busy = 0;
        if (q->n > 0) {
            pthread_cond_signal(&a->work); /* its next batch may go */
        }
        if (a->flushers > 0) {
            pthread_cond_broadcast(&a->done);
        }
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

mq_err async_new(struct async **out, mq_client *c)
{
    struct async *a = calloc(1, sizeof *a);
    uint32_t n = c->opts.max_inflight_batches;

    *out = NULL;
    if (a == NULL) {
        return lasterr_fail(MQ_ERR_NO_MEMORY, "out of memory");
    }
    a->c = c;
    pthread_mutex_init(&a->lock, NULL);
    cond_init(&a->work);
    cond_init(&a->space);
    cond_init(&a->done);
    a->senders = calloc(n, sizeof *a->senders);
    if (a->senders == NULL) {
        async_free(a);
        return lasterr_fail(MQ_ERR_NO_MEMORY, "out of memory");
    }
    a->n_senders = n;
    for (uint32_t i = 0; i < n; i++) {
        struct sender *s = &a->senders[i];
        s->a = a;
        s->ptrs = calloc(c->opts.batch_max_messages, sizeof *s->ptrs);
        if (s->ptrs == NULL ||
            client_thread_start(&s->thread, sender_main, s) != 0) {
            async_close_begin(a);
            async_free(a);
            return lasterr_fail(MQ_ERR_NO_MEMORY,
                                "start publishing threads: out of memory");
        }
        s->started = 1;
    }
    *out = a;
    return MQ_OK;
}

void async_close_begin(struct async *a)
{
    pthread_mutex_lock(&a->lock);
    a->closing = 1;
    pthread_cond_broadcast(&a->work);
    pthread_cond_broadcast(&a->space);
    pthread_cond_broadcast(&a->done);
    pthread_mutex_unlock(&a->lock);
}

void async_free(struct async *a)
{
    struct aqueue *q;

    for (size_t i = 0; i < a->n_senders; i++) {
        if (a->senders[i].started) {
            pthread_join(a->senders[i].thread, NULL);
        }
        free(a->senders[i].ptrs);
    }
    /* No thread left: no lock needed. */
    while ((q = a->queues) != NULL) {
        struct apub *e = q->head;
        a->queues = q->next;
        while (e != NULL) {
            struct apub *next = e->next;
            lasterr_set("publish to %s: canceled: the client is closing",
                        q->name);
            apub_complete(e, q->name, NULL, 0, MQ_ERR_CANCELED);
            e = next;
        }
        free(q);
    }
    free(a->senders);
    pthread_cond_destroy(&a->done);
    pthread_cond_destroy(&a->space);
    pthread_cond_destroy(&a->work);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

/* ---- API ------------------------------------------------------------- */

static mq_err async_get(mq_client *c, struct async **out)
{
    mq_err rv = MQ_OK;

    pthread_mutex_lock(&c->lock);
    if (c->async == NULL) {
        rv = async_new(&c->async, c);
    }
    *out = c->async;
    pthread_mutex_unlock(&c->lock);
    return rv;
}

MQ_API mq_err mq_publish_async(mq_client *c, const char *queue, const mq_pub *m,
                               mq_publish_cb cb, void *arg)
{
    char gen[IDS_BUF], qname[MQ_QNAME_MAX + 1];
    struct async *a;
    struct aqueue *q;
    struct apub *e;
    uint64_t deadline;
    mq_err rv;

    if (c == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "publish: client is NULL");
    }
    if ((rv = client_qname(c, queue, "queue name", qname)) != MQ_OK) {
        lasterr_wrap("publish");
        return rv;
    }
    queue = qname; /* from here on, the name sent */
    if ((rv = check_pub(m)) != MQ_OK) {
        lasterr_wrap("publish to %s", queue);
        return rv;
    }
    if ((rv = async_get(c, &a)) != MQ_OK) {
        lasterr_wrap("publish to %s", queue);
        return rv;
    }
    if (m->id == NULL) {
        ids_next(&c->ids, gen);
    }
    e = apub_new(m, m->id != NULL ? m->id : gen, cb, arg);
    if (e == NULL) {
        return lasterr_fail(MQ_ERR_NO_MEMORY, "publish to %s: out of memory",
                            queue);
    }
    deadline = retry_now_ms() + c->opts.timeout_ms;
    pthread_mutex_lock(&a->lock);
    while (!a->closing && a->pending >= c->opts.max_pending_messages) {
        struct timespec ts = abstime(deadline);
        if (pthread_cond_timedwait(&a->space, &a->lock, &ts) != 0 &&
            a->pending >= c->opts.max_pending_messages) {
            pthread_mutex_unlock(&a->lock);
            free(e);
            return lasterr_fail(MQ_ERR_TIMEOUT,
                                "publish to %s: %u messages are pending and "
                                "none completed within %u ms",
                                queue, c->opts.max_pending_messages,
                                c->opts.timeout_ms);
        }
    }
    if (a->closing || (q = queue_get(a, queue)) == NULL) {
        int closing = a->closing;
        pthread_mutex_unlock(&a->lock);
        free(e);
        return closing ? lasterr_fail(MQ_ERR_CANCELED,
                                      "publish to %s: canceled: the client "
                                      "is closing",
                                      queue)
                       : lasterr_fail(MQ_ERR_NO_MEMORY,
                                      "publish to %s: out of memory", queue);
    }
    e->ticket = ++a->last_ticket;
    e->queued_ms = retry_now_ms();
    if (q->tail != NULL) {
        q->tail->next = e;
    } else {
        q->head = e;
    }
    q->tail = e;
    q->n++;
    q->bytes += e->size;
    a->pending++;
    /* A sender must learn of a new linger deadline, or of a full batch. */
    if (q->n == 1 || queue_full(a, q)) {
        pthread_cond_signal(&a->work);
    }
    pthread_mutex_unlock(&a->lock);
    return MQ_OK;
}

MQ_API mq_err mq_flush(mq_client *c, uint32_t timeout_ms)
{
    struct async *a;
    uint64_t last, deadline;
    mq_err rv = MQ_OK;

    if (c == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "flush: client is NULL");
    }
    pthread_mutex_lock(&c->lock);
    a = c->async;
    pthread_mutex_unlock(&c->lock);
    if (a == NULL) {
        return MQ_OK;
    }
    deadline = retry_now_ms() + client_timeout(c, timeout_ms);
    pthread_mutex_lock(&a->lock);
    last = a->last_ticket;
    a->flushers++;
    pthread_cond_broadcast(&a->work); /* no lingering while we wait */
    while (oldest_ticket(a) <= last) {
        struct timespec ts = abstime(deadline);
        if (a->closing) {
            rv = lasterr_fail(MQ_ERR_CANCELED,
                              "flush: canceled: the client is closing");
            break;
        }
        if (pthread_cond_timedwait(&a->done, &a->lock, &ts) != 0 &&
            oldest_ticket(a) <= last) {
            rv = lasterr_fail(
                MQ_ERR_TIMEOUT,
                "flush: %zu messages still pending after %llu "
                "ms",
                a->pending, (unsigned long long)client_timeout(c, timeout_ms));
            break;
        }
    }
    a->flushers--;
    pthread_mutex_unlock(&a->lock);
    return rv;
}
