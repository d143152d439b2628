/* cli/validate_limit.c - `vmlab validate --limit SIZE`: validation under
 * memory pressure.
 *
 * Per workload (the pressure suite, bench/validate/pressure.c, the
 * programs of --programs, or one program):
 *   1. native: N runs, each in a fresh memory cgroup limited to SIZE
 *      (analysis/cgroup.c: v2 where its memory controller is enabled,
 *      else v1) with swap (the host's, or a temporary swap file made for
 *      the command); a workload built with roi.h counts its region with
 *      the perf software fault events (bench/validate/roi.h; inherited:
 *      a child it runs there is counted whole), any other program is
 *      counted whole from its exec to its exit, children included, as
 *      validate --programs counts it (after one uncounted run: warm);
 *      median per event;
 *   2. capture (outside the cgroup: the trace does not depend on the
 *      limit): under valgrind lackey for a roi.h workload whose region
 *      is its own code; with `vmlab capture` (qemu, every process) for a
 *      workload that runs a real program in a child (the suite's
 *      "[program]" ones, or one that exits 77 under valgrind) and for any
 *      other program; replay with the model's cgroup limit (memory.limit)
 *      set to the limit; a whole program's qemu capture over the
 *      fault-around phases as validate --programs replays it, a roi.h
 *      workload's between its ROI markers;
 *   3. page, minor and major fault rows, each within 5%.
 * The cgroup, the swap file and the child are undone at the end, on
 * errors, and on SIGINT/SIGTERM/SIGHUP (vl_limit_teardown).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/cgroup.h"
#include "analysis/host.h"
#include "analysis/json.h"
#include "analysis/pfm.h"
#include "analysis/validate.h"
#include "analysis/validate_programs.h"
#include "cli/cli.h"
#include "cli/validate_programs.h"

#define LIMIT_BOUND 0.05
#define MAX_WL 64
#define MAX_RUNS 101

static const char *const ev_keys[3] = { "page_faults", "minor_faults", "major_faults" };

struct lw {
	char name[64];
	char desc[160];
	char *argv[64];
	bool program;            /* "[program]": a child lackey does not trace (qemu capture) */
	bool roi;                /* built with roi.h: its region is counted */
	const char *cwd;         /* where it runs (--programs: its inputs); NULL: here */
	char exe[4096];          /* --programs: argv[0] resolved */
	char wdir[4200];         /* --programs: its directory */
	uint64_t runs[3][MAX_RUNS];
	unsigned nruns;
	bool whole;              /* counted whole (no region counts) */
	bool qemu;               /* the simulated side is a whole-program capture */
	uint64_t peak_bytes;     /* the cgroup's peak, largest run */
	unsigned oom_kills;      /* runs killed by the cgroup's OOM killer, repeated */
	bool have_meas, have_sim;
	uint64_t meas[3], sim[3];
	char why_meas[400], why_sim[400];
};

/* What the replay's swap keys say, one line for the header. */
static const char *swap_line(const struct vl_config *cfg, char *buf, size_t n)
{
	if (!vl_config_declares(cfg, "swap.cache") || !vl_config_bool(cfg, "swap.cache"))
		snprintf(buf, n, "no swap cache (swap.cache = off): every swap-in is a major fault");
	else if (vl_config_declares(cfg, "swap.synchronous") && vl_config_bool(cfg, "swap.synchronous"))
		snprintf(buf, n, "a synchronous swap device (swap.synchronous = on): every swap-in "
			 "reads its page alone, past the swap cache, a major fault");
	else
		snprintf(buf, n, "swap cache, readahead by %s (swap.page_cluster = %llu, "
			 "swap.vma_readahead = %s, swap.rotational = %s)",
			 vl_config_bool(cfg, "swap.vma_readahead") &&
					 !vl_config_bool(cfg, "swap.rotational")
				 ? "virtual address"
				 : "swap slot",
			 (unsigned long long)vl_config_u64(cfg, "swap.page_cluster"),
			 vl_config_bool(cfg, "swap.vma_readahead") ? "on" : "off",
			 vl_config_bool(cfg, "swap.rotational") ? "on" : "off");
	return buf;
}

/* ---- signals: undo the cgroup, the swap file, the child ---- */
static char g_tmpdir[4096];

