/* httpreq.c: the HTTP request head parser (httpreq.h). It finds the end
 * of the head first, then reads line by line within it; each line is
 * checked for the characters the grammar allows (RFC 9112: tokens for the
 * method and field names, visible characters for the target and values),
 * so that nothing odd reaches a handler. */
#include "httpreq.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static enum httpreq_result bad(struct http_request *out, int status,
                               const char *why)
{
    out->status = status;
    snprintf(out->why, sizeof out->why, "%s", why);
    return HTTPREQ_BAD;
}

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

/* The end of the head (just past its empty line), or 0 if not in @buf. */
static size_t head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n') {
            continue;
        }
        if (i + 1 < len && buf[i + 1] == '\n') {
            return i + 2;
        }
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
            return i + 3;
        }
    }
    return 0;
}

/* The line at @p (up to @end) without its CR LF: its length; *@next is
 * where the next line starts. */
static size_t line_at(const char *p, const char *end, const char **next)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n;
    if (nl == NULL) {
        *next = end;
        return (size_t)(end - p);
    }
    *next = nl + 1;
    n = (size_t)(nl - p);
    if (n > 0 && p[n - 1] == '\r') {
        n--;
    }
    return n;
}

static enum httpreq_result request_line(const char *p, size_t n,
                                        struct http_request *out)
{
    size_t i = 0, m, t0, tn;
    while (i < n && p[i] != ' ') {
        if (p[i] < 'A' || p[i] > 'Z') {
            return bad(out, 400, "malformed request line");
        }
        i++;
    }
    if (i == 0 || i == n) {
        return bad(out, 400, "malformed request line");
    }
    if (i >= sizeof out->method) {
        return bad(out, 501, "method not implemented");
    }
    memcpy(out->method, p, i);
    out->method[i] = '\0';
    t0 = ++i;
    while (i < n && p[i] != ' ') {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c >= 0x7f) {
            return bad(out, 400, "malformed request target");
        }
        i++;
    }
    tn = i - t0;
    if (tn == 0 || i == n) {
        return bad(out, 400, "malformed request line");
    }
    if (p[t0] != '/') {
        return bad(out, 400, "the request target must be a path");
    }
    if (tn > HTTPREQ_TARGET_MAX) {
        return bad(out, 414, "request target too long");
    }
    m = n - (i + 1);
    if (m != 8 || (memcmp(p + i + 1, "HTTP/1.1", 8) != 0 &&
                   memcmp(p + i + 1, "HTTP/1.0", 8) != 0)) {
        return bad(out, 505, "HTTP version not supported (1.0 or 1.1)");
    }
    const char *q = memchr(p + t0, '?', tn);
    size_t plen = q ? (size_t)(q - (p + t0)) : tn;
    memcpy(out->path, p + t0, plen);
    out->path[plen] = '\0';
    if (q != NULL) {
        size_t qlen = tn - plen - 1;
        memcpy(out->query, q + 1, qlen);
        out->query[qlen] = '\0';
    }
    return HTTPREQ_OK;
}

static enum httpreq_result header_line(const char *p, size_t n,
                                       struct http_request *out)
{
    size_t k = 0, v, vn;
    while (k < n && is_tchar((unsigned char)p[k])) {
        k++;
    }
    if (k == 0 || k == n || p[k] != ':') {
        return bad(out, 400, "malformed header field");
    }
    v = k + 1;
    while (v < n && (p[v] == ' ' || p[v] == '\t')) {
        v++;
    }
    vn = n - v;
    while (vn > 0 && (p[v + vn - 1] == ' ' || p[v + vn - 1] == '\t')) {
        vn--;
    }
    for (size_t i = v; i < v + vn; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return bad(out, 400, "malformed header field value");
        }
    }
    if (k == 13 && strncasecmp(p, "authorization", 13) == 0) {
        if (vn > HTTPREQ_AUTH_MAX) {
            return bad(out, 431, "Authorization header too large");
        }
        memcpy(out->authorization, p + v, vn);
        out->authorization[vn] = '\0';
    } else if (k == 14 && strncasecmp(p, "content-length", 14) == 0) {
        if (vn != 1 || p[v] != '0') {
            return bad(out, 413, "no request body is accepted");
        }
    } else if (k == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
        return bad(out, 413, "no request body is accepted");
    }
    return HTTPREQ_OK;
}

enum httpreq_result httpreq_parse(const char *buf, size_t len,
                                  struct http_request *out)
{
    const char *p = buf, *next, *end;
    size_t n;
    enum httpreq_result rv;

    memset(out, 0, sizeof *out);
    /* Empty lines before the request line are to be ignored (RFC 9112
     * 2.2): skip a few. */
    for (int i = 0; i < 4 && len > 0 && (*p == '\r' || *p == '\n'); i++) {
        p++;
        len--;
    }
    if (memchr(p, '\0', len) != NULL) {
        return bad(out, 400, "NUL byte in the request");
    }
    n = head_end(p, len);
    if (n == 0) {
        return HTTPREQ_MORE;
    }
    end = p + n;
    out->head_len = (size_t)(end - buf);
    n = line_at(p, end, &next);
    if ((rv = request_line(p, n, out)) != HTTPREQ_OK) {
        return rv;
    }
    for (p = next; p < end;) {
        n = line_at(p, end, &next);
        if (n == 0) {
            break; /* the empty line */
        }
        if ((rv = header_line(p, n, out)) != HTTPREQ_OK) {
            return rv;
        }
        p = next;
    }
    return HTTPREQ_OK;
}

int httpreq_has_param(const char *query, const char *key)
{
    size_t klen = strlen(key);
    const char *p = query;
    while (*p) {
        size_t n = strcspn(p, "&");
        if (n >= klen && strncmp(p, key, klen) == 0 &&
            (n == klen || p[klen] == '=')) {
            return 1;
        }
        p += n;
        if (*p == '&') {
            p++;
        }
    }
    return 0;
}
