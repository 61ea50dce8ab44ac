/* log.c: formats one log line and writes it to stderr with one write(2), so
 * lines from several threads do not interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int log_level = LOG_LEVEL_INFO;

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
