/* storeseg.c: the message store segment format (see storeseg.h). */
#include "storeseg.h"

#include <string.h>

#include "crc32c.h"
#include "le.h"

static const uint8_t magic[8] = {'M', 'Q', 'S', 'T', 'O', 'R', 'E', '1'};

#define VERSION 1
#define TRAILER_MARK 0xFFFFFFFFu

void storeseg_header(uint8_t out[STORESEG_HEADER_SIZE], uint64_t first_seq)
{
    memcpy(out, magic, sizeof magic);
    le_put32(out + 8, VERSION);
    le_put32(out + 12, STORESEG_HEADER_SIZE);
    le_put64(out + 16, first_seq);
    le_put32(out + 24, 0);
    le_put32(out + 28, crc32c(0, out, 28));
}

static uint32_t record_crc(uint64_t seq, const void *body, uint32_t len)
{
    uint8_t s[8];
    le_put64(s, seq);
    return crc32c(crc32c(0, s, sizeof s), body, len);
}

uint32_t storeseg_record_head(uint8_t out[STORESEG_RECORD_HEAD], uint64_t seq,
                              const void *body, uint32_t len)
{
    uint32_t crc = record_crc(seq, body, len);
    le_put32(out, len);
    le_put32(out + 4, crc);
    le_put64(out + 8, seq);
    return crc;
}

void storeseg_tally_add(struct storeseg_tally *t, uint64_t seq, uint32_t crc)
{
    uint8_t c[4];
    le_put32(c, crc);
    t->chain = crc32c(t->chain, c, sizeof c);
    t->records++;
    t->last_seq = seq;
}

void storeseg_trailer(uint8_t out[STORESEG_TRAILER_SIZE],
                      const struct storeseg_tally *t)
{
    le_put32(out, TRAILER_MARK);
    le_put64(out + 8, t->records);
    le_put64(out + 16, t->last_seq);
    le_put32(out + 24, t->chain);
    le_put32(out + 28, 0);
    le_put32(out + 4, crc32c(0, out + 8, 24));
}

int storeseg_record(const uint8_t *buf, size_t len, uint64_t seq,
                    const uint8_t **body, uint32_t *body_len, struct errmsg *e)
{
    uint32_t n;

    if (len < STORESEG_RECORD_HEAD) {
        errmsg_set(e, "record head cut short (%zu of %d bytes)", len,
                   STORESEG_RECORD_HEAD);
        return -1;
    }
    n = le_get32(buf);
    if (n == TRAILER_MARK) {
        errmsg_set(e, "the trailer, not a record");
        return -1;
    }
    if (n > STORESEG_BODY_MAX) {
        errmsg_set(e, "record body of %u bytes (at most %u)", n,
                   STORESEG_BODY_MAX);
        return -1;
    }
    if (len - STORESEG_RECORD_HEAD < n) {
        errmsg_set(e, "record body cut short (%zu of %u bytes)",
                   len - STORESEG_RECORD_HEAD, n);
        return -1;
    }
    if (record_crc(le_get64(buf + 8), buf + STORESEG_RECORD_HEAD, n) !=
        le_get32(buf + 4)) {
        errmsg_set(e, "record checksum mismatch");
        return -1;
    }
    if (seq != 0 && le_get64(buf + 8) != seq) {
        errmsg_set(e, "record of seq %llu where seq %llu was expected",
                   (unsigned long long)le_get64(buf + 8),
                   (unsigned long long)seq);
        return -1;
    }
    *body = buf + STORESEG_RECORD_HEAD;
    *body_len = n;
    return 0;
}

static int check_header(const uint8_t *buf, size_t len, struct errmsg *e)
{
    if (memcmp(buf, magic, len < sizeof magic ? len : sizeof magic) != 0) {
        errmsg_set(e, "not a store segment (no MQSTORE1 header)");
        return -1;
    }
    if (len < STORESEG_HEADER_SIZE) {
        errmsg_set(e, "header cut short (%zu of %d bytes)", len,
                   STORESEG_HEADER_SIZE);
        return -1;
    }
    if (crc32c(0, buf, 28) != le_get32(buf + 28)) {
        errmsg_set(e, "header checksum mismatch");
        return -1;
    }
    if (le_get32(buf + 8) != VERSION ||
        le_get32(buf + 12) != STORESEG_HEADER_SIZE) {
        errmsg_set(e,
                   "header of version %u, size %u (this node reads "
                   "version %d, size %d)",
                   le_get32(buf + 8), le_get32(buf + 12), VERSION,
                   STORESEG_HEADER_SIZE);
        return -1;
    }
    return 0;
}

