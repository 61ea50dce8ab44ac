/* cmd_status.c: mqctl status: what each node says, every member of the
 * cluster (the nodes of -s, then the other members their answers name:
 * mq_cluster_status_all), with its id, role, term, commit
 * and applied index, the sizes of its raft log and snapshots, free disk
 * space, memory held by messages against the memory budget, memory of
 * remembered ids and statuses against their bound, and the other node
 * whose clock is farthest from its own), which node leads, why a node did
 * not answer, and whether authentication is on ("auth: on (key NAME)",
 * "auth: off"; a node that refuses a request without a valid key says it
 * is on). With no leader it says why ("no quorum: N of M nodes reachable"
 * when at most half answered; "authentication is on" when every node
 * refused the key) and exits 1.
 *
 * --json prints one object: {"nodes": [{"url", "ok", and when ok "id",
 * "role", "term", "commit_index", "applied_index", "last_index",
 * "snapshot_index", "leader_id", "leader_url", "voters", "log_bytes",
 * "snapshot_bytes", "disk_free_bytes", "memory_bytes",
 * "memory_budget_bytes", "ids_bytes", "ids_budget_bytes", "ids_evicted",
 * "clock_skew_node", "clock_skew_ms" (that node's clock minus this one's),
 * "connections", "waiting_fetches", "requests_active", "replies_not_sent",
 * "auth", "key", "tls_cert_not_after_ms", "peer_tls_cert_not_after_ms"
 * (ms since the epoch, 0: no TLS); else "error", "code", and "id" when
 * the members list gives it}], "leader": {"id", "url"} or null,
 * "auth": "on", "off" or "unknown"}. */
#include "cmd_status.h"

#include <stdio.h>
#include <string.h>

#include "output.h"

/* Whether the leader @id that a node names (at client URL @url) is dead to
 * us: listed and not answering, or answering and not leading. */
static int named_leader_gone(const mq_node_status *s, size_t n, uint64_t id,
                             const char *url)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i].err != MQ_OK && url[0] != '\0' && strcmp(s[i].url, url) == 0) {
            return 1;
        }
        if (s[i].err == MQ_OK && s[i].id == id &&
            strcmp(s[i].role, "leader") != 0) {
            return 1;
        }
    }
    return 0;
}

const mq_node_status *status_find_leader(const mq_node_status *s, size_t n,
                                         uint64_t *id)
{
    const mq_node_status *best = NULL;
    size_t best_votes = 0;

    *id = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].err == MQ_OK && strcmp(s[i].role, "leader") == 0 &&
            (best == NULL || s[i].term > best->term)) {
            best = &s[i];
        }
    }
    if (best != NULL) {
        *id = best->id;
        return best;
    }
    for (size_t i = 0; i < n; i++) {
        size_t votes = 0;
        if (s[i].err != MQ_OK || s[i].leader_id == 0) {
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            votes += s[k].err == MQ_OK && s[k].leader_id == s[i].leader_id;
        }
        if (votes > best_votes) {
            best_votes = votes;
            best = &s[i];
        }
    }
    if (best != NULL &&
        named_leader_gone(s, n, best->leader_id, best->leader_url)) {
        best = NULL;
    }
    if (best != NULL) {
        *id = best->leader_id;
    }
    return best;
}

void status_no_leader_why(const mq_node_status *s, size_t n, char *buf,
                          size_t len)
{
    size_t answered = 0;

    for (size_t i = 0; i < n; i++) {
        answered += s[i].err == MQ_OK;
    }
    if (n >= 2 && 2 * answered <= n) {
        snprintf(buf, len, "no quorum: %zu of %zu nodes reachable", answered,
                 n);
    } else {
        snprintf(buf, len,
                 "none known: %zu of %zu nodes reachable, none leads (an "
                 "election may be under way)",
                 answered, n);
    }
}

static const char *err_name(mq_err e)
{
    switch (e) {
    case MQ_OK:
        return "OK";
#define X(name, num, retry, msg)                                               \
    case MQ_ERR_##name:                                                        \
        return #name;
        MQ_ERRORS(X)
#undef X
    }
    return "UNKNOWN";
}

/* "on" when a node requires keys (it says so, or refused ours), "off" when
 * nodes answered and none does, else "unknown". */
