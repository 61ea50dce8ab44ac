/* snapshot.h: the snapshot format, shared by taking one (snap_take.c) and
 * restoring one (snapshot.c). Not for use outside the FSM.
 *
 * Layout (little-endian): "MQSNAP01", u64 clock, u32 number of queues, u32
 * zero; then per queue: u32 length, u32 zero, a QueueSnap (raft.proto), and
 * QueueSnap.n_msgs message records (struct msg_rec, then the PubMessage
 * bytes), in seq order; then, once authentication is on, the keys'
 * section (keys_snap.h; a snapshot without it restores with no keys). */
#ifndef MQ_SNAPSHOT_H
#define MQ_SNAPSHOT_H

#include <stdint.h>
#include <string.h>

#define SNAP_MAGIC "MQSNAP01"
#define SNAP_HEADER 24u
#define DEDUP_REC 32u
#define TOMB_REC 40u

static inline void snap_put_u32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static inline void snap_put_u64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static inline uint32_t snap_get_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t snap_get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

#endif
