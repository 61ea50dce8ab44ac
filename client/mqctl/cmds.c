/* cmds.c: the table of mqctl's commands and flags (cmds.h). Help, the
 * manual page and the completion are written from it (help.c); keep each
 * help line one sentence, lower case, saying what the flag does and, in
 * def, what happens without it. */
#include "cmds.h"

#include <string.h>

#include "cmd_check.h"
#include "cmd_consume.h"
#include "cmd_key.h"
#include "cmd_message.h"
#include "cmd_node.h"
#include "cmd_publish.h"
#include "cmd_queue.h"
#include "cmd_read.h"
#include "cmd_redrive.h"
#include "cmd_settle.h"
#include "cmd_status.h"
#include "cmd_sub.h"
#include "cmd_top.h"

const struct cmd_flag global_flags[] = {
    {"-s", "URL[,URL...]",
     "tcp://127.0.0.1:7001,tcp://127.0.0.1:7002,tcp://127.0.0.1:7003",
     "the nodes to ask (any of them: mqctl finds the leader)"},
    {"--ns", "NAMESPACE", "default",
     "namespace of QUEUE names given without one (NS/QUEUE)"},
    {"--json", NULL, NULL,
     "print one JSON document (or one per line) for scripts, not tables; "
     "may come anywhere"},
    {"--timeout", "DUR", "10s", "deadline of each call, retries included"},
    {"--any-node", NULL, NULL,
     "let any node answer read and message status (a follower may be a "
     "moment behind; default: the leader)"},
    {"--token", "TOKEN", "$MQ_TOKEN",
     "the key: mqk_NAME_SECRET, or the bootstrap secret"},
    {"--token-file", "FILE", NULL, "read the key from the first line of FILE"},
    {"--tls-ca", "FILE", "$MQ_TLS_CA",
     "CA (PEM) that signs the nodes' certificates, for tls+tcp:// URLs"},
    {"--tls-cert", "FILE", "$MQ_TLS_CERT",
     "client certificate (PEM), for nodes that require one"},
    {"--tls-key", "FILE", "$MQ_TLS_KEY", "the key (PEM) of --tls-cert"},
    {"--version", NULL, NULL, "print mqctl's and libmq's versions"},
    {"--help", NULL, NULL,
     "print help: mqctl's, a group's (mqctl queue --help) or a command's "
     "(mqctl queue create --help); -h too"},
    {"--man", NULL, NULL, "print the manual page (roff)"},
    {"--completion", "bash", NULL, "print a bash completion script"},
    {NULL, NULL, NULL, NULL},
};

/* ---- flags of the commands ------------------------------------------- */

#define QUEUE_LIMIT_FLAGS                                                      \
    {"--discard", "old|reject", "old",                                         \
     "at a limit, drop the oldest message (old) or refuse the publish "        \
     "(reject)"},                                                              \
        {"--max-messages", "N", "unlimited",                                   \
         "most messages kept (0 or unlimited: no limit)"},                     \
        {"--max-bytes", "SIZE", "unlimited",                                   \
         "most bytes of messages kept, such as 512MiB or 1GB"},                \
        {"--max-age", "DUR", "unlimited",                                      \
         "messages older than this are dropped, such as 7d or 1.5h"},          \
        {"--max-message-bytes", "SIZE", "1MiB",                                \
         "largest message accepted (payload, id, event, headers), at most "    \
         "8MiB"},                                                              \
        {"--duplicate-window", "DUR", "2m",                                    \
         "a publish repeating an id stored this recently is a duplicate"},     \
        {"--ack-timeout", "DUR", "30s",                                        \
         "default ack timeout of subscriptions created on the queue"},         \
        {"--max-deliveries", "N", "unlimited",                                 \
         "default of subscriptions created on the queue: deliveries of a "     \
         "message before it is dead-lettered"},                                \
        {"--delay", "DUR", "0", "default delay of a publish"},                 \
        {"--max-delay", "DUR", "30d", "longest delay a publish may ask for"},  \
        {"--dead-letter-queue", "NAME", "NAME.dlq",                            \
         "where dead letters go (created on the first one)"},                  \
        {"--status-ttl", "DUR", "7d",                                          \
         "how long the status of a gone message is kept"},                     \
    {                                                                          \
        "--status-max", "N", "1000000",                                        \
            "most gone messages whose status is kept"                          \
    }

static const struct cmd_flag queue_create_flags[] = {
    {"--retention", "limits|work", "limits",
     "keep messages until a limit drops them (limits), or until every "
     "subscription acked them (work)"},
    QUEUE_LIMIT_FLAGS,
    {NULL, NULL, NULL, NULL},
};

