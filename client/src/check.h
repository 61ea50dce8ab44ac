/* check.h: local validation of what a caller hands libmq, with the node's
 * rules (node/names.c, node/pbscan.c), so that bad input is refused with a
 * clear message before it travels. Each function returns MQ_OK or
 * MQ_ERR_INVALID (check_pub also MQ_ERR_TOO_LARGE for a payload over 4 GiB)
 * and then sets mq_errmsg to a message naming the field. */
#ifndef MQ_CLIENT_CHECK_H
#define MQ_CLIENT_CHECK_H

#include "mq.h"

#define CHECK_HEADERS_MAX 64
#define CHECK_HEADER_KEY_MAX 256
#define CHECK_HEADER_VALUE_MAX 4096

/* Queue and subscription names: 1..MQ_NAME_MAX letters, digits, '_', '-'
 * and '.', starting with a letter or digit. @what names the field ("queue
 * name"). */
mq_err check_name(const char *s, const char *what);

/* Message ids: 1..MQ_ID_MAX printable ASCII characters, no spaces. */
mq_err check_id(const char *s);

/* Event names: 1..MQ_EVENT_MAX characters, dot-separated non-empty tokens
 * of letters, digits, '_' and '-'. */
mq_err check_event(const char *s);

/* One message to publish: its id (NULL allowed: libmq generates one),
 * event (NULL or "" allowed: "message"), at most CHECK_HEADERS_MAX headers
 * with a key of 1..CHECK_HEADER_KEY_MAX bytes and a value of at most
 * CHECK_HEADER_VALUE_MAX bytes, and a payload that is not empty. */
mq_err check_pub(const mq_pub *m);

#endif
