/* mq.h: the one public header of libmq, the C client of the mq replicated
 * message queue.
 *
 * A client connects to a list of node URLs, finds the leader by itself and
 * follows redirects; retryable failures are retried (with the same message
 * id) until the call's deadline. Every call returns an mq_err; on failure,
 * mq_errmsg() gives this thread's one-line description of what failed.
 *
 * Ownership: arguments are borrowed for the duration of the call; whatever a
 * call hands back through an out-parameter belongs to the caller and is
 * released with the matching _free function (_free(NULL) does nothing).
 *
 * Threads: an mq_client may be used from any number of threads at once. An
 * mq_msg belongs to one thread at a time. Callbacks run on libmq's own
 * threads, as each function says. */
#ifndef MQ_H
#define MQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MQ_BUILDING) && defined(__GNUC__)
#define MQ_API __attribute__((visibility("default")))
#else
#define MQ_API
#endif

#define MQ_VERSION_MAJOR 0
#define MQ_VERSION_MINOR 1
#define MQ_VERSION_PATCH 0
#define MQ_VERSION_STRING "0.1.0"

/* Returns MQ_VERSION_STRING of the library actually linked. */
MQ_API const char *mq_version(void);

/* ------------------------------------------------------------------------
 * Errors: one list shared by mqd, libmq and mqctl, and by the wire protocol
 * (mq.proto's enum Status repeats the numbers).
 *
 * name, number, retryable, message. Numbers never change; add at the end. */
#define MQ_ERRORS(X)                                                           \
    X(INVALID, 1, 0, "invalid argument")                                       \
    X(NOT_FOUND, 2, 0, "no such queue, subscription or message")               \
    X(FULL, 3, 0, "queue limit or memory budget reached")                      \
    X(NOT_LEADER, 4, 1, "this node is not the leader")                         \
    X(PROTOCOL, 5, 0, "malformed request")                                     \
    X(CANCELED, 6, 0, "canceled: the handle was closed")                       \
    X(NO_MEMORY, 7, 0, "out of memory")                                        \
    X(TIMEOUT, 8, 1, "timed out")                                              \
    X(UNAVAILABLE, 9, 1, "outcome unknown: it may have been carried out")      \
    X(EXISTS, 10, 0, "already exists with other settings")                     \
    X(TOO_LARGE, 11, 0, "message or request too large")                        \
    X(INTERNAL, 12, 0, "internal error")                                       \
    X(NOT_DONE, 13, 1, "not done: no node carried out the request")            \
    X(TOO_MANY, 14, 0, "too many requests waiting: a cap was reached")         \
    X(UNAUTHENTICATED, 15, 0, "no valid key: authentication required")         \
    X(PERMISSION_DENIED, 16, 0, "the key has no grant for this")

typedef enum mq_err {
    MQ_OK = 0,
#define X(name, num, retry, msg) MQ_ERR_##name = num,
    MQ_ERRORS(X)
#undef X
} mq_err;

/* Whether a failed call was carried out. Every write says which of three
 * it was:
 * - certainly not done: MQ_ERR_NOT_DONE (no node carried it out: no leader
 *   was reachable, mq_errmsg then saying "no quorum: N of M nodes
 *   reachable" when at most half of the nodes could be reached, or every
 *   node refused it before doing anything), and the codes of a request the
 *   node refused (MQ_ERR_INVALID, MQ_ERR_NOT_FOUND, MQ_ERR_FULL,
 *   MQ_ERR_TOO_LARGE, MQ_ERR_EXISTS, MQ_ERR_NOT_LEADER, MQ_ERR_NO_MEMORY,
 *   MQ_ERR_PROTOCOL when the node says it). Give up, or try again.
 * - outcome unknown: MQ_ERR_UNAVAILABLE and MQ_ERR_TIMEOUT (a node got the
 *   request and may have carried it out: leadership changed before it
 *   committed, the connection dropped, or no reply came in time), and
 *   MQ_ERR_CANCELED once the request was sent. Try again: a publish with
 *   the same ids is stored once, and acks, nacks, cancels and the admin
 *   calls are safe to repeat.
 * - MQ_ERR_INTERNAL: a bug; unknown.
 * Reads (info, lists, status, catch-up reads, message status) change
 * nothing, whatever they return. Each call below says what its codes mean
 * for it. */

/* Static text for @code (never NULL, also for unknown codes). */
MQ_API const char *mq_strerror(mq_err code);

/* 1 if a call failing with @code may succeed when tried again. */
MQ_API int mq_err_retryable(mq_err code);

/* This thread's last failure: a one-line message naming what failed, for
 * example "publish to orders: payload is empty". Valid until this thread's
 * next libmq call. Set by every call that fails, including mq_client_open. */
MQ_API const char *mq_errmsg(void);

/* ------------------------------------------------------------------------
 * Limits shared with the node. */
#define MQ_NAME_MAX 64 /* queue, namespace and subscription names */
/* A queue's full name, "namespace/queue" (a name without a namespace is in
 * namespace "default", or the client's, see mq_client_opts.ns). */
#define MQ_QNAME_MAX (2 * MQ_NAME_MAX + 1)
#define MQ_ID_MAX 128      /* message ids */
#define MQ_EVENT_MAX 128   /* event names */
#define MQ_URL_MAX 256     /* node URLs */
#define MQ_MAX_BATCH 10000 /* messages per publish batch or fetch */

/* ------------------------------------------------------------------------
 * Client handle. Thread-safe: any thread may use it at any time, except that
 * mq_client_close must be the last call. */
typedef struct mq_client mq_client;

typedef struct mq_client_opts {
    /* Comma-separated node URLs, e.g. "tcp://127.0.0.1:7001,...". Required. */
    const char *urls;
    /* Deadline of a call whose timeout_ms argument is 0. Default 10000. */
    uint32_t timeout_ms;
    /* Longest wait for one node's reply before trying another. Default 2000.
     * Fetch adds its max_wait_ms to this. */
    uint32_t attempt_timeout_ms;
    /* Asynchronous publish: a batch holds at most this many messages
     * (default 5000) and bytes (default 4 MiB). With linger_ms 0 (the
     * default) it is sent as soon as its queue has no batch in flight:
     * what is published meanwhile goes together in the next, so batches
     * grow with the load and nothing waits on a timer. With linger_ms above
     * 0, a batch that is not full also waits until its oldest message has
     * waited that long (fuller batches at a low rate, for more latency). */
    uint32_t batch_max_messages;
    uint32_t batch_max_bytes;
    uint32_t linger_ms;
    /* Asynchronous publish: batches sent and not yet answered (default 8),
     * at most one per queue: the messages of a queue are stored in the
     * order they were published. */
    uint32_t max_inflight_batches;
    /* Asynchronous publish: messages accepted and not yet answered; past it,
     * mq_publish_async waits up to timeout_ms. Default 100000. */
    uint32_t max_pending_messages;
    /* Namespace of the queue names this client gives without one ("orders"
     * means "<ns>/orders"). NULL or "": the node's, "default". */
    const char *ns;
    /* Where catch-up reads and message status lookups go: 0 (default) to a
     * follower when one answers, so a large backlog does not load the
     * leader, and it answers once it has applied this client's last write
     * (read-your-writes); 1 to the leader only (another node refuses
     * them). */
    int reads_from_leader;
    /* The key every request presents (docs/security.md): a key's token,
     * "mqk_<name>_<secret>", or the cluster's bootstrap secret. Copied at
     * open. NULL or "": none, which is enough while the cluster has
     * authentication off; with it on, requests then fail with
     * MQ_ERR_UNAUTHENTICATED. */
    const char *token;
    /* Instead of token: a file holding it (its first line; surrounding
     * blanks dropped), read at open. Giving both is MQ_ERR_INVALID. */
    const char *token_file;
    /* TLS, for tls+tcp:// node URLs: the CA (PEM file) that signs the
     * nodes' certificates, required with such URLs (a node's certificate
     * must be signed by it, be valid now and name the host of its URL; TLS
     * 1.2 or newer); and a client certificate and its key (PEM files, both
     * or neither) for nodes that require one. The files are read at open.
     * A handshake that fails is named in mq_errmsg ("TLS handshake with
     * tls+tcp://h:7001 failed: certificate verify failed: expired"). */
    const char *tls_ca_file;
    const char *tls_cert_file;
    const char *tls_key_file;
} mq_client_opts;

