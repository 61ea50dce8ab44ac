/* cmd_publish.h: mqctl's publish command (see cmd_publish.c). */
#ifndef MQCTL_CMD_PUBLISH_H
#define MQCTL_CMD_PUBLISH_H

#include "main.h"

/* Runs "mqctl publish" with the @argc arguments after the word "publish".
 * Returns the exit code. */
int cmd_publish(struct mqctl *m, int argc, char **argv);

#endif
