/* token.h: what a client presents as its key. A key's token is
 * "mqk_<key name>_<secret>": the name finds the key, the secret (32 bytes
 * as 64 lowercase hex digits) is checked against its hashes. Any other
 * token is taken for the bootstrap secret (auth_bootstrap_key_file: at
 * least TOKEN_BARE_MIN characters, never starting with "mqk_"). Pure
 * functions: the parser sees bytes from the network (fuzz/fuzz_token.c). */
#ifndef MQ_TOKEN_H
#define MQ_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "mq.h"

#define TOKEN_PREFIX "mqk_"
#define TOKEN_PREFIX_LEN 4
#define TOKEN_SECRET_BYTES 32
#define TOKEN_SECRET_HEX (2 * TOKEN_SECRET_BYTES)
/* Length of the longest key token. */
#define TOKEN_KEY_MAX (TOKEN_PREFIX_LEN + MQ_NAME_MAX + 1 + TOKEN_SECRET_HEX)
/* Shortest and longest bootstrap secret (and so any token). */
#define TOKEN_BARE_MIN 32
#define TOKEN_MAX 512

enum token_kind {
    TOKEN_KEY,  /* mqk_<name>_<hex>: name and secret are set */
    TOKEN_BARE, /* the bootstrap secret: bare and bare_len are set */
};

struct token {
    enum token_kind kind;
    char name[MQ_NAME_MAX + 1];
    uint8_t secret[TOKEN_SECRET_BYTES];
    const char *bare; /* points into the parsed bytes */
    size_t bare_len;
};

/* Parses the @len bytes at @s. Returns MQ_OK and fills @out; or
 * MQ_ERR_UNAUTHENTICATED with @e saying what is wrong (empty, too long, a
 * byte that is not printable ASCII, a "mqk_" token whose name or secret is
 * malformed, a bare token shorter than TOKEN_BARE_MIN); the token itself
 * is never quoted. */
mq_err token_parse(const char *s, size_t len, struct token *out,
                   struct errmsg *e);

/* Writes the token of key @name with @secret to @out (NUL-terminated).
 * @name must be a valid key name. */
void token_format(const char *name, const uint8_t secret[TOKEN_SECRET_BYTES],
                  char out[TOKEN_KEY_MAX + 1]);

/* Checks a bootstrap secret read from a file: TOKEN_BARE_MIN..TOKEN_MAX
 * printable ASCII characters, not starting with "mqk_". Returns MQ_OK or
 * MQ_ERR_INVALID with @e saying why (never quoting the secret). */
mq_err token_check_bare(const char *s, size_t len, struct errmsg *e);

#endif
