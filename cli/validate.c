/* cli/validate.c - `vmlab validate`: run workloads natively under the
 * counters, capture their traces with valgrind lackey, simulate them with
 * the linux personality on this host's configuration, and compare.
 *
 * Per workload:
 *   1. native: run it N times with VMLAB_ROI_EVENTS (the perf_event
 *      encodings of the events that opened here) and VMLAB_ROI_OUT; the
 *      workload counts its own region (bench/validate/roi.h); median per
 *      event;
 *   2. capture: valgrind --tool=lackey --trace-mem=yes, the workload's
 *      mapping and region markers inline (VALGRIND_PRINTF);
 *   3. convert to an addr trace (analysis/validate.c) and simulate.
 * Rows that cannot be measured (no PMU, unknown event, no valgrind) or
 * simulated (no TLB model in this build) say why; they are never zeros.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/host.h"
#include "analysis/json.h"
#include "analysis/pfm.h"
#include "analysis/validate.h"
#include "cli/cli.h"
#include "cli/validate_programs.h"
#include "analysis/validate_programs.h"
#include "vmlab/results.h"

#define FAULT_BOUND 0.01
#define TLB_BOUND 0.10
#define MAX_WORKLOADS 64

/* The events compared, in row order: config key suffix. */
static const char *const event_keys[] = {
	"page_faults", "minor_faults", "major_faults", "instructions", "dtlb_l2_hits",
	"dtlb_walks",  "itlb_l2_hits", "itlb_walks",   "walk_cycles",
};
#define NEVENTS (sizeof(event_keys) / sizeof(event_keys[0]))

struct evinfo {
	char name[160];     /* libpfm4 name, "" if none for this CPU */
	char why[300];      /* why it is not measured, "" if it is */
	const char *brief;  /* the same in a few words, for the table */
	int slot;           /* index in VMLAB_ROI_EVENTS, -1 if not passed */
};

struct row {
	bool have_meas, have_sim;
	uint64_t meas, sim;
	char why[300];      /* full reasons (JSON) */
	char brief[120];    /* short reasons (table) */
};

static void add_brief(struct row *r, const char *side, const char *b)
{
	size_t l = strlen(r->brief);
	snprintf(r->brief + l, sizeof(r->brief) - l, "%snot %s: %s", l ? "; " : "", side, b);
}

struct workload {
	char name[64];
	char desc[160];
	char *argv[64];
	struct row rows[NEVENTS];
};

static void validate_usage(FILE *f)
{
	fprintf(f,
		"usage: vmlab validate [--suite | --programs | -- PROGRAM [ARGS...]] [-r N] [--json]\n"
		"                      [-c CONFIG]... [-s KEY=VALUE]... [--size MIB] [--keep DIR]\n"
		"                      [--plugin LIB.so]...\n"
		"\n"
		"Compare what Linux counts for a workload's region of interest with what the\n"
		"model counts for its captured trace (linux personality, this host's config).\n"
		"\n"
		"  --suite            the workloads of bench/validate (vmlab-workloads --list)\n"
		"  -- PROGRAM ARGS    one program: over its region of interest when built with\n"
		"                     bench/validate/roi.h, else whole, warm and cold\n"
		"  --programs         eight unmodified Debian programs, whole, warm and cold\n"
		"                     (docs/validation.md, \"Unmodified programs\")\n"
		"      --warm-only    whole programs: skip the cold runs\n"
		"      --only LIST    only these workloads of --suite or --programs (comma list)\n"
		"  -r, --repeat N     native runs per workload; the median is reported (5);\n"
		"                     whole programs: short ones run until 1 s or 25 runs\n"
		"      --size MIB     working-set size given to the suite workloads (8)\n"
		"      --json         print the rows as a JSON list\n"
		"  -o, --output FILE  also write /validation/<workload> to an HDF5 results file\n"
		"                     (appended to when it exists; docs/results.md)\n"
		"      --machine NAME TLB geometry of machine preset NAME instead of this host's\n"
		"  -c, -s             more configuration over linux + host + machine events\n"
		"      --plugin LIB.so  load policy plug-ins (repeatable), so -s may choose theirs\n"
		"      --keep DIR     keep the captured lackey logs and addr traces in DIR\n"
		"      --limit SIZE   under memory pressure: in a memory cgroup limited to SIZE,\n"
		"                     with swap (`vmlab validate --limit 48M --help`)\n"
		"\n"
		"Page-fault rows must be within 1%% (exit 1 otherwise); TLB rows, where a PMU\n"
		"counts them and the build models TLBs, are reported against 10%%.  Whole\n"
		"programs: total page faults within 2%%, minor and major within 5%%.\n");
}

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	if (!path)
		return false;
	char buf[4096];
	for (const char *p = path; *p;) {
		size_t l = strcspn(p, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)l, p, prog);
		if (access(buf, X_OK) == 0)
			return true;
		p += l + (p[l] == ':');
	}
	return false;
}

