/* crash.c: the stack of a node dying of a fatal signal (crash.h). Only
 * async-signal-safe calls in the handler, except backtrace(), whose
 * library is loaded before any signal (crash_report_install). */
#include "crash.h"

#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "sigsafe.h"

#define FRAMES_MAX 64

static void handler(int sig)
{
    void *frames[FRAMES_MAX];
    int n = backtrace(frames, FRAMES_MAX);

    sigsafe_put("mqd: fatal signal ");
    sigsafe_put_u64((uint64_t)sig);
    sigsafe_put(", the stack:\n");
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
