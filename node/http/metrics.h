/* metrics.h: /metrics, the node's figures in the Prometheus text format
 * (version 0.0.4): names mq_..., units in the names (_seconds, _bytes,
 * _total for counters), a HELP and TYPE line for each family. The page
 * lists node figures, then per-queue and per-subscription series for the
 * queues the snapshot lists, the rest summed under the label value
 * "(other)" (figures.h). docs/operations.md lists every name. Pure: reads
 * the snapshot only. Any thread. */
#ifndef MQ_METRICS_H
#define MQ_METRICS_H

#include <stdint.h>

#include "figures.h"
#include "textbuf.h"

/* Figures of the HTTP listener itself, which live outside the snapshot. */
struct metrics_http {
    uint64_t connections;    /* open now */
    uint64_t accepted;       /* since start */
    uint64_t refused;        /* closed at once: over http_max_connections */
    uint64_t timeouts;       /* closed: request not in within the time */
    uint64_t too_large;      /* answered 431 */
    uint64_t auth_refused;   /* answered 401 */
    uint64_t figures_age_ms; /* age of the snapshot served */
    /* When the certificates expire (ms since the epoch; 0: none, or the
     * file does not parse): the client one (tls_cert_file, also HTTPS's)
     * and the peer one (peer_tls_cert_file). */
    uint64_t cert_client_ms, cert_peer_ms;
};

/* Writes the page for @f and @h to @out. */
void metrics_render(const struct figures *f, const struct metrics_http *h,
                    struct textbuf *out);

#endif
