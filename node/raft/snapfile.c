/* snapfile.c: the snapshot file's checksum trailer. */
#include "snapfile.h"

#include <string.h>

#include "crc32c.h"

#define MAGIC "MQSNCRC1"

void snapfile_trailer_of(uint32_t crc, uint8_t out[SNAPFILE_TRAILER])
{
    memcpy(out, MAGIC, 8);
    for (int k = 0; k < 4; k++) {
        out[8 + k] = (uint8_t)(crc >> (8 * k));
        out[12 + k] = 0;
    }
}

void snapfile_trailer(const struct raft_buffer *bufs, unsigned n,
                      uint8_t out[SNAPFILE_TRAILER])
{
    uint32_t crc = 0;
    for (unsigned i = 0; i < n; i++) {
        crc = crc32c(crc, bufs[i].base, bufs[i].len);
    }
    snapfile_trailer_of(crc, out);
}

int snapfile_check(struct raft_buffer *buf)
{
    uint8_t want[SNAPFILE_TRAILER];
    struct raft_buffer data;
    if (buf->len < SNAPFILE_TRAILER) {
        return -1;
    }
    data.base = buf->base;
    data.len = buf->len - SNAPFILE_TRAILER;
    snapfile_trailer(&data, 1, want);
    if (memcmp(want, (const uint8_t *)buf->base + data.len, SNAPFILE_TRAILER) !=
        0) {
        return -1;
    }
    buf->len = data.len;
    return 0;
}
