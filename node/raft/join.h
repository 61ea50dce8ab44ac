/* join.h: a node started with `join` asks a running cluster to add it. A
 * thread of its own sends NodeAdd requests (following redirects to the
 * leader, retrying every second) until one succeeds; it touches no node
 * state, only logs. */
#ifndef MQ_JOIN_H
#define MQ_JOIN_H

#include "config.h"
#include "mq.h"

struct joiner;

/* Starts asking. Returns MQ_OK and sets *out, or MQ_ERR_NO_MEMORY. */
mq_err join_start(struct joiner **out, const struct config *cfg);
/* Stops asking (if still) and frees @j. NULL does nothing. */
void join_stop(struct joiner *j);

#endif
