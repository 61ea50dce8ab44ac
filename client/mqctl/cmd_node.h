/* cmd_node.h: mqctl's node and leader commands (see cmd_node.c). */
#ifndef MQCTL_CMD_NODE_H
#define MQCTL_CMD_NODE_H

#include "cmds.h"

/* Each runs its command (cmds.h's cmd_run). */
int run_node_add(struct mqctl *m, const struct cmd *c, const struct args *a);
int run_node_remove(struct mqctl *m, const struct cmd *c, const struct args *a);
int run_node_list(struct mqctl *m, const struct cmd *c, const struct args *a);
int run_node_reload_tls(struct mqctl *m, const struct cmd *c,
                        const struct args *a);
int run_leader_transfer(struct mqctl *m, const struct cmd *c,
                        const struct args *a);

#endif
