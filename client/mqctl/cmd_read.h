/* cmd_read.h: mqctl's read command (see cmd_read.c). */
#ifndef MQCTL_CMD_READ_H
#define MQCTL_CMD_READ_H

#include "main.h"

/* Runs "mqctl read" with the @argc arguments after the word "read".
 * Returns the exit code. */
int cmd_read(struct mqctl *m, int argc, char **argv);

#endif
