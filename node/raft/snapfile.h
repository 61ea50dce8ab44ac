/* snapfile.h: the checksum that guards a snapshot file. libraft 0.15 keeps
 * a checksum for a snapshot's metadata but none for its data when, as here,
 * snapshots are not compressed: a flipped bit would be restored and served.
 * Every snapshot the node writes ends with a trailer, "MQSNCRC1" and the
 * CRC-32C of everything before it (u32 little-endian, u32 zero); a snapshot
 * read back (at start, or to send to a follower) must carry a matching one,
 * which is then cut off. */
#ifndef MQ_SNAPFILE_H
#define MQ_SNAPFILE_H

#include <raft.h>
#include <stdint.h>

#define SNAPFILE_TRAILER 16u

/* Fills @out with the trailer of @n buffers. Thread-safe: it only reads. */
void snapfile_trailer(const struct raft_buffer *bufs, unsigned n,
                      uint8_t out[SNAPFILE_TRAILER]);

/* Fills @out with the trailer of data whose CRC-32C is @crc (for a reader
 * that computes it piece by piece). */
void snapfile_trailer_of(uint32_t crc, uint8_t out[SNAPFILE_TRAILER]);

/* Checks the trailer at the end of @buf and, if it matches, shortens @buf
 * to the data before it. Returns 0, or -1 (buf unchanged) when it is
 * missing or does not match. */
int snapfile_check(struct raft_buffer *buf);

#endif
