/* units.h: sizes and durations as people type them ("64KiB", "1MB",
 * "1.5h", "90m", "7d"), read and written. The one parser of units that
 * mqd's configuration (node/base/config.c) and the client (libmq's
 * mq_size_parse and mq_duration_parse, which mqctl uses) share; it lives
 * in mq_proto, the library that both link. Pure functions of their input,
 * any thread.
 *
 * Sizes: a number, perhaps with a fraction, then a unit or none (bytes):
 * B; kB, MB, GB, TB, PB (powers of 1000); KiB, MiB, GiB, TiB, PiB (powers
 * of 1024). Units are read in any case ("1mb", "64kib"). K, M, G alone are
 * refused: they could mean either power.
 *
 * Durations: one or more number-unit pairs, largest first or not ("1h30m",
 * "90m", "1.5h", "500ms"), units ms, s, m, h, d (any case); "0" alone needs
 * none. The result is a whole number of milliseconds ("1.5ms" is refused).
 */
#ifndef MQ_UNITS_H
#define MQ_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Room for what units_*_format writes. */
#define UNITS_FORMAT_MAX 32

/* Parses size @s into *bytes. Returns 0, or -1 with why into @why (@why_len
 * bytes, may be 0), e.g. "unknown unit \"x\" (say B, kB, MB, GB, KiB, MiB,
 * GiB ...)"; *bytes is then unchanged. */
int units_size(const char *s, uint64_t *bytes, char *why, size_t why_len);

/* Parses duration @s into *ms. A number without a unit is in units of
 * @bare_ms milliseconds (1 for config keys ending in _ms), or refused when
 * @bare_ms is 0 ("0" alone is always 0). Returns 0, or -1 with why, *ms
 * then unchanged. */
int units_duration_ms(const char *s, uint64_t bare_ms, uint64_t *ms, char *why,
                      size_t why_len);

/* The shortest exact form of @bytes: "0", "64KiB", "1GiB", "1MB", else a
 * plain number of bytes ("1000001"). */
void units_size_format(uint64_t bytes, char *buf, size_t len);

/* The exact form of @ms, largest unit first, units that are 0 left out:
 * "0", "500ms", "1s", "1m30s", "7d", "1h1ms". */
void units_duration_format(uint64_t ms, char *buf, size_t len);

#endif
