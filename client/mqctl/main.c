/* main.c: mqctl, the admin CLI of mq: global options, then one command
 * group per file (cmd_*.c). Uses only mq.h.
 *
 *   mqctl [-s URL[,URL...]] [--json] [--timeout DUR] COMMAND ...
 *
 * -h or --help anywhere (before a "--") prints the usage. Exit codes: 0
 * success, 1 the command failed (one line on stderr), 2 usage error. */
#include "main.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cmd_consume.h"
#include "cmd_publish.h"
#include "cmd_queue.h"
#include "cmd_status.h"
#include "cmd_sub.h"
#include "output.h"

static const char usage_text[] =
    "mqctl [-s URL[,URL...]] [--json] [--timeout DUR] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  status\n"
    "  queue create NAME [--retention limits|work] [--discard old|reject]\n"
    "               [--max-messages N] [--max-bytes N] [--max-age DUR]\n"
    "               [--max-message-bytes N] [--duplicate-window DUR]\n"
    "               [--ack-timeout DUR] [--max-deliveries N]\n"
    "  queue list\n"
    "  queue info NAME\n"
    "  queue delete NAME\n"
    "  sub create QUEUE NAME [--start new|first|SEQ] [--ack-timeout DUR]\n"
    "             [--max-deliveries N]\n"
    "  sub list [QUEUE]\n"
    "  sub info QUEUE NAME\n"
    "  sub delete QUEUE NAME\n"
    "  publish QUEUE EVENT DATA [--id ID] [--header KEY=VALUE]...\n"
    "  consume QUEUE SUB [--count N] [--wait DUR]\n"
    "\n"
    "-s: node URLs (default " MQCTL_DEFAULT_URLS ")\n"
    "DUR: a duration such as 500ms, 5s, 2m, 1h";

static int client_exit = 1;

mq_client *mqctl_client(struct mqctl *m)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_err rv;

    if (m->c != NULL) {
        return m->c;
    }
    o.urls = m->urls;
    o.timeout_ms = m->timeout_ms;
    if (m->timeout_ms != 0 && m->timeout_ms < 2000) {
        o.attempt_timeout_ms = m->timeout_ms; /* default is 2 s */
    }
    rv = mq_client_open(&m->c, &o);
    if (rv != MQ_OK) {
        fprintf(stderr, "mqctl: -s %s: %s\n", m->urls, mq_errmsg());
        client_exit = rv == MQ_ERR_INVALID ? 2 : 1;
        return NULL;
    }
    return m->c;
}

int mqctl_client_exit(void)
{
    return client_exit;
}

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage(const char *fmt, ...)
{
    va_list ap;

    fputs("mqctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s\n", usage_text);
    return 2;
}

int main(int argc, char **argv)
{
    struct mqctl m = {.urls = MQCTL_DEFAULT_URLS};
    const char *cmd;
    int i, rv;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            printf("usage: %s\n", usage_text);
            return 0;
        }
        if (strcmp(a, "--json") == 0) {
            m.json = 1;
            continue;
        }
        if (strncmp(a, "--timeout=", 10) == 0) {
            val = a + 10;
        } else if (strncmp(a, "-s=", 3) == 0) {
            val = a + 3;
        } else if (strcmp(a, "-s") == 0 || strcmp(a, "--timeout") == 0) {
            if (i + 1 == argc) {
                return usage("%s needs a value", a);
            }
            val = argv[++i];
        } else {
            return usage("unknown option %s", a);
        }
        if (a[1] == 's') {
            m.urls = val;
        } else {
            uint64_t ms;
            if (args_duration_ms(val, &ms) != 0 || ms == 0 || ms > UINT32_MAX) {
                return usage("--timeout %s is not a duration such as 5s", val);
            }
            m.timeout_ms = (uint32_t)ms;
        }
    }
    if (i == argc) {
        return usage("no command given");
    }
    for (int k = i; k < argc && strcmp(argv[k], "--") != 0; k++) {
        if (strcmp(argv[k], "-h") == 0 || strcmp(argv[k], "--help") == 0) {
            printf("usage: %s\n", usage_text);
            return 0;
        }
    }
    cmd = argv[i++];
    if (strcmp(cmd, "status") == 0) {
        rv = cmd_status(&m, argc - i, argv + i);
    } else if (strcmp(cmd, "queue") == 0) {
        rv = cmd_queue(&m, argc - i, argv + i);
    } else if (strcmp(cmd, "sub") == 0) {
        rv = cmd_sub(&m, argc - i, argv + i);
    } else if (strcmp(cmd, "publish") == 0) {
        rv = cmd_publish(&m, argc - i, argv + i);
    } else if (strcmp(cmd, "consume") == 0) {
        rv = cmd_consume(&m, argc - i, argv + i);
    } else if (strcmp(cmd, "help") == 0) {
        printf("usage: %s\n", usage_text);
        rv = 0;
    } else {
        rv = usage("unknown command %s", cmd);
    }
    mq_client_close(m.c);
    if (fflush(stdout) != 0 && rv == 0) {
        fprintf(stderr, "mqctl: writing the output failed\n");
        rv = 1;
    }
    return rv;
}
