/* cmd_message.h: mqctl's message commands (see cmd_message.c). */
#ifndef MQCTL_CMD_MESSAGE_H
#define MQCTL_CMD_MESSAGE_H

#include "cmds.h"

/* Each runs "mqctl message <verb>" (cmds.h's cmd_run). */
int run_message_status(struct mqctl *m, const struct cmd *c,
                       const struct args *a);
int run_message_cancel(struct mqctl *m, const struct cmd *c,
                       const struct args *a);

/* The name of a message state ("dead-lettered"), and of a subscription's
 * state of a message; "unknown" for a number mq.h does not list. */
const char *msg_state_name(mq_msg_state s);
const char *sub_state_name(mq_sub_state s);

#endif
