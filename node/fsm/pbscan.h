/* pbscan.h: reads and writes the few protobuf wire-format pieces that the
 * node handles without protobuf-c: a published message kept as the bytes the
 * client sent (mq.v1.PubMessage), and the fields appended to those bytes to
 * make a delivery (mq.v1.Delivery). Pure functions of their input. */
#ifndef MQ_PBSCAN_H
#define MQ_PBSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "mq.h"

#define PUB_MAX_HEADERS 64
#define PUB_HEADER_KEY_MAX 256
#define PUB_HEADER_VALUE_MAX 4096

/* Where the fields of a PubMessage are, as offsets into its bytes. */
struct pub_view {
    uint32_t id_off, id_len;       /* id_len 0: no id */
    uint32_t event_off, event_len; /* event_len 0: no event */
    uint32_t payload_len;
    uint32_t n_headers;
    uint64_t delay_ms; /* 0: none given */
};

/* Checks that @blob (@len bytes) is a well-formed PubMessage whose fields are
 * valid (id, event and header rules of names.h; payload not empty; each
 * field at most once) and fills @v. Returns MQ_OK, MQ_ERR_PROTOCOL for bytes
 * that are not a PubMessage, or MQ_ERR_INVALID naming the bad field. */
mq_err pub_scan(const uint8_t *blob, size_t len, struct pub_view *v,
                struct errmsg *e);

/* A header to add to a message (pub_rewrite). */
struct pub_header {
    const char *key;
    const char *value;
};

/* Upper bound of the size pub_rewrite writes. */
size_t pub_rewrite_size(size_t len, const char *new_id,
                        const struct pub_header *add, size_t n_add);

/* Copies PubMessage @blob (valid by pub_scan) to @out, leaving out its
 * delay, its id when @new_id is given (then written instead) and its
 * headers whose key starts with @drop_prefix (if not NULL), and adding
 * @add. Returns the length written (at most pub_rewrite_size). */
size_t pub_rewrite(const uint8_t *blob, size_t len, const char *new_id,
                   const char *drop_prefix, const struct pub_header *add,
                   size_t n_add, uint8_t *out);

/* Bytes needed by pb_put_* for one field of each kind, at most. */
#define PB_VARINT_MAX 10

/* Appends a varint at @p; returns the new end. */
uint8_t *pb_put_varint(uint8_t *p, uint64_t v);
/* Appends field @field (wire type varint) holding @v. */
uint8_t *pb_put_uint(uint8_t *p, uint32_t field, uint64_t v);
/* Appends field @field (length-delimited) with @len bytes of @data. */
uint8_t *pb_put_bytes(uint8_t *p, uint32_t field, const void *data, size_t len);
/* Encoded size of a varint. */
size_t pb_varint_size(uint64_t v);

/* Reads a varint from [*p, end). Returns 0 and advances *p, or -1. */
int pb_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v);

#endif
