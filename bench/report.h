/* report.h: one result line per case, as "name key=value ..." text or as
 * one JSON object. A case adds fields in order, then prints; a case that
 * could not run says why with report_fail, and its line still prints.
 *
 * Text and JSON carry the same fields; JSON keys name their unit
 * ("p50_us", "rate_msgs_s", "rss_after_bytes") and JSON numbers are plain
 * (latencies in microseconds with one decimal, sizes in bytes). */
#ifndef MQBENCH_REPORT_H
#define MQBENCH_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"

#define REPORT_FIELDS_MAX 64
#define REPORT_STR_MAX 160

enum report_kind {
    REPORT_U64,
    REPORT_REAL,    /* decimals, optional unit after a space */
    REPORT_LATENCY, /* ns; text "850us" or "1.23ms" */
    REPORT_BYTES,   /* text in MiB with one decimal */
    REPORT_STR,
};

struct report_field {
    enum report_kind kind;
    char key[40];
    char json_key[48];
    const char *unit; /* REPORT_REAL: static text after the value, or NULL */
    int decimals;
    uint64_t u;
    double d;
    char s[REPORT_STR_MAX];
};

struct report {
    char name[64];
    struct report_field f[REPORT_FIELDS_MAX];
    size_t n;
    int failed;
    char error[512];
};

void report_init(struct report *r, const char *name);

/* Adders: @key and @json_key are copied; @unit must be static text. Past
 * REPORT_FIELDS_MAX fields, more are dropped (an assert in debug
 * builds). */
void report_u64(struct report *r, const char *key, uint64_t v);
void report_real(struct report *r, const char *key, const char *json_key,
                 double v, int decimals, const char *unit);
void report_latency(struct report *r, const char *key, const char *json_key,
                    uint64_t ns);
void report_bytes(struct report *r, const char *key, const char *json_key,
                  uint64_t bytes);
void report_str(struct report *r, const char *key, const char *v);

/* Adds p50, p99, p99.9 and max of @h. */
void report_percentiles(struct report *r, const struct hist *h);

/* Marks the case as failed with a message naming what failed. The first
 * call wins. */
void report_fail(struct report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints @r as one line on stdout and flushes it. */
void report_print(const struct report *r, int json);

#endif
