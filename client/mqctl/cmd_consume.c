/* cmd_consume.c: mqctl consume QUEUE SUB [--count N] [--wait DUR]. Fetches
 * until N messages arrived (no limit by default) or until a fetch waited
 * DUR (default 1s) for nothing; prints each message and acks each batch
 * once printed.
 *
 * --json prints one object per message and line: {"queue", "sub", "seq",
 * "id", "event", "attempt", "published_at_ms", "headers": {k: v},
 * "payload", "payload_encoding": "utf8" or "base64"}. */
#include "cmd_consume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "output.h"

#define CONSUME_BATCH 100
#define CONSUME_WAIT_MS 1000

static const char usage_text[] =
    "mqctl consume QUEUE SUB [--count N] [--wait DUR]";

static void print_json(const mq_msg *msg)
{
    size_t len;
    const void *p = mq_msg_payload(msg, &len);
    struct json j;

    json_begin(&j, stdout);
    json_obj_open(&j, NULL);
    json_str(&j, "queue", mq_msg_queue(msg));
    json_str(&j, "sub", mq_msg_sub(msg));
    json_u64(&j, "seq", mq_msg_seq(msg));
    json_str(&j, "id", mq_msg_id(msg));
    json_str(&j, "event", mq_msg_event(msg));
    json_u64(&j, "attempt", mq_msg_attempt(msg));
    json_u64(&j, "published_at_ms", mq_msg_published_at(msg));
    json_obj_open(&j, "headers");
    for (size_t i = 0; i < mq_msg_header_count(msg); i++) {
        const mq_header *h = mq_msg_header_at(msg, i);
        json_str(&j, h->key, h->value);
    }
    json_obj_close(&j);
    if (out_is_text(p, len)) {
        json_strn(&j, "payload", p, len);
        json_str(&j, "payload_encoding", "utf8");
    } else {
        char *b64 = out_base64(p, len);
        json_str(&j, "payload", b64 != NULL ? b64 : "");
        json_str(&j, "payload_encoding", "base64");
        free(b64);
    }
    json_obj_close(&j);
    json_end(&j);
}

static void print_text(const mq_msg *msg)
{
    size_t len;
    const void *p = mq_msg_payload(msg, &len);
    char at[32];

    out_time(mq_msg_published_at(msg), at, sizeof at);
    printf("seq %llu  id %s  event %s  attempt %u  published %s\n",
           (unsigned long long)mq_msg_seq(msg), mq_msg_id(msg),
           mq_msg_event(msg), mq_msg_attempt(msg), at);
    for (size_t i = 0; i < mq_msg_header_count(msg); i++) {
        const mq_header *h = mq_msg_header_at(msg, i);
        printf("  %s: %s\n", h->key, h->value);
    }
    if (out_is_text(p, len)) {
        printf("  %.*s\n", (int)len, (const char *)p);
    } else {
        char *b64 = out_base64(p, len);
        printf("  (%zu bytes, base64) %s\n", len, b64 != NULL ? b64 : "");
        free(b64);
    }
}

int cmd_consume(struct mqctl *m, int argc, char **argv)
{
    static const char *const valued[] = {"--count", "--wait", NULL};
    uint64_t count = 0, wait_ms = CONSUME_WAIT_MS, got = 0;
    struct args a;
    char err[128], obj[2 * MQ_NAME_MAX + 2];
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
    snprintf(obj, sizeof obj, "%.*s/%.*s", MQ_NAME_MAX, a.pos[0], MQ_NAME_MAX,
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
            if (m->json) {
                print_json(msgs[i]);
            } else {
                print_text(msgs[i]);
            }
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
