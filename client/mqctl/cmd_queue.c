/* cmd_queue.c: mqctl queue create|list|info|purge|delete, and redrive
 * (cmd_redrive.c).
 *
 * --json: create and info print the queue as one object (the fields of
 * mq_queue_info, durations in ms); list prints {"queues": [...]}; purge
 * and delete print {"purged": "NAME"} and {"deleted": "NAME"}. */
#include "cmd_queue.h"

#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cmd_redrive.h"
#include "output.h"

static const char usage_create[] =
    "mqctl queue create NAME [--retention limits|work] [--discard "
    "old|reject]\n"
    "         [--max-messages N] [--max-bytes N] [--max-age DUR]\n"
    "         [--max-message-bytes N] [--duplicate-window DUR]\n"
    "         [--ack-timeout DUR] [--max-deliveries N] [--delay DUR]\n"
    "         [--max-delay DUR] [--dead-letter-queue NAME] [--status-ttl "
    "DUR]\n"
    "         [--status-max N]";
static const char usage_group[] =
    "mqctl queue create|list|info|purge|delete|redrive ... (mqctl --help for "
    "details)";

static const char *retention_name(mq_retention r)
{
    return r == MQ_RETENTION_WORK ? "work" : "limits";
}

static const char *discard_name(mq_discard d)
{
    return d == MQ_DISCARD_REJECT ? "reject" : "old";
}

static void json_queue(struct json *j, const char *key, const mq_queue_info *q)
{
    json_obj_open(j, key);
    json_str(j, "name", q->name);
    json_str(j, "retention", retention_name(q->retention));
    json_str(j, "discard", discard_name(q->discard));
    json_u64(j, "max_messages", q->max_messages);
    json_u64(j, "max_bytes", q->max_bytes);
    json_u64(j, "max_age_ms", q->max_age_ms);
    json_u64(j, "max_message_bytes", q->max_message_bytes);
    json_u64(j, "duplicate_window_ms", q->duplicate_window_ms);
    json_u64(j, "ack_timeout_ms", q->ack_timeout_ms);
    json_u64(j, "max_deliveries", q->max_deliveries);
    json_u64(j, "messages", q->messages);
    json_u64(j, "bytes", q->bytes);
    json_u64(j, "first_seq", q->first_seq);
    json_u64(j, "last_seq", q->last_seq);
    json_u64(j, "subscriptions", q->subscriptions);
    json_u64(j, "created_at_ms", q->created_at_ms);
    json_u64(j, "delay_ms", q->delay_ms);
    json_u64(j, "max_delay_ms", q->max_delay_ms);
    json_str(j, "dead_letter_queue", q->dead_letter_queue);
    json_u64(j, "status_ttl_ms", q->status_ttl_ms);
    json_u64(j, "status_max", q->status_max);
    json_u64(j, "scheduled", q->scheduled);
    json_u64(j, "remembered_ids", q->remembered_ids);
    json_u64(j, "duplicate_ids", q->duplicate_ids);
    json_u64(j, "ack_records", q->ack_records);
    json_u64(j, "ids_bytes", q->ids_bytes);
    json_obj_close(j);
}

static void print_limit(const char *label, uint64_t v)
{
    if (v == 0) {
        printf("%-20s unlimited\n", label);
    } else {
        printf("%-20s %llu\n", label, (unsigned long long)v);
    }
}

static void print_ms(const char *label, uint64_t ms, const char *zero)
{
    char buf[32];

    if (ms == 0 && zero != NULL) {
        printf("%-20s %s\n", label, zero);
        return;
    }
    out_duration(ms, buf, sizeof buf);
    printf("%-20s %s\n", label, buf);
}

