/* main.c: mqctl, the admin CLI of mq: global options, then one command
 * group per file (cmd_*.c). Uses only mq.h.
 *
 *   mqctl [-s URL[,URL...]] [--ns NAMESPACE] [--json] [--timeout DUR]
 *         [--any-node] [--token TOKEN | --token-file FILE]
 *         [--tls-ca FILE [--tls-cert FILE --tls-key FILE]] COMMAND ...
 *
 * The key (docs/security.md) comes from --token, else --token-file, else
 * the environment's MQ_TOKEN; it is never printed (mqctl key create and
 * rotate print the new token they are given, once).
 *
 * Reads (read, message status) are answered by the leader, so that a
 * command sees what the commands before it did; --any-node lets any node
 * answer them, followers included, which may be a moment behind.
 *
 * -h or --help anywhere (before a "--") prints the usage; --json may come
 * anywhere too. Exit codes: 0 success, 1 the command failed (one line on
 * stderr), 2 usage error. */
#include "main.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "cmd_consume.h"
#include "cmd_key.h"
#include "cmd_message.h"
#include "cmd_node.h"
#include "cmd_publish.h"
#include "cmd_queue.h"
#include "cmd_read.h"
#include "cmd_status.h"
#include "cmd_sub.h"
#include "output.h"

static const char usage_text[] =
    "mqctl [-s URL[,URL...]] [--ns NAMESPACE] [--json] [--timeout DUR] "
    "[--any-node]\n"
    "      [--token TOKEN | --token-file FILE]\n"
    "      [--tls-ca FILE [--tls-cert FILE --tls-key FILE]] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  status\n"
    "  node add ID PEER-URL\n"
    "  node remove ID\n"
    "  node list\n"
    "  node reload-tls\n"
    "  leader transfer [ID]\n"
    "  queue create NAME [--retention limits|work] [--discard old|reject]\n"
    "               [--max-messages N] [--max-bytes N] [--max-age DUR]\n"
    "               [--max-message-bytes N] [--duplicate-window DUR]\n"
    "               [--ack-timeout DUR] [--max-deliveries N] [--delay DUR]\n"
    "               [--max-delay DUR] [--dead-letter-queue NAME]\n"
    "               [--status-ttl DUR] [--status-max N]\n"
    "  queue list\n"
    "  queue info NAME\n"
    "  queue purge NAME\n"
    "  queue delete NAME\n"
    "  queue redrive DLQ --to QUEUE [--rate N/s (default 100/s)] [--batch N]\n"
    "                [--force]\n"
    "  sub create QUEUE NAME [--start new|first|SEQ|time:T] [--filter F]...\n"
    "             [--ack-timeout DUR] [--max-deliveries N]\n"
    "  sub list [QUEUE]\n"
    "  sub info QUEUE NAME\n"
    "  sub delete QUEUE NAME\n"
    "  publish QUEUE EVENT DATA [--id ID] [--header KEY=VALUE]... [--delay "
    "DUR]\n"
    "  consume QUEUE SUB [--count N] [--wait DUR]\n"
    "  read QUEUE [--from-seq N | --from-time T] [--count N] [--min-index N]\n"
    "  message status ID [--queue QUEUE]\n"
    "  message cancel ID [--queue QUEUE]\n"
    "  key create NAME [--allow NS:VERBS]... [--deny NS:VERBS]... "
    "[--expires-in DUR]\n"
    "  key update NAME [--allow NS:VERBS]... [--deny NS:VERBS]...\n"
    "             [--expires-in DUR | --no-expiry]\n"
    "  key list\n"
    "  key info NAME\n"
    "  key rotate NAME [--retire-old]\n"
    "  key revoke NAME\n"
    "\n"
    "-s: node URLs (default " MQCTL_DEFAULT_URLS ")\n"
    "--ns: namespace of QUEUE names given without one (NS/QUEUE); default:\n"
    "      the node's, \"default\"\n"
    "--any-node: read and message status may be answered by any node (a\n"
    "      follower may be a moment behind); default: by the leader\n"
    "--token: the key (mqk_NAME_SECRET, or the bootstrap secret); else\n"
    "      --token-file FILE (its first line), else $MQ_TOKEN\n"
    "NS:VERBS: a namespace (prd), a prefix and * (team-*) or *, and verbs\n"
    "      among publish,consume,manage,admin (admin on * only)\n"
    "--tls-ca: CA file (PEM) that signs the nodes' certificates, for\n"
    "      tls+tcp:// URLs (default: $MQ_TLS_CA); --tls-cert, --tls-key: a\n"
    "      client certificate and its key, for nodes that require one\n"
    "      (default: $MQ_TLS_CERT, $MQ_TLS_KEY)\n"
    "DUR: a duration such as 500ms, 5s, 2m, 1h, 7d\n"
    "T: a time: RFC 3339 (2026-11-23T20:00:00Z), ms since the epoch, or a\n"
    "   duration ago (-5m)\n"
    "F: an event filter: order.created, order.* (one token), order.> (the "
    "rest)\n"
    "node add waits until the node has caught up (--timeout, by default at\n"
    "least 60s); leader transfer without an ID picks the most up-to-date "
    "voter;\n"
    "node reload-tls: each node of -s reads its TLS files again (as SIGHUP)";