#define MQ_CLIENT_OPTS_INIT                                                    \
    {                                                                          \
        0                                                                      \
    }

/* Opens a client for @opts->urls (copied). Connects lazily: succeeds even if
 * no node is up yet. Returns MQ_OK and sets *out, or MQ_ERR_INVALID (bad
 * URL list; a token that is not one line of printable ASCII, or a token
 * file that cannot be read) or MQ_ERR_NO_MEMORY. */
MQ_API mq_err mq_client_open(mq_client **out, const mq_client_opts *opts);

/* Flushes nothing: asynchronous publishes still pending complete with
 * MQ_ERR_CANCELED (call mq_flush first to wait for them). Stops
 * subscribers still running. Frees @c. NULL does nothing. */
MQ_API void mq_client_close(mq_client *c);

/* ------------------------------------------------------------------------
 * Publishing. */
typedef struct mq_header {
    const char *key;
    const char *value;
} mq_header;

typedef struct mq_pub {
    /* Idempotency key, 1..MQ_ID_MAX printable ASCII characters. NULL: libmq
     * generates a unique id, so that retries are still stored once. */
    const char *id;
    /* Event name, e.g. "order.created": dot-separated tokens of letters,
     * digits, '_' and '-'. NULL or "": "message". */
    const char *event;
    const mq_header *headers;
    size_t n_headers;
    const void *payload; /* never empty */
    size_t payload_len;
    /* Delivered no earlier than this long after it is stored; 0: the
     * queue's default delay. At most the queue's max_delay_ms. */
    uint64_t delay_ms;
} mq_pub;

typedef struct mq_pub_result {
    mq_err err;             /* MQ_OK, or why this message was not stored */
    uint64_t seq;           /* its sequence number in the queue */
    int duplicate;          /* 1: the id was already stored; seq is its seq */
    char id[MQ_ID_MAX + 1]; /* the id (given or generated) */
    /* Durability it got: 1 when stored in an entry committed on a majority
     * of nodes, each having fsynced it; index is that raft entry's, for
     * read-your-writes (mq_read_opts.min_index). */
    int durable;
    uint64_t index;
} mq_pub_result;

/* Publishes one message to @queue and waits until a majority of nodes has it
 * on disk. @res (may be NULL) receives seq and id. Returns MQ_OK (also for
 * a repeat of an id stored within the queue's duplicate window: res->seq is
 * the original's, res->duplicate 1, whatever the queue's room or the
 * node's memory budget), or, certainly not stored: the error of the
 * message (MQ_ERR_INVALID, MQ_ERR_NOT_FOUND, MQ_ERR_TOO_LARGE,
 * MQ_ERR_FULL), MQ_ERR_NOT_DONE (no leader took it before the deadline);
 * or, may have been stored: MQ_ERR_TIMEOUT / MQ_ERR_UNAVAILABLE (publish
 * again with the same id, res->id when libmq made it). */
MQ_API mq_err mq_publish(mq_client *c, const char *queue, const mq_pub *m,
                         mq_pub_result *res, uint32_t timeout_ms);

/* Publishes @n messages (1..MQ_MAX_BATCH) in one request. @results (n
 * entries, may be NULL) says per message what happened. Returns MQ_OK when
 * the request was answered (each message may still have been refused: see
 * results[i].err; one that libmq's own checks refuse is not sent; mq_errmsg
 * then names the first refused, "message N", with why: for MQ_ERR_FULL,
 * what is full and by how much), or the error of the whole request (also
 * when every message was refused), whose codes mean what they mean for
 * mq_publish. */
MQ_API mq_err mq_publish_batch(mq_client *c, const char *queue,
                               const mq_pub *msgs, size_t n,
                               mq_pub_result *results, uint32_t timeout_ms);

/* Flags of mq_publish_batch_flags. */
#define MQ_PUBLISH_ATOMIC 1u /* all messages are stored, or none */

/* mq_publish_batch with @flags. With MQ_PUBLISH_ATOMIC, if any message is
 * refused (validation, or the queue would be full) none is stored and every
 * result says why the batch failed; duplicates count as stored. */
MQ_API mq_err mq_publish_batch_flags(mq_client *c, const char *queue,
                                     const mq_pub *msgs, size_t n,
                                     unsigned flags, mq_pub_result *results,
                                     uint32_t timeout_ms);

/* Cancels the delayed message @id (of @queue, or NULL: of whichever queue
 * holds it) before it is due: it is removed and will never be delivered.
 * *seq_out (may be NULL) receives its seq. MQ_ERR_NOT_FOUND if no stored
 * message has this id; MQ_ERR_INVALID if it is already due. Not cancelled:
 * those and MQ_ERR_NOT_DONE; maybe cancelled: MQ_ERR_TIMEOUT /
 * MQ_ERR_UNAVAILABLE (cancel again: MQ_ERR_NOT_FOUND then means it was). */
MQ_API mq_err mq_cancel(mq_client *c, const char *id, const char *queue,
                        uint64_t *seq_out, uint32_t timeout_ms);

/* Called once per asynchronous publish, on a libmq thread, with the result
 * (borrowed for the call); res->err means what mq_publish's codes mean
 * (MQ_ERR_CANCELED, the client closing, leaves it unknown for a batch in
 * flight), and when it is not MQ_OK, mq_errmsg() called from the callback
 * says why (for MQ_ERR_FULL, what is full and by how much). Must not call
 * mq_flush or mq_client_close. */
typedef void (*mq_publish_cb)(void *arg, const mq_pub_result *res);

