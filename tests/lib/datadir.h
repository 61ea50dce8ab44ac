/* datadir.h: what the tests that damage a node's data files need: the
 * files of a data dir as raft_uv 0.15 and mqd write them (log segments,
 * metadata1/2, snapshots, mqd's term-and-vote copy), bits flipped in them,
 * and log lines looked for after a point. Reads the formats without the
 * node's code, so that a test checks the node against the format. Not
 * thread-safe: one test thread. */
#ifndef MQ_TEST_DATADIR_H
#define MQ_TEST_DATADIR_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"

#define DATADIR_MAX_BATCHES 4096

/* The batches of a segment file as far as they parse (entry counts and
 * lengths only, no checksums): where each starts, where the last ends. */
struct datadir_batches {
    size_t n;
    size_t at[DATADIR_MAX_BATCHES];
    size_t end;
    size_t file_len;
};

/* Reads the batches of @path into @b. Returns 0, or -1 if it cannot be
 * read. */
int datadir_batches(const char *path, struct datadir_batches *b);

/* In node @i's data dir, the name (in @out) of the open segment with the
 * most batches, at least @min_batches of them. Returns 0, or -1. */
int datadir_open_segment(struct cluster *c, int i, size_t min_batches,
                         char *out, size_t len);
/* ...of an open segment never written (its first 8 bytes zero). */
int datadir_unused_open_segment(struct cluster *c, int i, char *out,
                                size_t len);
/* ...of the largest file whose name @want accepts. */
int datadir_find(struct cluster *c, int i, int (*want)(const char *name),
                 char *out, size_t len);
int datadir_is_closed_segment(const char *name);
int datadir_is_snapshot_data(const char *name);

/* "<node i's dir>/<name>" into @out. */
void datadir_path(struct cluster *c, int i, const char *name, char *out,
                  size_t len);

/* XORs the byte at @offset of @path with @mask (the file must be longer). */
void datadir_flip(const char *path, size_t offset, uint8_t mask);

/* raft_uv's metadata file @n (1 or 2) of node @i: format, version, term,
 * vote (u64 little-endian each). Returns 0, or -1 if absent or short. */
struct datadir_meta {
    uint64_t format, version, term, vote;
};
int datadir_meta_read(struct cluster *c, int i, int n, struct datadir_meta *m);
void datadir_meta_write(struct cluster *c, int i, int n,
                        const struct datadir_meta *m);
/* The number (1 or 2) of the metadata file raft_uv loads: the one with
 * the greater version. */
int datadir_meta_current(struct cluster *c, int i);

/* Copies @from to @to. */
void datadir_copy(const char *from, const char *to);

/* The size of node @i's log now; with datadir_log_has_since, a line
 * written after that point. */
long datadir_log_mark(struct cluster *c, int i);
int datadir_log_has_since(struct cluster *c, int i, long mark,
                          const char *needle);

/* Node @i's status as `mqctl --json status` reports it through its own
 * URL: term, role ("leader", ...), applied index. Returns 0, or -1. */
int datadir_node_status(struct cluster *c, int i, uint64_t *term, char *role,
                        size_t role_len, uint64_t *applied);

/* Waits up to @timeout_ms until the leader lists @n members, every one a
 * voter, and every running node has applied what the leader committed.
 * Returns 0, or -1. */
int datadir_full_strength(struct cluster *c, size_t n, int timeout_ms);

#endif
