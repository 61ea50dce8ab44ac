/* log.h: one-line logs to stderr, tested against the level before the
 * arguments are evaluated. Line format (log_format text):
 * 2025-06-01T12:00:00.123Z W node=2 follower term=7 peer.c:88 message
 * or, with log_format json, one JSON object per line:
 * {"time":"2025-06-01T12:00:00.123Z","level":"warn","node":2,
 *  "role":"follower","term":7,"file":"peer.c","line":88,"msg":"message"} */
#ifndef MQ_LOG_H
#define MQ_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level {
    LOG_LEVEL_ERROR,
    LOG_LEVEL_WARN,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG
};

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

extern int log_level;

/* Set once at start, before other threads run. */
void log_set_format(int format);
/* Parses "text" or "json"; -1 if neither. */
int log_format_parse(const char *s);

/* What every line says about the node; set by the loop thread. */
void log_set_node(uint64_t node_id);
void log_set_role(const char *role, uint64_t term);

/* Parses "error", "warn", "info" or "debug"; -1 if none of them. */
int log_level_parse(const char *s);

/* Appends @s as the contents of a JSON string to @out at *@at (moved on),
 * escaping quotes, backslashes and control characters and writing U+FFFD
 * for bytes that are not UTF-8; stops at the first character that would
 * pass @cap bytes. For the JSON log lines, and other JSON the node
 * writes. Any thread. */
void log_json_escape(char *out, size_t cap, size_t *at, const char *s);

void log_write(int level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define LOG_AT(lvl, ...)                                                       \
    do {                                                                       \
        if ((lvl) <= log_level) {                                              \
            log_write((lvl), __FILE__, __LINE__, __VA_ARGS__);                 \
        }                                                                      \
    } while (0)
#define LOG_ERROR(...) LOG_AT(LOG_LEVEL_ERROR, __VA_ARGS__)
#define LOG_WARN(...) LOG_AT(LOG_LEVEL_WARN, __VA_ARGS__)
#define LOG_INFO(...) LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
