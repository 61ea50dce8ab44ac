/* rpc_call.h: one client request while the node works on it, shared by
 * rpc.c (dispatch, publish, admin, reads) and rpc_fetch.c (fetch, ack,
 * nack, waiting). Internal to those two files. */
#ifndef MQ_RPC_CALL_H
#define MQ_RPC_CALL_H

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

    /* fetch */
    uint64_t deadline_ms;
    uint32_t max;
    int proposing;
    struct call *next, *prev; /* waiting list */
    int waiting;
};

/* Replies, then frees @call. */
void call_reply_error(struct call *call, mq_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void call_reply(struct call *call, const Mq__V1__Reply *reply);
/* NOT_LEADER with the leader's URL, then frees @call. */
void call_reply_not_leader(struct call *call);
void call_free(struct call *call);

/* Writes the full name of queue @in ("default/..." without a namespace) to
 * @buf and returns it; replies INVALID (and frees @call) and returns NULL
 * if the name is bad. */
const char *call_qname(struct call *call, const char *in,
                       char buf[MQ_QNAME_MAX + 1]);

/* rpc_admin.c */
void rpc_queue_create(struct call *call);
void rpc_queue_info(struct call *call);
void rpc_queue_list(struct call *call);
void rpc_queue_delete(struct call *call);
void rpc_queue_purge(struct call *call);
void rpc_sub_create(struct call *call);
void rpc_sub_info(struct call *call);
void rpc_sub_list(struct call *call);
void rpc_sub_delete(struct call *call);
void rpc_redrive(struct call *call);
void rpc_cancel(struct call *call);
void rpc_status(struct call *call);
void rpc_reply_queue_info(struct call *call, const struct queue *q);

/* rpc_members.c */
void rpc_node_add(struct call *call);
void rpc_node_remove(struct call *call);
void rpc_leader_transfer(struct call *call);
void rpc_members(struct call *call);
void rpc_members_leader_lost(struct rpc *r);
void rpc_members_close(struct rpc *r);
/* The configuration as Member messages: *mem and *memp (both freed with
 * mq_free) hold *n entries that point into raft's configuration, valid
 * until it changes. MQ_OK or MQ_ERR_NO_MEMORY. */
mq_err rpc_members_fill(struct rpc *r, Mq__V1__Member **mem,
                        Mq__V1__Member ***memp, size_t *n);

/* rpc_read.c */
void rpc_read(struct call *call);
void rpc_message_status(struct call *call);
/* Answers reads waiting for @index to be applied, and those past their
 * wait. */
void rpc_reads_applied(struct rpc *r, uint64_t index);
void rpc_reads_tick(struct rpc *r, uint64_t now_ms);

/* rpc_fetch.c */
void rpc_fetch(struct call *call);
/* Ack, nack, touch or term (SUB_ACK ... SUB_TERM). */
void rpc_ack(struct call *call, int mode);
void rpc_wait_timer_cb(uv_timer_t *t);
void rpc_wake(struct rpc *r, const char *queue);
void rpc_fail_waiting(struct rpc *r, mq_err err);

uint64_t rpc_now_ms(void);

#endif
