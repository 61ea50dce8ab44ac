/* cmd_queue.c: mqctl queue create|update|list|info|purge|delete (redrive
 * is in cmd_redrive.c). Flags and their defaults: cmds.c.
 *
 * --json: create, update and info print the queue as one object (the fields of
 * mq_queue_info, durations in ms); list prints {"queues": [...]}; purge
 * and delete print {"purged": "NAME"} and {"deleted": "NAME"}. */
#include "cmd_queue.h"

#include <stdio.h>
#include <string.h>

#include "flagval.h"
#include "help.h"
#include "output.h"

/* The largest --max-message-bytes a node takes. */
#define MAX_MESSAGE_BYTES (8u << 20)

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
    json_u64(j, "oldest_age_ms", q->oldest_age_ms);
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
    print_ms("oldest message age:", q->oldest_age_ms, "-");
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

/* Reads the settings flags of queue create (and update) into @cfg. Returns
 * 0 or a usage error's exit code. */
static int read_config(const struct cmd *c, const struct args *a,
                       mq_queue_config *cfg)
{
    static const char *const retentions[] = {"limits", "work", NULL};
    static const char *const discards[] = {"old", "reject", NULL};
    int retention = 0, discard = 0, rv;
    uint64_t max_message_bytes = 0, max_deliveries = 0;

    if ((rv = flag_choice(c, a, "--retention", retentions, &retention)) != 0 ||
        (rv = flag_choice(c, a, "--discard", discards, &discard)) != 0 ||
        (rv = flag_count(c, a, "--max-messages", FV_UNLIMITED, 0, UINT64_MAX,
                         &cfg->max_messages)) != 0 ||
        (rv = flag_size(c, a, "--max-bytes", FV_UNLIMITED, UINT64_MAX,
                        &cfg->max_bytes)) != 0 ||
        (rv = flag_duration(c, a, "--max-age", FV_UNLIMITED,
                            &cfg->max_age_ms)) != 0 ||
        (rv = flag_size(c, a, "--max-message-bytes", 0, MAX_MESSAGE_BYTES,
                        &max_message_bytes)) != 0 ||
        (rv = flag_duration(c, a, "--duplicate-window", 0,
                            &cfg->duplicate_window_ms)) != 0 ||
        (rv = flag_duration(c, a, "--ack-timeout", 0, &cfg->ack_timeout_ms)) !=
            0 ||
        (rv = flag_count(c, a, "--max-deliveries", FV_UNLIMITED, 0, UINT32_MAX,
                         &max_deliveries)) != 0 ||
        (rv = flag_duration(c, a, "--delay", 0, &cfg->delay_ms)) != 0 ||
        (rv = flag_duration(c, a, "--max-delay", 0, &cfg->max_delay_ms)) != 0 ||
        (rv = flag_duration(c, a, "--status-ttl", 0, &cfg->status_ttl_ms)) !=
            0 ||
        (rv = flag_count(c, a, "--status-max", 0, 0, UINT64_MAX,
                         &cfg->status_max)) != 0) {
        return rv;
    }
    cfg->retention = retention == 1 ? MQ_RETENTION_WORK : MQ_RETENTION_LIMITS;
    cfg->discard = discard == 1 ? MQ_DISCARD_REJECT : MQ_DISCARD_OLD;
    cfg->max_message_bytes = (uint32_t)max_message_bytes;
    cfg->max_deliveries = (uint32_t)max_deliveries;
    cfg->dead_letter_queue = args_get(a, "--dead-letter-queue");
    return 0;
}

