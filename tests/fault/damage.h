/* damage.h: damage to a stopped node's data files, as the fault test's
 * damage schedule inflicts it (test_faults --damage N): bits flipped in
 * mqd's copy of the term and vote, in raft's metadata, in the middle of an
 * open segment's batches, in a preallocated segment never written, in the
 * zeros after the last batch, in a closed segment, in a snapshot; a closed
 * segment cut short. The kind is chosen from a random number among those
 * the node's files allow. Test thread only. */
#ifndef MQ_TEST_DAMAGE_H
#define MQ_TEST_DAMAGE_H

#include <stddef.h>

#include "cluster.h"

/* Damages node @i's data dir (the node must be stopped), the kind chosen
 * by @r; says what in @what. Returns 0, or -1 if no kind applies. */
int damage_node(struct cluster *c, int i, unsigned long long r, char *what,
                size_t len);

/* Whether node @i's log after @mark says it found the damage and repaired
 * or recovered from it. */
int damage_noticed(struct cluster *c, int i, long mark);

#endif
