/* output.c: tables, JSON, messages and error lines of mqctl. */
#include "output.h"

#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- errors ---------------------------------------------------------- */

int out_fail(const char *cmd, const char *obj)
{
    /* libmq's message already names the operation and its object
     * ("publish to orders: queue does not exist"). */
    (void)cmd;
    (void)obj;
    fprintf(stderr, "mqctl: %s\n", mq_errmsg());
    return 1;
}

/* ---- tables ---------------------------------------------------------- */

static void table_put(struct table *t, char *s)
{
    if (t->n_cells == t->cap) {
        size_t cap = t->cap == 0 ? 64 : 2 * t->cap;
        char **cells = realloc(t->cells, cap * sizeof *cells);
        if (cells == NULL) {
            free(s);
            return; /* the table is cut short rather than wrong */
        }
        t->cells = cells;
        t->cap = cap;
    }
    t->cells[t->n_cells++] = s;
}

void table_init(struct table *t, size_t n_cols, const char *const *head)
{
    assert(n_cols > 0 && n_cols <= TABLE_COLS_MAX); /* table_print's widths */
    t->n_cols = n_cols;
    t->cells = NULL;
    t->n_cells = 0;
    t->cap = 0;
    for (size_t i = 0; i < n_cols; i++) {
        table_put(t, strdup(head[i]));
    }
}

void table_cell(struct table *t, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) {
        s = NULL;
    }
    va_end(ap);
    table_put(t, s != NULL ? s : strdup("?"));
}

void table_print(struct table *t, FILE *f)
{
    size_t width[TABLE_COLS_MAX] = {0};

    for (size_t i = 0; i < t->n_cells; i++) {
        size_t len = t->cells[i] != NULL ? strlen(t->cells[i]) : 0;
        if (len > width[i % t->n_cols]) {
            width[i % t->n_cols] = len;
        }
    }
    for (size_t i = 0; i < t->n_cells; i++) {
        const char *s = t->cells[i] != NULL ? t->cells[i] : "";
        size_t col = i % t->n_cols;
        if (col + 1 == t->n_cols || i + 1 == t->n_cells) {
            fprintf(f, "%s\n", s);
        } else {
            fprintf(f, "%-*s  ", (int)width[col], s);
        }
    }
    for (size_t i = 0; i < t->n_cells; i++) {
        free(t->cells[i]);
    }
    free(t->cells);
    t->cells = NULL;
    t->n_cells = t->cap = 0;
}

/* ---- JSON ------------------------------------------------------------ */

void json_begin(struct json *j, FILE *f)
{
    j->f = f;
    j->depth = 0;
    j->first[0] = 1;
}

/* Decodes the UTF-8 sequence at @p (@len bytes left). Returns its length
 * and sets *cp, or 0 when it is not valid UTF-8. */
static size_t utf8_decode(const unsigned char *p, size_t len, uint32_t *cp)
{
    size_t n;

    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        *cp = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        *cp = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        *cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (n > len) {
        return 0;
    }
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xc0) != 0x80) {
            return 0;
        }
        *cp = (*cp << 6) | (p[k] & 0x3f);
    }
    /* Overlong forms, surrogates, past U+10FFFF. */
    if ((n == 3 && *cp < 0x800) || (n == 4 && *cp < 0x10000) ||
        (*cp >= 0xd800 && *cp <= 0xdfff) || *cp > 0x10ffff) {
        return 0;
    }
    return n;
}

/* Writes @s as a JSON string: quotes, backslashes and control characters
 * escaped; bytes that are not UTF-8 become U+FFFD. */
static void write_escaped(FILE *f, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    fputc('"', f);
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_decode(p + i, len - i, &cp);
        if (n == 0) {
            fputs("\\ufffd", f);
            i++;
        } else if (cp == '"' || cp == '\\') {
            fputc('\\', f);
            fputc((int)cp, f);
        } else if (cp == '\n') {
            fputs("\\n", f);
        } else if (cp == '\r') {
            fputs("\\r", f);
        } else if (cp == '\t') {
            fputs("\\t", f);
        } else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
            fprintf(f, "\\u%04x", (unsigned)cp);
        } else {
            fwrite(p + i, 1, n, f);
        }
        i += n;
    }
    fputc('"', f);
}

