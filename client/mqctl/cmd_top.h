/* cmd_top.h: mqctl top (see cmd_top.c). */
#ifndef MQCTL_CMD_TOP_H
#define MQCTL_CMD_TOP_H

#include "cmds.h"

/* Runs "mqctl top" (cmds.h's cmd_run). */
int run_top(struct mqctl *m, const struct cmd *c, const struct args *a);

#endif
