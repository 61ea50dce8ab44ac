/* cmd_check.c: mqctl check, staged checks of the cluster's health, and
 * mqctl check --quorum-critical NODE, whether stopping NODE loses quorum.
 *
 * The stages, in order, each one line ("ok", "FAIL" or "skip", the stage,
 * what was found): reachable (some member answers), leader (one is known),
 * quorum (more than half of the voters answer), applied (every member
 * answers and has applied the log to within --max-lag entries of the
 * commit index), disk (each node has --min-disk-free left), memory (each
 * node holds at most --max-memory-use of its memory budget), certificates
 * (no certificate a node presents expires within --min-cert-validity;
 * skipped when no node uses TLS). The first stage that fails ends the run:
 * "mqctl: check: stage STAGE failed: why", exit 1. Every member is asked
 * (mq_cluster_status_all), so one -s URL is enough.
 *
 * --json: {"stages": [{"stage", "ok", "detail"}], "failed": STAGE or
 * null}; with --quorum-critical: {"node", "critical", "voters",
 * "answering", "needed", "detail"}. */
#include "cmd_check.h"

#include <stdio.h>
#include <string.h>

#include "cmd_status.h"
#include "flagval.h"
#include "help.h"
#include "output.h"

/* The checks' bounds, from the flags. */
struct bounds {
    uint64_t max_lag;        /* entries */
    uint64_t min_disk_free;  /* bytes */
    uint64_t max_memory_use; /* percent */
    uint64_t min_cert_ms;    /* ms */
};

/* What the cluster said: every member's status and the voters. */
struct view {
    mq_node_status *st;
    size_t n;
    const mq_node_status *leader;
    uint64_t leader_id;
    mq_member *members; /* NULL when no leader answered */
    size_t n_members;
    char members_err[256]; /* why members is NULL, when a leader is known */
    mq_err members_rv;     /* and mq_members' code then */
};

/* A stage's result. */
struct stage {
    const char *name;
    int ok; /* 1 ok, 0 failed, -1 skipped */
    char detail[320];
};

static const mq_node_status *answered(const struct view *v, uint64_t id)
{
    for (size_t i = 0; i < v->n; i++) {
        if (v->st[i].err == MQ_OK && v->st[i].id == id) {
            return &v->st[i];
        }
    }
    return NULL;
}

/* Voters in the members list, and how many of them answer. */
static void count_voters(const struct view *v, size_t *voters,
                         size_t *answering)
{
    *voters = *answering = 0;
    for (size_t i = 0; i < v->n_members; i++) {
        if (strcmp(v->members[i].role, "voter") == 0) {
            (*voters)++;
            *answering += answered(v, v->members[i].id) != NULL;
        }
    }
}

static void stage_reachable(const struct view *v, struct stage *s)
{
    size_t k = 0;
    for (size_t i = 0; i < v->n; i++) {
        k += v->st[i].err == MQ_OK;
    }
    s->ok = k > 0;
    snprintf(s->detail, sizeof s->detail, "%zu of %zu members answer", k, v->n);
}

static void stage_leader(const struct view *v, struct stage *s)
{
    char why[160];
    s->ok = v->leader != NULL;
    if (v->leader == NULL) {
        status_no_leader_why(v->st, v->n, why, sizeof why);
        snprintf(s->detail, sizeof s->detail, "none: %s", why);
        return;
    }
    snprintf(s->detail, sizeof s->detail, "node %llu (%s)",
             (unsigned long long)v->leader_id,
             strcmp(v->leader->role, "leader") == 0 ? v->leader->url
                                                    : v->leader->leader_url);
}

static void stage_quorum(const struct view *v, struct stage *s)
{
    size_t voters, k;
    if (v->members == NULL) {
        s->ok = 0;
        snprintf(s->detail, sizeof s->detail,
                 "the leader did not list the members: %s", v->members_err);
        return;
    }
    count_voters(v, &voters, &k);
    s->ok = k >= voters / 2 + 1;
    snprintf(s->detail, sizeof s->detail,
             "%zu of %zu voters answer, %zu needed", k, voters, voters / 2 + 1);
}

