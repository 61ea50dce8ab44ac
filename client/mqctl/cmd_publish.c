/* cmd_publish.c: mqctl publish QUEUE EVENT DATA [--id ID] [--header k=v]...
 * Publishes one message and prints its id and seq, and whether it was a
 * duplicate of a message already stored with that id. --json prints
 * {"queue", "id", "seq", "duplicate"}. */
#include "cmd_publish.h"

#include <stdio.h>
#include <string.h>

#include "args.h"
#include "output.h"

#define PUBLISH_HEADERS_MAX 64

static const char usage_text[] =
    "mqctl publish QUEUE EVENT DATA [--id ID] [--header KEY=VALUE]...";

int cmd_publish(struct mqctl *m, int argc, char **argv)
{
    static const char *const valued[] = {"--id", "--header", NULL};
    mq_header headers[PUBLISH_HEADERS_MAX];
    char keys[PUBLISH_HEADERS_MAX][257];
    mq_pub pub = {0};
    mq_pub_result res;
    struct args a;
    char err[128];
    size_t n_headers = 0;
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
    pub.id = args_get(&a, "--id");
    pub.event = a.pos[1];
    pub.headers = headers;
    pub.n_headers = n_headers;
    pub.payload = a.pos[2];
    pub.payload_len = strlen(a.pos[2]);
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
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
        json_obj_close(&j);
        json_end(&j);
    } else if (res.duplicate) {
        printf("duplicate: %s already has id %s at seq %llu (not stored "
               "again)\n",
               a.pos[0], res.id, (unsigned long long)res.seq);
    } else {
        printf("published to %s: seq %llu id %s\n", a.pos[0],
               (unsigned long long)res.seq, res.id);
    }
    return 0;
}
