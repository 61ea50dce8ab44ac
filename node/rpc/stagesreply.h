/* stagesreply.h: the node's latency breakdown (stages.h) as the status
 * reply carries it (StatusReply.stages), when the request asks for it.
 * Loop thread only. */
#ifndef MQ_STAGESREPLY_H
#define MQ_STAGESREPLY_H

#include "mq.h"
#include "mq.pb-c.h"
#include "stages.h"

/* What stagesreply_fill allocated for one reply. */
struct stagesreply {
    Mq__V1__StageHist *hists;
    Mq__V1__StageHist **ptrs;
    uint32_t *buckets; /* STAGE_COUNT * LATHIST_BUCKETS at most */
    uint64_t *counts;
};

/* Points @st's stages at a copy of @s's histograms (non-empty buckets
 * only), held in @mem until stagesreply_free. MQ_ERR_NO_MEMORY leaves @st
 * as it was. */
mq_err stagesreply_fill(const struct stages *s, Mq__V1__StatusReply *st,
                        struct stagesreply *mem);

void stagesreply_free(struct stagesreply *mem);

#endif