int storeseg_check_ends(const uint8_t head[STORESEG_HEADER_SIZE],
                        const uint8_t tail[STORESEG_TRAILER_SIZE],
                        struct storeseg_ends *out, struct errmsg *e)
{
    if (check_header(head, STORESEG_HEADER_SIZE, e) != 0) {
        return -1;
    }
    if (le_get32(tail) != TRAILER_MARK ||
        crc32c(0, tail + 8, 24) != le_get32(tail + 4)) {
        errmsg_set(e, "no valid trailer: not sealed, or damaged at its end");
        return -1;
    }
    out->first_seq = le_get64(head + 16);
    out->records = le_get64(tail + 8);
    out->last_seq = le_get64(tail + 16);
    if ((out->records == 0) != (out->last_seq == 0) ||
        (out->records > 0 && out->last_seq < out->first_seq)) {
        errmsg_set(e,
                   "trailer says %llu records up to seq %llu, the header "
                   "starts at seq %llu",
                   (unsigned long long)out->records,
                   (unsigned long long)out->last_seq,
                   (unsigned long long)out->first_seq);
        return -1;
    }
    return 0;
}

/* The trailer at @off, which must end the segment and agree with @s. */
static int check_trailer(const uint8_t *buf, size_t len, size_t off,
                         const struct storeseg_scan *s, struct errmsg *e)
{
    const uint8_t *t = buf + off;

    if (len - off != STORESEG_TRAILER_SIZE) {
        errmsg_set(e, "trailer at %zu: %zu bytes where %d end the segment", off,
                   len - off, STORESEG_TRAILER_SIZE);
        return -1;
    }
    if (crc32c(0, t + 8, 24) != le_get32(t + 4)) {
        errmsg_set(e, "trailer at %zu: checksum mismatch", off);
        return -1;
    }
    if (le_get64(t + 8) != s->t.records || le_get64(t + 16) != s->t.last_seq ||
        le_get32(t + 24) != s->t.chain) {
        errmsg_set(e,
                   "trailer at %zu: says %llu records up to seq %llu, the "
                   "segment holds %llu up to seq %llu%s",
                   off, (unsigned long long)le_get64(t + 8),
                   (unsigned long long)le_get64(t + 16),
                   (unsigned long long)s->t.records,
                   (unsigned long long)s->t.last_seq,
                   le_get32(t + 24) != s->t.chain ? " (or other records)" : "");
        return -1;
    }
    return 0;
}

/* Whether the bad record at @off is a torn tail: it claims to reach the end,
 * or only zeros follow what it claims (a file system may extend a file
 * with zeros whose data a crash never wrote). */
static int torn_tail(const uint8_t *buf, size_t len, size_t off)
{
    uint64_t claimed = len - off >= 4 ? le_get32(buf + off) : 0;
    size_t from = off;

    if (len - off < STORESEG_RECORD_HEAD ||
        claimed + STORESEG_RECORD_HEAD >= len - off) {
        return 1;
    }
    if (claimed <= STORESEG_BODY_MAX) {
        from = off + STORESEG_RECORD_HEAD + (size_t)claimed;
    }
    for (size_t i = from; i < len; i++) {
        if (buf[i] != 0) {
            return 0;
        }
    }
    return 1;
}

int storeseg_scan(const uint8_t *buf, size_t len, storeseg_record_cb cb,
                  void *arg, struct storeseg_scan *s, struct errmsg *e)
{
    size_t off = STORESEG_HEADER_SIZE;

    memset(s, 0, sizeof *s);
    s->state = STORESEG_DAMAGED;
    if (len < STORESEG_HEADER_SIZE &&
        memcmp(buf, magic, len < sizeof magic ? len : sizeof magic) == 0) {
        /* A crash while the new segment's header was written. */
        errmsg_set(e, "header cut short (%zu of %d bytes)", len,
                   STORESEG_HEADER_SIZE);
        s->state = STORESEG_TORN;
        return 0;
    }
    if (check_header(buf, len, e) != 0) {
        return -1;
    }
    s->first_seq = le_get64(buf + 16);
    s->valid_end = off;
    while (off < len) {
        const uint8_t *body;
        uint32_t n;
        uint64_t seq;
        struct errmsg why = ERRMSG_INIT;

        if (len - off >= 4 && le_get32(buf + off) == TRAILER_MARK) {
            if (check_trailer(buf, len, off, s, e) != 0) {
                return -1;
            }
            s->state = STORESEG_CLOSED;
            return 0;
        }
        if (storeseg_record(buf + off, len - off, 0, &body, &n, &why) != 0) {
            errmsg_set(e, "record at %zu: %s", off, why.msg);
            if (!torn_tail(buf, len, off)) {
                return -1;
            }
            s->state = STORESEG_TORN;
            return 0;
        }
        seq = le_get64(buf + off + 8);
        if (seq == 0 || seq < s->first_seq ||
            (s->t.records > 0 && seq <= s->t.last_seq)) {
            errmsg_set(e,
                       "record at %zu: seq %llu after seq %llu (the segment "
                       "starts at %llu)",
                       off, (unsigned long long)seq,
                       (unsigned long long)s->t.last_seq,
                       (unsigned long long)s->first_seq);
            return -1;
        }
        storeseg_tally_add(&s->t, seq, le_get32(buf + off + 4));
        s->valid_end = off + STORESEG_RECORD_HEAD + n;
        if (cb != NULL && cb(arg, seq, off, body, n) != 0) {
            s->state = STORESEG_OPEN;
            return 0;
        }
        off = s->valid_end;
    }
    s->state = STORESEG_OPEN;
    return 0;
}
