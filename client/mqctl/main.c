/* main.c: mqctl, the admin CLI of mq: its own flags, then one command of
 * the table of cmds.c, whose flags and positionals are checked here
 * before the command runs (cmd_*.c). Uses only mq.h.
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
 * -h or --help anywhere (before a "--") prints the help of what precedes
 * it: mqctl's, a group's or a command's; --json may come anywhere too.
 * --version, --man and --completion bash print what they say. Exit codes:
 * 0 success, 1 the command failed (one line on stderr), 2 usage error (one
 * line and a hint). */
#include "main.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "cmds.h"
#include "help.h"

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

/* Sets global flag @f to @val (NULL for a flag without value). Returns 0,
 * or a usage error's exit code. */
static int set_global(struct mqctl *m, const struct cmd_flag *f,
                      const char *val)
{
    const char *n = f->name;

    if (strcmp(n, "-s") == 0) {
        m->urls = val;
    } else if (strcmp(n, "--ns") == 0) {
        m->ns = val;
    } else if (strcmp(n, "--json") == 0) {
        m->json = 1;
    } else if (strcmp(n, "--any-node") == 0) {
        m->any_node = 1;
    } else if (strcmp(n, "--token") == 0) {
        m->token = val;
    } else if (strcmp(n, "--token-file") == 0) {
        m->token_file = val;
    } else if (strcmp(n, "--tls-ca") == 0) {
        m->tls_ca = val;
    } else if (strcmp(n, "--tls-cert") == 0) {
        m->tls_cert = val;
    } else if (strcmp(n, "--tls-key") == 0) {
        m->tls_key = val;
    } else if (strcmp(n, "--timeout") == 0) {
        uint64_t ms;
        if (mq_duration_parse(val, &ms) != MQ_OK) {
            return usage_error(NULL, "--timeout: %s", mq_errmsg());
        }
        if (ms == 0 || ms > UINT32_MAX) {
            return usage_error(NULL, "--timeout: %s is not in 1ms..49d", val);
        }
        m->timeout_ms = (uint32_t)ms;
    }
    return 0;
}

/* "missing NAME" or "too many arguments" for @c given @n positionals. */
static int wrong_count(const struct cmd *c, const struct args *a)
{
    if (a->n_pos < c->min_pos) {
        return usage_error(c, "missing %s", c->args);
    }
    if (c->max_pos == 0) {
        return usage_error(c, "takes no arguments, not \"%s\"", a->pos[0]);
    }
    return usage_error(c, "too many arguments (\"%s\"): takes %s",
                       a->pos[c->max_pos], c->args);
}

/* Splits @c's arguments as its table entry says into @a. Returns 0, or a
 * usage error's exit code. */
static int split_args(const struct cmd *c, int argc, char **argv,
                      struct args *a)
{
    const char *valued[ARGS_MAX + 1], *plain[ARGS_MAX + 1];
    size_t nv = 0, np = 0;
    char err[160];

    for (const struct cmd_flag *f = c->flags; f != NULL && f->name != NULL;
         f++) {
        if (f->arg != NULL) {
            valued[nv++] = f->name;
        } else {
            plain[np++] = f->name;
        }
    }
    valued[nv] = NULL;
    plain[np] = NULL;
    if (args_split(argc, argv, valued, plain, a, err, sizeof err) != 0) {
        return usage_error(c, "%s", err);
    }
    if (a->n_pos < c->min_pos || a->n_pos > c->max_pos) {
        return wrong_count(c, a);
    }
    return 0;
}

/* The help of what @argc/@argv (after mqctl's flags, "help" or "--help"
 * taken out) name: a command, a group, or mqctl. */
static int print_help(int argc, char **argv)
{
    int words;
    const struct cmd *c = cmd_find(argc, argv, &words);

    if (c != NULL) {
        help_cmd(stdout, c);
    } else if (argc > 0 && argv[0][0] != '-' && cmd_is_group(argc, argv, 1)) {
        help_group(stdout, argv[0]);
    } else {
        help_all(stdout);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct mqctl m = {.urls = MQCTL_DEFAULT_URLS,
                      .tls_ca = getenv("MQ_TLS_CA"),
                      .tls_cert = getenv("MQ_TLS_CERT"),
                      .tls_key = getenv("MQ_TLS_KEY")};
    const struct cmd *c;
    struct args a;
    int i, rv, words, help = 0;

    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        char name[32];
        const struct cmd_flag *f;
        const char *val = NULL;

        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        snprintf(name, sizeof name, "%.*s",
                 (int)(eq != NULL ? (size_t)(eq - arg) : strlen(arg)), arg);
        if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
            help = 1;
            continue;
        }
        if (strcmp(name, "--version") == 0) {
            printf("mqctl %s (libmq %s)\n", MQ_VERSION_STRING, mq_version());
            return 0;
        }
        if (strcmp(name, "--man") == 0) {
            help_man(stdout);
            return 0;
        }
        f = cmd_flag_find(NULL, name);
        if (f == NULL) {
            return usage_error(NULL, "unknown flag %s", name);
        }
        if (f->arg != NULL) {
            if (eq != NULL) {
                val = eq + 1;
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                return usage_error(NULL, "%s needs a value (%s)", name, f->arg);
            }
        } else if (eq != NULL) {
            return usage_error(NULL, "%s takes no value", name);
        }
        if (strcmp(name, "--completion") == 0) {
            if (strcmp(val, "bash") != 0) {
                return usage_error(NULL, "--completion: say bash");
            }
            help_completion_bash(stdout);
            return 0;
        }
        if ((rv = set_global(&m, f, val)) != 0) {
            return rv;
        }
    }
    /* --json may follow the command too, and -h or --help: taken out of
     * its arguments. */
    for (int k = i; k < argc && strcmp(argv[k], "--") != 0; k++) {
        int json = strcmp(argv[k], "--json") == 0;
        int h = strcmp(argv[k], "-h") == 0 || strcmp(argv[k], "--help") == 0;
        if (json || h) {
            m.json |= json;
            help |= h;
            memmove(&argv[k], &argv[k + 1],
                    (size_t)(argc - k - 1) * sizeof *argv);
            argc--;
            k--;
        }
    }
    if (i < argc && strcmp(argv[i], "help") == 0) {
        return print_help(argc - i - 1, argv + i + 1);
    }
    if (help) {
        return print_help(argc - i, argv + i);
    }
    if (i == argc) {
        return usage_error(NULL, "no command given");
    }
    if (m.token != NULL && m.token_file != NULL) {
        return usage_error(NULL, "give --token or --token-file, not both");
    }
    if (m.token == NULL && m.token_file == NULL) {
        m.token = getenv("MQ_TOKEN");
    }
    c = cmd_find(argc - i, argv + i, &words);
    if (c == NULL) {
        if (cmd_is_group(argc - i, argv + i, 1)) {
            return i + 1 < argc
                       ? usage_error_group(argv[i], "unknown command %s",
                                           argv[i + 1])
                       : usage_error_group(argv[i], "which command?");
        }
        return usage_error(NULL, "unknown command %s", argv[i]);
    }
    i += words;
    if ((rv = split_args(c, argc - i, argv + i, &a)) != 0) {
        return rv;
    }
    rv = c->run(&m, c, &a);
    mq_client_close(m.c);
    if (fflush(stdout) != 0 && rv == 0) {
        fprintf(stderr, "mqctl: writing the output failed\n");
        rv = 1;
    }
    return rv;
}