static int client_exit = 1;

mq_client *mqctl_client(struct mqctl *m)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_err rv;

    if (m->c != NULL) {
        return m->c;
    }
    o.urls = m->urls;
    o.ns = m->ns;
    o.timeout_ms = m->timeout_ms;
    o.token = m->token;
    o.token_file = m->token_file;
    /* Each mqctl is a new client that knows nothing of the writes of the
     * one before: the leader has them all. */
    o.reads_from_leader = !m->any_node;
    o.tls_ca_file = m->tls_ca;
    o.tls_cert_file = m->tls_cert;
    o.tls_key_file = m->tls_key;
    if (m->timeout_ms != 0 && m->timeout_ms < 2000) {
        o.attempt_timeout_ms = m->timeout_ms; /* default is 2 s */
    }
    rv = mq_client_open(&m->c, &o);
    if (rv != MQ_OK) {
        /* libmq's message names the bad URL or namespace. */
        fprintf(stderr, "mqctl: %s\n", mq_errmsg());
        client_exit = rv == MQ_ERR_INVALID ? 2 : 1;
        return NULL;
    }
    return m->c;
}

int mqctl_client_exit(void)
{
    return client_exit;
}

uint64_t mqctl_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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
    struct mqctl m = {.urls = MQCTL_DEFAULT_URLS,
                      .tls_ca = getenv("MQ_TLS_CA"),
                      .tls_cert = getenv("MQ_TLS_CERT"),
                      .tls_key = getenv("MQ_TLS_KEY")};
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
        if (strcmp(a, "--any-node") == 0) {
            m.any_node = 1;
            continue;
        }
        const char **tls = strcmp(a, "--tls-ca") == 0     ? &m.tls_ca
                           : strcmp(a, "--tls-cert") == 0 ? &m.tls_cert
                           : strcmp(a, "--tls-key") == 0  ? &m.tls_key
                                                          : NULL;
        if (tls != NULL) {
            if (i + 1 == argc) {
                return usage("%s needs a file", a);
            }
            *tls = argv[++i];
            continue;
        }
        if (strncmp(a, "--timeout=", 10) == 0) {
            val = a + 10;
        } else if (strncmp(a, "--ns=", 5) == 0) {
            val = a + 5;
        } else if (strncmp(a, "-s=", 3) == 0) {
            val = a + 3;
        } else if (strncmp(a, "--token=", 8) == 0) {
            m.token = a + 8;
            continue;
        } else if (strncmp(a, "--token-file=", 13) == 0) {
            m.token_file = a + 13;
            continue;
        } else if (strcmp(a, "-s") == 0 || strcmp(a, "--timeout") == 0 ||
                   strcmp(a, "--ns") == 0 || strcmp(a, "--token") == 0 ||
                   strcmp(a, "--token-file") == 0) {
            if (i + 1 == argc) {
                return usage("%s needs a value", a);
            }
            val = argv[++i];
        } else {
            return usage("unknown option %s", a);
        }
        if (strcmp(a, "--token") == 0) {
            m.token = val;
        } else if (strcmp(a, "--token-file") == 0) {
            m.token_file = val;
        } else if (a[1] == 's') {
            m.urls = val;
        } else if (a[2] == 'n') {
            m.ns = val;
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
    if (m.token != NULL && m.token_file != NULL) {
        return usage("give --token or --token-file, not both");
    }
    if (m.token == NULL && m.token_file == NULL) {
        m.token = getenv("MQ_TOKEN");
    }
    for (int k = i; k < argc && strcmp(argv[k], "--") != 0; k++) {
        if (strcmp(argv[k], "-h") == 0 || strcmp(argv[k], "--help") == 0) {
            printf("usage: %s\n", usage_text);
            return 0;
        }
        /* --json may follow the command too: taken out of its arguments. */
        if (strcmp(argv[k], "--json") == 0) {
            m.json = 1;
            memmove(&argv[k], &argv[k + 1],
                    (size_t)(argc - k - 1) * sizeof *argv);
            argc--;
            k--;
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
    } else if (strcmp(cmd, "read") == 0) {
        rv = cmd_read(&m, argc - i, argv + i);
    } else if (strcmp(cmd, "message") == 0) {
        rv = cmd_message(&m, argc - i, argv + i);
    } else if (strcmp(cmd, "node") == 0) {
        rv = cmd_node(&m, argc - i, argv + i);
    } else if (strcmp(cmd, "leader") == 0) {
        rv = cmd_leader(&m, argc - i, argv + i);
    } else if (strcmp(cmd, "key") == 0) {
        rv = cmd_key(&m, argc - i, argv + i);
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