/* Queues @m (copied) for publishing in a batch with others; the messages of
 * one queue are stored in the order this function was called (also when a
 * batch is retried across a leader change). Returns MQ_OK
 * and later calls @cb (may be NULL) exactly once with the outcome; or fails
 * without calling it: MQ_ERR_INVALID (bad message), MQ_ERR_TIMEOUT (more than
 * max_pending_messages waited longer than the client's timeout_ms),
 * MQ_ERR_CANCELED (client closing), MQ_ERR_NO_MEMORY. */
MQ_API mq_err mq_publish_async(mq_client *c, const char *queue, const mq_pub *m,
                               mq_publish_cb cb, void *arg);

/* Waits until every asynchronous publish queued before the call has
 * completed (its callback returned). MQ_ERR_TIMEOUT if not by @timeout_ms. */
MQ_API mq_err mq_flush(mq_client *c, uint32_t timeout_ms);

/* ------------------------------------------------------------------------
 * Queues. */
typedef enum mq_retention {
    MQ_RETENTION_LIMITS = 0, /* keep until a limit drops the oldest */
    MQ_RETENTION_WORK = 1,   /* drop once every subscription acked it */
} mq_retention;

typedef enum mq_discard {
    MQ_DISCARD_OLD = 0,    /* at a limit, drop the oldest message */
    MQ_DISCARD_REJECT = 1, /* at a limit, refuse the publish: MQ_ERR_FULL */
} mq_discard;

/* Zero means the default in every numeric field. */
typedef struct mq_queue_config {
    const char *name;
    mq_retention retention;
    mq_discard discard;
    uint64_t max_messages;        /* 0: unlimited */
    uint64_t max_bytes;           /* 0: unlimited */
    uint64_t max_age_ms;          /* 0: unlimited */
    uint32_t max_message_bytes;   /* payload+id+event+headers; default 1 MiB */
    uint64_t duplicate_window_ms; /* default 120000 */
    uint64_t ack_timeout_ms;      /* default for subscriptions: 30000 */
    uint32_t max_deliveries;      /* default for subscriptions: 0, no cap */
    uint64_t delay_ms;            /* default delay of a publish: 0 */
    uint64_t max_delay_ms;        /* longest delay: default 30 days */
    /* Where dead letters go; NULL or "": "<name>.dlq", created when the
     * first message is dead-lettered. */
    const char *dead_letter_queue;
    uint64_t status_ttl_ms; /* status kept after a message is gone: 7 days */
    uint64_t status_max;    /* gone messages whose status is kept: 1000000 */
} mq_queue_config;

#define MQ_QUEUE_CONFIG_INIT                                                   \
    {                                                                          \
        0                                                                      \
    }

typedef struct mq_queue_info {
    char name[MQ_QNAME_MAX + 1];
    mq_retention retention;
    mq_discard discard;
    uint64_t max_messages;
    uint64_t max_bytes;
    uint64_t max_age_ms;
    uint32_t max_message_bytes;
    uint64_t duplicate_window_ms;
    uint64_t ack_timeout_ms;
    uint32_t max_deliveries;
    uint64_t messages;  /* stored now */
    uint64_t bytes;     /* stored now */
    uint64_t first_seq; /* oldest stored, 0 if empty */
    uint64_t last_seq;  /* last assigned, 0 if none yet */
    uint32_t subscriptions;
    uint64_t created_at_ms;
    uint64_t delay_ms;
    uint64_t max_delay_ms;
    char dead_letter_queue[MQ_QNAME_MAX + 1];
    uint64_t status_ttl_ms;
    uint64_t status_max;
    uint64_t scheduled;      /* stored messages not yet due */
    uint64_t remembered_ids; /* ids remembered for duplicates and status */
    /* Of remembered_ids, those for duplicates (the rest: statuses of gone
     * messages); the records of recent acks its subscriptions keep; and
     * the memory of all three at their nominal size, counted against the
     * node's bound of ids and statuses (mq_node_status.ids_budget_bytes),
     * not against the memory budget. */
    uint64_t duplicate_ids;
    uint64_t ack_records;
    uint64_t ids_bytes;
    /* How long ago the oldest stored message was published (by the clock
     * of the node that answered; 0 when none is stored). */
    uint64_t oldest_age_ms;
} mq_queue_info;

/* Queue and subscription changes (create, delete, purge, redrive) fail
 * with MQ_ERR_NOT_DONE when certainly not made, MQ_ERR_UNAVAILABLE or
 * MQ_ERR_TIMEOUT when they may have been: a create repeated succeeds, a
 * delete repeated says MQ_ERR_NOT_FOUND once made, a purge repeated purges
 * what came since, a redrive repeated moves the next batch. */

/* Creates a queue. Creating it again with the same settings succeeds (the
 * call is idempotent); with other settings it fails with MQ_ERR_EXISTS,
 * mq_errmsg naming each setting that differs.
 * @info (may be NULL) receives the queue. */
MQ_API mq_err mq_queue_create(mq_client *c, const mq_queue_config *cfg,
                              mq_queue_info *info, uint32_t timeout_ms);

/* The settings mq_queue_update may change, a bit each (name and retention
 * cannot change). */
#define MQ_QUEUE_SET_DISCARD (1u << 3)
#define MQ_QUEUE_SET_MAX_MESSAGES (1u << 4)
#define MQ_QUEUE_SET_MAX_BYTES (1u << 5)
#define MQ_QUEUE_SET_MAX_AGE (1u << 6)
#define MQ_QUEUE_SET_MAX_MESSAGE_BYTES (1u << 7)
#define MQ_QUEUE_SET_DUPLICATE_WINDOW (1u << 8)
#define MQ_QUEUE_SET_ACK_TIMEOUT (1u << 9)
#define MQ_QUEUE_SET_MAX_DELIVERIES (1u << 10)
#define MQ_QUEUE_SET_DELAY (1u << 11)
#define MQ_QUEUE_SET_MAX_DELAY (1u << 12)
#define MQ_QUEUE_SET_DEAD_LETTER_QUEUE (1u << 13)
#define MQ_QUEUE_SET_STATUS_TTL (1u << 14)
#define MQ_QUEUE_SET_STATUS_MAX (1u << 15)
#define MQ_QUEUE_SET_ALL 0xfff8u

/* Changes the settings of queue @cfg->name that @set names (MQ_QUEUE_SET_*
 * bits) to their values in @cfg; the others stay. A value of 0 means the
 * default, as at create. The change is one replicated command: every node
 * makes it at the same point of the log. Lowered limits hold at once:
 * under discard "old" the oldest messages go (their status says expired);
 * subscriptions keep the ack timeout and max deliveries they were created
 * with. MQ_ERR_NOT_FOUND: no such queue; MQ_ERR_INVALID: @set is 0 or
 * names name or retention, or a value is bad (nothing changes). @info (may
 * be NULL) receives the queue. Repeating it is harmless. */
MQ_API mq_err mq_queue_update(mq_client *c, const mq_queue_config *cfg,
                              uint32_t set, mq_queue_info *info,
                              uint32_t timeout_ms);
MQ_API mq_err mq_queue_info_get(mq_client *c, const char *name,
                                mq_queue_info *info, uint32_t timeout_ms);
