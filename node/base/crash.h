/* crash.h: what a node prints when it dies of a fatal signal (an
 * assertion of a library, a bad access): the signal and the stack, on
 * stderr (the node's log), before the default action (a core, if enabled).
 * With the build's own binary, `addr2line -e mqd -f OFFSET` names each
 * "mqd(+OFFSET)" frame. */
#ifndef MQ_CRASH_H
#define MQ_CRASH_H

/* Installs the handler for SIGABRT, SIGBUS, SIGFPE, SIGILL and (unless a
 * sanitizer reports those itself) SIGSEGV. Call once, early. */
void crash_report_install(void);

#endif
