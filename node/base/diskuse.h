/* diskuse.h: what a node's data dir holds, for status: raft log segments,
 * snapshots, and the file system's free space. Reads the directory (a few
 * dozen entries) on the caller's thread. */
#ifndef MQ_DISKUSE_H
#define MQ_DISKUSE_H

#include <stdint.h>

struct disk_use {
    uint64_t log_bytes;      /* open-N and closed N-M segments */
    uint64_t snapshot_bytes; /* snapshot-* files and their .meta */
    uint64_t free_bytes;     /* available to the node's user */
};

/* Which kind of raft_uv file @name is: 1 a log segment, 2 a snapshot file,
 * 0 anything else. */
int disk_file_kind(const char *name);

/* Fills @u from @dir. Files that vanish while it reads are skipped; a
 * directory it cannot read gives zeros. */
void disk_use_read(const char *dir, struct disk_use *u);

#endif