static void member(struct json *j, const char *key)
{
    if (!j->first[j->depth]) {
        fputc(',', j->f);
    }
    j->first[j->depth] = 0;
    if (key != NULL) {
        write_escaped(j->f, key, strlen(key));
        fputc(':', j->f);
    }
}

static void open_nested(struct json *j, const char *key, int c)
{
    member(j, key);
    fputc(c, j->f);
    if (j->depth + 1 < JSON_DEPTH_MAX) {
        j->depth++;
    }
    j->first[j->depth] = 1;
}

void json_obj_open(struct json *j, const char *key)
{
    open_nested(j, key, '{');
}

void json_obj_close(struct json *j)
{
    fputc('}', j->f);
    if (j->depth > 0) {
        j->depth--;
    }
}

void json_arr_open(struct json *j, const char *key)
{
    open_nested(j, key, '[');
}

void json_arr_close(struct json *j)
{
    fputc(']', j->f);
    if (j->depth > 0) {
        j->depth--;
    }
}

void json_strn(struct json *j, const char *key, const char *s, size_t len)
{
    member(j, key);
    write_escaped(j->f, s, len);
}

void json_str(struct json *j, const char *key, const char *s)
{
    if (s == NULL) {
        json_null(j, key);
        return;
    }
    json_strn(j, key, s, strlen(s));
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
    member(j, key);
    fprintf(j->f, "%llu", (unsigned long long)v);
}

void json_f64(struct json *j, const char *key, double v)
{
    member(j, key);
    fprintf(j->f, "%.3f", v);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
    member(j, key);
    fprintf(j->f, "%lld", (long long)v);
}

void json_bool(struct json *j, const char *key, int v)
{
    member(j, key);
    fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
    member(j, key);
    fputs("null", j->f);
}

void json_end(struct json *j)
{
    fputc('\n', j->f);
    fflush(j->f);
}

/* ---- text ------------------------------------------------------------ */

int out_is_text(const void *ptr, size_t len)
{
    const unsigned char *p = ptr;
    size_t i = 0;

    while (i < len) {
        uint32_t cp;
        size_t n = utf8_decode(p + i, len - i, &cp);
        if (n == 0 || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
            (cp >= 0x7f && cp <= 0x9f)) {
            return 0;
        }
        i += n;
    }
    return 1;
}

char *out_base64(const void *ptr, size_t len)
{
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = ptr;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    char *o = out;
    size_t i;

    if (out == NULL) {
        return NULL;
    }
    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = digits[v >> 18];
        *o++ = digits[(v >> 12) & 63];
        *o++ = digits[(v >> 6) & 63];
        *o++ = digits[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len) {
            v |= (uint32_t)p[i + 1] << 8;
        }
        *o++ = digits[v >> 18];
        *o++ = digits[(v >> 12) & 63];
        *o++ = i + 1 < len ? digits[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

void out_time(uint64_t ms, char *buf, size_t len)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char tmp[32];

    if (ms == 0 || gmtime_r(&secs, &tm) == NULL) {
        snprintf(buf, len, "-");
        return;
    }
    strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03uZ", tmp, (unsigned)(ms % 1000));
}

void out_duration(uint64_t ms, char *buf, size_t len)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {
        {"d", 86400000},
        {"h", 3600000},
        {"m", 60000},
        {"s", 1000},
    };

    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ms != 0 && ms % units[i].ms == 0) {
            snprintf(buf, len, "%llu%s", (unsigned long long)(ms / units[i].ms),
                     units[i].unit);
            return;
        }
    }
    if (ms == 0) {
        snprintf(buf, len, "0");
    } else {
        snprintf(buf, len, "%llums", (unsigned long long)ms);
    }
}

