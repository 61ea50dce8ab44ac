/* help.c: help, usage errors, manual page and completion of mqctl, from
 * the table of cmds.c (help.h). */
#include "help.h"

#include <stdarg.h>
#include <string.h>

#include "mq.h"

#define HELP_WIDTH 79
#define FLAG_COL 26 /* where a flag's help starts */

/* Writes @text from column @col on, wrapped at HELP_WIDTH, the first line
 * starting at column @at (already written; past @col: on a line of its
 * own). Paragraphs ("\n\n") are kept, separated by an empty line. */
static void wrap(FILE *out, const char *text, int col, int at)
{
    const char *p = text;
    int fresh = 1; /* nothing written on this line after the indent */

    if (at > col) {
        fputc('\n', out);
        at = 0;
    }
    fprintf(out, "%*s", col - at, "");
    at = col;
    while (*p != '\0') {
        size_t word = strcspn(p, " \n");
        if (!fresh && at + 1 + (int)word > HELP_WIDTH) {
            fprintf(out, "\n%*s", col, "");
            at = col;
            fresh = 1;
        }
        if (!fresh) {
            fputc(' ', out);
            at++;
        }
        fwrite(p, 1, word, out);
        at += (int)word;
        fresh = 0;
        p += word;
        if (strncmp(p, "\n\n", 2) == 0) {
            fprintf(out, "\n\n%*s", col, "");
            at = col;
            fresh = 1;
            p += 2;
        }
        while (*p == ' ' || *p == '\n') {
            p++;
        }
    }
    fputc('\n', out);
}

/* "mqctl queue create NAME [FLAGS]" into @buf. */
static void synopsis(const struct cmd *c, char *buf, size_t len)
{
    snprintf(buf, len, "mqctl %s%s%s%s", c->name, c->args[0] ? " " : "",
             c->args, c->flags != NULL ? " [FLAGS]" : "");
}

static void print_flags(FILE *out, const struct cmd_flag *f)
{
    for (; f != NULL && f->name != NULL; f++) {
        char head[96], text[512];
        int n = snprintf(head, sizeof head, "  %s%s%s", f->name,
                         f->arg ? " " : "", f->arg ? f->arg : "");
        fputs(head, out);
        if (f->def != NULL) {
            snprintf(text, sizeof text, "%s (default: %s)", f->help, f->def);
        } else {
            snprintf(text, sizeof text, "%s", f->help);
        }
        wrap(out, text, FLAG_COL, n < FLAG_COL - 1 ? n : FLAG_COL + 1);
    }
}

/* The groups in table order, once each: "status", "node", "queue"... */
static int first_of_group(const struct cmd *c, size_t *len)
{
    *len = strcspn(c->name, " ");
    for (const struct cmd *p = cmds; p != c; p++) {
        if (strncmp(p->name, c->name, *len) == 0 &&
            (p->name[*len] == ' ' || p->name[*len] == '\0')) {
            return 0;
        }
    }
    return 1;
}

void help_all(FILE *out)
{
    fprintf(out, "usage: mqctl [FLAGS] COMMAND [ARGS] [COMMAND FLAGS]\n\n"
                 "The admin CLI of mq. Commands:\n");
    for (const struct cmd *c = cmds; c->name != NULL; c++) {
        char head[96];
        int n = snprintf(head, sizeof head, "  %s%s%s", c->name,
                         c->args[0] ? " " : "", c->args);
        fputs(head, out);
        wrap(out, c->summary, 36, n < 35 ? n : 37);
    }
    fprintf(out, "\nmqctl's flags (before the command):\n");
    print_flags(out, global_flags);
    fprintf(out,
            "\nSizes take units (512KiB, 1MB, 1.5GiB), durations too (500ms, "
            "90s, 1.5h, 7d,\n1h30m); T is a time: RFC 3339 "
            "(2026-11-23T20:00:00Z), ms since the epoch, or\na duration ago "
            "(-5m). Exit codes: 0 done, 1 failed (one line on stderr), 2 "
            "usage.\nmqctl COMMAND --help says more of a command.\n");
}

void help_group(FILE *out, const char *group)
{
    size_t glen = strlen(group);

    fprintf(out, "usage: mqctl %s COMMAND ...\n\n", group);
    for (const struct cmd *c = cmds; c->name != NULL; c++) {
        if (strncmp(c->name, group, glen) == 0 && c->name[glen] == ' ') {
            char head[96];
            int n = snprintf(head, sizeof head, "  %s%s%s", c->name,
                             c->args[0] ? " " : "", c->args);
            fputs(head, out);
            wrap(out, c->summary, 36, n < 35 ? n : 37);
        }
    }
    fprintf(out, "\nmqctl %s COMMAND --help says more of a command.\n", group);
}

