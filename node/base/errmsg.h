/* errmsg.h: an error message that gains context on its way up:
 * "restore snapshot 7-1042: queue orders: truncated record at 8812". It is
 * always the last argument of a function that can fail. */
#ifndef MQ_ERRMSG_H
#define MQ_ERRMSG_H

#define ERRMSG_SIZE 256

struct errmsg {
    char msg[ERRMSG_SIZE];
};

#define ERRMSG_INIT                                                            \
    {                                                                          \
        {                                                                      \
            0                                                                  \
        }                                                                      \
    }

/* Replaces the message. @e may be NULL (the message is dropped). */
void errmsg_set(struct errmsg *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the message with "<context>: ". @e may be NULL. */
void errmsg_wrap(struct errmsg *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
