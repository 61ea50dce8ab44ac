/* fuzz_storeseg.c: storeseg_scan on arbitrary bytes, as a damaged disk may
 * hold them in a message store segment. Whatever it reads, it reads within
 * the input, and its verdict is consistent: every record it names valid
 * checks alone (storeseg_record), lies inside the valid prefix, in
 * increasing seqs; the valid prefix alone scans as an open segment of the
 * same records; a closed one ends exactly at its trailer, and its two
 * ends alone (storeseg_check_ends, what a restart reads) say the same; a
 * failure says why. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "storeseg.h"

struct seen {
    const uint8_t *data;
    size_t size;
    uint64_t n, last_seq, last_end;
};

static int record_cb(void *arg, uint64_t seq, uint64_t off, const uint8_t *body,
                     uint32_t len)
{
    struct seen *s = arg;
    const uint8_t *b;
    uint32_t n;

    FUZZ_CHECK(off >= STORESEG_HEADER_SIZE && off < s->size);
    FUZZ_CHECK(body == s->data + off + STORESEG_RECORD_HEAD);
    FUZZ_CHECK(off + STORESEG_RECORD_HEAD + len <= s->size);
    FUZZ_CHECK(s->n == 0 || seq > s->last_seq);
    FUZZ_CHECK(off == (s->n == 0 ? STORESEG_HEADER_SIZE : s->last_end));
    FUZZ_CHECK(
        storeseg_record(s->data + off, s->size - off, seq, &b, &n, NULL) == 0);
    FUZZ_CHECK(b == body && n == len);
    s->n++;
    s->last_seq = seq;
    s->last_end = off + STORESEG_RECORD_HEAD + len;
    return 0;
}

/* storeseg_check_ends on any two ends: an answer either way, and what it
 * accepts is consistent. */
static void fuzz_ends(const uint8_t *data, size_t size)
{
    struct storeseg_ends ends;
    struct errmsg e = ERRMSG_INIT;

    if (size < STORESEG_HEADER_SIZE + STORESEG_TRAILER_SIZE) {
        return;
    }
    if (storeseg_check_ends(data, data + size - STORESEG_TRAILER_SIZE, &ends,
                            &e) != 0) {
        FUZZ_CHECK(e.msg[0] != '\0');
        return;
    }
    FUZZ_CHECK((ends.records == 0) == (ends.last_seq == 0));
    FUZZ_CHECK(ends.records == 0 || ends.last_seq >= ends.first_seq);
}

int fuzz_storeseg_one(const uint8_t *data, size_t size)
{
    struct storeseg_scan s, p;
    struct errmsg e = ERRMSG_INIT;
    struct seen seen = {data, size, 0, 0, 0};
    int rv = storeseg_scan(data, size, record_cb, &seen, &s, &e);

    fuzz_ends(data, size);

    if (rv != 0) {
        FUZZ_CHECK(s.state == STORESEG_DAMAGED);
        FUZZ_CHECK(e.msg[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(s.t.records == seen.n);
    FUZZ_CHECK(s.valid_end <= size);
    if (size < STORESEG_HEADER_SIZE) {
        /* Torn while the header was written: nothing valid. */
        FUZZ_CHECK(s.state == STORESEG_TORN && s.valid_end == 0);
        FUZZ_CHECK(seen.n == 0 && e.msg[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(s.valid_end ==
               (seen.n ? seen.last_end : (uint64_t)STORESEG_HEADER_SIZE));
    switch (s.state) {
    case STORESEG_CLOSED:
        FUZZ_CHECK(s.valid_end + STORESEG_TRAILER_SIZE == size);
        break;
    case STORESEG_OPEN:
        FUZZ_CHECK(s.valid_end == size);
        break;
    case STORESEG_TORN:
        FUZZ_CHECK(s.valid_end < size && e.msg[0] != '\0');
        break;
    default:
        FUZZ_CHECK(0);
    }
    /* What a restart reads of a sealed segment, its two ends, agrees with
     * the full scan. */
    if (s.state == STORESEG_CLOSED) {
        struct storeseg_ends ends;
        FUZZ_CHECK(storeseg_check_ends(data,
                                       data + size - STORESEG_TRAILER_SIZE,
                                       &ends, NULL) == 0);
        FUZZ_CHECK(ends.first_seq == s.first_seq);
        FUZZ_CHECK(ends.records == s.t.records);
        FUZZ_CHECK(ends.last_seq == s.t.last_seq);
    }
    /* The valid prefix alone: an open segment of the same records. */
    FUZZ_CHECK(storeseg_scan(data, s.valid_end, NULL, NULL, &p, NULL) == 0);
    FUZZ_CHECK(p.state == STORESEG_OPEN);
    FUZZ_CHECK(p.t.records == s.t.records && p.t.chain == s.t.chain &&
               p.t.last_seq == s.t.last_seq);
    return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_storeseg_one(data, size);
}
#endif
