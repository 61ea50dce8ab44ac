/* fsm_internal.h: helpers shared by the FSM's files (fsm.c: dispatch and
 * admin ops; fsm_pub.c: publishing, dead letters, redrive; fsm_ops.c:
 * deliveries, acks, cancel, purge; fsm_update.c: queue update). Not for use
 * outside the FSM. */
#ifndef MQ_FSM_INTERNAL_H
#define MQ_FSM_INTERNAL_H

#include "fsm.h"
#include "raft.pb-c.h"

/* Grows *@arr (of @elem-byte elements, capacity *@cap) to hold @need. */
mq_err fsm_reserve(void **arr, size_t *cap, size_t need, size_t elem);

/* Works out again when the queues whose time has come (at f->now_ms) next
 * fall due, dropping their delayed messages now due; with @wake, calls
 * on_publish for the queues that have such messages. (fsm.c) */
void fsm_due_update(struct fsm *f, int wake);

/* Frees the snapshot being taken, if any (snap_take.c; fsm_free). */
void fsm_snap_free(struct fsm *f);

/* Notes that the op being applied changed @q: it is trimmed (retention)
 * once the op is done. */
void fsm_touch(struct fsm *f, struct queue *q);

/* Tells f->on_note, if set, of a change (see fsm.h). */
void fsm_note(struct fsm *f, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The queue (touched, see fsm_touch) or subscription, or NULL with
 * NOT_FOUND recorded in @r. */
struct queue *fsm_find_queue(struct fsm *f, const char *name,
                             struct fsm_op_result *r);
struct sub *fsm_find_sub(struct queue *q, const char *name,
                         struct fsm_op_result *r);

/* Moves the dead letters subscription @s of @q decided (s->dl) to the
 * queue's dead-letter queue, creating it if needed; @term_reason is the
 * client's reason of a term (may be NULL). */
mq_err fsm_dead_letters(struct fsm *f, struct queue *q, struct sub *s,
                        const char *term_reason);

mq_err fsm_apply_publish(struct fsm *f, const Mq__V1__PublishOp *op,
                         struct fsm_op_result *r);
mq_err fsm_apply_redrive(struct fsm *f, const Mq__V1__RedriveOp *op,
                         struct fsm_op_result *r);
mq_err fsm_apply_deliver(struct fsm *f, const Mq__V1__DeliverOp *op,
                         struct fsm_op_result *r);
mq_err fsm_apply_ack(struct fsm *f, const Mq__V1__AckOp *op,
                     struct fsm_op_result *r);
mq_err fsm_apply_cancel(struct fsm *f, const Mq__V1__CancelOp *op,
                        struct fsm_op_result *r);
mq_err fsm_apply_purge(struct fsm *f, const char *name,
                       struct fsm_op_result *r);
/* fsm_update.c */
mq_err fsm_apply_queue_update(struct fsm *f, const Mq__V1__QueueUpdateOp *op,
                              struct fsm_op_result *r);

#endif