int run_queue_create(struct mqctl *m, const struct cmd *c, const struct args *a)
{
    mq_queue_config cfg = MQ_QUEUE_CONFIG_INIT;
    mq_queue_info info;
    mq_client *cl;
    mq_err err;
    int rv;

    cfg.name = a->pos[0];
    if ((rv = read_config(c, a, &cfg)) != 0) {
        return rv;
    }
    if ((cl = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if ((err = mq_queue_create(cl, &cfg, &info, 0)) != MQ_OK) {
        rv = out_fail("queue create", cfg.name);
        if (err == MQ_ERR_EXISTS) {
            fprintf(stderr,
                    "hint: mqctl queue update %s changes its limits, "
                    "windows, timeouts and dead-letter queue\n",
                    cfg.name);
        }
        return rv;
    }
    show_queue(m, &info);
    return 0;
}

/* The flags of queue update and the setting each changes. */
static const struct {
    const char *flag;
    uint32_t bit;
} update_bits[] = {
    {"--discard", MQ_QUEUE_SET_DISCARD},
    {"--max-messages", MQ_QUEUE_SET_MAX_MESSAGES},
    {"--max-bytes", MQ_QUEUE_SET_MAX_BYTES},
    {"--max-age", MQ_QUEUE_SET_MAX_AGE},
    {"--max-message-bytes", MQ_QUEUE_SET_MAX_MESSAGE_BYTES},
    {"--duplicate-window", MQ_QUEUE_SET_DUPLICATE_WINDOW},
    {"--ack-timeout", MQ_QUEUE_SET_ACK_TIMEOUT},
    {"--max-deliveries", MQ_QUEUE_SET_MAX_DELIVERIES},
    {"--delay", MQ_QUEUE_SET_DELAY},
    {"--max-delay", MQ_QUEUE_SET_MAX_DELAY},
    {"--dead-letter-queue", MQ_QUEUE_SET_DEAD_LETTER_QUEUE},
    {"--status-ttl", MQ_QUEUE_SET_STATUS_TTL},
    {"--status-max", MQ_QUEUE_SET_STATUS_MAX},
};

int run_queue_update(struct mqctl *m, const struct cmd *c, const struct args *a)
{
    mq_queue_config cfg = MQ_QUEUE_CONFIG_INIT;
    mq_queue_info info;
    uint32_t set = 0;
    mq_client *cl;
    int rv;

    cfg.name = a->pos[0];
    if ((rv = read_config(c, a, &cfg)) != 0) {
        return rv;
    }
    for (size_t i = 0; i < sizeof update_bits / sizeof update_bits[0]; i++) {
        if (args_has(a, update_bits[i].flag)) {
            set |= update_bits[i].bit;
        }
    }
    if (set == 0) {
        return usage_error(c, "give at least one setting to change");
    }
    if ((cl = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_queue_update(cl, &cfg, set, &info, 0) != MQ_OK) {
        return out_fail("queue update", cfg.name);
    }
    show_queue(m, &info);
    return 0;
}

int run_queue_list(struct mqctl *m, const struct cmd *c, const struct args *a)
{
    static const char *const head[] = {"NAME", "MESSAGES", "BYTES",    "FIRST",
                                       "LAST", "SUBS",     "RETENTION"};
    mq_queue_info *list;
    size_t n;
    mq_client *cl;

    (void)c;
    (void)a;
    if ((cl = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_queue_list(cl, &list, &n, 0) != MQ_OK) {
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

int run_queue_info(struct mqctl *m, const struct cmd *c, const struct args *a)
{
    mq_queue_info info;
    mq_client *cl;

    (void)c;
    if ((cl = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_queue_info_get(cl, a->pos[0], &info, 0) != MQ_OK) {
        return out_fail("queue info", a->pos[0]);
    }
    show_queue(m, &info);
    return 0;
}

/* queue purge|delete NAME: @verb is "purge" or "delete", @done "purged"
 * or "deleted". */
static int queue_op(struct mqctl *m, const char *name, const char *verb,
                    const char *done)
{
    char what[32];
    mq_client *cl;
    mq_err rv;

    snprintf(what, sizeof what, "queue %s", verb);
    if ((cl = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    rv = strcmp(verb, "purge") == 0 ? mq_queue_purge(cl, name, 0)
                                    : mq_queue_delete(cl, name, 0);
    if (rv != MQ_OK) {
        return out_fail(what, name);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_str(&j, done, name);
        json_obj_close(&j);
        json_end(&j);
    } else {
        printf("%s queue %s\n", done, name);
    }
    return 0;
}

int run_queue_purge(struct mqctl *m, const struct cmd *c, const struct args *a)
{
    (void)c;
    return queue_op(m, a->pos[0], "purge", "purged");
}

int run_queue_delete(struct mqctl *m, const struct cmd *c, const struct args *a)
{
    (void)c;
    return queue_op(m, a->pos[0], "delete", "deleted");
}
