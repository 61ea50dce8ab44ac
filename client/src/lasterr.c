/* lasterr.c: the thread-local message behind mq_errmsg(). */
#include "lasterr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char lasterr_msg[LASTERR_SIZE];

MQ_API const char *mq_errmsg(void)
{
    return lasterr_msg;
}

static void set_va(const char *fmt, va_list ap)
{
    vsnprintf(lasterr_msg, sizeof lasterr_msg, fmt, ap);
}

void lasterr_set(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_va(fmt, ap);
    va_end(ap);
}

void lasterr_wrap(const char *fmt, ...)
{
    char old[LASTERR_SIZE];
    va_list ap;
    int n;

    memcpy(old, lasterr_msg, sizeof old);
    va_start(ap, fmt);
    n = vsnprintf(lasterr_msg, sizeof lasterr_msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof lasterr_msg) {
        snprintf(lasterr_msg + n, sizeof lasterr_msg - (size_t)n, ": %s", old);
    }
}

mq_err lasterr_fail(mq_err code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_va(fmt, ap);
    va_end(ap);
    return code;
}