/* Run argv with extra environment, stdout to /dev/null; returns the wait
 * status or -1 (errno) when it could not be started. */
static int run_prog(char *const argv[], const char *env_events, const char *env_out,
		    const char *quiet_path)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (env_events)
			setenv("VMLAB_ROI_EVENTS", env_events, 1);
		else
			unsetenv("VMLAB_ROI_EVENTS");
		if (env_out)
			setenv("VMLAB_ROI_OUT", env_out, 1);
		else
			unsetenv("VMLAB_ROI_OUT");
		if (quiet_path && !freopen(quiet_path, "w", stdout))
			_exit(126);
		execvp(argv[0], argv);
		fprintf(stderr, "vmlab: cannot execute %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

/* Resolve the configured event names; fill VMLAB_ROI_EVENTS. */
static void resolve_events(const struct vl_config *cfg, struct evinfo *ev, char *env, size_t envn)
{
	int slot = 0;
	env[0] = 0;
	for (size_t i = 0; i < NEVENTS; i++) {
		char key[64];
		snprintf(key, sizeof(key), "events.%s", event_keys[i]);
		snprintf(ev[i].name, sizeof(ev[i].name), "%s", vl_config_str(cfg, key));
		ev[i].slot = -1;
		ev[i].why[0] = 0;
		ev[i].brief = NULL;
		if (!ev[i].name[0]) {
			/* without a PMU no name would help: say that first */
			bool pmu = vl_pfm_have_core_pmu();
			ev[i].brief = pmu ? "no event for this CPU" : "no hardware PMU";
			snprintf(ev[i].why, sizeof(ev[i].why), "%sno event named for this CPU (%s is empty)",
				 pmu ? "" : VL_PFM_NO_PMU ", and ",
				 key);
			continue;
		}
		struct vl_pfm_set s;
		struct vl_error err = { 0 };
		if (vl_pfm_parse(&s, ev[i].name, &err) < 0) {
			snprintf(ev[i].why, sizeof(ev[i].why), "%s: %s", key, err.msg);
			ev[i].brief = "bad event name";
			continue;
		}
		if (vl_pfm_open(&s, 0, false, &err) < 0) {
			snprintf(ev[i].why, sizeof(ev[i].why), "%s", err.msg);
			ev[i].brief = "libpfm4 failed";
		} else if (s.ev[0].state != VL_PFM_OPEN) {
			snprintf(ev[i].why, sizeof(ev[i].why), "%s: %s", ev[i].name, s.ev[0].why);
			ev[i].brief = s.ev[0].state == VL_PFM_UNSUPPORTED && !vl_pfm_have_core_pmu()
					      ? "no hardware PMU"
					      : vl_pfm_state_name(s.ev[0].state);
		} else {
			struct vl_pfm_event *e = &s.ev[0];
			size_t used = strlen(env);
			snprintf(env + used, envn - used, "%s%x:%llx:%llx:%llx:%x:%x", slot ? ";" : "",
				 e->type, (unsigned long long)e->config,
				 (unsigned long long)e->config1, (unsigned long long)e->config2,
				 e->exclude_user, e->exclude_kernel);
			ev[i].slot = slot++;
		}
		vl_pfm_free(&s);
	}
}

/* Native runs: median per event into w->rows. */
static void measure(struct workload *w, const struct evinfo *ev, const char *env,
		    unsigned repeat, const char *tmpdir)
{
	uint64_t vals[NEVENTS][101];
	unsigned got[NEVENTS] = { 0 };
	char why_run[300] = "";
	char out[4200];
	snprintf(out, sizeof(out), "%s/roi.out", tmpdir);
	for (unsigned r = 0; r < repeat; r++) {
		unlink(out);
		int st = run_prog(w->argv, env, out, "/dev/null");
		if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			snprintf(why_run, sizeof(why_run), "the native run failed (%s %d)",
				 st < 0 ? "errno" : WIFEXITED(st) ? "exit status" : "signal",
				 st < 0 ? errno : WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			break;
		}
		FILE *f = fopen(out, "r");
		if (!f) {
			snprintf(why_run, sizeof(why_run),
				 "the program wrote no counts (does it use bench/validate/roi.h?)");
			break;
		}
		char line[256];
		while (fgets(line, sizeof(line), f)) {
			int slot;
			unsigned long long v, en, run;
			int e2;
			for (size_t i = 0; i < NEVENTS; i++) {
				if (ev[i].slot < 0)
					continue;
				if (sscanf(line, "%d %llu %llu %llu", &slot, &v, &en, &run) == 4 &&
				    slot == ev[i].slot) {
					if (run && run != en)
						v = (unsigned long long)((double)v * (double)en / (double)run + 0.5);
					vals[i][got[i]++] = v;
				} else if (sscanf(line, "%d error %d", &slot, &e2) == 2 &&
					   slot == ev[i].slot) {
					snprintf(w->rows[i].why, sizeof(w->rows[i].why),
						 "the workload could not open it: %s", strerror(e2));
				}
			}
		}
		fclose(f);
	}
	for (size_t i = 0; i < NEVENTS; i++) {
		struct row *rw = &w->rows[i];
		if (ev[i].slot < 0) {
			snprintf(rw->why, sizeof(rw->why), "not measured: %s", ev[i].why);
			add_brief(rw, "measured", ev[i].brief);
		} else if (why_run[0]) {
			snprintf(rw->why, sizeof(rw->why), "not measured: %s", why_run);
			add_brief(rw, "measured", "native run failed");
		} else if (got[i] == repeat) {
			qsort(vals[i], got[i], sizeof(uint64_t), cli_cmp_u64);
			rw->meas = vals[i][got[i] / 2];
			rw->have_meas = true;
		} else {
			if (!rw->why[0])
				snprintf(rw->why, sizeof(rw->why), "not measured: counted in %u of %u runs",
					 got[i], repeat);
			add_brief(rw, "measured", "counter failed in the workload");
		}
	}
}

/* Capture and simulate: fills the simulated side of w->rows. */
static void simulate(struct workload *w, const struct vl_config *cfg, const char *dir,
		     const char *tlb_why)
{
	char why[300] = "";
	char log[4200], trace[4200];
	snprintf(log, sizeof(log), "%s/%s.lackey", dir, w->name);
	snprintf(trace, sizeof(trace), "%s/%s.addr", dir, w->name);
	struct vl_roi_sim sim;
	if (!in_path("valgrind")) {
		snprintf(why, sizeof(why),
			 "not simulated: valgrind (the capture back end) is not installed");
	} else {
		char logopt[4300];
		snprintf(logopt, sizeof(logopt), "--log-file=%s", log);
		char *argv[80] = { "valgrind", "--tool=lackey", "--trace-mem=yes", logopt };
		int n = 4;
		for (int i = 0; w->argv[i] && n < 79; i++)
			argv[n++] = w->argv[i];
		argv[n] = NULL;
		int st = run_prog(argv, NULL, NULL, "/dev/null");
		struct vl_error err = { 0 };
		if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			snprintf(why, sizeof(why), "not simulated: the captured run failed (see %s)",
				 log);
		} else if (vl_validate_convert(log, trace, NULL, &err) < 0 ||
			   vl_validate_simulate(cfg, trace, &sim, &err) < 0) {
			snprintf(why, sizeof(why), "not simulated: %s", err.msg);
		}
	}
	for (size_t i = 0; i < NEVENTS; i++) {
		struct row *rw = &w->rows[i];
		const char *sim_why = NULL, *brief = NULL;
		if (why[0])
			sim_why = why, brief = "capture or replay failed";
		else if (i == 0)
			rw->sim = sim.page_faults, rw->have_sim = true;
		else if (i == 1)
			rw->sim = sim.minor_faults, rw->have_sim = true;
		else if (i == 2)
			rw->sim = sim.major_faults, rw->have_sim = true;
		else if (i == 3)
			sim_why = "not simulated: the model replays memory accesses, not instructions",
			brief = "instructions not modelled";
		else if ((i == 4 || i == 5) && tlb_why[0])
			sim_why = tlb_why, brief = "host TLB geometry refused";
		else if ((i == 4 && vl_roi_sim_sum(&sim, "tlb_l2d*_hits", &rw->sim)) ||
			 (i == 5 && vl_roi_sim_sum(&sim, "walks", &rw->sim)))
			rw->have_sim = true; /* the TLB model of the build (issue 3) */
		else if (i == 6 || i == 7)
			sim_why = "not simulated: the captured trace keeps data accesses only "
				  "(instruction fetches are dropped)",
			brief = "trace has no instruction fetches";
		else if (i == 8)
			sim_why = "not simulated: the model counts page-walk references, not cycles",
			brief = "walk cycles not modelled";
		else
			sim_why = "not simulated: this build has no TLB model (issue 3)",
			brief = "no TLB model in this build";
		if (sim_why) {
			add_brief(rw, "simulated", brief);
			size_t l = strlen(rw->why);
			snprintf(rw->why + l, sizeof(rw->why) - l, "%s%s", l ? "; " : "", sim_why);
		}
	}
}