static void on_signal(int sig)
{
	vl_limit_teardown();
	if (g_tmpdir[0]) { /* traces, logs, inputs: rm -rf (fork, execve: signal-safe) */
		pid_t pid = fork();
		if (pid == 0) {
			char *const rm[] = { "rm", "-rf", g_tmpdir, NULL };
			char *const env[] = { NULL };
			execve("/bin/rm", rm, env);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void guard(bool on)
{
	struct sigaction sa = { .sa_handler = on ? on_signal : SIG_DFL };
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaddset(&sa.sa_mask, SIGHUP);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmlab validate --limit SIZE [--suite | --programs | -- PROGRAM [ARGS...]]\n"
		"                      [--only LIST] [-r N] [--json] [-c CONFIG]... [-s KEY=VALUE]...\n"
		"                      [--keep DIR]\n"
		"\n"
		"Validation under memory pressure: run each workload in a memory cgroup\n"
		"limited to SIZE (v2 where its memory controller is enabled, else v1), with\n"
		"swap (the host's, or a temporary swap file of max(2 x SIZE, 512 MiB) when\n"
		"none is active; VMLAB_SWAP_DIR, default /var/tmp), and replay its captured\n"
		"trace with the model's memory limited to SIZE.  Needs root.\n"
		"\n"
		"  --suite            the pressure workloads (vmlab-pressure --list), sized\n"
		"                     from SIZE (whole MiB)\n"
		"  --programs         the unmodified programs of validate --programs, whole,\n"
		"                     warm only (no cold runs under --limit)\n"
		"  -- PROGRAM ARGS    one program; built with bench/validate/roi.h its region\n"
		"                     is counted, otherwise its whole process (warm)\n"
		"      --only LIST    only these workloads of --suite or --programs (comma list)\n"
		"  -r, --repeat N     native runs per workload, median reported (3)\n"
		"      --json         print the rows as a JSON list\n"
		"  -c, -s, --machine, --plugin, --keep DIR   as without --limit\n"
		"\n"
		"Page, minor and major fault rows must each be within 5%% (exit 1 otherwise).\n");
}

/* The configuration: linux < host (no TLBs: fault rows only) < the
 * machine preset's [events] < limit < -c < -s (validate_cfg, cli/validate.c).
 * 0 or the exit status. */
static int limit_cfg(struct vl_config **out, const struct vl_host *host, uint64_t limit,
		     const struct cli_cfg *cc, bool warn)
{
	char lim[32];
	snprintf(lim, sizeof(lim), "%llu", (unsigned long long)limit);
	return validate_cfg(out, host, false, "memory.limit", lim, cc, warn);
}

/* VMLAB_ROI_EVENTS for the three fault events (slots 0..2), "" with why
 * when one cannot be encoded (then the whole process is counted). */
static void fault_events(const struct vl_config *cfg, char *env, size_t n, char *why, size_t wn)
{
	env[0] = 0;
	for (int i = 0; i < 3; i++) {
		char key[64];
		snprintf(key, sizeof(key), "events.%s", ev_keys[i]);
		struct vl_pfm_set s;
		struct vl_error err = { 0 };
		const char *name = vl_config_str(cfg, key);
		if (!name || !*name || vl_pfm_parse(&s, name, &err) < 0) {
			snprintf(why, wn, "%s: %s", key, name && *name ? err.msg : "no event named");
			env[0] = 0;
			return;
		}
		if (vl_pfm_encode(&s, &err) < 0 || s.ev[0].state == VL_PFM_UNKNOWN) {
			snprintf(why, wn, "%s: %s", name, err.msg[0] ? err.msg : s.ev[0].why);
			vl_pfm_free(&s);
			env[0] = 0;
			return;
		}
		const struct vl_pfm_event *e = &s.ev[0];
		size_t used = strlen(env);
		snprintf(env + used, n - used, "%s%x:%llx:%llx:%llx:%x:%x", i ? ";" : "", e->type,
			 (unsigned long long)e->config, (unsigned long long)e->config1,
			 (unsigned long long)e->config2, e->exclude_user, e->exclude_kernel);
		vl_pfm_free(&s);
	}
}

/* The three fault events as a libpfm4 list, for whole programs: the
 * configuration's [events] names, perf's software events where it names
 * none. */
static void whole_events(const struct vl_config *cfg, char *out, size_t n)
{
	static const char *const fallback[3] = { "perf::PAGE-FAULTS", "perf::MINOR-FAULTS",
						 "perf::MAJOR-FAULTS" };
	out[0] = 0;
	for (int i = 0; i < 3; i++) {
		char key[64];
		snprintf(key, sizeof(key), "events.%s", ev_keys[i]);
		const char *name = vl_config_str(cfg, key);
		size_t used = strlen(out);
		snprintf(out + used, n - used, "%s%s", i ? "," : "",
			 name && *name ? name : fallback[i]);
	}
}

/* Between fork and exec of a whole program's native run: into the
 * cgroup, into its directory, stdout to /dev/null (signal-safe calls). */
struct child_ctx {
	const struct vl_cgroup *cg;
	const char *cwd;
	int nul;
};

static int child_prep(void *arg)
{
	const struct child_ctx *x = arg;
	setpgid(0, 0); /* a signal's teardown kills its children too */
	int e = x->cg ? vl_cgroup_enter(x->cg) : 0;
	if (e < 0)
		return -e;
	if (x->cwd && chdir(x->cwd) < 0)
		return errno;
	if (dup2(x->nul, 1) < 0)
		return errno;
	return 0;
}

static void track(pid_t pid, void *arg)
{
	(void)arg;
	vl_limit_child(pid);
}

/* A whole program counted from its exec to its exit, children included
 * (as validate --programs counts it), in cg (NULL: where vmlab is, for the
 * uncounted warm-up run).  0 with the counts, -1 with why; *st is the wait
 * status. */
static int count_whole(char *const argv[], const char *cwd, const struct vl_cgroup *cg,
		       const char *events, uint64_t v[3], int *st, char *why, size_t wn)
{
	struct vl_pfm_set s;
	struct vl_error err = { 0 };
	struct child_ctx x = { cg, cwd, open("/dev/null", O_WRONLY | O_CLOEXEC) };
	int rc = -1;
	*st = 0;
	if (x.nul < 0) {
		snprintf(why, wn, "/dev/null: %s", strerror(errno));
		return -1;
	}
	if (vl_pfm_parse(&s, events, &err) < 0) {
		snprintf(why, wn, "%s", err.msg);
		close(x.nul);
		return -1;
	}
	fflush(NULL);
	if (vl_pfm_run_child_hooked(&s, argv, child_prep, track, &x, st, &err) < 0) {
		snprintf(why, wn, "the native run failed (%s)", err.msg);
	} else {
		rc = 0;
		for (int k = 0; k < 3 && k < (int)s.n; k++) {
			if (!s.ev[k].counted) {
				snprintf(why, wn, "%s not counted: %s", s.ev[k].name, s.ev[k].why);
				rc = -1;
			}
			v[k] = s.ev[k].value;
		}
		if (s.n < 3) {
			snprintf(why, wn, "three fault events expected, %zu given", s.n);
			rc = -1;
		}
	}
	vl_pfm_free(&s);
	close(x.nul);
	return rc;
}

/* One native run in a fresh cgroup.  Returns 0 with the three counts, or
 * -1 with why (-2: killed by SIGKILL, the cgroup's OOM killer). */
static int native_run(struct lw *w, uint64_t limit, const char *env, const char *outf,
		      const char *events, uint64_t v[3], bool *whole, char *why, size_t wn)
{
	struct vl_cgroup cg;
	struct vl_error err = { 0 };
	if (vl_cgroup_create(&cg, limit, &err) < 0) {
		snprintf(why, wn, "%s", err.msg);
		return -1;
	}
	int st = 0;
	pid_t r = 0;
	struct rusage ru;
	if (!w->roi) {
		int crc = count_whole(w->argv, w->cwd, &cg, events, v, &st, why, wn);
		uint64_t peak = vl_cgroup_peak(&cg);
		if (peak > w->peak_bytes)
			w->peak_bytes = peak;
		int rrc = vl_cgroup_remove(&cg, &err);
		if (crc < 0)
			return -1;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			bool oom = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
			snprintf(why, wn, "the native run failed (%s %d)%s",
				 WIFEXITED(st) ? "exit status" : "signal",
				 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
				 oom ? " (killed: out of memory in the cgroup? is there enough swap?)"
				     : "");
			return oom ? -2 : -1;
		}
		if (rrc < 0) {
			snprintf(why, wn, "%s", err.msg);
			return -1;
		}
		*whole = true;
		return 0;
	}
	unlink(outf);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, wn, "fork: %s", strerror(errno));
		vl_cgroup_remove(&cg, NULL);
		return -1;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		setpgid(0, 0); /* a signal's teardown kills its children too */
		int e = vl_cgroup_enter(&cg);
		if (e < 0) {
			fprintf(stderr, "vmlab: cannot enter the cgroup %s: %s\n", cg.path, strerror(-e));
			_exit(126);
		}
		if (env[0])
			setenv("VMLAB_ROI_EVENTS", env, 1);
		setenv("VMLAB_ROI_OUT", outf, 1);
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execvp(w->argv[0], w->argv);
		fprintf(stderr, "vmlab: cannot execute %s: %s\n", w->argv[0], strerror(errno));
		_exit(127);
	}
	vl_limit_child(pid);
	while ((r = wait4(pid, &st, 0, &ru)) < 0 && errno == EINTR)
		;
	vl_limit_child(0);
	uint64_t peak = vl_cgroup_peak(&cg);
	if (peak > w->peak_bytes)
		w->peak_bytes = peak;
	int rrc = vl_cgroup_remove(&cg, &err);
	if (r < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		bool oom = r >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
		snprintf(why, wn, "the native run failed (%s %d)%s",
			 r < 0 ? "errno" : WIFEXITED(st) ? "exit status" : "signal",
			 r < 0 ? errno : WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
			 oom ? " (killed: out of memory in the cgroup? is there enough swap?)" : "");
		return oom ? -2 : -1;
	}
	if (rrc < 0) {
		snprintf(why, wn, "%s", err.msg);
		return -1;
	}
	FILE *f = fopen(outf, "r");
	bool got[3] = { false, false, false };
	if (f) {
		char line[256];
		while (fgets(line, sizeof(line), f)) {
			int slot;
			unsigned long long x, en, run;
			if (sscanf(line, "%d %llu %llu %llu", &slot, &x, &en, &run) == 4 && slot >= 0 &&
			    slot < 3) {
				v[slot] = x; /* software events: never multiplexed */
				got[slot] = true;
			}
		}
		fclose(f);
	}
	*whole = !(got[0] && got[1] && got[2]);
	if (*whole) { /* no region counts: the whole process (rusage) */
		v[1] = (uint64_t)ru.ru_minflt;
		v[2] = (uint64_t)ru.ru_majflt;
		v[0] = v[1] + v[2];
	}
	return 0;
}

