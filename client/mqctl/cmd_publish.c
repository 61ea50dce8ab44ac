/* cmd_publish.c: mqctl publish QUEUE EVENT DATA [--id ID] [--header k=v]...
 * [--delay DUR]. Publishes one message and prints its id and seq, whether
 * it was a duplicate of a message already stored with that id, the
 * durability it got ("durable (index N)": committed on a majority, each
 * having fsynced it, in raft entry N), and with --delay when it is due (by
 * this machine's clock: the node counts from its own receipt). --json
 * prints {"queue", "id", "seq", "duplicate", "durable", "index", and with
 * --delay "deliver_at_ms"}. */
#include "cmd_publish.h"

#include <stdio.h>
#include <string.h>

#include "args.h"
#include "output.h"

#define PUBLISH_HEADERS_MAX 64

static const char usage_text[] =
    "mqctl publish QUEUE EVENT DATA [--id ID] [--header KEY=VALUE]... "
    "[--delay DUR]";

int cmd_publish(struct mqctl *m, int argc, char **argv)
{
    static const char *const valued[] = {"--id", "--header", "--delay", NULL};
    mq_header headers[PUBLISH_HEADERS_MAX];
    char keys[PUBLISH_HEADERS_MAX][257];
    mq_pub pub = {0};
    mq_pub_result res;
    struct args a;
    char err[128], durable[64], due[64] = "";
    const char *s;
    size_t n_headers = 0;
    uint64_t deliver_at = 0;
    mq_client *c;

    if (args_split(argc, argv, valued, NULL, &a, err, sizeof err) != 0) {
        return out_usage(usage_text, "publish: %s", err);
    }
    if (a.n_pos != 3) {
        return out_usage(usage_text, "publish takes QUEUE, EVENT and DATA");
    }
    for (size_t i = 0; i < a.n_flags; i++) {
        const char *kv = a.flags[i].value;
        const char *eq;
        if (strncmp(a.flags[i].name, "--header", 8) != 0) {
            continue;
        }
        eq = strchr(kv, '=');
        if (eq == NULL || eq == kv || (size_t)(eq - kv) >= sizeof keys[0]) {
            return out_usage(usage_text,
                             "--header %s: say KEY=VALUE with a KEY of 1..256 "
                             "bytes",
                             kv);
        }
        if (n_headers == PUBLISH_HEADERS_MAX) {
            return out_usage(usage_text, "at most %d headers",
                             PUBLISH_HEADERS_MAX);
        }
        memcpy(keys[n_headers], kv, (size_t)(eq - kv));
        keys[n_headers][eq - kv] = '\0';
        headers[n_headers].key = keys[n_headers];
        headers[n_headers].value = eq + 1;
        n_headers++;
    }
    if ((s = args_get(&a, "--delay")) != NULL &&
        args_duration_ms(s, &pub.delay_ms) != 0) {
        return out_usage(usage_text, "--delay %s is not a duration such as 5m",
                         s);
    }
    pub.id = args_get(&a, "--id");
    pub.event = a.pos[1];
    pub.headers = headers;
    pub.n_headers = n_headers;
    pub.payload = a.pos[2];
    pub.payload_len = strlen(a.pos[2]);
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (pub.delay_ms > 0) {
        deliver_at = mqctl_now_ms() + pub.delay_ms;
    }
    if (mq_publish(c, a.pos[0], &pub, &res, 0) != MQ_OK) {
        return out_fail("publish", a.pos[0]);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_str(&j, "queue", a.pos[0]);
        json_str(&j, "id", res.id);
        json_u64(&j, "seq", res.seq);
        json_bool(&j, "duplicate", res.duplicate);
        json_bool(&j, "durable", res.durable);
        json_u64(&j, "index", res.index);
        if (deliver_at != 0) {
            json_u64(&j, "deliver_at_ms", deliver_at);
        }
        json_obj_close(&j);
        json_end(&j);
        return 0;
    }
    snprintf(durable, sizeof durable, "%s (index %llu)",
             res.durable ? "durable" : "not durable",
             (unsigned long long)res.index);
    if (deliver_at != 0 && !res.duplicate) {
        char at[32];
        out_time(deliver_at, at, sizeof at);
        snprintf(due, sizeof due, ", deliver at %s", at);
    }
    if (res.duplicate) {
        printf("duplicate: %s already has id %s at seq %llu (not stored "
               "again), %s\n",
               a.pos[0], res.id, (unsigned long long)res.seq, durable);
    } else {
        printf("published to %s: seq %llu id %s, %s%s\n", a.pos[0],
               (unsigned long long)res.seq, res.id, durable, due);
    }
    return 0;
}
