/* fuzz_http_request.c: httpreq_parse on arbitrary bytes, as an HTTP client
 * may send them to http_url. Whatever it reads, it reads within the input;
 * its verdict is consistent: a whole head has a path starting with '/',
 * fields within their bounds and a length within the input; a refusal has
 * an HTTP error status and a reason; "more" means no end of head is in the
 * input; and the verdict on a whole head does not change with bytes after
 * it. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "httpreq.h"

int fuzz_http_request_one(const uint8_t *data, size_t size)
{
    struct http_request r, again;
    const char *buf = (const char *)data;
    enum httpreq_result rv = httpreq_parse(buf, size, &r);

    switch (rv) {
    case HTTPREQ_OK:
        FUZZ_CHECK(r.head_len > 0 && r.head_len <= size);
        FUZZ_CHECK(r.path[0] == '/');
        FUZZ_CHECK(strlen(r.path) + strlen(r.query) < HTTPREQ_TARGET_MAX + 1);
        FUZZ_CHECK(strlen(r.method) > 0 && strlen(r.method) < 8);
        FUZZ_CHECK(strlen(r.authorization) <= HTTPREQ_AUTH_MAX);
        FUZZ_CHECK(memchr(data, '\0', size) == NULL);
        /* The head alone gives the same verdict. */
        FUZZ_CHECK(httpreq_parse(buf, r.head_len, &again) == HTTPREQ_OK);
        FUZZ_CHECK(again.head_len == r.head_len);
        FUZZ_CHECK(strcmp(again.path, r.path) == 0);
        FUZZ_CHECK(strcmp(again.query, r.query) == 0);
        FUZZ_CHECK(strcmp(again.authorization, r.authorization) == 0);
        break;
    case HTTPREQ_BAD:
        FUZZ_CHECK(r.status >= 400 && r.status <= 599);
        FUZZ_CHECK(r.why[0] != '\0');
        break;
    case HTTPREQ_MORE:
        FUZZ_CHECK(memchr(data, '\0', size) == NULL);
        for (size_t i = 4; i + 1 < size; i++) {
            /* No empty line after the request line's start: the head
             * would have ended there. */
            FUZZ_CHECK(!(buf[i] == '\n' && buf[i + 1] == '\n'));
        }
        break;
    }
    return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_http_request_one(data, size);
}
#endif
