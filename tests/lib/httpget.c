/* httpget.c: the tests' HTTP client (httpget.h). */
#include "httpget.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int http_connect(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

long http_raw(int port, const void *req, size_t req_len, char *out, size_t len,
              int timeout_ms, int *closed)
{
    long long deadline = now_ms() + timeout_ms;
    size_t got = 0;
    int fd = http_connect(port);

    *closed = 0;
    if (len > 0) {
        out[0] = '\0';
    }
    if (fd < 0) {
        return -1;
    }
    for (size_t sent = 0; sent < req_len;) {
        ssize_t n =
            send(fd, (const char *)req + sent, req_len - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            break; /* the server may have closed: read what it said */
        }
        sent += (size_t)n;
    }
    for (;;) {
        long long left = deadline - now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        char drop[4096];
        if (left <= 0) {
            break;
        }
        if (poll(&p, 1, (int)left) <= 0) {
            continue;
        }
        char *to = got + 1 < len ? out + got : drop;
        size_t room = got + 1 < len ? len - 1 - got : sizeof drop;
        ssize_t n = recv(fd, to, room, 0);
        if (n <= 0) {
            *closed = 1;
            break;
        }
        if (to != drop) {
            got += (size_t)n;
            out[got] = '\0';
        }
    }
    close(fd);
    return (long)got;
}

int http_get(int port, const char *path, char *body, size_t len, int timeout_ms)
{
    char req[2048];
    size_t cap = 8u << 20;
    char *buf = malloc(cap);
    int closed, status = -1;
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                     "Connection: close\r\n\r\n",
                     path, port);
    long got = http_raw(port, req, (size_t)n, buf, cap, timeout_ms, &closed);
    if (got > 12 && closed && sscanf(buf, "HTTP/1.%*d %d", &status) == 1) {
        const char *b = strstr(buf, "\r\n\r\n");
        if (body != NULL && len > 0) {
            snprintf(body, len, "%s", b ? b + 4 : "");
        }
    } else {
        status = -1;
    }
    free(buf);
    return status;
}

void http_urlencode(const char *in, char *out, size_t len)
{
    size_t at = 0;
    for (; *in && at + 4 < len; in++) {
        unsigned char c = (unsigned char)*in;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            out[at++] = (char)c;
        } else {
            at += (size_t)snprintf(out + at, len - at, "%%%02X", c);
        }
    }
    out[at] = '\0';
}
