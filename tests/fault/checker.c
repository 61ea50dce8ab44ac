/* checker.c: drain, verdicts and the report of the fault tests (see
 * checker.h). */
#include "checker.h"

#include <stdlib.h>
#include <string.h>

#include "cluster.h"

int checker_drain(struct workload *w, int timeout_ms)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    uint64_t end = test_now_ms() + (uint64_t)timeout_ms;
    int rv = -1;

    o.urls = w->urls;
    o.timeout_ms = 5000;
    o.attempt_timeout_ms = 1000;
    if (mq_client_open(&cl, &o) != MQ_OK) {
        fprintf(stderr, "checker: client: %s\n", mq_errmsg());
        return -1;
    }
    do {
        mq_sub_info si;
        if (mq_sub_info_get(cl, w->queue, w->sub, &si, 5000) == MQ_OK &&
            si.pending == 0 && si.in_flight == 0 && si.scheduled == 0) {
            rv = 0;
            break;
        }
        test_sleep_ms(100);
    } while (test_now_ms() < end);
    mq_client_close(cl);
    return rv;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void checker_faults(struct workload *w, struct fault_rec *f, size_t n)
{
    size_t n_ok = 0, at = 0;
    uint32_t *oks;

    for (int k = 0; k < w->n_producers; k++) {
        n_ok += w->prod[k].n;
    }
    oks = malloc((n_ok + 1) * sizeof *oks);
    if (oks == NULL) {
        return;
    }
    for (int k = 0; k < w->n_producers; k++) {
        for (size_t i = 0; i < w->prod[k].n; i++) {
            if (w->prod[k].recs[i].outcome == PUB_OK) {
                oks[at++] = w->prod[k].recs[i].end_ms;
            }
        }
    }
    qsort(oks, at, sizeof *oks, cmp_u32);
    for (size_t i = 0; i < n; i++) {
        uint64_t from = f[i].start_ms - w->t0, to = f[i].end_ms - w->t0;
        uint64_t prev = from, gap = 0;
        f[i].recovered = 0;
        for (size_t j = 0; j < at; j++) {
            if (oks[j] < from || oks[j] >= to) {
                continue;
            }
            gap = oks[j] - prev > gap ? oks[j] - prev : gap;
            prev = oks[j];
            f[i].recovered |= oks[j] + w->t0 >= f[i].heal_ms;
        }
        if (to - prev > gap && !f[i].recovered) {
            gap = to - prev; /* it never came back in the window */
        }
        f[i].unavail_ms = gap;
        f[i].n_ok = f[i].n_failed = f[i].n_unknown = 0;
        for (int k = 0; k < w->n_producers; k++) {
            for (size_t j = 0; j < w->prod[k].n; j++) {
                const struct pub_rec *r = &w->prod[k].recs[j];
                if (r->end_ms < from || r->end_ms >= to) {
                    continue;
                }
                f[i].n_ok += r->outcome == PUB_OK;
                f[i].n_failed += r->outcome == PUB_FAILED;
                f[i].n_unknown += r->outcome == PUB_UNKNOWN;
            }
        }
    }
    free(oks);
}

/* Prints violation number @count (the first 10) of value p@k-@n. */
static void say(size_t count, const char *what, int k, size_t n,
                const struct pub_rec *r)
{
    if (count <= 10) {
        fprintf(stderr,
                "%s: p%d-%zu (seq %llu, publish from %u ms to %u ms, %s, "
                "error %s)\n",
                what, k, n, (unsigned long long)r->seq, r->start_ms, r->end_ms,
                r->outcome == PUB_OK       ? "ok"
                : r->outcome == PUB_FAILED ? "failed"
                                           : "indeterminate",
                r->err ? mq_strerror((mq_err)r->err) : "none");
    }
}

/* The value under @seq as "p<k>-<n>" in @buf, or "nothing". Caller holds
 * w->lock. */
static const char *value_name(const struct workload *w, uint64_t seq, char *buf,
                              size_t len)
{
    if (seq >= w->n_value_at || w->value_at[seq] == 0) {
        return "nothing";
    }
    size_t v = w->value_at[seq] - 1;
    snprintf(buf, len, "p%zu-%zu", v / w->max_values, v % w->max_values);
    return buf;
}

/* Judges the seqs of ok publish p@k-@n (@r): a delivered value must have
 * come under the seq its publish was acknowledged with, and that seq must
 * carry no other value. Caller holds w->lock. */
static void judge_seq(const struct workload *w, int k, size_t n,
                      const struct pub_rec *r, struct verdict *v)
{
    uint32_t value = (uint32_t)((size_t)k * w->max_values + n + 1);
    char other[48];

    if (w->delivered[k][n] > 0 && w->seq_of[k][n] != r->seq) {
        if (++v->seq_moved <= 10) {
            fprintf(stderr,
                    "SEQ MOVED: p%d-%zu delivered under seq %llu, "
                    "its publish acknowledged with seq %llu\n",
                    k, n, (unsigned long long)w->seq_of[k][n],
                    (unsigned long long)r->seq);
        }
    }
    if (r->seq < w->n_value_at && w->value_at[r->seq] != 0 &&
        w->value_at[r->seq] != value) {
        if (++v->seq_reused <= 10) {
            fprintf(stderr,
                    "SEQ REUSED: seq %llu, acknowledged for p%d-%zu, was "
                    "delivered as %s\n",
                    (unsigned long long)r->seq, k, n,
                    value_name(w, r->seq, other, sizeof other));
        }
    }
}

