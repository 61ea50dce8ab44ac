/* textbuf.h: a growable text buffer for the pages the HTTP handlers write
 * (metrics, health JSON). Appends never fail outright: when memory runs
 * out (or the buffer would pass its cap) the buffer stops growing and
 * remembers it (failed), and the caller answers 503 instead of a cut
 * page. Owned by one thread at a time. */
#ifndef MQ_TEXTBUF_H
#define MQ_TEXTBUF_H

#include <stddef.h>

struct textbuf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len, cap;
    size_t max; /* largest size it may reach; 0: no cap */
    int failed; /* an append did not fit (no memory, or past max) */
};

/* An empty buffer of at most @max bytes (0: no cap). */
void textbuf_init(struct textbuf *b, size_t max);
void textbuf_free(struct textbuf *b);

void textbuf_printf(struct textbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void textbuf_put(struct textbuf *b, const char *s, size_t len);

/* Appends @s escaped for a Prometheus label value (backslash, quote and
 * newline escaped). */
void textbuf_label(struct textbuf *b, const char *s);
/* Appends @s escaped as the contents of a JSON string. */
void textbuf_json(struct textbuf *b, const char *s);

/* Hands the text over (the caller frees it with mq_free) and empties @b;
 * NULL if it failed. */
char *textbuf_take(struct textbuf *b, size_t *len);

#endif
