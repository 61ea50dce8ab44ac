/* join.h: a node asks a running cluster to take it in, from a thread of its
 * own (blocking nng REQ calls, as a client would; following redirects to
 * the leader, retrying every second); the thread touches no node state,
 * only logs (and the rejoin marker, repair.h).
 *
 * join_start: a node started with `join` sends NodeAdd requests until one
 * succeeds (the leader adds it as a non-voter, waits until it caught up,
 * promotes it).
 *
 * join_start_rejoin: a node rejoining after a repair (repair.h) finds the
 * leader among the client URLs it knows (join_set_urls), waits until enough
 * other voters answer that the cluster keeps a majority without it, then in
 * phase 1 sends NodeRemove for itself; once removed,
 * it notes the leader's term as the floor and writes phase 2 to the marker;
 * in phase 2 it sends NodeAdd until it is a voter again (phase 3, done). The
 * loop reads the progress with join_progress. */
#ifndef MQ_JOIN_H
#define MQ_JOIN_H

#include <stdint.h>

#include "config.h"
#include "mq.h"

struct joiner;

/* Starts asking. Every request carries @token (copied; NULL or "": none),
 * the key a cluster with authentication on needs (admin, for membership).
 * Returns MQ_OK and sets *out, or MQ_ERR_NO_MEMORY. */
mq_err join_start(struct joiner **out, const struct config *cfg,
                  const char *token);

/* Starts rejoining from @phase (1 or 2; @floor the floor of phase 2) with
 * the client URLs @urls (comma-separated, may be ""), presenting @token as
 * join_start does. Returns MQ_OK and sets *out, or MQ_ERR_NO_MEMORY. */
mq_err join_start_rejoin(struct joiner **out, const struct config *cfg,
                         uint32_t phase, uint64_t floor, const char *urls,
                         const char *token);

/* Loop thread: adds the client URLs @urls (comma-separated) to those the
 * rejoin tries. */
void join_set_urls(struct joiner *j, const char *urls);

/* Loop thread: the rejoin's phase (1, 2, or 3 once it is a voter again)
 * and, from phase 2 on, its floor. */
uint32_t join_progress(struct joiner *j, uint64_t *floor);

/* Stops asking (if still) and frees @j. NULL does nothing. */
void join_stop(struct joiner *j);

#endif
