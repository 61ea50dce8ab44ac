/* sdnotify.c: systemd's notify protocol, without libsystemd: one datagram
 * on an AF_UNIX socket (see sdnotify.h). */
#include "sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int sdnotify_send(const char *socket_path, const char *state)
{
    struct sockaddr_un addr;
    size_t n = strlen(socket_path);
    socklen_t len;
    int fd, rv;

    if (n == 0) {
        return 0;
    }
    if (n >= sizeof addr.sun_path ||
        (socket_path[0] != '/' && socket_path[0] != '@')) {
        errno = EINVAL;
        return -1;
    }
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, socket_path, n);
    if (addr.sun_path[0] == '@') {
        addr.sun_path[0] = '\0'; /* an abstract socket */
    }
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    rv = (int)sendto(fd, state, strlen(state), MSG_NOSIGNAL,
                     (struct sockaddr *)&addr, len);
    if (rv < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    close(fd);
    return 0;
}
