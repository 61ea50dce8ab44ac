/* pemfile.c: PEM files and mbedTLS's error texts (pemfile.h). */
#include "pemfile.h"

#include <errno.h>
#include <mbedtls/error.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"

mq_err pemfile_read(const char *key, const char *path, char **out,
                    struct errmsg *e)
{
    FILE *f;
    char *buf;
    size_t n;

    *out = NULL;
    if (path == NULL || path[0] == '\0') {
        errmsg_set(e, "%s: not set", key);
        return MQ_ERR_INVALID;
    }
    if ((f = fopen(path, "rb")) == NULL) {
        errmsg_set(e, "%s %s: %s", key, path, strerror(errno));
        return MQ_ERR_INVALID;
    }
    if ((buf = mq_malloc(PEMFILE_MAX + 1)) == NULL) {
        fclose(f);
        errmsg_set(e, "%s %s: out of memory", key, path);
        return MQ_ERR_NO_MEMORY;
    }
    n = fread(buf, 1, PEMFILE_MAX + 1, f);
    if (ferror(f)) {
        errmsg_set(e, "%s %s: read error: %s", key, path, strerror(errno));
        fclose(f);
        mq_free(buf);
        return MQ_ERR_INVALID;
    }
    fclose(f);
    if (n > PEMFILE_MAX) {
        errmsg_set(e, "%s %s: larger than %u bytes", key, path, PEMFILE_MAX);
        mq_free(buf);
        return MQ_ERR_INVALID;
    }
    if (n == 0) {
        errmsg_set(e, "%s %s: empty file", key, path);
        mq_free(buf);
        return MQ_ERR_INVALID;
    }
    buf[n] = '\0';
    *out = buf;
    return MQ_OK;
}

const char *pemfile_strerror(int code, char *buf, size_t len)
{
    mbedtls_strerror(code, buf, len);
    return buf;
}

void pemfile_url_host(const char *url, char *host, size_t len)
{
    const char *s = strstr(url, "://");
    size_t n;

    host[0] = '\0';
    if (s == NULL || len == 0) {
        return;
    }
    s += 3;
    if (*s == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL) {
            return;
        }
        s++;
        n = (size_t)(end - s);
    } else {
        n = strcspn(s, ":/");
    }
    if (n >= len) {
        return;
    }
    memcpy(host, s, n);
    host[n] = '\0';
}
