/* cmds.h: mqctl's commands and their flags, in one table (cmds.c), from
 * which everything else follows: the parsing of each command's arguments
 * (main.c), `mqctl COMMAND --help`, `mqctl --help`, the manual page
 * (`mqctl --man`) and the bash completion (`mqctl --completion bash`)
 * (help.c). A flag that is not in the table is refused; a flag in the
 * table is in the help. */
#ifndef MQCTL_CMDS_H
#define MQCTL_CMDS_H

#include <stddef.h>

#include "args.h"
#include "main.h"

#define CMD_MANY 64 /* max_pos: any number of positionals */

struct cmd_flag {
    const char *name; /* "--max-age" */
    const char *arg;  /* "DUR", "limits|work"; NULL: takes no value */
    const char *def;  /* the default as help shows it; NULL: none */
    const char *help; /* one sentence, lower case, no final period */
};

struct cmd;

/* Runs command @c with its arguments @a (flags known, positionals counted
 * as the table says). Returns the exit code: 0, 1 (failed, one line on
 * stderr), 2 (usage error, cmd_usage_error). */
typedef int (*cmd_run)(struct mqctl *m, const struct cmd *c,
                       const struct args *a);

struct cmd {
    const char *name;    /* "queue create" */
    const char *args;    /* "NAME", "" for none */
    size_t min_pos;      /* positionals at least */
    size_t max_pos;      /* at most (CMD_MANY: no bound) */
    const char *summary; /* one line, what it does */
    /* Further paragraphs for --help and the manual page (each a sentence or
     * more; "\n\n" between paragraphs); NULL: none. */
    const char *details;
    const struct cmd_flag *flags; /* ends with {NULL}; NULL: none */
    cmd_run run;
};

/* The commands, in the order help lists them, and mqctl's own flags (those
 * before the command). Each list ends with an entry whose name is NULL. */
extern const struct cmd cmds[];
extern const struct cmd_flag global_flags[];

/* The command that @argc/@argv (the words after the global flags) start
 * with, the longest name that matches ("queue create" before "queue");
 * *words receives how many words its name took. NULL if none. */
const struct cmd *cmd_find(int argc, char **argv, int *words);

/* Whether some command's name starts with the @n words of @argv as a
 * whole word ("queue": a group). */
int cmd_is_group(int argc, char **argv, int n);

/* The flag @name of @c (or of global_flags when @c is NULL), or NULL. */
const struct cmd_flag *cmd_flag_find(const struct cmd *c, const char *name);

#endif
