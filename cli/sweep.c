/* cli/sweep.c - `vmlab sweep`: run an experiment's cells in parallel worker
 * processes, or as a Slurm job array, and merge their results.
 *
 * Local: the plan is written, a lock on DIR/.lock keeps a second sweep out,
 * stale temporary files of a killed sweep are removed, and the cells not
 * yet complete run in up to -j forked workers, one cell per worker process
 * (so a crash or a leak in one cell cannot touch another).  Workers die
 * with the parent (PR_SET_PDEATHSIG), so a killed sweep leaves no runaway
 * cells, and their temporary results files are removed on SIGINT/SIGTERM.
 * Progress goes to stderr; the exit status is 0 only when every cell
 * finished and the merge was written.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analysis/sweep.h"
#include "cli/cli.h"

static void sweep_usage(FILE *f)
{
	fprintf(f,
		"usage: vmlab sweep EXPERIMENT.ini -o DIR [-j N] [--dry-run]\n"
		"       vmlab sweep EXPERIMENT.ini -o DIR --slurm [--partition P] [--time T]\n"
		"                   [--max-parallel K] [--cells-per-task B] [--no-submit]\n"
		"       vmlab sweep -o DIR --cell I\n"
		"       vmlab sweep --collect DIR\n"
		"\n"
		"Run every cell of an experiment (traces x the values of its [vary] keys; see\n"
		"docs/sweeps.md) and merge the results into DIR/all.h5, one /summary row per\n"
		"cell.  Cells already complete in DIR are skipped, so a killed sweep is resumed\n"
		"by running it again, and an edited experiment re-runs only changed cells.\n"
		"\n"
		"  -o, --output DIR      the sweep directory (plan, cells/, all.h5)\n"
		"  -j, --jobs N          worker processes (default: the number of cores)\n"
		"      --dry-run         list the cells and whether each is complete; run nothing\n"
		"      --slurm           write DIR/slurm/sweep.sbatch (an sbatch --array job, one\n"
		"                        task per B cells) and a collect job that depends on it,\n"
		"                        and submit both with sbatch\n"
		"      --partition P     Slurm partition (default: the cluster's default)\n"
		"      --time T          Slurm time limit per array task, e.g. 30:00\n"
		"      --max-parallel K  at most K array tasks at once (--array=...%%K)\n"
		"      --cells-per-task B  cells run one after another by each task (default 1)\n"
		"      --no-submit       write the Slurm scripts but do not call sbatch\n"
		"      --cell I          run cell I of DIR/plan (what each array task does)\n"
		"      --collect DIR     merge DIR's finished cells into DIR/all.h5\n"
		"\n"
		"Exit status: 0 every cell finished and all.h5 was written; 1 a cell failed or\n"
		"is missing (DIR/partial.h5 then holds the finished ones), or bad input;\n"
		"2 usage error.\n");
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void describe(const struct vl_sweep *s, size_t i, char *buf, size_t len)
{
	const struct vl_sweep_cell *c = &s->cells[i];
	const char *base = strrchr(c->trace, '/');
	size_t n = (size_t)snprintf(buf, len, "cell %zu (%s", i, base ? base + 1 : c->trace);
	for (size_t k = 0; k < s->nvary && n < len; k++)
		n += (size_t)snprintf(buf + n, len - n, ", %s=%s", c->vary[k].key, c->vary[k].value);
	if (n < len)
		snprintf(buf + n, len - n, ")");
}

static void fmt_time(double sec, char *buf, size_t len)
{
	long s = sec < 0 ? 0 : (long)(sec + 0.5);
	if (s >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

/* ---- a worker: one cell in a child process ---- */

static const char *volatile worker_tmp;

