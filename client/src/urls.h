/* urls.h: the comma-separated node URL list of mq_client_opts. */
#ifndef MQ_CLIENT_URLS_H
#define MQ_CLIENT_URLS_H

#include <stddef.h>

#include "mq.h"

/* Most URLs a list may hold. */
#define URLS_MAX 16

/* Splits @list ("tcp://a:7001, tcp://b:7002") into its URLs: spaces around
 * an entry are dropped, and so are repeated entries. Each URL must look like
 * "scheme://address" with no spaces and be shorter than MQ_URL_MAX (nng
 * checks the rest when it dials). Returns MQ_OK and sets *out to an array of
 * *n strings (freed with urls_free), or MQ_ERR_INVALID naming the bad entry
 * (mq_errmsg), or MQ_ERR_NO_MEMORY. */
mq_err urls_parse(const char *list, char ***out, size_t *n);

void urls_free(char **urls, size_t n);

#endif
