/* cmd_read.c: mqctl read QUEUE [--from-seq N | --from-time T] [--count N]
 * [--min-index N] (flags: cmds.c). Reads up to N stored messages (default 100)
 * of QUEUE in seq order, from the first stored, seq N or the first published at
 * or after T, with mq_read (a follower answers, unless the client reads from
 * the leader); prints each as consume does, acks nothing and moves no
 * subscription; then says which node answered and how far it had applied:
 * "node N applied up to index I". --min-index makes that node first wait
 * until it has applied index I (a publish's index: read your writes).
 *
 * --json prints one object per message and line (output.h's out_msg),
 * then {"node_id", "applied_index", "first_seq", "last_seq"}. */
#include "cmd_read.h"

#include <stdio.h>

#include "flagval.h"
#include "help.h"
#include "output.h"

#define READ_COUNT 100
#define READ_BATCH 1000

int run_read(struct mqctl *m, const struct cmd *cmd, const struct args *a)
{
    mq_read_opts o = MQ_READ_OPTS_INIT;
    mq_read_info info = {0};
    uint64_t count = READ_COUNT, got = 0;
    mq_client *c;
    int rv;

    if (args_has(a, "--from-seq") && args_has(a, "--from-time")) {
        return usage_error(cmd, "give --from-seq or --from-time, not both");
    }
    if ((rv = flag_count(cmd, a, "--from-seq", 0, 1, UINT64_MAX,
                         &o.from_seq)) != 0 ||
        (rv = flag_time(cmd, a, "--from-time", &o.from_time_ms)) != 0 ||
        (rv = flag_count(cmd, a, "--count", 0, 1, UINT64_MAX, &count)) != 0 ||
        (rv = flag_count(cmd, a, "--min-index", 0, 0, UINT64_MAX,
                         &o.min_index)) != 0) {
        return rv;
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    while (got < count) {
        mq_msg **msgs;
        size_t n;
        o.max_messages =
            count - got < READ_BATCH ? (uint32_t)(count - got) : READ_BATCH;
        if (mq_read(c, a->pos[0], &o, &msgs, &n, &info, 0) != MQ_OK) {
            return out_fail("read", a->pos[0]);
        }
        for (size_t i = 0; i < n; i++) {
            out_msg(msgs[i], m->json);
        }
        got += n;
        if (n > 0) {
            /* The next batch follows on; the node has applied this far. */
            o.from_seq = mq_msg_seq(msgs[n - 1]) + 1;
            o.from_time_ms = 0;
            o.min_index = 0;
        }
        mq_msgs_free(msgs, n);
        if (n == 0 || (info.last_seq != 0 && o.from_seq > info.last_seq)) {
            break;
        }
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_u64(&j, "node_id", info.node_id);
        json_u64(&j, "applied_index", info.applied_index);
        json_u64(&j, "first_seq", info.first_seq);
        json_u64(&j, "last_seq", info.last_seq);
        json_obj_close(&j);
        json_end(&j);
    } else {
        if (got == 0) {
            printf("no messages\n");
        }
        printf("node %llu applied up to index %llu\n",
               (unsigned long long)info.node_id,
               (unsigned long long)info.applied_index);
    }
    return 0;
}