static void worker_signal(int sig)
{
	const char *t = worker_tmp;
	if (t)
		unlink(t);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int run_cell_here(const struct vl_sweep *s, const char *dir, size_t i)
{
	signal(SIGINT, worker_signal);
	signal(SIGTERM, worker_signal);
	signal(SIGHUP, worker_signal);
	struct vl_error err = { 0 };
	int rc = vl_sweep_cell_run(s, dir, i, &worker_tmp, &err);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (rc < 0) {
		char d[512];
		describe(s, i, d, sizeof(d));
		cli_error("sweep: %s failed: %s", d, err.msg);
		return EXIT_INPUT;
	}
	return 0;
}

/* ---- the local pool ---- */

static volatile sig_atomic_t interrupted;

static void parent_signal(int sig)
{
	interrupted = sig;
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

/* dup[i]: an earlier cell has cell i's key (same results file), so only
 * the first runs.  NULL when out of memory (then nothing is skipped). */
static const struct vl_sweep *cmp_sweep;

static int cmp_cell_key(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(cmp_sweep->cells[x].key, cmp_sweep->cells[y].key);
	return c ? c : (x > y) - (x < y);
}

static bool *first_of_key(const struct vl_sweep *s)
{
	size_t n = s->ncells;
	size_t *ix = malloc((n ? n : 1) * sizeof(*ix));
	bool *dup = calloc(n ? n : 1, sizeof(*dup));
	if (!ix || !dup) {
		free(ix);
		free(dup);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		ix[i] = i;
	cmp_sweep = s;
	qsort(ix, n, sizeof(*ix), cmp_cell_key);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(s->cells[ix[i]].key, s->cells[ix[i - 1]].key))
			dup[ix[i]] = true;
	free(ix);
	return dup;
}

struct slot {
	pid_t pid;
	size_t cell;
};

static int run_local(const struct vl_sweep *s, const char *dir, long jobs)
{
	char lockpath[PATH_MAX];
	snprintf(lockpath, sizeof(lockpath), "%s/.lock", dir);
	int lfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		cli_error("sweep: %s: %s", lockpath,
			  lfd < 0 ? strerror(errno) : "another sweep is running in this directory");
		if (lfd >= 0)
			close(lfd);
		return EXIT_INPUT;
	}
	remove_stale(dir);

	/* cells to run: not complete, and the first of any that share a key */
	size_t *todo = calloc(s->ncells ? s->ncells : 1, sizeof(*todo));
	if (!todo) {
		cli_error("out of memory");
		close(lfd);
		return EXIT_INPUT;
	}
	size_t ntodo = 0, ndone = 0;
	bool *dup = first_of_key(s);
	for (size_t i = 0; i < s->ncells; i++) {
		if (vl_sweep_cell_done(s, dir, i))
			ndone++;
		else if (!dup || !dup[i])
			todo[ntodo++] = i;
	}
	free(dup);
	fprintf(stderr, "sweep %s: %zu cells, %zu already complete, %zu to run with -j %ld\n",
		s->name, s->ncells, ndone, ntodo, jobs);

	struct sigaction sa = { 0 }, old_int, old_term, old_hup;
	sa.sa_handler = parent_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	pid_t parent = getpid();

	struct slot *slots = calloc((size_t)jobs, sizeof(*slots));
	size_t next = 0, running = 0, ok = 0, failed = 0;
	double t0 = mono(), last_print = 0;
	bool forwarded = false;
	while (slots && (next < ntodo || running) ) {
		while (!interrupted && running < (size_t)jobs && next < ntodo) {
			size_t cell = todo[next++];
			fflush(stderr);
			pid_t pid = fork();
			if (pid == 0) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				if (getppid() != parent)
					_exit(EXIT_INPUT);
				sigaction(SIGINT, &old_int, NULL);
				sigaction(SIGTERM, &old_term, NULL);
				sigaction(SIGHUP, &old_hup, NULL);
				_exit(run_cell_here(s, dir, cell));
			}
			if (pid < 0) {
				char d[512];
				describe(s, cell, d, sizeof(d));
				cli_error("sweep: %s: cannot start a worker: %s", d, strerror(errno));
				failed++;
				continue;
			}
			for (long k = 0; k < jobs; k++)
				if (!slots[k].pid) {
					slots[k].pid = pid;
					slots[k].cell = cell;
					break;
				}
			running++;
		}
		if (!running)
			break;
		if (interrupted && !forwarded) {
			for (long k = 0; k < jobs; k++)
				if (slots[k].pid)
					kill(slots[k].pid, SIGTERM);
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
		while (k < jobs && slots[k].pid != pid)
			k++;
		if (k == jobs)
			continue;
		size_t cell = slots[k].cell;
		slots[k].pid = 0;
		running--;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			ok++;
		} else {
			failed++;
			if (!interrupted && WIFSIGNALED(status)) {
				char d[512];
				describe(s, cell, d, sizeof(d));
				cli_error("sweep: %s failed: the worker was killed by signal %d", d,
					  WTERMSIG(status));
			}
		}
		double now = mono();
		size_t left = ntodo - ok - failed;
		if (now - last_print >= 1.0 || left == 0 || !(WIFEXITED(status) && !WEXITSTATUS(status))) {
			char eta[32] = "?";
			if (ok + failed)
				fmt_time((now - t0) / (double)(ok + failed) * (double)left, eta, sizeof(eta));
			fprintf(stderr, "sweep: %zu/%zu done, %zu running, %zu failed, ETA %s\n",
				ndone + ok, s->ncells, running, failed, eta);
			last_print = now;
		}
	}
	free(slots);
	free(todo);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	if (interrupted) {
		/* every worker is gone: remove what one killed mid-write left */
		remove_stale(dir);
		fprintf(stderr, "sweep: interrupted; %zu cells complete, run the same command to resume\n",
			ndone + ok);
		close(lfd);
		signal(interrupted, SIG_DFL);
		raise(interrupted);
		return 128 + interrupted;
	}

	struct vl_sweep_status st;
	struct vl_error err = { 0 };
	int rc = vl_sweep_collect(s, dir, &st, &err);
	close(lfd);
	if (rc < 0) {
		cli_error("sweep: %s", err.msg);
		return EXIT_INPUT;
	}
	fprintf(stderr, "sweep: %s/%s: %zu of %zu cells (%zu failed, %zu missing) in %.1f s\n", dir,
		st.written, st.done, s->ncells, st.failed, st.missing, mono() - t0);
	return st.done == s->ncells ? 0 : EXIT_INPUT;
}

