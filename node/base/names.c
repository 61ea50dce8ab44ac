/* names.c: validation of names, ids and events. */
#include "names.h"

#include <stdio.h>
#include <string.h>

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static int is_token_char(char c)
{
    return is_alnum(c) || c == '_' || c == '-';
}

mq_err name_check(const char *s, size_t len, const char *what, struct errmsg *e)
{
    if (s == NULL || len == 0) {
        errmsg_set(e, "%s is empty", what);
        return MQ_ERR_INVALID;
    }
    if (len > MQ_NAME_MAX) {
        errmsg_set(e, "%s is %zu characters, at most %d are allowed", what, len,
                   MQ_NAME_MAX);
        return MQ_ERR_INVALID;
    }
    if (!is_alnum(s[0])) {
        errmsg_set(e, "%s must start with a letter or digit", what);
        return MQ_ERR_INVALID;
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_token_char(s[i]) && s[i] != '.') {
            errmsg_set(e,
                       "%s has a character other than letters, digits, "
                       "'_', '-' and '.' at position %zu",
                       what, i + 1);
            return MQ_ERR_INVALID;
        }
    }
    return MQ_OK;
}

mq_err qname_normalize(const char *s, char out[MQ_QNAME_MAX + 1],
                       struct errmsg *e)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    mq_err rv;
    if (slash == NULL) {
        rv = name_check(s, s ? strlen(s) : 0, "queue name", e);
        if (rv == MQ_OK) {
            snprintf(out, MQ_QNAME_MAX + 1, "default/%s", s);
        }
        return rv;
    }
    rv = name_check(s, (size_t)(slash - s), "namespace", e);
    if (rv == MQ_OK) {
        rv = name_check(slash + 1, strlen(slash + 1), "queue name", e);
    }
    if (rv == MQ_OK) {
        snprintf(out, MQ_QNAME_MAX + 1, "%s", s);
    }
    return rv;
}

mq_err filter_check(const char *s, size_t len, struct errmsg *e)
{
    size_t i = 0;
    if (len == 0 || len > MQ_EVENT_MAX) {
        errmsg_set(e, "filter must be 1..%d characters", MQ_EVENT_MAX);
        return MQ_ERR_INVALID;
    }
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '.') {
            j++;
        }
        size_t tok = j - i;
        int wild = tok == 1 && (s[i] == '*' || s[i] == '>');
        if (tok == 0) {
            errmsg_set(e, "filter \"%.*s\" has an empty token", (int)len, s);
            return MQ_ERR_INVALID;
        }
        if (s[i] == '>' && tok == 1 && j != len) {
            errmsg_set(e, "filter \"%.*s\": '>' must be the last token",
                       (int)len, s);
            return MQ_ERR_INVALID;
        }
        for (size_t k = i; !wild && k < j; k++) {
            if (!is_token_char(s[k])) {
                errmsg_set(e,
                           "filter \"%.*s\" has a character other than "
                           "letters, digits, '_', '-', '.', '*' and '>'",
                           (int)len, s);
                return MQ_ERR_INVALID;
            }
        }
        i = j + 1;
        if (j == len - 1 && s[j] == '.') {
            errmsg_set(e, "filter \"%.*s\" ends with '.'", (int)len, s);
            return MQ_ERR_INVALID;
        }
    }
    return MQ_OK;
}

mq_err id_check(const char *s, size_t len, struct errmsg *e)
{
    if (len == 0) {
        errmsg_set(e, "message id is empty");
        return MQ_ERR_INVALID;
    }
    if (len > MQ_ID_MAX) {
        errmsg_set(e, "message id is %zu bytes, at most %d are allowed", len,
                   MQ_ID_MAX);
        return MQ_ERR_INVALID;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e) {
            errmsg_set(e,
                       "message id has a character that is not printable "
                       "ASCII at position %zu",
                       i + 1);
            return MQ_ERR_INVALID;
        }
    }
    return MQ_OK;
}

mq_err event_check(const char *s, size_t len, struct errmsg *e)
{
    if (len == 0) {
        errmsg_set(e, "event name is empty");
        return MQ_ERR_INVALID;
    }
    if (len > MQ_EVENT_MAX) {
        errmsg_set(e, "event name is %zu bytes, at most %d are allowed", len,
                   MQ_EVENT_MAX);
        return MQ_ERR_INVALID;
    }
    size_t token = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (token == 0) {
                errmsg_set(e, "event name has an empty token at position %zu",
                           i + 1);
                return MQ_ERR_INVALID;
            }
            token = 0;
        } else if (is_token_char(s[i])) {
            token++;
        } else {
            errmsg_set(e,
                       "event name has a character other than letters, "
                       "digits, '_', '-' and '.' at position %zu",
                       i + 1);
            return MQ_ERR_INVALID;
        }
    }
    if (token == 0) {
        errmsg_set(e, "event name ends with an empty token");
        return MQ_ERR_INVALID;
    }
    return MQ_OK;
}
