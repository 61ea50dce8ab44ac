/* stopguard.c: a bound on how long a node takes to stop (stopguard.h). */
#include "stopguard.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "sigsafe.h"

static _Atomic(const char *) step_what = "beginning to stop";
static atomic_int step_kind = STOPGUARD_WAIT;
static uint64_t bound_ms;

static void on_alarm(int sig)
{
    (void)sig;
    const char *what = atomic_load(&step_what);
    int nng = atomic_load(&step_kind) == STOPGUARD_NNG;
    sigsafe_put(nng ? "W" : "E");
    sigsafe_put(" mqd: the stop did not end within stop_timeout_ms ");
    sigsafe_put_u64(bound_ms);
    sigsafe_put(" while ");
    sigsafe_put(what);
    if (nng) {
        sigsafe_put(
            " (nng 1.5.2 can wait forever there for a connection it never "
            "freed: docs/operations.md); exiting now: what was acknowledged "
            "is on disk\n");
        _exit(0);
    }
    sigsafe_put("; exiting now (status 1): what was acknowledged is on disk; "
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
