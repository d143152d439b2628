/* cli/mrc.c - `vmlab mrc`: miss-ratio curves.
 *
 * lru: one pass of stack distances (analysis/mrc.c), exact or SHARDS-sampled.
 * Any other policy (or --engine): the engine at each size, all of them fed
 * from one decode of the trace on up to -j threads (vl_run_multi).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analysis/json.h"
#include "cli/cli.h"
#include "vmlab/mrc.h"
#include "vmlab/results.h"

static void mrc_usage(FILE *f)
{
	fprintf(f,
		"usage: vmlab mrc [--policy NAME] --sizes LIST [--points N] [--sample R [--estimator E]]\n"
		"                 [-j N]\n"
		"                 [--machine NAME] [--os NAME] [-c CONFIG]... [-s KEY=VALUE]...\n"
		"                 [--format FMT] [--plugin LIB.so]...\n"
		"                 [--json] [-o RESULTS.h5 [--run-id ID]] TRACE\n"
		"\n"
		"Miss-ratio curve of TRACE: misses (faults of a textbook-personality run) at each\n"
		"memory size.\n"
		"\n"
		"      --policy NAME   replacement policy (default lru).  lru: every size in one\n"
		"                      pass of LRU stack distances (exact); others: one engine\n"
		"                      per size, all fed from one decode of the trace\n"
		"      --sizes LIST    frame counts or memory sizes: 50,300,64M; or a range\n"
		"                      LO:HI of --points log-spaced sizes, e.g. 64:1G\n"
		"      --points N      sizes in a range (default 16)\n"
		"      --sample R      lru only: SHARDS spatial sampling at rate R in (0,1],\n"
		"                      e.g. 0.01, for traces too large to do exactly\n"
		"      --estimator E   how --sample estimates: hot (default; the most frequent\n"
		"                      pages, found as the trace is read, tracked exactly and\n"
		"                      the sample standing for the rest), split (the sample's\n"
		"                      shortfall or excess split between hits and misses),\n"
		"                      adj (SHARDS_adj, FAST'15) or fixed (fixed-rate SHARDS)\n"
		"      --engine        run the engine at each size for lru too (for traces with\n"
		"                      address-space events, whose accesses it may refuse)\n"
		"  -j, --jobs N        threads feeding the engines (default: the number of CPUs)\n"
		"      --json          print [{\"frames\": N, \"misses\": M, \"miss_ratio\": R}, ...]\n"
		"  -o, --output FILE   store the curve as /runs/<id>/mrc in an HDF5 results file\n"
		"      --run-id ID     name of the run in FILE (default run-NNNN)\n"
		"      --plugin LIB.so load policy plug-ins (repeatable); --policy may name theirs\n"
		"      --os, -c, -s, --format   as for vmlab run (the default personality is\n"
		"                      textbook; -s memory.* is set per size)\n");
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One pass of stack distances. */
static int mrc_stack(const char *path, const char *format, double rate, const uint64_t *frames,
		     size_t n, enum vl_mrc_estimator est, struct vl_mrc **out, char *fmt_name,
		     size_t fmt_len, struct vl_error *err)
{
	struct vl_trace *t = NULL;
	struct vl_mrc *m = NULL;
	struct vl_batch b = { 0 };
	int rc;
	if ((rc = vl_trace_open(&t, path, format, err)) < 0)
		return rc;
	snprintf(fmt_name, fmt_len, "%s", vl_trace_format(t));
	if ((rc = vl_mrc_new(&m, rate, frames, n, err)) < 0 || (rc = vl_batch_init(&b, 8192, err)) < 0)
		goto out;
	vl_mrc_set_estimator(m, est); /* before the first access: hot or not */
	ssize_t got;
	while ((got = vl_trace_read(t, &b, err)) > 0)
		if ((rc = vl_mrc_feed(m, &b, err)) < 0)
			goto out;
	if (got < 0)
		rc = (int)got;
out:
	vl_batch_free(&b);
	vl_trace_close(t);
	if (rc < 0) {
		vl_mrc_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* Engine at each size: the trace decoded once and every size's engine
 * fed from the same batches, on up to jobs threads (vl_run_multi).  Fills
 * pts; returns 0 or a code with err set (the first failure). */
static int mrc_engine(const struct vl_config *base, const uint64_t *frames, size_t n,
		      unsigned jobs, const char *path, const char *format,
		      struct vl_mrc_point *pts, uint64_t *accesses, char *fmt_name, size_t fmt_len,
		      struct vl_error *err)
{
	struct vl_engine **e = calloc(n ? n : 1, sizeof(*e));
	int *rcs = calloc(n ? n : 1, sizeof(*rcs));
	struct vl_error *errs = calloc(n ? n : 1, sizeof(*errs));
	struct vl_trace *t = NULL;
	int rc = 0;
	*accesses = 0;
	if (!e || !rcs || !errs)
		rc = vl_err(err, VL_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct vl_config *cfg = vl_config_dup(base);
		char val[32];
		snprintf(val, sizeof(val), "%llu", (unsigned long long)frames[i]);
		if (!cfg)
			rc = vl_err(err, VL_ENOMEM, "out of memory");
		else if ((rc = vl_config_set(cfg, "memory.frames", val, "--sizes", err)) == 0)
			rc = vl_engine_new(&e[i], cfg, err);
		vl_config_free(cfg);
	}
	if (rc == 0 && (rc = vl_trace_open(&t, path, format, err)) == 0 &&
	    (rc = vl_run_multi(e, n, t, jobs, NULL, NULL, rcs, errs, err)) == 0) {
		for (size_t i = 0; i < n; i++) {
			const struct vl_counters *c = vl_engine_counters(e[i]);
			pts[i].frames = frames[i];
			pts[i].misses = c->faults;
			pts[i].miss_ratio = c->accesses ? (double)c->faults / (double)c->accesses : 0;
			*accesses = c->accesses;
		}
		snprintf(fmt_name, fmt_len, "%s", vl_trace_format(t));
	}
	vl_trace_close(t);
	for (size_t i = 0; e && i < n; i++)
		vl_engine_free(e[i]);
	free(e);
	free(rcs);
	free(errs);
	return rc;
}

int cmd_mrc(int argc, char **argv)
{
	struct cli_cfg cc = { 0 };
	cc.machine = "none"; /* curves count faults: no TLB unless --machine names one */
	const char *format = "auto", *policy = "lru", *sizes = NULL, *output = NULL,
		   *run_id = NULL;
	double rate = 1;
	bool json = false, sampled = false, engine = false, est_given = false;
	enum vl_mrc_estimator estimator = VL_MRC_SHARDS_HOT;
	static const char *const est_names[] = { "split", "adj", "fixed", "hot" };
	unsigned points = 16;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned jobs = ncpu > 0 ? (unsigned)ncpu : 1;
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "os", required_argument, NULL, OPT_OS },
		{ "machine", required_argument, NULL, OPT_MACHINE },
		{ "format", required_argument, NULL, 'f' },
		{ "policy", required_argument, NULL, 'P' },
		{ "sizes", required_argument, NULL, 'S' },
		{ "points", required_argument, NULL, 'N' },
		{ "sample", required_argument, NULL, 'r' },
		{ "estimator", required_argument, NULL, 'X' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "engine", no_argument, NULL, 'E' },
		{ "json", no_argument, NULL, 'J' },
		{ "output", required_argument, NULL, 'o' },
		{ "run-id", required_argument, NULL, 'R' },
		{ "plugin", required_argument, NULL, OPT_PLUGIN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:s:f:j:o:h", opts, NULL)) != -1) {
		int r = cli_cfg_option(&cc, c, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r)
			continue;
		char *end;
		switch (c) {
		case 'f': format = optarg; break;
		case 'P': policy = optarg; break;
		case 'S': sizes = optarg; break;
		case 'N': {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v < 2 || v > 10000) {
				cli_error("mrc: --points '%s': expected an integer from 2 to 10000", optarg);
				return EXIT_USAGE;
			}
			points = (unsigned)v;
			break;
		}
		case 'r':
			rate = strtod(optarg, &end);
			if (*end || !*optarg || !(rate > 0 && rate <= 1)) {
				cli_error("mrc: --sample '%s': expected a rate in (0, 1], e.g. 0.01", optarg);
				return EXIT_USAGE;
			}
			sampled = true;
			break;
		case 'j': {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v < 1 || v > 1024) {
				cli_error("mrc: --jobs '%s': expected an integer from 1 to 1024", optarg);
				return EXIT_USAGE;
			}
			jobs = (unsigned)v;
			break;
		}
		case 'X':
			if (!strcmp(optarg, "hot"))
				estimator = VL_MRC_SHARDS_HOT;
			else if (!strcmp(optarg, "split"))
				estimator = VL_MRC_SHARDS_SPLIT;
			else if (!strcmp(optarg, "adj"))
				estimator = VL_MRC_SHARDS_ADJ;
			else if (!strcmp(optarg, "fixed"))
				estimator = VL_MRC_SHARDS_FIXED;
			else {
				cli_error("mrc: --estimator '%s': expected hot, split, adj or fixed", optarg);
				return EXIT_USAGE;
			}
			est_given = true;
			break;
		case 'J': json = true; break;
		case 'E': engine = true; break;
		case 'o': output = optarg; break;
		case 'R': run_id = optarg; break;
		case 'h': mrc_usage(stdout); return 0;
		case '?':
			if (optopt)
				cli_error("mrc: option -%c needs an argument or is unknown (see vmlab mrc --help)",
					  optopt);
			else
				cli_error("mrc: unknown option '%s' (see vmlab mrc --help)", argv[optind - 1]);
			return EXIT_USAGE;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		cli_error(optind >= argc ? "mrc: missing TRACE (see vmlab mrc --help)"
					 : "mrc: expected one TRACE, got extra arguments");
		return EXIT_USAGE;
	}
	const char *path = argv[optind];
	if (!sizes) {
		cli_error("mrc: missing --sizes (e.g. --sizes 64,256,1024 or --sizes 64:1G)");
		return EXIT_USAGE;
	}
	if (run_id && !*run_id) {
		cli_error("mrc: --run-id '': expected a name (letters, digits, '.', '_', '-')");
		return EXIT_USAGE;
	}
	if (run_id && !output) {
		cli_error("mrc: --run-id needs -o FILE");
		return EXIT_USAGE;
	}
	int prc = cli_load_plugins(&cc);
	if (prc)
		return prc;
	if (!vl_repl_find(policy)) {
		cli_error("mrc: unknown --policy '%s' (see vmlab policies%s)", policy,
			  cc.nplugins ? " with the same --plugin" : "; a plug-in's needs --plugin");
		return EXIT_USAGE;
	}
	bool stack = !strcmp(policy, "lru") && !engine;
	if (est_given && !sampled) {
		cli_error("mrc: --estimator needs --sample R");
		return EXIT_USAGE;
	}
	if (sampled && !stack) {
		cli_error("mrc: --sample works with --policy lru only, without --engine (stack distances)");
		return EXIT_USAGE;
	}
	struct vl_error err = { 0 };
	uint64_t *frames;
	size_t n;
	if (vl_mrc_parse_sizes(sizes, points, &frames, &n, &err) < 0) {
		cli_error("mrc: --sizes: %s", err.msg);
		return EXIT_USAGE;
	}
	if (!cc.os)
		cc.os = "textbook";
	struct vl_config *cfg;
	int rc = cli_cfg_build(&cc, &cfg);
	if (rc) {
		free(frames);
		return rc;
	}
	if (vl_config_set(cfg, "replacement.policy", policy, "--policy", &err) < 0) {
		cli_error("%s", err.msg);
		vl_config_free(cfg);
		free(frames);
		return EXIT_USAGE;
	}
	int exit_rc = EXIT_INPUT;
	struct vl_mrc_point *pts = calloc(n, sizeof(*pts));
	struct vl_h5 *h5 = NULL;
	struct vl_h5_run *h5run = NULL;
	struct vl_mrc *m = NULL;
	char fmt_name[32] = "";
	uint64_t accesses = 0;
	if (!pts) {
		cli_error("out of memory");
		goto out;
	}
	if (output) {
		char rid[VL_RUN_ID_MAX];
		if ((rc = vl_h5_open(&h5, output, &err)) == 0)
			cli_guard_tmp(vl_h5_temp_path(h5));
		if (rc < 0 || (rc = vl_h5_run_id(h5, run_id, rid, &err)) < 0 ||
		    (rc = vl_h5_run_begin(h5, rid, "mrc", NULL, &h5run, &err)) < 0) {
			cli_error("%s", err.msg);
			exit_rc = rc == VL_EINVAL && run_id ? EXIT_USAGE : EXIT_INPUT;
			goto out;
		}
	}
	double t0 = mono();
	if (stack) {
		if ((rc = mrc_stack(path, format, rate, frames, n, estimator, &m, fmt_name,
				    sizeof(fmt_name), &err)) < 0 ||
		    (rc = vl_mrc_result(m, frames, n, pts, &err)) < 0) {
			cli_error("%s", err.msg);
			goto out;
		}
		accesses = vl_mrc_accesses(m);
		if (vl_mrc_events(m))
			fprintf(stderr, "vmlab: mrc: note: the trace has %llu address-space events, which "
					"stack distances ignore; if the engine refuses accesses (violations) "
					"the curve differs from vmlab run: use --engine to replay them\n",
				(unsigned long long)vl_mrc_events(m));
	} else if ((rc = mrc_engine(cfg, frames, n, jobs, path, format, pts, &accesses, fmt_name,
				    sizeof(fmt_name), &err)) < 0) {
		cli_error("%s", err.msg);
		goto out;
	}
	double wall = mono() - t0;
	if (accesses == 0)
		cli_error("warning: %s holds no accesses: every miss ratio is 0", path);
	const char *method = !stack ? "engine" : sampled ? "shards" : "exact";
	if (h5run) {
		char *text = vl_config_text(cfg);
		struct vl_h5_provenance pv = {
			.size = sizeof(pv),
			.trace_path = path,
			.trace_format = fmt_name,
			.config_text = text ? text : "",
			.os = vl_config_str(cfg, "os.personality"),
			.policy = policy,
			.seed = vl_config_u64(cfg, "run.seed"),
			.wall_seconds = wall,
		};
		rc = vl_h5_run_end_mrc(h5run, &pv, method, rate, accesses, pts, n, &err);
		h5run = NULL;
		free(text);
		if (rc == 0) {
			rc = vl_h5_commit(h5, &err);
			h5 = NULL;
		}
		if (rc < 0) {
			cli_error("%s", err.msg);
			goto out;
		}
	}
	if (json) {
		struct vl_json j;
		vl_json_init(&j, stdout);
		vl_json_arr(&j);
		for (size_t i = 0; i < n; i++) {
			vl_json_obj(&j);
			vl_json_key(&j, "frames");
			vl_json_u64(&j, pts[i].frames);
			vl_json_key(&j, "misses");
			vl_json_u64(&j, pts[i].misses);
			vl_json_key(&j, "miss_ratio");
			vl_json_f64(&j, pts[i].miss_ratio);
			if (sampled) {
				vl_json_key(&j, "sample_rate");
				vl_json_f64(&j, rate);
			}
			vl_json_end(&j);
		}
		vl_json_end(&j);
		fputc('\n', stdout);
	} else {
		printf("vmlab %s: miss-ratio curve of %s (%s), policy %s, %llu accesses\n",
		       vl_version(), path, fmt_name, policy, (unsigned long long)accesses);
		if (!stack)
			printf("method: one engine run per size (%s personality), %u in parallel\n",
			       vl_config_str(cfg, "os.personality"), jobs);
		else if (sampled)
			printf("method: SHARDS sampling at rate %g, %s estimator (%llu of %llu accesses "
			       "sampled, %llu pages tracked, %llu of them hot); misses are estimates\n",
			       rate, est_names[estimator], (unsigned long long)vl_mrc_sampled(m),
			       (unsigned long long)accesses, (unsigned long long)vl_mrc_pages(m),
			       (unsigned long long)vl_mrc_hot_pages(m));
		else
			printf("method: exact LRU stack distances, one pass (%llu distinct pages)\n",
			       (unsigned long long)vl_mrc_pages(m));
		printf("\n%12s %12s %14s %12s\n", "frames", "memory", "misses", "miss ratio");
		for (size_t i = 0; i < n; i++) {
			double mib = (double)pts[i].frames * VL_PAGE_SIZE / (1 << 20);
			char mem[32];
			if (mib >= 1024)
				snprintf(mem, sizeof(mem), "%.2f GiB", mib / 1024);
			else
				snprintf(mem, sizeof(mem), "%.2f MiB", mib);
			printf("%12llu %12s %14llu %12.6f\n", (unsigned long long)pts[i].frames, mem,
			       (unsigned long long)pts[i].misses, pts[i].miss_ratio);
		}
		printf("\ntime: %.3f s\n", wall);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write results to stdout");
		goto out;
	}
	exit_rc = 0;
out:
	vl_h5_run_free(h5run);
	vl_h5_abort(h5);
	cli_guard_tmp(NULL);
	vl_mrc_free(m);
	vl_config_free(cfg);
	free(frames);
	free(pts);
	return exit_rc;
}