static void stage_applied(const struct view *v, const struct bounds *b,
                          struct stage *s)
{
    uint64_t commit = 0, worst = 0;
    s->ok = 1;
    for (size_t i = 0; i < v->n; i++) {
        if (v->st[i].err == MQ_OK && v->st[i].commit_index > commit) {
            commit = v->st[i].commit_index;
        }
    }
    for (size_t i = 0; i < v->n && s->ok; i++) {
        const mq_node_status *n = &v->st[i];
        uint64_t lag = 0;
        if (n->err == MQ_OK && n->applied_index < commit) {
            lag = commit - n->applied_index;
        }
        if (n->err != MQ_OK) {
            s->ok = 0;
            snprintf(s->detail, sizeof s->detail,
                     "node %llu (%s) does not answer",
                     (unsigned long long)n->id,
                     n->url[0] != '\0' ? n->url : "URL unknown");
        } else if (lag > b->max_lag) {
            s->ok = 0;
            snprintf(s->detail, sizeof s->detail,
                     "node %llu applied %llu, %llu behind the commit index "
                     "%llu (bound %llu)",
                     (unsigned long long)n->id,
                     (unsigned long long)n->applied_index,
                     (unsigned long long)lag, (unsigned long long)commit,
                     (unsigned long long)b->max_lag);
        } else if (lag > worst) {
            worst = lag;
        }
    }
    if (s->ok) {
        snprintf(s->detail, sizeof s->detail,
                 "every member applied within %llu of the commit index %llu "
                 "(bound %llu)",
                 (unsigned long long)worst, (unsigned long long)commit,
                 (unsigned long long)b->max_lag);
    }
}

static void stage_disk(const struct view *v, const struct bounds *b,
                       struct stage *s)
{
    const mq_node_status *least = NULL;
    char a[16], c[16];
    for (size_t i = 0; i < v->n; i++) {
        if (v->st[i].err == MQ_OK &&
            (least == NULL ||
             v->st[i].disk_free_bytes < least->disk_free_bytes)) {
            least = &v->st[i];
        }
    }
    if (least == NULL) { /* reachable passed: cannot be */
        s->ok = 0;
        snprintf(s->detail, sizeof s->detail, "no node answered");
        return;
    }
    out_size(least->disk_free_bytes, a, sizeof a);
    out_size(b->min_disk_free, c, sizeof c);
    s->ok = least->disk_free_bytes >= b->min_disk_free;
    snprintf(s->detail, sizeof s->detail, "least free: node %llu, %s (%s %s)",
             (unsigned long long)least->id, a, s->ok ? "bound" : "under", c);
}

static void stage_memory(const struct view *v, const struct bounds *b,
                         struct stage *s)
{
    const mq_node_status *most = NULL;
    uint64_t most_pct = 0;
    char a[16], c[16];
    for (size_t i = 0; i < v->n; i++) {
        const mq_node_status *n = &v->st[i];
        if (n->err != MQ_OK || n->memory_budget_bytes == 0) {
            continue;
        }
        uint64_t pct = n->memory_bytes < UINT64_MAX / 100
                           ? n->memory_bytes * 100 / n->memory_budget_bytes
                           : n->memory_bytes / (n->memory_budget_bytes / 100);
        if (most == NULL || pct > most_pct) {
            most = n;
            most_pct = pct;
        }
    }
    if (most == NULL) {
        s->ok = -1;
        snprintf(s->detail, sizeof s->detail, "no node has a memory budget");
        return;
    }
    out_size(most->memory_bytes, a, sizeof a);
    out_size(most->memory_budget_bytes, c, sizeof c);
    s->ok = most_pct <= b->max_memory_use;
    snprintf(s->detail, sizeof s->detail,
             "most used: node %llu, %s of %s (%llu%%; bound %llu%%)",
             (unsigned long long)most->id, a, c, (unsigned long long)most_pct,
             (unsigned long long)b->max_memory_use);
}

/* Checks certificate expiry @at of node @n's @what against the bound;
 * returns 0 and writes @s's detail when it fails. */
static int cert_ok(const mq_node_status *n, const char *what, uint64_t at,
                   uint64_t now, const struct bounds *b, struct stage *s)
{
    char when[32], left[32];
    if (at == 0 || at >= now + b->min_cert_ms) {
        return 1;
    }
    out_time(at, when, sizeof when);
    if (at <= now) {
        snprintf(s->detail, sizeof s->detail,
                 "node %llu: the certificate it shows %s expired at %s",
                 (unsigned long long)n->id, what, when);
    } else {
        out_duration(at - now, left, sizeof left);
        snprintf(s->detail, sizeof s->detail,
                 "node %llu: the certificate it shows %s expires in %s (%s)",
                 (unsigned long long)n->id, what, left, when);
    }
    return 0;
}

