/* termvote.h: mqd's checksummed copy of raft's term and vote, and raft_uv's
 * own term-and-vote files read without raft_uv.
 *
 * raft_uv 0.15 keeps the term and the vote in "metadata1" and "metadata2"
 * (u64 little-endian each: format 1, version, term, vote; the file with the
 * greater version wins; odd versions go to metadata1) with no checksum: two
 * flipped bits made a node start in term 268435458, and one that lowers the
 * term or changes the vote could let it vote twice in a term. So every
 * set_term and set_vote first writes "mq-termvote" durably (write a temp
 * file, fsync, rename, fsync the dir): "MQTERMV1", term, vote (u64 LE), the
 * CRC-32C of those 24 bytes (u32 LE) and 4 zero bytes; then raft_uv writes
 * its file. At start the two must agree, or the copy be exactly one write
 * ahead (a crash came between the two writes: raft_uv's write is then
 * completed); anything else, or a copy that fails its checksum, refuses the
 * start naming the file. A data dir without the copy (a new one, or one of
 * an mqd before it existed) gets one from raft_uv's values.
 *
 * The file functions block (an fsync or two): the loop thread calls them at
 * start and on set_term/set_vote, which raft_uv also does synchronously. */
#ifndef MQ_TERMVOTE_H
#define MQ_TERMVOTE_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "mq.h"

#define TERMVOTE_FILE "mq-termvote"
#define TERMVOTE_SIZE 32u

struct termvote {
    uint64_t term;
    uint64_t vote; /* 0: none in this term */
};

/* The 32 bytes of @tv's file. */
void termvote_encode(const struct termvote *tv, uint8_t out[TERMVOTE_SIZE]);
/* Decodes @len bytes of a file. Returns 0, or -1 when it is not exactly
 * such a file (size, magic, checksum, padding). */
int termvote_decode(const uint8_t *buf, size_t len, struct termvote *tv);

enum termvote_cmp {
    TERMVOTE_SAME,
    /* The copy is one set_term or set_vote ahead of raft_uv's values: a
     * higher term without a vote, or the same term with a vote where
     * raft_uv has none. */
    TERMVOTE_AHEAD,
    TERMVOTE_DIFFER,
};
enum termvote_cmp termvote_compare(const struct termvote *ours,
                                   const struct termvote *uv);

/* Reads @dir's copy. MQ_OK; MQ_ERR_NOT_FOUND when there is none;
 * MQ_ERR_INVALID when it fails its checks (@e says which); MQ_ERR_INTERNAL
 * on an I/O error. */
mq_err termvote_read(const char *dir, struct termvote *tv, struct errmsg *e);
/* Replaces @dir's copy with @tv, durably. MQ_OK or MQ_ERR_INTERNAL. */
mq_err termvote_write(const char *dir, const struct termvote *tv,
                      struct errmsg *e);
/* Sets the vote of @dir's copy, keeping its term (raft_uv's set_vote keeps
 * the term it stored last, too). */
mq_err termvote_write_vote(const char *dir, uint64_t vote, struct errmsg *e);

/* raft_uv's metadata files as raft_uv 0.15 reads them at start. */
struct termvote_uv {
    /* Which file raft_uv loads (1 or 2), 0 when neither holds a state (a
     * new data dir: term 0, no vote). */
    int current;
    uint64_t version;
    struct termvote tv;
    /* raft_uv refuses to start over these files (why says so): a file too
     * long, a bad format word, version 0, both at one version. */
    int bad;
    char why[128];
};

/* Reads metadata1 and metadata2 of @dir into @m. MQ_OK (even when they are
 * bad: see m->bad), or MQ_ERR_INTERNAL on an I/O error. */
mq_err termvote_read_uv(const char *dir, struct termvote_uv *m,
                        struct errmsg *e);
/* Writes @tv as raft_uv's state at @version (into metadata1 if odd, else
 * metadata2) and removes the other file, durably: what repair does when
 * the copy is intact and raft_uv's files are not. */
mq_err termvote_write_uv(const char *dir, uint64_t version,
                         const struct termvote *tv, struct errmsg *e);

enum termvote_action {
    TERMVOTE_KEEP,     /* raft_uv's values stand */
    TERMVOTE_COMPLETE, /* replay the copy's last write into raft_uv */
};

/* At start, after raft_uv loaded @uv (its term and vote): checks them
 * against @dir's copy (creating the copy, logged, when there is none).
 * Returns MQ_OK with *act, and @uv set to the values raft must use; or
 * MQ_ERR_INVALID with @e naming the file(s) when they disagree or the copy
 * is damaged; MQ_ERR_INTERNAL on an I/O error. */
mq_err termvote_check(const char *dir, struct termvote *uv,
                      enum termvote_action *act, struct errmsg *e);

#endif
