/* errors.c: mq_strerror and the mapping between mq_err and the wire's
 * Status, whose numbers are checked here to be the same. */
#include "errors.h"

#include <assert.h>

#define X(name, num, retry, msg)                                               \
    static_assert(MQ__V1__STATUS__STATUS_##name == (num),                      \
                  "mq.proto Status " #name " differs from mq.h");
MQ_ERRORS(X)
#undef X

MQ_API const char *mq_strerror(mq_err code)
{
    switch (code) {
    case MQ_OK:
        return "ok";
#define X(name, num, retry, msg)                                               \
    case MQ_ERR_##name:                                                        \
        return msg;
        MQ_ERRORS(X)
#undef X
    }
    return "unknown error";
}

MQ_API int mq_err_retryable(mq_err code)
{
    switch (code) {
#define X(name, num, retry, msg)                                               \
    case MQ_ERR_##name:                                                        \
        return retry;
        MQ_ERRORS(X)
#undef X
    case MQ_OK:
        break;
    }
    return 0;
}

Mq__V1__Status err_to_status(mq_err e)
{
    return (Mq__V1__Status)e;
}

mq_err err_from_status(int status)
{
    switch (status) {
    case 0:
        return MQ_OK;
#define X(name, num, retry, msg)                                               \
    case num:                                                                  \
        return MQ_ERR_##name;
        MQ_ERRORS(X)
#undef X
    }
    return MQ_ERR_PROTOCOL;
}
