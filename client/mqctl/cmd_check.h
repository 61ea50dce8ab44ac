/* cmd_check.h: mqctl check (see cmd_check.c). */
#ifndef MQCTL_CMD_CHECK_H
#define MQCTL_CMD_CHECK_H

#include "cmds.h"

/* Runs "mqctl check" (cmds.h's cmd_run): 0 when every stage passes (or
 * NODE is not quorum-critical), 1 naming the first stage that fails (or
 * when stopping NODE would lose quorum), 2 for a usage error. */
int run_check(struct mqctl *m, const struct cmd *c, const struct args *a);

#endif
