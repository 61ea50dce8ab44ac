/* keys_snap.h: the keys' section of a snapshot (see snapshot.c): after
 * the queues, "MQKEYS01", a u32 length and a u32 zero (little-endian),
 * then that many bytes of KeysSnap (raft.proto). Written only once
 * authentication is on, so that a snapshot of a cluster without it is what
 * it was before keys existed, and older snapshots (without the section)
 * restore with authentication off. Loop thread only. */
#ifndef MQ_KEYS_SNAP_H
#define MQ_KEYS_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "keys.h"

#define KEYS_SNAP_MAGIC "MQKEYS01"
#define KEYS_SNAP_HEADER 16u

/* Packs @k's section into a new buffer (mq_malloc) of *@len bytes: *@out
 * is NULL and *@len 0 when authentication is off (no section). Returns
 * MQ_OK or MQ_ERR_NO_MEMORY (or MQ_ERR_TOO_LARGE past 4 GiB). */
mq_err keys_snap_pack(const struct keys *k, void **out, size_t *len);

/* Whether the @len bytes at @p begin with a keys section's magic. */
int keys_snap_is_section(const uint8_t *p, size_t len);

/* Reads the section at @p (@len bytes available) into @k (keys_init'd,
 * empty; gens continue from @k->next_gen) and sets *@used to its size.
 * Returns MQ_OK; MQ_ERR_PROTOCOL with @e saying what is wrong (truncated,
 * malformed, a bad name, grant or hash, a key twice, too many keys, keys
 * with authentication off); MQ_ERR_NO_MEMORY. On error @k holds what was
 * read so far: the caller closes it. */
mq_err keys_snap_restore(struct keys *k, const uint8_t *p, size_t len,
                         size_t *used, struct errmsg *e);

#endif
