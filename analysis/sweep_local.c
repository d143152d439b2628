/* analysis/sweep_local.c - run a sweep's cells in forked worker processes
 * on this machine, then merge them.
 *
 * One process per cell, so a crash or a leak in one cell cannot touch
 * another.  A worker runs vl_sweep_cell_run_guarded and exits 0 or 1; the
 * error of a failed cell is written to DIR/cells/KEY.err (for later
 * sweeps and --dry-run) and to a pipe to the sweep (so it is reported even
 * when the .err file cannot be written, a full disk), which the sweep
 * reads when the worker has exited and hands to the progress callback.  Workers die with the sweep (PR_SET_PDEATHSIG, and a worker
 * whose parent is already gone exits at once), so a killed sweep leaves no
 * runaway cells.  SIGINT, SIGTERM and SIGHUP are caught: the workers get
 * SIGTERM, remove their temporary files and die; the sweep waits for them
 * and returns the signal to its caller.
 *
 * A lock on DIR/.lock (flock, released when the process dies) keeps a
 * second sweep out of DIR; with it held, temporary files left by a sweep
 * killed earlier ("DIR/.*.tmp-*", "DIR/cells/.*.tmp-*") are removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analysis/sweep_internal.h"

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Remove temporary files a killed sweep left in DIR and DIR/cells. */
static void remove_stale(const char *dir)
{
	const char *pats[] = { "%s/cells/.*.tmp-*", "%s/.*.tmp-*" };
	for (size_t p = 0; p < 2; p++) {
		char pat[PATH_MAX];
		snprintf(pat, sizeof(pat), pats[p], dir);
		glob_t g;
		if (glob(pat, 0, NULL, &g) == 0) {
			for (size_t i = 0; i < g.gl_pathc; i++)
				unlink(g.gl_pathv[i]);
			globfree(&g);
		}
	}
}

static int lock_dir(const char *dir, struct vl_error *err)
{
	char lockpath[PATH_MAX];
	snprintf(lockpath, sizeof(lockpath), "%s/.lock", dir);
	int fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return vl_err(err, VL_EIO, "%s: %s", lockpath, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return vl_err(err, VL_EIO, "%s: another sweep is running in this directory",
			      lockpath);
	}
	return fd;
}

/* ---- signals ---- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static const int caught[] = { SIGINT, SIGTERM, SIGHUP };
#define NCAUGHT (sizeof(caught) / sizeof(caught[0]))

/* ---- the pool ---- */

/* A unit of work: the cells to run that share one trace (todo[first ..
 * first + n)), replayed together in one worker with up to `threads`
 * threads: the trace is decoded once for all of them. */
struct unit {
	size_t first, n;
	unsigned threads; /* job slots it takes */
};

struct slot {
	pid_t pid;
	size_t unit;
	int msgfd;   /* read end of the worker's error pipe, or -1 */
};

struct pool {
	const struct vl_sweep *s;
	const char *dir;
	const struct vl_sweep_local *o;
	struct slot *slots;
	const size_t *todo;
	struct unit *units;
	size_t nunits;
	long busy; /* job slots taken by running units */
	struct sigaction old[NCAUGHT];
	pid_t parent;
	size_t ndone, ok, failed, running, ntodo;
	double t0, last_report;
};

static void report(const struct pool *p, struct vl_sweep_progress *ev)
{
	if (!p->o->progress)
		return;
	ev->cells = p->s->ncells;
	ev->done = p->ndone + p->ok;
	ev->todo = p->ntodo;
	ev->running = p->running;
	ev->failed = p->failed;
	ev->jobs = p->o->jobs;
	p->o->progress(p->o->ctx, ev);
}

/* In the child: run one unit, never return; a failure's message goes to
 * msgfd too (one short write, within the pipe's buffer: never blocks). */
