/* stagesreply.c: the latency breakdown in a status reply (stagesreply.h). */
#include "stagesreply.h"

#include <string.h>

#include "alloc.h"

mq_err stagesreply_fill(const struct stages *s, Mq__V1__StatusReply *st,
                        struct stagesreply *mem)
{
    size_t used = 0, at = 0;

    memset(mem, 0, sizeof *mem);
    for (size_t i = 0; i < STAGE_COUNT; i++) {
        for (size_t k = 0; k < LATHIST_BUCKETS; k++) {
            used += s->h[i].buckets[k] != 0;
        }
    }
    mem->hists = mq_calloc(STAGE_COUNT, sizeof *mem->hists);
    mem->ptrs = mq_calloc(STAGE_COUNT, sizeof *mem->ptrs);
    mem->buckets = mq_calloc(used + 1, sizeof *mem->buckets);
    mem->counts = mq_calloc(used + 1, sizeof *mem->counts);
    if (!mem->hists || !mem->ptrs || !mem->buckets || !mem->counts) {
        stagesreply_free(mem);
        return MQ_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < STAGE_COUNT; i++) {
        const struct lathist *h = &s->h[i];
        Mq__V1__StageHist *o = &mem->hists[i];
        mq__v1__stage_hist__init(o);
        o->name = (char *)stages_name((enum stage_id)i);
        o->what = (char *)stages_what((enum stage_id)i);
        o->count = h->count;
        o->sum_ns = h->sum_ns;
        o->max_ns = h->max_ns;
        o->buckets = mem->buckets + at;
        o->bucket_counts = mem->counts + at;
        for (size_t k = 0; k < LATHIST_BUCKETS; k++) {
            if (h->buckets[k] != 0) {
                mem->buckets[at] = (uint32_t)k;
                mem->counts[at] = h->buckets[k];
                at++;
            }
        }
        o->n_buckets = o->n_bucket_counts =
            (size_t)(mem->buckets + at - o->buckets);
        mem->ptrs[i] = o;
    }
    st->stages = mem->ptrs;
    st->n_stages = STAGE_COUNT;
    return MQ_OK;
}

void stagesreply_free(struct stagesreply *mem)
{
    mq_free(mem->hists);
    mq_free(mem->ptrs);
    mq_free(mem->buckets);
    mq_free(mem->counts);
    memset(mem, 0, sizeof *mem);
}
