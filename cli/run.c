/* cli/run.c - `vmlab run`: replay one trace and report its counters. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis/json.h"
#include "cli/cli.h"
#include "vmlab/results.h"

static void run_usage(FILE *f)
{
	char machines[512];
	snprintf(machines, sizeof(machines), "%s", vl_config_presets("machines"));
	fprintf(f,
		"usage: vmlab run [-c CONFIG]... [-s KEY=VALUE]... [--machine NAME] [--os NAME]\n"
		"                 [--format FMT] [--plugin LIB.so]... [--json] [--check] [--roi]\n"
		"                 [--on-av=MODE] [-o RESULTS.h5 [--run-id ID]] TRACE\n"
		"\n"
		"Replay TRACE (a file, or - for stdin; gzip is read transparently) through the\n"
		"memory-manager model and print its counters.\n"
		"\n"
		"  -c, --config FILE   load an INI file (repeatable; later files win)\n"
		"  -s, --set KEY=VALUE set one key, e.g. -s memory.frames=1024,\n"
		"                      -s memory.size=64M, -s replacement.policy=clock\n"
		"      --machine NAME  TLB geometry of a machine preset (%s; default generic)\n"
		"      --os NAME       start from an OS preset (%s)\n"
		"  -f, --format FMT    trace format: auto (default) or one of `vmlab formats`\n"
		"      --json          print one JSON object on stdout\n"
		"      --check         check the model's invariants after every batch (slow)\n"
		"      --on-av=MODE    after an access violation: count (default) or\n"
		"                      stop-process (skip that process's later accesses)\n"
		"  -o, --output FILE   store the run in an HDF5 results file (appended when it\n"
		"                      exists; see docs/results.md); -s stats.interval=N adds\n"
		"                      a timeline row every N accesses\n"
		"      --run-id ID     name of the run in FILE (default run-NNNN, the next free)\n"
		"      --plugin LIB.so load policy plug-ins (repeatable; docs/writing-a-policy.md)\n"
		"      --roi           replay only the accesses inside region-of-interest\n"
		"                      markers (vmlab/roi.h; see vmlab capture)\n"
		"\n"
		"Layers: built-in defaults < --machine < --os preset < -c files < -s settings;\n"
		"a -c file with any [tlb.NAME] section replaces the machine's TLB hierarchy.\n"
		"Exit status: 0 ok, 1 bad input (trace, config file), 2 usage error.\n",
		machines, vl_config_presets("os"));
}

static void print_json(struct vl_engine *e, struct vl_trace *t, const struct vl_counters *c,
		       const struct vl_run_stats *st)
{
	struct vl_json j;
	vl_json_init(&j, stdout);
	vl_json_obj(&j);
	vl_json_key(&j, "vmlab");
	vl_json_str(&j, vl_version());
	vl_json_key(&j, "trace");
	vl_json_obj(&j);
	vl_json_key(&j, "path");
	vl_json_str(&j, vl_trace_path(t));
	vl_json_key(&j, "format");
	vl_json_str(&j, vl_trace_format(t));
	vl_json_key(&j, "records");
	vl_json_u64(&j, st->records);
	if (vl_trace_warning(t)) {
		vl_json_key(&j, "warning");
		vl_json_str(&j, vl_trace_warning(t));
	}
	vl_json_end(&j);
	vl_json_key(&j, "config");
	vl_json_obj(&j);
	const struct vl_config *cfg = vl_engine_config(e);
	const struct vl_key_def *d;
	for (size_t i = 0; (d = vl_config_key(cfg, i)); i++) {
		if (strchr(d->key, '*'))
			continue;
		vl_json_key(&j, d->key);
		vl_json_str(&j, vl_config_str(cfg, d->key));
	}
	/* values of wildcard keys (tlb.NAME.KEY): every key set that is not
	 * declared by that exact name */
	const char *vk;
	for (size_t i = 0; (vk = vl_config_value_key(cfg, i)); i++) {
		bool named = false;
		for (size_t k = 0; (d = vl_config_key(cfg, k)) && !named; k++)
			named = !strcmp(d->key, vk);
		if (named)
			continue;
		vl_json_key(&j, vk);
		vl_json_str(&j, vl_config_str(cfg, vk));
	}
	vl_json_end(&j);
	vl_json_key(&j, "counters");
	vl_json_obj(&j);
	size_t n = vl_engine_counter_list(e, NULL, NULL, 0);
	const char **names = calloc(n ? n : 1, sizeof(*names));
	uint64_t *values = calloc(n ? n : 1, sizeof(*values));
	if (names && values) {
		vl_engine_counter_list(e, names, values, n);
		for (size_t i = 0; i < n; i++) {
			vl_json_key(&j, names[i]);
			vl_json_u64(&j, values[i]);
		}
	}
	free(names);
	free(values);
	vl_json_end(&j);
	vl_json_key(&j, "processes");
	vl_json_arr(&j);
	for (size_t i = 0; i < vl_engine_nprocs(e); i++) {
		struct vl_proc_counters pc = { .size = sizeof(pc) };
		vl_engine_proc_counters(e, i, &pc);
		vl_json_obj(&j);
		vl_json_key(&j, "pid");
		vl_json_u64(&j, pc.pid);
		vl_json_key(&j, "accesses");
		vl_json_u64(&j, pc.accesses);
		vl_json_key(&j, "faults");
		vl_json_u64(&j, pc.faults);
		vl_json_key(&j, "faults_demand_zero");
		vl_json_u64(&j, pc.faults_demand_zero);
		vl_json_key(&j, "faults_soft");
		vl_json_u64(&j, pc.faults_soft);
		vl_json_key(&j, "faults_hard");
		vl_json_u64(&j, pc.faults_hard);
		vl_json_key(&j, "faults_cow");
		vl_json_u64(&j, pc.faults_cow);
		vl_json_key(&j, "access_violations");
		vl_json_u64(&j, pc.access_violations);
		vl_json_key(&j, "commit_pages");
		vl_json_u64(&j, pc.commit_pages);
		vl_json_key(&j, "evictions");
		vl_json_u64(&j, pc.evictions);
		vl_json_key(&j, "writebacks");
		vl_json_u64(&j, pc.writebacks);
		vl_json_key(&j, "resident_pages");
		vl_json_u64(&j, pc.resident_pages);
		static const char *const heap_names[] = { "heap_allocs", "heap_frees",
							  "heap_bytes_peak", "heap_committed_peak",
							  "heap_decommits", "heap_releases",
							  "heap_errors" };
		const uint64_t heap_vals[] = { pc.heap_allocs, pc.heap_frees, pc.heap_bytes_peak,
					       pc.heap_committed_peak, pc.heap_decommits,
					       pc.heap_releases, pc.heap_errors };
		for (size_t k = 0; k < sizeof(heap_vals) / sizeof(heap_vals[0]); k++) {
			vl_json_key(&j, heap_names[k]);
			vl_json_u64(&j, heap_vals[k]);
		}
		vl_json_end(&j);
	}
	vl_json_end(&j);
	vl_json_key(&j, "timing");
	vl_json_obj(&j);
	vl_json_key(&j, "prepass_seconds");
	vl_json_f64(&j, st->prepass_seconds);
	vl_json_key(&j, "decode_seconds");
	vl_json_f64(&j, st->decode_seconds);
	vl_json_key(&j, "sim_seconds");
	vl_json_f64(&j, st->sim_seconds);
	vl_json_key(&j, "wall_seconds");
	vl_json_f64(&j, st->wall_seconds);
	vl_json_end(&j);
	vl_json_end(&j);
}

