/* output.h: what mqctl prints: aligned tables and key/value lists for
 * people, compact one-line JSON for scripts, messages, and the error
 * lines. */
#ifndef MQCTL_OUTPUT_H
#define MQCTL_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mq.h"

#define TABLE_COLS_MAX 16 /* mqctl status has 13 */
#define JSON_DEPTH_MAX 16

/* ---- errors ---- */

/* Prints "mqctl: <cmd> <obj>: <mq_errmsg()>" (without " <obj>" when @obj
 * is NULL) on stderr and returns 1, the exit code of a failure. */
int out_fail(const char *cmd, const char *obj);

/* Usage errors: help.h's usage_error. */

/* ---- tables ---- */

struct table {
    size_t n_cols;
    char **cells; /* row-major, header row first */
    size_t n_cells, cap;
};

/* Starts a table whose header row is the @n_cols strings of @head
 * (1..TABLE_COLS_MAX). */
void table_init(struct table *t, size_t n_cols, const char *const *head);
/* Appends one cell; rows fill left to right. */
void table_cell(struct table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints the table with columns padded to their widest cell; frees it. */
void table_print(struct table *t, FILE *f);

/* ---- JSON ---- */

struct json {
    FILE *f;
    int depth;
    int first[JSON_DEPTH_MAX]; /* no member written yet at this depth */
};

/* Every function takes @key: the member name inside an object, NULL inside
 * an array or at the top. */
void json_begin(struct json *j, FILE *f);
void json_obj_open(struct json *j, const char *key);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_str(struct json *j, const char *key, const char *s);
void json_strn(struct json *j, const char *key, const char *s, size_t len);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_f64(struct json *j, const char *key, double v); /* "%.3f" */
void json_bool(struct json *j, const char *key, int v);
void json_null(struct json *j, const char *key);
/* Ends the document with a newline. */
void json_end(struct json *j);

/* ---- text ---- */

/* 1 if @p (@len bytes) is valid UTF-8 without control characters other
 * than tab, newline and carriage return. */
int out_is_text(const void *p, size_t len);

/* Standard base64 (with padding) of @p; the caller frees the result. NULL
 * when out of memory. */
char *out_base64(const void *p, size_t len);

/* "2025-06-01T12:00:00.123Z" for @ms since the epoch, into @buf (32). */
void out_time(uint64_t ms, char *buf, size_t len);

/* ---- messages ---- */

/* Prints message @m on stdout: for people, a line "seq N  id X  event E
 * [attempt A]  published T[  deliver at T]" (attempt when delivered, deliver
 * at when delayed), its headers and its payload (base64 when not text);
 * with @json, one object per line: {"queue", "sub", "seq", "id", "event",
 * "attempt", "published_at_ms", "deliver_at_ms", "headers": {k: v},
 * "payload", "payload_encoding": "utf8" or "base64"}. */
void out_msg(const mq_msg *m, int json);

/* out_msg with what a subscription did with it: @state ("delivered") and
 * @attempts, at the end of the first line ("delivered (2 deliveries)"),
 * or in JSON "state" and "attempts". */
void out_msg_state(const mq_msg *m, int json, const char *state,
                   uint32_t attempts);

/* The shortest exact form of @ms: "0", "1500ms", "30s", "2m", "1h", "7d". */
void out_duration(uint64_t ms, char *buf, size_t len);

/* @bytes for people, in units of 1024 with one decimal below 100: "0B",
 * "1023B", "1.5K", "12.3M", "150M", "2.0G". */
void out_size(uint64_t bytes, char *buf, size_t len);

#endif
