/* ids.c: generation of unique message ids (see ids.h). */
#include "ids.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static const char ids_digits[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void ids_base62(uint64_t v, char *out, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = ids_digits[v % 62];
        v /= 62;
    }
}

/* splitmix64: spreads a weak seed over all 64 bits. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void ids_init(struct ids *g)
{
    uint64_t r = 0;

    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = mix64((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
        r = mix64(r ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)g);
    }
    /* 62^11 > 2^64: eleven digits hold every 64-bit value. */
    ids_base62(r, g->prefix, IDS_PREFIX_LEN);
    g->prefix[IDS_PREFIX_LEN] = '\0';
    atomic_init(&g->counter, 0);
}

void ids_next(struct ids *g, char out[IDS_BUF])
{
    uint64_t n =
        atomic_fetch_add_explicit(&g->counter, 1, memory_order_relaxed);
    char tmp[IDS_PREFIX_LEN];
    int len = 1;

    for (uint64_t v = n; v >= 62; v /= 62) {
        len++;
    }
    ids_base62(n, tmp, len);
    memcpy(out, g->prefix, IDS_PREFIX_LEN);
    memcpy(out + IDS_PREFIX_LEN, tmp, (size_t)len);
    out[IDS_PREFIX_LEN + len] = '\0';
}