/* Sets *out to an array of *n queues, freed with mq_queue_list_free. */
MQ_API mq_err mq_queue_list(mq_client *c, mq_queue_info **out, size_t *n,
                            uint32_t timeout_ms);
MQ_API void mq_queue_list_free(mq_queue_info *list);
/* Deletes a queue with its messages and subscriptions. MQ_ERR_NOT_FOUND if
 * there is none. */
MQ_API mq_err mq_queue_delete(mq_client *c, const char *name,
                              uint32_t timeout_ms);
/* Removes every stored message of @name (their status says "purged");
 * subscriptions stay, with nothing left to deliver. */
MQ_API mq_err mq_queue_purge(mq_client *c, const char *name,
                             uint32_t timeout_ms);
/* Moves up to @max (1..MQ_MAX_BATCH) messages of dead-letter queue @dlq,
 * oldest first, into @to. *moved and *remaining (may be NULL) say how many
 * moved and how many are left in @dlq. A @dlq that is not a dead-letter
 * queue (no queue names it its dead_letter_queue, and its oldest message
 * is not a dead letter) is refused with MQ_ERR_INVALID: redriving a live
 * queue would take its messages from its subscribers (see
 * mq_queue_redrive_flags). */
MQ_API mq_err mq_queue_redrive(mq_client *c, const char *dlq, const char *to,
                               uint32_t max, uint32_t *moved,
                               uint64_t *remaining, uint32_t timeout_ms);

/* Flags of mq_queue_redrive_flags. */
#define MQ_REDRIVE_FORCE 1u /* move from a queue that is not a DLQ too */

/* mq_queue_redrive with @flags. */
MQ_API mq_err mq_queue_redrive_flags(mq_client *c, const char *dlq,
                                     const char *to, uint32_t max,
                                     unsigned flags, uint32_t *moved,
                                     uint64_t *remaining, uint32_t timeout_ms);

/* ------------------------------------------------------------------------
 * Subscriptions: every subscription of a queue gets every message; clients
 * fetching from one subscription share its messages. */
typedef enum mq_start {
    MQ_START_NEW = 0,   /* messages published after the subscription */
    MQ_START_FIRST = 1, /* the first message still stored */
    MQ_START_SEQ = 2,   /* start_seq */
    MQ_START_TIME =
        3, /* the first message published at or after start_time_ms */
} mq_start;

typedef struct mq_sub_config {
    const char *queue;
    const char *name;
    mq_start start;
    uint64_t start_seq;
    uint64_t ack_timeout_ms; /* 0: the queue's */
    uint32_t max_deliveries; /* 0: the queue's */
    /* Event filters (none: every message): exact names, "*" for one
     * dot-separated token, ">" for the rest: "order.*", "order.>". */
    const char *const *filters;
    size_t n_filters;
    uint64_t start_time_ms; /* with MQ_START_TIME */
} mq_sub_config;

#define MQ_SUB_CONFIG_INIT                                                     \
    {                                                                          \
        0                                                                      \
    }

typedef struct mq_sub_info {
    char queue[MQ_QNAME_MAX + 1];
    char name[MQ_NAME_MAX + 1];
    uint64_t ack_timeout_ms;
    uint32_t max_deliveries;
    uint64_t next_seq;  /* next message never delivered */
    uint64_t ack_floor; /* every message up to here is acked */
    uint64_t pending;   /* stored messages not yet delivered */
    uint64_t in_flight; /* delivered, not acked yet */
    uint64_t delivered; /* deliveries made, redeliveries included */
    uint64_t acked;     /* messages acked */
    uint64_t created_at_ms;
    uint64_t dead_lettered; /* moved to the dead-letter queue */
    uint64_t scheduled;     /* delayed or nacked, waiting for their time */
    char filters[512];      /* comma-separated, "" for none */
    /* Lag: messages not acked yet (pending + in_flight + scheduled), and
     * how long the oldest of them has been due (by the clock of the node
     * that answered; 0 when none is due). */
    uint64_t lag;
    uint64_t lag_ms;
} mq_sub_info;

/* Creates a subscription; idempotent like mq_queue_create. */
MQ_API mq_err mq_sub_create(mq_client *c, const mq_sub_config *cfg,
                            mq_sub_info *info, uint32_t timeout_ms);
MQ_API mq_err mq_sub_info_get(mq_client *c, const char *queue, const char *name,
                              mq_sub_info *info, uint32_t timeout_ms);
/* Subscriptions of @queue (NULL: of every queue); freed with
 * mq_sub_list_free. */
MQ_API mq_err mq_sub_list(mq_client *c, const char *queue, mq_sub_info **out,
                          size_t *n, uint32_t timeout_ms);
MQ_API void mq_sub_list_free(mq_sub_info *list);
MQ_API mq_err mq_sub_delete(mq_client *c, const char *queue, const char *name,
                            uint32_t timeout_ms);

/* ------------------------------------------------------------------------
 * Messages received. An mq_msg is owned by whoever received it and freed
 * with mq_msg_free. The accessors' strings live as long as the message. */
typedef struct mq_msg mq_msg;

MQ_API const char *mq_msg_queue(const mq_msg *m);
MQ_API const char *mq_msg_sub(const mq_msg *m);
MQ_API uint64_t mq_msg_seq(const mq_msg *m);
MQ_API const char *mq_msg_id(const mq_msg *m);
MQ_API const char *mq_msg_event(const mq_msg *m);
MQ_API const void *mq_msg_payload(const mq_msg *m, size_t *len);
MQ_API uint64_t mq_msg_published_at(const mq_msg *m); /* ms since epoch */
MQ_API uint32_t mq_msg_attempt(const mq_msg *m);      /* 1 on first delivery */
/* When it was due: published_at + its delay (published_at if none). */
MQ_API uint64_t mq_msg_deliver_at(const mq_msg *m); /* ms since epoch */
MQ_API size_t mq_msg_header_count(const mq_msg *m);
/* The i-th header, borrowed; NULL past the end. */
MQ_API const mq_header *mq_msg_header_at(const mq_msg *m, size_t i);
/* Value of header @key, NULL if absent. */
MQ_API const char *mq_msg_header(const mq_msg *m, const char *key);
MQ_API void mq_msg_free(mq_msg *m);

/* Fetches up to @max_messages (1..MQ_MAX_BATCH) from subscription @sub of
 * @queue, waiting up to @max_wait_ms for the first one; the call ends
 * within the client's timeout_ms plus @max_wait_ms (mq_fetch_with takes a
 * deadline of its own, and says what is left). Sets *msgs to an
 * array of *n messages (*n may be 0 when none arrived in time), freed with
 * mq_msgs_free (which frees the messages still in it; set an entry to NULL
 * to keep that message). Each message must be acked (or nacked) before the
 * subscription's ack timeout, or it is delivered again. A failure with
 * MQ_ERR_UNAVAILABLE or MQ_ERR_TIMEOUT may have delivered messages that
 * this call did not receive: they come again after the ack timeout; with
 * MQ_ERR_NOT_DONE nothing was delivered. MQ_ERR_TOO_MANY (at once,
 * nothing delivered): a fetch that would wait finds the node's cap on
 * waiting fetches reached, per subscription (max_waiting_per_sub) or per
 * node (max_waiting_fetches); mq_errmsg names it. */
