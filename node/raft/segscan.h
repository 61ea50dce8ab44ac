/* segscan.h: reads a log segment file as libraft 0.15's raft_uv wrote it,
 * without raft_uv, to tell a write cut short from damage to entries.
 *
 * The format (raft_uv 0.15, little-endian): a u64 format word (1), then
 * batches, each: u32 CRC of the header, u32 CRC of the data, the header
 * (u64 entry count n, then per entry u64 term, u8 type (1 command, 2
 * barrier, 3 configuration), 3 unused bytes, u32 data length), then the
 * entries' data. The CRC is raft's own CRC-32 (polynomial 0x04C11DB7, most
 * significant bit first, no reflection, initial 0, no final xor). An open
 * segment is preallocated with zeros, so what follows its last batch reads
 * as zeros; raft_uv loads an open segment up to its first batch that fails
 * a check and drops the rest, even when valid batches follow.
 *
 * Pure: no I/O, no allocation; the input is any bytes. */
#ifndef MQ_SEGSCAN_H
#define MQ_SEGSCAN_H

#include <stddef.h>
#include <stdint.h>

#define SEGSCAN_FORMAT 1u
/* raft_uv's bound on a batch's entry count (8 MiB / 32 bytes). */
#define SEGSCAN_MAX_ENTRIES (8u * 1024 * 1024 / 32)

enum segscan_kind {
    /* No batch and nothing but zeros (after the format word, if any):
     * space never written. raft_uv removes such an open segment. */
    SEGSCAN_EMPTY,
    /* Valid batches from byte 8 to the end, or to zeros up to the end. */
    SEGSCAN_CLEAN,
    /* Valid batches (maybe none), then non-zero bytes at bad_at that are
     * no valid batch, and no valid batch anywhere after them: a write cut
     * short, or damage in space that never held a batch. */
    SEGSCAN_TORN,
    /* The batch at bad_at fails its checks and a valid batch follows at
     * next_at: entries after the damage would be dropped. */
    SEGSCAN_DAMAGED,
};

struct segscan {
    enum segscan_kind kind;
    uint64_t format;    /* the format word as read (0 if the file is short) */
    int format_bad;     /* the word is not 1 although batches follow it */
    size_t valid_end;   /* end of the valid batches from byte 8 (8 if none;
                         * 0 if the file is shorter than 8 bytes) */
    uint64_t n_batches; /* valid batches before valid_end */
    uint64_t n_entries; /* and their entries */
    size_t bad_at;      /* TORN, DAMAGED: where the first bad batch starts */
    size_t nonzero_at;  /* TORN, DAMAGED: first non-zero byte from bad_at */
    const char *why;    /* TORN, DAMAGED: what is wrong there (static) */
    size_t next_at;     /* DAMAGED: where a valid batch follows */
};

/* Scans the @len bytes of @buf (a whole segment file) into @out. Valid
 * batches after a bad one are searched for at every 8-byte aligned offset
 * (raft_uv writes batches whole and 8-byte aligned); the work is bounded
 * by a few times @len, and where the bound is reached the scan assumes a
 * valid batch may follow (DAMAGED, why says so). */
void segscan_run(const uint8_t *buf, size_t len, struct segscan *out);

/* Whether @out describes a valid closed segment holding @n_expected
 * entries: format 1, batches exactly to the end of the file. */
int segscan_closed_ok(const struct segscan *out, size_t len,
                      uint64_t n_expected);

/* raft's CRC-32 of @len bytes of @data, extending @crc (0 to begin). */
uint32_t segscan_crc(uint32_t crc, const void *data, size_t len);

#endif
