/* msg.h: one stored message. Its record (fixed header + the PubMessage
 * bytes as published) is contiguous and never changes after creation, so a
 * snapshot writes it straight from memory. Loop thread only. */
#ifndef MQ_MSG_H
#define MQ_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "mq.h"
#include "pbscan.h"

/* The record header, little-endian (mq runs on little-endian hosts only,
 * checked at build time), as it appears in snapshots. */
struct msg_rec {
    uint64_t seq;
    uint64_t published_at_ms;
    uint64_t deliver_at_ms;
    uint32_t blob_len;
    uint32_t reserved;
};

struct msg {
    union {
        struct {
            uint32_t id_off, event_off;
        };
        /* Once the message is removed while a snapshot still writes its
         * record: the link of the trash list (see trash.h). */
        struct msg *trash_next;
    };
    uint16_t id_len, event_len;
    struct msg_rec rec;
    uint8_t blob[]; /* rec.blob_len bytes: a PubMessage */
};

_Static_assert(sizeof(struct msg_rec) == 32, "msg_rec is 32 bytes on disk");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "snapshots store msg_rec little-endian");

/* Allocates a message holding a copy of @blob, which @v describes (from
 * pub_scan). Returns NULL when out of memory. */
struct msg *msg_new(const uint8_t *blob, size_t len, const struct pub_view *v,
                    uint64_t seq, uint64_t published_at_ms,
                    uint64_t deliver_at_ms);
void msg_free(struct msg *m);

/* Bytes the message occupies in memory, for accounting. */
size_t msg_size(const struct msg *m);

/* Pointer to and length of the stored record (header + blob). */
static inline const void *msg_record(const struct msg *m, size_t *len)
{
    *len = sizeof m->rec + m->rec.blob_len;
    return &m->rec;
}

/* Size of the Delivery encoding msg_encode_delivery writes. */
size_t msg_delivery_size(const struct msg *m, uint32_t attempt);
/* Writes the Delivery encoding (blob, then seq, published_at, attempt,
 * deliver_at) at
 * @out, which has msg_delivery_size bytes; returns the end. */
uint8_t *msg_encode_delivery(const struct msg *m, uint32_t attempt,
                             uint8_t *out);

#endif