static void print_text(struct vl_engine *e, struct vl_trace *t, const struct vl_counters *c,
		       const struct vl_run_stats *st)
{
	const struct vl_config *cfg = vl_engine_config(e);
	uint64_t frames = vl_config_isset(cfg, "memory.size")
				  ? vl_config_u64(cfg, "memory.size") / VL_PAGE_SIZE
				  : vl_config_u64(cfg, "memory.frames");
	printf("vmlab %s: %s (%s), %llu records\n", vl_version(), vl_trace_path(t),
	       vl_trace_format(t), (unsigned long long)st->records);
	printf("model: os %s, policy %s, %llu frames (%.1f MiB)",
	       vl_config_str(cfg, "os.personality"), vl_config_str(cfg, "replacement.policy"),
	       (unsigned long long)frames, (double)frames * VL_PAGE_SIZE / (1 << 20));
	uint64_t limit = vl_config_isset(cfg, "memory.limit")
				 ? vl_config_u64(cfg, "memory.limit") / VL_PAGE_SIZE
				 : frames;
	if (limit < frames) /* a memory cgroup's limit, below the machine's memory */
		printf(", memory.limit %llu frames (%.1f MiB)", (unsigned long long)limit,
		       (double)limit * VL_PAGE_SIZE / (1 << 20));
	printf("\n");
	printf("\n");
	size_t n = vl_engine_counter_list(e, NULL, NULL, 0);
	const char **names = calloc(n ? n : 1, sizeof(*names));
	uint64_t *values = calloc(n ? n : 1, sizeof(*values));
	if (names && values) {
		vl_engine_counter_list(e, names, values, n);
		for (size_t i = 0; i < n; i++)
			printf("  %-22s %15llu   %s\n", names[i], (unsigned long long)values[i],
			       vl_engine_counter_help(e, i));
	}
	free(names);
	free(values);
	printf("\n");
	if (c->accesses)
		printf("fault rate %.4f%% (%llu faults / %llu accesses)\n",
		       100.0 * (double)c->faults / (double)c->accesses, (unsigned long long)c->faults,
		       (unsigned long long)c->accesses);
	double rate = st->sim_seconds > 0 ? (double)c->accesses / st->sim_seconds / 1e6 : 0;
	printf("time: decode %.3f s, simulate %.3f s (%.1f M accesses/s)", st->decode_seconds,
	       st->sim_seconds, rate);
	if (st->prepass_seconds > 0)
		printf(", future pre-pass %.3f s", st->prepass_seconds);
	printf("\n");
}

