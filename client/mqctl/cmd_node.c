/* cmd_node.c: mqctl node add|remove|list and mqctl leader transfer:
 * membership and leadership, answered by the leader.
 *
 *   node add ID PEER-URL: adds node ID, which must be running with that
 *   peer URL; waits until it has caught up and votes (up to --timeout, by
 *   default at least 60 s; run it again to go on waiting).
 *   node remove ID: removes node ID from the cluster.
 *   node list: the members (id, role, leader, peer URL, client URL).
 *   leader transfer [ID]: moves leadership to voter ID (none: to the most
 *   up-to-date other voter) and prints the new leader.
 *
 * --json: node add prints {"added": ID, "peer_url": URL}; node remove
 * {"removed": ID}; node list {"members": [{"id", "role", "peer_url",
 * "client_url", "leader"}], "leader_id"} (leader_id 0: none known); leader
 * transfer {"leader": ID}. */
#include "cmd_node.h"

#include <stdio.h>
#include <string.h>

#include "flagval.h"
#include "output.h"

/* Reads node id @s (1..UINT32_MAX) into *id. Returns 0, or the usage
 * error's exit code. */
static int node_id(const struct cmd *c, const char *s, uint64_t *id)
{
    return pos_count(c, "node id", s, 1, UINT32_MAX, id);
}

int run_node_add(struct mqctl *m, const struct cmd *cmd, const struct args *a)
{
    uint64_t id;
    mq_client *c;
    int rv;

    if ((rv = node_id(cmd, a->pos[0], &id)) != 0) {
        return rv;
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    /* --timeout, else libmq's long default for adding. */
    if (mq_node_add(c, id, a->pos[1], m->timeout_ms) != MQ_OK) {
        return out_fail("node add", a->pos[0]);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_u64(&j, "added", id);
        json_str(&j, "peer_url", a->pos[1]);
        json_obj_close(&j);
        json_end(&j);
    } else {
        printf("added node %llu at %s: it is a voter\n", (unsigned long long)id,
               a->pos[1]);
    }
    return 0;
}

int run_node_remove(struct mqctl *m, const struct cmd *cmd,
                    const struct args *a)
{
    uint64_t id;
    mq_client *c;
    int rv;

    if ((rv = node_id(cmd, a->pos[0], &id)) != 0) {
        return rv;
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_node_remove(c, id, 0) != MQ_OK) {
        return out_fail("node remove", a->pos[0]);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_u64(&j, "removed", id);
        json_obj_close(&j);
        json_end(&j);
    } else {
        printf("removed node %llu\n", (unsigned long long)id);
    }
    return 0;
}

static void list_json(const mq_member *list, size_t n)
{
    uint64_t leader_id = 0;
    struct json j;

    json_begin(&j, stdout);
    json_obj_open(&j, NULL);
    json_arr_open(&j, "members");
    for (size_t i = 0; i < n; i++) {
        json_obj_open(&j, NULL);
        json_u64(&j, "id", list[i].id);
        json_str(&j, "role", list[i].role);
        json_str(&j, "peer_url", list[i].peer_url);
        json_str(&j, "client_url", list[i].client_url);
        json_bool(&j, "leader", list[i].leader);
        json_obj_close(&j);
        if (list[i].leader) {
            leader_id = list[i].id;
        }
    }
    json_arr_close(&j);
    json_u64(&j, "leader_id", leader_id);
    json_obj_close(&j);
    json_end(&j);
}

static void list_table(const mq_member *list, size_t n)
{
    static const char *const head[] = {"ID", "ROLE", "LEADER", "PEER URL",
                                       "CLIENT URL"};
    struct table t;

    table_init(&t, sizeof head / sizeof head[0], head);
    for (size_t i = 0; i < n; i++) {
        table_cell(&t, "%llu", (unsigned long long)list[i].id);
        table_cell(&t, "%s", list[i].role);
        table_cell(&t, "%s", list[i].leader ? "*" : "");
        table_cell(&t, "%s", list[i].peer_url);
        table_cell(&t, "%s",
                   list[i].client_url[0] != '\0' ? list[i].client_url : "-");
    }
    table_print(&t, stdout);
}

int run_node_list(struct mqctl *m, const struct cmd *cmd, const struct args *a)
{
    mq_member *list;
    size_t n;
    mq_client *c;

    (void)cmd;
    (void)a;
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_members(c, &list, &n, 0) != MQ_OK) {
        return out_fail("node list", NULL);
    }
    if (m->json) {
        list_json(list, n);
    } else {
        list_table(list, n);
    }
    mq_members_free(list);
    return 0;
}

/* Each node of -s reads its TLS files again; one line per node. Exit 1
 * when a node did not. */
int run_node_reload_tls(struct mqctl *m, const struct cmd *cmd,
                        const struct args *a)
{
    mq_node_reply *list = NULL;
    size_t n = 0;
    mq_client *c;
    mq_err err;

    (void)cmd;
    (void)a;
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    err = mq_node_reload_tls(c, &list, &n, 0);
    if (list == NULL) {
        return out_fail("node reload-tls", NULL);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_arr_open(&j, NULL);
        for (size_t i = 0; i < n; i++) {
            json_obj_open(&j, NULL);
            json_str(&j, "url", list[i].url);
            json_bool(&j, "ok", list[i].err == MQ_OK);
            json_str(&j, list[i].err == MQ_OK ? "detail" : "error",
                     list[i].detail);
            json_obj_close(&j);
        }
        json_arr_close(&j);
        json_end(&j);
    } else {
        for (size_t i = 0; i < n; i++) {
            printf("%s: %s%s\n", list[i].url,
                   list[i].err == MQ_OK ? "" : "FAILED: ", list[i].detail);
        }
    }
    mq_node_replies_free(list);
    if (err != MQ_OK) {
        return out_fail("node reload-tls", NULL);
    }
    return 0;
}

int run_leader_transfer(struct mqctl *m, const struct cmd *cmd,
                        const struct args *a)
{
    uint64_t id = 0, leader;
    mq_client *c;
    int rv;

    if (a->n_pos == 1 && (rv = node_id(cmd, a->pos[0], &id)) != 0) {
        return rv;
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_leader_transfer(c, id, &leader, 0) != MQ_OK) {
        return out_fail("leader transfer", a->n_pos == 1 ? a->pos[0] : NULL);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_u64(&j, "leader", leader);
        json_obj_close(&j);
        json_end(&j);
    } else {
        printf("leader: node %llu\n", (unsigned long long)leader);
    }
    return 0;
}
