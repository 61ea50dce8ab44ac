/* filter.h: event filters of a subscription: exact names, "*" for one
 * dot-separated token, ">" for the rest ("order.*", "order.>"). Pure. */
#ifndef MQ_FILTER_H
#define MQ_FILTER_H

#include <stddef.h>

/* Whether event @ev (@len bytes) matches filter @f (NUL-terminated, valid
 * by filter_check). */
int filter_match(const char *f, const char *ev, size_t len);

/* Whether @ev matches any of the @n filters packed in @list as consecutive
 * NUL-terminated strings; with n == 0 every event matches. */
int filter_match_any(const char *list, size_t n, const char *ev, size_t len);

#endif