MQ_API mq_err mq_fetch(mq_client *c, const char *queue, const char *sub,
                       size_t max_messages, uint32_t max_wait_ms,
                       mq_msg ***msgs, size_t *n);
MQ_API void mq_msgs_free(mq_msg **msgs, size_t n);

/* Zero means the default in every field. */
typedef struct mq_fetch_opts {
    uint32_t max_messages; /* 1..MQ_MAX_BATCH; default 100 */
    /* Longest wait for the first message (a long poll); default 0: answer
     * at once. The node holds the fetch no longer than the call's deadline
     * leaves for its reply (the attempt timeout, or half the deadline if
     * that is less). */
    uint32_t max_wait_ms;
} mq_fetch_opts;

#define MQ_FETCH_OPTS_INIT                                                     \
    {                                                                          \
        0                                                                      \
    }

/* What the leader said of the subscription when it answered a fetch. */
typedef struct mq_fetch_info {
    uint64_t pending;   /* stored messages not yet delivered */
    uint64_t in_flight; /* delivered, not acked yet (these included) */
    uint64_t scheduled; /* delayed or nacked, waiting for their time */
} mq_fetch_info;

/* mq_fetch with options (@o may be NULL: the defaults) and a deadline of
 * its own: the whole call, long poll and retries included, ends within
 * @timeout_ms (0: the client's timeout_ms plus max_wait_ms). @info (may be
 * NULL) receives the subscription's counts once the messages were
 * delivered, so that a fetch that brings nothing says whether anything is
 * left to come. Codes as mq_fetch's; MQ_ERR_INVALID for max_messages out
 * of range. */
MQ_API mq_err mq_fetch_with(mq_client *c, const char *queue, const char *sub,
                            const mq_fetch_opts *o, mq_msg ***msgs, size_t *n,
                            mq_fetch_info *info, uint32_t timeout_ms);

/* Acknowledges @m: it will not be delivered to its subscription again.
 * Acking twice succeeds. MQ_ERR_NOT_DONE: not acked (it is delivered
 * again after the ack timeout); MQ_ERR_UNAVAILABLE / MQ_ERR_TIMEOUT: the
 * outcome is unknown, the ack may have been applied: ack again. The other
 * settling calls below (mq_ack_seqs, mq_touch, mq_term, mq_nack) answer
 * alike. */
MQ_API mq_err mq_ack(mq_client *c, const mq_msg *m, uint32_t timeout_ms);
/* Acknowledges @n sequence numbers of one subscription in one request. */
MQ_API mq_err mq_ack_seqs(mq_client *c, const char *queue, const char *sub,
                          const uint64_t *seqs, size_t n, uint32_t timeout_ms);
/* Extends the ack deadline of @m by the subscription's ack timeout (from
 * now), up to 12 times the ack timeout after its delivery. */
MQ_API mq_err mq_touch(mq_client *c, const mq_msg *m, uint32_t timeout_ms);
/* Dead-letters @m now, with @reason (may be NULL) in its headers. */
MQ_API mq_err mq_term(mq_client *c, const mq_msg *m, const char *reason,
                      uint32_t timeout_ms);
/* Gives @m back: it is delivered again, after @delay_ms. */
MQ_API mq_err mq_nack(mq_client *c, const mq_msg *m, uint64_t delay_ms,
                      uint32_t timeout_ms);

/* ------------------------------------------------------------------------
 * Callback subscribe: a consumer thread of libmq's fetches from the
 * subscription and calls @cb for each message, in order. */
typedef enum mq_action {
    MQ_ACTION_ACK = 0,  /* ack the message */
    MQ_ACTION_NACK = 1, /* deliver it again (after nack_delay_ms) */
    MQ_ACTION_KEEP = 2, /* do nothing: the callback kept it (and acks it) */
} mq_action;

/* Runs on the subscriber's thread; @m is borrowed unless the callback returns
 * MQ_ACTION_KEEP, in which case it owns @m and must mq_msg_free it. */
typedef mq_action (*mq_msg_cb)(void *arg, mq_msg *m);

typedef struct mq_subscribe_opts {
    uint32_t batch;         /* messages per fetch, default 100 */
    uint32_t max_wait_ms;   /* long-poll wait, default 1000 */
    uint64_t nack_delay_ms; /* redelivery delay after MQ_ACTION_NACK */
} mq_subscribe_opts;

#define MQ_SUBSCRIBE_OPTS_INIT                                                 \
    {                                                                          \
        0                                                                      \
    }

typedef struct mq_subscriber mq_subscriber;

/* Starts a consumer thread on subscription @sub of @queue (which must
 * exist). Errors while running (leader changes, timeouts) are retried by the
 * thread. Returns MQ_OK and sets *out, or fails without starting. */
MQ_API mq_err mq_subscribe(mq_client *c, const char *queue, const char *sub,
                           const mq_subscribe_opts *opts, mq_msg_cb cb,
                           void *arg, mq_subscriber **out);
/* Stops the thread after the callback running, if any, returns; then frees
 * @s. Must not be called from the callback. NULL does nothing. */
MQ_API void mq_subscriber_stop(mq_subscriber *s);

/* ------------------------------------------------------------------------
 * Catch-up and replay reads: any node answers from the state it has
 * applied, followers included; the subscription positions do not move. */
typedef struct mq_read_opts {
    uint64_t from_seq;     /* first seq wanted; 0: see from_time_ms */
    uint64_t from_time_ms; /* 0 with from_seq 0: from the first stored */
    uint32_t max_messages; /* 1..MQ_MAX_BATCH; 0: 100 */
    /* Read-your-writes: the node waits (up to max_wait_ms, default 5000)
     * until it has applied at least this raft index (mq_pub_result.index).
     * A follower read waits for this client's own last write anyway. */
    uint64_t min_index;
    uint32_t max_wait_ms;
} mq_read_opts;

#define MQ_READ_OPTS_INIT                                                      \
    {                                                                          \
        0                                                                      \
    }

/* What the node that answered a read says of itself and of the queue. */
typedef struct mq_read_info {
    uint64_t node_id;       /* the node that answered */
    uint64_t applied_index; /* how far it had applied */
    uint64_t first_seq;     /* the queue's oldest stored there, 0 if empty */
    uint64_t last_seq;      /* the queue's last assigned there, 0 if none */
} mq_read_info;

/* Reads stored messages of @queue in seq order (mq_msg_attempt is 0 on
 * them, mq_msg_sub is ""; they cannot be acked). @o may be NULL (from the
 * first stored, 100 at most). Sets *msgs and *n like mq_fetch (*n is 0 past
 * the end); @info (may be NULL) receives what the answering node says. */
MQ_API mq_err mq_read(mq_client *c, const char *queue, const mq_read_opts *o,
                      mq_msg ***msgs, size_t *n, mq_read_info *info,
                      uint32_t timeout_ms);

