/* wallclock.h: the node's wall clock in milliseconds since the epoch, the
 * one the leader stamps Commands with and peer messages carry. A test can
 * shift it (config's test_clock_offset_ms, from the environment only) to
 * play a node whose clock is wrong. Any thread. */
#ifndef MQ_WALLCLOCK_H
#define MQ_WALLCLOCK_H

#include <stdint.h>

uint64_t wallclock_ms(void);

/* Shifts every later wallclock_ms by @offset_ms. Call once at start. */
void wallclock_set_offset_ms(int64_t offset_ms);

#endif
