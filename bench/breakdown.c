/* breakdown.c: the nodes' latency breakdown over a case (breakdown.h). */
#include "breakdown.h"

#include <stdio.h>
#include <string.h>

#include "common.h"
#include "report.h"

void breakdown_begin(const struct bench_opts *o, struct breakdown *b)
{
    struct report r;

    memset(b, 0, sizeof *b);
    if (!o->stages) {
        return;
    }
    report_init(&r, "stages");
    if (bench_client_open(o, 0, &b->c, &r) != 0) {
        fprintf(stderr, "mqbench: stages: %s\n", r.error);
        return;
    }
    if (mq_cluster_stages(b->c, &b->before, &b->n, 0) != MQ_OK) {
        fprintf(stderr, "mqbench: stages: %s\n", mq_errmsg());
        b->before = NULL;
    }
}

/* @after minus @before into @d (same stage of the same node). The largest
 * value is known only if it is new since @before. */
static void diff(const mq_stage *before, const mq_stage *after, mq_stage *d)
{
    memcpy(d->name, after->name, sizeof d->name);
    d->count = after->count - before->count;
    d->sum_ns = after->sum_ns - before->sum_ns;
    d->max_ns = after->max_ns > before->max_ns ? after->max_ns : 0;
    for (size_t i = 0; i < MQ_STAGE_BUCKETS; i++) {
        d->buckets[i] = after->buckets[i] - before->buckets[i];
    }
}

static void print_node(const struct bench_opts *o, const char *case_name,
                       const mq_node_stages *before,
                       const mq_node_stages *after)
{
    static mq_stage d; /* one breakdown at a time */

    for (size_t i = 0; i < after->n; i++) {
        const mq_stage *a = &after->stages[i], *bs = NULL;
        for (size_t k = 0; k < before->n && bs == NULL; k++) {
            if (strcmp(before->stages[k].name, a->name) == 0) {
                bs = &before->stages[k];
            }
        }
        if (bs == NULL || a->count <= bs->count) {
            continue;
        }
        diff(bs, a, &d);
        struct report r;
        report_init(&r, "stages");
        report_str(&r, "case", case_name);
        report_u64(&r, "node", after->id);
        report_str(&r, "role", after->role);
        report_str(&r, "stage", d.name);
        report_u64(&r, "count", d.count);
        report_latency(&r, "p50", "p50_us", mq_stage_percentile(&d, 50.0));
        report_latency(&r, "p90", "p90_us", mq_stage_percentile(&d, 90.0));
        report_latency(&r, "p99", "p99_us", mq_stage_percentile(&d, 99.0));
        report_latency(&r, "mean", "mean_us", d.sum_ns / d.count);
        report_print(&r, o->json);
    }
}

void breakdown_end(const struct bench_opts *o, struct breakdown *b,
                   const char *case_name)
{
    mq_node_stages *after = NULL;
    size_t n = 0;

    if (b->before != NULL) {
        if (mq_cluster_stages(b->c, &after, &n, 0) != MQ_OK) {
            fprintf(stderr, "mqbench: stages: %s\n", mq_errmsg());
        }
        for (size_t i = 0; after != NULL && i < n && i < b->n; i++) {
            if (after[i].err == MQ_OK && b->before[i].err == MQ_OK &&
                after[i].id == b->before[i].id) {
                print_node(o, case_name, &b->before[i], &after[i]);
            }
        }
        mq_cluster_stages_free(after, n);
        mq_cluster_stages_free(b->before, b->n);
    }
    mq_client_close(b->c);
    memset(b, 0, sizeof *b);
}
