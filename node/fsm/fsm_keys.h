/* fsm_keys.h: applying the key ops of a Command (create, update, rotate,
 * revoke, last used) to the FSM's keys. Each records its result in @r;
 * a refused op changes nothing. Returns MQ_OK, or MQ_ERR_NO_MEMORY (the
 * state is then unchanged too). Internal to the FSM (fsm.c). */
#ifndef MQ_FSM_KEYS_H
#define MQ_FSM_KEYS_H

#include "fsm.h"
#include "raft.pb-c.h"

/* Name of the key that bootstrapping creates. */
#define KEYS_BOOTSTRAP_NAME "admin"

mq_err fsm_apply_key_create(struct fsm *f, const Mq__V1__KeyCreateOp *op,
                            struct fsm_op_result *r);
mq_err fsm_apply_key_update(struct fsm *f, const Mq__V1__KeyUpdateOp *op,
                            struct fsm_op_result *r);
mq_err fsm_apply_key_rotate(struct fsm *f, const Mq__V1__KeyRotateOp *op,
                            struct fsm_op_result *r);
mq_err fsm_apply_key_revoke(struct fsm *f, const char *name,
                            struct fsm_op_result *r);
mq_err fsm_apply_key_used(struct fsm *f, const Mq__V1__KeyUsedOp *op,
                          struct fsm_op_result *r);

#endif