static const struct cmd_flag queue_update_flags[] = {
    QUEUE_LIMIT_FLAGS,
    {NULL, NULL, NULL, NULL},
};

static const struct cmd_flag check_flags[] = {
    {"--quorum-critical", "NODE", NULL,
     "only say whether stopping node NODE would lose quorum (exit 1 if it "
     "would)"},
    {"--max-lag", "N", "1000",
     "most entries a member may have applied behind the commit index"},
    {"--min-disk-free", "SIZE", "1GiB", "least free disk space on each node"},
    {"--max-memory-use", "PERCENT", "90",
     "most of its memory budget a node may hold"},
    {"--min-cert-validity", "DUR", "14d",
     "least time before a certificate a node shows expires"},
    {NULL, NULL, NULL, NULL},
};

static const struct cmd_flag top_flags[] = {
    {"--interval", "DUR", "1s", "time between refreshes (100ms to 1h)"},
    {"--count", "N", "until Ctrl-C", "stop after N refreshes"},
    {NULL, NULL, NULL, NULL},
};

static const struct cmd_flag redrive_flags[] = {
    {"--to", "QUEUE", NULL, "the queue the messages go back to (required)"},
    {"--rate", "N/s", "100/s", "most messages moved per second"},
    {"--batch", "N", "the rate, at most 1000", "messages moved per call"},
    {"--force", NULL, NULL,
     "move from a queue that is not a dead-letter queue too"},
    {NULL, NULL, NULL, NULL},
};

static const struct cmd_flag sub_create_flags[] = {
    {"--start", "new|first|SEQ|time:T", "new",
     "the first message: new ones, the first stored, seq SEQ, or the first "
     "published at or after T"},
    {"--filter", "F", "every event",
     "deliver only events matching F (order.created, order.*, order.>); "
     "repeatable"},
    {"--ack-timeout", "DUR", "the queue's",
     "a delivery not acked in this time is delivered again"},
    {"--max-deliveries", "N", "the queue's",
     "deliveries of a message before it is dead-lettered"},
    {NULL, NULL, NULL, NULL},
};

static const struct cmd_flag publish_flags[] = {
    {"--id", "ID", "one generated",
     "idempotency key: a repeat within the duplicate window is stored once"},
    {"--header", "KEY=VALUE", NULL, "a header of the message; repeatable"},
    {"--delay", "DUR", "the queue's", "deliver no earlier than this from now"},
    {NULL, NULL, NULL, NULL},
};

static const struct cmd_flag consume_flags[] = {
    {"--count", "N", "no limit", "stop after N messages"},
    {"--wait", "DUR", "1s", "stop when a fetch waited this long for nothing"},
    {"--no-ack", NULL, NULL,
     "print without acking: the messages come again after the ack timeout "
     "(settle them with nack, term, or a consume without --no-ack)"},
    {NULL, NULL, NULL, NULL},
};

static const struct cmd_flag nack_flags[] = {
    {"--delay", "DUR", "0", "deliver them again after this long"},
    {NULL, NULL, NULL, NULL},
};

static const struct cmd_flag term_flags[] = {
    {"--reason", "TEXT", NULL,
     "why, in the dead letters' header x-dead-letter-reason (\"term: TEXT\")"},
    {NULL, NULL, NULL, NULL},
};

static const struct cmd_flag peek_flags[] = {
    {"--count", "N", "10", "show at most N messages"},
    {NULL, NULL, NULL, NULL},
};

static const struct cmd_flag read_flags[] = {
    {"--from-seq", "N", "the first stored", "start at seq N"},
    {"--from-time", "T", NULL, "start at the first published at or after T"},
    {"--count", "N", "100", "read at most N messages"},
    {"--min-index", "N", NULL,
     "the answering node first waits until it has applied raft index N (a "
     "publish's index: read your writes)"},
    {NULL, NULL, NULL, NULL},
};

static const struct cmd_flag message_flags[] = {
    {"--queue", "QUEUE", "every queue", "look in QUEUE only"},
    {NULL, NULL, NULL, NULL},
};

static const struct cmd_flag key_create_flags[] = {
    {"--allow", "NS:VERBS", NULL,
     "allow VERBS (publish,consume,manage,admin) on namespaces NS (prd, "
     "team-*, *); repeatable"},
    {"--deny", "NS:VERBS", NULL, "forbid them (a deny beats any allow)"},
    {"--expires-in", "DUR", "never", "the key stops working this long after"},
    {NULL, NULL, NULL, NULL},
};