static void stage_certs(const struct view *v, const struct bounds *b,
                        int client_tls, struct stage *s)
{
    uint64_t now = mqctl_now_ms(), first = 0;
    size_t certs = 0;
    s->ok = 1;
    for (size_t i = 0; i < v->n && s->ok; i++) {
        const mq_node_status *n = &v->st[i];
        if (n->err != MQ_OK) {
            continue;
        }
        const uint64_t at[2] = {n->tls_cert_not_after_ms,
                                n->peer_tls_cert_not_after_ms};
        for (int k = 0; k < 2; k++) {
            if (at[k] != 0) {
                certs++;
                first = first == 0 || at[k] < first ? at[k] : first;
            }
        }
        if (client_tls && n->tls_cert_not_after_ms == 0) {
            s->ok = 0;
            snprintf(s->detail, sizeof s->detail,
                     "node %llu does not say when its client certificate "
                     "expires (its tls_cert_file does not parse now?)",
                     (unsigned long long)n->id);
        } else if (!cert_ok(n, "clients", at[0], now, b, s) ||
                   !cert_ok(n, "other nodes", at[1], now, b, s)) {
            s->ok = 0;
        }
    }
    if (s->ok && certs == 0) {
        s->ok = -1;
        snprintf(s->detail, sizeof s->detail, "no node uses TLS");
    } else if (s->ok) {
        char when[32], left[32];
        out_time(first, when, sizeof when);
        out_duration(first - now, left, sizeof left);
        snprintf(s->detail, sizeof s->detail,
                 "%zu certificates; the first expires in %s (%s)", certs, left,
                 when);
    }
}

/* Asks every member, then the leader for the members list. Returns 0, or
 * 1 when no node answered (mq_errmsg says why). */
static int look(mq_client *c, struct view *v)
{
    memset(v, 0, sizeof *v);
    if (mq_cluster_status_all(c, &v->st, &v->n, 0) != MQ_OK) {
        return 1;
    }
    v->leader = status_find_leader(v->st, v->n, &v->leader_id);
    if (v->leader != NULL && (v->members_rv = mq_members(
                                  c, &v->members, &v->n_members, 0)) != MQ_OK) {
        snprintf(v->members_err, sizeof v->members_err, "%s", mq_errmsg());
        v->members = NULL;
        v->n_members = 0;
    }
    return 0;
}

static void view_free(struct view *v)
{
    mq_status_free(v->st);
    mq_members_free(v->members);
}

static void print_stage(struct json *j, int json, const struct stage *s)
{
    if (json) {
        json_obj_open(j, NULL);
        json_str(j, "stage", s->name);
        if (s->ok < 0) {
            json_null(j, "ok");
        } else {
            json_bool(j, "ok", s->ok);
        }
        json_str(j, "detail", s->detail);
        json_obj_close(j);
    } else {
        printf("%-5s %-13s %s\n",
               s->ok > 0   ? "ok"
               : s->ok < 0 ? "skip"
                           : "FAIL",
               s->name, s->detail);
    }
}

static int read_bounds(const struct cmd *c, const struct args *a,
                       struct bounds *b)
{
    int rv;
    b->max_lag = 1000;
    b->min_disk_free = 1ull << 30;
    b->max_memory_use = 90;
    b->min_cert_ms = 14ull * 86400000;
    if ((rv = flag_count(c, a, "--max-lag", 0, 0, UINT64_MAX, &b->max_lag)) !=
            0 ||
        (rv = flag_size(c, a, "--min-disk-free", 0, UINT64_MAX,
                        &b->min_disk_free)) != 0 ||
        (rv = flag_count(c, a, "--max-memory-use", 0, 1, 100,
                         &b->max_memory_use)) != 0 ||
        (rv = flag_duration(c, a, "--min-cert-validity", 0, &b->min_cert_ms)) !=
            0) {
        return rv;
    }
    return 0;
}

