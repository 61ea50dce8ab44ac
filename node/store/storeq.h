/* storeq.h: one queue's message store: a directory of segments
 * (storefile.h), named by their first seq ("00000000000000000001.seg"),
 * the last one open for appends and the others sealed. Appends rotate to a
 * new segment once the open one reaches its size; reclaim drops whole
 * segments below a seq. Blocking file I/O: run off the loop.
 *
 * Crash and restart: storeq_open checks each sealed segment's header and
 * trailer (not its bodies: a restart does not read every body) and scans
 * the open one, cutting a torn tail; storeq_next_seq then says which seq
 * the caller must append next (what the raft log holds past it is applied
 * again). Only the last segment may be open: an open segment before a
 * sealed one, a gap or an overlap of seqs is damage, named. */
#ifndef MQ_STOREQ_H
#define MQ_STOREQ_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"

/* Where a body is: its segment (by first seq) and the record's offset. */
struct storeq_loc {
    uint64_t seg;
    uint64_t off;
};

struct storeq;

/* Opens (creating it if missing) the store directory @dir, rotating
 * segments at @seg_max_bytes. Returns 0 and *@out, or -1 with @e naming the
 * file and the damage. */
int storeq_open(const char *dir, uint64_t seg_max_bytes, struct storeq **out,
                struct errmsg *e);

/* The seq the next append must carry at least: the last stored + 1, or 0
 * when the store is empty (any seq then). */
uint64_t storeq_next_seq(const struct storeq *q);

/* Segments in the directory (sealed and open). */
size_t storeq_segments(const struct storeq *q);

/* Appends @seq's body; sets *@loc. Seqs strictly increase. Returns 0, or
 * -1 with @e set. */
int storeq_append(struct storeq *q, uint64_t seq, const void *body,
                  uint32_t len, struct storeq_loc *loc, struct errmsg *e);

/* Makes every append so far durable. Returns 0, or -1 with @e set. */
int storeq_sync(struct storeq *q, struct errmsg *e);

/* Reads @seq's body at @loc (synced or not) into *@body (mq_malloc'd,
 * *@len bytes). Returns 0, or -1 with @e naming the damage. */
int storeq_read(struct storeq *q, const struct storeq_loc *loc, uint64_t seq,
                uint8_t **body, uint32_t *len, struct errmsg *e);

/* Deletes the sealed segments that hold only seqs below @seq (and syncs
 * the directory). Returns the segments deleted, or -1 with @e set. */
int storeq_drop_below(struct storeq *q, uint64_t seq, struct errmsg *e);

/* Closes, dropping what was not synced. NULL does nothing. */
void storeq_close(struct storeq *q);

#endif