void out_size(uint64_t bytes, char *buf, size_t len)
{
    static const char units[] = "KMGTPE";
    double v = (double)bytes / 1024;
    size_t u = 0;

    if (bytes < 1024) {
        snprintf(buf, len, "%lluB", (unsigned long long)bytes);
        return;
    }
    /* What would print as 1024 of a unit is 1.0 of the next. */
    while (v >= 1023.5 && u + 1 < sizeof units - 1) {
        v /= 1024;
        u++;
    }
    if (v < 99.95) {
        snprintf(buf, len, "%.1f%c", v, units[u]);
    } else {
        snprintf(buf, len, "%.0f%c", v, units[u]);
    }
}

/* ---- messages -------------------------------------------------------- */

static void msg_json(const mq_msg *msg, const char *state, uint32_t attempts)
{
    size_t len;
    const void *p = mq_msg_payload(msg, &len);
    struct json j;

    json_begin(&j, stdout);
    json_obj_open(&j, NULL);
    json_str(&j, "queue", mq_msg_queue(msg));
    json_str(&j, "sub", mq_msg_sub(msg));
    json_u64(&j, "seq", mq_msg_seq(msg));
    json_str(&j, "id", mq_msg_id(msg));
    json_str(&j, "event", mq_msg_event(msg));
    json_u64(&j, "attempt", mq_msg_attempt(msg));
    json_u64(&j, "published_at_ms", mq_msg_published_at(msg));
    json_u64(&j, "deliver_at_ms", mq_msg_deliver_at(msg));
    if (state != NULL) {
        json_str(&j, "state", state);
        json_u64(&j, "attempts", attempts);
    }
    json_obj_open(&j, "headers");
    for (size_t i = 0; i < mq_msg_header_count(msg); i++) {
        const mq_header *h = mq_msg_header_at(msg, i);
        json_str(&j, h->key, h->value);
    }
    json_obj_close(&j);
    if (out_is_text(p, len)) {
        json_strn(&j, "payload", p, len);
        json_str(&j, "payload_encoding", "utf8");
    } else {
        char *b64 = out_base64(p, len);
        json_str(&j, "payload", b64 != NULL ? b64 : "");
        json_str(&j, "payload_encoding", "base64");
        free(b64);
    }
    json_obj_close(&j);
    json_end(&j);
}

static void msg_text(const mq_msg *msg, const char *state, uint32_t attempts)
{
    size_t len;
    const void *p = mq_msg_payload(msg, &len);
    char at[32], due[32], attempt[32] = "";

    out_time(mq_msg_published_at(msg), at, sizeof at);
    if (mq_msg_attempt(msg) > 0) {
        snprintf(attempt, sizeof attempt, "  attempt %u", mq_msg_attempt(msg));
    }
    printf("seq %llu  id %s  event %s%s  published %s",
           (unsigned long long)mq_msg_seq(msg), mq_msg_id(msg),
           mq_msg_event(msg), attempt, at);
    if (mq_msg_deliver_at(msg) > mq_msg_published_at(msg)) {
        out_time(mq_msg_deliver_at(msg), due, sizeof due);
        printf("  deliver at %s", due);
    }
    if (state != NULL) {
        printf("  %s (%u deliver%s)", state, attempts,
               attempts == 1 ? "y" : "ies");
    }
    putchar('\n');
    for (size_t i = 0; i < mq_msg_header_count(msg); i++) {
        const mq_header *h = mq_msg_header_at(msg, i);
        printf("  %s: %s\n", h->key, h->value);
    }
    if (out_is_text(p, len)) {
        printf("  %.*s\n", (int)len, (const char *)p);
    } else {
        char *b64 = out_base64(p, len);
        printf("  (%zu bytes, base64) %s\n", len, b64 != NULL ? b64 : "");
        free(b64);
    }
}

void out_msg(const mq_msg *m, int json)
{
    out_msg_state(m, json, NULL, 0);
}

void out_msg_state(const mq_msg *m, int json, const char *state,
                   uint32_t attempts)
{
    if (json) {
        msg_json(m, state, attempts);
    } else {
        msg_text(m, state, attempts);
    }
}