static void worker(const struct pool *p, const struct unit *u, int msgfd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != p->parent)
		_exit(1); /* the sweep died before PR_SET_PDEATHSIG took hold */
	for (size_t k = 0; k < NCAUGHT; k++)
		sigaction(caught[k], &p->old[k], NULL);
	struct vl_error err = { 0 };
	int rc = u->n == 1 ? vl_sweep_cell_run_guarded(p->s, p->dir, p->todo[u->first], &err)
			   : vl_sweep_cells_run_guarded(p->s, p->dir, p->todo + u->first, u->n,
							u->threads, &err);
	if (rc < 0 && msgfd >= 0 && write(msgfd, err.msg, strlen(err.msg)) < 0)
		errno = 0; /* the .err file, if written, still says it */
	_exit(rc < 0 ? 1 : 0);
}

/* Start a worker for unit u; false when fork failed (reported, counted). */
static bool start(struct pool *p, size_t u)
{
	const struct unit *un = &p->units[u];
	int fds[2] = { -1, -1 };
	if (pipe2(fds, O_CLOEXEC) < 0)
		fds[0] = fds[1] = -1; /* then the .err file alone */
	pid_t pid = fork();
	if (pid == 0) {
		if (fds[0] >= 0)
			close(fds[0]);
		worker(p, un, fds[1]);
	}
	if (fds[1] >= 0)
		close(fds[1]);
	if (pid < 0) {
		if (fds[0] >= 0)
			close(fds[0]);
		for (size_t j = 0; j < un->n; j++) {
			struct vl_sweep_progress ev = { .event = VL_SWEEP_EV_NO_WORKER,
							.cell = p->todo[un->first + j], .errnum = errno };
			p->failed++;
			report(p, &ev);
		}
		return false;
	}
	for (long k = 0; k < p->o->jobs; k++)
		if (!p->slots[k].pid) {
			p->slots[k] = (struct slot){ .pid = pid, .unit = u, .msgfd = fds[0] };
			break;
		}
	p->running += un->n;
	p->busy += un->threads;
	return true;
}

/* What a worker wrote to its error pipe (msgfd, closed here; -1: none). */
static void read_message(int msgfd, char *piped, size_t cap)
{
	size_t n = 0;
	if (msgfd >= 0) {
		for (ssize_t r; n < cap - 1 && (r = read(msgfd, piped + n, cap - 1 - n)) != 0;) {
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				break;
			n += (size_t)r;
		}
		close(msgfd);
	}
	piped[n] = '\0';
}

/* A cell's worker ended with status; piped: what it wrote to its pipe. */
static void ended(struct pool *p, size_t cell, int status, const char *piped)
{
	bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (!ok && WIFEXITED(status) && vl_sweep_cell_done(p->s, p->dir, cell))
		ok = true; /* another cell of its unit failed */
	p->running--;
	if (ok) {
		p->ok++;
	} else {
		p->failed++;
		struct vl_sweep_progress ev = { .cell = cell };
		char *msg = NULL, fallback[64];
		if (WIFEXITED(status)) {
			ev.event = VL_SWEEP_EV_CELL_FAILED;
			msg = *piped ? NULL : vl_sweep_cell_error(p->s, p->dir, cell);
			snprintf(fallback, sizeof(fallback), "the worker exited with status %d",
				 WEXITSTATUS(status));
			ev.msg = *piped ? piped : msg ? msg : fallback;
			report(p, &ev);
		} else if (!interrupted && WIFSIGNALED(status)) {
			ev.event = VL_SWEEP_EV_CELL_KILLED;
			ev.sig = WTERMSIG(status);
			report(p, &ev);
		}
		free(msg);
	}
	double now = mono();
	size_t left = p->ntodo - p->ok - p->failed;
	if (now - p->last_report >= 1.0 || left == 0 || !ok) {
		struct vl_sweep_progress ev = { .event = VL_SWEEP_EV_PROGRESS, .eta_s = -1 };
		if (p->ok + p->failed)
			ev.eta_s = (now - p->t0) / (double)(p->ok + p->failed) * (double)left;
		report(p, &ev);
		p->last_report = now;
	}
}

static int cmp_trace(const void *a, const void *b, void *arg)
{
	const struct vl_sweep *s = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(s->cells[x].trace, s->cells[y].trace);
	return c ? c : (x > y) - (x < y);
}

/* Sort todo by trace (then by cell index) and cut it into units, one per
 * trace; a unit of k cells takes min(k, jobs) job slots (threads). */
