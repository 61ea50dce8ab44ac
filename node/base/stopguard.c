/* stopguard.c: a bound on how long a node takes to stop (stopguard.h). */
#include "stopguard.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static _Atomic(const char *) step_what = "beginning to stop";
static atomic_int step_kind = STOPGUARD_WAIT;
static uint64_t bound_ms;

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

static void put_u64(uint64_t v)
{
    char num[24];
    int i = (int)sizeof num - 1;
    num[i] = '\0';
    do {
        num[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 && i > 0);
    put(num + i);
}

static void on_alarm(int sig)
{
    (void)sig;
    const char *what = atomic_load(&step_what);
    int nng = atomic_load(&step_kind) == STOPGUARD_NNG;
    put(nng ? "W" : "E");
    put(" mqd: the stop did not end within stop_timeout_ms ");
    put_u64(bound_ms);
    put(" while ");
    put(what);
    if (nng) {
        put(" (nng 1.5.2 can wait forever there for a connection it never "
            "freed: docs/operations.md); exiting now: what was acknowledged "
            "is on disk\n");
        _exit(0);
    }
    put("; exiting now (status 1): what was acknowledged is on disk; "
        "please report this stop\n");
    _exit(1);
}

void stopguard_arm(uint64_t timeout_ms)
{
    struct sigaction sa;
    struct itimerval it;

    if (timeout_ms == 0) {
        return;
    }
    bound_ms = timeout_ms;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = (time_t)(timeout_ms / 1000);
    it.it_value.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
    setitimer(ITIMER_REAL, &it, NULL);
}

void stopguard_step(const char *what, enum stopguard_kind kind)
{
    atomic_store(&step_what, what);
    atomic_store(&step_kind, (int)kind);
}

void stopguard_disarm(void)
{
    struct itimerval it;
    memset(&it, 0, sizeof it);
    setitimer(ITIMER_REAL, &it, NULL);
}