static bool is_fault_row(size_t i)
{
	return i < 3;
}

/* 1 pass, 0 fail, -1 no verdict (a side missing). */
static int verdict(const struct row *r, size_t i)
{
	if (!r->have_meas || !r->have_sim)
		return -1;
	double e = fabs(vl_validate_rel_error(r->meas, r->sim));
	return e <= (is_fault_row(i) ? FAULT_BOUND : TLB_BOUND) + 1e-12;
}

/* The workload program (env when set and not empty, else prog beside this
 * executable, its path in wbin) run with --list: its output to pclose, or
 * NULL when it cannot be run. */
FILE *validate_list(const char *env, const char *prog, char *wbin, size_t n)
{
	if (env && *env)
		snprintf(wbin, n, "%s", env);
	else
		cli_sibling(prog, wbin, n);
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "'%s' --list", wbin);
	return access(wbin, X_OK) == 0 ? popen(cmd, "r") : NULL;
}

/* Open the JSON object of one row: workload, event, measured, simulated
 * and rel_error (null where a side is missing); the caller adds its keys
 * and closes it. */
void validate_json_row(struct vl_json *j, const char *workload, const char *event,
		       bool have_meas, uint64_t meas, bool have_sim, uint64_t sim)
{
	vl_json_obj(j);
	vl_json_key(j, "workload");
	vl_json_str(j, workload);
	vl_json_key(j, "event");
	vl_json_str(j, event);
	vl_json_key(j, "measured");
	if (have_meas)
		vl_json_u64(j, meas);
	else
		vl_json_null(j);
	vl_json_key(j, "simulated");
	if (have_sim)
		vl_json_u64(j, sim);
	else
		vl_json_null(j);
	vl_json_key(j, "rel_error");
	if (have_meas && have_sim)
		vl_json_f64(j, vl_validate_rel_error(meas, sim));
	else
		vl_json_null(j);
}