static void print_queue(const mq_queue_info *q)
{
    char created[32];

    out_time(q->created_at_ms, created, sizeof created);
    printf("%-20s %s\n", "name:", q->name);
    printf("%-20s %s\n", "retention:", retention_name(q->retention));
    printf("%-20s %s\n", "discard:", discard_name(q->discard));
    print_limit("max messages:", q->max_messages);
    print_limit("max bytes:", q->max_bytes);
    print_ms("max age:", q->max_age_ms, "unlimited");
    printf("%-20s %u\n", "max message bytes:", q->max_message_bytes);
    print_ms("duplicate window:", q->duplicate_window_ms, NULL);
    print_ms("ack timeout:", q->ack_timeout_ms, NULL);
    if (q->max_deliveries == 0) {
        printf("%-20s unlimited\n", "max deliveries:");
    } else {
        printf("%-20s %u\n", "max deliveries:", q->max_deliveries);
    }
    print_ms("delay:", q->delay_ms, "none");
    print_ms("max delay:", q->max_delay_ms, NULL);
    printf("%-20s %s\n", "dead-letter queue:",
           q->dead_letter_queue[0] != '\0' ? q->dead_letter_queue : "-");
    print_ms("status ttl:", q->status_ttl_ms, NULL);
    printf("%-20s %llu\n", "status max:", (unsigned long long)q->status_max);
    printf("%-20s %llu\n", "messages:", (unsigned long long)q->messages);
    printf("%-20s %llu\n", "bytes:", (unsigned long long)q->bytes);
    printf("%-20s %llu\n", "first seq:", (unsigned long long)q->first_seq);
    printf("%-20s %llu\n", "last seq:", (unsigned long long)q->last_seq);
    printf("%-20s %llu\n", "scheduled:", (unsigned long long)q->scheduled);
    printf("%-20s %llu (%llu for duplicates, %llu statuses)\n",
           "remembered ids:", (unsigned long long)q->remembered_ids,
           (unsigned long long)q->duplicate_ids,
           (unsigned long long)(q->remembered_ids - q->duplicate_ids));
    printf("%-20s %llu\n", "ack records:", (unsigned long long)q->ack_records);
    {
        char size[16];
        out_size(q->ids_bytes, size, sizeof size);
        printf("%-20s %s (of the node's ids_budget_bytes)\n",
               "ids memory:", size);
    }
    printf("%-20s %u\n", "subscriptions:", q->subscriptions);
    printf("%-20s %s\n", "created:", created);
}

static void show_queue(const struct mqctl *m, const mq_queue_info *q)
{
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_queue(&j, NULL, q);
        json_end(&j);
    } else {
        print_queue(q);
    }
}

/* Reads flag @name as a number up to @max into *v; 0 if absent. */
static int flag_uint(const struct args *a, const char *name, uint64_t max,
                     uint64_t *v, const char *usage)
{
    const char *s = args_get(a, name);

    if (s == NULL) {
        return 0;
    }
    if (args_uint(s, max, v) != 0) {
        return out_usage(usage, "%s %s is not a number up to %llu", name, s,
                         (unsigned long long)max);
    }
    return 0;
}

static int flag_duration(const struct args *a, const char *name, uint64_t *v,
                         const char *usage)
{
    const char *s = args_get(a, name);

    if (s == NULL) {
        return 0;
    }
    if (args_duration_ms(s, v) != 0) {
        return out_usage(usage, "%s %s is not a duration such as 30s", name, s);
    }
    return 0;
}

static int queue_create(struct mqctl *m, int argc, char **argv)
{
    static const char *const valued[] = {"--retention",
                                         "--discard",
                                         "--max-messages",
                                         "--max-bytes",
                                         "--max-age",
                                         "--max-message-bytes",
                                         "--duplicate-window",
                                         "--ack-timeout",
                                         "--max-deliveries",
                                         "--delay",
                                         "--max-delay",
                                         "--dead-letter-queue",
                                         "--status-ttl",
                                         "--status-max",
                                         NULL};
    mq_queue_config cfg = MQ_QUEUE_CONFIG_INIT;
    mq_queue_info info;
    struct args a;
    char err[128];
    const char *s;
    uint64_t v = 0;
    int rv = 0;
    mq_client *c;

    if (args_split(argc, argv, valued, NULL, &a, err, sizeof err) != 0) {
        return out_usage(usage_create, "queue create: %s", err);
    }
    if (a.n_pos != 1) {
        return out_usage(usage_create, "queue create takes one NAME");
    }
    cfg.name = a.pos[0];
    if ((s = args_get(&a, "--retention")) != NULL) {
        if (strcmp(s, "limits") == 0) {
            cfg.retention = MQ_RETENTION_LIMITS;
        } else if (strcmp(s, "work") == 0) {
            cfg.retention = MQ_RETENTION_WORK;
        } else {
            return out_usage(usage_create, "--retention %s: say limits or work",
                             s);
        }
    }
    if ((s = args_get(&a, "--discard")) != NULL) {
        if (strcmp(s, "old") == 0) {
            cfg.discard = MQ_DISCARD_OLD;
        } else if (strcmp(s, "reject") == 0) {
            cfg.discard = MQ_DISCARD_REJECT;
        } else {
            return out_usage(usage_create, "--discard %s: say old or reject",
                             s);
        }
    }
    if ((rv = flag_uint(&a, "--max-messages", UINT64_MAX, &cfg.max_messages,
                        usage_create)) != 0 ||
        (rv = flag_uint(&a, "--max-bytes", UINT64_MAX, &cfg.max_bytes,
                        usage_create)) != 0 ||
        (rv = flag_duration(&a, "--max-age", &cfg.max_age_ms, usage_create)) !=
            0 ||
        (rv = flag_uint(&a, "--max-message-bytes", UINT32_MAX, &v,
                        usage_create)) != 0) {
        return rv;
    }
    cfg.max_message_bytes = (uint32_t)v;
    v = 0;
    if ((rv = flag_duration(&a, "--duplicate-window", &cfg.duplicate_window_ms,
                            usage_create)) != 0 ||
        (rv = flag_duration(&a, "--ack-timeout", &cfg.ack_timeout_ms,
                            usage_create)) != 0 ||
        (rv = flag_uint(&a, "--max-deliveries", UINT32_MAX, &v,
                        usage_create)) != 0) {
        return rv;
    }
    cfg.max_deliveries = (uint32_t)v;
    if ((rv = flag_duration(&a, "--delay", &cfg.delay_ms, usage_create)) != 0 ||
        (rv = flag_duration(&a, "--max-delay", &cfg.max_delay_ms,
                            usage_create)) != 0 ||
        (rv = flag_duration(&a, "--status-ttl", &cfg.status_ttl_ms,
                            usage_create)) != 0 ||
        (rv = flag_uint(&a, "--status-max", UINT64_MAX, &cfg.status_max,
                        usage_create)) != 0) {
        return rv;
    }
    cfg.dead_letter_queue = args_get(&a, "--dead-letter-queue");
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_queue_create(c, &cfg, &info, 0) != MQ_OK) {
        return out_fail("queue create", cfg.name);
    }
    show_queue(m, &info);
    return 0;
}

