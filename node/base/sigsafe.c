/* sigsafe.c: writing to stderr from a signal handler (sigsafe.h). */
#include "sigsafe.h"

#include <string.h>
#include <unistd.h>

void sigsafe_put(const char *s)
{
    size_t len = strlen(s);
    while (len > 0) {
        ssize_t w = write(STDERR_FILENO, s, len);
        if (w <= 0) {
            return;
        }
        s += w;
        len -= (size_t)w;
    }
}

void sigsafe_put_u64(uint64_t v)
{
    char num[24];
    int i = (int)sizeof num - 1;
    num[i] = '\0';
    do {
        num[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 && i > 0);
    sigsafe_put(num + i);
}
