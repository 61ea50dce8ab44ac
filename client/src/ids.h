/* ids.h: message ids that libmq generates when mq_pub.id is NULL. An id is
 * 11 base62 characters of a random 64-bit prefix drawn once per client,
 * followed by a per-client counter in base62: unique across clients without
 * coordination, at most IDS_LEN_MAX characters, and valid (letters and
 * digits only). */
#ifndef MQ_CLIENT_IDS_H
#define MQ_CLIENT_IDS_H

#include <stdatomic.h>
#include <stdint.h>

#define IDS_PREFIX_LEN 11
#define IDS_LEN_MAX 22
#define IDS_BUF (IDS_LEN_MAX + 1)

struct ids {
    char prefix[IDS_PREFIX_LEN + 1];
    _Atomic uint64_t counter;
};

/* Draws the random prefix (getrandom; a mix of clock, pid and addresses if
 * the kernel has none to give). */
void ids_init(struct ids *g);

/* Writes the next id, NUL-terminated, to @out. Thread-safe. */
void ids_next(struct ids *g, char out[IDS_BUF]);

/* Writes @v in base62 with exactly @width digits (the high ones dropped). */
void ids_base62(uint64_t v, char *out, int width);

#endif
