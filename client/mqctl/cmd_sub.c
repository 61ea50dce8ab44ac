/* cmd_sub.c: mqctl sub create|list|info|delete. A subscription gets
 * every message of its queue, or with --filter (repeatable) those whose
 * event matches a filter; it starts at new messages, the first stored, a
 * seq, or the first published at or after a time. Flags: cmds.c.
 *
 * --json: create and info print the subscription as one object (the fields
 * of mq_sub_info); list prints {"subs": [...]}; delete prints
 * {"deleted": "QUEUE/NAME"}. */
#include "cmd_sub.h"

#include <stdio.h>
#include <string.h>

#include "flagval.h"
#include "help.h"
#include "output.h"

static void json_sub(struct json *j, const char *key, const mq_sub_info *s)
{
    json_obj_open(j, key);
    json_str(j, "queue", s->queue);
    json_str(j, "name", s->name);
    json_u64(j, "ack_timeout_ms", s->ack_timeout_ms);
    json_u64(j, "max_deliveries", s->max_deliveries);
    json_u64(j, "next_seq", s->next_seq);
    json_u64(j, "ack_floor", s->ack_floor);
    json_u64(j, "pending", s->pending);
    json_u64(j, "in_flight", s->in_flight);
    json_u64(j, "delivered", s->delivered);
    json_u64(j, "acked", s->acked);
    json_u64(j, "created_at_ms", s->created_at_ms);
    json_u64(j, "dead_lettered", s->dead_lettered);
    json_u64(j, "scheduled", s->scheduled);
    json_str(j, "filters", s->filters);
    json_u64(j, "lag", s->lag);
    json_u64(j, "lag_ms", s->lag_ms);
    json_obj_close(j);
}

static void print_sub(const mq_sub_info *s)
{
    char created[32], ack[32], lag[32];

    out_time(s->created_at_ms, created, sizeof created);
    out_duration(s->ack_timeout_ms, ack, sizeof ack);
    printf("%-16s %s\n", "queue:", s->queue);
    printf("%-16s %s\n", "name:", s->name);
    printf("%-16s %s\n", "filters:",
           s->filters[0] != '\0' ? s->filters : "none (every event)");
    printf("%-16s %s\n", "ack timeout:", ack);
    if (s->max_deliveries == 0) {
        printf("%-16s unlimited\n", "max deliveries:");
    } else {
        printf("%-16s %u\n", "max deliveries:", s->max_deliveries);
    }
    printf("%-16s %llu\n", "next seq:", (unsigned long long)s->next_seq);
    printf("%-16s %llu\n", "ack floor:", (unsigned long long)s->ack_floor);
    printf("%-16s %llu\n", "pending:", (unsigned long long)s->pending);
    printf("%-16s %llu\n", "in flight:", (unsigned long long)s->in_flight);
    printf("%-16s %llu\n", "delivered:", (unsigned long long)s->delivered);
    printf("%-16s %llu\n", "acked:", (unsigned long long)s->acked);
    printf("%-16s %llu\n", "scheduled:", (unsigned long long)s->scheduled);
    printf("%-16s %llu\n",
           "dead-lettered:", (unsigned long long)s->dead_lettered);
    out_duration(s->lag_ms, lag, sizeof lag);
    printf("%-16s %llu messages, the oldest due %s ago\n",
           "lag:", (unsigned long long)s->lag, lag);
    printf("%-16s %s\n", "created:", created);
}

static void show_sub(const struct mqctl *m, const mq_sub_info *s)
{
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_sub(&j, NULL, s);
        json_end(&j);
    } else {
        print_sub(s);
    }
}

