/* core/thread.c - helper threads that never take the process's signals
 * (core/thread.h). */
#include <signal.h>

#include "core/thread.h"

int vl_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	/* the new thread inherits the mask it is created with */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