/* ---- Slurm ---- */

/* Print s single-quoted for sh. */
static void shq(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

static bool slurm_word_ok(const char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r' || *s == ' ' || *s == '\t' || *s == '\'' || *s == '"')
			return false;
	return true;
}

/* Run argv, capture the first line of stdout into out. Returns exit status or -1. */
static int capture(char *const argv[], char *out, size_t len)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "vmlab: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	size_t n = 0;
	ssize_t r;
	while ((r = read(p[0], out + n, len - 1 - n)) > 0 && n < len - 1)
		n += (size_t)r;
	out[n] = '\0';
	char drain[256];
	while (read(p[0], drain, sizeof(drain)) > 0)
		;
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = '\0';
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct slurm_opts {
	const char *partition, *time;
	long max_parallel, per_task;
	bool submit;
};

static int run_slurm(const struct vl_sweep *s, const char *dir, const struct slurm_opts *o)
{
	char self[PATH_MAX], adir[PATH_MAX], sdir[PATH_MAX + 16], p[PATH_MAX + 64];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0 || !realpath(dir, adir)) {
		cli_error("sweep: cannot resolve the vmlab binary or %s", dir);
		return EXIT_INPUT;
	}
	self[sl] = '\0';
	snprintf(sdir, sizeof(sdir), "%s/slurm", adir);
	snprintf(p, sizeof(p), "%s/logs", sdir);
	mkdir(sdir, 0777);
	mkdir(p, 0777);

	size_t *todo = calloc(s->ncells ? s->ncells : 1, sizeof(*todo)), ntodo = 0;
	if (!todo) {
		cli_error("out of memory");
		return EXIT_INPUT;
	}
	bool *dup = first_of_key(s);
	for (size_t i = 0; i < s->ncells; i++)
		if ((!dup || !dup[i]) && !vl_sweep_cell_done(s, adir, i))
			todo[ntodo++] = i;
	free(dup);
	/* a job name of safe characters only */
	char jname[64];
	snprintf(jname, sizeof(jname), "vmlab-%s", s->name);
	for (char *q = jname; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
		      *q == '-' || *q == '_' || *q == '.'))
			*q = '_';
	if (ntodo == 0) {
		free(todo);
		fprintf(stderr, "sweep %s: all %zu cells are complete; collecting here\n", s->name,
			s->ncells);
		struct vl_sweep_status st;
		struct vl_error err = { 0 };
		if (vl_sweep_collect(s, adir, &st, &err) < 0) {
			cli_error("sweep: %s", err.msg);
			return EXIT_INPUT;
		}
		return 0;
	}
	size_t per = (size_t)o->per_task;
	size_t ntasks = (ntodo + per - 1) / per;

	/* one line per array task: the cells it runs */
	snprintf(p, sizeof(p), "%s/tasks", sdir);
	FILE *f = fopen(p, "w");
	for (size_t t = 0; f && t < ntasks; t++) {
		for (size_t j = t * per; j < ntodo && j < (t + 1) * per; j++)
			fprintf(f, "%s%zu", j == t * per ? "" : " ", todo[j]);
		fputc('\n', f);
	}
	free(todo);
	if (!f || fclose(f) != 0) {
		cli_error("sweep: %s: cannot write", p);
		return EXIT_INPUT;
	}

	char script[PATH_MAX + 64], collect[PATH_MAX + 64];
	snprintf(script, sizeof(script), "%s/sweep.sbatch", sdir);
	snprintf(collect, sizeof(collect), "%s/collect.sbatch", sdir);
	f = fopen(script, "w");
	if (f) {
		fprintf(f, "#!/bin/sh\n");
		fprintf(f, "# vmlab sweep %s: %zu cells in %zu array tasks (written by vmlab sweep --slurm)\n",
			s->name, ntodo, ntasks);
		fprintf(f, "#SBATCH --job-name=%s\n", jname);
		fprintf(f, "#SBATCH --array=0-%zu", ntasks - 1);
		if (o->max_parallel > 0)
			fprintf(f, "%%%ld", o->max_parallel);
		fprintf(f, "\n#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n");
		fprintf(f, "#SBATCH --output=%s/logs/%%A_%%a.out\n", sdir);
		if (o->partition)
			fprintf(f, "#SBATCH --partition=%s\n", o->partition);
		if (o->time)
			fprintf(f, "#SBATCH --time=%s\n", o->time);
		fprintf(f, "set -u\ncells=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" ");
		shq(f, sdir);
		fprintf(f, "/tasks)\nrc=0\nfor i in $cells; do\n\t");
		shq(f, self);
		fprintf(f, " sweep -o ");
		shq(f, adir);
		fprintf(f, " --cell \"$i\" || rc=1\ndone\nexit $rc\n");
		if (fclose(f) != 0)
			f = NULL;
	}
	FILE *g = f ? fopen(collect, "w") : NULL;
	if (g) {
		fprintf(g, "#!/bin/sh\n# merge the cells of vmlab sweep %s once its array is done\n",
			s->name);
		fprintf(g, "#SBATCH --job-name=%s-collect\n#SBATCH --ntasks=1\n", jname);
		fprintf(g, "#SBATCH --output=%s/logs/collect-%%j.out\n", sdir);
		if (o->partition)
			fprintf(g, "#SBATCH --partition=%s\n", o->partition);
		if (o->time)
			fprintf(g, "#SBATCH --time=%s\n", o->time);
		shq(g, self);
		fprintf(g, " sweep --collect ");
		shq(g, adir);
		fprintf(g, "\n");
		if (fclose(g) != 0)
			g = NULL;
	}
	if (!f || !g) {
		cli_error("sweep: %s: cannot write the Slurm scripts", sdir);
		return EXIT_INPUT;
	}
	chmod(script, 0755);
	chmod(collect, 0755);
	if (!o->submit) {
		printf("%s\n%s\n", script, collect);
		fprintf(stderr,
			"sweep %s: wrote %s (%zu array tasks) and %s; submit with\n"
			"  jid=$(sbatch --parsable %s) && sbatch --dependency=afterany:$jid %s\n",
			s->name, script, ntasks, collect, script, collect);
		return 0;
	}
	char out[256];
	char *a1[] = { "sbatch", "--parsable", script, NULL };
	int rc = capture(a1, out, sizeof(out));
	char *semi = strchr(out, ';');
	if (semi)
		*semi = '\0';
	if (rc != 0 || !*out || strspn(out, "0123456789") != strlen(out)) {
		cli_error("sweep: sbatch %s failed (exit %d)%s%s", script, rc, *out ? ": " : "", out);
		return EXIT_INPUT;
	}
	char jid[64], dep[96], cjid[64];
	snprintf(jid, sizeof(jid), "%s", out);
	snprintf(dep, sizeof(dep), "--dependency=afterany:%s", jid);
	char *a2[] = { "sbatch", "--parsable", dep, collect, NULL };
	rc = capture(a2, out, sizeof(out));
	if ((semi = strchr(out, ';')))
		*semi = '\0';
	if (rc != 0 || !*out) {
		cli_error("sweep: array job %s submitted, but sbatch %s failed (exit %d); run "
			  "`vmlab sweep --collect %s` when it is done",
			  jid, collect, rc, adir);
		return EXIT_INPUT;
	}
	snprintf(cjid, sizeof(cjid), "%s", out);
	snprintf(p, sizeof(p), "%s/jobs", sdir);
	f = fopen(p, "w");
	if (f) {
		fprintf(f, "array %s\ncollect %s\n", jid, cjid);
		fclose(f);
	}
	printf("%s %s\n", jid, cjid);
	fprintf(stderr,
		"sweep %s: submitted array job %s (%zu tasks, %zu cells) and collect job %s;\n"
		"  results: %s/all.h5 once job %s has finished\n",
		s->name, jid, ntasks, ntodo, cjid, adir, cjid);
	return 0;
}