static const struct cmd_flag key_update_flags[] = {
    {"--allow", "NS:VERBS", NULL,
     "with --deny: the new grants, replacing the old ones; repeatable"},
    {"--deny", "NS:VERBS", NULL, "a forbidding grant; repeatable"},
    {"--expires-in", "DUR", NULL, "the key stops working this long from now"},
    {"--no-expiry", NULL, NULL, "the key never expires"},
    {NULL, NULL, NULL, NULL},
};

static const struct cmd_flag key_rotate_flags[] = {
    {"--retire-old", NULL, NULL,
     "drop every secret but the newest (once every user has the new token)"},
    {NULL, NULL, NULL, NULL},
};

/* ---- the commands ---------------------------------------------------- */

const struct cmd cmds[] = {
    {"status", "", 0, 0, "every member: role, term, indexes, disk, memory",
     "Asks every node of -s and every member they name (so nodes missing "
     "from -s are shown too), and says which node leads. Exits 1 when there "
     "is no leader, saying why (no quorum: N of M nodes reachable).",
     NULL, run_status},
    {"check", "", 0, 0,
     "staged health checks; exits 1 naming the first stage that fails",
     "Stages, in order: reachable (a member answers), leader (one is "
     "known), quorum (more than half of the voters answer), applied (every "
     "member answers and applied the log to within --max-lag of the commit "
     "index), disk, memory, certificates (skipped when no node uses TLS). "
     "One line per stage: ok, FAIL or skip, the stage, what was found. "
     "Every member is asked: one -s URL is enough.\n\nWith "
     "--quorum-critical NODE it says instead whether stopping NODE would "
     "leave less than a majority of the voters answering (exit 1 if so), "
     "for rolling restarts.",
     check_flags, run_check},
    {"top", "", 0, 0,
     "live view of queues and subscriptions: rates, lag in messages and "
     "seconds",
     "Per queue: messages, bytes, age of the oldest message, publishes, "
     "deliveries and acks per second; per subscription: lag in messages, "
     "how long its oldest message not acked has been due, in flight, "
     "deliveries and acks per second. Rates are the differences between "
     "two refreshes (- until there are two). With --json it takes two "
     "looks --interval apart, prints one object and exits.",
     top_flags, run_top},
    {"node add", "ID PEER-URL", 2, 2,
     "add node ID, running with that peer URL; wait until it votes",
     "It joins as a non-voter, catches up, then votes. Waits up to "
     "--timeout (by default at least 60s); run it again to go on waiting.",
     NULL, run_node_add},
    {"node remove", "ID", 1, 1, "remove node ID from the cluster", NULL, NULL,
     run_node_remove},
    {"node list", "", 0, 0,
     "the members: id, role, leader, peer URL, client URL", NULL, NULL,
     run_node_list},
    {"node reload-tls", "", 0, 0,
     "each node of -s reads its TLS files again (as SIGHUP)", NULL, NULL,
     run_node_reload_tls},
    {"leader transfer", "[ID]", 0, 1,
     "move leadership to voter ID (none: the most up-to-date other voter)",
     NULL, NULL, run_leader_transfer},
    {"queue create", "NAME", 1, 1, "create a queue",
     "Creating it again with the same settings succeeds; with other "
     "settings it fails naming those that differ (queue update changes "
     "those that can change).",
     queue_create_flags, run_queue_create},
    {"queue update", "NAME", 1, 1,
     "change a queue's limits, windows, timeouts or dead-letter queue",
     "Only the settings given change (at least one; name and retention "
     "cannot); a default shown is what the setting becomes when given as "
     "0. Lowered limits hold at once: under discard old the oldest "
     "messages go. Subscriptions keep the ack timeout and max deliveries "
     "they were created with.",
     queue_update_flags, run_queue_update},
    {"queue list", "", 0, 0, "the queues", NULL, NULL, run_queue_list},
    {"queue info", "NAME", 1, 1, "a queue's settings and counts", NULL, NULL,
     run_queue_info},
    {"queue purge", "NAME", 1, 1,
     "remove every stored message (their status says purged)", NULL, NULL,
     run_queue_purge},
    {"queue delete", "NAME", 1, 1,
     "delete a queue with its messages and subscriptions", NULL, NULL,
     run_queue_delete},
    {"queue redrive", "DLQ", 1, 1,
     "move the messages of dead-letter queue DLQ back into --to, oldest "
     "first",
     "Paced at --rate until DLQ is empty or Ctrl-C (the call in progress "
     "completes first); progress on stderr.",
     redrive_flags, run_queue_redrive},
    {"sub create", "QUEUE NAME", 2, 2, "create a subscription of QUEUE",
     "Every subscription gets every message (that its filters match); "
     "clients of one subscription share its messages.",
     sub_create_flags, run_sub_create},
    {"sub list", "[QUEUE]", 0, 1, "the subscriptions (of QUEUE)", NULL, NULL,
     run_sub_list},
    {"sub info", "QUEUE NAME", 2, 2,
     "a subscription's position, counts and lag in messages and seconds", NULL,
     NULL, run_sub_info},
    {"sub delete", "QUEUE NAME", 2, 2, "delete a subscription", NULL, NULL,
     run_sub_delete},
    {"publish", "QUEUE EVENT DATA|@FILE|-", 3, 3,
     "publish one message and wait until a majority stored it",
     "The payload is DATA itself, the contents of FILE with @FILE, or "
     "standard input with -. Prints its seq and id, whether it was a "
     "duplicate, and the raft index that made it durable.",
     publish_flags, run_publish},
    {"consume", "QUEUE SUB", 2, 2,
     "fetch and print messages, acking each batch once printed", NULL,
     consume_flags, run_consume},
    {"nack", "QUEUE SUB SEQ...", 3, CMD_MANY,
     "give delivered messages back: they are delivered again (after "
     "--delay)",
     NULL, nack_flags, run_nack},
    {"term", "QUEUE SUB SEQ...", 3, CMD_MANY,
     "dead-letter delivered messages now", NULL, term_flags, run_term},
    {"peek", "QUEUE SUB", 2, 2,
     "the messages SUB has not acked yet, oldest first, with their state; "
     "changes nothing",
     "Nothing is delivered, acked or moved: peek reads the messages and "
     "asks what SUB did with each.",
     peek_flags, run_peek},
    {"read", "QUEUE", 1, 1,
     "read stored messages in seq order; acks nothing, moves no "
     "subscription",
     "Then says which node answered and how far it had applied.", read_flags,
     run_read},
    {"message status", "ID", 1, 1,
     "what became of message ID: per queue, per subscription", NULL,
     message_flags, run_message_status},
    {"message cancel", "ID", 1, 1, "remove a delayed message before it is due",
     NULL, message_flags, run_message_cancel},
    {"key create", "NAME", 1, 1, "create a key; prints its token once", NULL,
     key_create_flags, run_key_create},
    {"key update", "NAME", 1, 1, "change a key's grants or expiry", NULL,
     key_update_flags, run_key_update},
    {"key list", "", 0, 0, "the keys (never a secret)", NULL, NULL,
     run_key_list},
    {"key info", "NAME", 1, 1, "one key", NULL, NULL, run_key_info},
    {"key rotate", "NAME", 1, 1,
     "add a new secret (token printed once); the current one stays valid", NULL,
     key_rotate_flags, run_key_rotate},
    {"key revoke", "NAME", 1, 1, "remove a key: every node refuses it", NULL,
     NULL, run_key_revoke},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};

