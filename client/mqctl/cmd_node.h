/* cmd_node.h: mqctl's node and leader commands (see cmd_node.c). */
#ifndef MQCTL_CMD_NODE_H
#define MQCTL_CMD_NODE_H

#include "main.h"

/* Runs "mqctl node" with the @argc arguments after the word "node".
 * Returns the exit code. */
int cmd_node(struct mqctl *m, int argc, char **argv);

/* Runs "mqctl leader" with the @argc arguments after the word "leader".
 * Returns the exit code. */
int cmd_leader(struct mqctl *m, int argc, char **argv);

#endif
