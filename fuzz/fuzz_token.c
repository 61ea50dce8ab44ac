/* fuzz_token.c: token_parse (node/auth/token.c) on arbitrary bytes: the
 * token every request carries. What it accepts as a key's token is written
 * back by token_format as the same bytes (so a token has one form); what
 * it takes for the bootstrap secret is a secret token_check_bare accepts;
 * what it refuses gets a message. */
#include <string.h>

#include "fuzz.h"
#include "token.h"

int fuzz_token_one(const uint8_t *data, size_t size)
{
    struct token t;
    struct errmsg e = ERRMSG_INIT, be = ERRMSG_INIT;
    const char *s = (const char *)data;
    mq_err rv = token_parse(s, size, &t, &e);
    mq_err bare = token_check_bare(s, size, &be);

    if (rv != MQ_OK) {
        FUZZ_CHECK(rv == MQ_ERR_UNAUTHENTICATED);
        FUZZ_CHECK(e.msg[0] != '\0');
        FUZZ_CHECK(bare != MQ_OK);
        return 0;
    }
    if (t.kind == TOKEN_KEY) {
        char out[TOKEN_KEY_MAX + 1];
        token_format(t.name, t.secret, out);
        FUZZ_CHECK(strlen(out) == size && memcmp(out, data, size) == 0);
        FUZZ_CHECK(bare != MQ_OK);
    } else {
        FUZZ_CHECK(t.kind == TOKEN_BARE);
        FUZZ_CHECK(t.bare == s && t.bare_len == size);
        FUZZ_CHECK(bare == MQ_OK);
    }
    return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_token_one(data, size);
}
#endif