/* The simulated side from a whole-program capture (`vmlab capture`, qemu:
 * every process), replayed in the limit: a whole program over the
 * fault-around phases, as validate --programs replays it; a roi.h
 * workload between its ROI markers, once (its traces are long: `sort` at
 * 32 MiB 2.3 billion accesses, and the phases move a few faults of its
 * program's start-up among tens of thousands). */
static void whole_capture_replay(struct lw *w, const struct vl_config *cfg, const char *dir)
{
	char trace[4200], log[4200], why[400] = "", ra[32];
	snprintf(trace, sizeof(trace), "%s/%s.vmt", dir, w->name);
	snprintf(log, sizeof(log), "%s/%s.capture.log", dir, w->name);
	w->qemu = true;
	char cwd[4096] = "";
	if (w->cwd && (!getcwd(cwd, sizeof(cwd)) || chdir(w->cwd) < 0)) {
		snprintf(w->why_sim, sizeof(w->why_sim), "not simulated: cannot enter %s", w->cwd);
		return;
	}
	int crc = validate_capture(trace, log, w->argv, vl_limit_child, why, sizeof(why));
	if (cwd[0] && chdir(cwd) < 0 && !crc) {
		snprintf(why, sizeof(why), "cannot return to %s", cwd);
		crc = -1;
	}
	if (crc < 0) {
		snprintf(w->why_sim, sizeof(w->why_sim), "not simulated: %s", why);
		return;
	}
	struct vl_prog_sim *sim = malloc(sizeof(*sim));
	struct vl_config *c = vl_config_dup(cfg);
	struct vl_error err = { 0 };
	/* as validate --programs replays warm runs: files in the page cache,
	 * the disk's read-ahead for reads of files */
	snprintf(ra, sizeof(ra), "%u", validate_readahead(w->argv[0]));
	if (!sim || !c)
		snprintf(w->why_sim, sizeof(w->why_sim), "not simulated: out of memory");
	else if (vl_config_set(c, "pagecache.warm", "all", "validate", &err) < 0 ||
		 (strcmp(ra, "0") && vl_config_set(c, "file.readaround", ra, "validate", &err) < 0) ||
		 vl_validate_replay(c, trace, w->roi ? VL_REPLAY_ROI | VL_REPLAY_ONE_PHASE : 0, sim,
				    &err) < 0)
		snprintf(w->why_sim, sizeof(w->why_sim), "not simulated: replay: %s", err.msg);
	else {
		w->sim[0] = sim->page_faults;
		w->sim[1] = sim->minor_faults;
		w->sim[2] = sim->major_faults;
		w->have_sim = true;
		if (g_tmpdir[0]) /* without --keep: the trace goes now (1 GB for sort) */
			unlink(trace);
	}
	vl_config_free(c);
	free(sim);
}

