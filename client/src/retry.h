/* retry.h: where and when a call tries again after a failed attempt. A pure
 * policy over (time, node count, node tried, leader hint) so that it can be
 * tested without sockets or clocks; conn.c applies it.
 *
 * The policy: a NOT_LEADER reply that names the leader sends the next
 * attempt straight to it, without waiting, up to RETRY_MAX_HOPS times in a
 * row (two nodes naming each other during an election must not spin).
 * Otherwise the next attempt goes to the next node in turn after a backoff
 * that starts at RETRY_BACKOFF_MIN_MS and doubles up to RETRY_BACKOFF_MAX_MS.
 * No attempt starts once the call's deadline has passed or would pass
 * during the wait. */
#ifndef MQ_CLIENT_RETRY_H
#define MQ_CLIENT_RETRY_H

#include <stddef.h>
#include <stdint.h>

#define RETRY_BACKOFF_MIN_MS 5
#define RETRY_BACKOFF_MAX_MS 100
#define RETRY_MAX_HOPS 3

struct retry {
    uint64_t deadline_ms; /* monotonic time past which no attempt starts */
    uint32_t backoff_ms;  /* the next wait without a hint */
    unsigned hops;        /* redirects followed in a row */
};

/* The next attempt: node index and wait before it. */
struct retry_step {
    size_t node;
    uint32_t delay_ms;
};

/* Starts the policy of a call made at @now_ms that ends at @now_ms +
 * @timeout_ms. */
void retry_init(struct retry *r, uint64_t now_ms, uint64_t timeout_ms);

/* After a failed attempt on node @cur (of @n nodes), with @hint the index
 * of the node named as leader or -1: fills @step and returns 0, or returns
 * -1 when the deadline leaves no room for another attempt. */
int retry_next(struct retry *r, uint64_t now_ms, size_t n, size_t cur,
               long hint, struct retry_step *step);

/* Monotonic clock in milliseconds (CLOCK_MONOTONIC). */
uint64_t retry_now_ms(void);

#endif
