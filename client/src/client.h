/* client.h: the mq_client handle, shared by every module of libmq. */
#ifndef MQ_CLIENT_CLIENT_H
#define MQ_CLIENT_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "conn.h"
#include "ids.h"
#include "mq.h"

/* Defaults of mq_client_opts (zero means default). */
#define CLIENT_TIMEOUT_MS 10000
#define CLIENT_ATTEMPT_TIMEOUT_MS 2000
#define CLIENT_BATCH_MAX_MESSAGES 5000
#define CLIENT_BATCH_MAX_BYTES (4u << 20)
#define CLIENT_MAX_INFLIGHT_BATCHES 8
#define CLIENT_MAX_PENDING_MESSAGES 100000
/* Longest token (mq_client_opts.token): the node's limit. */
#define CLIENT_TOKEN_MAX 512
/* Most sender threads of asynchronous publishing. */
#define CLIENT_MAX_INFLIGHT_LIMIT 256

struct async;

struct mq_client {
    mq_client_opts opts;      /* defaults filled in; opts.urls, opts.ns ours */
    char ns[MQ_NAME_MAX + 1]; /* opts.ns points here, or is NULL */
    struct conn *conn;
    struct ids ids;
    pthread_mutex_t lock;       /* guards async (creation) and subs */
    struct async *async;        /* NULL until the first mq_publish_async */
    struct mq_subscriber *subs; /* running, in start order */
};

/* Fills the defaults of @o's zero fields and checks its ranges. Returns
 * MQ_OK or MQ_ERR_INVALID naming the field. @o->urls is not parsed. */
mq_err client_opts_resolve(mq_client_opts *o);

/* Starts a libmq thread running @fn(@arg), with every signal blocked so
 * that the application's handlers run on its own threads. Returns 0 or an
 * errno value. */
int client_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/* Checks queue name @s (a field named @what, e.g. "queue name") and writes
 * the name to send, in the client's namespace (check_qname). Returns MQ_OK
 * or MQ_ERR_INVALID with mq_errmsg naming the field. */
mq_err client_qname(const mq_client *c, const char *s, const char *what,
                    char out[MQ_QNAME_MAX + 1]);

/* Checks subscription @sub of queue @queue: the queue as client_qname does
 * (writing its name to send to @qname), then the subscription's name. */
mq_err client_sub_check(const mq_client *c, const char *queue, const char *sub,
                        char qname[MQ_QNAME_MAX + 1]);

/* The token @opts gives (token, or token_file's first line) into @out
 * (CLIENT_TOKEN_MAX + 1 bytes; "" for none). Returns MQ_OK, or
 * MQ_ERR_INVALID with mq_errmsg saying why (both given, an unreadable
 * file, a token that is not one line of printable ASCII, too long), never
 * quoting it. */
mq_err client_token(const mq_client_opts *opts, char out[CLIENT_TOKEN_MAX + 1]);

/* The deadline of a call given @timeout_ms (0: the client's). */
static inline uint64_t client_timeout(const mq_client *c, uint32_t timeout_ms)
{
    return timeout_ms != 0 ? timeout_ms : c->opts.timeout_ms;
}

#endif
