/* cases.c: the table of cases, in the order they run by default. */
#include "cases.h"

#include <string.h>

static const struct bench_case table[] = {
    {"publish-sync", 1,
     "mq_publish, one message at a time per thread (--concurrency): "
     "latency p50/p99/p99.9/max and rate",
     case_publish_sync},
    {"publish-pipelined", 1,
     "mq_publish_async from --producers clients for --duration, at 100, "
     "1024 and 16384 bytes (or --size): msgs/s, MB/s, latency from enqueue "
     "to callback",
     case_publish_pipelined},
    {"consume-ack", 1,
     "preload --messages, then --consumers clients mq_fetch and "
     "mq_ack_seqs until all are consumed: msgs/s, count, duplicates",
     case_consume_ack},
    {"e2e-latency", 1,
     "publish at --rate for --duration, each payload stamped with its "
     "send time; a subscriber measures publish-to-receive latency",
     case_e2e_latency},
    {"memory", 0,
     "publish --messages (default 1000000) and read the nodes' VmRSS "
     "before and after (--pids or --cluster-dir): bytes per queued message",
     case_memory},
    {"catchup-read", 0,
     "preload --messages (default 200000) of --size, then read the whole "
     "queue with mq_read in batches of --read-batch (default 1000) from one "
     "follower, then from all three nodes at once (a client on each node, "
     "each reading the whole queue): msgs/s of one node and of three",
     case_catchup_read},
    {"snapshot-stall", 0,
     "preload --messages (default 1000000) of --size that stay live, then "
     "for --duration (default 60 s) churn --rate (default 20000) msgs/s "
     "into a queue of 10000 so that the nodes take snapshots of the large "
     "state; a synchronous write probe and a read probe on each node "
     "measure how long the nodes stop serving: write p50/p99/max, read max "
     "per node, calls over 100 ms, snapshots seen",
     case_snapshot_stall},
    {"waiting-consumers", 0,
     "--waiters (default 10000) long-poll fetches, a thread each, on --subs "
     "(default 1000) subscriptions, a queue each (or over --queues), while a "
     "client publishes --rate (default 1000) msgs/s stamped with their send "
     "time for --duration, and a probe publishes synchronously: waiters "
     "served, publish-to-receive p50/p99, probe p99 idle and loaded, "
     "fetches refused at once (a cap) apart from timeouts",
     case_waiting_consumers},
    {"many-queues", 0,
     "sync publish p50/p99 and the rate of --producers (default 200) "
     "synchronous producers, first on one fresh queue, then after creating "
     "--queues (default 100000) queues with a subscription each, spread "
     "over them; the ratios, and the time to create and delete the queues "
     "(--keep keeps them, for restart)",
     case_many_queues},
    {"restart", 0,
     "stops the three nodes of --cluster-dir (SIGTERM), starts them again "
     "as deploy/cluster.sh does, and measures the time until a publish "
     "succeeds and the elections the node logs show meanwhile",
     case_restart},
    {"drain", 0,
     "--queues (default 20) queues each pass and drain --messages (default "
     "1000000) messages (async publish, fetch and ack at once): publishes "
     "refused (FULL), the nodes' VmRSS before, at the peak and after "
     "(--cluster-dir or --pids), memory_bytes of mq_cluster_status, ids "
     "remembered",
     case_drain},
    {"connection-churn", 0,
     "opens and closes --connections (default 20000) clients, --concurrency "
     "(default 8) at a time, each doing one publish, while --waiters "
     "(default 1000, a client each) long polls load the node: the nodes' open "
     "descriptors "
     "and VmRSS before, at the peak and after up to --settle (default 10 s)",
     case_connection_churn},
};

#define N_TABLE (sizeof table / sizeof table[0])

const struct bench_case *cases_find(const char *name)
{
    for (size_t i = 0; i < N_TABLE; i++) {
        if (strcmp(table[i].name, name) == 0) {
            return &table[i];
        }
    }
    return NULL;
}

const struct bench_case *cases_all(size_t *n)
{
    *n = N_TABLE;
    return table;
}

void cases_help(FILE *out)
{
    fputs("\ncases (* run when no --case is given):\n", out);
    for (size_t i = 0; i < N_TABLE; i++) {
        fprintf(out, "  %c %s\n", table[i].in_default ? '*' : ' ',
                table[i].name);
        opts_print_wrapped(out, table[i].summary);
    }
}
