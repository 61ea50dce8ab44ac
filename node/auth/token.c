/* token.c: parsing and writing tokens (see token.h). */
#include "token.h"

#include <stdio.h>
#include <string.h>

#include "names.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

static int printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
            return 0;
        }
    }
    return 1;
}

mq_err token_parse(const char *s, size_t len, struct token *out,
                   struct errmsg *e)
{
    memset(out, 0, sizeof *out);
    if (s == NULL || len == 0) {
        errmsg_set(e, "authentication is on and the request carries no key "
                      "(give a token: mqctl --token, MQ_TOKEN, or libmq's "
                      "token option)");
        return MQ_ERR_UNAUTHENTICATED;
    }
    if (len > TOKEN_MAX) {
        errmsg_set(e, "token of %zu bytes is longer than %d", len, TOKEN_MAX);
        return MQ_ERR_UNAUTHENTICATED;
    }
    if (!printable(s, len)) {
        errmsg_set(e, "token has a byte that is not printable ASCII");
        return MQ_ERR_UNAUTHENTICATED;
    }
    if (len < TOKEN_PREFIX_LEN || memcmp(s, TOKEN_PREFIX, 4) != 0) {
        if (len < TOKEN_BARE_MIN) {
            errmsg_set(e,
                       "token is neither a key's (mqk_<name>_<secret>) nor "
                       "a bootstrap secret (at least %d characters)",
                       TOKEN_BARE_MIN);
            return MQ_ERR_UNAUTHENTICATED;
        }
        out->kind = TOKEN_BARE;
        out->bare = s;
        out->bare_len = len;
        return MQ_OK;
    }
    /* mqk_<name>_<64 hex>: the name may hold '_', the secret may not. */
    if (len < TOKEN_PREFIX_LEN + 2 + TOKEN_SECRET_HEX ||
        s[len - TOKEN_SECRET_HEX - 1] != '_') {
        errmsg_set(e,
                   "token starts with mqk_ but is not mqk_<key name>_<%d "
                   "hex digits>",
                   TOKEN_SECRET_HEX);
        return MQ_ERR_UNAUTHENTICATED;
    }
    size_t name_len = len - TOKEN_PREFIX_LEN - 1 - TOKEN_SECRET_HEX;
    struct errmsg ne = ERRMSG_INIT;
    if (name_check(s + TOKEN_PREFIX_LEN, name_len, "key name", &ne) != MQ_OK) {
        errmsg_set(e, "token: %s", ne.msg);
        return MQ_ERR_UNAUTHENTICATED;
    }
    const char *hex = s + len - TOKEN_SECRET_HEX;
    for (size_t i = 0; i < TOKEN_SECRET_BYTES; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            errmsg_set(e, "token: the secret is not %d lowercase hex digits",
                       TOKEN_SECRET_HEX);
            memset(out, 0, sizeof *out);
            return MQ_ERR_UNAUTHENTICATED;
        }
        out->secret[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(out->name, s + TOKEN_PREFIX_LEN, name_len);
    out->name[name_len] = '\0';
    out->kind = TOKEN_KEY;
    return MQ_OK;
}

void token_format(const char *name, const uint8_t secret[TOKEN_SECRET_BYTES],
                  char out[TOKEN_KEY_MAX + 1])
{
    static const char digits[] = "0123456789abcdef";
    int n = snprintf(out, TOKEN_KEY_MAX + 1, TOKEN_PREFIX "%.*s_", MQ_NAME_MAX,
                     name);
    for (size_t i = 0; i < TOKEN_SECRET_BYTES; i++) {
        out[n++] = digits[secret[i] >> 4];
        out[n++] = digits[secret[i] & 15];
    }
    out[n] = '\0';
}

mq_err token_check_bare(const char *s, size_t len, struct errmsg *e)
{
    if (len < TOKEN_BARE_MIN || len > TOKEN_MAX) {
        errmsg_set(e, "the secret is %zu characters: %d..%d are needed", len,
                   TOKEN_BARE_MIN, TOKEN_MAX);
        return MQ_ERR_INVALID;
    }
    if (!printable(s, len)) {
        errmsg_set(e, "the secret has a character that is not printable "
                      "ASCII (it must be one line of text)");
        return MQ_ERR_INVALID;
    }
    if (memcmp(s, TOKEN_PREFIX, TOKEN_PREFIX_LEN) == 0) {
        errmsg_set(e, "the secret starts with " TOKEN_PREFIX
                      ", which marks a key's token: choose another");
        return MQ_ERR_INVALID;
    }
    return MQ_OK;
}
