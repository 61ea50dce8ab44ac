/* segcheck.h: the open log segments, checked (and where nothing
 * acknowledged is at stake, repaired) before raft_uv loads them.
 *
 * raft_uv 0.15 loads an open segment up to its first batch that fails a
 * check and drops the rest, even when valid batches follow: entries this
 * node acknowledged would vanish without a word. And it refuses to start
 * over bytes that never held an entry (a bit flipped in the zeros of a
 * preallocated segment: "unexpected format version 0"). segcheck reads each
 * open segment with segscan.c first:
 *   - valid batches after a damaged one (in the same segment, or in a later
 *     open segment after a torn one): refused, naming file and offsets;
 *   - a torn tail (a write cut short, or damage in space never written,
 *     with nothing valid after it): cut at the last valid batch, logged;
 *   - no batch at all: removed (raft_uv removes a zeroed one itself), the
 *     unusual cases logged;
 *   - a damaged format word before valid batches: rewritten, logged.
 * Loop thread (at start, before raft loads). */
#ifndef MQ_SEGCHECK_H
#define MQ_SEGCHECK_H

#include "errmsg.h"
#include "mq.h"

/* Checks the open segments ("open-N") of @dir in the order raft_uv loads
 * them, repairing what holds no entry. Returns MQ_OK; MQ_ERR_INVALID when
 * entries would be lost, @e naming the file and the offsets; MQ_ERR_INTERNAL
 * (or MQ_ERR_NO_MEMORY) when a file cannot be read or repaired, @e naming
 * it. */
mq_err segcheck_open(const char *dir, struct errmsg *e);

#endif
