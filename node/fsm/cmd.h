/* cmd.h: raft log entries of type RAFT_COMMAND. An entry is a 4-byte magic,
 * the 4-byte length of a protobuf Command, the Command, and zero padding to
 * a multiple of 8 bytes.
 *
 * libraft 0.15 defect: entries whose size is not a multiple of 8 bytes make
 * 0.15 lose other entries of the batch when it reloads the log at restart
 * (fixed upstream later). Every entry this node creates is padded here. */
#ifndef MQ_CMD_H
#define MQ_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "mq.h"
#include "raft.pb-c.h"

#define CMD_MAGIC 0x3143514du /* "MQC1" little-endian */
#define CMD_HEADER 8u

/* Packs @c into a new buffer from raft_malloc (so raft_apply can take it)
 * whose size is a multiple of 8. Returns MQ_OK or MQ_ERR_NO_MEMORY. */
mq_err cmd_pack(const Mq__V1__Command *c, void **out, size_t *len);

/* Unpacks an entry into *@out. Returns MQ_OK; MQ_ERR_PROTOCOL with @e set
 * when @buf is not an entry cmd_pack could have made (short, not a multiple
 * of 8, bad magic, a length that does not account for the entry with at
 * most 7 bytes of zero padding, or a malformed Command); MQ_ERR_NO_MEMORY
 * when decoding ran out of memory (the entry may well be a Command: do not
 * skip it). *@out is NULL on error. The caller frees *@out with
 * mq__v1__command__free_unpacked(c, &cmd_pb_alloc). */
mq_err cmd_decode(const void *buf, size_t len, Mq__V1__Command **out,
                  struct errmsg *e);

/* cmd_decode for callers that need not tell why: NULL (with @e set) when
 * @buf is not a Command entry or memory ran out. */
Mq__V1__Command *cmd_unpack(const void *buf, size_t len, struct errmsg *e);

/* The protobuf-c allocator over mq_malloc. */
extern ProtobufCAllocator cmd_pb_alloc;

/* protobuf_c_message_unpack over mq_malloc that tells an allocation
 * failure from malformed bytes: returns the message, or NULL and sets *@err
 * to MQ_ERR_PROTOCOL or MQ_ERR_NO_MEMORY. Free the message with
 * cmd_pb_alloc. */
void *cmd_pb_unpack(const ProtobufCMessageDescriptor *desc, size_t len,
                    const uint8_t *data, mq_err *err);

#endif
