/* report.c: result lines in text and JSON (see report.h). */
#include "report.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void report_init(struct report *r, const char *name)
{
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
}

static struct report_field *add(struct report *r, enum report_kind kind,
                                const char *key, const char *json_key)
{
    struct report_field *f;

    assert(r->n < REPORT_FIELDS_MAX);
    if (r->n == REPORT_FIELDS_MAX) {
        return NULL;
    }
    f = &r->f[r->n++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    snprintf(f->key, sizeof f->key, "%s", key);
    snprintf(f->json_key, sizeof f->json_key, "%s", json_key);
    return f;
}

void report_u64(struct report *r, const char *key, uint64_t v)
{
    struct report_field *f = add(r, REPORT_U64, key, key);

    if (f != NULL) {
        f->u = v;
    }
}

void report_real(struct report *r, const char *key, const char *json_key,
                 double v, int decimals, const char *unit)
{
    struct report_field *f = add(r, REPORT_REAL, key, json_key);

    if (f != NULL) {
        f->d = v;
        f->decimals = decimals;
        f->unit = unit;
    }
}

void report_latency(struct report *r, const char *key, const char *json_key,
                    uint64_t ns)
{
    struct report_field *f = add(r, REPORT_LATENCY, key, json_key);

    if (f != NULL) {
        f->u = ns;
    }
}

void report_bytes(struct report *r, const char *key, const char *json_key,
                  uint64_t bytes)
{
    struct report_field *f = add(r, REPORT_BYTES, key, json_key);

    if (f != NULL) {
        f->u = bytes;
    }
}

void report_str(struct report *r, const char *key, const char *v)
{
    struct report_field *f = add(r, REPORT_STR, key, key);

    if (f != NULL) {
        snprintf(f->s, sizeof f->s, "%s", v);
    }
}

void report_percentiles(struct report *r, const struct hist *h)
{
    report_latency(r, "p50", "p50_us", hist_percentile(h, 50.0));
    report_latency(r, "p99", "p99_us", hist_percentile(h, 99.0));
    report_latency(r, "p99.9", "p999_us", hist_percentile(h, 99.9));
    report_latency(r, "max", "max_us", hist_max(h));
}

void report_fail(struct report *r, const char *fmt, ...)
{
    va_list ap;

    if (r->failed) {
        return;
    }
    r->failed = 1;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
}

/* Text: a string without spaces or quotes as is, else quoted. */
static void print_text_str(const char *s)
{
    if (s[0] != '\0' && strpbrk(s, " \"\t=") == NULL) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\') {
            putchar('\\');
        }
        putchar(*s);
    }
    putchar('"');
}

static void print_json_str(const char *s)
{
    putchar('"');
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            printf("\\%c", c);
        } else if (c < 0x20) {
            printf("\\u%04x", c);
        } else {
            putchar(c);
        }
    }
    putchar('"');
}

static void print_text(const struct report *r)
{
    fputs(r->name, stdout);
    for (size_t i = 0; i < r->n; i++) {
        const struct report_field *f = &r->f[i];
        printf(" %s=", f->key);
        switch (f->kind) {
        case REPORT_U64:
            printf("%llu", (unsigned long long)f->u);
            break;
        case REPORT_REAL:
            printf("%.*f", f->decimals, f->d);
            if (f->unit != NULL) {
                printf(" %s", f->unit);
            }
            break;
        case REPORT_LATENCY:
            if (f->u < 1000000) {
                printf("%lluus", (unsigned long long)((f->u + 500) / 1000));
            } else {
                printf("%.2fms", (double)f->u / 1e6);
            }
            break;
        case REPORT_BYTES:
            printf("%.1fMiB", (double)f->u / (1024.0 * 1024.0));
            break;
        case REPORT_STR:
            print_text_str(f->s);
            break;
        }
    }
    if (r->failed) {
        fputs(" failed=", stdout);
        print_text_str(r->error);
    }
    putchar('\n');
}

static void print_json(const struct report *r)
{
    fputs("{\"case\":", stdout);
    print_json_str(r->name);
    printf(",\"ok\":%s", r->failed ? "false" : "true");
    for (size_t i = 0; i < r->n; i++) {
        const struct report_field *f = &r->f[i];
        putchar(',');
        print_json_str(f->json_key);
        putchar(':');
        switch (f->kind) {
        case REPORT_U64:
        case REPORT_BYTES:
            printf("%llu", (unsigned long long)f->u);
            break;
        case REPORT_REAL:
            printf("%.*f", f->decimals, f->d);
            break;
        case REPORT_LATENCY:
            printf("%.1f", (double)f->u / 1000.0);
            break;
        case REPORT_STR:
            print_json_str(f->s);
            break;
        }
    }
    if (r->failed) {
        fputs(",\"error\":", stdout);
        print_json_str(r->error);
    }
    fputs("}\n", stdout);
}

void report_print(const struct report *r, int json)
{
    if (json) {
        print_json(r);
    } else {
        print_text(r);
    }
    fflush(stdout);
}
