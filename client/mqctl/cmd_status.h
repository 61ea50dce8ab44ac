/* cmd_status.h: mqctl's status command (see cmd_status.c). */
#ifndef MQCTL_CMD_STATUS_H
#define MQCTL_CMD_STATUS_H

#include "cmds.h"

/* Runs "mqctl status" (cmds.h's cmd_run). */
int run_status(struct mqctl *m, const struct cmd *c, const struct args *a);

#endif
