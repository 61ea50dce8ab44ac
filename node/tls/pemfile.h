/* pemfile.h: reading the PEM files of the TLS settings, and what mbedTLS
 * says of them, as messages that name the file and the config key. */
#ifndef MQ_PEMFILE_H
#define MQ_PEMFILE_H

#include <stddef.h>

#include "errmsg.h"
#include "mq.h"

/* Largest PEM file read (a certificate chain or a CA bundle). */
#define PEMFILE_MAX (1u << 20)

/* Reads @path (the value of config key @key) into a new NUL-terminated
 * buffer (*out, freed with mq_free). Returns MQ_OK; MQ_ERR_INVALID with @e
 * naming the key, the file and why (missing, unreadable, empty, larger
 * than PEMFILE_MAX); MQ_ERR_NO_MEMORY. */
mq_err pemfile_read(const char *key, const char *path, char **out,
                    struct errmsg *e);

/* mbedTLS's text for its error code @code, into @buf (@len bytes). */
const char *pemfile_strerror(int code, char *buf, size_t len);

/* The host of @url ("tls+tcp://host:port", "[v6]" without brackets) into
 * @host (@len bytes); "" when it has none. */
void pemfile_url_host(const char *url, char *host, size_t len);

#endif