/* ---- --cell, --collect, --dry-run ---- */

static int do_collect(const char *dir)
{
	struct vl_sweep *s;
	struct vl_error err = { 0 };
	if (vl_sweep_plan_read(&s, dir, &err) < 0) {
		cli_error("sweep: %s", err.msg);
		return EXIT_INPUT;
	}
	struct vl_sweep_status st;
	int rc = vl_sweep_collect(s, dir, &st, &err);
	if (rc < 0) {
		cli_error("sweep: %s", err.msg);
		vl_sweep_free(s);
		return EXIT_INPUT;
	}
	for (size_t i = 0; i < s->ncells; i++) {
		if (vl_sweep_cell_done(s, dir, i))
			continue;
		char d[512], *e = vl_sweep_cell_error(s, dir, i);
		describe(s, i, d, sizeof(d));
		cli_error("sweep: %s %s%s", d, e ? "failed: " : "did not run", e ? e : "");
		free(e);
	}
	fprintf(stderr, "sweep %s: %s/%s: %zu of %zu cells (%zu failed, %zu missing)\n", s->name,
		dir, st.written, st.done, s->ncells, st.failed, st.missing);
	rc = st.done == s->ncells ? 0 : EXIT_INPUT;
	vl_sweep_free(s);
	return rc;
}

