/* check.h: local validation of what a caller hands libmq, with the node's
 * rules (node/base/names.c, node/fsm/pbscan.c), so that bad input is refused
 * with a clear message before it travels. Each function returns MQ_OK or
 * MQ_ERR_INVALID (check_pub also MQ_ERR_TOO_LARGE for a payload over 4 GiB)
 * and then sets mq_errmsg to a message naming the field. */
#ifndef MQ_CLIENT_CHECK_H
#define MQ_CLIENT_CHECK_H

#include "mq.h"

#define CHECK_HEADERS_MAX 64
#define CHECK_HEADER_KEY_MAX 256
#define CHECK_HEADER_VALUE_MAX 4096
/* The namespace of a queue name given without one, when the client has no
 * namespace of its own: the node's. */
#define CHECK_DEFAULT_NS "default"
/* Longest delay refused locally: the node refuses more than the queue's
 * max_delay_ms (30 days by default); a delay of centuries is a bug (a
 * negative number, or a time given as a delay), said at once. */
#define CHECK_DELAY_MAX_MS (100ull * 366 * 24 * 3600 * 1000)

/* Queue and subscription names: 1..MQ_NAME_MAX letters, digits, '_', '-'
 * and '.', starting with a letter or digit. @what names the field ("queue
 * name"). */
mq_err check_name(const char *s, const char *what);

/* Queue names as callers give them: "namespace/queue", each part a name,
 * or "queue", which is in namespace @ns (the client's, already checked;
 * NULL: none). Writes the name to send to @out: as given when it has a
 * namespace or @ns is NULL, else "<ns>/<queue>". @what names the field
 * ("queue name"). */
mq_err check_qname(const char *s, const char *ns, const char *what,
                   char out[MQ_QNAME_MAX + 1]);

/* The full name of queue @name (a name check_qname wrote): @name when it
 * has a namespace, else "default/<name>", as the node names it. */
void check_qname_full(const char *name, char out[MQ_QNAME_MAX + 1]);

/* Message ids: 1..MQ_ID_MAX printable ASCII characters, no spaces. NULL is
 * refused. */
mq_err check_id(const char *s);

/* Event names: 1..MQ_EVENT_MAX characters, dot-separated non-empty tokens
 * of letters, digits, '_' and '-'. */
mq_err check_event(const char *s);

/* Event filters of a subscription: 1..MQ_EVENT_MAX characters,
 * dot-separated tokens, each an event name token, "*" (one token) or ">"
 * (the rest: last token only). */
mq_err check_filter(const char *s);

/* One message to publish: its id (NULL allowed: libmq generates one),
 * event (NULL or "" allowed: "message"), at most CHECK_HEADERS_MAX headers
 * with a key of 1..CHECK_HEADER_KEY_MAX bytes and a value of at most
 * CHECK_HEADER_VALUE_MAX bytes, a payload that is not empty, and a delay of
 * at most CHECK_DELAY_MAX_MS. */
mq_err check_pub(const mq_pub *m);

#endif
