/* cli/validate_programs.c - `vmlab validate -- PROGRAM ARGS` for a program
 * without roi.h, and `vmlab validate --programs`: whole unmodified programs.
 *
 * Per program:
 *   1. capture it once: `vmlab capture` (qemu back end), every process;
 *   2. warm: run it once, then N times counting page faults from its exec
 *      to its exit, children included (perf software events with inherit,
 *      as `perf stat` counts); median per event;
 *   3. cold: before each of N runs, the files of the capture's file table
 *      (executables, libraries, data files it mapped) are dropped from the
 *      page cache (posix_fadvise DONTNEED, after fsync); pages other
 *      processes of the machine keep mapped stay cached, as they do for
 *      the kernel's own drop_caches; what stayed (mincore) is recorded
 *      for each run, just before it starts;
 *   4. replay the capture under the linux personality with this host's
 *      configuration: pagecache.warm = all (warm) and none (cold), cold
 *      from the residency the run with the median major faults started
 *      from (the model and that run start from the same page cache).
 * N is -r, and more for short programs: runs go on until they took
 * QUICK_S seconds together or QUICK_RUNS runs were made.  A program's
 * count is a draw over the ASLR placement of its mappings (the
 * fault-around windows' phase, docs/validation.md); the replay gives the
 * mean over the phases, and a median of 3 draws of `ls -lR` moved by 3
 * faults, 2.6 %, where a median of 25 moves by under 1.
 * Rows: the program's totals (page_faults, minor_faults, major_faults), warm
 * and cold, against 2 % (total) and 5 % (minor, major); then the model's
 * counts per process (Linux counts the program as a whole).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analysis/json.h"
#include "analysis/pfm.h"
#include "analysis/validate.h"
#include "analysis/validate_programs.h"
#include "cli/cli.h"
#include "cli/validate_programs.h"

#define TOTAL_BOUND 0.02
#define KIND_BOUND 0.05
#define MAXRUNS 101
#define QUICK_S 1.0   /* short programs: native runs until this much time, */
#define QUICK_RUNS 25 /* or this many runs */
#define DISTURB_RETRIES 25 /* cold runs run again when others started programs */

static const char *const ev_names[3] = { "page_faults", "minor_faults", "major_faults" };
static const char *const pfm_names = "perf::PAGE-FAULTS,perf::MINOR-FAULTS,perf::MAJOR-FAULTS";

struct prow {
	char workload[96];
	int event; /* 0..2 */
	bool have_meas, have_sim, compared;
	uint64_t meas, sim;
	unsigned runs;      /* native runs behind meas */
	unsigned disturbed; /* of which cold runs others disturbed (measure) */
	unsigned discarded; /* cold runs run again for it */
	char why[300];
};

struct prows {
	struct prow *r;
	size_t n, cap;
};

static struct prow *add_row(struct prows *rs, const char *wl, int event)
{
	if (rs->n == rs->cap) {
		size_t nc = rs->cap ? 2 * rs->cap : 64;
		struct prow *nr = realloc(rs->r, nc * sizeof(*nr));
		if (!nr)
			return NULL;
		rs->r = nr;
		rs->cap = nc;
	}
	struct prow *r = &rs->r[rs->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->workload, sizeof(r->workload), "%s", wl);
	r->event = event;
	return r;
}

bool validate_program_path(const char *prog, bool usr_bin_first, char *out, size_t n)
{
	if (strchr(prog, '/')) {
		snprintf(out, n, "%s", prog);
		return access(out, X_OK) == 0;
	}
	snprintf(out, n, "/usr/bin/%s", prog);
	if (usr_bin_first && access(out, X_OK) == 0)
		return true;
	const char *path = getenv("PATH");
	for (const char *p = path ? path : ""; *p;) {
		size_t l = strcspn(p, ":");
		snprintf(out, n, "%.*s/%s", (int)l, p, prog);
		if (access(out, X_OK) == 0)
			return true;
		p += l + (p[l] == ':');
	}
	return false;
}

