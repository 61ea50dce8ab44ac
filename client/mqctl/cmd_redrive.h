/* cmd_redrive.h: mqctl queue redrive (see cmd_redrive.c). */
#ifndef MQCTL_CMD_REDRIVE_H
#define MQCTL_CMD_REDRIVE_H

#include "cmds.h"

/* Runs "mqctl queue redrive" (cmds.h's cmd_run). */
int run_queue_redrive(struct mqctl *m, const struct cmd *c,
                      const struct args *a);

#endif
