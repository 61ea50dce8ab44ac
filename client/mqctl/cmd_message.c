/* cmd_message.c: mqctl message status|cancel: a message by its id.
 *
 *   message status ID [--queue QUEUE]: what became of it, one table per
 *   queue holding the id (queue, seq, event, published, deliver at, state,
 *   gone at), then one row per subscription (name, state, attempts, last
 *   delivery, acked at, dead-lettered at). An id no queue knows is one line,
 * "mqctl: message ID: no longer known (or never stored)", and exit 1. Answered
 * by the leader (by any node with --any-node). message cancel ID [--queue
 * QUEUE]: removes a delayed message before it is due.
 *
 * --json: status prints {"id", "statuses": [{"queue", "seq", "id",
 * "event", "published_at_ms", "deliver_at_ms", "state", "gone_at_ms",
 * "subs": [{"name", "state", "attempts", "last_delivery_ms",
 * "acked_at_ms", "dead_lettered_at_ms"}]}]}; cancel prints {"cancelled": ID,
 * "seq"}. */
#include "cmd_message.h"

#include <stdio.h>
#include <string.h>

#include "output.h"

const char *msg_state_name(mq_msg_state s)
{
    switch (s) {
    case MQ_MSG_STORED:
        return "stored";
    case MQ_MSG_ACKED:
        return "acked";
    case MQ_MSG_EXPIRED:
        return "expired";
    case MQ_MSG_PURGED:
        return "purged";
    case MQ_MSG_CANCELLED:
        return "cancelled";
    case MQ_MSG_DEAD_LETTERED:
        return "dead-lettered";
    case MQ_MSG_DELETED:
        return "deleted";
    case MQ_MSG_REDRIVEN:
        return "redriven";
    }
    return "unknown";
}

const char *sub_state_name(mq_sub_state s)
{
    switch (s) {
    case MQ_SUB_PENDING:
        return "pending";
    case MQ_SUB_SCHEDULED:
        return "scheduled";
    case MQ_SUB_DELIVERED:
        return "delivered";
    case MQ_SUB_ACKED:
        return "acked";
    case MQ_SUB_DEAD_LETTERED:
        return "dead-lettered";
    case MQ_SUB_FILTERED:
        return "filtered";
    }
    return "unknown";
}

static void cell_time(struct table *t, uint64_t ms)
{
    char buf[32];

    out_time(ms, buf, sizeof buf);
    table_cell(t, "%s", buf);
}

static void print_status(const mq_msg_status *st)
{
    static const char *const head[] = {
        "QUEUE", "SEQ", "EVENT", "PUBLISHED", "DELIVER AT", "STATE", "GONE AT"};
    static const char *const sub_head[] = {"SUBSCRIPTION", "STATE",
                                           "ATTEMPTS",     "LAST DELIVERY",
                                           "ACKED AT",     "DEAD-LETTERED AT"};
    struct table t;

    table_init(&t, 7, head);
    table_cell(&t, "%s", st->queue);
    table_cell(&t, "%llu", (unsigned long long)st->seq);
    table_cell(&t, "%s", st->event);
    cell_time(&t, st->published_at_ms);
    cell_time(&t, st->deliver_at_ms);
    table_cell(&t, "%s", msg_state_name(st->state));
    cell_time(&t, st->state == MQ_MSG_STORED ? 0 : st->gone_at_ms);
    table_print(&t, stdout);
    if (st->n_subs == 0) {
        return;
    }
    putchar('\n');
    table_init(&t, 6, sub_head);
    for (size_t i = 0; i < st->n_subs; i++) {
        const mq_sub_status *s = &st->subs[i];
        table_cell(&t, "%s", s->name);
        table_cell(&t, "%s", sub_state_name(s->state));
        table_cell(&t, "%u", s->attempts);
        cell_time(&t, s->last_delivery_ms);
        cell_time(&t, s->acked_at_ms);
        cell_time(&t, s->dead_lettered_at_ms);
    }
    table_print(&t, stdout);
}

static void json_status(struct json *j, const mq_msg_status *st)
{
    json_obj_open(j, NULL);
    json_str(j, "queue", st->queue);
    json_u64(j, "seq", st->seq);
    json_str(j, "id", st->id);
    json_str(j, "event", st->event);
    json_u64(j, "published_at_ms", st->published_at_ms);
    json_u64(j, "deliver_at_ms", st->deliver_at_ms);
    json_str(j, "state", msg_state_name(st->state));
    json_u64(j, "gone_at_ms", st->gone_at_ms);
    json_arr_open(j, "subs");
    for (size_t i = 0; i < st->n_subs; i++) {
        const mq_sub_status *s = &st->subs[i];
        json_obj_open(j, NULL);
        json_str(j, "name", s->name);
        json_str(j, "state", sub_state_name(s->state));
        json_u64(j, "attempts", s->attempts);
        json_u64(j, "last_delivery_ms", s->last_delivery_ms);
        json_u64(j, "acked_at_ms", s->acked_at_ms);
        json_u64(j, "dead_lettered_at_ms", s->dead_lettered_at_ms);
        json_obj_close(j);
    }
    json_arr_close(j);
    json_obj_close(j);
}

int run_message_status(struct mqctl *m, const struct cmd *cmd,
                       const struct args *a)
{
    const char *id = a->pos[0], *queue = args_get(a, "--queue");
    mq_msg_status *list;
    size_t n;
    mq_client *c;
    mq_err rv;

    (void)cmd;
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    rv = mq_message_status(c, id, queue, &list, &n, 0);
    if (rv == MQ_ERR_NOT_FOUND && queue == NULL) {
        fprintf(stderr,
                "mqctl: message %s: no longer known (or never "
                "stored)\n",
                id);
        return 1;
    }
    if (rv != MQ_OK) {
        return out_fail("message status", id);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_str(&j, "id", id);
        json_arr_open(&j, "statuses");
        for (size_t i = 0; i < n; i++) {
            json_status(&j, &list[i]);
        }
        json_arr_close(&j);
        json_obj_close(&j);
        json_end(&j);
    } else {
        for (size_t i = 0; i < n; i++) {
            if (i > 0) {
                putchar('\n');
            }
            print_status(&list[i]);
        }
    }
    mq_msg_status_free(list, n);
    return 0;
}

int run_message_cancel(struct mqctl *m, const struct cmd *cmd,
                       const struct args *a)
{
    uint64_t seq;
    mq_client *c;

    (void)cmd;
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_cancel(c, a->pos[0], args_get(a, "--queue"), &seq, 0) != MQ_OK) {
        return out_fail("message cancel", a->pos[0]);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_str(&j, "cancelled", a->pos[0]);
        json_u64(&j, "seq", seq);
        json_obj_close(&j);
        json_end(&j);
    } else {
        printf("cancelled message %s (seq %llu): it will not be delivered\n",
               a->pos[0], (unsigned long long)seq);
    }
    return 0;
}
