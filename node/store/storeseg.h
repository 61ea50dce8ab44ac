/* storeseg.h: the byte format of a message store segment, and its scanner.
 * Pure functions on memory: no I/O (storefile.h writes and reads files).
 *
 * A segment holds the bodies of one queue's messages in seq order:
 *
 *   header   32 bytes: "MQSTORE1", u32 version (1), u32 header size (32),
 *            u64 first seq, u32 0, u32 CRC-32C of the 28 bytes before
 *   record   16 bytes + body: u32 body size, u32 CRC-32C of the seq's 8
 *            bytes and the body, u64 seq, then the body
 *   ...      seqs strictly increasing, none below the first seq or 0
 *   trailer  32 bytes, once closed: u32 0xFFFFFFFF, u32 CRC-32C of the 24
 *            bytes after it, u64 records, u64 last seq (0: none), u32
 *            CRC-32C of the records' CRCs in order, u32 0; nothing after
 *
 * All integers little-endian. A closed segment never changes. An open
 * segment (no trailer) may end in a torn record after a crash: everything
 * before it is valid, and the record and what follows are dropped (the
 * raft log, which is synced before the store, has them). A bad record is
 * a torn one if nothing but zeros follows the size it claims (or it
 * claims to reach the end); a bad record anywhere else, or a bad trailer,
 * is damage. A file shorter than the header that starts as one (empty
 * too) is torn with nothing valid: the crash came while it was made. */
#ifndef MQ_STORESEG_H
#define MQ_STORESEG_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"

#define STORESEG_HEADER_SIZE 32
#define STORESEG_RECORD_HEAD 16
#define STORESEG_TRAILER_SIZE 32
/* The largest body a record may hold (a larger size is damage). */
#define STORESEG_BODY_MAX (64u * 1024 * 1024)

/* Writes the header of a segment starting at @first_seq into @out. */
void storeseg_header(uint8_t out[STORESEG_HEADER_SIZE], uint64_t first_seq);

/* Writes the 16 bytes before a record's body into @out; returns the
 * record's CRC (what the trailer chains). */
uint32_t storeseg_record_head(uint8_t out[STORESEG_RECORD_HEAD], uint64_t seq,
                              const void *body, uint32_t len);

/* What a writer keeps to close a segment. */
struct storeseg_tally {
    uint64_t records;
    uint64_t last_seq;
    uint32_t chain; /* CRC-32C over the records' CRCs */
};

/* Counts a record written with CRC @crc. */
void storeseg_tally_add(struct storeseg_tally *t, uint64_t seq, uint32_t crc);

/* Writes the trailer that closes a segment of @t's records. */
void storeseg_trailer(uint8_t out[STORESEG_TRAILER_SIZE],
                      const struct storeseg_tally *t);

enum storeseg_state {
    STORESEG_CLOSED, /* header, records, trailer: all valid */
    STORESEG_OPEN,   /* header, records, no trailer: all valid */
    STORESEG_TORN,   /* open, ending in an incomplete or bad last record */
    STORESEG_DAMAGED /* anything else; nothing of it may be served */
};

struct storeseg_scan {
    enum storeseg_state state;
    uint64_t first_seq;
    struct storeseg_tally t; /* the valid records */
    size_t valid_end;        /* bytes of the valid prefix (header, records) */
};

/* Called for each valid record, in order: its seq, the offset of its
 * record (what storefile_read takes) and its body. Nonzero stops the scan
 * (the result then describes what was read so far, as STORESEG_OPEN). */
typedef int (*storeseg_record_cb)(void *arg, uint64_t seq, uint64_t off,
                                  const uint8_t *body, uint32_t len);

/* Scans the @len bytes of a segment at @buf. @cb may be NULL. Fills @s and
 * returns 0 for CLOSED, OPEN and TORN (@e says where a TORN one tore); -1
 * for DAMAGED, with @e naming what and where ("record at 8812: checksum
 * mismatch"). Reads nothing outside @buf, whatever it holds. */
int storeseg_scan(const uint8_t *buf, size_t len, storeseg_record_cb cb,
                  void *arg, struct storeseg_scan *s, struct errmsg *e);

/* What the two ends of a sealed segment say. */
struct storeseg_ends {
    uint64_t first_seq;
    uint64_t records;
    uint64_t last_seq; /* 0 if no record */
};

/* Checks a sealed segment by its ends alone (@head: its first
 * STORESEG_HEADER_SIZE bytes, @tail: its last STORESEG_TRAILER_SIZE): the
 * header, the trailer's mark and CRC, and that they agree. Does not read
 * the records (storeseg_scan does). Returns 0 and fills @out, or -1 with
 * @e saying why. */
int storeseg_check_ends(const uint8_t head[STORESEG_HEADER_SIZE],
                        const uint8_t tail[STORESEG_TRAILER_SIZE],
                        struct storeseg_ends *out, struct errmsg *e);

/* Checks one record at the start of @buf (@len bytes available): its head,
 * that @len holds its body, its CRC and, if @seq is not 0, its seq. Sets
 * *@body and *@body_len. Returns 0, or -1 with @e saying why. */
int storeseg_record(const uint8_t *buf, size_t len, uint64_t seq,
                    const uint8_t **body, uint32_t *body_len, struct errmsg *e);

#endif
