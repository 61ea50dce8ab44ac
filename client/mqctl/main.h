/* main.h: what every mqctl command gets from main: the global options and
 * the client, opened on first use. */
#ifndef MQCTL_MAIN_H
#define MQCTL_MAIN_H

#include <stdint.h>

#include "mq.h"

#define MQCTL_DEFAULT_URLS                                                     \
    "tcp://127.0.0.1:7001,tcp://127.0.0.1:7002,tcp://127.0.0.1:7003"

struct mqctl {
    const char *urls;    /* -s */
    const char *ns;      /* --ns; NULL: libmq's default */
    int json;            /* --json */
    uint32_t timeout_ms; /* --timeout; 0: libmq's default */
    int any_node;        /* --any-node: reads from followers too */
    /* The key: --token, else --token-file, else $MQ_TOKEN; NULL: none. */
    const char *token;
    const char *token_file;
    const char *tls_ca;   /* --tls-ca, or MQ_TLS_CA */
    const char *tls_cert; /* --tls-cert, or MQ_TLS_CERT */
    const char *tls_key;  /* --tls-key, or MQ_TLS_KEY */
    mq_client *c;         /* see mqctl_client */
};

struct cmd;

/* The client, opened at the first call. NULL when it cannot be opened,
 * after printing why; the command then exits with mqctl_client_exit(). */
mq_client *mqctl_client(struct mqctl *m);

/* Exit code after mqctl_client failed: 2 for a bad URL list or
 * namespace, else 1. */
int mqctl_client_exit(void);

/* The wall clock, in ms since the epoch. */
uint64_t mqctl_now_ms(void);

#endif
