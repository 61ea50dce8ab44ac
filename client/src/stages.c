/* stages.c: mq_cluster_stages, the nodes' latency breakdown. Every node of
 * the user's list is asked at once, as mq_cluster_status does. The bucket
 * bounds repeat the node's (node/base/lathist.h; test_client_stages checks
 * that they agree). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "conn.h"
#include "lasterr.h"

#define SUB_BITS 4
#define SUB (1u << SUB_BITS)

MQ_API uint64_t mq_stage_bucket_ns(size_t i)
{
    if (i < SUB) {
        return i;
    }
    if (i >= MQ_STAGE_BUCKETS) {
        return (uint64_t)1 << 41;
    }
    size_t e = i / SUB + SUB_BITS - 1;
    uint64_t m = SUB + i % SUB;
    return m << (e - SUB_BITS);
}

MQ_API uint64_t mq_stage_percentile(const mq_stage *s, double pct)
{
    if (s == NULL || s->count == 0) {
        return 0;
    }
    uint64_t rank = (uint64_t)((double)s->count * pct / 100.0 + 0.5);
    uint64_t seen = 0;
    if (rank == 0) {
        rank = 1;
    }
    for (size_t i = 0; i < MQ_STAGE_BUCKETS; i++) {
        seen += s->buckets[i];
        if (seen >= rank) {
            uint64_t lo = mq_stage_bucket_ns(i);
            uint64_t mid = lo + (mq_stage_bucket_ns(i + 1) - lo) / 2;
            return s->max_ns != 0 && mid > s->max_ns ? s->max_ns : mid;
        }
    }
    return s->max_ns;
}

/* Fills @out from @r's stages. MQ_ERR_NO_MEMORY or MQ_ERR_PROTOCOL. */
static mq_err from_pb(mq_node_stages *out, const Mq__V1__StatusReply *r)
{
    out->id = r->node_id;
    snprintf(out->role, sizeof out->role, "%s", r->role ? r->role : "");
    out->stages = calloc(r->n_stages + 1, sizeof *out->stages);
    if (out->stages == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < r->n_stages; i++) {
        const Mq__V1__StageHist *h = r->stages[i];
        mq_stage *s = &out->stages[i];
        if (h->n_buckets != h->n_bucket_counts) {
            return MQ_ERR_PROTOCOL;
        }
        snprintf(s->name, sizeof s->name, "%s", h->name ? h->name : "");
        snprintf(s->what, sizeof s->what, "%s", h->what ? h->what : "");
        s->count = h->count;
        s->sum_ns = h->sum_ns;
        s->max_ns = h->max_ns;
        for (size_t k = 0; k < h->n_buckets; k++) {
            if (h->buckets[k] >= MQ_STAGE_BUCKETS) {
                return MQ_ERR_PROTOCOL;
            }
            s->buckets[h->buckets[k]] += h->bucket_counts[k];
        }
        out->n++;
    }
    return MQ_OK;
}

MQ_API mq_err mq_cluster_stages(mq_client *c, mq_node_stages **out, size_t *n,
                                uint32_t timeout_ms)
{
    Mq__V1__StatusRequest sr = MQ__V1__STATUS_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    struct conn_answer *ans;
    mq_node_stages *list;
    size_t count, answered = 0;
    uint64_t wait;

    if (c == NULL || out == NULL || n == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "stages: an argument is NULL");
    }
    *out = NULL;
    *n = 0;
    count = conn_user_count(c->conn);
    list = calloc(count, sizeof *list);
    ans = calloc(count, sizeof *ans);
    if (list == NULL || ans == NULL) {
        free(list);
        free(ans);
        return lasterr_fail(MQ_ERR_NO_MEMORY, "stages: out of memory");
    }
    wait = client_timeout(c, timeout_ms);
    if (wait > c->opts.attempt_timeout_ms) {
        wait = c->opts.attempt_timeout_ms;
    }
    sr.stages = 1;
    req.body_case = MQ__V1__REQUEST__BODY_STATUS;
    req.status = &sr;
    conn_ask_each(c->conn, &req, (uint32_t)wait, ans);
    for (size_t i = 0; i < count; i++) {
        mq_node_stages *s = &list[i];
        snprintf(s->url, sizeof s->url, "%s", conn_url(c->conn, i));
        s->err = ans[i].err;
        if (s->err == MQ_OK &&
            ans[i].reply->body_case != MQ__V1__REPLY__BODY_STATUS_REPLY) {
            s->err = MQ_ERR_PROTOCOL;
            snprintf(ans[i].why, sizeof ans[i].why,
                     "the reply is not a status reply");
        }
        if (s->err == MQ_OK) {
            s->err = from_pb(s, ans[i].reply->status_reply);
            if (s->err != MQ_OK) {
                free(s->stages);
                s->stages = NULL;
                s->n = 0;
                snprintf(ans[i].why, sizeof ans[i].why, "%s: %s", s->url,
                         s->err == MQ_ERR_NO_MEMORY ? "out of memory"
                                                    : "malformed stages");
            }
        }
        if (s->err == MQ_OK) {
            answered++;
        } else {
            snprintf(s->error, sizeof s->error, "%s", ans[i].why);
        }
        if (ans[i].reply != NULL) {
            mq__v1__reply__free_unpacked(ans[i].reply, NULL);
        }
    }
    free(ans);
    if (answered == 0) {
        mq_err rv = list[0].err;
        lasterr_set("stages: no node answered; %s", list[0].error);
        mq_cluster_stages_free(list, count);
        return rv == MQ_OK ? MQ_ERR_NOT_DONE : rv;
    }
    *out = list;
    *n = count;
    return MQ_OK;
}

MQ_API void mq_cluster_stages_free(mq_node_stages *list, size_t n)
{
    for (size_t i = 0; list != NULL && i < n; i++) {
        free(list[i].stages);
    }
    free(list);
}
