/* urls.c: parsing of the node URL list. */
#include "urls.h"

#include <stdlib.h>
#include <string.h>

#include "lasterr.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_scheme_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

/* Checks one trimmed entry, number @pos (1-based) of the list. */
static mq_err check_url(const char *s, size_t len, size_t pos)
{
    const char *sep;
    size_t scheme_len;

    if (len == 0) {
        return lasterr_fail(MQ_ERR_INVALID, "URL %zu is empty", pos);
    }
    if (len >= MQ_URL_MAX) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "URL %zu is %zu characters, at most %d are "
                            "allowed",
                            pos, len, MQ_URL_MAX - 1);
    }
    for (size_t i = 0; i < len; i++) {
        if (is_space(s[i]) || (unsigned char)s[i] < 0x20) {
            return lasterr_fail(MQ_ERR_INVALID,
                                "URL %zu \"%.*s\" has a space or control "
                                "character",
                                pos, (int)len, s);
        }
    }
    sep = memmem(s, len, "://", 3);
    scheme_len = sep == NULL ? 0 : (size_t)(sep - s);
    if (sep == NULL || scheme_len == 0 || scheme_len + 3 == len) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "URL %zu \"%.*s\" is not scheme://address, e.g. "
                            "tcp://127.0.0.1:7001",
                            pos, (int)len, s);
    }
    for (size_t i = 0; i < scheme_len; i++) {
        if (!is_scheme_char(s[i])) {
            return lasterr_fail(MQ_ERR_INVALID,
                                "URL %zu \"%.*s\" has a bad scheme", pos,
                                (int)len, s);
        }
    }
    return MQ_OK;
}

static int contains(char **urls, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(urls[i]) == len && memcmp(urls[i], s, len) == 0) {
            return 1;
        }
    }
    return 0;
}

mq_err urls_parse(const char *list, char ***out, size_t *n)
{
    char **urls;
    size_t count = 0;
    size_t pos = 0;
    const char *p = list;
    mq_err rv;

    *out = NULL;
    *n = 0;
    if (list == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "no node URLs given");
    }
    urls = calloc(URLS_MAX, sizeof *urls);
    if (urls == NULL) {
        return lasterr_fail(MQ_ERR_NO_MEMORY, "out of memory");
    }
    for (;;) {
        const char *end = strchr(p, ',');
        const char *s = p;
        size_t len;

        if (end == NULL) {
            end = p + strlen(p);
        }
        pos++;
        while (s < end && is_space(*s)) {
            s++;
        }
        len = (size_t)(end - s);
        while (len > 0 && is_space(s[len - 1])) {
            len--;
        }
        if (len == 0 && pos == 1 && *end == '\0') {
            rv = lasterr_fail(MQ_ERR_INVALID, "no node URLs given");
            goto fail;
        }
        rv = check_url(s, len, pos);
        if (rv != MQ_OK) {
            goto fail;
        }
        if (!contains(urls, count, s, len)) {
            if (count == URLS_MAX) {
                rv = lasterr_fail(MQ_ERR_INVALID,
                                  "more than %d node URLs given", URLS_MAX);
                goto fail;
            }
            urls[count] = strndup(s, len);
            if (urls[count] == NULL) {
                rv = lasterr_fail(MQ_ERR_NO_MEMORY, "out of memory");
                goto fail;
            }
            count++;
        }
        if (*end == '\0') {
            break;
        }
        p = end + 1;
    }
    *out = urls;
    *n = count;
    return MQ_OK;

fail:
    urls_free(urls, count);
    return rv;
}

void urls_free(char **urls, size_t n)
{
    if (urls == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(urls[i]);
    }
    free(urls);
}