/* ---- progress bar (stderr, only when it is a terminal) ---- */

struct progress {
	struct vl_trace *t;
	double t0;
	bool shown;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int show_progress(void *ctx, uint64_t records)
{
	struct progress *p = ctx;
	double el = mono() - p->t0;
	uint64_t done = 0, total = 0;
	vl_trace_bytes(p->t, &done, &total);
	char eta[32] = "";
	if (total && done && done <= total && el > 0) {
		double left = el * (double)(total - done) / (double)done;
		snprintf(eta, sizeof(eta), "%3.0f%%  ETA %d:%02d", 100.0 * (double)done / (double)total,
			 (int)(left / 60), (int)left % 60);
	}
	fprintf(stderr, "\r\033[K  %.1fM records  %.1f M/s  %s", (double)records / 1e6,
		el > 0 ? (double)records / el / 1e6 : 0.0, eta);
	fflush(stderr);
	p->shown = true;
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct cli_cfg cc = { 0 };
	const char *format = "auto";
	bool json = false, check = false, roi = false;
	const char *on_av = NULL;
	const char *output = NULL, *run_id = NULL;
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "run-id", required_argument, NULL, 'R' },
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "os", required_argument, NULL, OPT_OS },
		{ "machine", required_argument, NULL, OPT_MACHINE },
		{ "format", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'J' },
		{ "check", no_argument, NULL, 'K' },
		{ "on-av", required_argument, NULL, 'A' },
		{ "plugin", required_argument, NULL, OPT_PLUGIN },
		{ "roi", no_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:s:f:o:h", opts, NULL)) != -1) {
		int r = cli_cfg_option(&cc, c, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r)
			continue;
		switch (c) {
		case 'f': format = optarg; break;
		case 'J': json = true; break;
		case 'K': check = true; break;
		case 'A': on_av = optarg; break;
		case 'o': output = optarg; break;
		case 'R': run_id = optarg; break;
		case 'Q': roi = true; break;
		case 'h': run_usage(stdout); return 0;
		case '?':
			if (optopt)
				cli_error("run: option -%c needs an argument or is unknown (see vmlab run --help)",
					  optopt);
			else
				cli_error("run: unknown option '%s' (see vmlab run --help)", argv[optind - 1]);
			return EXIT_USAGE;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		cli_error(optind >= argc ? "run: missing TRACE (see vmlab run --help)"
					 : "run: expected one TRACE, got extra arguments");
		return EXIT_USAGE;
	}
	const char *path = argv[optind];
	if (run_id && !*run_id) {
		cli_error("run: --run-id '': expected a name (letters, digits, '.', '_', '-')");
		return EXIT_USAGE;
	}
	if (run_id && !output) {
		cli_error("run: --run-id needs -o FILE");
		return EXIT_USAGE;
	}
	if (strcmp(format, "auto")) {
		const char *names[32];
		size_t n = vl_trace_formats(names, NULL, 32);
		bool known = false;
		for (size_t i = 0; i < n && i < 32 && !known; i++)
			known = !strcmp(names[i], format);
		if (!known) {
			cli_error("run: unknown --format '%s' (see vmlab formats)", format);
			return EXIT_USAGE;
		}
	}

	struct vl_config *cfg;
	int rc = cli_cfg_build(&cc, &cfg);
	if (rc)
		return rc;
	struct vl_error err = { 0 };
	if ((check && vl_config_set(cfg, "run.check", "on", "--check", &err) < 0) ||
	    (on_av && vl_config_set(cfg, "run.on_av", on_av, "--on-av", &err) < 0)) {
		cli_error("%s", err.msg);
		vl_config_free(cfg);
		return EXIT_USAGE;
	}
	struct vl_engine *e = NULL;
	if ((rc = vl_engine_new(&e, cfg, &err)) < 0) {
		cli_error("%s", err.msg);
		vl_config_free(cfg);
		/* a value from a -c file is bad input; from -s, usage */
		return rc == VL_ENOMEM || rc == VL_EFORMAT ? EXIT_INPUT : EXIT_USAGE;
	}
	vl_config_free(cfg);

	struct vl_trace *t = NULL;
	if ((rc = vl_trace_open(&t, path, format, &err)) < 0) {
		cli_error("%s", err.msg);
		vl_engine_free(e);
		return EXIT_INPUT;
	}
	if (roi)
		vl_trace_set_roi(t, true);
	/* results file: opened (and the run id checked) before the run, so a
	 * bad -o or --run-id costs nothing; committed only after it succeeded */
	struct vl_h5 *h5 = NULL;
	struct vl_h5_run *h5run = NULL;
	if (output) {
		char rid[VL_RUN_ID_MAX];
		if ((rc = vl_h5_open(&h5, output, &err)) == 0)
			cli_guard_tmp(vl_h5_temp_path(h5));
		if (rc < 0 || (rc = vl_h5_run_id(h5, run_id, rid, &err)) < 0 ||
		    (rc = vl_h5_run_begin(h5, rid, "run", e, &h5run, &err)) < 0) {
			cli_error("%s", err.msg);
			vl_h5_abort(h5);
			cli_guard_tmp(NULL);
			vl_trace_close(t);
			vl_engine_free(e);
			return rc == VL_EINVAL && run_id ? EXIT_USAGE : EXIT_INPUT;
		}
	}
	struct progress prog = { .t = t, .t0 = mono() };
	struct vl_run_opts ro = { .size = sizeof(ro) };
	if (isatty(2)) {
		ro.progress = show_progress;
		ro.progress_ctx = &prog;
	}
	if (h5run) {
		ro.on_interval = vl_h5_timeline_row;
		ro.interval_ctx = h5run;
	}
	struct vl_run_stats st = { .size = sizeof(st) };
	rc = vl_run_ex(e, t, &ro, &st, &err);
	if (prog.shown)
		fprintf(stderr, "\r\033[K");
	if (rc == 0 && !roi && vl_trace_warning(t) && vl_engine_counters(e)->accesses == 0 &&
	    vl_engine_counters(e)->events == 0)
		/* damaged with nothing readable (a .vmt whose writer was killed
		 * before its first chunk): not an empty result.  (--roi over a
		 * trace without markers replays nothing by request, and says so) */
		rc = vl_err(&err, VL_EFORMAT, "%s: nothing to replay", vl_trace_warning(t));
	if (rc == 0 && h5run) {
		rc = vl_h5_run_end_trace(h5run, e, t, path, &st, &err);
		h5run = NULL;
		if (rc == 0) {
			rc = vl_h5_commit(h5, &err);
			h5 = NULL;
		}
	}
	if (rc < 0) {
		cli_error("%s", err.msg);
		vl_h5_run_free(h5run);
		vl_h5_abort(h5);
		cli_guard_tmp(NULL);
		vl_trace_close(t);
		vl_engine_free(e);
		return EXIT_INPUT;
	}
	cli_guard_tmp(NULL);
	const char *warn = vl_trace_warning(t);
	if (warn)
		fprintf(stderr, "vmlab: warning: %s\n", warn);
	for (const char *w = vl_engine_warning(e), *nl; w && *w; w = nl ? nl + 1 : NULL) {
		nl = strchr(w, '\n');
		fprintf(stderr, "vmlab: warning: %.*s\n", nl ? (int)(nl - w) : (int)strlen(w), w);
	}
	const struct vl_counters *ctr = vl_engine_counters(e);
	if (ctr->accesses == 0 && ctr->events == 0)
		fprintf(stderr, "vmlab: warning: %s holds no records: nothing was replayed\n", path);
	/* THP needs VADs: a trace without address-space events commits every
	 * page implicitly, and no such page is eligible (docs/trace-format.md) */
	const struct vl_config *ecfg = vl_engine_config(e);
	const char *thp = vl_config_str(ecfg, "thp.enabled");
	const char *thp_from = vl_config_origin(ecfg, "thp.enabled");
	if (ctr->events == 0 && ctr->accesses && strcmp(thp, "never") && thp_from &&
	    strncmp(thp_from, "configs/", 8))
		fprintf(stderr, "vmlab: warning: thp.enabled = %s (%s) has no effect on %s: it has no "
				"address-space events (V lines), and THP applies only inside VADs\n",
			thp, thp_from, path);
	if (json)
		print_json(e, t, ctr, &st);
	else
		print_text(e, t, ctr, &st);
	vl_trace_close(t);
	vl_engine_free(e);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write results to stdout");
		return EXIT_INPUT;
	}
	return 0;
}
