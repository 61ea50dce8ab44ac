/* fuzz.h: the libFuzzer targets for the node's decoders of bytes from the
 * network or disk. Each fuzz_<target>_one is a target's whole body; the
 * target's LLVMFuzzerTestOneInput calls it, and so does the unit test that
 * replays the seed corpus (tests/unit/test_fuzz_corpus.c, built with
 * FUZZ_NO_MAIN). A failed check calls abort(), which both report. */
#ifndef MQ_FUZZ_H
#define MQ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* pub_scan on arbitrary bytes: a published message as a client sent it. */
int fuzz_pub_scan_one(const uint8_t *data, size_t size);

/* fsm_apply on arbitrary log entries, or on Commands decoded from the
 * input and framed by cmd_pack (see fuzz_fsm_apply.c for the layout). */
int fuzz_fsm_apply_one(const uint8_t *data, size_t size);

/* fsm_restore on arbitrary snapshot bytes. */
int fuzz_fsm_restore_one(const uint8_t *data, size_t size);

/* peer_decode on arbitrary bytes: a raft message from a peer. */
int fuzz_peer_decode_one(const uint8_t *data, size_t size);

/* peer_decode and peer_hello_verify on arbitrary bytes: the hello that
 * opens a peer connection. */
int fuzz_peer_hello_one(const uint8_t *data, size_t size);

/* segscan_run on arbitrary bytes: a log segment file as a damaged disk may
 * hold it. */
int fuzz_segscan_one(const uint8_t *data, size_t size);

/* storeseg_scan on arbitrary bytes: a message store segment as a damaged
 * disk may hold it. */
int fuzz_storeseg_one(const uint8_t *data, size_t size);

/* token_parse on arbitrary bytes: the key a request presents. */
int fuzz_token_one(const uint8_t *data, size_t size);
/* httpreq_parse on arbitrary bytes: an HTTP request head as a client of
 * http_url may send it. */
int fuzz_http_request_one(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with a message when @cond is false. */
#define FUZZ_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fuzz_fail(__FILE__, __LINE__, #cond);                              \
        }                                                                      \
    } while (0)

void fuzz_fail(const char *file, int line, const char *what)
    __attribute__((noreturn));

#endif
