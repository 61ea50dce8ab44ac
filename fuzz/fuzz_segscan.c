/* fuzz_segscan.c: segscan_run on arbitrary bytes, as a damaged disk may
 * hold them in a log segment. Whatever it reads, it reads within the
 * input, and its verdict is consistent: the valid prefix alone scans as a
 * clean (or empty) segment of the same entries, a torn tail has nothing
 * valid after it, and a batch named valid after a damaged one is one. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "segscan.h"

int fuzz_segscan_one(const uint8_t *data, size_t size)
{
    struct segscan s, p;

    segscan_run(data, size, &s);
    FUZZ_CHECK(s.valid_end <= size);
    FUZZ_CHECK(s.n_entries >= s.n_batches);
    FUZZ_CHECK(s.n_batches == 0 || s.valid_end > 8);
    if (s.kind == SEGSCAN_CLEAN || s.kind == SEGSCAN_EMPTY) {
        FUZZ_CHECK(s.why == NULL);
        FUZZ_CHECK(s.kind == SEGSCAN_EMPTY || s.n_batches > 0);
        return 0;
    }
    FUZZ_CHECK(s.why != NULL && s.why[0] != '\0');
    FUZZ_CHECK(s.bad_at == s.valid_end || size < 8);
    FUZZ_CHECK(s.nonzero_at >= s.bad_at && s.nonzero_at < size);
    FUZZ_CHECK(data[s.nonzero_at] != 0);
    if (size < 8) {
        return 0;
    }
    /* The prefix raft_uv keeps is a segment of its own. */
    segscan_run(data, s.valid_end, &p);
    FUZZ_CHECK(p.kind == (s.n_batches > 0 ? SEGSCAN_CLEAN : SEGSCAN_EMPTY));
    FUZZ_CHECK(p.n_entries == s.n_entries && p.valid_end == s.valid_end);
    if (s.kind == SEGSCAN_DAMAGED && s.next_at != s.bad_at) {
        /* The batch found after the damage: valid where it stands. A
         * segment that starts there (a format word in front) holds it. */
        FUZZ_CHECK(s.next_at > s.bad_at && s.next_at % 8 == 0);
        uint8_t *copy = malloc(8 + size - s.next_at);
        FUZZ_CHECK(copy != NULL);
        memset(copy, 0, 8);
        copy[0] = SEGSCAN_FORMAT;
        memcpy(copy + 8, data + s.next_at, size - s.next_at);
        segscan_run(copy, 8 + size - s.next_at, &p);
        FUZZ_CHECK(p.n_batches >= 1);
        free(copy);
    }
    return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_segscan_one(data, size);
}
#endif
