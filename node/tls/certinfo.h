/* certinfo.h: what an operator wants to know of a certificate file: when
 * the certificates in it expire. Any thread (reads the file each call). */
#ifndef MQ_CERTINFO_H
#define MQ_CERTINFO_H

#include <stdint.h>

#include "errmsg.h"
#include "mq.h"

/* Sets *ms to the earliest end of validity (notAfter, ms since the epoch)
 * of the certificates in PEM file @path (the value of config key @key).
 * Returns MQ_OK; MQ_ERR_INVALID with @e naming the key and the file when
 * it does not read or parse; MQ_ERR_NO_MEMORY. */
mq_err certinfo_not_after(const char *key, const char *path, uint64_t *ms,
                          struct errmsg *e);

#endif
