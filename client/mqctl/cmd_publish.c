/* cmd_publish.c: mqctl publish QUEUE EVENT DATA|@FILE|- [--id ID] [--header
 * k=v]... [--delay DUR] (flags: cmds.c). The payload is DATA, or the bytes
 * of FILE, or standard input (at most PUBLISH_PAYLOAD_MAX bytes, the
 * largest message a queue may take; a DATA that starts with @ can only
 * come through -). Publishes one message and prints its id and seq, whether
 * it was a duplicate of a message already stored with that id, the
 * durability it got ("durable (index N)": committed on a majority, each
 * having fsynced it, in raft entry N), and with --delay when it is due (by
 * this machine's clock: the node counts from its own receipt). --json
 * prints {"queue", "id", "seq", "duplicate", "durable", "index", and with
 * --delay "deliver_at_ms"}. */
#include "cmd_publish.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flagval.h"
#include "help.h"
#include "output.h"

#define PUBLISH_HEADERS_MAX 64
/* The largest message a queue takes (max_message_bytes at most 8 MiB). */
#define PUBLISH_PAYLOAD_MAX (8u << 20)

/* Reads all of @f (named @name) into *out (*len bytes; the caller frees
 * it). Returns 0, or 1 after saying why on stderr. */
static int read_all(FILE *f, const char *name, char **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);

    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
        if (n > PUBLISH_PAYLOAD_MAX) {
            free(buf);
            fprintf(stderr,
                    "mqctl: publish: %s holds more than %u bytes, the "
                    "largest message a queue takes\n",
                    name, PUBLISH_PAYLOAD_MAX);
            return 1;
        }
        if (n == cap) {
            char *more = realloc(buf, cap * 2);
            if (more == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = more;
            cap *= 2;
        }
    }
    if (buf == NULL) {
        fprintf(stderr, "mqctl: publish: out of memory reading %s\n", name);
        return 1;
    }
    if (ferror(f)) {
        fprintf(stderr, "mqctl: publish: reading %s: %s\n", name,
                strerror(errno));
        free(buf);
        return 1;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* The payload argument @arg: DATA itself, @FILE's bytes or stdin's ("-").
 * *owned is what to free (NULL for DATA). Returns 0, or 1 after saying
 * why. */
static int payload_of(const char *arg, const void **p, size_t *len,
                      char **owned)
{
    FILE *f;
    int rc;

    *owned = NULL;
    if (strcmp(arg, "-") == 0) {
        if ((rc = read_all(stdin, "standard input", owned, len)) == 0) {
            *p = *owned;
        }
        return rc;
    }
    if (arg[0] != '@') {
        *p = arg;
        *len = strlen(arg);
        return 0;
    }
    if ((f = fopen(arg + 1, "rb")) == NULL) {
        fprintf(stderr, "mqctl: publish: cannot open %s: %s\n", arg + 1,
                strerror(errno));
        return 1;
    }
    rc = read_all(f, arg + 1, owned, len);
    fclose(f);
    if (rc == 0) {
        *p = *owned;
    }
    return rc;
}

int run_publish(struct mqctl *m, const struct cmd *cmd, const struct args *a)
{
    mq_header headers[PUBLISH_HEADERS_MAX];
    char keys[PUBLISH_HEADERS_MAX][257];
    mq_pub pub = {0};
    mq_pub_result res;
    char durable[64], due[64] = "", *owned = NULL;
    size_t n_headers = 0;
    uint64_t deliver_at = 0;
    mq_client *c;
    int rv;

    for (size_t i = 0; i < a->n_flags; i++) {
        const char *kv = a->flags[i].value;
        const char *eq;
        if (strncmp(a->flags[i].name, "--header", 8) != 0) {
            continue;
        }
        eq = strchr(kv, '=');
        if (eq == NULL || eq == kv || (size_t)(eq - kv) >= sizeof keys[0]) {
            return usage_error(cmd,
                               "--header: \"%s\": say KEY=VALUE with a KEY of "
                               "1..256 bytes",
                               kv);
        }
        if (n_headers == PUBLISH_HEADERS_MAX) {
            return usage_error(cmd, "at most %d headers", PUBLISH_HEADERS_MAX);
        }
        memcpy(keys[n_headers], kv, (size_t)(eq - kv));
        keys[n_headers][eq - kv] = '\0';
        headers[n_headers].key = keys[n_headers];
        headers[n_headers].value = eq + 1;
        n_headers++;
    }
    if ((rv = flag_duration(cmd, a, "--delay", 0, &pub.delay_ms)) != 0) {
        return rv;
    }
    pub.id = args_get(a, "--id");
    pub.event = a->pos[1];
    pub.headers = headers;
    pub.n_headers = n_headers;
    if (payload_of(a->pos[2], &pub.payload, &pub.payload_len, &owned) != 0) {
        return 1;
    }
    if ((c = mqctl_client(m)) == NULL) {
        free(owned);
        return mqctl_client_exit();
    }
    if (pub.delay_ms > 0) {
        deliver_at = mqctl_now_ms() + pub.delay_ms;
    }
    rv = mq_publish(c, a->pos[0], &pub, &res, 0);
    free(owned);
    if (rv != MQ_OK) {
        return out_fail("publish", a->pos[0]);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_str(&j, "queue", a->pos[0]);
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
               a->pos[0], res.id, (unsigned long long)res.seq, durable);
    } else {
        printf("published to %s: seq %llu id %s, %s%s\n", a->pos[0],
               (unsigned long long)res.seq, res.id, durable, due);
    }
    return 0;
}