static const char *auth_state(const mq_node_status *s, size_t n,
                              const char **key)
{
    int answered = 0, on = 0;

    *key = "";
    for (size_t i = 0; i < n; i++) {
        if (s[i].err == MQ_OK) {
            answered = 1;
            if (s[i].auth) {
                on = 1;
                *key = s[i].key;
            }
        } else if (s[i].err == MQ_ERR_UNAUTHENTICATED ||
                   s[i].err == MQ_ERR_PERMISSION_DENIED) {
            on = 1;
        }
    }
    return on ? "on" : answered ? "off" : "unknown";
}

/* Whether every node refused our key. */
static int all_refused(const mq_node_status *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i].err != MQ_ERR_UNAUTHENTICATED) {
            return 0;
        }
    }
    return n > 0;
}

static void print_json(const mq_node_status *s, size_t n,
                       const mq_node_status *leader, uint64_t leader_id)
{
    struct json j;

    json_begin(&j, stdout);
    json_obj_open(&j, NULL);
    json_arr_open(&j, "nodes");
    for (size_t i = 0; i < n; i++) {
        json_obj_open(&j, NULL);
        json_str(&j, "url", s[i].url);
        json_bool(&j, "ok", s[i].err == MQ_OK);
        if (s[i].err == MQ_OK) {
            json_u64(&j, "id", s[i].id);
            json_str(&j, "role", s[i].role);
            json_u64(&j, "term", s[i].term);
            json_u64(&j, "commit_index", s[i].commit_index);
            json_u64(&j, "applied_index", s[i].applied_index);
            json_u64(&j, "last_index", s[i].last_index);
            json_u64(&j, "snapshot_index", s[i].snapshot_index);
            json_u64(&j, "leader_id", s[i].leader_id);
            json_str(&j, "leader_url", s[i].leader_url);
            json_u64(&j, "voters", s[i].voters);
            json_u64(&j, "log_bytes", s[i].log_bytes);
            json_u64(&j, "snapshot_bytes", s[i].snapshot_bytes);
            json_u64(&j, "disk_free_bytes", s[i].disk_free_bytes);
            json_u64(&j, "memory_bytes", s[i].memory_bytes);
            json_u64(&j, "memory_budget_bytes", s[i].memory_budget_bytes);
            json_u64(&j, "ids_bytes", s[i].ids_bytes);
            json_u64(&j, "ids_budget_bytes", s[i].ids_budget_bytes);
            json_u64(&j, "ids_evicted", s[i].ids_evicted);
            json_u64(&j, "clock_skew_node", s[i].clock_skew_node);
            json_i64(&j, "clock_skew_ms", s[i].clock_skew_ms);
            json_u64(&j, "connections", s[i].connections);
            json_u64(&j, "waiting_fetches", s[i].waiting_fetches);
            json_u64(&j, "requests_active", s[i].requests_active);
            json_u64(&j, "replies_not_sent", s[i].replies_not_sent);
            json_bool(&j, "auth", s[i].auth);
            json_str(&j, "key", s[i].key);
            json_u64(&j, "tls_cert_not_after_ms", s[i].tls_cert_not_after_ms);
            json_u64(&j, "peer_tls_cert_not_after_ms",
                     s[i].peer_tls_cert_not_after_ms);
        } else {
            if (s[i].id != 0) {
                json_u64(&j, "id", s[i].id);
            }
            json_str(&j, "error", s[i].error);
            json_str(&j, "code", err_name(s[i].err));
        }
        json_obj_close(&j);
    }
    json_arr_close(&j);
    if (leader != NULL) {
        json_obj_open(&j, "leader");
        json_u64(&j, "id", leader_id);
        json_str(&j, "url",
                 strcmp(leader->role, "leader") == 0 ? leader->url
                                                     : leader->leader_url);
        json_obj_close(&j);
    } else {
        json_null(&j, "leader");
    }
    const char *key;
    json_str(&j, "auth", auth_state(s, n, &key));
    json_obj_close(&j);
    json_end(&j);
}

/* A cell "used / limit" ("used" alone when the limit is not known). */
static void used_of(struct table *t, uint64_t used, uint64_t limit)
{
    char a[16], b[16];
    out_size(used, a, sizeof a);
    if (limit == 0) {
        table_cell(t, "%s", a);
        return;
    }
    out_size(limit, b, sizeof b);
    table_cell(t, "%s / %s", a, b);
}

