/* config_doc.c: mqd's manual page and bash completion, written from the
 * option table of config.c (config_key_at), so that they say what
 * mqd --help says. The build runs mqd --man and mqd --completion bash and
 * installs what they print. */
#include <stdio.h>
#include <string.h>

#include "config.h"

/* Writes @s for roff: backslashes doubled, a leading dot or quote
 * escaped, "-" as "\-" (a minus, not a hyphen, in flags). */
static void roff(FILE *out, const char *s)
{
    if (*s == '.' || *s == '\'') {
        fputs("\\&", out);
    }
    for (; *s != '\0'; s++) {
        if (*s == '\\') {
            fputs("\\e", out);
        } else if (*s == '-') {
            fputs("\\-", out);
        } else {
            fputc(*s, out);
        }
    }
}

static const char *kind_arg(enum config_kind kind)
{
    switch (kind) {
    case CONFIG_KIND_SIZE:
        return "SIZE";
    case CONFIG_KIND_DURATION:
        return "DURATION";
    case CONFIG_KIND_FILE:
        return "FILE";
    case CONFIG_KIND_DIR:
        return "DIR";
    case CONFIG_KIND_LEVEL:
        return "LEVEL";
    case CONFIG_KIND_LOG_FORMAT:
        return "FORMAT";
    case CONFIG_KIND_TEXT:
        return "VALUE";
    case CONFIG_KIND_NUMBER:
        break;
    }
    return "N";
}

void config_man(FILE *out)
{
    fprintf(out,
            ".TH MQD 1 \"\" \"mq %s\" \"mq manual\"\n"
            ".SH NAME\n"
            "mqd \\- a node of the mq replicated message queue\n"
            ".SH SYNOPSIS\n"
            ".B mqd\n"
            "[\\fB\\-\\-config\\fR \\fIFILE\\fR] "
            "[\\fB\\-\\-\\fIKEY\\fR \\fIVALUE\\fR]... [\\fB\\-\\-repair\\fR]\n"
            ".br\n"
            ".B mqd\n"
            "\\fB\\-\\-check\\-config\\fR \\fIFILE\\fR "
            "[\\fB\\-\\-\\fIKEY\\fR \\fIVALUE\\fR]...\n"
            ".br\n"
            ".B mqd\n"
            "\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR | "
            "\\fB\\-\\-sample\\-config\\fR | \\fB\\-\\-man\\fR | "
            "\\fB\\-\\-completion bash\\fR\n"
            ".SH DESCRIPTION\n"
            "mqd is one node of an mq cluster: three (or five) nodes keep one "
            "Raft log of queue operations; clients publish and consume with "
            "libmq, operators use\n"
            ".BR mqctl (1).\n"
            ".PP\n"
            "Every key below may be given as a flag (\\fB\\-\\-data_dir\\fR "
            "or \\fB\\-\\-data\\-dir\\fR) or as a `key value' line of the "
            "file named by \\fB\\-\\-config\\fR; flags win over the file. "
            "Keys ending in _bytes take sizes (64MiB, 1GB, 1.5GiB, or "
            "bytes: kB, MB, GB are powers of 1000, KiB, MiB, GiB powers of "
            "1024); keys ending in _ms take durations (500ms, 1.5s, 2m, 1h, "
            "7d, or a number of ms). A bad value stops mqd with a message "
            "naming the flag, or the key with its file and line.\n"
            ".SH OPTIONS\n"
            ".TP\n"
            "\\fB\\-\\-config\\fR \\fIFILE\\fR\n"
            "Read the keys from FILE (flags win).\n"
            ".TP\n"
            "\\fB\\-\\-repair\\fR\n"
            "Repair a damaged data dir at this start (auto_repair 1 once).\n"
            ".TP\n"
            "\\fB\\-\\-check\\-config\\fR \\fIFILE\\fR\n"
            "Validate the configuration of FILE (and the flags) without "
            "starting: exit 0, or 2 naming the bad key.\n"
            ".TP\n"
            "\\fB\\-\\-sample\\-config\\fR\n"
            "Print a configuration file naming every key with its default.\n"
            ".TP\n"
            "\\fB\\-\\-man\\fR, \\fB\\-\\-completion bash\\fR\n"
            "Print this page, or a bash completion script.\n"
            ".SH KEYS\n",
            MQ_VERSION_STRING);
    for (size_t i = 0; i < config_key_count(); i++) {
        struct config_key k;
        config_key_at(i, &k);
        fputs(".TP\n\\fB\\-\\-", out);
        roff(out, k.name);
        fprintf(out, "\\fR \\fI%s\\fR\n", kind_arg(k.kind));
        roff(out, k.help);
        if (k.required) {
            fputs(" (required)", out);
        } else {
            fputs(" (default ", out);
            roff(out, k.def[0] != '\0' ? k.def : "none");
            fputs(")", out);
        }
        fputs(".\n", out);
    }
    fputs(".SH EXIT STATUS\n"
          "0 after a clean stop; 2 for a bad configuration (a supervisor "
          "should not restart it); another code when a node stops on an "
          "error (3: out of memory while applying, replayed at the next "
          "start).\n"
          ".SH SEE ALSO\n"
          ".BR mqctl (1)\n",
          out);
}

void config_completion_bash(FILE *out)
{
    fputs("# bash completion for mqd (written by mqd --completion bash)\n"
          "_mqd() {\n"
          "    local cur prev\n"
          "    cur=${COMP_WORDS[COMP_CWORD]}\n"
          "    prev=${COMP_WORDS[COMP_CWORD-1]}\n"
          "    case $prev in\n"
          "    --config|--check-config",
          out);
    for (size_t i = 0; i < config_key_count(); i++) {
        struct config_key k;
        config_key_at(i, &k);
        if (k.kind == CONFIG_KIND_FILE) {
            fprintf(out, "|--%s", k.name);
        }
    }
    fputs(
        ")\n        COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
        "    --data_dir)\n"
        "        COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n"
        "    --log_level)\n"
        "        COMPREPLY=($(compgen -W \"error warn info debug\" -- "
        "\"$cur\")); return ;;\n"
        "    --log_format)\n"
        "        COMPREPLY=($(compgen -W \"text json\" -- \"$cur\")); return "
        ";;\n"
        "    --completion)\n"
        "        COMPREPLY=($(compgen -W \"bash\" -- \"$cur\")); return ;;\n"
        "    esac\n"
        "    case $prev in\n"
        "    --*)\n"
        "        case $prev in\n"
        "        --help|--version|--sample-config|--man|--repair) ;;\n"
        "        *) return ;;\n"
        "        esac ;;\n"
        "    esac\n"
        "    COMPREPLY=($(compgen -W \"--config --check-config --repair --help "
        "--version "
        "--sample-config --man --completion",
        out);
    for (size_t i = 0; i < config_key_count(); i++) {
        struct config_key k;
        config_key_at(i, &k);
        fprintf(out, " --%s", k.name);
    }
    fputs("\" -- \"$cur\"))\n"
          "}\n"
          "complete -F _mqd mqd\n",
          out);
}
