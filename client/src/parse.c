/* parse.c: mq_size_parse and mq_duration_parse, libmq's face of the units
 * parser that mqd's configuration uses too (proto/units.c): "64KiB",
 * "1MB", "1.5h", "90m", "7d". */
#include <stddef.h>

#include "lasterr.h"
#include "mq.h"
#include "units.h"

MQ_API mq_err mq_size_parse(const char *s, uint64_t *bytes)
{
    char why[160];

    if (bytes == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "size: bytes is NULL");
    }
    if (units_size(s, bytes, why, sizeof why) != 0) {
        return lasterr_fail(MQ_ERR_INVALID, "%s", why);
    }
    return MQ_OK;
}

MQ_API mq_err mq_duration_parse(const char *s, uint64_t *ms)
{
    char why[160];

    if (ms == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "duration: ms is NULL");
    }
    if (units_duration_ms(s, 0, ms, why, sizeof why) != 0) {
        return lasterr_fail(MQ_ERR_INVALID, "%s", why);
    }
    return MQ_OK;
}