static void capture_and_replay(struct lw *w, const struct vl_config *cfg, const char *dir)
{
	if (w->program || !w->roi) {
		whole_capture_replay(w, cfg, dir);
		return;
	}
	char log[4200], trace[4200], logopt[4300];
	snprintf(log, sizeof(log), "%s/%s.lackey", dir, w->name);
	snprintf(trace, sizeof(trace), "%s/%s.addr", dir, w->name);
	snprintf(logopt, sizeof(logopt), "--log-file=%s", log);
	char *argv[80] = { "valgrind", "--tool=lackey", "--trace-mem=yes", logopt };
	int n = 4;
	for (int i = 0; w->argv[i] && n < 79; i++)
		argv[n++] = w->argv[i];
	argv[n] = NULL;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0); /* a signal's teardown kills what it starts too */
		unsetenv("VMLAB_ROI_EVENTS");
		unsetenv("VMLAB_ROI_OUT");
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	int st = -1;
	if (pid > 0) {
		vl_limit_child(pid);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		vl_limit_child(0);
	}
	struct vl_error err = { 0 };
	struct vl_roi_sim *sim = malloc(sizeof(*sim));
	if (pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 77) {
		/* its region runs a program in a child, which lackey does not
		 * follow (bench/validate/pressure.c): capture it whole */
		free(sim);
		whole_capture_replay(w, cfg, dir);
		return;
	} else if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(w->why_sim, sizeof(w->why_sim),
			 "not simulated: the captured run failed (valgrind installed? see %s)", log);
	} else if (!sim) {
		snprintf(w->why_sim, sizeof(w->why_sim), "not simulated: out of memory");
	} else if (vl_validate_convert(log, trace, NULL, &err) < 0 ||
		   vl_validate_simulate(cfg, trace, sim, &err) < 0) {
		snprintf(w->why_sim, sizeof(w->why_sim), "not simulated: %s", err.msg);
	} else {
		w->sim[0] = sim->page_faults;
		w->sim[1] = sim->minor_faults;
		w->sim[2] = sim->major_faults;
		w->have_sim = true;
		/* without --keep (a temporary directory): the lackey log
		 * (hundreds of MB for the larger workloads) and its trace
		 * go now, not with the directory at the end */
		if (g_tmpdir[0]) {
			unlink(log);
			unlink(trace);
		}
	}
	free(sim);
}

