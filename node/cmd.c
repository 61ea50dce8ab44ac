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

Mq__V1__Command *cmd_unpack(const void *buf, size_t len, struct errmsg *e)
{
    uint32_t hdr[2];
    Mq__V1__Command *c;

    if (len < CMD_HEADER || len % 8 != 0) {
        errmsg_set(e, "entry of %zu bytes is not a padded command", len);
        return NULL;
    }
    memcpy(hdr, buf, sizeof hdr);
    if (hdr[0] != CMD_MAGIC || hdr[1] > len - CMD_HEADER) {
        errmsg_set(e, "entry has a bad command header");
        return NULL;
    }
    c = mq__v1__command__unpack(&cmd_pb_alloc, hdr[1],
                                (const uint8_t *)buf + CMD_HEADER);
    if (c == NULL) {
        errmsg_set(e, "entry holds a malformed command");
    }
    return c;
}