/* ------------------------------------------------------------------------
 * Message status by id: what became of a message. */
typedef enum mq_msg_state {
    MQ_MSG_STORED = 0,
    MQ_MSG_ACKED = 1,   /* gone: every subscription acked it */
    MQ_MSG_EXPIRED = 2, /* gone: max age or a limit dropped it */
    MQ_MSG_PURGED = 3,
    MQ_MSG_CANCELLED = 4,
    MQ_MSG_DEAD_LETTERED = 5, /* gone from this queue into its DLQ */
    MQ_MSG_DELETED = 6,       /* its queue was deleted */
    MQ_MSG_REDRIVEN = 7,      /* a dead letter moved back by redrive */
} mq_msg_state;

typedef enum mq_sub_state {
    MQ_SUB_PENDING = 0,   /* not delivered yet */
    MQ_SUB_SCHEDULED = 1, /* waiting for its delay or nack delay */
    MQ_SUB_DELIVERED = 2, /* in flight */
    MQ_SUB_ACKED = 3,
    MQ_SUB_DEAD_LETTERED = 4,
    MQ_SUB_FILTERED = 5, /* not for this subscription's filters */
} mq_sub_state;

typedef struct mq_sub_status {
    char name[MQ_NAME_MAX + 1];
    mq_sub_state state;
    uint32_t attempts; /* deliveries made, also once acked or dead-lettered */
    uint64_t last_delivery_ms;
    uint64_t acked_at_ms;         /* when ACKED; 0 when not known */
    uint64_t dead_lettered_at_ms; /* when DEAD_LETTERED */
} mq_sub_status;

typedef struct mq_msg_status {
    char queue[MQ_QNAME_MAX + 1];
    uint64_t seq;
    char id[MQ_ID_MAX + 1];
    char event[MQ_EVENT_MAX + 1];
    uint64_t published_at_ms;
    uint64_t deliver_at_ms;
    mq_msg_state state;
    uint64_t gone_at_ms; /* when state is not STORED */
    size_t n_subs;
    mq_sub_status *subs; /* while STORED: one per subscription */
} mq_msg_status;

/* Looks up message @id (in @queue, or NULL: in every queue). Sets *out to
 * *n statuses (one per queue holding the id), freed with
 * mq_msg_status_free. MQ_ERR_NOT_FOUND when no queue knows the id: never
 * stored, or gone longer ago than the queue's status_ttl_ms ("no longer
 * known"). The answering node says what it has applied: a follower may be
 * a moment behind the leader, never behind this client's own writes
 * (publishes, cancels, acks...: it answers once it has applied them). */
MQ_API mq_err mq_message_status(mq_client *c, const char *id, const char *queue,
                                mq_msg_status **out, size_t *n,
                                uint32_t timeout_ms);
MQ_API void mq_msg_status_free(mq_msg_status *list, size_t n);

/* ------------------------------------------------------------------------
 * Cluster status: what each node of the client's URL list says. */
typedef struct mq_node_status {
    char url[MQ_URL_MAX]; /* the URL asked */
    mq_err err;           /* MQ_OK if it answered */
    uint64_t id;   /* if it did not answer: from the members list, else 0 */
    char role[16]; /* "leader", "follower", "candidate", ... */
    uint64_t term;
    uint64_t commit_index;
    uint64_t applied_index;
    uint64_t last_index;
    uint64_t snapshot_index;
    uint64_t leader_id; /* 0 if unknown */
    char leader_url[MQ_URL_MAX];
    uint32_t voters;
    /* Why the node did not answer, naming its URL ("" when err is MQ_OK):
     * mq_errmsg() cannot say it for each node. */
    char error[256];
    /* Disk and memory of the node: raft log segments and snapshots in its
     * data dir, free space there, memory held by stored messages. */
    uint64_t log_bytes;
    uint64_t snapshot_bytes;
    uint64_t disk_free_bytes;
    uint64_t memory_bytes;
    /* The other node whose clock is farthest from this node's, as this node
     * measures it, and that clock minus this node's in ms; 0 when none was
     * heard lately. A leader's clock far ahead moves the cluster's time
     * forward (early expiry and delivery, duplicates past the window): a
     * node more than max_clock_skew_ms ahead of a majority does not lead. */
    uint64_t clock_skew_node;
    int64_t clock_skew_ms;
    /* Client requests on the node: connections open, fetches waiting (long
     * polls, capped by max_waiting_per_sub and max_waiting_fetches),
     * requests being handled (waiting fetches not counted; at most
     * rpc_contexts), replies that could not be sent. */
    uint64_t connections;
    uint64_t waiting_fetches;
    uint64_t requests_active;
    uint64_t replies_not_sent;
    /* 1: the node requires a key on every request (authentication is on);
     * key is then the name of the client's key. A node with it on that
     * got no valid key did not answer: err is MQ_ERR_UNAUTHENTICATED. */
    int auth;
    char key[MQ_NAME_MAX + 1];
    /* What limits memory_bytes: publishes past it get MQ_ERR_FULL. */
    uint64_t memory_budget_bytes;
    /* Remembered ids and statuses of gone messages, at their nominal size,
     * and their bound: past it the oldest are forgotten (never
     * MQ_ERR_FULL; a status lookup then says "no longer known"). The bound
     * is the leader's, as the last applied entry carried it (0: none yet);
     * ids_evicted counts those forgotten since the node started. */
    uint64_t ids_bytes;
    uint64_t ids_budget_bytes;
    uint64_t ids_evicted;
    /* When the certificates of the node's TLS files expire (ms since the
     * epoch, the earliest of each chain): the one it shows clients, the one
     * it shows the other nodes; 0: no such TLS (or the file does not parse
     * now). */
    uint64_t tls_cert_not_after_ms;
    uint64_t peer_tls_cert_not_after_ms;
} mq_node_status;

/* Asks every node of the client's list. Sets *out to an array of *n entries
 * (one per URL, err set for those that did not answer), freed with
 * mq_status_free. Returns MQ_OK if at least one node answered. */
MQ_API mq_err mq_cluster_status(mq_client *c, mq_node_status **out, size_t *n,
                                uint32_t timeout_ms);
/* As mq_cluster_status, then asks every member of the cluster that the
 * answers name (their raft configuration, with the client URL each member
 * announced) and that the list lacks, appending an entry for each: one
 * entry per URL of the list and per other member, so that a client given
 * one URL sees every node. The entry of a member that did not answer has
 * its id (and err, and error naming it). */
MQ_API mq_err mq_cluster_status_all(mq_client *c, mq_node_status **out,
                                    size_t *n, uint32_t timeout_ms);
MQ_API void mq_status_free(mq_node_status *list);

/* What one node said to a request sent to every node of the list. */
typedef struct mq_node_reply {
    char url[MQ_URL_MAX]; /* the URL asked */
    mq_err err;           /* MQ_OK if it did what was asked */
    char detail[256];     /* what it did, or why not (naming the node) */
} mq_node_reply;

