/* cmd_status.h: mqctl's status command (see cmd_status.c). */
#ifndef MQCTL_CMD_STATUS_H
#define MQCTL_CMD_STATUS_H

#include "main.h"

/* Runs "mqctl status" with the @argc arguments after the word "status". Returns
 * the exit code. */
int cmd_status(struct mqctl *m, int argc, char **argv);

#endif
