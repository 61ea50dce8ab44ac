/* sub.h: a subscription: a durable cursor over one queue with its
 * deliveries not yet acked. Every subscription sees every message; the
 * clients of one subscription share its messages.
 *
 * State: next_seq (the next message never delivered) and the pending
 * deliveries, each with a due time: the ack deadline of a delivery in
 * flight, or when a nacked message may go out again. A pending delivery
 * whose due time has passed is delivered again, before new messages. Every
 * seq below next_seq that is not pending has been acked. Pure C, loop thread
 * only; time comes from the command being applied. */
#ifndef MQ_SUB_H
#define MQ_SUB_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "fsm_ctx.h"
#include "hmap.h"
#include "mq.h"
#include "queue_config.h"
#include "ring.h"
#include "subhist.h"

#define SUB_FILTERS_BYTES 512
/* An ack deadline is extended (touch) at most to this many ack timeouts
 * after the delivery. */
#define SUB_TOUCH_LIMIT 12
/* sub_deliver looks at most this many new messages past the filters. */
#define SUB_SCAN_MAX 4096
/* Bytes counted per pending delivery: the record, its map slot and heap
 * entry, the allocator's header. */
#define SUB_PENDING_BYTES (sizeof(struct pending) + 32)

struct sub_config {
    char name[MQ_NAME_MAX + 1];
    int start; /* MQ_START_* */
    uint64_t start_seq;
    uint64_t start_time_ms;
    uint64_t ack_timeout_ms; /* resolved: never 0 */
    uint32_t max_deliveries; /* 0: no cap */
    /* n_filters NUL-terminated filters, back to back; none: every event */
    char filters[SUB_FILTERS_BYTES];
    uint32_t n_filters;
};

/* A pending message: in flight (attempts >= 1, due at its ack deadline),
 * nacked (due when it may go out again) or scheduled (attempts 0, not due
 * yet: delayed at publish). */
struct pending {
    uint64_t seq;
    uint64_t due_ms;
    uint64_t delivered_at_ms; /* of the last delivery; 0 before the first */
    uint32_t attempts;
    uint32_t heap_idx;
    int nacked;
    struct pending *prev, *next; /* in seq order */
};

/* A message the subscription gives up on: the FSM moves it to the queue's
 * dead-letter queue. */
struct dead_letter {
    uint64_t seq;
    uint32_t attempts;
    int term; /* 1: the client said so (term); 0: max deliveries */
};

/* The modes of sub_ack. */
enum { SUB_ACK = 0, SUB_NACK = 1, SUB_TOUCH = 2, SUB_TERM = 3 };

struct sub {
    uint64_t next_seq;
    struct hmap by_seq;    /* seq -> struct pending */
    struct pending **heap; /* min-heap on (due_ms, seq) */
    size_t heap_len, heap_cap;
    struct pending *first, *last;
    uint64_t delivered, acked, dropped, dead_lettered;
    /* Deliveries of a message delivered before, since this node loaded
     * the subscription: derived, for /metrics (not replicated, not in
     * snapshots; counted by the FSM's deliver op). */
    uint64_t redelivered;
    size_t n_scheduled; /* pending with attempts 0 (delayed, not yet due) */
    struct subhist hist;
    /* Dead letters decided by sub_deliver or sub_ack, for the FSM to move
     * (and then empty): not part of the state between Commands. */
    struct dead_letter *dl;
    size_t n_dl, cap_dl;
    /* Not replicated, not in snapshots: on the leader, messages asked for by
     * deliver ops proposed and not yet applied (rpc_fetch.c). */
    uint64_t reserved;
    /* Borrowed from the FSM (may be NULL); the shell's link once freed
     * (its settings stay readable while a snapshot is taken). */
    struct fsm_ctx *ctx;
    struct trash_link shell;
    /* Settings: never change once created (and last: a snapshot copies
     * the fields above on the loop). */
    uint64_t created_at_ms;
    struct sub_config cfg;
};

/* One message handed out by sub_deliver. */
struct delivery {
    struct msg *m;
    uint32_t attempt;
};