/* The configuration of a validation run: linux < this host (with_tlb: its
 * TLB geometry as keys, where the build declares them) < the machine
 * preset's [events] < key = val (when key is given: validate --limit's
 * memory limit) < -c < -s; warn prints its warnings (once per command: the
 * configuration is built more than once).  Returns 0 or the exit status
 * after printing the error. */
int validate_cfg(struct vl_config **out, const struct vl_host *host, bool with_tlb,
		 const char *key, const char *val, const struct cli_cfg *cc, bool warn)
{
	struct vl_error err = { 0 };
	struct vl_config *cfg;
	/* TLBs: --machine NAME when given; else this host's CPUID geometry
	 * alone (over the empty "none" machine), or none when the model
	 * refuses it */
	struct cli_cfg base = { .os = "linux", .machine = cc->machine ? cc->machine : "none" };
	int rc = cli_load_plugins(cc); /* --plugin: before any configuration */
	if (rc)
		return rc;
	rc = cli_cfg_build(&base, &cfg);
	if (rc)
		return rc;
	char *ini = vl_host_ini(host, with_tlb && !cc->machine ? cfg : NULL);
	if (!ini || vl_config_load_string(cfg, ini, "vmlab host", &err) < 0) {
		cli_error("host configuration: %s", ini ? err.msg : "out of memory");
		free(ini);
		vl_config_free(cfg);
		return EXIT_INPUT;
	}
	free(ini);
	char pbuf[64];
	const char *preset = vl_host_machine_preset(host->pmu, pbuf, sizeof(pbuf));
	if (preset && vl_config_load_preset(cfg, "machines", preset, &err) < 0) {
		cli_error("machine preset %s: %s", preset, err.msg);
		vl_config_free(cfg);
		return EXIT_INPUT;
	}
	if (key && vl_config_set(cfg, key, val, "validate", &err) < 0) {
		cli_error("%s: %s", key, err.msg);
		vl_config_free(cfg);
		return EXIT_USAGE;
	}
	for (int i = 0; i < cc->nfiles; i++)
		if (vl_config_load_file(cfg, cc->files[i], &err) < 0) {
			cli_error("%s", err.msg);
			vl_config_free(cfg);
			return EXIT_INPUT;
		}
	for (int i = 0; i < cc->nsets; i++)
		if (vl_config_set_arg(cfg, cc->sets[i], &err) < 0) {
			cli_error("%s", err.msg);
			vl_config_free(cfg);
			return EXIT_USAGE;
		}
	if (warn)
		cli_config_warnings(cfg);
	*out = cfg;
	return 0;
}

