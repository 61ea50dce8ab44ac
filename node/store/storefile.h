/* storefile.h: message store segment files (format in storeseg.h): one
 * writer appends to an open segment and seals it; readers read one record
 * at an offset; recovery scans a segment after a crash and cuts a torn
 * tail. Blocking file I/O: run off the loop (the thread pool).
 *
 * Durability order: an append is in memory until storefile_sync, which
 * writes and fdatasyncs it (and, the first time, syncs the directory that
 * holds the new file); storefile_seal writes the trailer and syncs. The
 * caller syncs the store before it lets the raft log behind it go. */
#ifndef MQ_STOREFILE_H
#define MQ_STOREFILE_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "storeseg.h"

struct storefile_writer {
    int fd;
    char path[512];
    uint64_t first_seq;
    struct storeseg_tally t;
    uint64_t size;   /* bytes appended, synced or not */
    uint64_t synced; /* bytes on disk */
    int dir_synced;  /* the directory knows the file */
    uint8_t *buf;    /* appended since the last sync */
    size_t buf_len, buf_cap;
};

/* Creates the segment @path (it must not exist) for seqs from
 * @first_seq. Returns 0, or -1 with @e set (and nothing left behind). */
int storefile_create(struct storefile_writer *w, const char *path,
                     uint64_t first_seq, struct errmsg *e);

/* Appends @seq's body (seqs strictly increasing, none below the first);
 * sets *@off to the record's offset. Returns 0, or -1 with @e set (the
 * segment is unchanged). */
int storefile_append(struct storefile_writer *w, uint64_t seq, const void *body,
                     uint32_t len, uint64_t *off, struct errmsg *e);

/* Writes what was appended and syncs it. Returns 0, or -1 with @e set:
 * then nothing appended since the last good sync may be taken as stored
 * (the caller abandons the segment and recovers it). */
int storefile_sync(struct storefile_writer *w, struct errmsg *e);

/* Writes the trailer, syncs and closes: the segment never changes again.
 * Returns 0, or -1 with @e set (the writer is closed either way; recovery
 * then finds the segment open or torn). */
int storefile_seal(struct storefile_writer *w, struct errmsg *e);

/* Closes without a trailer, dropping what was not synced. */
void storefile_abandon(struct storefile_writer *w);

/* Reads the record at @off of the segment open as @fd, checks it (and
 * that it holds @seq unless @seq is 0) and returns its body in *@body (
 * mq_malloc'd, *@len bytes; freed by the caller). Returns 0, or -1 with @e
 * naming the damage ("record at 8812: checksum mismatch"). */
int storefile_read(int fd, uint64_t off, uint64_t seq, uint8_t **body,
                   uint32_t *len, struct errmsg *e);

/* After a restart: scans the segment @path (calling @cb for each valid
 * record, may be NULL) into @s. A torn tail is cut off the file (and the
 * cut synced); if @w is not NULL and the segment is open or torn with its
 * header whole, @w then appends after its last valid record (else @w->fd
 * is -1: a segment torn inside its header holds nothing; the caller
 * removes it). Returns 0 for a closed, open or (now cut) torn segment; -1
 * with @e naming the file and the damage. */
int storefile_recover(const char *path, storeseg_record_cb cb, void *arg,
                      struct storeseg_scan *s, struct storefile_writer *w,
                      struct errmsg *e);

#endif