/* 1 within the bound, 0 outside, -1 a side missing */
static int verdict(const struct lw *w, int i)
{
	if (!w->have_meas || !w->have_sim)
		return -1;
	return fabs(vl_validate_rel_error(w->meas[i], w->sim[i])) <= LIMIT_BOUND + 1e-12;
}

int cmd_validate_limit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "suite", no_argument, NULL, 'S' },     { "repeat", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'J' },      { "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' }, { "keep", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },      { "limit", required_argument, NULL, 'L' },
		{ "machine", required_argument, NULL, OPT_MACHINE },
		{ "plugin", required_argument, NULL, OPT_PLUGIN },
		{ "programs", no_argument, NULL, 'P' }, { "only", required_argument, NULL, 'O' },
		{ "warm-only", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_cfg cc = { .os = "linux" };
	bool suite = false, json = false, programs = false;
	uint64_t repeat = 3, limit = 0;
	const char *keep = NULL, *limit_arg = NULL, *only = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+r:c:s:h", opts, NULL)) != -1) {
		int r = cli_cfg_option(&cc, c, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r)
			continue;
		switch (c) {
		case 'S': suite = true; break;
		case 'J': json = true; break;
		case 'k': keep = optarg; break;
		case 'L': limit_arg = optarg; break; /* checked after --help */
		case 'r':
			if (vl_parse_u64(optarg, &repeat) < 0 || repeat == 0 || repeat > MAX_RUNS) {
				cli_error("-r: expected a count from 1 to %d, found '%s'", MAX_RUNS, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'P': programs = true; break;
		case 'O': only = optarg; break;
		case 'W': break; /* whole programs run warm only under --limit */
		default:
			cli_error("validate --limit: unknown option '%s' (try `vmlab validate --limit 48M "
				  "--help`)",
				  argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (!limit_arg || vl_parse_size(limit_arg, &limit) < 0 || limit < (4u << 20)) {
		cli_error("--limit: expected a size of at least 4M (48M, 1G), found '%s'",
			  limit_arg ? limit_arg : "");
		return EXIT_USAGE;
	}
	if (suite + programs + (optind < argc) != 1) {
		cli_error("validate --limit: give --suite, --programs or -- PROGRAM [ARGS] (one of "
			  "them)");
		return EXIT_USAGE;
	}
	if (only && !suite && !programs) {
		cli_error("validate --limit: --only picks workloads of --suite or --programs");
		return EXIT_USAGE;
	}
	if (programs) {
		size_t matched = 0;
		for (size_t i = 0; i < vl_nprograms; i++)
			matched += validate_only(only, vl_programs[i].name);
		if (!matched) {
			cli_error("validate --limit: --only %s: no such program of --programs", only);
			return EXIT_USAGE;
		}
	}
	if (suite && limit % (1u << 20)) {
		cli_error("--limit with --suite: the workloads are sized in whole MiB, found %llu "
			  "bytes",
			  (unsigned long long)limit);
		return EXIT_USAGE;
	}
	/* what the machine must offer: said before anything is made */
	char mnt[512], why[700];
	if (geteuid() != 0) {
		cli_error("validate --limit: needs root (to make a memory cgroup and, without "
			  "active swap, a swap file)");
		return EXIT_INPUT;
	}
	int cgv = vl_cgroup_probe(mnt, sizeof(mnt), why, sizeof(why));
	if (!cgv) {
		cli_error("validate --limit: %s", why);
		return EXIT_INPUT;
	}

	struct vl_host host;
	vl_host_detect(&host);
	struct vl_config *cfg;
	int rc = limit_cfg(&cfg, &host, limit, &cc, true);
	if (rc)
		return rc;

	static struct lw wl[MAX_WL];
	size_t nw = 0;
	static char wbin[4096], limbuf[32];
	snprintf(limbuf, sizeof(limbuf), "%llu", (unsigned long long)(limit >> 20));
	if (suite) {
		FILE *p = validate_list(getenv("VMLAB_PRESSURE"), "vmlab-pressure", wbin,
					sizeof(wbin));
		if (!p) {
			cli_error("validate --limit: cannot run the pressure workloads %s (build them "
				  "with make, or set VMLAB_PRESSURE)",
				  wbin);
			vl_config_free(cfg);
			return EXIT_INPUT;
		}
		char line[256];
		while (nw < MAX_WL && fgets(line, sizeof(line), p)) {
			struct lw *w = &wl[nw];
			int used = 0;
			memset(w, 0, sizeof(*w));
			if (sscanf(line, "%63s %n", w->name, &used) != 1 || !validate_only(only, w->name))
				continue;
			snprintf(w->desc, sizeof(w->desc), "%s", line + used);
			w->desc[strcspn(w->desc, "\n")] = 0;
			w->program = !strncmp(w->desc, "[program]", 9);
			w->roi = true;
			w->argv[0] = wbin;
			w->argv[1] = w->name;
			w->argv[2] = limbuf;
			nw++;
		}
		int pc = pclose(p);
		if (pc != 0 || nw == 0) {
			if (pc == 0 && only)
				cli_error("validate --limit: --only %s: no such workload (%s --list)", only,
					  wbin);
			else
				cli_error("validate --limit: %s --list failed", wbin);
			vl_config_free(cfg);
			return pc == 0 && only ? EXIT_USAGE : EXIT_INPUT;
		}
	} else if (!programs) {
		struct lw *w = &wl[nw++];
		char tmp[4096];
		memset(w, 0, sizeof(*w));
		snprintf(tmp, sizeof(tmp), "%s", argv[optind]);
		snprintf(w->name, sizeof(w->name), "%s", basename(tmp));
		snprintf(w->desc, sizeof(w->desc), "%s", argv[optind]);
		int k = 0;
		for (int i = optind; i < argc && k < 63; i++)
			w->argv[k++] = argv[i];
		char path[4096];
		w->roi = validate_program_path(argv[optind], false, path, sizeof(path)) &&
			 vl_program_has_roi(path);
	}

	char tmpl[] = "/tmp/vmlab-validate-XXXXXX";
	static char keepdir[4096]; /* absolute: whole programs run in their own directories */
	const char *dir = keep;
	if (keep) {
		if ((mkdir(keep, 0777) < 0 && errno != EEXIST) || !realpath(keep, keepdir)) {
			cli_error("--keep %s: %s", keep, strerror(errno));
			vl_config_free(cfg);
			return EXIT_INPUT;
		}
		dir = keepdir;
	} else if (!(dir = mkdtemp(tmpl))) {
		cli_error("cannot make a temporary directory: %s", strerror(errno));
		vl_config_free(cfg);
		return EXIT_INPUT;
	} else {
		snprintf(g_tmpdir, sizeof(g_tmpdir), "%s", dir);
	}

	guard(true);
	/* --programs: each program's inputs in DIR/NAME, where it runs */
	static char skipped[2048];
	for (size_t i = 0; programs && i < vl_nprograms && nw < MAX_WL; i++) {
		const struct vl_program *p = &vl_programs[i];
		struct lw *w = &wl[nw];
		char pwhy[200];
		if (!validate_only(only, p->name))
			continue;
		memset(w, 0, sizeof(*w));
		if (validate_program_prepare(p, dir, w->wdir, sizeof(w->wdir), w->exe, sizeof(w->exe),
					     w->argv, pwhy, sizeof(pwhy)) < 0) {
			size_t l = strlen(skipped);
			snprintf(skipped + l, sizeof(skipped) - l, "  %s: %s\n", p->name, pwhy);
			continue;
		}
		snprintf(w->name, sizeof(w->name), "%s", p->name);
		snprintf(w->desc, sizeof(w->desc), "%s", p->desc);
		w->cwd = w->wdir;
		nw++;
	}
	struct vl_swap sw;
	struct vl_error err = { 0 };
	char evenv[1024], evwhy[400] = "", outf[4200], events[400];
	snprintf(outf, sizeof(outf), "%s/roi.out", dir);
	fault_events(cfg, evenv, sizeof(evenv), evwhy, sizeof(evwhy));
	whole_events(cfg, events, sizeof(events));
	rc = 0;
	if (vl_swap_ensure(&sw, limit, NULL, &err) < 0) {
		cli_error("validate --limit: %s", err.msg);
		rc = EXIT_INPUT;
	} else {
		/* the replay's swap keys from the swap the runs use: before
		 * vl_swap_ensure the host may have had none, and swap.rotational
		 * (cluster or VMA readahead) then came from the disk of /, not
		 * from the disk the temporary swap file is on */
		struct vl_config *now;
		vl_host_detect(&host);
		if ((rc = limit_cfg(&now, &host, limit, &cc, false)) == 0) {
			vl_config_free(cfg);
			cfg = now;
		}
	}
	for (size_t k = 0; !rc && k < nw; k++) {
		struct lw *w = &wl[k];
		if (!w->roi) {
			/* a whole program: captured first, then run once
			 * uncounted outside the cgroup, so that its files are in
			 * the page cache as the replay has them
			 * (pagecache.warm = all), as validate --programs' warm
			 * runs */
			uint64_t v[3];
			int st;
			capture_and_replay(w, cfg, dir);
			if (count_whole(w->argv, w->cwd, NULL, events, v, &st, w->why_meas,
					sizeof(w->why_meas)) < 0)
				continue;
			w->why_meas[0] = 0;
		}
		for (unsigned r = 0; r < repeat; r++) {
			uint64_t v[3];
			bool whole;
			int nr;
			/* the cgroup's OOM killer sometimes fires while other I/O
			 * slows swap writeback: such a run is repeated (twice at
			 * most per run) and counted */
			while ((nr = native_run(w, limit, evenv, outf, events, v, &whole, w->why_meas,
						sizeof(w->why_meas))) == -2 &&
			       w->oom_kills < 2 * repeat)
				w->oom_kills++;
			if (nr < 0)
				break;
			w->whole = whole;
			for (int i = 0; i < 3; i++)
				w->runs[i][w->nruns] = v[i];
			w->nruns++;
		}
		if (w->nruns == repeat) {
			for (int i = 0; i < 3; i++) {
				uint64_t s[MAX_RUNS];
				memcpy(s, w->runs[i], w->nruns * sizeof(uint64_t));
				qsort(s, w->nruns, sizeof(uint64_t), cli_cmp_u64);
				w->meas[i] = s[w->nruns / 2];
			}
			w->have_meas = true;
		}
		if (w->roi)
			capture_and_replay(w, cfg, dir);
	}
	struct vl_error serr = { 0 };
	char swdesc[sizeof(sw.desc)];
	snprintf(swdesc, sizeof(swdesc), "%s", sw.desc);
	if (vl_swap_release(&sw, &serr) < 0) {
		cli_error("%s", serr.msg);
		rc = EXIT_INPUT;
	}
	if (!keep) { /* traces, logs, --programs' inputs */
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			execl("/bin/rm", "rm", "-rf", dir, (char *)NULL);
			_exit(127);
		}
		int st = -1;
		while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (access(dir, F_OK) == 0)
			cli_error("could not remove %s", dir);
		g_tmpdir[0] = 0;
	}
	guard(false);
	if (rc) {
		vl_config_free(cfg);
		return rc;
	}

	int failed = 0;
	if (json) {
		struct vl_json j;
		vl_json_init(&j, stdout);
		vl_json_arr(&j);
		for (size_t k = 0; k < nw; k++)
			for (int i = 0; i < 3; i++) {
				const struct lw *w = &wl[k];
				vl_json_obj(&j);
				vl_json_key(&j, "workload");
				vl_json_str(&j, w->name);
				vl_json_key(&j, "limit_bytes");
				vl_json_u64(&j, limit);
				vl_json_key(&j, "event");
				vl_json_str(&j, ev_keys[i]);
				vl_json_key(&j, "measured");
				if (w->have_meas)
					vl_json_u64(&j, w->meas[i]);
				else
					vl_json_null(&j);
				vl_json_key(&j, "runs");
				vl_json_arr(&j);
				for (unsigned r = 0; r < w->nruns; r++)
					vl_json_u64(&j, w->runs[i][r]);
				vl_json_end(&j);
				vl_json_key(&j, "oom_kills");
				vl_json_u64(&j, w->oom_kills);
				vl_json_key(&j, "counted");
				vl_json_str(&j, w->whole ? "process" : "region");
				vl_json_key(&j, "capture"); /* what the simulated side replayed */
				vl_json_str(&j, w->qemu ? "qemu" : "lackey");
				vl_json_key(&j, "simulated");
				if (w->have_sim)
					vl_json_u64(&j, w->sim[i]);
				else
					vl_json_null(&j);
				vl_json_key(&j, "rel_error");
				if (w->have_meas && w->have_sim)
					vl_json_f64(&j, vl_validate_rel_error(w->meas[i], w->sim[i]));
				else
					vl_json_null(&j);
				char wy[820] = "";
				if (!w->have_meas)
					snprintf(wy, sizeof(wy), "not measured: %s", w->why_meas);
				if (!w->have_sim)
					snprintf(wy + strlen(wy), sizeof(wy) - strlen(wy), "%s%s",
						 wy[0] ? "; " : "", w->why_sim);
				vl_json_key(&j, "why");
				vl_json_str(&j, wy[0] ? wy : NULL);
				vl_json_key(&j, "pass");
				int v = verdict(w, i);
				if (v < 0)
					vl_json_null(&j);
				else
					vl_json_bool(&j, v == 1);
				vl_json_end(&j);
				failed += v != 1;
			}
		vl_json_end(&j);
		fputc('\n', stdout);
	} else {
		char sline[300];
		printf("vmlab validate --limit %llu MiB: cgroup v%d (%s), %s, model key %s; "
		       "%llu native runs per workload, median\n",
		       (unsigned long long)(limit >> 20), cgv, mnt, swdesc,
		       "memory.limit", (unsigned long long)repeat);
		printf("model swap: %s\n", swap_line(cfg, sline, sizeof(sline)));
		if (evwhy[0])
			printf("(the fault events could not be encoded, %s: whole processes counted)\n",
			       evwhy);
		bool anyq = false, anyw = false;
		for (size_t k = 0; k < nw; k++)
			anyq |= wl[k].qemu, anyw |= !wl[k].roi;
		if (anyw)
			printf("[whole process]: counted from exec to exit, children included, warm (one "
			       "uncounted run first; no cold runs under --limit)\n");
		if (anyq)
			printf("[qemu]: simulated from a whole-program capture (vmlab capture: every "
			       "process); whole programs: mean over the fault-around phases; roi.h "
			       "workloads: between the ROI markers\n");
		printf("\n%-13s %-13s %10s %10s %9s %7s  %s\n", "workload", "event", "measured",
		       "simulated", "rel.err", "spread", "result");
		for (size_t k = 0; k < nw; k++)
			for (int i = 0; i < 3; i++) {
				const struct lw *w = &wl[k];
				char m[32] = "-", s[32] = "-", e[32] = "-", sp[32] = "-", res[420];
				if (w->have_meas) {
					uint64_t lo = w->runs[i][0], hi = lo;
					for (unsigned r = 1; r < w->nruns; r++) {
						lo = w->runs[i][r] < lo ? w->runs[i][r] : lo;
						hi = w->runs[i][r] > hi ? w->runs[i][r] : hi;
					}
					snprintf(m, sizeof(m), "%llu", (unsigned long long)w->meas[i]);
					snprintf(sp, sizeof(sp), "%.1f%%",
						 100.0 * (double)(hi - lo) /
							 (double)(w->meas[i] ? w->meas[i] : 1));
				}
				if (w->have_sim)
					snprintf(s, sizeof(s), "%llu", (unsigned long long)w->sim[i]);
				if (w->have_meas && w->have_sim)
					snprintf(e, sizeof(e), "%+.2f%%",
						 100 * vl_validate_rel_error(w->meas[i], w->sim[i]));
				int v = verdict(w, i);
				if (v == 1)
					snprintf(res, sizeof(res), "ok (within 5%%)");
				else if (v == 0)
					snprintf(res, sizeof(res), "FAIL (bound 5%%)");
				else
					snprintf(res, sizeof(res), "%s",
						 !w->have_meas ? "not measured (below)" : "not simulated (below)");
				printf("%-13s %-13s %10s %10s %9s %7s  %s%s%s\n", w->name, ev_keys[i], m, s,
				       e, sp, res, w->whole && w->have_meas ? " [whole process]" : "",
				       w->qemu && w->have_sim ? " [qemu]" : "");
				failed += v != 1;
			}
		for (size_t k = 0; k < nw; k++)
			if (wl[k].oom_kills)
				printf("%s: %u run%s killed by the cgroup's OOM killer and repeated\n",
				       wl[k].name, wl[k].oom_kills, wl[k].oom_kills == 1 ? "" : "s");
		bool any = false;
		for (size_t k = 0; k < nw; k++) {
			const struct lw *w = &wl[k];
			if (w->have_meas && w->have_sim)
				continue;
			if (!any)
				printf("\nwhy rows were not measured or not simulated:\n");
			any = true;
			if (!w->have_meas)
				printf("  %s: not measured: %s\n", w->name, w->why_meas);
			if (!w->have_sim)
				printf("  %s: %s\n", w->name, w->why_sim);
		}
		if (skipped[0])
			printf("\nprograms not run:\n%s", skipped);
		printf("\n%d fault row%s outside the 5%% bound or not compared\n", failed,
		       failed == 1 ? "" : "s");
	}
	vl_config_free(cfg);
	return failed ? EXIT_INPUT : 0;
}
