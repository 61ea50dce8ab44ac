/* subscribe.c: the consumer thread of mq_subscribe (rules in
 * subscribe.h). */
#include "subscribe.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "fetch.h"
#include "lasterr.h"
#include "msg.h"
#include "retry.h"

struct mq_subscriber {
    mq_client *c;
    char queue[MQ_QNAME_MAX + 1]; /* as sent */
    char sub[MQ_NAME_MAX + 1];
    mq_subscribe_opts opts;
    mq_msg_cb cb;
    void *arg;
    pthread_t thread;
    pthread_mutex_t lock; /* guards the wait of backoff */
    pthread_cond_t wake;  /* signalled by stop */
    _Atomic int stop;
    uint64_t *acks, *nacks;     /* opts.batch entries each */
    struct mq_subscriber *next; /* in c->subs, under c->lock */
};

/* Waits @ms unless stopped first. */
static void backoff_wait(struct mq_subscriber *s, uint32_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    while (!atomic_load(&s->stop)) {
        if (pthread_cond_timedwait(&s->wake, &s->lock, &ts) != 0) {
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
}

/* Hands @msgs to the callback and settles them. */
static void deliver(struct mq_subscriber *s, mq_msg **msgs, size_t n)
{
    mq_client *c = s->c;
    size_t n_acks = 0, n_nacks = 0;
    uint64_t timeout;

    for (size_t i = 0; i < n; i++) {
        mq_action act;
        if (atomic_load(&s->stop)) {
            s->nacks[n_nacks++] = msgs[i]->seq; /* give it back now */
            continue;
        }
        act = s->cb(s->arg, msgs[i]);
        if (act == MQ_ACTION_ACK) {
            s->acks[n_acks++] = msgs[i]->seq;
        } else if (act == MQ_ACTION_NACK) {
            s->nacks[n_nacks++] = msgs[i]->seq;
        } else {
            msgs[i] = NULL; /* MQ_ACTION_KEEP: the callback owns it */
        }
    }
    /* Settle even when stopping, but then within one attempt. A failure
     * only means the messages come back after the ack timeout. */
    timeout =
        atomic_load(&s->stop) ? c->opts.attempt_timeout_ms : c->opts.timeout_ms;
    if (n_acks > 0) {
        fetch_settle(c, s->queue, s->sub, s->acks, n_acks, FETCH_ACK, 0, NULL,
                     timeout);
    }
    if (n_nacks > 0) {
        fetch_settle(c, s->queue, s->sub, s->nacks, n_nacks, FETCH_NACK,
                     atomic_load(&s->stop) ? 0 : s->opts.nack_delay_ms, NULL,
                     timeout);
    }
}

static void *subscriber_main(void *arg)
{
    struct mq_subscriber *s = arg;
    uint32_t backoff = 0;

    while (!atomic_load(&s->stop)) {
        mq_msg **msgs;
        size_t n;
        mq_err rv =
            fetch_run(s->c, s->queue, s->sub, s->opts.batch,
                      s->opts.max_wait_ms, 0, &s->stop, &msgs, &n, NULL);
        if (rv != MQ_OK) {
            /* Stopped, or closing (stop comes next), or failing: wait. */
            backoff = backoff == 0 ? RETRY_BACKOFF_MIN_MS : backoff * 2;
            if (backoff > SUBSCRIBE_BACKOFF_MAX_MS) {
                backoff = SUBSCRIBE_BACKOFF_MAX_MS;
            }
            backoff_wait(s, backoff);
            continue;
        }
        backoff = 0;
        deliver(s, msgs, n);
        mq_msgs_free(msgs, n);
    }
    return NULL;
}

static void subscriber_free(struct mq_subscriber *s)
{
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s->acks);
    free(s->nacks);
    free(s);
}

/* Stops @s's thread and frees @s; @s is no longer in the client's list. */
static void subscriber_end(struct mq_subscriber *s)
{
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->stop, 1);
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    subscriber_free(s);
}

MQ_API mq_err mq_subscribe(mq_client *c, const char *queue, const char *sub,
                           const mq_subscribe_opts *opts, mq_msg_cb cb,
                           void *arg, mq_subscriber **out)
{
    struct mq_subscriber *s;
    pthread_condattr_t ca;
    char qname[MQ_QNAME_MAX + 1];
    mq_sub_info info;
    mq_err rv;

    if (out != NULL) {
        *out = NULL;
    }
    if (c == NULL || cb == NULL || out == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "subscribe: %s is NULL",
                            c == NULL    ? "client"
                            : cb == NULL ? "cb"
                                         : "out");
    }
    if ((rv = client_sub_check(c, queue, sub, qname)) != MQ_OK) {
        lasterr_wrap("subscribe");
        return rv;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        return lasterr_fail(MQ_ERR_NO_MEMORY,
                            "subscribe to %s/%s: out of "
                            "memory",
                            qname, sub);
    }
    s->c = c;
    strcpy(s->queue, qname);
    strcpy(s->sub, sub);
    if (opts != NULL) {
        s->opts = *opts;
    }
    if (s->opts.batch == 0) {
        s->opts.batch = SUBSCRIBE_BATCH;
    }
    if (s->opts.max_wait_ms == 0) {
        s->opts.max_wait_ms = SUBSCRIBE_MAX_WAIT_MS;
    }
    if (s->opts.batch > MQ_MAX_BATCH) {
        free(s);
        return lasterr_fail(MQ_ERR_INVALID,
                            "subscribe to %s/%s: batch is %u, at most %d are "
                            "allowed",
                            qname, sub, opts->batch, MQ_MAX_BATCH);
    }
    s->cb = cb;
    s->arg = arg;
    atomic_init(&s->stop, 0);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    s->acks = calloc(s->opts.batch, sizeof *s->acks);
    s->nacks = calloc(s->opts.batch, sizeof *s->nacks);
    if (s->acks == NULL || s->nacks == NULL) {
        subscriber_free(s);
        return lasterr_fail(MQ_ERR_NO_MEMORY,
                            "subscribe to %s/%s: out of "
                            "memory",
                            qname, sub);
    }
    /* The subscription must exist: say so now rather than retry forever. */
    rv = mq_sub_info_get(c, queue, sub, &info, 0);
    if (rv != MQ_OK) {
        subscriber_free(s);
        lasterr_wrap("subscribe");
        return rv;
    }
    pthread_mutex_lock(&c->lock);
    if (client_thread_start(&s->thread, subscriber_main, s) != 0) {
        pthread_mutex_unlock(&c->lock);
        subscriber_free(s);
        return lasterr_fail(MQ_ERR_NO_MEMORY,
                            "subscribe to %s/%s: cannot start a thread", qname,
                            sub);
    }
    s->next = c->subs;
    c->subs = s;
    pthread_mutex_unlock(&c->lock);
    *out = s;
    return MQ_OK;
}

MQ_API void mq_subscriber_stop(mq_subscriber *s)
{
    mq_client *c;

    if (s == NULL) {
        return;
    }
    c = s->c;
    pthread_mutex_lock(&c->lock);
    for (struct mq_subscriber **pp = &c->subs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    subscriber_end(s);
}

void subscribe_stop_all(mq_client *c)
{
    struct mq_subscriber *s;

    pthread_mutex_lock(&c->lock);
    s = c->subs;
    c->subs = NULL;
    pthread_mutex_unlock(&c->lock);
    while (s != NULL) {
        struct mq_subscriber *next = s->next;
        subscriber_end(s);
        s = next;
    }
}
