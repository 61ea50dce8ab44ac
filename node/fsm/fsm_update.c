/* fsm_update.c: a queue update (QueueUpdateOp): the settings it names are
 * changed on the queue's settings of the moment, checked as at create.
 *
 * Every replica applies the same op to the same state at the Command's
 * time, so every replica ends with the same settings and drops the same
 * messages (lowered limits under discard "old"). A snapshot encodes the
 * settings of the moment, so an update survives restarts and snapshot
 * installs like any other state. A refused update (unknown queue, a
 * setting that cannot change, a bad value) changes nothing. */
#include <stdio.h>
#include <string.h>

#include "fsm_internal.h"
#include "pbconv.h"

mq_err fsm_apply_queue_update(struct fsm *f, const Mq__V1__QueueUpdateOp *op,
                              struct fsm_op_result *r)
{
    const char *name = op->config && op->config->name ? op->config->name : "";
    struct queue_config want, cfg;
    struct queue *q;

    if ((op->set & ~QUEUE_SET_ALL) != 0) {
        r->err = MQ_ERR_INVALID;
        errmsg_set(&r->e,
                   "queue update %s: name and retention cannot change "
                   "(set 0x%x)",
                   name, (unsigned)op->set);
        return MQ_OK;
    }
    if (op->set == 0 || op->config == NULL) {
        r->err = MQ_ERR_INVALID;
        errmsg_set(&r->e, "queue update %s: no setting to change", name);
        return MQ_OK;
    }
    if ((q = fsm_find_queue(f, name, r)) == NULL) {
        return MQ_OK;
    }
    pbconv_queue_from(&want, op->config);
    cfg = q->cfg;
    queue_config_set(&cfg, &want, op->set);
    r->err = queue_config_normalize(&cfg, &r->e);
    if (r->err != MQ_OK) {
        errmsg_wrap(&r->e, "queue update %s", q->cfg.name);
        return MQ_OK;
    }
    queue_changing(q);
    return queue_set_config(q, &cfg, f->now_ms);
}
