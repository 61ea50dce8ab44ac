/* cmd_status.h: mqctl's status command (see cmd_status.c). */
#ifndef MQCTL_CMD_STATUS_H
#define MQCTL_CMD_STATUS_H

#include "cmds.h"

/* The leader among the entries @s (@n) of mq_cluster_status_all: the node
 * saying "leader" with the highest term, else the leader id most answering
 * nodes name, unless that node does not answer or does not lead. Sets *id
 * to its id. NULL when none is known. */
const mq_node_status *status_find_leader(const mq_node_status *s, size_t n,
                                         uint64_t *id);

/* Why there is no leader among @s (@n), into @buf (@len bytes): "no
 * quorum: N of M nodes reachable" when at most half answered. */
void status_no_leader_why(const mq_node_status *s, size_t n, char *buf,
                          size_t len);

/* Runs "mqctl status" (cmds.h's cmd_run). */
int run_status(struct mqctl *m, const struct cmd *c, const struct args *a);

#endif