static struct unit *make_units(const struct vl_sweep *s, size_t *todo, size_t ntodo, long jobs,
			       size_t *nunits)
{
	qsort_r(todo, ntodo, sizeof(*todo), cmp_trace, (void *)s);
	struct unit *u = malloc((ntodo ? ntodo : 1) * sizeof(*u));
	size_t n = 0;
	if (!u)
		return NULL;
	for (size_t i = 0; i < ntodo;) {
		size_t j = i + 1;
		while (j < ntodo && !strcmp(s->cells[todo[j]].trace, s->cells[todo[i]].trace))
			j++;
		size_t k = j - i;
		u[n++] = (struct unit){ .first = i, .n = k,
					.threads = (unsigned)((long)k < jobs ? (long)k : jobs) };
		i = j;
	}
	*nunits = n;
	return u;
}

/* Run the cells todo[0..ntodo) at most jobs at a time until all ended or,
 * after a signal, until every started worker has ended. */
static void run_pool(struct pool *p, const size_t *todo)
{
	size_t next = 0;
	bool forwarded = false;
	(void)todo;
	while (next < p->nunits || p->running) {
		while (!interrupted && next < p->nunits &&
		       (p->busy == 0 || p->busy + p->units[next].threads <= p->o->jobs))
			start(p, next++);
		if (!p->running)
			break;
		if (interrupted && !forwarded) {
			for (long k = 0; k < p->o->jobs; k++)
				if (p->slots[k].pid)
					kill(p->slots[k].pid, SIGTERM);
			forwarded = true;
		}
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		long k = 0;
		while (k < p->o->jobs && p->slots[k].pid != pid)
			k++;
		if (k == p->o->jobs)
			continue; /* not one of ours */
		p->slots[k].pid = 0;
		const struct unit *un = &p->units[p->slots[k].unit];
		char piped[VL_ERRMSG_MAX];
		read_message(p->slots[k].msgfd, piped, sizeof(piped));
		p->slots[k].msgfd = -1;
		p->busy -= un->threads;
		for (size_t j = 0; j < un->n; j++)
			ended(p, p->todo[un->first + j], status, piped);
	}
}

int vl_sweep_run_local(const struct vl_sweep *s, const char *dir, const struct vl_sweep_local *o,
		       struct vl_sweep_local_result *r, struct vl_error *err)
{
	memset(r, 0, sizeof(*r));
	if (o->jobs < 1)
		return vl_err(err, VL_EINVAL, "a local sweep needs at least one worker (jobs %ld)",
			      o->jobs);
	int lfd = lock_dir(dir, err);
	if (lfd < 0)
		return lfd;
	remove_stale(dir);

	struct pool p = { .s = s, .dir = dir, .o = o, .parent = getpid() };
	size_t *todo = sweep_todo(s, dir, &p.ntodo, &p.ndone);
	p.slots = calloc((size_t)o->jobs, sizeof(*p.slots));
	if (todo && p.slots)
		p.units = make_units(s, todo, p.ntodo, o->jobs, &p.nunits);
	p.todo = todo;
	if (!todo || !p.slots || !p.units) {
		free(todo);
		free(p.slots);
		free(p.units);
		close(lfd);
		return vl_err(err, VL_ENOMEM, "out of memory");
	}
	struct vl_sweep_progress ev = { .event = VL_SWEEP_EV_START };
	report(&p, &ev);

	interrupted = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	for (size_t k = 0; k < NCAUGHT; k++)
		sigaction(caught[k], &sa, &p.old[k]);
	p.t0 = mono();
	run_pool(&p, todo);
	for (size_t k = 0; k < NCAUGHT; k++)
		sigaction(caught[k], &p.old[k], NULL);
	free(p.slots);
	free(p.units);
	free(todo);

	int rc = 0;
	if (interrupted) {
		/* every worker is gone: remove what one killed mid-write left */
		remove_stale(dir);
		r->signal = interrupted;
		r->complete = p.ndone + p.ok;
	} else {
		rc = vl_sweep_collect(s, dir, &r->st, err);
	}
	r->seconds = mono() - p.t0;
	close(lfd);
	return rc;
}
