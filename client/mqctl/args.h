/* args.h: mqctl's command-line pieces: splitting a command's arguments
 * into positionals and --flags, and reading durations, numbers and times.
 * Functions of their input only (tested in tests/unit/test_client_mqctl.c).
 */
#ifndef MQCTL_ARGS_H
#define MQCTL_ARGS_H

#include <stddef.h>
#include <stdint.h>

#define ARGS_MAX 64

struct args_flag {
    const char *name;  /* "--retention" */
    const char *value; /* NULL for a flag without value */
};

struct args {
    const char *pos[ARGS_MAX];
    size_t n_pos;
    struct args_flag flags[ARGS_MAX];
    size_t n_flags;
};

/* Splits @argv (@argc entries) into positionals and flags. @valued lists
 * the flags that take a value ("--id", given as "--id X" or "--id=X"),
 * @plain those that take none; both NULL-terminated, either may be NULL.
 * "--" makes the rest positional. Returns 0, or -1 with a message in @err
 * (@err_len bytes): unknown flag, missing value, too many arguments. */
int args_split(int argc, char **argv, const char *const *valued,
               const char *const *plain, struct args *out, char *err,
               size_t err_len);

/* The value of the last @name flag, or NULL. */
const char *args_get(const struct args *a, const char *name);

/* 1 if flag @name was given. */
int args_has(const struct args *a, const char *name);

/* Parses a duration with libmq's parser (mq_duration_parse): numbers with
 * units ms, s, m, h or d, a fraction allowed ("1.5h", "90m", "1m30s"); "0"
 * alone needs no unit. Returns 0 and sets *ms, or -1 (mq_errmsg says
 * why). */
int args_duration_ms(const char *s, uint64_t *ms);

/* @bytes in the largest binary unit that divides it ("8MiB"), else in
 * bytes. */
void args_size_text(uint64_t bytes, char *buf, size_t len);

/* Parses a decimal number that fits @max. Returns 0 and sets *v, or -1. */
int args_uint(const char *s, uint64_t max, uint64_t *v);

/* Parses a rate, "N/s" or "N", with N in 1..@max. Returns 0 and sets *v,
 * or -1. */
int args_rate(const char *s, uint64_t max, uint64_t *v);

/* Parses a point in time into ms since the epoch: RFC 3339
 * ("2026-11-23T20:00:00Z", "2026-11-23T20:00:00.250+01:00"), ms since the
 * epoch ("1795464000000"), or a duration before @now_ms ("-5m", "-1h30m").
 * Returns 0 and sets *ms, or -1. */
int args_time_ms(const char *s, uint64_t now_ms, uint64_t *ms);

/* Parses a grant, "NS:VERBS": a namespace pattern (a name, a prefix and
 * "*", or "*"; checked by the node) and verbs among publish, consume,
 * manage and admin, comma-separated. Writes the pattern to @ns (@ns_len
 * bytes) and the MQ_VERB_* bits to *verbs. Returns 0, or -1. */
int args_grant(const char *s, char *ns, size_t ns_len, unsigned *verbs);

#endif
