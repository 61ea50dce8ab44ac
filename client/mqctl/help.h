/* help.h: what mqctl says about itself, all written from the table of
 * cmds.c: `mqctl --help`, a group's help (`mqctl queue --help`), a
 * command's (`mqctl queue create --help`: each flag with its meaning and
 * default), usage errors (one line and a hint), the manual page and the
 * bash completion. */
#ifndef MQCTL_HELP_H
#define MQCTL_HELP_H

#include <stdio.h>

#include "cmds.h"

/* mqctl --help: the commands with a line each, and mqctl's own flags. */
void help_all(FILE *out);

/* The commands of group @group ("queue"), with a line each. */
void help_group(FILE *out, const char *group);

/* Command @c: its usage, what it does, each flag with its meaning and
 * default. */
void help_cmd(FILE *out, const struct cmd *c);

/* The manual page of mqctl (roff, section 1). */
void help_man(FILE *out);

/* A bash completion script for mqctl. */
void help_completion_bash(FILE *out);

/* A usage error of command @c (NULL: of mqctl's own flags): prints
 * "mqctl: <c's name>: <message>" and one hint line ("hint: mqctl queue
 * create NAME [FLAGS]; mqctl queue create --help says more") on stderr.
 * Returns 2, the exit code of a usage error. */
int usage_error(const struct cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The same for group @group ("queue"): the hint lists its commands. */
int usage_error_group(const char *group, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