static int quorum_critical(struct mqctl *m, const struct view *v, uint64_t id)
{
    size_t voters, k;
    const mq_member *who = NULL;
    char detail[256];
    int critical;

    if (v->members == NULL && v->leader != NULL &&
        (v->members_rv == MQ_ERR_NOT_DONE ||
         v->members_rv == MQ_ERR_UNAVAILABLE ||
         v->members_rv == MQ_ERR_TIMEOUT ||
         v->members_rv == MQ_ERR_NOT_LEADER)) {
        /* A node still names a leader, which no longer leads a majority. */
        fprintf(stderr,
                "mqctl: check: quorum lost already: the leader named by a "
                "node does not list the members (%s)\n",
                v->members_err);
        return 1;
    }
    if (v->members == NULL && v->leader != NULL) {
        fprintf(stderr, "mqctl: check: %s\n", v->members_err);
        return 1;
    }
    if (v->members == NULL) {
        char why[160];
        status_no_leader_why(v->st, v->n, why, sizeof why);
        fprintf(stderr,
                "mqctl: check: quorum lost already: no leader lists the "
                "members (%s)\n",
                why);
        return 1;
    }
    for (size_t i = 0; i < v->n_members; i++) {
        if (v->members[i].id == id) {
            who = &v->members[i];
        }
    }
    if (who == NULL) {
        fprintf(stderr, "mqctl: check: node %llu is not a member\n",
                (unsigned long long)id);
        return 1;
    }
    count_voters(v, &voters, &k);
    size_t needed = voters / 2 + 1;
    int votes = strcmp(who->role, "voter") == 0;
    int up = answered(v, id) != NULL;
    size_t without = k - (votes && up ? 1 : 0);
    critical = without < needed;
    if (!votes) {
        snprintf(detail, sizeof detail,
                 "node %llu is a %s, not a voter: stopping it leaves %zu of "
                 "%zu voters answering, %zu needed",
                 (unsigned long long)id, who->role, without, voters, needed);
    } else if (!up) {
        snprintf(detail, sizeof detail,
                 "node %llu does not answer now: %zu of %zu voters answer "
                 "without it, %zu needed",
                 (unsigned long long)id, without, voters, needed);
    } else {
        snprintf(detail, sizeof detail,
                 "without node %llu, %zu of %zu voters would answer, %zu "
                 "needed",
                 (unsigned long long)id, without, voters, needed);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_u64(&j, "node", id);
        json_bool(&j, "critical", critical);
        json_u64(&j, "voters", voters);
        json_u64(&j, "answering", without);
        json_u64(&j, "needed", needed);
        json_str(&j, "detail", detail);
        json_obj_close(&j);
        json_end(&j);
    } else {
        printf("node %llu is %squorum-critical: %s\n", (unsigned long long)id,
               critical ? "" : "not ", detail);
    }
    if (critical) {
        fprintf(stderr, "mqctl: check: stopping node %llu would lose quorum\n",
                (unsigned long long)id);
    }
    return critical ? 1 : 0;
}

int run_check(struct mqctl *m, const struct cmd *c, const struct args *a)
{
    struct bounds b;
    struct view v;
    struct stage st[7];
    const char *node = args_get(a, "--quorum-critical");
    uint64_t node_id = 0;
    int rv, n_st = 0, failed = -1;
    mq_client *cl;

    if ((rv = read_bounds(c, a, &b)) != 0 ||
        (node != NULL && (rv = pos_count(c, "--quorum-critical", node, 1,
                                         UINT32_MAX, &node_id)) != 0)) {
        return rv;
    }
    if ((cl = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (look(cl, &v) != 0 && node != NULL) {
        return out_fail("check", NULL);
    }
    if (node != NULL) {
        rv = quorum_critical(m, &v, node_id);
        view_free(&v);
        return rv;
    }
    memset(st, 0, sizeof st);
    static const char *const names[] = {"reachable",   "leader", "quorum",
                                        "applied",     "disk",   "memory",
                                        "certificates"};
    for (n_st = 0; n_st < 7 && failed < 0; n_st++) {
        struct stage *s = &st[n_st];
        s->name = names[n_st];
        switch (n_st) {
        case 0:
            if (v.n == 0) {
                snprintf(s->detail, sizeof s->detail, "%s", mq_errmsg());
            } else {
                stage_reachable(&v, s);
            }
            break;
        case 1:
            stage_leader(&v, s);
            break;
        case 2:
            stage_quorum(&v, s);
            break;
        case 3:
            stage_applied(&v, &b, s);
            break;
        case 4:
            stage_disk(&v, &b, s);
            break;
        case 5:
            stage_memory(&v, &b, s);
            break;
        default:
            stage_certs(&v, &b, strstr(m->urls, "tls+") != NULL, s);
            break;
        }
        if (s->ok == 0) {
            failed = n_st;
        }
    }
    struct json j;
    memset(&j, 0, sizeof j);
    if (m->json) {
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_arr_open(&j, "stages");
    }
    for (int i = 0; i < n_st; i++) {
        print_stage(&j, m->json, &st[i]);
    }
    if (m->json) {
        json_arr_close(&j);
        if (failed >= 0) {
            json_str(&j, "failed", st[failed].name);
        } else {
            json_null(&j, "failed");
        }
        json_obj_close(&j);
        json_end(&j);
    }
    if (failed >= 0) {
        fprintf(stderr, "mqctl: check: stage %s failed: %s\n", st[failed].name,
                st[failed].detail);
    }
    view_free(&v);
    return failed >= 0 ? 1 : 0;
}