static int do_cell(const char *dir, const char *arg)
{
	uint64_t i;
	if (vl_parse_u64(arg, &i) < 0) {
		cli_error("sweep: --cell '%s': expected a cell index", arg);
		return EXIT_USAGE;
	}
	struct vl_sweep *s;
	struct vl_error err = { 0 };
	if (vl_sweep_plan_read(&s, dir, &err) < 0) {
		cli_error("sweep: %s", err.msg);
		return EXIT_INPUT;
	}
	if (i >= s->ncells) {
		cli_error("sweep: --cell %llu: %s/plan has %zu cells", (unsigned long long)i, dir,
			  s->ncells);
		vl_sweep_free(s);
		return EXIT_USAGE;
	}
	int rc = run_cell_here(s, dir, (size_t)i);
	vl_sweep_free(s);
	return rc;
}

static void dry_run(const struct vl_sweep *s, const char *dir)
{
	printf("# sweep %s: %zu cells\n", s->name, s->ncells);
	printf("cell\tkey\tstatus\ttrace");
	for (size_t k = 0; k < s->nvary; k++)
		printf("\t%s", s->vary_keys[k]);
	printf("\n");
	for (size_t i = 0; i < s->ncells; i++) {
		const struct vl_sweep_cell *c = &s->cells[i];
		char *e = NULL;
		const char *status = "todo";
		if (dir && vl_sweep_cell_done(s, dir, i))
			status = "complete";
		else if (dir && (e = vl_sweep_cell_error(s, dir, i)))
			status = "failed";
		free(e);
		printf("%zu\t%s\t%s\t%s", i, c->key, status, c->trace);
		for (size_t k = 0; k < s->nvary; k++)
			printf("\t%s", c->vary[k].value);
		printf("\n");
	}
}

