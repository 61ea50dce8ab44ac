/* cmd_sub.c: mqctl sub create|list|info|delete. A subscription gets
 * every message of its queue, or with --filter (repeatable) those whose
 * event matches a filter; it starts at new messages, the first stored, a
 * seq, or the first published at or after a time.
 *
 * --json: create and info print the subscription as one object (the fields
 * of mq_sub_info); list prints {"subs": [...]}; delete prints
 * {"deleted": "QUEUE/NAME"}. */
#include "cmd_sub.h"

#include <stdio.h>
#include <string.h>

#include "args.h"
#include "output.h"

static const char usage_create[] =
    "mqctl sub create QUEUE NAME [--start new|first|SEQ|time:T] [--filter "
    "F]...\n"
    "         [--ack-timeout DUR] [--max-deliveries N]";
static const char usage_group[] =
    "mqctl sub create|list|info|delete ... (mqctl --help for details)";

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
    json_obj_close(j);
}

static void print_sub(const mq_sub_info *s)
{
    char created[32], ack[32];

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

static int sub_create(struct mqctl *m, int argc, char **argv)
{
    static const char *const valued[] = {"--start", "--ack-timeout",
                                         "--max-deliveries", "--filter", NULL};
    mq_sub_config cfg = MQ_SUB_CONFIG_INIT;
    const char *filters[ARGS_MAX];
    mq_sub_info info;
    struct args a;
    char err[128], obj[MQ_QNAME_MAX + MQ_NAME_MAX + 2];
    const char *s;
    uint64_t v;
    mq_client *c;

    if (args_split(argc, argv, valued, NULL, &a, err, sizeof err) != 0) {
        return out_usage(usage_create, "sub create: %s", err);
    }
    if (a.n_pos != 2) {
        return out_usage(usage_create, "sub create takes QUEUE and NAME");
    }
    cfg.queue = a.pos[0];
    cfg.name = a.pos[1];
    if ((s = args_get(&a, "--start")) != NULL) {
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
            return out_usage(usage_create,
                             "--start %s: say new, first, a seq from 1 or "
                             "time:T (T such as 2026-11-23T20:00:00Z or -5m)",
                             s);
        }
    }
    for (size_t i = 0; i < a.n_flags; i++) {
        if (strcmp(a.flags[i].name, "--filter") == 0 ||
            strncmp(a.flags[i].name, "--filter=", 9) == 0) {
            filters[cfg.n_filters++] = a.flags[i].value;
        }
    }
    cfg.filters = filters;
    if ((s = args_get(&a, "--ack-timeout")) != NULL &&
        args_duration_ms(s, &cfg.ack_timeout_ms) != 0) {
        return out_usage(usage_create,
                         "--ack-timeout %s is not a duration such as 30s", s);
    }
    if ((s = args_get(&a, "--max-deliveries")) != NULL) {
        if (args_uint(s, UINT32_MAX, &v) != 0) {
            return out_usage(usage_create,
                             "--max-deliveries %s is not a number", s);
        }
        cfg.max_deliveries = (uint32_t)v;
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    snprintf(obj, sizeof obj, "%s/%s", cfg.queue, cfg.name);
    if (mq_sub_create(c, &cfg, &info, 0) != MQ_OK) {
        return out_fail("sub create", obj);
    }
    show_sub(m, &info);
    return 0;
}

static int sub_list(struct mqctl *m, int argc, char **argv)
{
    static const char *const head[] = {
        "QUEUE",     "NAME",  "NEXT",      "PENDING", "IN-FLIGHT",
        "DELIVERED", "ACKED", "SCHEDULED", "DEAD",    "FILTERS"};
    const char *queue = argc == 1 ? argv[0] : NULL;
    mq_sub_info *list;
    size_t n;
    mq_client *c;

    if (argc > 1 || (argc == 1 && argv[0][0] == '-')) {
        return out_usage("mqctl sub list [QUEUE]",
                         "sub list takes at most a QUEUE");
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_sub_list(c, queue, &list, &n, 0) != MQ_OK) {
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

static int sub_info(struct mqctl *m, int argc, char **argv)
{
    char obj[MQ_QNAME_MAX + MQ_NAME_MAX + 2];
    mq_sub_info info;
    mq_client *c;

    if (argc != 2 || argv[0][0] == '-' || argv[1][0] == '-') {
        return out_usage("mqctl sub info QUEUE NAME",
                         "sub info takes QUEUE and NAME");
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    snprintf(obj, sizeof obj, "%.*s/%.*s", MQ_QNAME_MAX, argv[0], MQ_NAME_MAX,
             argv[1]);
    if (mq_sub_info_get(c, argv[0], argv[1], &info, 0) != MQ_OK) {
        return out_fail("sub info", obj);
    }
    show_sub(m, &info);
    return 0;
}

static int sub_delete(struct mqctl *m, int argc, char **argv)
{
    char obj[MQ_QNAME_MAX + MQ_NAME_MAX + 2];
    mq_client *c;

    if (argc != 2 || argv[0][0] == '-' || argv[1][0] == '-') {
        return out_usage("mqctl sub delete QUEUE NAME",
                         "sub delete takes QUEUE and NAME");
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    snprintf(obj, sizeof obj, "%.*s/%.*s", MQ_QNAME_MAX, argv[0], MQ_NAME_MAX,
             argv[1]);
    if (mq_sub_delete(c, argv[0], argv[1], 0) != MQ_OK) {
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

int cmd_sub(struct mqctl *m, int argc, char **argv)
{
    if (argc == 0) {
        return out_usage(usage_group, "sub needs a subcommand");
    }
    if (strcmp(argv[0], "create") == 0) {
        return sub_create(m, argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "list") == 0) {
        return sub_list(m, argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "info") == 0) {
        return sub_info(m, argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "delete") == 0) {
        return sub_delete(m, argc - 1, argv + 1);
    }
    return out_usage(usage_group, "sub %s: unknown subcommand", argv[0]);
}
