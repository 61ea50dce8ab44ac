/* cmd_sub.h: mqctl's sub command (see cmd_sub.c). */
#ifndef MQCTL_CMD_SUB_H
#define MQCTL_CMD_SUB_H

#include "main.h"

/* Runs "mqctl sub" with the @argc arguments after the word "sub". Returns
 * the exit code. */
int cmd_sub(struct mqctl *m, int argc, char **argv);

#endif
