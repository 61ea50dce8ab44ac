/* check.c: local validation of names, ids, events, filters and messages. */
#include "check.h"

#include <stdio.h>
#include <string.h>

#include "lasterr.h"

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static int is_token_char(char c)
{
    return is_alnum(c) || c == '_' || c == '-';
}

mq_err check_name(const char *s, const char *what)
{
    size_t len = s == NULL ? 0 : strlen(s);

    if (len == 0) {
        return lasterr_fail(MQ_ERR_INVALID, "%s is empty", what);
    }
    if (len > MQ_NAME_MAX) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "%s is %zu characters, at most %d are allowed",
                            what, len, MQ_NAME_MAX);
    }
    if (!is_alnum(s[0])) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "%s must start with a letter or digit", what);
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_token_char(s[i]) && s[i] != '.') {
            return lasterr_fail(MQ_ERR_INVALID,
                                "%s has a character other than letters, "
                                "digits, '_', '-' and '.' at position %zu",
                                what, i + 1);
        }
    }
    return MQ_OK;
}

mq_err check_qname(const char *s, const char *ns, const char *what,
                   char out[MQ_QNAME_MAX + 1])
{
    const char *slash = s != NULL ? strchr(s, '/') : NULL;
    char part[MQ_NAME_MAX + 1];
    size_t len;
    mq_err rv;

    if (slash == NULL) {
        if ((rv = check_name(s, what)) != MQ_OK) {
            return rv;
        }
        if (ns != NULL) {
            snprintf(out, MQ_QNAME_MAX + 1, "%s/%s", ns, s);
        } else {
            snprintf(out, MQ_QNAME_MAX + 1, "%s", s);
        }
        return MQ_OK;
    }
    len = (size_t)(slash - s);
    if (len > MQ_NAME_MAX) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "namespace of %s is %zu characters, at most %d "
                            "are allowed",
                            what, len, MQ_NAME_MAX);
    }
    memcpy(part, s, len);
    part[len] = '\0';
    if ((rv = check_name(part, "namespace")) != MQ_OK ||
        (rv = check_name(slash + 1, what)) != MQ_OK) {
        return rv;
    }
    snprintf(out, MQ_QNAME_MAX + 1, "%s", s);
    return MQ_OK;
}

void check_qname_full(const char *name, char out[MQ_QNAME_MAX + 1])
{
    if (strchr(name, '/') != NULL) {
        snprintf(out, MQ_QNAME_MAX + 1, "%s", name);
    } else {
        snprintf(out, MQ_QNAME_MAX + 1, "%s/%.*s", CHECK_DEFAULT_NS,
                 MQ_NAME_MAX, name);
    }
}

mq_err check_id(const char *s)
{
    size_t len;

    if (s == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "message id is NULL");
    }
    len = strlen(s);

    if (len == 0) {
        return lasterr_fail(MQ_ERR_INVALID, "message id is empty");
    }
    if (len > MQ_ID_MAX) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "message id is %zu bytes, at most %d are allowed",
                            len, MQ_ID_MAX);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e) {
            return lasterr_fail(MQ_ERR_INVALID,
                                "message id has a character that is not "
                                "printable ASCII (or is a space) at position "
                                "%zu",
                                i + 1);
        }
    }
    return MQ_OK;
}

mq_err check_event(const char *s)
{
    size_t len = strlen(s);
    size_t token = 0;

    if (len == 0) {
        return lasterr_fail(MQ_ERR_INVALID, "event name is empty");
    }
    if (len > MQ_EVENT_MAX) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "event name is %zu bytes, at most %d are allowed",
                            len, MQ_EVENT_MAX);
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (token == 0) {
                return lasterr_fail(MQ_ERR_INVALID,
                                    "event name \"%s\" has an empty token at "
                                    "position %zu",
                                    s, i + 1);
            }
            token = 0;
        } else if (is_token_char(s[i])) {
            token++;
        } else {
            return lasterr_fail(MQ_ERR_INVALID,
                                "event name \"%.*s\" has a character other "
                                "than letters, digits, '_', '-' and '.' at "
                                "position %zu",
                                MQ_EVENT_MAX, s, i + 1);
        }
    }
    if (token == 0) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "event name \"%s\" ends with an empty token", s);
    }
    return MQ_OK;
}

