/* workload.h: the load the fault tests run while faults happen, and what
 * it records for the checker.
 *
 * Producers (a thread and a client each) publish unique values with
 * synchronous mq_publish: producer k's n-th value has id and payload
 * "p<k>-<n>". Each publish is recorded with its start and end time and its
 * outcome: ok, failed with a definite error, or indeterminate (TIMEOUT or
 * UNAVAILABLE: it may or may not have been stored). Consumers (a thread and
 * a client each) fetch from one subscription, record each delivered value
 * and the seq it came under, then ack the batch with mq_ack_seqs; a value
 * is consumed only once an ack of it returned MQ_OK (a failed ack leaves
 * it delivered but not consumed: it must come again after the ack
 * timeout). A monitor thread per node asks that
 * node alone for its status every few milliseconds and records each change
 * of role or term, so that elections can be timed.
 *
 * Times are milliseconds of test_now_ms() (monotonic). Threads: the test
 * thread starts and stops the workload; producers write only their own
 * records, which the test thread reads after workload_stop_producers;
 * deliveries and monitor events are under locks. */
#ifndef MQ_TEST_WORKLOAD_H
#define MQ_TEST_WORKLOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mq.h"

#define WL_MAX_PRODUCERS 16
#define WL_MAX_CONSUMERS 8
#define WL_MAX_NODES 5

enum pub_outcome {
    PUB_PENDING = 0, /* still running */
    PUB_OK,
    PUB_FAILED,  /* a definite error: it must never be delivered */
    PUB_UNKNOWN, /* MQ_ERR_TIMEOUT or MQ_ERR_UNAVAILABLE */
};

struct pub_rec {
    uint64_t seq;              /* when ok */
    uint32_t start_ms, end_ms; /* since the workload's t0 */
    uint8_t outcome;           /* enum pub_outcome */
    uint8_t err;               /* mq_err */
    uint8_t duplicate;         /* ok, stored by an earlier attempt */
};

struct producer {
    struct workload *w;
    int k;
    pthread_t th;
    struct pub_rec *recs; /* recs[n]: value n */
    size_t n, cap;
};

struct consumer {
    struct workload *w;
    pthread_t th;
    uint64_t fetch_errors, ack_errors;
};

/* Seqs up to this are mapped to the value delivered under them; a seq
 * above it is counted unexpected (no run publishes that many). */
#define WL_MAX_SEQ ((uint64_t)1 << 26)

/* A node's role and term as its monitor last saw them, or a change. */
struct mon_event {
    uint64_t t_ms;
    int node;
    int up;        /* answered */
    int leader;    /* role "leader" */
    uint64_t term; /* when up */
};

struct workload {
    /* Set before workload_start. */
    const char *urls; /* every node's client URL */
    const char *node_urls[WL_MAX_NODES];
    int n_nodes;
    const char *queue, *sub;
    int n_producers, n_consumers;
    /* Producer k's mq_publish timeout is (k + 1) times this, so that an
     * outage ends some publishes as indeterminate and others as ok. */
    uint32_t publish_timeout_ms;
    int pace_ms;       /* pause between a producer's publishes */
    size_t max_values; /* per producer */

    uint64_t t0;
    int started; /* threads running */
    atomic_int stop_producers, stop_consumers, stop_monitors;
    struct producer prod[WL_MAX_PRODUCERS];
    struct consumer cons[WL_MAX_CONSUMERS];
    pthread_t mon[WL_MAX_NODES];
    int mon_node[WL_MAX_NODES];

    /* The first ok publish started at or after probe_from sets probe_end
     * (its end); see workload_probe. */
    atomic_uint_fast64_t probe_from, probe_end;
    atomic_uint_fast64_t n_ok;

    pthread_mutex_t lock; /* the deliveries, the monitor events */
    int lock_made;
    uint8_t *delivered[WL_MAX_PRODUCERS]; /* count per value, up to 255 */
    uint8_t *consumed[WL_MAX_PRODUCERS];  /* acks of it that returned OK */
    uint64_t *seq_of[WL_MAX_PRODUCERS];   /* seq of its first delivery */
    /* value_at[seq]: the value first delivered under seq (k * max_values
     * + n + 1), 0 for none yet; n_value_at entries. */
    uint32_t *value_at;
    size_t n_value_at;
    /* stored_twice: values delivered under two seqs (a publish stored
     * twice, as a retry across a failover must never make); seq_reused:
     * deliveries of a value under a seq that another value was delivered
     * under before (one seq, two values). */
    uint64_t deliveries, duplicates, unexpected, corrupt, stored_twice;
    uint64_t seq_reused, acked_deliveries;
    char first_unexpected[160], first_reused[160];
    struct mon_event *events;
    size_t n_events, cap_events;
    struct mon_event last[WL_MAX_NODES]; /* latest answer of each node */
};

/* Creates the queue and subscription (ack timeout @ack_timeout_ms), then
 * starts monitors, consumers and producers. Returns 0, or -1 after
 * printing why (nothing left running). */
int workload_start(struct workload *w, uint64_t ack_timeout_ms);

/* Stops and joins the producers; their records are final afterwards. */
void workload_stop_producers(struct workload *w);
/* Stops and joins consumers and monitors. */
void workload_stop(struct workload *w);
/* Frees the records (after workload_stop). */
void workload_free(struct workload *w);

/* Arms the probe: from now on, the first ok publish started at or after
 * @from_ms sets the value workload_probe_end returns. */
void workload_probe(struct workload *w, uint64_t from_ms);
/* End time of that publish, 0 while none. */
uint64_t workload_probe_end(struct workload *w);

/* The node that says it leads with the highest term among the latest
 * answers, or -1; *term (may be NULL) receives its term. */
int workload_leader(struct workload *w, uint64_t *term);

/* The first time at or after @from_ms a node (its index in *node, may be
 * NULL) answered as leader of a term above @term, or 0 if none yet. */
uint64_t workload_elected(struct workload *w, uint64_t from_ms, uint64_t term,
                          int *node);

#endif
