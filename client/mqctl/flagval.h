/* flagval.h: the values of a command's flags and arguments, as people type
 * them: sizes with units (64KiB, 1MB), durations (90s, 1.5h, 7d), counts,
 * times, choices. A bad value is a usage error of the command that names
 * the flag the user typed and why ("--max-age: \"5x\": unknown unit"). */
#ifndef MQCTL_FLAGVAL_H
#define MQCTL_FLAGVAL_H

#include <stdint.h>

#include "args.h"
#include "cmds.h"

/* Options of the readers below. */
#define FV_UNLIMITED 1u /* "unlimited" is read as 0 */

/* Each reads flag @name of @a, when given, into *v (left alone when not):
 * returns 0, or 2 after printing a usage error of @c. */
int flag_size(const struct cmd *c, const struct args *a, const char *name,
              unsigned opts, uint64_t max, uint64_t *v);
int flag_duration(const struct cmd *c, const struct args *a, const char *name,
                  unsigned opts, uint64_t *v);
/* A whole number in @min..@max. */
int flag_count(const struct cmd *c, const struct args *a, const char *name,
               unsigned opts, uint64_t min, uint64_t max, uint64_t *v);
/* A time (args_time_ms): RFC 3339, ms since the epoch, or "-5m". */
int flag_time(const struct cmd *c, const struct args *a, const char *name,
              uint64_t *v);
/* One of the NULL-terminated @choices: *idx receives its index. */
int flag_choice(const struct cmd *c, const struct args *a, const char *name,
                const char *const *choices, int *idx);

/* Positional @s, named @what ("node id", "seq"): a whole number in
 * @min..@max into *v. Returns 0, or 2 after a usage error of @c. */
int pos_count(const struct cmd *c, const char *what, const char *s,
              uint64_t min, uint64_t max, uint64_t *v);

#endif
