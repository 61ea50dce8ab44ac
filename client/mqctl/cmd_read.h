/* cmd_read.h: mqctl's read command (see cmd_read.c). */
#ifndef MQCTL_CMD_READ_H
#define MQCTL_CMD_READ_H

#include "cmds.h"

/* Runs "mqctl read" (cmds.h's cmd_run). */
int run_read(struct mqctl *m, const struct cmd *c, const struct args *a);

#endif