/* Asks every node of the client's list to read its TLS certificates, keys
 * and CAs again (as SIGHUP does): new connections get them, open ones stay
 * up with theirs. A node whose files do not load keeps its old settings
 * and answers MQ_ERR_INVALID naming the file. Sets *out to *n entries (one
 * per URL), freed with mq_node_replies_free. Returns MQ_OK when every node
 * reloaded; else the first failure's code, with mq_errmsg naming the node
 * and why (each entry says its own). */
MQ_API mq_err mq_node_reload_tls(mq_client *c, mq_node_reply **out, size_t *n,
                                 uint32_t timeout_ms);
MQ_API void mq_node_replies_free(mq_node_reply *list);

/* ------------------------------------------------------------------------
 * Latency breakdown (docs/benchmarks.md, "Where the time goes"): each node
 * measures where the time of its publishes, log entries and deliveries
 * goes, stage by stage ("pub.commit": from the proposal of a publish's log
 * entry to its application), since the node started. For tools such as
 * mqbench: the difference of two readings is what happened in between. */
#define MQ_STAGE_BUCKETS 608

typedef struct mq_stage {
    char name[32];  /* "pub.total" */
    char what[128]; /* from which moment to which */
    uint64_t count;
    uint64_t sum_ns;
    uint64_t max_ns;
    /* buckets[i]: durations from mq_stage_bucket_ns(i) up to
     * mq_stage_bucket_ns(i + 1) - 1 (the last: everything longer). */
    uint64_t buckets[MQ_STAGE_BUCKETS];
} mq_stage;

typedef struct mq_node_stages {
    char url[MQ_URL_MAX]; /* the URL asked */
    mq_err err;           /* MQ_OK if it answered */
    char error[256];      /* why not, naming its URL */
    uint64_t id;
    char role[16];
    size_t n;
    mq_stage *stages; /* n stages, in the order they happen */
} mq_node_stages;

/* Asks every node of the client's list for its breakdown. Sets *out to *n
 * entries (one per URL), freed with mq_cluster_stages_free. Returns MQ_OK
 * if at least one node answered. */
MQ_API mq_err mq_cluster_stages(mq_client *c, mq_node_stages **out, size_t *n,
                                uint32_t timeout_ms);
MQ_API void mq_cluster_stages_free(mq_node_stages *list, size_t n);

/* The shortest duration, in ns, that bucket @i (0..MQ_STAGE_BUCKETS) holds:
 * exact below 16 ns, then 16 buckets per power of two. */
MQ_API uint64_t mq_stage_bucket_ns(size_t i);

/* The @pct-th percentile (0 < pct <= 100) of @s's buckets in ns (the middle
 * of its bucket, at most max_ns when that is not 0); 0 if count is 0. */
MQ_API uint64_t mq_stage_percentile(const mq_stage *s, double pct);

/* ------------------------------------------------------------------------
 * Membership and leadership. Every call goes to the leader, following
 * redirects; retryable failures (MQ_ERR_NOT_DONE while another change
 * runs, MQ_ERR_UNAVAILABLE while a transfer has not completed, among them)
 * are retried until the deadline, then the call fails with MQ_ERR_NOT_DONE
 * (no attempt changed anything), or MQ_ERR_TIMEOUT / MQ_ERR_UNAVAILABLE
 * (one may have: call again, each call resumes where the last stood).
 * MQ_ERR_INVALID, MQ_ERR_NOT_FOUND and MQ_ERR_EXISTS are final. */
typedef struct mq_member {
    uint64_t id;
    char peer_url[MQ_URL_MAX];
    char client_url[MQ_URL_MAX]; /* "" until the node was heard from */
    char role[16];               /* "voter", "standby" or "spare" */
    int leader;                  /* 1 for the leader (the node answering) */
} mq_member;

/* Adds node @id (1..UINT32_MAX) at @peer_url: it joins as a non-voter
 * replicating the log, and becomes a voter once it has caught up. This call
 * waits for that, up to @timeout_ms; 0: the client's timeout, but at least
 * 60 s. A catch-up that takes longer goes on on the leader: calling again
 * waits for it. Adding a node that is already a voter at that URL succeeds
 * (so a call that failed can be repeated); at another URL, or at the URL of
 * another node, it fails with MQ_ERR_EXISTS. MQ_ERR_INVALID for a bad id
 * or URL, and when the add ended on the leader: the node caught up no
 * further for the leader's member_catchup_timeout_ms (nothing runs at that
 * URL?) and was removed again, or a mq_node_remove of it cancelled the
 * add. While an add waits for its catch-up, other membership changes and
 * leadership transfers are refused (retried until their deadline). */
MQ_API mq_err mq_node_add(mq_client *c, uint64_t id, const char *peer_url,
                          uint32_t timeout_ms);
/* Removes node @id from the cluster; it stops serving. Removing a node
 * whose add waits for its catch-up cancels the add. MQ_ERR_NOT_FOUND if
 * it is not a member when the call starts (a retry that finds it gone, as
 * when the leader removed itself and the reply was lost, succeeds). */
MQ_API mq_err mq_node_remove(mq_client *c, uint64_t id, uint32_t timeout_ms);
/* Moves leadership to voter @id (0: to the most up-to-date other voter)
 * and waits until it leads; it succeeds at once if @id leads already. *leader
 * (may be NULL) receives the new leader's id (0 on failure). Before each
 * attempt the leader is asked who leads, so that a retry never moves
 * leadership on again: with @id 0, any leader other than the one of the
 * start counts as done. MQ_ERR_NOT_FOUND if @id is not a voter. */
MQ_API mq_err mq_leader_transfer(mq_client *c, uint64_t id, uint64_t *leader,
                                 uint32_t timeout_ms);
/* The members as the leader knows them: sets *out to an array of *n
 * entries, freed with mq_members_free. */
MQ_API mq_err mq_members(mq_client *c, mq_member **out, size_t *n,
                         uint32_t timeout_ms);
MQ_API void mq_members_free(mq_member *list);

/* Asks which node leads (the leader answers, following redirects): *id
 * (may be NULL) receives its id, @url (may be NULL, MQ_URL_MAX bytes) the
 * URL where it serves clients. MQ_ERR_NOT_DONE when no leader answered
 * before the deadline (mq_errmsg says "no quorum: N of M nodes reachable"
 * when that is why). */
MQ_API mq_err mq_leader(mq_client *c, uint64_t *id, char *url,
                        uint32_t timeout_ms);

/* ------------------------------------------------------------------------
 * Keys: who may do what, when the cluster has authentication on
 * (docs/security.md). A key has a name, grants, an optional expiry, and one
 * secret (two while it is rotated) that the leader draws (256 random bits)
 * and shows once, as a token: "mqk_<name>_<64 hex digits>". The cluster
 * keeps only hashes. Every call here needs a key with the admin verb, and
 * goes to the leader; a change takes effect on every node for the next
 * request, on connections already open. */

