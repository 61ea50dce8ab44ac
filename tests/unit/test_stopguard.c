/* test_stopguard.c: the bound on a node's stop (stopguard.c), in child
 * processes: a stop stuck in an nng close past its bound ends with status
 * 0 and a WARN line naming the step and the nng defect; one stuck waiting
 * elsewhere ends with status 1 and an error line naming the step; a stop
 * that ends in time (disarmed) runs on past the bound untouched; a bound
 * of 0 arms nothing. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "stopguard.h"

enum how { STUCK_NNG, STUCK_WAIT, DISARMED, UNARMED };

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Runs a child that arms the guard at 100 ms and behaves as @how says for
 * 600 ms, then exits with status 7; returns its exit status and what it
 * wrote on stderr in @out. */
static int run_child(enum how how, char *out, size_t len)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        stopguard_arm(how == UNARMED ? 0 : 100);
        if (how == STUCK_NNG) {
            stopguard_step("closing the test socket", STOPGUARD_NNG);
        } else {
            stopguard_step("waiting for the test", STOPGUARD_WAIT);
        }
        if (how == DISARMED) {
            stopguard_disarm();
        }
        sleep_ms(600);
        _exit(7);
    }
    close(fds[1]);
    size_t at = 0;
    ssize_t r;
    while (at + 1 < len && (r = read(fds[0], out + at, len - 1 - at)) > 0) {
        at += (size_t)r;
    }
    out[at] = '\0';
    close(fds[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void test_stuck_in_nng_close_exits_0_naming_the_step(void **state)
{
    (void)state;
    char out[1024];
    assert_int_equal(run_child(STUCK_NNG, out, sizeof out), 0);
    assert_non_null(strstr(out, "W mqd: the stop did not end within "
                                "stop_timeout_ms 100 while closing the test "
                                "socket (nng 1.5.2"));
    assert_non_null(strstr(out, "what was acknowledged is on disk"));
}

static void test_stuck_elsewhere_exits_1_naming_the_step(void **state)
{
    (void)state;
    char out[1024];
    assert_int_equal(run_child(STUCK_WAIT, out, sizeof out), 1);
    assert_non_null(strstr(out, "E mqd: the stop did not end within "
                                "stop_timeout_ms 100 while waiting for the "
                                "test; exiting now (status 1)"));
}

static void test_a_stop_that_ends_is_left_alone(void **state)
{
    (void)state;
    char out[1024];
    assert_int_equal(run_child(DISARMED, out, sizeof out), 7);
    assert_string_equal(out, "");
    assert_int_equal(run_child(UNARMED, out, sizeof out), 7);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stuck_in_nng_close_exits_0_naming_the_step),
        cmocka_unit_test(test_stuck_elsewhere_exits_1_naming_the_step),
        cmocka_unit_test(test_a_stop_that_ends_is_left_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
