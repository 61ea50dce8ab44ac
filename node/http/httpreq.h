/* httpreq.h: parses the head of an HTTP/1.x request (request line and
 * header fields) from the bytes a connection sent, within bounds: a
 * request target of at most HTTPREQ_TARGET_MAX bytes, an Authorization
 * value of at most HTTPREQ_AUTH_MAX, and no request body (the endpoints
 * take none). Reads only within the bytes given; pure, any thread. The
 * caller bounds the head's total size (http_max_request_bytes). */
#ifndef MQ_HTTPREQ_H
#define MQ_HTTPREQ_H

#include <stddef.h>

#define HTTPREQ_TARGET_MAX 255
#define HTTPREQ_AUTH_MAX 511

enum httpreq_result {
    HTTPREQ_OK,   /* a whole head: @out filled */
    HTTPREQ_MORE, /* no end of the head yet: read more */
    HTTPREQ_BAD,  /* refused: out->status and out->why say why */
};

struct http_request {
    char method[8];                           /* "GET", "HEAD", ... */
    char path[HTTPREQ_TARGET_MAX + 1];        /* the target before '?' */
    char query[HTTPREQ_TARGET_MAX + 1];       /* after '?', "" if none */
    char authorization[HTTPREQ_AUTH_MAX + 1]; /* header value, "" if none */
    size_t head_len; /* bytes of the head, the blank line included */
    int status;      /* HTTPREQ_BAD: the HTTP status to answer */
    char why[128];   /* HTTPREQ_BAD: one line for the client */
};

/* Parses the head at the start of @buf (@len bytes). A head ends with an
 * empty line (CRLF CRLF, or bare LFs). HTTPREQ_BAD for: a malformed
 * request line (400), a method longer than 7 letters (501), a target not
 * starting with '/' (400) or too long (414), a version other than
 * HTTP/1.0 or 1.1 (505), a malformed header line or a NUL byte (400), an
 * Authorization value too long (431), a body announced (Content-Length
 * other than 0, or Transfer-Encoding: 413). */
enum httpreq_result httpreq_parse(const char *buf, size_t len,
                                  struct http_request *out);

/* Whether the query string @query (a&b=c form) holds the key @key (with
 * or without a value). */
int httpreq_has_param(const char *query, const char *key);

#endif
