/* health.c: readiness checks over a snapshot of figures (health.h). Each
 * check says in its detail what an operator would want to read, passing
 * or not. */
#include "health.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void check(struct health *h, const char *name, int ok, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

static void check(struct health *h, const char *name, int ok, const char *fmt,
                  ...)
{
    struct health_check *c;
    va_list ap;
    if (h->n == HEALTH_MAX_CHECKS) {
        return;
    }
    c = &h->checks[h->n++];
    c->name = name;
    c->ok = ok;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
    if (!ok) {
        size_t at = strlen(h->reason);
        snprintf(h->reason + at, sizeof h->reason - at, "%s%s",
                 h->ready ? "" : "; ", c->detail);
        h->ready = 0;
    }
}

void health_evaluate(const struct figures *f, struct health *h)
{
    uint64_t lag = f->commit_index > f->applied_index
                       ? f->commit_index - f->applied_index
                       : 0;
    memset(h, 0, sizeof *h);
    h->ready = 1;

    if (f->removed) {
        check(h, "serving", 0, "node %llu was removed from the cluster",
              (unsigned long long)f->id);
    } else {
        check(h, "serving", 1, "node %llu serves", (unsigned long long)f->id);
    }
    check(h, "member", !f->rejoining, "%s",
          f->rejoining ? "rejoining the cluster after a repair: neither votes "
                         "nor stands for election yet"
                       : "a full member");
    if (f->leader_id != 0) {
        check(h, "leader", 1, "node %llu leads term %llu",
              (unsigned long long)f->leader_id, (unsigned long long)f->term);
    } else {
        check(h, "leader", 0,
              "no leader known: %llu of %llu voters reachable (a leader "
              "needs %llu)",
              (unsigned long long)f->voters_reachable,
              (unsigned long long)f->voters,
              (unsigned long long)(f->voters / 2 + 1));
    }
    check(h, "applied", lag <= f->ready_max_apply_lag,
          "applied index %llu is %llu entries behind commit index %llu "
          "(ready_max_apply_lag %llu)",
          (unsigned long long)f->applied_index, (unsigned long long)lag,
          (unsigned long long)f->commit_index,
          (unsigned long long)f->ready_max_apply_lag);
    check(h, "snapshot", f->installing == 0, "%s",
          f->installing ? "installing a snapshot from the leader"
                        : "not installing a snapshot");
    check(h, "memory", f->memory_bytes < f->memory_budget_bytes,
          "%llu of %llu bytes of the memory budget used%s",
          (unsigned long long)f->memory_bytes,
          (unsigned long long)f->memory_budget_bytes,
          f->memory_bytes < f->memory_budget_bytes ? ""
                                                   : ": publishes get FULL");
}

void health_json(const struct health *h, const struct figures *f,
                 struct textbuf *out)
{
    textbuf_printf(out, "{\"status\":\"%s\",\"node\":%llu,\"role\":\"",
                   h->ready ? "ready" : "not ready", (unsigned long long)f->id);
    textbuf_json(out, f->role ? f->role : "");
    textbuf_printf(out, "\",\"leader\":%llu,\"term\":%llu,\"reason\":\"",
                   (unsigned long long)f->leader_id,
                   (unsigned long long)f->term);
    textbuf_json(out, h->reason);
    textbuf_printf(out, "\",\"checks\":[");
    for (size_t i = 0; i < h->n; i++) {
        textbuf_printf(out, "%s{\"name\":\"%s\",\"ok\":%s,\"detail\":\"",
                       i ? "," : "", h->checks[i].name,
                       h->checks[i].ok ? "true" : "false");
        textbuf_json(out, h->checks[i].detail);
        textbuf_printf(out, "\"}");
    }
    textbuf_printf(out, "]}\n");
}
