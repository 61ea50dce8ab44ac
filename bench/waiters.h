/* waiters.h: a pool of waiting consumers. libmq has no asynchronous fetch,
 * so each waiter is a thread of its own (a small stack) looping on a
 * blocking mq_fetch with a long wait; the waiters share a few clients
 * (each client's one connection per node carries the long polls of its
 * waiters at once, an nng context each). Waiter i fetches from target
 * i % n_targets, acks what it got with one mq_ack_seqs, and fetches again.
 *
 * What a waiter counts: deliveries (first attempts; with a histogram, the
 * publish-to-receive time of payloads stamped with real_ns in their first
 * 8 bytes), redeliveries, whether it got anything at all (served), and
 * failed fetches in three kinds: refused (the node answered with an error
 * other than those below: a cap on waiting fetches, say; with the longest
 * time such an answer took), timeouts (TIMEOUT, UNAVAILABLE, NOT_LEADER
 * once libmq gave up retrying) and other errors (NOT_FOUND before the
 * stop, failed acks). After a failed fetch a waiter backs off 100 ms,
 * doubling up to 1 s. Errors once the pool is stopping are not counted
 * (deleting the queues is how a case wakes its waiters). */
#ifndef MQBENCH_WAITERS_H
#define MQBENCH_WAITERS_H

#include <pthread.h>
#include <stdatomic.h>

#include "common.h"
#include "stats.h"

/* Stack of a waiter thread (more under AddressSanitizer, whose frames are
 * larger). */
#if defined(__SANITIZE_ADDRESS__)
#define WAITER_STACK_BYTES (1024u * 1024)
#else
#define WAITER_STACK_BYTES (256u * 1024)
#endif
/* Waiters per client when --waiter-clients is not given. */
#define WAITERS_PER_CLIENT 100

struct waiter_target {
    char queue[MQ_NAME_MAX + 1];
    char sub[MQ_NAME_MAX + 1];
};

struct waiter;

struct waiters {
    const struct bench_opts *o;
    const struct waiter_target *targets;
    size_t n_targets;
    uint32_t batch, wait_ms;
    struct hist *h; /* may be NULL */
    struct waiter *w;
    size_t n;        /* threads started */
    size_t n_wanted; /* asked for */
    mq_client **clients;
    size_t n_clients;
    _Atomic int stop;
    _Atomic uint64_t deliveries, redeliveries, fetches, empty, served;
    _Atomic uint64_t refused_max_ns;
    struct errnote refused, timeouts, errors;
};

/* Opens @n_clients clients (0: one per WAITERS_PER_CLIENT) and starts @n
 * waiters on @targets (borrowed until waiters_stop), fetching up to
 * @batch messages with a wait of @wait_ms. Returns 0, or -1 after
 * report_fail (the waiters started run: waiters_stop ends them). */
int waiters_start(struct waiters *p, const struct bench_opts *o, size_t n,
                  size_t n_clients, const struct waiter_target *targets,
                  size_t n_targets, uint32_t batch, uint32_t wait_ms,
                  struct hist *h, struct report *r);

/* Asks the waiters to stop after the fetch under way, which ends when its
 * wait does, or at once if its queue is deleted. Does not wait. */
void waiters_signal_stop(struct waiters *p);

/* Stops the waiters, joins them (bounded by a fetch's wait plus its
 * client's timeout) and closes the clients. Safe on a zeroed struct. */
void waiters_stop(struct waiters *p);

/* Adds waiters, clients, served, deliveries, redeliveries, refused,
 * refused_max (and refused_first, the first refusal's message, if any),
 * timeouts and errors to @r. */
void waiters_report(struct waiters *p, struct report *r);

/* Prints the first message of each kind of failure on stderr. */
void waiters_print_errors(struct waiters *p, const char *what);

/* Frees what waiters_start allocated (after waiters_stop). */
void waiters_free(struct waiters *p);

#endif
