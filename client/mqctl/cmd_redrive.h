/* cmd_redrive.h: mqctl queue redrive (see cmd_redrive.c). */
#ifndef MQCTL_CMD_REDRIVE_H
#define MQCTL_CMD_REDRIVE_H

#include "main.h"

/* Runs "mqctl queue redrive" with the @argc arguments after the word
 * "redrive". Returns the exit code. */
int cmd_queue_redrive(struct mqctl *m, int argc, char **argv);

#endif
