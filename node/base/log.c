/* log.c: formats one log line (text, or a JSON object) and writes it to
 * stderr with one write(2), so lines from several threads do not
 * interleave. A line longer than the buffer is cut (a JSON line stays a
 * whole object: its message is cut, not its closing). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int log_level = LOG_LEVEL_INFO;
static int log_format = LOG_FORMAT_TEXT;

static uint64_t node_id;
static const char *node_role = "-";
static uint64_t node_term;

void log_set_node(uint64_t id)
{
    node_id = id;
}

void log_set_role(const char *role, uint64_t term)
{
    node_role = role;
    node_term = term;
}

void log_set_format(int format)
{
    log_format = format;
}

int log_format_parse(const char *s)
{
    if (strcmp(s, "text") == 0) {
        return LOG_FORMAT_TEXT;
    }
    if (strcmp(s, "json") == 0) {
        return LOG_FORMAT_JSON;
    }
    return -1;
}

int log_level_parse(const char *s)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

/* Length of the valid UTF-8 sequence at @s (of @n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
    } else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    return len;
}

void log_json_escape(char *out, size_t cap, size_t *at, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        char esc[8];
        const char *add = esc;
        size_t alen, step = 1;
        if (p[i] == '"' || p[i] == '\\') {
            esc[0] = '\\';
            esc[1] = (char)p[i];
            alen = 2;
        } else if (p[i] < 0x20) {
            alen = (size_t)snprintf(esc, sizeof esc, "\\u%04x", p[i]);
        } else if (p[i] < 0x80) {
            esc[0] = (char)p[i];
            alen = 1;
        } else if ((step = utf8_len(p + i, n - i)) != 0) {
            add = (const char *)p + i;
            alen = step;
        } else {
            add = "\\ufffd";
            alen = 6;
            step = 1;
        }
        if (*at + alen > cap) {
            return;
        }
        memcpy(out + *at, add, alen);
        *at += alen;
        i += step;
    }
}

static void write_json(int level, const char *time, const char *file, int line,
                       const char *msg)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    char buf[2048];
    size_t at;
    int n = snprintf(buf, sizeof buf,
                     "{\"time\":\"%s\",\"level\":\"%s\",\"node\":%llu,"
                     "\"role\":\"%s\",\"term\":%llu,\"file\":\"",
                     time, names[level & 3], (unsigned long long)node_id,
                     node_role, (unsigned long long)node_term);
    at = n > 0 ? (size_t)n : 0;
    log_json_escape(buf, 256 + at, &at, file);
    n = snprintf(buf + at, sizeof buf - at, "\",\"line\":%d,\"msg\":\"", line);
    at += n > 0 ? (size_t)n : 0;
    log_json_escape(buf, sizeof buf - 3, &at, msg);
    memcpy(buf + at, "\"}\n", 3);
    at += 3;
    ssize_t w = write(STDERR_FILENO, buf, at);
    (void)w;
}

void log_write(int level, const char *file, int line, const char *fmt, ...)
{
    static const char letters[] = "EWID";
    char buf[1024];
    struct timespec ts;
    struct tm tm;
    const char *base = strrchr(file, '/');
    va_list ap;
    int n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    if (log_format == LOG_FORMAT_JSON) {
        char time[40], msg[1024];
        snprintf(time, sizeof time, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        write_json(level, time, base ? base + 1 : file, line, msg);
        return;
    }
    n = snprintf(buf, sizeof buf,
                 "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %c node=%llu %s "
                 "term=%llu %s:%d ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, letters[level & 3],
                 (unsigned long long)node_id, node_role,
                 (unsigned long long)node_term, base ? base + 1 : file, line);
    if (n < 0 || (size_t)n >= sizeof buf) {
        n = 0;
    }
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0) {
        m = 0;
    }
    n += m;
    if ((size_t)n > sizeof buf - 2) {
        n = (int)sizeof buf - 2;
    }
    buf[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, buf, (size_t)n);
    (void)w;
}