/* Verbs of a grant, as bits. */
#define MQ_VERB_PUBLISH 1u /* publish, cancel */
#define MQ_VERB_CONSUME 2u /* fetch, ack, nack, touch, term, read, info */
#define MQ_VERB_MANAGE 4u  /* queue and subscription changes, purge, redrive */
#define MQ_VERB_ADMIN 8u   /* keys, membership, leadership (on "*" only) */

#define MQ_KEY_GRANTS_MAX 32
#define MQ_KEY_SECRETS_MAX 2
/* A token's length at most: "mqk_", a name, "_", 64 hex digits. */
#define MQ_TOKEN_MAX (4 + MQ_NAME_MAX + 1 + 64)

/* Allows (or with deny, forbids) @verbs on the namespaces @ns matches: a
 * namespace ("prd"), a prefix and "*" ("team-*"), or "*" (every one). A
 * deny beats any allow; no grant means no. */
typedef struct mq_grant {
    int deny;
    const char *ns;
    unsigned verbs; /* MQ_VERB_* bits */
} mq_grant;

typedef struct mq_key_config {
    const char *name; /* a name as queue names are */
    const mq_grant *grants;
    size_t n_grants; /* 0..MQ_KEY_GRANTS_MAX */
    /* The key stops working this long after it is made (0: never). */
    uint64_t expires_in_ms;
} mq_key_config;

#define MQ_KEY_CONFIG_INIT                                                     \
    {                                                                          \
        0                                                                      \
    }

typedef struct mq_key_grant {
    int deny;
    char ns[MQ_NAME_MAX + 2];
    unsigned verbs;
} mq_key_grant;

typedef struct mq_key_info {
    char name[MQ_NAME_MAX + 1];
    mq_key_grant grants[MQ_KEY_GRANTS_MAX];
    size_t n_grants;
    uint64_t expires_at_ms; /* 0: never */
    uint64_t created_at_ms;
    /* Last request with it that the leader saw, to the minute (0: none
     * yet); see docs/security.md. */
    uint64_t last_used_ms;
    /* When each valid secret was made, oldest first: two while rotated. */
    uint64_t secret_created_at_ms[MQ_KEY_SECRETS_MAX];
    size_t n_secrets;
    int bootstrap; /* the key made from auth_bootstrap_key_file */
} mq_key_info;

/* Creates key @cfg and writes its token, shown this once, to @token
 * (@token_len bytes, at least MQ_TOKEN_MAX + 1). @info may be NULL.
 * MQ_ERR_EXISTS if a key of that name exists; MQ_ERR_INVALID for a bad
 * name or grant, or when the cluster has authentication off. A retry
 * after MQ_ERR_UNAVAILABLE or MQ_ERR_TIMEOUT is safe within the call
 * (libmq resends the same request id: the retry's token is the one that
 * works); once the call has failed so, the key may exist without a token
 * you know: rotate it. */
MQ_API mq_err mq_key_create(mq_client *c, const mq_key_config *cfg,
                            mq_key_info *info, char *token, size_t token_len,
                            uint32_t timeout_ms);

/* Flags of mq_key_update. */
#define MQ_KEY_SET_GRANTS 1u /* replace the grants with cfg's */
#define MQ_KEY_SET_EXPIRY 2u /* set the expiry to cfg's (0: never) */

/* Changes key @cfg->name as @flags say. MQ_ERR_NOT_FOUND if there is none;
 * MQ_ERR_INVALID for a bad grant, or for a change that would leave the
 * cluster without an admin key. */
MQ_API mq_err mq_key_update(mq_client *c, const mq_key_config *cfg,
                            unsigned flags, mq_key_info *info,
                            uint32_t timeout_ms);

/* Rotation, without downtime: mq_key_rotate adds a new secret (its token
 * written to @token) while the current one stays valid; once every user
 * of the key has the new token, mq_key_retire_old drops every secret but
 * the newest. A key with two secrets refuses another rotate
 * (MQ_ERR_INVALID) until the old one is retired. */
MQ_API mq_err mq_key_rotate(mq_client *c, const char *name, mq_key_info *info,
                            char *token, size_t token_len, uint32_t timeout_ms);
/* Keeps only the newest secret of @name; succeeds when it has one only. */
MQ_API mq_err mq_key_retire_old(mq_client *c, const char *name,
                                mq_key_info *info, uint32_t timeout_ms);

/* Removes key @name: every node refuses it from the next request on.
 * MQ_ERR_NOT_FOUND if there is none; MQ_ERR_INVALID for the last admin
 * key. */
MQ_API mq_err mq_key_revoke(mq_client *c, const char *name,
                            uint32_t timeout_ms);

MQ_API mq_err mq_key_info_get(mq_client *c, const char *name, mq_key_info *info,
                              uint32_t timeout_ms);
/* Every key (never a secret): sets *out to *n keys, freed with
 * mq_key_list_free. */
MQ_API mq_err mq_key_list(mq_client *c, mq_key_info **out, size_t *n,
                          uint32_t timeout_ms);
MQ_API void mq_key_list_free(mq_key_info *list);

/* ------------------------------------------------------------------------
 * Settling by seq, as mq_ack_seqs does: for tools (mqctl nack, term) that
 * hold seqs, not messages. Codes as mq_nack's and mq_term's; MQ_ERR_INVALID
 * names the first seq that was not delivered. */

/* Gives @n delivered seqs of @sub of @queue back: delivered again after
 * @delay_ms. */
MQ_API mq_err mq_nack_seqs(mq_client *c, const char *queue, const char *sub,
                           const uint64_t *seqs, size_t n, uint64_t delay_ms,
                           uint32_t timeout_ms);
/* Dead-letters @n delivered seqs of @sub of @queue now, with @reason (may
 * be NULL) in their headers. */
MQ_API mq_err mq_term_seqs(mq_client *c, const char *queue, const char *sub,
                           const uint64_t *seqs, size_t n, const char *reason,
                           uint32_t timeout_ms);

/* ------------------------------------------------------------------------
 * Sizes and durations as people type them: the parser mqd's configuration
 * uses too. */

/* Parses a size: a number (a fraction allowed) and a unit or none (bytes):
 * B; kB, MB, GB, TB, PB (powers of 1000); KiB, MiB, GiB, TiB, PiB (powers
 * of 1024); any case ("64KiB", "1MB", "1.5GiB", "4096"). K, M or G alone
 * are refused (1000 or 1024?). Returns MQ_OK and sets *bytes, or
 * MQ_ERR_INVALID with mq_errmsg saying why ("\"5x\": unknown unit ..."). */
MQ_API mq_err mq_size_parse(const char *s, uint64_t *bytes);

/* Parses a duration: number-unit pairs with units ms, s, m, h, d, a
 * fraction allowed ("500ms", "90m", "1.5h", "7d", "1h30m"); "0" alone needs
 * no unit, any other number does. The result must be whole milliseconds.
 * Returns MQ_OK and sets *ms, or MQ_ERR_INVALID with mq_errmsg saying
 * why. */
MQ_API mq_err mq_duration_parse(const char *s, uint64_t *ms);

#ifdef __cplusplus
}
#endif

#endif /* MQ_H */