int run_sub_create(struct mqctl *m, const struct cmd *c, const struct args *a)
{
    mq_sub_config cfg = MQ_SUB_CONFIG_INIT;
    const char *filters[ARGS_MAX];
    mq_sub_info info;
    char obj[MQ_QNAME_MAX + MQ_NAME_MAX + 2];
    const char *s;
    uint64_t v = 0;
    mq_client *cl;
    int rv;

    cfg.queue = a->pos[0];
    cfg.name = a->pos[1];
    if ((s = args_get(a, "--start")) != NULL) {
        if (strcmp(s, "new") == 0) {
            cfg.start = MQ_START_NEW;
        } else if (strcmp(s, "first") == 0) {
            cfg.start = MQ_START_FIRST;
        } else if (args_uint(s, UINT64_MAX, &v) == 0 && v > 0) {
            cfg.start = MQ_START_SEQ;
            cfg.start_seq = v;
        } else if (strncmp(s, "time:", 5) == 0 &&
                   args_time_ms(s + 5, mqctl_now_ms(), &v) == 0) {
            cfg.start = MQ_START_TIME;
            cfg.start_time_ms = v;
        } else {
            return usage_error(c,
                               "--start: \"%s\": say new, first, a seq from 1 "
                               "or time:T (T such as 2026-11-23T20:00:00Z or "
                               "-5m)",
                               s);
        }
    }
    for (size_t i = 0; i < a->n_flags; i++) {
        if (strcmp(a->flags[i].name, "--filter") == 0 ||
            strncmp(a->flags[i].name, "--filter=", 9) == 0) {
            filters[cfg.n_filters++] = a->flags[i].value;
        }
    }
    cfg.filters = filters;
    v = 0;
    if ((rv = flag_duration(c, a, "--ack-timeout", 0, &cfg.ack_timeout_ms)) !=
            0 ||
        (rv = flag_count(c, a, "--max-deliveries", FV_UNLIMITED, 0, UINT32_MAX,
                         &v)) != 0) {
        return rv;
    }
    cfg.max_deliveries = (uint32_t)v;
    if ((cl = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    snprintf(obj, sizeof obj, "%s/%s", cfg.queue, cfg.name);
    if (mq_sub_create(cl, &cfg, &info, 0) != MQ_OK) {
        return out_fail("sub create", obj);
    }
    show_sub(m, &info);
    return 0;
}

int run_sub_list(struct mqctl *m, const struct cmd *c, const struct args *a)
{
    static const char *const head[] = {
        "QUEUE",     "NAME",  "NEXT",      "PENDING", "IN-FLIGHT",
        "DELIVERED", "ACKED", "SCHEDULED", "DEAD",    "FILTERS"};
    const char *queue = a->n_pos == 1 ? a->pos[0] : NULL;
    mq_sub_info *list;
    size_t n;
    mq_client *cl;

    (void)c;
    if ((cl = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_sub_list(cl, queue, &list, &n, 0) != MQ_OK) {
        return out_fail("sub list", queue);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_arr_open(&j, "subs");
        for (size_t i = 0; i < n; i++) {
            json_sub(&j, NULL, &list[i]);
        }
        json_arr_close(&j);
        json_obj_close(&j);
        json_end(&j);
    } else {
        struct table t;
        table_init(&t, 10, head);
        for (size_t i = 0; i < n; i++) {
            table_cell(&t, "%s", list[i].queue);
            table_cell(&t, "%s", list[i].name);
            table_cell(&t, "%llu", (unsigned long long)list[i].next_seq);
            table_cell(&t, "%llu", (unsigned long long)list[i].pending);
            table_cell(&t, "%llu", (unsigned long long)list[i].in_flight);
            table_cell(&t, "%llu", (unsigned long long)list[i].delivered);
            table_cell(&t, "%llu", (unsigned long long)list[i].acked);
            table_cell(&t, "%llu", (unsigned long long)list[i].scheduled);
            table_cell(&t, "%llu", (unsigned long long)list[i].dead_lettered);
            table_cell(&t, "%s",
                       list[i].filters[0] != '\0' ? list[i].filters : "-");
        }
        table_print(&t, stdout);
    }
    mq_sub_list_free(list);
    return 0;
}

int run_sub_info(struct mqctl *m, const struct cmd *c, const struct args *a)
{
    char obj[MQ_QNAME_MAX + MQ_NAME_MAX + 2];
    mq_sub_info info;
    mq_client *cl;

    (void)c;
    if ((cl = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    snprintf(obj, sizeof obj, "%.*s/%.*s", MQ_QNAME_MAX, a->pos[0], MQ_NAME_MAX,
             a->pos[1]);
    if (mq_sub_info_get(cl, a->pos[0], a->pos[1], &info, 0) != MQ_OK) {
        return out_fail("sub info", obj);
    }
    show_sub(m, &info);
    return 0;
}

int run_sub_delete(struct mqctl *m, const struct cmd *c, const struct args *a)
{
    char obj[MQ_QNAME_MAX + MQ_NAME_MAX + 2];
    mq_client *cl;

    (void)c;
    if ((cl = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    snprintf(obj, sizeof obj, "%.*s/%.*s", MQ_QNAME_MAX, a->pos[0], MQ_NAME_MAX,
             a->pos[1]);
    if (mq_sub_delete(cl, a->pos[0], a->pos[1], 0) != MQ_OK) {
        return out_fail("sub delete", obj);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_str(&j, "deleted", obj);
        json_obj_close(&j);
        json_end(&j);
    } else {
        printf("deleted subscription %s\n", obj);
    }
    return 0;
}