void help_cmd(FILE *out, const struct cmd *c)
{
    char syn[256];

    synopsis(c, syn, sizeof syn);
    fprintf(out, "usage: %s\n\n", syn);
    /* The summary as a sentence. */
    char first[512];
    snprintf(first, sizeof first, "%c%s.",
             c->summary[0] >= 'a' && c->summary[0] <= 'z'
                 ? c->summary[0] - 'a' + 'A'
                 : c->summary[0],
             c->summary + 1);
    wrap(out, first, 0, 0);
    if (c->details != NULL) {
        fputc('\n', out);
        wrap(out, c->details, 0, 0);
    }
    if (c->flags != NULL) {
        fprintf(out, "\nflags:\n");
        print_flags(out, c->flags);
    }
    fprintf(out, "\nmqctl's own flags (-s, --json, --timeout, --token ...): "
                 "mqctl --help.\n");
}

/* ---- usage errors ---------------------------------------------------- */

int usage_error(const struct cmd *c, const char *fmt, ...)
{
    va_list ap;
    char syn[256];

    fprintf(stderr, "mqctl: %s%s", c != NULL ? c->name : "",
            c != NULL ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (c != NULL) {
        synopsis(c, syn, sizeof syn);
        fprintf(stderr, "\nhint: %s; mqctl %s --help says more\n", syn,
                c->name);
    } else {
        fprintf(stderr, "\nhint: mqctl [FLAGS] COMMAND ...; mqctl --help "
                        "lists the commands and flags\n");
    }
    return 2;
}

int usage_error_group(const char *group, const char *fmt, ...)
{
    va_list ap;
    size_t glen = strlen(group);
    int first = 1;

    fprintf(stderr, "mqctl: %s: ", group);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nhint: mqctl %s ", group);
    for (const struct cmd *c = cmds; c->name != NULL; c++) {
        if (strncmp(c->name, group, glen) == 0 && c->name[glen] == ' ') {
            fprintf(stderr, "%s%s", first ? "" : "|", c->name + glen + 1);
            first = 0;
        }
    }
    fprintf(stderr, " ...; mqctl %s --help says more\n", group);
    return 2;
}

/* ---- manual page ----------------------------------------------------- */

/* Writes @s for roff: backslashes as \e, "-" as "\-", a leading dot or
 * quote escaped, and paragraphs ("\n\n") as .PP. */
static void roff(FILE *out, const char *s)
{
    int line_start = 1;

    for (; *s != '\0'; s++) {
        if (line_start && (*s == '.' || *s == '\'')) {
            fputs("\\&", out);
        }
        line_start = 0;
        if (*s == '\\') {
            fputs("\\e", out);
        } else if (*s == '-') {
            fputs("\\-", out);
        } else if (s[0] == '\n' && s[1] == '\n') {
            fputs("\n.PP\n", out);
            s++;
            line_start = 1;
        } else {
            fputc(*s, out);
        }
    }
}

static void man_flags(FILE *out, const struct cmd_flag *f)
{
    for (; f != NULL && f->name != NULL; f++) {
        fputs(".TP\n\\fB", out);
        roff(out, f->name);
        fputs("\\fR", out);
        if (f->arg != NULL) {
            fputs(" \\fI", out);
            roff(out, f->arg);
            fputs("\\fR", out);
        }
        fputc('\n', out);
        roff(out, f->help);
        if (f->def != NULL) {
            fputs(" (default: ", out);
            roff(out, f->def);
            fputc(')', out);
        }
        fputs(".\n", out);
    }
}

void help_man(FILE *out)
{
    fprintf(out,
            ".TH MQCTL 1 \"\" \"mq %s\" \"mq manual\"\n"
            ".SH NAME\n"
            "mqctl \\- the admin CLI of the mq replicated message queue\n"
            ".SH SYNOPSIS\n"
            ".B mqctl\n"
            "[\\fIFLAGS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR] "
            "[\\fICOMMAND FLAGS\\fR]\n"
            ".SH DESCRIPTION\n"
            "mqctl asks the nodes of an mq cluster (see\n"
            ".BR mqd (1))\n"
            "what they hold and changes it: queues, subscriptions, messages, "
            "members, keys; it checks the cluster's health and shows its "
            "queues live. It finds the leader by itself. Tables are for "
            "people; \\fB\\-\\-json\\fR prints JSON for scripts.\n"
            ".PP\n"
            "Sizes take units: 512KiB, 1MB, 1.5GiB (kB, MB, GB: powers of "
            "1000; KiB, MiB, GiB: powers of 1024). Durations too: 500ms, "
            "90s, 1.5h, 7d, 1h30m. A time T is RFC 3339 "
            "(2026\\-11\\-23T20:00:00Z), ms since the epoch, or a duration "
            "ago (\\-5m).\n"
            ".SH FLAGS\n"
            "Before the command (\\fB\\-\\-json\\fR and \\fB\\-\\-help\\fR "
            "anywhere).\n",
            MQ_VERSION_STRING);
    man_flags(out, global_flags);
    fputs(".SH COMMANDS\n", out);
    for (const struct cmd *c = cmds; c->name != NULL; c++) {
        fputs(".SS \"", out);
        roff(out, c->name);
        if (c->args[0] != '\0') {
            fputc(' ', out);
            roff(out, c->args);
        }
        fputs("\"\n", out);
        roff(out, c->summary);
        fputs(".\n", out);
        if (c->details != NULL) {
            fputs(".PP\n", out);
            roff(out, c->details);
            fputc('\n', out);
        }
        if (c->flags != NULL) {
            man_flags(out, c->flags);
        }
    }
    fputs(".SH EXIT STATUS\n"
          "0: done (for check: every stage passed; for check "
          "\\-\\-quorum\\-critical: stopping the node is safe). 1: the "
          "command failed, one line on stderr says why (for check: the "
          "failing stages). 2: a usage error, one line and a hint.\n"
          ".SH ENVIRONMENT\n"
          ".TP\n.B MQ_TOKEN\nthe key, when neither \\fB\\-\\-token\\fR nor "
          "\\fB\\-\\-token\\-file\\fR is given.\n"
          ".TP\n.B MQ_TLS_CA, MQ_TLS_CERT, MQ_TLS_KEY\ndefaults of "
          "\\fB\\-\\-tls\\-ca\\fR, \\fB\\-\\-tls\\-cert\\fR, "
          "\\fB\\-\\-tls\\-key\\fR.\n"
          ".SH SEE ALSO\n"
          ".BR mqd (1)\n",
          out);
}

/* ---- bash completion ------------------------------------------------- */

static void words_of_flags(FILE *out, const struct cmd_flag *f)
{
    for (; f != NULL && f->name != NULL; f++) {
        fprintf(out, " %s", f->name);
    }
}

void help_completion_bash(FILE *out)
{
    fputs("# bash completion for mqctl (written by mqctl --completion bash)\n"
          "_mqctl() {\n"
          "    local cur prev i w cmd=\n"
          "    cur=${COMP_WORDS[COMP_CWORD]}\n"
          "    prev=${COMP_WORDS[COMP_CWORD-1]}\n"
          "    case $prev in\n"
          "    --token-file|--tls-ca|--tls-cert|--tls-key)\n"
          "        COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
          "    --retention) COMPREPLY=($(compgen -W \"limits work\" -- "
          "\"$cur\")); return ;;\n"
          "    --discard) COMPREPLY=($(compgen -W \"old reject\" -- "
          "\"$cur\")); return ;;\n"
          "    --start) COMPREPLY=($(compgen -W \"new first time:\" -- "
          "\"$cur\")); return ;;\n"
          "    --completion) COMPREPLY=($(compgen -W \"bash\" -- \"$cur\")); "
          "return ;;\n"
          "    esac\n"
          "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
          "        w=${COMP_WORDS[i]}\n"
          "        case $w in\n"
          "        ",
          out);
    /* mqctl's flags that take a value: the word after is not a command. */
    int first = 1;
    for (const struct cmd_flag *f = global_flags; f->name != NULL; f++) {
        if (f->arg != NULL && strcmp(f->name, "--completion") != 0) {
            fprintf(out, "%s%s", first ? "" : "|", f->name);
            first = 0;
        }
    }
    fputs(") [ -z \"$cmd\" ] && ((i++)); continue ;;\n"
          "        -*) continue ;;\n"
          "        esac\n"
          "        cmd=\"${cmd:+$cmd }$w\"\n"
          "    done\n"
          "    case $cmd in\n"
          "    \"\") COMPREPLY=($(compgen -W \"",
          out);
    for (const struct cmd *c = cmds; c->name != NULL; c++) {
        size_t len;
        if (first_of_group(c, &len)) {
            fprintf(out, "%.*s ", (int)len, c->name);
        }
    }
    fputs("help", out);
    words_of_flags(out, global_flags);
    fputs("\" -- \"$cur\")) ;;\n", out);
    /* Commands first (longest names), then groups. */
    for (const struct cmd *c = cmds; c->name != NULL; c++) {
        fprintf(out, "    \"%s\"*) COMPREPLY=($(compgen -W \"--help", c->name);
        words_of_flags(out, c->flags);
        fputs("\" -- \"$cur\")) ;;\n", out);
    }
    for (const struct cmd *c = cmds; c->name != NULL; c++) {
        size_t len;
        if (strchr(c->name, ' ') == NULL || !first_of_group(c, &len)) {
            continue;
        }
        fprintf(out, "    \"%.*s\") COMPREPLY=($(compgen -W \"", (int)len,
                c->name);
        for (const struct cmd *s = c; s->name != NULL; s++) {
            if (strncmp(s->name, c->name, len + 1) == 0) {
                fprintf(out, "%s ", s->name + len + 1);
            }
        }
        fputs("--help\" -- \"$cur\")) ;;\n", out);
    }
    fputs("    esac\n"
          "}\n"
          "complete -F _mqctl mqctl\n",
          out);
}
