/* gen_hello.c: writes the seeds of fuzz_peer_hello into DIR: hellos made by
 * peer_hello_encode with the target's identity (fuzz_peer_hello.c) at its
 * fixed time: one that verifies, a plain one, one to another node, one
 * with a flipped signature byte, and one signed an hour early.
 *   fuzz_gen_hello fuzz/corpus/peer_hello */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "peer_hello.h"
#include "tlsid.h"

#define FUZZ_NOW_MS 1800000000000ull

extern const char fuzz_hello_ca[], fuzz_hello_cert[], fuzz_hello_key[];

void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: %s\n", file, line, what);
    abort();
}

static void put(const char *dir, const char *name, const void *buf, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* A hello to @to at @now, signed by @id (NULL: plain); byte @flip (from
 * the end; 0: none) flipped. */
static void hello(const char *dir, const char *name, struct tlsid *id,
                  uint64_t to, uint64_t now, size_t flip)
{
    struct peer_self self = {1, 1, "tls+tcp://node1.fuzz:7101",
                             "tls+tcp://node1.fuzz:7001", now};
    struct errmsg e = ERRMSG_INIT;
    nng_msg *msg;
    if (peer_hello_encode(&self, "mq", to, id, &msg, &e) != MQ_OK) {
        fprintf(stderr, "%s: %s\n", name, e.msg);
        exit(1);
    }
    uint8_t *b = nng_msg_body(msg);
    if (flip != 0) {
        b[nng_msg_len(msg) - flip] ^= 0x40;
    }
    put(dir, name, b, nng_msg_len(msg));
    nng_msg_free(msg);
}

int main(int argc, char **argv)
{
    struct errmsg e = ERRMSG_INIT;
    struct tlsid *id;
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_gen_hello DIR\n");
        return 2;
    }
    if (tlsid_from_pem(&id, fuzz_hello_cert, fuzz_hello_key, fuzz_hello_ca,
                       &e) != MQ_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    hello(argv[1], "signed", id, 2, FUZZ_NOW_MS, 0);
    hello(argv[1], "plain", NULL, 2, FUZZ_NOW_MS, 0);
    hello(argv[1], "to_another_node", id, 3, FUZZ_NOW_MS, 0);
    hello(argv[1], "bad_signature", id, 2, FUZZ_NOW_MS, 5);
    hello(argv[1], "an_hour_old", id, 2, FUZZ_NOW_MS - 3600000, 0);
    tlsid_free(id);
    return 0;
}
