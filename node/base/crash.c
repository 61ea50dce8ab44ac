/* crash.c: the stack of a node dying of a fatal signal (crash.h). Only
 * async-signal-safe calls in the handler, except backtrace(), whose
 * library is loaded before any signal (crash_report_install). */
#include "crash.h"

#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define FRAMES_MAX 64

static void put(const char *s)
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

static void handler(int sig)
{
    void *frames[FRAMES_MAX];
    char num[16];
    int n = backtrace(frames, FRAMES_MAX), i = (int)sizeof num - 1;
    unsigned v = (unsigned)sig;

    num[i] = '\0';
    do {
        num[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 && i > 0);
    put("mqd: fatal signal ");
    put(num + i);
    put(", the stack:\n");
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
    /* SA_RESETHAND put the default action back: it ends the process. */
    raise(sig);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) ||                                        \
    __has_feature(undefined_behavior_sanitizer)
#define SANITIZED 1
#endif
#endif

void crash_report_install(void)
{
    static const int sigs[] = {SIGABRT, SIGBUS, SIGFPE, SIGILL
#ifndef SANITIZED
                               ,
                               SIGSEGV
#endif
    };
    void *warm[1];
    struct sigaction sa;

    backtrace(warm, 1); /* loads libgcc now, not inside the handler */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        sigaction(sigs[i], &sa, NULL);
    }
}