static int queue_list(struct mqctl *m, int argc, char **argv)
{
    static const char *const head[] = {"NAME", "MESSAGES", "BYTES",    "FIRST",
                                       "LAST", "SUBS",     "RETENTION"};
    mq_queue_info *list;
    size_t n;
    mq_client *c;

    (void)argv;
    if (argc != 0) {
        return out_usage("mqctl queue list", "queue list takes no "
                                             "arguments");
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_queue_list(c, &list, &n, 0) != MQ_OK) {
        return out_fail("queue list", NULL);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_arr_open(&j, "queues");
        for (size_t i = 0; i < n; i++) {
            json_queue(&j, NULL, &list[i]);
        }
        json_arr_close(&j);
        json_obj_close(&j);
        json_end(&j);
    } else {
        struct table t;
        table_init(&t, 7, head);
        for (size_t i = 0; i < n; i++) {
            table_cell(&t, "%s", list[i].name);
            table_cell(&t, "%llu", (unsigned long long)list[i].messages);
            table_cell(&t, "%llu", (unsigned long long)list[i].bytes);
            table_cell(&t, "%llu", (unsigned long long)list[i].first_seq);
            table_cell(&t, "%llu", (unsigned long long)list[i].last_seq);
            table_cell(&t, "%u", list[i].subscriptions);
            table_cell(&t, "%s", retention_name(list[i].retention));
        }
        table_print(&t, stdout);
    }
    mq_queue_list_free(list);
    return 0;
}

static int queue_info(struct mqctl *m, int argc, char **argv)
{
    mq_queue_info info;
    mq_client *c;

    if (argc != 1 || argv[0][0] == '-') {
        return out_usage("mqctl queue info NAME", "queue info takes one NAME");
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_queue_info_get(c, argv[0], &info, 0) != MQ_OK) {
        return out_fail("queue info", argv[0]);
    }
    show_queue(m, &info);
    return 0;
}

/* queue purge|delete NAME: @verb is "purge" or "delete", @done "purged"
 * or "deleted". */
static int queue_op(struct mqctl *m, int argc, char **argv, const char *verb,
                    const char *done)
{
    char usage[64], what[32];
    mq_client *c;
    mq_err rv;

    snprintf(usage, sizeof usage, "mqctl queue %s NAME", verb);
    snprintf(what, sizeof what, "queue %s", verb);
    if (argc != 1 || argv[0][0] == '-') {
        return out_usage(usage, "queue %s takes one NAME", verb);
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    rv = strcmp(verb, "purge") == 0 ? mq_queue_purge(c, argv[0], 0)
                                    : mq_queue_delete(c, argv[0], 0);
    if (rv != MQ_OK) {
        return out_fail(what, argv[0]);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_str(&j, done, argv[0]);
        json_obj_close(&j);
        json_end(&j);
    } else {
        printf("%s queue %s\n", done, argv[0]);
    }
    return 0;
}

int cmd_queue(struct mqctl *m, int argc, char **argv)
{
    if (argc == 0) {
        return out_usage(usage_group, "queue needs a subcommand");
    }
    if (strcmp(argv[0], "create") == 0) {
        return queue_create(m, argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "list") == 0) {
        return queue_list(m, argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "info") == 0) {
        return queue_info(m, argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "purge") == 0) {
        return queue_op(m, argc - 1, argv + 1, "purge", "purged");
    }
    if (strcmp(argv[0], "delete") == 0) {
        return queue_op(m, argc - 1, argv + 1, "delete", "deleted");
    }
    if (strcmp(argv[0], "redrive") == 0) {
        return cmd_queue_redrive(m, argc - 1, argv + 1);
    }
    return out_usage(usage_group, "queue %s: unknown subcommand", argv[0]);
}
