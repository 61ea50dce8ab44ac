/* cmd_message.h: mqctl's message commands (see cmd_message.c). */
#ifndef MQCTL_CMD_MESSAGE_H
#define MQCTL_CMD_MESSAGE_H

#include "main.h"

/* Runs "mqctl message" with the @argc arguments after the word "message".
 * Returns the exit code. */
int cmd_message(struct mqctl *m, int argc, char **argv);

/* The name of a message state ("dead-lettered"), and of a subscription's
 * state of a message; "unknown" for a number mq.h does not list. */
const char *msg_state_name(mq_msg_state s);
const char *sub_state_name(mq_sub_state s);

#endif
