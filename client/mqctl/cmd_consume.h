/* cmd_consume.h: mqctl's consume command (see cmd_consume.c). */
#ifndef MQCTL_CMD_CONSUME_H
#define MQCTL_CMD_CONSUME_H

#include "cmds.h"

/* Runs "mqctl consume" (cmds.h's cmd_run). */
int run_consume(struct mqctl *m, const struct cmd *c, const struct args *a);

#endif