/* How many words name @c ("queue create": 2). */
static int name_words(const char *name)
{
    int n = 1;
    for (; *name != '\0'; name++) {
        n += *name == ' ';
    }
    return n;
}

/* Whether the first @n words of @argv are the first @n words of @name. */
static int words_match(const char *name, int argc, char **argv, int n)
{
    const char *p = name;

    if (argc < n) {
        return 0;
    }
    for (int i = 0; i < n; i++) {
        size_t len = strlen(argv[i]);
        if (strncmp(p, argv[i], len) != 0 ||
            (p[len] != ' ' && p[len] != '\0')) {
            return 0;
        }
        p += len;
        if (*p == ' ') {
            p++;
        } else if (i + 1 < n) {
            return 0;
        }
    }
    return 1;
}

const struct cmd *cmd_find(int argc, char **argv, int *words)
{
    const struct cmd *best = NULL;
    int best_n = 0;

    for (const struct cmd *c = cmds; c->name != NULL; c++) {
        int n = name_words(c->name);
        if (n > best_n && words_match(c->name, argc, argv, n)) {
            best = c;
            best_n = n;
        }
    }
    *words = best_n;
    return best;
}

int cmd_is_group(int argc, char **argv, int n)
{
    for (const struct cmd *c = cmds; c->name != NULL; c++) {
        if (name_words(c->name) > n && words_match(c->name, argc, argv, n)) {
            return 1;
        }
    }
    return 0;
}

const struct cmd_flag *cmd_flag_find(const struct cmd *c, const char *name)
{
    const struct cmd_flag *f = c != NULL ? c->flags : global_flags;

    for (; f != NULL && f->name != NULL; f++) {
        if (strcmp(f->name, name) == 0) {
            return f;
        }
    }
    return NULL;
}