void checker_verdict(struct workload *w, int drained, struct verdict *v)
{
    memset(v, 0, sizeof *v);
    v->drained = drained;
    pthread_mutex_lock(&w->lock);
    v->deliveries = w->deliveries;
    v->acked_deliveries = w->acked_deliveries;
    v->duplicates = w->duplicates;
    v->unexpected = w->unexpected;
    v->corrupt = w->corrupt;
    v->stored_twice = (size_t)w->stored_twice;
    v->seq_reused = (size_t)w->seq_reused;
    if (w->unexpected > 0) {
        fprintf(stderr, "UNEXPECTED: first: %s\n", w->first_unexpected);
    }
    if (w->seq_reused > 0) {
        fprintf(stderr, "SEQ REUSED: first: %s\n", w->first_reused);
    }
    for (int k = 0; k < w->n_producers; k++) {
        const struct producer *p = &w->prod[k];
        for (size_t i = 0; i < w->max_values; i++) {
            uint8_t got = w->delivered[k][i];
            uint8_t acked = w->consumed[k][i];
            if (i >= p->n) {
                if (got > 0 && ++v->unexpected <= 10) {
                    fprintf(stderr,
                            "UNEXPECTED: p%d-%zu delivered, never "
                            "published\n",
                            k, i);
                }
                continue;
            }
            const struct pub_rec *r = &p->recs[i];
            v->attempted++;
            v->delivered_values += got > 0;
            v->consumed_values += acked > 0;
            if (got > 0 && acked == 0) {
                say(++v->not_consumed,
                    "NOT CONSUMED (delivered, no ack of it returned OK, "
                    "never delivered again)",
                    k, i, r);
            }
            switch (r->outcome) {
            case PUB_OK:
                v->ok++;
                v->stored_by_retry += r->duplicate;
                if (got == 0) {
                    say(++v->lost, "LOST (acknowledged, never delivered)", k, i,
                        r);
                }
                judge_seq(w, k, i, r, v);
                break;
            case PUB_FAILED:
                v->failed++;
                if (got > 0) {
                    say(++v->failed_delivered, "FAILED BUT DELIVERED", k, i, r);
                }
                break;
            default:
                v->unknown++;
                v->unknown_delivered += got > 0;
                break;
            }
        }
    }
    pthread_mutex_unlock(&w->lock);
    v->pass = v->lost == 0 && v->not_consumed == 0 && v->unexpected == 0 &&
              v->corrupt == 0 && v->stored_twice == 0 && v->seq_reused == 0 &&
              v->seq_moved == 0 && v->failed_delivered == 0 && v->drained;
}

static void node_name(char *buf, size_t len, int i)
{
    if (i < 0) {
        snprintf(buf, len, "-");
    } else {
        snprintf(buf, len, "n%d", i + 1);
    }
}

void checker_report(FILE *out, const struct workload *w,
                    const struct fault_rec *f, size_t n,
                    const struct verdict *v)
{
    uint64_t worst_unavail = 0;
    int64_t worst_election = -1;

    fprintf(out, "\n%-22s %8s %7s %-8s %9s %11s %7s %6s %7s\n", "fault",
            "start s", "held s", "leader", "elect ms", "unavail ms", "ok",
            "failed", "indet");
    for (size_t i = 0; i < n; i++) {
        char before[8], after[8], leader[20], elect[16];
        node_name(before, sizeof before, f[i].leader_before);
        node_name(after, sizeof after, f[i].leader_after);
        snprintf(leader, sizeof leader, "%s>%s", before, after);
        if (f[i].election_ms >= 0) {
            snprintf(elect, sizeof elect, "%lld", (long long)f[i].election_ms);
        } else {
            snprintf(elect, sizeof elect, "-");
        }
        fprintf(out, "%-22s %8.1f %7.1f %-8s %9s %11llu %7zu %6zu %7zu%s\n",
                f[i].kind, (double)(f[i].start_ms - w->t0) / 1000.0,
                (double)(f[i].heal_ms - f[i].start_ms) / 1000.0, leader, elect,
                (unsigned long long)f[i].unavail_ms, f[i].n_ok, f[i].n_failed,
                f[i].n_unknown, f[i].recovered ? "" : "  NOT RECOVERED");
        if (f[i].unavail_ms > worst_unavail) {
            worst_unavail = f[i].unavail_ms;
        }
        if (f[i].election_ms > worst_election) {
            worst_election = f[i].election_ms;
        }
    }
    fprintf(out,
            "\nfaults %zu; longest unavailability %llu ms; slowest election "
            "%lld ms\n",
            n, (unsigned long long)worst_unavail, (long long)worst_election);
    fprintf(out,
            "published: %zu attempted, %zu ok (%zu stored by a retry), %zu "
            "failed, %zu indeterminate (%zu of them delivered)\n",
            v->attempted, v->ok, v->stored_by_retry, v->failed, v->unknown,
            v->unknown_delivered);
    fprintf(out,
            "delivered: %zu values in %llu deliveries, %llu duplicates; "
            "consumed (ack returned OK): %zu values in %llu acked "
            "deliveries\n",
            v->delivered_values, (unsigned long long)v->deliveries,
            (unsigned long long)v->duplicates, v->consumed_values,
            (unsigned long long)v->acked_deliveries);
    fprintf(out,
            "violations: lost %zu, not consumed %zu, unexpected %zu, "
            "corrupt %zu, stored twice %zu, seq reused %zu, seq moved %zu, "
            "failed but delivered %zu%s\n",
            v->lost, v->not_consumed, v->unexpected, v->corrupt,
            v->stored_twice, v->seq_reused, v->seq_moved, v->failed_delivered,
            v->drained ? "" : "; the subscription did not drain");
    fprintf(out, "verdict: %s\n", v->pass ? "PASS" : "FAIL");
}
