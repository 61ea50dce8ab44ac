/* sdnotify.h: tells a supervisor that follows systemd's notify protocol
 * (Type=notify; sd_notify(3)) how the node is doing: a datagram of
 * "KEY=value" lines to the unix socket named by $NOTIFY_SOCKET (read into
 * the config at start). Without that variable nothing is sent. */
#ifndef MQ_SDNOTIFY_H
#define MQ_SDNOTIFY_H

/* Sends @state ("READY=1\nSTATUS=..." etc.) to @socket_path (a path, or
 * an abstract name starting with '@'); "" does nothing. Returns 0, or -1
 * when it could not be sent (errno set; the caller logs it). */
int sdnotify_send(const char *socket_path, const char *state);

#endif