/* Allocates a subscription of the queue whose messages are @msgs, starting
 * as @cfg says, in the FSM of @ctx (may be NULL). */
struct sub *sub_new(const struct sub_config *cfg, const struct ring *msgs,
                    uint64_t now_ms, struct fsm_ctx *ctx);
/* Frees @s; while its FSM's trash holds, what is left is its settings and
 * counters (its shell), freed when the hold ends. */
void sub_free(struct sub *s);

/* Hands out up to @max messages at @now_ms: due redeliveries first, then new
 * messages from next_seq, each now in flight until now_ms + ack timeout.
 * Writes them to @out and returns how many. New messages that do not match
 * the filters are passed over; delayed ones not due yet become scheduled. A
 * pending message that the queue no longer has is forgotten; one delivered
 * max_deliveries times goes to s->dl. MQ_ERR_NO_MEMORY is fatal for the
 * caller (the FSM), so no rollback is attempted. */
mq_err sub_deliver(struct sub *s, const struct ring *msgs, uint64_t now_ms,
                   size_t max, struct delivery *out, size_t *n_out);

/* Number of messages sub_deliver would hand out now, up to @max. */
size_t sub_available(const struct sub *s, const struct ring *msgs,
                     uint64_t now_ms, size_t max);

/* Earliest due time of a pending delivery, or UINT64_MAX. */
uint64_t sub_next_due(const struct sub *s);

/* Checks that every one of @n seqs was delivered (is below next_seq and not
 * only scheduled). MQ_ERR_INVALID naming the first that was not. */
mq_err sub_check_seqs(const struct sub *s, const uint64_t *seqs, size_t n,
                      struct errmsg *e);

/* Applies @mode to each of @seqs, which sub_check_seqs accepted: SUB_ACK
 * acks; SUB_NACK gives back for redelivery at now + @delay_ms; SUB_TOUCH
 * extends the ack deadline by the ack timeout (at most SUB_TOUCH_LIMIT ack
 * timeouts after the delivery); SUB_TERM gives up on it (to s->dl). Counts
 * in *done those in flight, in *already those acked before.
 * MQ_ERR_NO_MEMORY is fatal for the caller. */
mq_err sub_ack(struct sub *s, const uint64_t *seqs, size_t n, int mode,
               uint64_t now_ms, uint64_t delay_ms, uint32_t *done,
               uint32_t *already);

/* Whether message @m is for this subscription (its filters). */
int sub_matches(const struct sub *s, const struct msg *m);

/* What the subscription has done with message @m (stored in its queue):
 * one of mq.proto's SubState values, with attempts (also once acked or
 * dead-lettered), last delivery, and ack or dead-letter time when known
 * (0 otherwise). */
int sub_msg_state(const struct sub *s, const struct msg *m, uint64_t now_ms,
                  uint32_t *attempts, uint64_t *last_delivery_ms,
                  uint64_t *acked_at_ms, uint64_t *dead_lettered_at_ms);

/* Message @seq left the queue: forget its pending delivery (counted as
 * dropped) and that it was dead-lettered. */
void sub_forget(struct sub *s, uint64_t seq);

/* Whether the subscription dead-lettered message @seq (still stored). */
int sub_dead_lettered(const struct sub *s, uint64_t seq);

/* Pending messages waiting for their time (delayed or nacked). */
size_t sub_scheduled(const struct sub *s);

/* Every seq at or below this is acked. */
uint64_t sub_ack_floor(const struct sub *s);
size_t sub_in_flight(const struct sub *s);

/* Restores one pending delivery (snapshot restore): seqs must come in
 * increasing order, each at least 1 and below next_seq, else
 * MQ_ERR_PROTOCOL; or MQ_ERR_NO_MEMORY. */
mq_err sub_restore_pending(struct sub *s, uint64_t seq, uint64_t due_ms,
                           uint32_t attempts);

/* Checks @cfg and fills what is 0 from the queue's settings @qc. */
mq_err sub_config_normalize(struct sub_config *cfg,
                            const struct queue_config *qc, struct errmsg *e);
#endif
