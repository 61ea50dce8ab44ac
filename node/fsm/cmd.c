/* cmd.c: framing of Commands in log entries. */
#include "cmd.h"

#include <raft.h>
#include <string.h>

#include "alloc.h"

static void *pb_alloc(void *data, size_t size)
{
    (void)data;
    return mq_malloc(size);
}

static void pb_free(void *data, void *p)
{
    (void)data;
    mq_free(p);
}

ProtobufCAllocator cmd_pb_alloc = {pb_alloc, pb_free, NULL};

mq_err cmd_pack(const Mq__V1__Command *c, void **out, size_t *len)
{
    size_t n = mq__v1__command__get_packed_size(c);
    size_t total = (CMD_HEADER + n + 7) & ~(size_t)7;
    uint8_t *buf;
    uint32_t hdr[2];

    if (n > UINT32_MAX) {
        return MQ_ERR_TOO_LARGE;
    }
    buf = raft_malloc(total);
    if (buf == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    hdr[0] = CMD_MAGIC;
    hdr[1] = (uint32_t)n;
    memcpy(buf, hdr, sizeof hdr);
    mq__v1__command__pack(c, buf + CMD_HEADER);
    memset(buf + CMD_HEADER + n, 0, total - CMD_HEADER - n);
    *out = buf;
    *len = total;
    return MQ_OK;
}

/* An allocator that remembers whether an allocation failed: protobuf-c's
 * unpack returns NULL alike for malformed bytes and for no memory. */
struct tracking_alloc {
    int failed;
};

static void *tracking_alloc_cb(void *data, size_t size)
{
    void *p = mq_malloc(size);
    if (p == NULL) {
        ((struct tracking_alloc *)data)->failed = 1;
    }
    return p;
}

void *cmd_pb_unpack(const ProtobufCMessageDescriptor *desc, size_t len,
                    const uint8_t *data, mq_err *err)
{
    struct tracking_alloc t = {0};
    ProtobufCAllocator a = {tracking_alloc_cb, pb_free, &t};
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, &a, len, data);
    if (m == NULL) {
        *err = t.failed ? MQ_ERR_NO_MEMORY : MQ_ERR_PROTOCOL;
    }
    return m;
}

mq_err cmd_decode(const void *buf, size_t len, Mq__V1__Command **out,
                  struct errmsg *e)
{
    const uint8_t *p = buf;
    uint32_t hdr[2];
    mq_err rv = MQ_OK;

    *out = NULL;
    if (len < CMD_HEADER || len % 8 != 0) {
        errmsg_set(e, "entry of %zu bytes is not a padded command", len);
        return MQ_ERR_PROTOCOL;
    }
    memcpy(hdr, buf, sizeof hdr);
    if (hdr[0] != CMD_MAGIC || hdr[1] > len - CMD_HEADER ||
        len - CMD_HEADER - hdr[1] > 7) {
        errmsg_set(e, "entry has a bad command header");
        return MQ_ERR_PROTOCOL;
    }
    for (size_t i = CMD_HEADER + hdr[1]; i < len; i++) {
        if (p[i] != 0) {
            errmsg_set(e, "entry has bad command header padding");
            return MQ_ERR_PROTOCOL;
        }
    }
    *out = cmd_pb_unpack(&mq__v1__command__descriptor, hdr[1], p + CMD_HEADER,
                         &rv);
    if (*out == NULL) {
        errmsg_set(e, rv == MQ_ERR_NO_MEMORY
                          ? "out of memory decoding a command"
                          : "entry holds a malformed command");
        return rv;
    }
    return MQ_OK;
}

Mq__V1__Command *cmd_unpack(const void *buf, size_t len, struct errmsg *e)
{
    Mq__V1__Command *c;
    cmd_decode(buf, len, &c, e);
    return c;
}