int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "suite", no_argument, NULL, 'S' },    { "repeat", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'J' },     { "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' }, { "size", required_argument, NULL, 'z' },
		{ "keep", required_argument, NULL, 'k' }, { "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ "machine", required_argument, NULL, OPT_MACHINE },
		{ "plugin", required_argument, NULL, OPT_PLUGIN },
		{ "programs", no_argument, NULL, 'P' }, { "warm-only", no_argument, NULL, 'W' },
		{ "limit", required_argument, NULL, 'L' }, { "only", required_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_cfg cc = { .os = "linux" };
	bool suite = false, json = false, programs = false, warm_only = false;
	uint64_t repeat = 5, size = 8;
	const char *keep = NULL, *outpath = NULL, *only = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+r:c:s:o:h", opts, NULL)) != -1) {
		int r = cli_cfg_option(&cc, c, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r)
			continue;
		switch (c) {
		case 'S': suite = true; break;
		case 'P': programs = true; break;
		case 'W': warm_only = true; break;
		case 'J': json = true; break;
		case 'k': keep = optarg; break;
		case 'o': outpath = optarg; break;
		case 'O': only = optarg; break;
		case 'r':
			if (vl_parse_u64(optarg, &repeat) < 0 || repeat == 0 || repeat > 101) {
				cli_error("-r: expected a count from 1 to 101, found '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'z':
			if (vl_parse_u64(optarg, &size) < 0 || size == 0 || size > 4096) {
				cli_error("--size: expected MiB from 1 to 4096, found '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': validate_usage(stdout); return 0;
		case 'L': return cmd_validate_limit(argc, argv); /* cli/validate_limit.c */
		default:
			cli_error("validate: unknown option '%s' (try `vmlab validate --help`)",
				  argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (suite + programs + (optind < argc) != 1) {
		cli_error("validate: give --suite, --programs or -- PROGRAM [ARGS] (one of them)");
		return EXIT_USAGE;
	}
	if (only && !suite && !programs) {
		cli_error("validate: --only picks workloads of --suite or --programs");
		return EXIT_USAGE;
	}

	/* configuration: linux < host < machine [events] < -c < -s.  When
	 * the build models TLBs and the engine refuses this host's CPUID
	 * geometry, the TLB keys are left out and the TLB rows say why. */
	struct vl_host host;
	vl_host_detect(&host);
	struct vl_config *cfg;
	char tlb_why[400] = "";
	int rc = validate_cfg(&cfg, &host, true, NULL, NULL, &cc, true);
	if (rc)
		return rc;
	if (!cc.machine && vl_config_declares(cfg, "tlb.l1d.entries")) {
		struct vl_engine *probe = NULL;
		struct vl_error perr = { 0 };
		struct vl_config *small = vl_config_dup(cfg);
		if (!small || vl_config_set(small, "memory.frames", "1024", "probe", &perr) < 0 ||
		    vl_engine_new(&probe, small, &perr) < 0) {
			vl_config_free(small);
			snprintf(tlb_why, sizeof(tlb_why),
				 "not simulated: the model refused this host's TLB geometry (%s)",
				 perr.msg);
			vl_config_free(cfg);
			if ((rc = validate_cfg(&cfg, &host, false, NULL, NULL, &cc, false)))
				return rc;
		} else {
			vl_engine_free(probe);
			vl_config_free(small);
		}
	}
	struct vl_error err = { 0 };
	/* whole programs: --programs, or a program without roi.h's markers
	 * (cli/validate_programs.c) */
	char ppath[4096];
	if (programs || (!suite && !(validate_program_path(argv[optind], false, ppath, sizeof(ppath)) &&
				     vl_program_has_roi(ppath)))) {
		rc = validate_programs(cfg, programs ? NULL : argv + optind, (unsigned)repeat, json,
				       keep, !warm_only, only);
		vl_config_free(cfg);
		return rc;
	}

	/* workloads */
	static struct workload wl[MAX_WORKLOADS];
	size_t nw = 0;
	static char sizebuf[32];
	snprintf(sizebuf, sizeof(sizebuf), "%llu", (unsigned long long)size);
	static char wbin[4096];
	if (suite) {
		FILE *p = validate_list(getenv("VMLAB_WORKLOADS"), "vmlab-workloads", wbin,
					sizeof(wbin));
		if (!p) {
			cli_error("validate: cannot run the suite's workloads %s (build them with make, "
				  "or set VMLAB_WORKLOADS)",
				  wbin);
			vl_config_free(cfg);
			return EXIT_INPUT;
		}
		char line[256];
		while (nw < MAX_WORKLOADS && fgets(line, sizeof(line), p)) {
			struct workload *w = &wl[nw];
			int used = 0;
			if (sscanf(line, "%63s %n", w->name, &used) != 1 || !validate_only(only, w->name))
				continue;
			snprintf(w->desc, sizeof(w->desc), "%s", line + used);
			w->desc[strcspn(w->desc, "\n")] = 0;
			w->argv[0] = wbin;
			w->argv[1] = w->name;
			w->argv[2] = sizebuf;
			w->argv[3] = NULL;
			nw++;
		}
		int pc = pclose(p);
		if (pc != 0 || nw == 0) {
			if (pc == 0 && only)
				cli_error("validate: --only %s: no such workload (%s --list)", only, wbin);
			else
				cli_error("validate: %s --list failed", wbin);
			vl_config_free(cfg);
			return pc == 0 && only ? EXIT_USAGE : EXIT_INPUT;
		}
	} else {
		struct workload *w = &wl[nw++];
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s", argv[optind]);
		snprintf(w->name, sizeof(w->name), "%s", basename(tmp));
		for (char *q = w->name; *q; q++) /* a valid /validation dataset name */
			if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
			      (*q >= '0' && *q <= '9') || *q == '.' || *q == '_' || *q == '-'))
				*q = '_';
		snprintf(w->desc, sizeof(w->desc), "%s (a program using bench/validate/roi.h)",
			 argv[optind]);
		int k = 0;
		for (int i = optind; i < argc && k < 63; i++)
			w->argv[k++] = argv[i];
		w->argv[k] = NULL;
	}

	char tmpl[] = "/tmp/vmlab-validate-XXXXXX";
	const char *dir = keep;
	if (keep) {
		if (mkdir(keep, 0777) < 0 && errno != EEXIST) {
			cli_error("--keep %s: %s", keep, strerror(errno));
			vl_config_free(cfg);
			return EXIT_INPUT;
		}
	} else if (!(dir = mkdtemp(tmpl))) {
		cli_error("cannot make a temporary directory: %s", strerror(errno));
		vl_config_free(cfg);
		return EXIT_INPUT;
	}

	struct evinfo ev[NEVENTS];
	char env[2048];
	resolve_events(cfg, ev, env, sizeof(env));
	for (size_t k = 0; k < nw; k++) {
		measure(&wl[k], ev, env, (unsigned)repeat, dir);
		simulate(&wl[k], cfg, dir, tlb_why);
	}
	if (!keep) { /* what measure() and simulate() left there */
		char f[4300];
		for (size_t k = 0; k < nw; k++) {
			snprintf(f, sizeof(f), "%s/%s.lackey", dir, wl[k].name);
			unlink(f);
			snprintf(f, sizeof(f), "%s/%s.addr", dir, wl[k].name);
			unlink(f);
		}
		snprintf(f, sizeof(f), "%s/roi.out", dir);
		unlink(f);
		if (rmdir(dir) != 0)
			cli_error("could not remove %s: %s", dir, strerror(errno));
	}

	int failed = 0, wrc = 0;
	if (outpath) {
		struct vl_h5 *h5;
		if (vl_h5_open(&h5, outpath, &err) < 0) {
			cli_error("%s", err.msg);
			wrc = EXIT_INPUT;
		} else {
			for (size_t k = 0; k < nw && wrc == 0; k++) {
				/* rows with at least one side; the others are named,
				 * with why, in the workload attribute */
				struct vl_h5_validation_row hr[NEVENTS];
				size_t nh = 0;
				char desc[4096];
				snprintf(desc, sizeof(desc), "%s", wl[k].desc);
				for (size_t i = 0; i < NEVENTS; i++) {
					const struct row *r = &wl[k].rows[i];
					if (!r->have_sim && !r->have_meas) {
						size_t l = strlen(desc);
						snprintf(desc + l, sizeof(desc) - l, "; %s: %s", event_keys[i],
							 r->brief);
						continue;
					}
					hr[nh++] = (struct vl_h5_validation_row){
						.event = ev[i].name[0] ? ev[i].name : event_keys[i],
						.simulated = r->have_sim ? (double)r->sim : NAN,
						.measured = r->have_meas ? (double)r->meas : NAN,
						.rel_error = r->have_sim && r->have_meas
								     ? vl_validate_rel_error(r->meas, r->sim)
								     : NAN,
						.why = r->why,
					};
				}
				if (vl_h5_validation(h5, wl[k].name, desc, hr, nh, &err) < 0)
					wrc = EXIT_INPUT;
			}
			if (wrc) {
				cli_error("%s", err.msg);
				vl_h5_abort(h5);
			} else if (vl_h5_commit(h5, &err) < 0) {
				cli_error("%s", err.msg);
				wrc = EXIT_INPUT;
			}
		}
	}
	if (json) {
		struct vl_json j;
		vl_json_init(&j, stdout);
		vl_json_arr(&j);
		for (size_t k = 0; k < nw; k++)
			for (size_t i = 0; i < NEVENTS; i++) {
				const struct row *r = &wl[k].rows[i];
				validate_json_row(&j, wl[k].name,
						  ev[i].name[0] ? ev[i].name : event_keys[i],
						  r->have_meas, r->meas, r->have_sim, r->sim);
				vl_json_key(&j, "why");
				vl_json_str(&j, r->why[0] ? r->why : NULL);
				vl_json_key(&j, "pass");
				int v = verdict(r, i);
				if (v < 0)
					vl_json_null(&j);
				else
					vl_json_bool(&j, v == 1);
				vl_json_end(&j);
				failed += is_fault_row(i) && v != 1;
			}
		vl_json_end(&j);
		fputc('\n', stdout);
	} else {
		printf("vmlab validate: linux personality on this host (%s%s), %llu native runs "
		       "per workload, median\n\n",
		       host.pmu[0] ? host.pmu : "no PMU model",
		       host.core_pmu ? "" : ", no hardware PMU", (unsigned long long)repeat);
		printf("%-13s %-14s %12s %12s %9s  %s\n", "workload", "event", "measured", "simulated",
		       "rel.err", "result");
		for (size_t k = 0; k < nw; k++)
			for (size_t i = 0; i < NEVENTS; i++) {
				const struct row *r = &wl[k].rows[i];
				char m[32] = "-", s[32] = "-", e[32] = "-";
				if (r->have_meas)
					snprintf(m, sizeof(m), "%llu", (unsigned long long)r->meas);
				if (r->have_sim)
					snprintf(s, sizeof(s), "%llu", (unsigned long long)r->sim);
				if (r->have_meas && r->have_sim)
					snprintf(e, sizeof(e), "%+.2f%%",
						 100 * vl_validate_rel_error(r->meas, r->sim));
				int v = verdict(r, i);
				char res[360];
				if (v == 1)
					snprintf(res, sizeof(res), "ok (within %g%%)",
						 100 * (is_fault_row(i) ? FAULT_BOUND : TLB_BOUND));
				else if (v == 0)
					snprintf(res, sizeof(res), "%s (bound %g%%)",
						 is_fault_row(i) ? "FAIL" : "off",
						 100 * (is_fault_row(i) ? FAULT_BOUND : TLB_BOUND));
				else
					snprintf(res, sizeof(res), "%s", r->brief);
				printf("%-13s %-14s %12s %12s %9s  %s\n", wl[k].name, event_keys[i], m, s, e,
				       res);
				failed += is_fault_row(i) && v != 1;
			}
		printf("\nwhy rows were not measured or not simulated:\n");
		for (size_t i = 0; i < NEVENTS; i++)
			if (ev[i].why[0])
				printf("  %s: %s\n", event_keys[i], ev[i].why);
		printf("  simulated side: instructions are not modelled; the captured trace keeps data "
		       "accesses only (no iTLB rows); walk cycles are not modelled\n");
		if (tlb_why[0])
			printf("  dTLB rows: %s\n", tlb_why);
		printf("\n%d page-fault row%s outside the 1%% bound or not compared\n", failed,
		       failed == 1 ? "" : "s");
	}
	vl_config_free(cfg);
	return failed || wrc ? EXIT_INPUT : 0;
}
