/* sigsafe.h: writing to stderr from a signal handler (only write(2): no
 * stdio, no locks, no allocation). For crash.c and stopguard.c. */
#ifndef MQ_SIGSAFE_H
#define MQ_SIGSAFE_H

#include <stdint.h>

/* Writes @s to stderr, all of it unless write fails. */
void sigsafe_put(const char *s);

/* Writes @v in decimal to stderr. */
void sigsafe_put_u64(uint64_t v);

#endif
