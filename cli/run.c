/* cli/run.c - `vmlab run`: replay one trace and report its counters. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/json.h"
#include "cli/cli.h"

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: vmlab run [-c CONFIG]... [-s KEY=VALUE]... [--os NAME] [--format FMT]\n"
		"                 [--json] [--check] [--roi] TRACE\n"
		"\n"
		"Replay TRACE (a file, or - for stdin; gzip is read transparently) through the\n"
		"memory-manager model and print its counters.\n"
		"\n"
		"  -c, --config FILE   load an INI file (repeatable; later files win)\n"
		"  -s, --set KEY=VALUE set one key, e.g. -s memory.frames=1024,\n"
		"                      -s memory.size=64M, -s replacement.policy=clock\n"
		"      --os NAME       start from an OS preset (%s)\n"
		"  -f, --format FMT    trace format: auto (default) or one of `vmlab formats`\n"
		"      --json          print one JSON object on stdout\n"
		"      --check         check the model's invariants after every batch (slow)\n"
		"      --roi           replay only the accesses inside region-of-interest\n"
		"                      markers (vmlab/roi.h; see vmlab capture)\n"
		"\n"
		"Layers: built-in defaults < --os preset < -c files < -s settings.\n"
		"Exit status: 0 ok, 1 bad input (trace, config file), 2 usage error.\n",
		vl_config_presets("os"));
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
		struct vl_proc_counters pc;
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
		vl_json_key(&j, "evictions");
		vl_json_u64(&j, pc.evictions);
		vl_json_key(&j, "writebacks");
		vl_json_u64(&j, pc.writebacks);
		vl_json_key(&j, "resident_pages");
		vl_json_u64(&j, pc.resident_pages);
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
	printf("model: os %s, policy %s, %llu frames (%.1f MiB)\n",
	       vl_config_str(cfg, "os.personality"), vl_config_str(cfg, "replacement.policy"),
	       (unsigned long long)frames, (double)frames * VL_PAGE_SIZE / (1 << 20));
	printf("\n");
	size_t n = vl_engine_counter_list(e, NULL, NULL, 0);
	const char **names = calloc(n ? n : 1, sizeof(*names));
	uint64_t *values = calloc(n ? n : 1, sizeof(*values));
	if (names && values) {
		vl_engine_counter_list(e, names, values, n);
		for (size_t i = 0; i < n; i++)
			printf("  %-22s %15llu   %s\n", names[i], (unsigned long long)values[i],
			       i < vl_counter_count() ? vl_counter_help(i) : "");
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

int cmd_run(int argc, char **argv)
{
	struct cli_cfg cc = { 0 };
	const char *format = "auto";
	bool json = false, check = false, roi = false;
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "os", required_argument, NULL, 'O' },
		{ "format", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'J' },
		{ "check", no_argument, NULL, 'K' },
		{ "roi", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:s:f:h", opts, NULL)) != -1) {
		int r = cli_cfg_option(&cc, c, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r)
			continue;
		switch (c) {
		case 'f': format = optarg; break;
		case 'J': json = true; break;
		case 'K': check = true; break;
		case 'R': roi = true; break;
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
	if (check && vl_config_set(cfg, "run.check", "on", "--check", &err) < 0) {
		cli_error("%s", err.msg);
		vl_config_free(cfg);
		return EXIT_USAGE;
	}
	struct vl_engine *e = NULL;
	if ((rc = vl_engine_new(&e, cfg, &err)) < 0) {
		cli_error("%s", err.msg);
		vl_config_free(cfg);
		return rc == VL_ENOMEM ? EXIT_INPUT : EXIT_USAGE;
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
	struct vl_run_stats st;
	if ((rc = vl_run(e, t, NULL, NULL, &st, &err)) < 0) {
		cli_error("%s", err.msg);
		vl_trace_close(t);
		vl_engine_free(e);
		return EXIT_INPUT;
	}
	const char *warn = vl_trace_warning(t);
	if (warn)
		fprintf(stderr, "vmlab: warning: %s\n", warn);
	const struct vl_counters *ctr = vl_engine_counters(e);
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
