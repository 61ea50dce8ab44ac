/* mstime.h: arithmetic on millisecond times of the FSM. */
#ifndef MQ_MSTIME_H
#define MQ_MSTIME_H

#include <stdint.h>

/* @t + @d, or UINT64_MAX if that overflows: a huge window, age, timeout or
 * delay means "never", not a time in the past. */
static inline uint64_t mstime_add(uint64_t t, uint64_t d)
{
    return d > UINT64_MAX - t ? UINT64_MAX : t + d;
}

#endif
