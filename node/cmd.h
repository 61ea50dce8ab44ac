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

/* Unpacks an entry. Returns NULL with @e set when @buf is not a Command
 * entry. The caller frees with mq__v1__command__free_unpacked(c, NULL). */
Mq__V1__Command *cmd_unpack(const void *buf, size_t len, struct errmsg *e);

/* The protobuf-c allocator over mq_malloc. */
extern ProtobufCAllocator cmd_pb_alloc;

#endif
