/* cmd_key.h: mqctl key create|update|list|info|rotate|revoke (see
 * cmd_key.c). */
#ifndef MQCTL_CMD_KEY_H
#define MQCTL_CMD_KEY_H

#include "main.h"

/* Runs "mqctl key" with the @argc arguments after the word "key". Returns
 * the exit code. */
int cmd_key(struct mqctl *m, int argc, char **argv);

#endif
