/* cmd_consume.h: mqctl's consume command (see cmd_consume.c). */
#ifndef MQCTL_CMD_CONSUME_H
#define MQCTL_CMD_CONSUME_H

#include "main.h"

/* Runs "mqctl consume" with the @argc arguments after the word "consume".
 * Returns the exit code. */
int cmd_consume(struct mqctl *m, int argc, char **argv);

#endif