mq_err check_filter(const char *s)
{
    size_t len = s != NULL ? strlen(s) : 0;
    size_t start = 0;

    if (len == 0 || len > MQ_EVENT_MAX) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "filter must be 1..%d characters, not %zu",
                            MQ_EVENT_MAX, len);
    }
    /* One token per round: s[start, end). */
    for (;;) {
        size_t end = start;
        while (end < len && s[end] != '.') {
            end++;
        }
        if (end == start) {
            return lasterr_fail(MQ_ERR_INVALID,
                                "filter \"%s\" has an empty token at "
                                "position %zu",
                                s, start + 1);
        }
        if (end - start == 1 && (s[start] == '*' || s[start] == '>')) {
            if (s[start] == '>' && end != len) {
                return lasterr_fail(MQ_ERR_INVALID,
                                    "filter \"%s\": '>' must be the last "
                                    "token",
                                    s);
            }
        } else {
            for (size_t i = start; i < end; i++) {
                if (!is_token_char(s[i])) {
                    return lasterr_fail(
                        MQ_ERR_INVALID,
                        "filter \"%s\" has a character other than letters, "
                        "digits, '_', '-' and '.' at position %zu (\"*\" and "
                        "\">\" stand alone as tokens)",
                        s, i + 1);
                }
            }
        }
        if (end == len) {
            return MQ_OK;
        }
        start = end + 1;
    }
}

static mq_err check_headers(const mq_header *h, size_t n)
{
    if (n > CHECK_HEADERS_MAX) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "message has %zu headers, at most %d are allowed",
                            n, CHECK_HEADERS_MAX);
    }
    if (n > 0 && h == NULL) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "message has %zu headers but headers is NULL", n);
    }
    for (size_t i = 0; i < n; i++) {
        size_t klen = h[i].key == NULL ? 0 : strlen(h[i].key);
        if (klen == 0 || klen > CHECK_HEADER_KEY_MAX) {
            return lasterr_fail(MQ_ERR_INVALID,
                                "header %zu: key must be 1..%d bytes", i + 1,
                                CHECK_HEADER_KEY_MAX);
        }
        if (h[i].value == NULL) {
            return lasterr_fail(MQ_ERR_INVALID,
                                "header %zu (%s): value is NULL", i + 1,
                                h[i].key);
        }
        if (strlen(h[i].value) > CHECK_HEADER_VALUE_MAX) {
            return lasterr_fail(MQ_ERR_INVALID,
                                "header %zu (%s): value is longer than %d "
                                "bytes",
                                i + 1, h[i].key, CHECK_HEADER_VALUE_MAX);
        }
    }
    return MQ_OK;
}

mq_err check_pub(const mq_pub *m)
{
    mq_err rv;

    if (m == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "message is NULL");
    }
    if (m->id != NULL && (rv = check_id(m->id)) != MQ_OK) {
        return rv;
    }
    if (m->event != NULL && m->event[0] != '\0' &&
        (rv = check_event(m->event)) != MQ_OK) {
        return rv;
    }
    if ((rv = check_headers(m->headers, m->n_headers)) != MQ_OK) {
        return rv;
    }
    if (m->payload_len == 0) {
        return lasterr_fail(MQ_ERR_INVALID, "payload is empty");
    }
    if (m->payload == NULL) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "payload is NULL but payload_len is %zu",
                            m->payload_len);
    }
    if (m->payload_len > UINT32_MAX) {
        return lasterr_fail(MQ_ERR_TOO_LARGE,
                            "payload is %zu bytes, more than 4 GiB",
                            m->payload_len);
    }
    if (m->delay_ms > CHECK_DELAY_MAX_MS) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "delay is %llu ms, more than 100 years",
                            (unsigned long long)m->delay_ms);
    }
    return MQ_OK;
}
