/* cmd_consume.c: mqctl consume QUEUE SUB [--count N] [--wait DUR]. Fetches
 * until N messages arrived (no limit by default) or until a fetch waited
 * DUR (default 1s) for nothing; prints each message (out_msg: a delayed one
 * says when it was due) and acks each batch once printed.
 *
 * --json prints one object per message and line (output.h's out_msg). */
#include "cmd_consume.h"

#include <stdio.h>
#include <string.h>

#include "args.h"
#include "output.h"

#define CONSUME_BATCH 100
#define CONSUME_WAIT_MS 1000

static const char usage_text[] =
    "mqctl consume QUEUE SUB [--count N] [--wait DUR]";

int cmd_consume(struct mqctl *m, int argc, char **argv)
{
    static const char *const valued[] = {"--count", "--wait", NULL};
    uint64_t count = 0, wait_ms = CONSUME_WAIT_MS, got = 0;
    struct args a;
    char err[128], obj[MQ_QNAME_MAX + MQ_NAME_MAX + 2];
    const char *s;
    mq_client *c;

    if (args_split(argc, argv, valued, NULL, &a, err, sizeof err) != 0) {
        return out_usage(usage_text, "consume: %s", err);
    }
    if (a.n_pos != 2) {
        return out_usage(usage_text, "consume takes QUEUE and SUB");
    }
    if ((s = args_get(&a, "--count")) != NULL &&
        (args_uint(s, UINT64_MAX, &count) != 0 || count == 0)) {
        return out_usage(usage_text, "--count %s is not a number from 1", s);
    }
    if ((s = args_get(&a, "--wait")) != NULL &&
        (args_duration_ms(s, &wait_ms) != 0 || wait_ms > UINT32_MAX)) {
        return out_usage(usage_text, "--wait %s is not a duration such as 5s",
                         s);
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    snprintf(obj, sizeof obj, "%.*s/%.*s", MQ_QNAME_MAX, a.pos[0], MQ_NAME_MAX,
             a.pos[1]);
    while (count == 0 || got < count) {
        uint64_t seqs[CONSUME_BATCH];
        size_t want = CONSUME_BATCH, n;
        mq_msg **msgs;
        if (count != 0 && count - got < want) {
            want = (size_t)(count - got);
        }
        if (mq_fetch(c, a.pos[0], a.pos[1], want, (uint32_t)wait_ms, &msgs,
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
        if (mq_ack_seqs(c, a.pos[0], a.pos[1], seqs, n, 0) != MQ_OK) {
            return out_fail("consume", obj);
        }
        got += n;
    }
    return 0;
}
