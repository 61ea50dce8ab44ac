/* cmd_queue.h: mqctl's queue command (see cmd_queue.c). */
#ifndef MQCTL_CMD_QUEUE_H
#define MQCTL_CMD_QUEUE_H

#include "main.h"

/* Runs "mqctl queue" with the @argc arguments after the word "queue". Returns
 * the exit code. */
int cmd_queue(struct mqctl *m, int argc, char **argv);

#endif
