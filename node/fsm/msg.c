/* msg.c: stored messages. */
#include "msg.h"

#include <string.h>

#include "alloc.h"

struct msg *msg_new(const uint8_t *blob, size_t len, const struct pub_view *v,
                    uint64_t seq, uint64_t published_at_ms,
                    uint64_t deliver_at_ms)
{
    struct msg *m = mq_malloc(sizeof *m + len);
    if (m == NULL) {
        return NULL;
    }
    m->id_off = v->id_off;
    m->id_len = (uint16_t)v->id_len;
    m->event_off = v->event_off;
    m->event_len = (uint16_t)v->event_len;
    m->rec.seq = seq;
    m->rec.published_at_ms = published_at_ms;
    m->rec.deliver_at_ms = deliver_at_ms;
    m->rec.blob_len = (uint32_t)len;
    m->rec.reserved = 0;
    memcpy(m->blob, blob, len);
    return m;
}

void msg_free(struct msg *m)
{
    mq_free(m);
}

size_t msg_size(const struct msg *m)
{
    return sizeof *m + m->rec.blob_len;
}

size_t msg_delivery_size(const struct msg *m, uint32_t attempt)
{
    return m->rec.blob_len + 1 + pb_varint_size(m->rec.seq) + 1 +
           pb_varint_size(m->rec.published_at_ms) + 1 +
           pb_varint_size(attempt) + 1 + pb_varint_size(m->rec.deliver_at_ms);
}

uint8_t *msg_encode_delivery(const struct msg *m, uint32_t attempt,
                             uint8_t *out)
{
    memcpy(out, m->blob, m->rec.blob_len);
    out += m->rec.blob_len;
    out = pb_put_uint(out, 10, m->rec.seq);
    out = pb_put_uint(out, 11, m->rec.published_at_ms);
    out = pb_put_uint(out, 12, attempt);
    return pb_put_uint(out, 13, m->rec.deliver_at_ms);
}
