/* pipeabort.c: closing a connection nng is reading from (pipeabort.h). */
#include "pipeabort.h"

#include <dirent.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* Whether @sa (from the kernel) is the address @na (from nng). */
static int same_addr(const struct sockaddr_storage *sa, socklen_t len,
                     const nng_sockaddr *na)
{
    if (na->s_family == NNG_AF_INET && sa->ss_family == AF_INET &&
        len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return in->sin_port == na->s_in.sa_port &&
               in->sin_addr.s_addr == na->s_in.sa_addr;
    }
    if (na->s_family == NNG_AF_INET6 && sa->ss_family == AF_INET6 &&
        len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return in6->sin6_port == na->s_in6.sa_port &&
               memcmp(in6->sin6_addr.s6_addr, na->s_in6.sa_addr, 16) == 0;
    }
    return 0;
}

/* The descriptor of the connected socket whose ends are @loc and @rem, or
 * -1. */
static int find_fd(const nng_sockaddr *loc, const nng_sockaddr *rem)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int found = -1;

    if (d == NULL) {
        return -1;
    }
    while (found < 0 && (de = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        struct sockaddr_storage sa;
        socklen_t len = sizeof sa;
        struct stat st;
        if (*end != '\0' || end == de->d_name || fd == dirfd(d) ||
            fstat((int)fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
            continue;
        }
        if (getpeername((int)fd, (struct sockaddr *)&sa, &len) != 0 ||
            !same_addr(&sa, len, rem)) {
            continue;
        }
        len = sizeof sa;
        if (getsockname((int)fd, (struct sockaddr *)&sa, &len) == 0 &&
            same_addr(&sa, len, loc)) {
            found = (int)fd;
        }
    }
    closedir(d);
    return found;
}

int pipe_abort(nng_pipe p)
{
    nng_sockaddr loc, rem;
    if (nng_pipe_get_addr(p, NNG_OPT_LOCADDR, &loc) == 0 &&
        nng_pipe_get_addr(p, NNG_OPT_REMADDR, &rem) == 0) {
        int fd = find_fd(&loc, &rem);
        if (fd >= 0 && shutdown(fd, SHUT_RDWR) == 0) {
            return 1;
        }
    }
    nng_pipe_close(p);
    return 0;
}
