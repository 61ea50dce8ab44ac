/* conn.h: the client's nodes and the one way a request travels: packed
 * once, sent to a node (nodesock.h), retried on other nodes until a node
 * answers it or the call's deadline passes.
 *
 * One socket per node URL; the nodes of the user's list come first, and a
 * redirect to a URL not in it adds a node (up to CONN_NODES_MAX). The known
 * leader is remembered for the next call: writes go to it and follow
 * NOT_LEADER redirects; reads go to it too (freshest), and a client that
 * knows no leader yet first asks a node which one leads. Catch-up reads and
 * status lookups go to a follower instead, so that they do not load the
 * leader: the one that answered the last such call, else a node that is
 * not the known leader, the first from a random one on (so that clients
 * spread over the followers); the leader only once every other node has
 * failed them.
 *
 * Threads: every function but conn_free may be called from any thread at
 * any time; conn_free last, once no call is in progress. */
#ifndef MQ_CLIENT_CONN_H
#define MQ_CLIENT_CONN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mq.h"
#include "mq.pb-c.h"
#include "nodesock.h"

/* Most nodes: the user's URLs plus those learnt from redirects. */
#define CONN_NODES_MAX 32
/* Longest wait of conn_ask_each for a node's connection: a node that
 * accepts none in this time is reported down. */
#define CONN_ASK_CONNECT_WAIT_MS 1000
/* Longest message kept per node failure in conn_answer. */
#define CONN_WHY_MAX NODESOCK_WHY_MAX

struct conn;

enum conn_route {
    CONN_LEADER,   /* writes: the leader, following NOT_LEADER redirects */
    CONN_ANY,      /* reads: the known leader first, then any node */
    CONN_FOLLOWER, /* reads any node answers: a follower first */
};

struct conn_call {
    const char *what; /* context of messages, e.g. "publish to orders" */
    enum conn_route route;
    uint64_t timeout_ms; /* deadline of the whole call, retries included */
    uint32_t extra_ms;   /* added to each attempt's timeout (fetch's wait) */
    const _Atomic int *stop; /* may be NULL; once nonzero, no new attempt */
    /* 1: one attempt only (a NOT_LEADER redirect is noted, not followed),
     * for a request that must not be repeated blindly: the caller decides
     * what to do after a retryable failure. */
    int once;
};

/* Opens a socket to each of @urls (@n, copied) and starts dialing,
 * tls+tcp:// ones with @tls's files (copied; NULL: none). Each attempt
 * waits at most @attempt_timeout_ms for a reply. Returns MQ_OK and sets
 * *out, MQ_ERR_INVALID when nng refuses a URL or a TLS file does not load,
 * or MQ_ERR_NO_MEMORY. */
mq_err conn_new(struct conn **out, char *const *urls, size_t n,
                uint32_t attempt_timeout_ms, const struct tlsdiag_files *tls);

/* Sets the token every request carries from now on (copied; NULL or "":
 * none). Call before the first request. Returns MQ_OK or
 * MQ_ERR_NO_MEMORY. */
mq_err conn_set_token(struct conn *cn, const char *token);

/* Closes the sockets: calls in progress end soon with MQ_ERR_CANCELED, and
 * so do calls to come. */
void conn_shutdown(struct conn *cn);

/* Frees @cn (shut down first if it was not). NULL does nothing. */
void conn_free(struct conn *cn);

/* Sends @req (borrowed) as @call says and waits for the answer. Returns
 * MQ_OK and sets *out to a reply with status OK (the caller frees it with
 * mq__v1__reply__free_unpacked); or the reply's non-retryable error, with
 * mq_errmsg "<what>: <detail>"; or, once retries ran out of time,
 * MQ_ERR_NOT_DONE when no attempt can have been carried out (mq_errmsg
 * "<what>: no quorum: N of M nodes reachable; not done (...)" when at most
 * half of the nodes known could be reached, else "<what>: not done: ..."),
 * or MQ_ERR_TIMEOUT / MQ_ERR_UNAVAILABLE when one may have been (the last
 * such attempt got no reply / lost its connection or was answered
 * UNAVAILABLE), mq_errmsg "<what>: outcome unknown, ..." naming the last
 * failure; or MQ_ERR_CANCELED (shut down, or call->stop set),
 * MQ_ERR_PROTOCOL (a reply that does not decode), MQ_ERR_NO_MEMORY. With
 * call->once, a retryable failure of the one attempt is returned as it is
 * (MQ_ERR_NOT_LEADER included), with mq_errmsg "<what>: <why>". */
mq_err conn_call(struct conn *cn, const struct conn_call *call,
                 const Mq__V1__Request *req, Mq__V1__Reply **out);

/* What one node answered to conn_ask_each. */
struct conn_answer {
    mq_err err;             /* MQ_OK: reply is set */
    char why[CONN_WHY_MAX]; /* when err != MQ_OK */
    Mq__V1__Reply *reply;   /* the caller frees it */
};

/* Number of URLs of the user's list; conn_url(cn, i) for i below it (or
 * returned by conn_node_for) is the URL, living as long as @cn. */
size_t conn_user_count(const struct conn *cn);
const char *conn_url(const struct conn *cn, size_t i);

/* Sends @req to every node of the user's list at once (no redirects, no
 * retries, CONN_ASK_CONNECT_WAIT_MS for a connection) and waits up to
 * @timeout_ms for the answers: fills @ans, which
 * has conn_user_count entries. A reply whose status is not OK is an answer
 * too: err is its status and why its detail. */
void conn_ask_each(struct conn *cn, const Mq__V1__Request *req,
                   uint32_t timeout_ms, struct conn_answer *ans);

/* The index of the node at @url: one known already, else opened now (as
 * a redirect does), or -1 when @url is empty or bad or CONN_NODES_MAX
 * nodes are open. conn_url(cn, i) gives the URL of any index returned. */
long conn_node_for(struct conn *cn, const char *url);

/* As conn_ask_each, for the @n (at most CONN_NODES_MAX) nodes at indexes
 * @idx (conn_node_for's, or below conn_user_count); @ans has @n entries. */
void conn_ask_nodes(struct conn *cn, const Mq__V1__Request *req,
                    const size_t *idx, size_t n, uint32_t timeout_ms,
                    struct conn_answer *ans);

/* The highest raft index a write of this client was stored at (replies'
 * index), 0 before its first write: what its follower reads wait for, so
 * that it reads its own writes from any node. */
uint64_t conn_written_index(struct conn *cn);

/* Notes that a write was stored at raft index @index. */
void conn_note_written(struct conn *cn, uint64_t index);

/* Waits @ms. Returns MQ_OK, or MQ_ERR_CANCELED as soon as @cn is shut
 * down. */
mq_err conn_sleep(struct conn *cn, uint32_t ms);

#endif
