/* cmd_consume.c: mqctl consume QUEUE SUB [--count N] [--wait DUR]
 * [--no-ack] (flags: cmds.c). Fetches until N messages arrived (no limit
 * by default) or until a fetch waited DUR (default 1s) for nothing; prints
 * each message (out_msg: a delayed one says when it was due) and acks each
 * batch once printed. With --no-ack nothing is acked: the messages stay in
 * flight and come again after the subscription's ack timeout (or once
 * settled with mqctl nack, term, or a consume without --no-ack); their
 * seqs are what nack and term take.
 *
 * --json prints one object per message and line (output.h's out_msg). */
#include "cmd_consume.h"

#include <stdio.h>
#include <string.h>

#include "flagval.h"
#include "help.h"
#include "output.h"

#define CONSUME_BATCH 100
#define CONSUME_WAIT_MS 1000

int run_consume(struct mqctl *m, const struct cmd *cmd, const struct args *a)
{
    uint64_t count = 0, wait_ms = CONSUME_WAIT_MS, got = 0;
    int no_ack = args_has(a, "--no-ack"), rv;
    char obj[MQ_QNAME_MAX + MQ_NAME_MAX + 2];
    mq_client *c;

    if ((rv = flag_count(cmd, a, "--count", 0, 1, UINT64_MAX, &count)) != 0 ||
        (rv = flag_duration(cmd, a, "--wait", 0, &wait_ms)) != 0) {
        return rv;
    }
    if (wait_ms > UINT32_MAX) {
        return usage_error(cmd, "--wait: %s is more than 49d",
                           args_get(a, "--wait"));
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    snprintf(obj, sizeof obj, "%.*s/%.*s", MQ_QNAME_MAX, a->pos[0], MQ_NAME_MAX,
             a->pos[1]);
    while (count == 0 || got < count) {
        uint64_t seqs[CONSUME_BATCH];
        size_t want = CONSUME_BATCH, n;
        mq_msg **msgs;
        if (count != 0 && count - got < want) {
            want = (size_t)(count - got);
        }
        if (mq_fetch(c, a->pos[0], a->pos[1], want, (uint32_t)wait_ms, &msgs,
                     &n) != MQ_OK) {
            return out_fail("consume", obj);
        }
        for (size_t i = 0; i < n; i++) {
            out_msg(msgs[i], m->json);
            seqs[i] = mq_msg_seq(msgs[i]);
        }
        fflush(stdout);
        mq_msgs_free(msgs, n);
        if (n == 0) {
            break;
        }
        if (!no_ack &&
            mq_ack_seqs(c, a->pos[0], a->pos[1], seqs, n, 0) != MQ_OK) {
            return out_fail("consume", obj);
        }
        got += n;
    }
    return 0;
}
