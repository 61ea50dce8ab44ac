/* lasterr.h: this thread's last failure, as mq_errmsg() returns it. Every
 * libmq function that fails sets it, and the layers above add context on
 * the way up ("publish to orders: " + "payload is empty"). */
#ifndef MQ_CLIENT_LASTERR_H
#define MQ_CLIENT_LASTERR_H

#include "mq.h"

#define LASTERR_SIZE 512

/* Replaces this thread's message. */
void lasterr_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prefixes this thread's message with "<context>: ". */
void lasterr_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sets the message and returns @code: `return lasterr_fail(...)`. */
mq_err lasterr_fail(mq_err code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
