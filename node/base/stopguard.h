/* stopguard.h: a bound on how long a node takes to stop.
 *
 * A stop that never ends leaves the supervisor to kill the node. The one
 * known cause is nng 1.5.2 (Debian 12's): a connection that closed while a
 * receive of its TCP transport was under way may never be freed, and
 * nng_close of its socket then waits forever (docs/operations.md, "Known
 * limit of nng 1.5.2"). The stop marks each step with stopguard_step; once
 * armed, a stop still going after its bound logs the step it is in and
 * ends the process: with status 0 if that step is the closing of an nng
 * socket (the known defect; an exit there loses nothing: what was
 * acknowledged is on disk, and the node starts again from its files as
 * after any crash), with status 1 otherwise (a stop that hangs elsewhere is
 * a defect to report). Only async-signal-safe calls run at the end. */
#ifndef MQ_STOPGUARD_H
#define MQ_STOPGUARD_H

#include <stdint.h>

enum stopguard_kind {
    STOPGUARD_WAIT = 0, /* waiting on callbacks of the loop */
    STOPGUARD_NNG = 1,  /* inside an nng close on this thread */
};

/* Starts the bound: the process ends @timeout_ms from now unless it exits
 * first. 0 arms nothing. Call once, when the stop begins. */
void stopguard_arm(uint64_t timeout_ms);

/* Ends the bound: everything is closed (what remains frees memory). */
void stopguard_disarm(void);

/* Names the step the stop is in (a string that lives as long as the
 * process) and its kind. */
void stopguard_step(const char *what, enum stopguard_kind kind);

#endif
