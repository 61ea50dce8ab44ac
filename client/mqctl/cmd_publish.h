/* cmd_publish.h: mqctl's publish command (see cmd_publish.c). */
#ifndef MQCTL_CMD_PUBLISH_H
#define MQCTL_CMD_PUBLISH_H

#include "cmds.h"

/* Runs "mqctl publish" (cmds.h's cmd_run). */
int run_publish(struct mqctl *m, const struct cmd *c, const struct args *a);

#endif
