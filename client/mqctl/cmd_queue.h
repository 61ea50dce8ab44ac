/* cmd_queue.h: mqctl's queue commands (see cmd_queue.c). */
#ifndef MQCTL_CMD_QUEUE_H
#define MQCTL_CMD_QUEUE_H

#include "cmds.h"

/* Each runs "mqctl queue <verb>" (cmds.h's cmd_run). */
int run_queue_create(struct mqctl *m, const struct cmd *c,
                     const struct args *a);
int run_queue_update(struct mqctl *m, const struct cmd *c,
                     const struct args *a);
int run_queue_list(struct mqctl *m, const struct cmd *c, const struct args *a);
int run_queue_info(struct mqctl *m, const struct cmd *c, const struct args *a);
int run_queue_purge(struct mqctl *m, const struct cmd *c, const struct args *a);
int run_queue_delete(struct mqctl *m, const struct cmd *c,
                     const struct args *a);

#endif
