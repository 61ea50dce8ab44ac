/* cmd_settle.h: mqctl nack, term and peek (see cmd_settle.c). */
#ifndef MQCTL_CMD_SETTLE_H
#define MQCTL_CMD_SETTLE_H

#include "cmds.h"

/* Each runs its command (cmds.h's cmd_run). */
int run_nack(struct mqctl *m, const struct cmd *c, const struct args *a);
int run_term(struct mqctl *m, const struct cmd *c, const struct args *a);
int run_peek(struct mqctl *m, const struct cmd *c, const struct args *a);

#endif
