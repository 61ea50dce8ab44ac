/* cmd_key.h: mqctl key create|update|list|info|rotate|revoke (see
 * cmd_key.c). */
#ifndef MQCTL_CMD_KEY_H
#define MQCTL_CMD_KEY_H

#include "cmds.h"

/* Each runs "mqctl key <verb>" (cmds.h's cmd_run). */
int run_key_create(struct mqctl *m, const struct cmd *c, const struct args *a);
int run_key_update(struct mqctl *m, const struct cmd *c, const struct args *a);
int run_key_list(struct mqctl *m, const struct cmd *c, const struct args *a);
int run_key_info(struct mqctl *m, const struct cmd *c, const struct args *a);
int run_key_rotate(struct mqctl *m, const struct cmd *c, const struct args *a);
int run_key_revoke(struct mqctl *m, const struct cmd *c, const struct args *a);

#endif
