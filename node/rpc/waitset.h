/* waitset.h: the fetches waiting on a node (long polls), indexed the three
 * ways the node looks for them: by subscription (in arrival order, to hand
 * messages to the oldest first and to count them against
 * max_waiting_per_sub), by deadline (a min-heap, to answer those whose
 * wait is over) and by connection (to drop those of a connection that
 * closed). The cost of each operation depends on the waiters it touches,
 * not on how many wait: tens of thousands can.
 *
 * A waiter is embedded in its owner (the fetch's struct call) and
 * borrowed: the set never frees one. Groups (one per subscription with
 * waiters) are the set's own, freed when their last waiter leaves. Pure C,
 * no I/O, no clock: times come from the caller. Loop thread only. */
#ifndef MQ_WAITSET_H
#define MQ_WAITSET_H

#include <stddef.h>
#include <stdint.h>

#include "hmap.h"
#include "mq.h"

struct wait_group;

struct waiter {
    /* Set by the owner before waitset_add, unchanged while waiting. */
    uint64_t deadline_ms;
    uint32_t pipe; /* the connection it came on */

    /* The set's. */
    struct wait_group *group;
    struct waiter *g_prev, *g_next; /* the group's, oldest first */
    struct waiter *p_prev, *p_next; /* the connection's */
    size_t heap_at;
};

/* The waiters of one subscription. */
struct wait_group {
    const char *queue, *sub; /* in the group's own allocation */
    uint64_t hash;
    struct wait_group *same_hash; /* other groups of the same hash */
    struct wait_group *prev, *next;
    struct waiter *head, *tail;
    size_t n;
    /* For the owner: when to look at the subscription again (0: at the
     * next chance). Starts at 0. */
    uint64_t check_ms;
};

struct waitset {
    struct hmap groups; /* hash of queue and sub -> a group */
    struct wait_group *first_group;
    size_t n_groups;
    struct hmap pipes; /* pipe id -> its first waiter */
    struct waiter **heap;
    size_t n, heap_cap;
};

void waitset_init(struct waitset *ws);

/* Frees the groups and indexes; the waiters still in @ws are left as they
 * are (their owners answer them first). */
void waitset_close(struct waitset *ws);

/* Adds @w (deadline_ms and pipe set) as the newest waiter of @queue/@sub
 * (copied). Returns MQ_OK, or MQ_ERR_NO_MEMORY with @ws unchanged. */
mq_err waitset_add(struct waitset *ws, struct waiter *w, const char *queue,
                   const char *sub);

/* Removes @w, which must be in @ws; its group goes when it was the last. */
void waitset_remove(struct waitset *ws, struct waiter *w);

/* Waiters in all. */
size_t waitset_count(const struct waitset *ws);

/* The group of @queue/@sub, or NULL when none of its fetches waits. Lives
 * until its last waiter is removed. */
struct wait_group *waitset_group(const struct waitset *ws, const char *queue,
                                 const char *sub);

/* The waiter with the earliest deadline if that is at or before @now_ms,
 * else NULL. */
struct waiter *waitset_expired(const struct waitset *ws, uint64_t now_ms);

/* Some waiter (the one with the earliest deadline), or NULL if none. */
struct waiter *waitset_any(const struct waitset *ws);

/* A waiter that came on connection @pipe, or NULL if none. */
struct waiter *waitset_of_pipe(const struct waitset *ws, uint32_t pipe);

#endif
