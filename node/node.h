/* node.h: the composition root of mqd: builds every part in order on one
 * libuv loop, runs it, and takes it down in reverse order on SIGINT or
 * SIGTERM. */
#ifndef MQ_NODE_H
#define MQ_NODE_H

#include "config.h"

/* Runs a node until it is told to stop. Returns the process exit code: 0
 * after a clean stop, 1 when it could not start (the reason is logged). */
int node_run(const struct config *cfg);

#endif