/* Run argv in dir with stdout (and stderr unless log) redirected; returns
 * the wait status, or -1.  track (may be NULL) is told the child's pid,
 * and 0 once it has been waited for; the child then leads its own process
 * group (vl_limit_teardown kills the group). */
static int run_in(const char *dir, char *const argv[], const char *log, void (*track)(pid_t))
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (track) /* its own process group: killed with what it starts */
			setpgid(0, 0);
		if (dir && chdir(dir) < 0)
			_exit(126);
		int nul = open("/dev/null", O_WRONLY);
		int lf = log ? open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666) : nul;
		if (nul < 0 || lf < 0)
			_exit(126);
		dup2(nul, 1);
		dup2(lf, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (track)
		track(pid);
	int st, w;
	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (track)
		track(0);
	return w < 0 ? -1 : st;
}

static void drop_file(unsigned long long id, const char *path, void *arg)
{
	(void)arg;
	(void)id;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

/* N native runs of argv in dir counting the three events; cold: drop the
 * trace's files before each.  Fills med[3]; returns 0 or writes why. */
static void resident_line(unsigned long long id, const char *path, void *arg)
{
	vl_pagecache_line(arg, id, path);
}

/* The residency file of cold run r: RESIDENT.r */
static void resident_name(char *out, size_t n, const char *resident, unsigned r)
{
	snprintf(out, n, "%s.%u", resident, r);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Processes the kernel has created since boot (/proc/stat), 0 if unknown. */
static uint64_t forks_so_far(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[256];
	unsigned long long n = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "processes %llu", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

struct native {
	uint64_t med[3];
	unsigned runs;       /* runs behind med */
	unsigned median_run; /* the run whose major faults are the median */
	unsigned disturbed;  /* cold: runs kept although other programs started */
	unsigned discarded;  /* cold: runs discarded for it */
};

/* N native runs (see the header).  Cold: a run during which the machine
 * started more processes than the program's own (own: the capture's
 * processes; 0: not checked) may have had its files read back into the
 * page cache by them between the drop and its faults; it is run again,
 * up to DISTURB_RETRIES times in all, then kept and counted in
 * nat->disturbed. */
static int measure(const char *dir, char *const argv[], unsigned repeat, const char *trace,
		   bool cold, const char *resident, unsigned own, struct native *nat, char *why,
		   size_t whyn)
{
	uint64_t *med = nat->med;
	uint64_t vals[3][MAXRUNS], majors[MAXRUNS];
	char cwd[4096];
	if (!getcwd(cwd, sizeof(cwd)) || chdir(dir) < 0) {
		snprintf(why, whyn, "cannot enter %s: %s", dir, strerror(errno));
		return -1;
	}
	int out = dup(1), nul = open("/dev/null", O_WRONLY);
	int rc = 0;
	fflush(NULL);
	if (out < 0 || nul < 0) {
		snprintf(why, whyn, "cannot redirect the program's output");
		rc = -1;
	}
	if (!rc && !cold) { /* one run to warm the page cache */
		dup2(nul, 1);
		int st = run_in(NULL, argv, "/dev/null", NULL);
		dup2(out, 1);
		if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			snprintf(why, whyn, "the native run failed (status %d)", st);
			rc = -1;
		}
	}
	unsigned r = 0, retries = 0;
	double t0 = now_s();
	while (!rc && r < MAXRUNS && (r < repeat || (now_s() - t0 < QUICK_S && r < QUICK_RUNS))) {
		struct vl_pfm_set s;
		struct vl_error err = { 0 };
		uint64_t f0 = forks_so_far();
		if (cold) {
			sync();
			vl_trace_files(trace, drop_file, NULL, &err);
			/* what stayed cached (pages other processes keep
			 * mapped), just before this run: the model starts
			 * from the median run's */
			char rn[4300];
			resident_name(rn, sizeof(rn), resident, r);
			FILE *rf = fopen(rn, "w");
			if (!rf) {
				snprintf(why, whyn, "cannot write %s: %s", rn, strerror(errno));
				rc = -1;
				break;
			}
			fprintf(rf, "# pages cached after the drop (mincore), %s, run %u\n", trace, r);
			vl_trace_files(trace, resident_line, rf, &err);
			if (fclose(rf) != 0) {
				snprintf(why, whyn, "cannot write %s: %s", rn, strerror(errno));
				rc = -1;
				break;
			}
		}
		if (vl_pfm_parse(&s, pfm_names, &err) < 0) {
			snprintf(why, whyn, "%s", err.msg);
			rc = -1;
			break;
		}
		int st = 0;
		fflush(NULL);
		dup2(nul, 1);
		int prc = vl_pfm_run_child(&s, argv, &st, &err);
		dup2(out, 1);
		for (int k = 0; !prc && k < 3; k++) {
			if (!s.ev[k].counted) {
				snprintf(why, whyn, "%s not counted: %s", s.ev[k].name, s.ev[k].why);
				prc = -1;
			} else {
				vals[k][r] = s.ev[k].value;
				if (k == 2)
					majors[r] = s.ev[k].value;
			}
		}
		vl_pfm_free(&s);
		if (prc < 0) {
			if (!why[0])
				snprintf(why, whyn, "%s", err.msg);
			rc = -1;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			snprintf(why, whyn, "the native run failed (status %d)", st);
			rc = -1;
		}
		uint64_t f1 = forks_so_far();
		if (!rc && cold && own && f0 && f1 - f0 > own) {
			if (retries < DISTURB_RETRIES) {
				retries++;
				nat->discarded++;
				continue;
			}
			nat->disturbed++;
		}
		r++;
	}
	if (out >= 0) {
		dup2(out, 1);
		close(out);
	}
	if (nul >= 0)
		close(nul);
	if (chdir(cwd) < 0 && !rc) {
		snprintf(why, whyn, "cannot return to %s", cwd);
		rc = -1;
	}
	if (!rc) {
		for (int k = 0; k < 3; k++) {
			qsort(vals[k], r, sizeof(uint64_t), cli_cmp_u64);
			med[k] = vals[k][r / 2];
		}
		nat->runs = r;
		nat->median_run = 0;
		while (nat->median_run + 1 < r && majors[nat->median_run] != med[2])
			nat->median_run++;
	}
	return rc;
}

static double bound_of(int event)
{
	return event == 0 ? TOTAL_BOUND : KIND_BOUND;
}

/* Verdict: 1 pass, 0 fail, -1 not compared. */
static int verdict(const struct prow *r)
{
	if (!r->compared || !r->have_meas || !r->have_sim)
		return -1;
	return fabs(vl_validate_rel_error(r->meas, r->sim)) <= bound_of(r->event) + 1e-12;
}

int validate_capture(const char *trace, const char *log, char *const argv[], void (*track)(pid_t),
		     char *why, size_t whyn)
{
	char self[4096];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[sl > 0 ? sl : 0] = 0;
	/* --no-heap: vmlab-heap.so would be one more library for the loader to
	 * map and relocate in every process (a few faults Linux does not take) */
	char *cargv[80] = { self, "capture", "--no-heap", "-o", (char *)trace, "--" };
	int k = 6;
	for (int i = 0; argv[i] && k < 79; i++)
		cargv[k++] = argv[i];
	cargv[k] = NULL;
	int st = run_in(NULL, cargv, log, track);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(why, whyn, "the capture failed (status %d; see %s)", st, log);
		return -1;
	}
	return 0;
}

unsigned validate_readahead(const char *prog)
{
	char exe[4096];
	return validate_program_path(prog, false, exe, sizeof(exe)) ? vl_readahead_pages(exe) : 0;
}

bool validate_only(const char *only, const char *name)
{
	if (!only)
		return true;
	size_t l = strlen(name);
	for (const char *p = only; *p;) {
		size_t n = strcspn(p, ",");
		if (n == l && !strncmp(p, name, l))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

int validate_program_prepare(const struct vl_program *p, const char *dir, char *wdir, size_t wn,
			     char *p0, size_t p0n, char *pargv[9], char *why, size_t whyn)
{
	/* the programs it needs */
	char need[256], miss[64] = "", path[4096];
	snprintf(need, sizeof(need), "%s", p->need);
	for (char *w = strtok(need, " "); w; w = strtok(NULL, " "))
		if (!validate_program_path(w, true, path, sizeof(path)))
			snprintf(miss, sizeof(miss), "%s", w);
	if (miss[0]) {
		snprintf(why, whyn, "%s is not installed", miss);
		return -1;
	}
	snprintf(wdir, wn, "%s/%s", dir, p->name);
	mkdir(wdir, 0777);
	char *sargv[] = { "sh", "-ec", (char *)p->setup, NULL };
	int st = run_in(wdir, sargv, NULL, NULL);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(why, whyn, "making its inputs failed (status %d)", st);
		return -1;
	}
	validate_program_path(p->argv[0], true, p0, p0n);
	pargv[0] = p0;
	int k = 1;
	for (; p->argv[k] && k < 8; k++)
		pargv[k] = (char *)p->argv[k];
	pargv[k] = NULL;
	return 0;
}

/* One program: capture, measure warm and cold, replay; rows appended. */
static void one_program(struct prows *rs, const struct vl_config *cfg, const char *name,
			char *const argv[], const char *dir, unsigned repeat, bool cold_too)
{
	char trace[4200], log[4200], resident[4200], ra[32];
	snprintf(trace, sizeof(trace), "%s/%s.vmt", dir, name);
	snprintf(resident, sizeof(resident), "%s/%s.resident", dir, name);
	snprintf(ra, sizeof(ra), "%u", validate_readahead(argv[0]));
	snprintf(log, sizeof(log), "%s/%s.capture.log", dir, name);
	char why_cap[300] = "";
	validate_capture(trace, log, argv, NULL, why_cap, sizeof(why_cap));
	for (int pass = 0; pass < (cold_too ? 2 : 1); pass++) {
		bool cold = pass == 1;
		char wl[96];
		snprintf(wl, sizeof(wl), "%s%s", name, cold ? "/cold" : "");
		struct native nat;
		memset(&nat, 0, sizeof(nat));
		const uint64_t *med = nat.med;
		char why_meas[300] = "", why_sim[300] = "", res_run[4300], note[200] = "";
		if (why_cap[0]) {
			snprintf(why_meas, sizeof(why_meas), "not run");
		} else {
			struct vl_error e0 = { 0 };
			int own = vl_trace_nprocs(trace, &e0);
			measure(".", argv, repeat, trace, cold, resident, own > 0 ? (unsigned)own : 0,
				&nat, why_meas, sizeof(why_meas));
		}
		if (nat.disturbed)
			snprintf(note, sizeof(note),
				 "%u of %u cold runs had other programs start during them (%u more "
				 "run again): what they read back into the page cache is not the "
				 "program's",
				 nat.disturbed, nat.runs, nat.discarded);
		resident_name(res_run, sizeof(res_run), resident, nat.median_run);
		struct vl_prog_sim sim;
		struct vl_error err = { 0 };
		struct vl_config *c = vl_config_dup(cfg);
		/* cold: the pages still cached after the drop, and the
		 * device's read-ahead for the mmap read-around */
		if (why_cap[0])
			snprintf(why_sim, sizeof(why_sim), "%s", why_cap);
		else if (!c || vl_config_set(c, "pagecache.warm", cold ? "none" : "all", "validate",
					     &err) < 0 ||
			 (strcmp(ra, "0") &&
			  vl_config_set(c, "file.readaround", ra, "validate", &err) < 0) ||
			 (cold && !why_meas[0] &&
			  vl_config_set(c, "pagecache.resident", res_run, "validate", &err) < 0) ||
			 vl_validate_replay(c, trace, 0, &sim, &err) < 0)
			snprintf(why_sim, sizeof(why_sim), "replay: %s", err.msg);
		vl_config_free(c);
		for (int e = 0; e < 3; e++) {
			struct prow *r = add_row(rs, wl, e);
			if (!r)
				return;
			r->compared = true;
			if (!why_meas[0])
				r->meas = med[e], r->have_meas = true, r->runs = nat.runs,
				r->disturbed = nat.disturbed, r->discarded = nat.discarded;
			if (!why_sim[0]) {
				r->sim = e == 0 ? sim.page_faults : e == 1 ? sim.minor_faults
									    : sim.major_faults;
				r->have_sim = true;
			}
			snprintf(r->why, sizeof(r->why), "%s%s%s", why_meas,
				 why_meas[0] && why_sim[0] ? "; " : "", why_sim);
			if (!r->why[0])
				snprintf(r->why, sizeof(r->why), "%s", note);
		}
		if (why_sim[0])
			continue;
		for (size_t p = 0; p < sim.nprocs && p < VL_PROG_MAX_PROCS; p++)
			for (int e = 0; e < 3; e++) {
				char pw[96];
				snprintf(pw, sizeof(pw), "%s/%u:%.24s", wl, sim.procs[p].pid,
					 sim.procs[p].name);
				struct prow *r = add_row(rs, pw, e);
				if (!r)
					return;
				r->sim = e == 0 ? sim.procs[p].page_faults
					 : e == 1 ? sim.procs[p].minor_faults
						  : sim.procs[p].major_faults;
				r->have_sim = true;
				snprintf(r->why, sizeof(r->why),
					 "per process: Linux counts the program as a whole (its total row)");
			}
	}
}

int validate_programs(const struct vl_config *cfg, char **argv, unsigned repeat, bool json,
		      const char *keep, bool cold_too, const char *only)
{
	if (repeat > MAXRUNS)
		repeat = MAXRUNS;
	char path[4096];
	if (argv && !validate_program_path(argv[0], false, path, sizeof(path))) {
		cli_error("validate: %s: no such program (or not executable)", argv[0]);
		return EXIT_INPUT;
	}
	size_t matched = 0;
	for (size_t i = 0; i < vl_nprograms; i++)
		matched += validate_only(only, vl_programs[i].name);
	if (!argv && !matched) {
		cli_error("validate: --only %s: no such program of --programs", only);
		return EXIT_USAGE;
	}
	char tmpl[] = "/tmp/vmlab-programs-XXXXXX";
	char dir[4096];
	if (keep) {
		if (mkdir(keep, 0777) < 0 && errno != EEXIST) {
			cli_error("--keep %s: %s", keep, strerror(errno));
			return EXIT_INPUT;
		}
		if (!realpath(keep, dir)) {
			cli_error("--keep %s: %s", keep, strerror(errno));
			return EXIT_INPUT;
		}
	} else if (!mkdtemp(tmpl)) {
		cli_error("cannot make a temporary directory: %s", strerror(errno));
		return EXIT_INPUT;
	} else {
		snprintf(dir, sizeof(dir), "%s", tmpl);
	}
	struct prows rs = { 0 };
	char skipped[2048] = "";
	if (argv) { /* one program, in the current directory */
		char name[64], tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s", argv[0]);
		snprintf(name, sizeof(name), "%s", basename(tmp));
		for (char *q = name; *q; q++)
			if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
			      (*q >= '0' && *q <= '9') || *q == '.' || *q == '_' || *q == '-'))
				*q = '_';
		one_program(&rs, cfg, name, argv, dir, repeat, cold_too);
	} else {
		for (size_t i = 0; i < vl_nprograms; i++) {
			const struct vl_program *p = &vl_programs[i];
			if (!validate_only(only, p->name))
				continue;
			char wdir[4200], why[200], *pargv[9];
			static char p0[4096];
			if (validate_program_prepare(p, dir, wdir, sizeof(wdir), p0, sizeof(p0), pargv,
						     why, sizeof(why)) < 0) {
				size_t l = strlen(skipped);
				snprintf(skipped + l, sizeof(skipped) - l, "  %s: %s\n", p->name, why);
				continue;
			}
			char cwd[4096];
			if (!getcwd(cwd, sizeof(cwd)) || chdir(wdir) < 0)
				continue;
			char tdir[4200];
			snprintf(tdir, sizeof(tdir), "%s", wdir);
			one_program(&rs, cfg, p->name, pargv, tdir, repeat, cold_too);
			if (chdir(cwd) < 0)
				break;
		}
	}
	if (!keep) {
		char *rm[] = { "rm", "-rf", dir, NULL };
		run_in(NULL, rm, NULL, NULL);
	}

	int failed = 0;
	if (json) {
		struct vl_json j;
		vl_json_init(&j, stdout);
		vl_json_arr(&j);
		for (size_t i = 0; i < rs.n; i++) {
			const struct prow *r = &rs.r[i];
			validate_json_row(&j, r->workload, ev_names[r->event], r->have_meas, r->meas,
					  r->have_sim, r->sim);
			/* the native runs behind meas (null without it) */
			const char *rk[3] = { "runs", "disturbed", "discarded" };
			const unsigned rv[3] = { r->runs, r->disturbed, r->discarded };
			for (int q = 0; q < 3; q++) {
				vl_json_key(&j, rk[q]);
				if (r->have_meas)
					vl_json_u64(&j, rv[q]);
				else
					vl_json_null(&j);
			}
			vl_json_key(&j, "bound");
			if (r->compared)
				vl_json_f64(&j, bound_of(r->event));
			else
				vl_json_null(&j);
			vl_json_key(&j, "why");
			vl_json_str(&j, r->why[0] ? r->why : NULL);
			vl_json_key(&j, "pass");
			int v = verdict(r);
			if (v < 0)
				vl_json_null(&j);
			else
				vl_json_bool(&j, v == 1);
			vl_json_end(&j);
			failed += r->compared && v != 1;
		}
		vl_json_end(&j);
		fputc('\n', stdout);
	} else {
		printf("vmlab validate: whole programs, linux personality on this host, median of at "
		       "least %u native runs (short programs: until %g s or %u runs); warm: page "
		       "cache warm (pagecache.warm = all), cold: the program's files dropped (none)\n\n",
		       repeat, QUICK_S, QUICK_RUNS);
		printf("%-34s %-13s %10s %10s %9s  %s\n", "program", "event", "measured", "simulated",
		       "rel.err", "result");
		for (size_t i = 0; i < rs.n; i++) {
			const struct prow *r = &rs.r[i];
			char m[32] = "-", s[32] = "-", e[32] = "-", res[360];
			if (r->have_meas)
				snprintf(m, sizeof(m), "%llu", (unsigned long long)r->meas);
			if (r->have_sim)
				snprintf(s, sizeof(s), "%llu", (unsigned long long)r->sim);
			if (r->have_meas && r->have_sim)
				snprintf(e, sizeof(e), "%+.2f%%", 100 * vl_validate_rel_error(r->meas, r->sim));
			int v = verdict(r);
			if (v == 1)
				snprintf(res, sizeof(res), "ok (within %g%%)", 100 * bound_of(r->event));
			else if (v == 0)
				snprintf(res, sizeof(res), "FAIL (bound %g%%)%s%s", 100 * bound_of(r->event),
					 r->why[0] ? ": " : "", r->why);
			else if (r->compared)
				snprintf(res, sizeof(res), "%s", r->why);
			else
				snprintf(res, sizeof(res), "model only, per process");
			printf("%-34s %-13s %10s %10s %9s  %s\n", r->workload, ev_names[r->event], m, s, e,
			       res);
			failed += r->compared && v != 1;
		}
		if (skipped[0])
			printf("\nprograms not run:\n%s", skipped);
		printf("\n%d row%s outside the bound (2%% total, 5%% minor and major) or not compared\n",
		       failed, failed == 1 ? "" : "s");
	}
	free(rs.r);
	return failed ? EXIT_INPUT : 0;
}
