/* textbuf.c: the growable text buffer of the HTTP pages (textbuf.h). */
#include "textbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "log.h"

void textbuf_init(struct textbuf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

void textbuf_free(struct textbuf *b)
{
    mq_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Makes room for @more bytes and the NUL; 0 or -1 (failed set). */
static int reserve(struct textbuf *b, size_t more)
{
    size_t need = b->len + more + 1;
    if (b->failed) {
        return -1;
    }
    if (b->max != 0 && need > b->max) {
        b->failed = 1;
        return -1;
    }
    if (need <= b->cap) {
        return 0;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need) {
        cap *= 2;
    }
    if (b->max != 0 && cap > b->max) {
        cap = b->max;
    }
    char *p = mq_realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void textbuf_put(struct textbuf *b, const char *s, size_t len)
{
    if (reserve(b, len) != 0) {
        return;
    }
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void textbuf_printf(struct textbuf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        textbuf_put(b, small, (size_t)n);
        return;
    }
    if (reserve(b, (size_t)n) != 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void textbuf_label(struct textbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\':
            textbuf_put(b, "\\\\", 2);
            break;
        case '"':
            textbuf_put(b, "\\\"", 2);
            break;
        case '\n':
            textbuf_put(b, "\\n", 2);
            break;
        default:
            textbuf_put(b, s, 1);
        }
    }
}

void textbuf_json(struct textbuf *b, const char *s)
{
    /* Escaped, a byte takes at most 6. */
    size_t need = 6 * strlen(s);
    size_t at;
    if (reserve(b, need) != 0) {
        return;
    }
    at = b->len;
    log_json_escape(b->data, b->len + need, &at, s);
    b->len = at;
    b->data[b->len] = '\0';
}

char *textbuf_take(struct textbuf *b, size_t *len)
{
    char *p = b->data;
    if (b->failed) {
        textbuf_free(b);
        return NULL;
    }
    *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    if (p == NULL) {
        p = mq_strdup("");
    }
    return p;
}
