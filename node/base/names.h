/* names.h: what a valid queue or subscription name, message id and event
 * name look like. Shared by request validation and the FSM. */
#ifndef MQ_NAMES_H
#define MQ_NAMES_H

#include <stddef.h>

#include "errmsg.h"
#include "mq.h"

/* Queue and subscription names: 1..MQ_NAME_MAX characters of letters,
 * digits, '_', '-' and '.', starting with a letter or digit. @what names
 * the field in the message ("queue name"). */
mq_err name_check(const char *s, size_t len, const char *what,
                  struct errmsg *e);

/* Queue names: "namespace/queue", each part a name as above, or a bare
 * queue name, which is in namespace "default". Writes the full name to
 * @out. */
mq_err qname_normalize(const char *s, char out[MQ_QNAME_MAX + 1],
                       struct errmsg *e);

/* Event filters: dot-separated tokens, each a token of event names, "*"
 * (one token) or ">" (the rest; last token only). */
mq_err filter_check(const char *s, size_t len, struct errmsg *e);

/* Message ids: 1..MQ_ID_MAX printable ASCII characters, no spaces. */
mq_err id_check(const char *s, size_t len, struct errmsg *e);

/* Event names: 1..MQ_EVENT_MAX characters, dot-separated non-empty tokens
 * of letters, digits, '_' and '-'. */
mq_err event_check(const char *s, size_t len, struct errmsg *e);

#endif
