/* cmd_sub.h: mqctl's sub commands (see cmd_sub.c). */
#ifndef MQCTL_CMD_SUB_H
#define MQCTL_CMD_SUB_H

#include "cmds.h"

/* Each runs "mqctl sub <verb>" (cmds.h's cmd_run). */
int run_sub_create(struct mqctl *m, const struct cmd *c, const struct args *a);
int run_sub_list(struct mqctl *m, const struct cmd *c, const struct args *a);
int run_sub_info(struct mqctl *m, const struct cmd *c, const struct args *a);
int run_sub_delete(struct mqctl *m, const struct cmd *c, const struct args *a);

#endif
