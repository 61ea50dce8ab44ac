/* errmsg.c: building error messages with context. */
#include "errmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void errmsg_set(struct errmsg *e, const char *fmt, ...)
{
    va_list ap;
    if (e == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

void errmsg_wrap(struct errmsg *e, const char *fmt, ...)
{
    char prefix[ERRMSG_SIZE];
    char old[ERRMSG_SIZE];
    va_list ap;
    if (e == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    size_t n = strnlen(prefix, sizeof prefix - 1);
    memcpy(e->msg, prefix, n);
    if (old[0] != '\0' && n + 2 < sizeof e->msg) {
        e->msg[n++] = ':';
        e->msg[n++] = ' ';
        size_t m = strnlen(old, sizeof old);
        if (m > sizeof e->msg - 1 - n) {
            m = sizeof e->msg - 1 - n;
        }
        memcpy(e->msg + n, old, m);
        n += m;
    }
    e->msg[n] = '\0';
}
