/* pbconv.h: converts queue and subscription settings between protobuf
 * (mq.proto) and the plain C structs of queue.h and sub.h. */
#ifndef MQ_PBCONV_H
#define MQ_PBCONV_H

#include "mq.pb-c.h"
#include "queue.h"
#include "sub.h"

/* Copies @pb into @c; names longer than MQ_NAME_MAX are cut to an invalid
 * marker so that validation refuses them. */
void pbconv_queue_from(struct queue_config *c, const Mq__V1__QueueConfig *pb);
/* Points @pb's fields at @c (borrowed: @pb lives no longer than @c). */
void pbconv_queue_to(Mq__V1__QueueConfig *pb, const struct queue_config *c);

/* Returns MQ_ERR_INVALID (with @e) when the filters do not fit. */
mq_err pbconv_sub_from(struct sub_config *c, const Mq__V1__SubConfig *pb,
                       struct errmsg *e);
/* @filters must have room for SUB_MAX_FILTERS pointers; they point into
 * @c. */
void pbconv_sub_to(Mq__V1__SubConfig *pb, const struct sub_config *c,
                   const char *queue, char **filters);

#define SUB_MAX_FILTERS 64

#endif
