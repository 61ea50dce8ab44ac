/* test_lwatch.c: the listener watch (node/raft/lwatch.c) against real nng
 * listeners on 127.0.0.1.
 *
 * A stuck listener is made the way nng 1.5.2 leaves one: connections
 * complete their SP header exchange and the socket never takes them. Here
 * a pipe callback that blocks holds the socket's accept (nng runs it
 * inside the accept, before the next one is asked for); nng's own failure
 * (a negotiation ending in NNG_ECLOSED) cannot be caused on purpose. */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <uv.h>

#include <cmocka.h>

#include "lwatch.h"

struct fixture {
    uv_loop_t loop;
    uv_timer_t end;
    nng_socket rep;
    nng_listener l;
    uv_mutex_t lock;
    uv_cond_t cv;
    int block;    /* pipe callback: wait while set */
    int blocked;  /* a pipe callback is waiting */
    int restarts; /* restart callback calls */
    int refuse;   /* restart callback says MQ_ERR_NOT_DONE */
};

static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    struct fixture *f = arg;
    (void)p;
    (void)ev;
    uv_mutex_lock(&f->lock);
    while (f->block) {
        f->blocked = 1;
        uv_cond_wait(&f->cv, &f->lock);
    }
    f->blocked = 0;
    uv_mutex_unlock(&f->lock);
}

static void unblock(struct fixture *f)
{
    uv_mutex_lock(&f->lock);
    f->block = 0;
    uv_cond_broadcast(&f->cv);
    uv_mutex_unlock(&f->lock);
}

static mq_err restart_cb(void *arg, nng_listener *l, struct errmsg *e)
{
    struct fixture *f = arg;
    f->restarts++;
    if (f->refuse) {
        errmsg_set(e, "not now");
        return MQ_ERR_NOT_DONE;
    }
    unblock(f);
    *l = f->l; /* the test's listener, now accepting again */
    uv_stop(&f->loop);
    return MQ_OK;
}

static void end_cb(uv_timer_t *t)
{
    uv_stop(t->loop);
}

static void setup(struct fixture *f)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->end);
    uv_mutex_init(&f->lock);
    uv_cond_init(&f->cv);
    assert_int_equal(nng_rep0_open(&f->rep), 0);
    assert_int_equal(nng_pipe_notify(f->rep, NNG_PIPE_EV_ADD_PRE, pipe_cb, f),
                     0);
    assert_int_equal(nng_listener_create(&f->l, f->rep, "tcp://127.0.0.1:0"),
                     0);
    assert_int_equal(nng_listener_start(f->l, 0), 0);
}

static void teardown(struct fixture *f)
{
    unblock(f);
    nng_close(f->rep);
    uv_close((uv_handle_t *)&f->end, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    uv_cond_destroy(&f->cv);
    uv_mutex_destroy(&f->lock);
}

/* Runs the loop with the watch on f->l for at most @ms. */
static void watch_for(struct fixture *f, uint64_t ms)
{
    struct lwatch *w;
    struct errmsg e = ERRMSG_INIT;
    struct lwatch_target t = {
        .what = "client_url",
        .url = "tcp://127.0.0.1:0",
        .listener = f->l,
        .proto = LWATCH_PROTO_REQ,
        .restart = restart_cb,
        .arg = f,
    };
    assert_int_equal(lwatch_start(&w, &f->loop, &e), MQ_OK);
    assert_int_equal(lwatch_add(w, &t, &e), MQ_OK);
    uv_timer_start(&f->end, end_cb, ms, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_timer_stop(&f->end);
    if (f->restarts > 0 && !f->refuse) {
        assert_int_equal(lwatch_restarts(w), 1);
    }
    lwatch_stop(w);
    uv_run(&f->loop, UV_RUN_NOWAIT); /* closes the watch's handle */
}

/* A listener that accepts is probed and left alone. */
static void test_live_listener_left_alone(void **state)
{
    struct fixture f;
    (void)state;
    setup(&f);
    watch_for(&f, 3 * LWATCH_EVERY_MS + 500);
    assert_int_equal(f.restarts, 0);
    teardown(&f);
}

/* Hangs the socket's accept with one client whose pipe callback blocks. */
static nng_socket hang_accept(struct fixture *f)
{
    nng_socket req;
    char url[64];
    int port = 0;
    f->block = 1;
    assert_int_equal(nng_listener_get_int(f->l, NNG_OPT_TCP_BOUND_PORT, &port),
                     0);
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", port);
    assert_int_equal(nng_req0_open(&req), 0);
    assert_int_equal(nng_dial(req, url, NULL, NNG_FLAG_NONBLOCK), 0);
    for (int i = 0; i < 200; i++) {
        uv_mutex_lock(&f->lock);
        int b = f->blocked;
        uv_mutex_unlock(&f->lock);
        if (b) {
            return req;
        }
        uv_sleep(10);
    }
    fail_msg("the pipe callback never ran");
    return req;
}

/* A listener whose connections complete the header exchange and are never
 * accepted is restarted, on the loop, within two probe rounds. */
static void test_stuck_listener_restarted(void **state)
{
    struct fixture f;
    (void)state;
    setup(&f);
    nng_socket req = hang_accept(&f);
    watch_for(&f, 2 * (LWATCH_EVERY_MS + LWATCH_ACCEPT_MS) + 2000);
    assert_int_equal(f.restarts, 1);
    nng_close(req);
    teardown(&f);
}

/* An owner that says "not now" is asked again at each probe that finds the
 * listener stuck, and nothing is counted as restarted. */
static void test_owner_may_leave_it(void **state)
{
    struct fixture f;
    (void)state;
    setup(&f);
    f.refuse = 1;
    nng_socket req = hang_accept(&f);
    watch_for(&f, 3 * (LWATCH_EVERY_MS + LWATCH_ACCEPT_MS) + 1000);
    assert_true(f.restarts >= 2);
    nng_close(req);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_listener_left_alone),
        cmocka_unit_test(test_stuck_listener_restarted),
        cmocka_unit_test(test_owner_may_leave_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