int cmd_sweep(int argc, char **argv)
{
	const char *dir = NULL, *cell = NULL, *collect = NULL;
	long jobs = 0;
	bool slurm = false, dry = false;
	struct slurm_opts so = { .per_task = 1, .submit = true };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "slurm", no_argument, NULL, 'S' },
		{ "partition", required_argument, NULL, 'P' },
		{ "time", required_argument, NULL, 'T' },
		{ "max-parallel", required_argument, NULL, 'M' },
		{ "cells-per-task", required_argument, NULL, 'B' },
		{ "no-submit", no_argument, NULL, 'N' },
		{ "cell", required_argument, NULL, 'C' },
		{ "collect", required_argument, NULL, 'L' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:j:h", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'o': dir = optarg; break;
		case 'j':
		case 'M':
		case 'B': {
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (*end || !*optarg || errno || v < 1 || v > 100000) {
				cli_error("sweep: %s '%s': expected a number from 1 to 100000",
					  c == 'j' ? "-j" : c == 'M' ? "--max-parallel" : "--cells-per-task",
					  optarg);
				return EXIT_USAGE;
			}
			if (c == 'j')
				jobs = v;
			else if (c == 'M')
				so.max_parallel = v;
			else
				so.per_task = v;
			break;
		}
		case 'S': slurm = true; break;
		case 'P': so.partition = optarg; break;
		case 'T': so.time = optarg; break;
		case 'N': so.submit = false; break;
		case 'C': cell = optarg; break;
		case 'L': collect = optarg; break;
		case 'D': dry = true; break;
		case 'h': sweep_usage(stdout); return 0;
		case '?':
			if (optopt)
				cli_error("sweep: option -%c needs an argument or is unknown (see vmlab sweep --help)",
					  optopt);
			else
				cli_error("sweep: unknown option '%s' (see vmlab sweep --help)",
					  argv[optind - 1]);
			return EXIT_USAGE;
		default: return EXIT_USAGE;
		}
	}
	int nargs = argc - optind;
	if (collect) {
		if (nargs || dir || cell || slurm) {
			cli_error("sweep: --collect DIR takes no other arguments");
			return EXIT_USAGE;
		}
		return do_collect(collect);
	}
	if (!dir) {
		cli_error("sweep: missing -o DIR (see vmlab sweep --help)");
		return EXIT_USAGE;
	}
	if (cell) {
		if (nargs > 1 || slurm) {
			cli_error("sweep: --cell I runs one cell of DIR/plan; it takes -o DIR only");
			return EXIT_USAGE;
		}
		return do_cell(dir, cell);
	}
	if (nargs != 1) {
		cli_error(nargs ? "sweep: expected one EXPERIMENT file, got extra arguments"
				: "sweep: missing EXPERIMENT file (see vmlab sweep --help)");
		return EXIT_USAGE;
	}
	if (!slurm && (so.partition || so.time || so.max_parallel || so.per_task != 1 || !so.submit)) {
		cli_error("sweep: --partition, --time, --max-parallel, --cells-per-task and --no-submit "
			  "need --slurm");
		return EXIT_USAGE;
	}
	if (slurm && jobs) {
		cli_error("sweep: -j is for local sweeps; with --slurm use --max-parallel");
		return EXIT_USAGE;
	}
	if ((so.partition && (!*so.partition || !slurm_word_ok(so.partition))) ||
	    (so.time && (!*so.time || !slurm_word_ok(so.time)))) {
		cli_error("sweep: --partition and --time take one word without quotes or spaces");
		return EXIT_USAGE;
	}
	if (!jobs) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		jobs = n > 0 ? n : 1;
	}

	struct vl_sweep *s;
	struct vl_error err = { 0 };
	if (vl_sweep_load(&s, argv[optind], &err) < 0) {
		cli_error("%s", err.msg);
		return EXIT_INPUT;
	}
	if (dry) {
		struct stat st;
		dry_run(s, stat(dir, &st) == 0 ? dir : NULL);
		vl_sweep_free(s);
		return 0;
	}
	int rc;
	if ((rc = vl_sweep_plan_write(s, dir, &err)) < 0) {
		cli_error("sweep: %s", err.msg);
		vl_sweep_free(s);
		return EXIT_INPUT;
	}
	rc = slurm ? run_slurm(s, dir, &so) : run_local(s, dir, jobs);
	vl_sweep_free(s);
	return rc;
}
