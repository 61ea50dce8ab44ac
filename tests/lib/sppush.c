/* sppush.c: raw SP connections to a peer port (sppush.h). */
#include "sppush.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

int sppush_tcp(int port)
{
    struct sockaddr_in a = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

int sppush_open(int port)
{
    static const unsigned char hdr[8] = {0, 'S', 'P', 0, 0, 0x50, 0, 0};
    int fd = sppush_tcp(port);
    if (fd >= 0 && send(fd, hdr, sizeof hdr, MSG_NOSIGNAL) != sizeof hdr) {
        close(fd);
        fd = -1;
    }
    return fd;
}

int sppush_send(int fd, const void *body, size_t len)
{
    unsigned char head[8];
    for (int i = 0; i < 8; i++) { /* 8-byte big-endian size */
        head[i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    }
    ssize_t w = send(fd, head, sizeof head, MSG_NOSIGNAL);
    if (w < 0) {
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
    if (w == sizeof head && send(fd, body, len, MSG_NOSIGNAL) < 0 &&
        errno != EAGAIN && errno != EWOULDBLOCK) {
        return -1;
    }
    return 1;
}

int sppush_closed(int fd)
{
    char sink[256];
    ssize_t r = recv(fd, sink, sizeof sink, 0);
    return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}