static void print_table(const mq_node_status *s, size_t n,
                        const mq_node_status *leader, uint64_t leader_id)
{
    static const char *const head[] = {
        "ID",  "URL",       "ROLE",      "TERM",   "COMMIT", "APPLIED",
        "LOG", "SNAPSHOTS", "DISK FREE", "MEMORY", "IDS",    "CLOCK"};
    const size_t n_cols = sizeof head / sizeof head[0];
    struct table t;

    table_init(&t, n_cols, head);
    for (size_t i = 0; i < n; i++) {
        if (s[i].err == MQ_OK) {
            const uint64_t sizes[] = {s[i].log_bytes, s[i].snapshot_bytes,
                                      s[i].disk_free_bytes};
            table_cell(&t, "%llu", (unsigned long long)s[i].id);
            table_cell(&t, "%s", s[i].url);
            table_cell(&t, "%s", s[i].role);
            table_cell(&t, "%llu", (unsigned long long)s[i].term);
            table_cell(&t, "%llu", (unsigned long long)s[i].commit_index);
            table_cell(&t, "%llu", (unsigned long long)s[i].applied_index);
            for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
                char size[16];
                out_size(sizes[k], size, sizeof size);
                table_cell(&t, "%s", size);
            }
            used_of(&t, s[i].memory_bytes, s[i].memory_budget_bytes);
            used_of(&t, s[i].ids_bytes, s[i].ids_budget_bytes);
            if (s[i].clock_skew_node != 0) {
                table_cell(&t, "node %llu %+lld ms",
                           (unsigned long long)s[i].clock_skew_node,
                           (long long)s[i].clock_skew_ms);
            } else {
                table_cell(&t, "-");
            }
        } else {
            if (s[i].id != 0) {
                table_cell(&t, "%llu", (unsigned long long)s[i].id);
            } else {
                table_cell(&t, "-");
            }
            table_cell(&t, "%s", s[i].url[0] != '\0' ? s[i].url : "-");
            table_cell(&t, "%s",
                       s[i].err == MQ_ERR_UNAUTHENTICATED ||
                               s[i].err == MQ_ERR_PERMISSION_DENIED
                           ? "refused"
                           : "unreachable");
            for (size_t k = 3; k < n_cols; k++) {
                table_cell(&t, "-");
            }
        }
    }
    table_print(&t, stdout);
    for (size_t i = 0; i < n; i++) {
        if (s[i].err != MQ_OK) {
            printf("error: %s\n", s[i].error);
        }
    }
    if (leader == NULL) {
        char why[128];
        status_no_leader_why(s, n, why, sizeof why);
        printf("leader: none: %s\n", why);
    } else {
        printf("leader: node %llu (%s)\n", (unsigned long long)leader_id,
               strcmp(leader->role, "leader") == 0 ? leader->url
               : leader->leader_url[0] != '\0'     ? leader->leader_url
                                                   : "URL unknown");
    }
    const char *key;
    const char *auth = auth_state(s, n, &key);
    if (key[0] != '\0') {
        printf("auth: %s (key %s)\n", auth, key);
    } else {
        printf("auth: %s\n", auth);
    }
}

int run_status(struct mqctl *m, const struct cmd *cmd, const struct args *a)
{
    const mq_node_status *leader;
    mq_node_status *list;
    uint64_t leader_id;
    size_t n;
    mq_client *c;

    (void)cmd;
    (void)a;
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_cluster_status_all(c, &list, &n, 0) != MQ_OK) {
        return out_fail("status", NULL);
    }
    leader = status_find_leader(list, n, &leader_id);
    if (m->json) {
        print_json(list, n, leader, leader_id);
    } else {
        print_table(list, n, leader, leader_id);
    }
    if (leader == NULL && all_refused(list, n)) {
        fprintf(stderr, "mqctl: status: authentication is on and no node "
                        "took the key: give a valid one (--token, "
                        "--token-file or MQ_TOKEN)\n");
    } else if (leader == NULL) {
        char why[128];
        status_no_leader_why(list, n, why, sizeof why);
        fprintf(stderr, "mqctl: status: no leader: %s\n", why);
    }
    mq_status_free(list);
    return leader != NULL ? 0 : 1;
}
