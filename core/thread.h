/* core/thread.h - helper threads that never take the process's signals.
 *
 * A signal sent to the process (SIGCHLD, SIGINT, ...) goes to any thread
 * that does not block it.  A helper thread must block them all: the
 * handlers belong to the program's own threads.  Inside qemu-user (the
 * capture plugin's compression thread) qemu's host signal handler,
 * running on a thread that is not a guest CPU, dereferenced its missing
 * CPU state and crashed the guest process (issue: the flaky capture of
 * `sh -c "sort | md5sum"`, whose SIGCHLD sometimes landed there).
 *
 * For every layer (traces, driver, the capture plugin); not exported.
 */
#ifndef VMLAB_CORE_THREAD_H
#define VMLAB_CORE_THREAD_H

#include <pthread.h>

/* pthread_create(t, NULL, fn, arg) with every signal blocked in the new
 * thread (the caller's mask is unchanged); pthread_create's result. */
int vl_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
