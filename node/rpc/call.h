/* call.h: one client request while the node works on it, shared by the
 * request handlers of rpc/ (rpc.c dispatches to rpc_publish.c, rpc_admin.c,
 * rpc_fetch.c, rpc_read.c, rpc_members.c). Internal to rpc/. Loop thread
 * only. */
#ifndef MQ_CALL_H
#define MQ_CALL_H

#include "pbconv.h"
#include "raft.pb-c.h"
#include "rpc.h"

struct pub_early {
    mq_err err;
    char *detail; /* in the call's arena; NULL if none */
};

struct call {
    struct rpc *rpc;
    struct rpc_req *req;
    Mq__V1__RequestRaw *in;
    Mq__V1__Op op;
    union {
        Mq__V1__PublishOp pub;
        Mq__V1__DeliverOp del;
        Mq__V1__AckOp ack;
        Mq__V1__SubRef ref;
        Mq__V1__QueueConfig qc;
        Mq__V1__SubConfig sc;
        Mq__V1__CancelOp cancel;
        Mq__V1__RedriveOp redrive;
        struct {
            Mq__V1__QueueUpdateOp op;
            Mq__V1__QueueConfig qc;
        } qu;
    } body;
    struct queue_config qcfg;
    struct sub_config scfg;
    char *filters[SUB_MAX_FILTERS];
    char *name;                    /* what the op does, for messages */
    char qname[MQ_QNAME_MAX + 1];  /* full name of the queue named */
    char qname2[MQ_QNAME_MAX + 1]; /* redrive: the destination */

    /* publish */
    size_t n_msgs;
    ProtobufCBinaryData *valid; /* messages proposed, in order */
    size_t n_valid;
    size_t *valid_at;        /* valid[k] is message valid_at[k] */
    struct pub_early *early; /* per message */
    char **ids;              /* per message, in the arena */
    char *arena;
    size_t arena_len, arena_cap;
    void **owned; /* message copies with a generated id */
    size_t n_owned;

    /* a write: the raft index of its entry, sent in the reply (Reply.index)
     * so that the client can read its writes from any node */
    uint64_t index;

    /* read and message status: the applied index waited for */
    uint64_t min_index;

    /* When the loop took the request, and (a fetch) when it was woken:
     * messages for it applied, or found on arrival (stages.h). */
    uint64_t loop_ns;
    uint64_t woken_ns;

    /* fetch, and reads waiting for min_index */
    uint64_t deadline_ms;
    uint32_t max;
    int proposing;
    struct call *next, *prev; /* reads' waiting list */
    int waiting;              /* in the reads' list, or in rpc->waiting */
    struct waiter waiter;     /* a fetch in rpc->waiting */

    /* The request's key (rpc_auth.c), "" when authentication is off, and
     * the verb it was checked for (a GRANT_* bit; 0: none). */
    char key[MQ_NAME_MAX + 1];
    uint8_t verb;
};

/* Replies, then frees @call. */
void call_reply_error(struct call *call, mq_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void call_reply(struct call *call, const Mq__V1__Reply *reply);
/* Answers @call, whose connection closed, with an empty message (nng drops
 * it: nothing can reach the client), then frees @call. */
void call_reply_gone(struct call *call);
/* NOT_LEADER with the leader's URL, then frees @call. */
void call_reply_not_leader(struct call *call);
void call_free(struct call *call);

/* Writes the full name of queue @in ("default/..." without a namespace) to
 * @buf and returns it; replies INVALID (and frees @call) and returns NULL
 * if the name is bad. */
const char *call_qname(struct call *call, const char *in,
                       char buf[MQ_QNAME_MAX + 1]);

/* What a subscription has to deliver, as sub info and fetch replies say:
 * stored messages not yet delivered, delivered ones not acked yet, and
 * those waiting for their delay or nack delay. */
struct call_sub_counts {
    uint64_t pending, in_flight, scheduled;
};
void call_sub_counts(const struct queue *q, const struct sub *s,
                     struct call_sub_counts *out);

/* The wall clock in ms, for the waits of fetches and reads. */
uint64_t call_now_ms(void);

#endif
