/* cli/sweep.c - `vmlab sweep`: parse the options, call the sweep library
 * (analysis/sweep.h), print its progress and results, choose the exit
 * status.
 *
 * The library runs the cells (local forked workers, or a Slurm job array)
 * and merges them; this file turns its progress callback into the lines on
 * stderr that docs/sweeps.md shows, and a sweep stopped by SIGINT, SIGTERM
 * or SIGHUP into a process that dies of that signal.  The exit status is 0
 * only when every cell finished and the merge was written.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/sweep.h"
#include "cli/cli.h"

static void sweep_usage(FILE *f)
{
	fprintf(f,
		"usage: vmlab sweep EXPERIMENT.ini -o DIR [-j N] [--dry-run] [--plugin LIB.so]...\n"
		"       vmlab sweep EXPERIMENT.ini -o DIR --slurm [--partition P] [--time T]\n"
		"                   [--max-parallel K] [--cells-per-task B] [--no-submit]\n"
		"       vmlab sweep -o DIR --cell I [--plugin LIB.so]...\n"
		"       vmlab sweep --collect DIR [--plugin LIB.so]...\n"
		"\n"
		"Run every cell of an experiment (traces x the values of its [vary] keys; see\n"
		"docs/sweeps.md) and merge the results into DIR/all.h5, one /summary row per\n"
		"cell.  Cells already complete in DIR are skipped, so a killed sweep is resumed\n"
		"by running it again, and an edited experiment re-runs only changed cells.\n"
		"\n"
		"  -o, --output DIR      the sweep directory (plan, cells/, all.h5)\n"
		"  -j, --jobs N          worker processes (default: the number of cores)\n"
		"      --dry-run         list the cells and whether each is complete; run nothing\n"
		"      --plugin LIB.so   load a policy plug-in first (repeatable; also\n"
		"                        [experiment] plugins = A.so, B.so): its policies can be\n"
		"                        [set] or varied like built-ins; the plan records it, so\n"
		"                        --cell, --collect and Slurm tasks load it too\n"
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

/* ---- a local sweep ---- */

static void on_progress(void *ctx, const struct vl_sweep_progress *p)
{
	const struct vl_sweep *s = ctx;
	char d[512], eta[32] = "?";
	switch (p->event) {
	case VL_SWEEP_EV_START:
		fprintf(stderr, "sweep %s: %zu cells, %zu already complete, %zu to run with -j %ld\n",
			s->name, p->cells, p->done, p->todo, p->jobs);
		return;
	case VL_SWEEP_EV_PROGRESS:
		if (p->eta_s >= 0)
			fmt_time(p->eta_s, eta, sizeof(eta));
		fprintf(stderr, "sweep: %zu/%zu done, %zu running, %zu failed, ETA %s\n", p->done,
			p->cells, p->running, p->failed, eta);
		return;
	case VL_SWEEP_EV_CELL_FAILED:
		describe(s, p->cell, d, sizeof(d));
		cli_error("sweep: %s failed: %s", d, p->msg);
		return;
	case VL_SWEEP_EV_CELL_KILLED:
		describe(s, p->cell, d, sizeof(d));
		cli_error("sweep: %s failed: the worker was killed by signal %d", d, p->sig);
		return;
	case VL_SWEEP_EV_NO_WORKER:
		describe(s, p->cell, d, sizeof(d));
		cli_error("sweep: %s: cannot start a worker: %s", d, strerror(p->errnum));
		return;
	}
}

static int run_local(const struct vl_sweep *s, const char *dir, long jobs)
{
	struct vl_sweep_local o = { .jobs = jobs, .progress = on_progress, .ctx = (void *)s };
	struct vl_sweep_local_result r;
	struct vl_error err = { 0 };
	if (vl_sweep_run_local(s, dir, &o, &r, &err) < 0) {
		cli_error("sweep: %s", err.msg);
		return EXIT_INPUT;
	}
	if (r.signal) {
		fprintf(stderr, "sweep: interrupted; %zu cells complete, run the same command to resume\n",
			r.complete);
		signal(r.signal, SIG_DFL);
		raise(r.signal);
		return 128 + r.signal;
	}
	fprintf(stderr, "sweep: %s/%s: %zu of %zu cells (%zu failed, %zu missing) in %.1f s\n", dir,
		r.st.written, r.st.done, s->ncells, r.st.failed, r.st.missing, r.seconds);
	return r.st.done == s->ncells ? 0 : EXIT_INPUT;
}

/* ---- Slurm ---- */

static int run_slurm(const struct vl_sweep *s, const char *dir, const struct vl_sweep_slurm *o,
		     bool submit)
{
	struct vl_sweep_slurm_job j;
	struct vl_error err = { 0 };
	if (vl_sweep_slurm_write(s, dir, o, &j, &err) < 0) {
		cli_error("sweep: %s", err.msg);
		return EXIT_INPUT;
	}
	if (j.todo == 0) {
		fprintf(stderr, "sweep %s: all %zu cells are complete; collecting here\n", s->name,
			s->ncells);
		struct vl_sweep_status st;
		if (vl_sweep_collect(s, j.dir, &st, &err) < 0) {
			cli_error("sweep: %s", err.msg);
			return EXIT_INPUT;
		}
		return 0;
	}
	if (!submit) {
		printf("%s\n%s\n", j.script, j.collect);
		fprintf(stderr,
			"sweep %s: wrote %s (%zu array tasks) and %s; submit with\n"
			"  jid=$(sbatch --parsable %s) && sbatch --dependency=afterany:$jid %s\n",
			s->name, j.script, j.tasks, j.collect, j.script, j.collect);
		return 0;
	}
	if (vl_sweep_slurm_submit(&j, &err) < 0) {
		cli_error("sweep: %s", err.msg);
		return EXIT_INPUT;
	}
	printf("%s %s\n", j.array_id, j.collect_id);
	fprintf(stderr,
		"sweep %s: submitted array job %s (%zu tasks, %zu cells) and collect job %s;\n"
		"  results: %s/all.h5 once job %s has finished\n",
		s->name, j.array_id, j.tasks, j.todo, j.collect_id, j.dir, j.collect_id);
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
	int rc = 0;
	if (vl_sweep_cell_run_guarded(s, dir, (size_t)i, &err) < 0) {
		char d[512];
		describe(s, (size_t)i, d, sizeof(d));
		cli_error("sweep: %s failed: %s", d, err.msg);
		rc = EXIT_INPUT;
	}
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
	struct vl_sweep_slurm so = { .cells_per_task = 1 };
	bool submit = true;
	struct cli_cfg cc = { 0 };
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
		{ "plugin", required_argument, NULL, OPT_PLUGIN },
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
				so.cells_per_task = v;
			break;
		}
		case 'S': slurm = true; break;
		case 'P': so.partition = optarg; break;
		case 'T': so.time = optarg; break;
		case 'N': submit = false; break;
		case 'C': cell = optarg; break;
		case 'L': collect = optarg; break;
		case 'D': dry = true; break;
		case OPT_PLUGIN:
			if (cli_cfg_option(&cc, c, optarg) < 0)
				return EXIT_USAGE;
			break;
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
	int nargs = argc - optind, rc;
	if (collect) {
		if (nargs || dir || cell || slurm) {
			cli_error("sweep: --collect DIR takes no other arguments");
			return EXIT_USAGE;
		}
		if ((rc = cli_load_plugins(&cc)))
			return rc;
		return do_collect(collect);
	}
	if (!dir) {
		cli_error("sweep: missing -o DIR (see vmlab sweep --help)");
		return EXIT_USAGE;
	}
	if (!*dir) {
		/* "" would put plan, cells/ and all.h5 at the root of the file system */
		cli_error("sweep: -o '': expected the name of an output directory");
		return EXIT_USAGE;
	}
	if (cell) {
		if (nargs > 1 || slurm) {
			cli_error("sweep: --cell I runs one cell of DIR/plan; it takes -o DIR only");
			return EXIT_USAGE;
		}
		if ((rc = cli_load_plugins(&cc)))
			return rc;
		return do_cell(dir, cell);
	}
	if (nargs != 1) {
		cli_error(nargs ? "sweep: expected one EXPERIMENT file, got extra arguments"
				: "sweep: missing EXPERIMENT file (see vmlab sweep --help)");
		return EXIT_USAGE;
	}
	if (!slurm && (so.partition || so.time || so.max_parallel || so.cells_per_task != 1 || !submit)) {
		cli_error("sweep: --partition, --time, --max-parallel, --cells-per-task and --no-submit "
			  "need --slurm");
		return EXIT_USAGE;
	}
	if (slurm && jobs) {
		cli_error("sweep: -j is for local sweeps; with --slurm use --max-parallel");
		return EXIT_USAGE;
	}
	if ((so.partition && (!*so.partition || !vl_sweep_slurm_word_ok(so.partition))) ||
	    (so.time && (!*so.time || !vl_sweep_slurm_word_ok(so.time)))) {
		cli_error("sweep: --partition and --time take one word without quotes or spaces");
		return EXIT_USAGE;
	}
	if (!jobs) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		jobs = n > 0 ? n : 1;
	}

	struct vl_sweep *s;
	struct vl_error err = { 0 };
	if (vl_sweep_load_with(&s, argv[optind], cc.plugins, (size_t)cc.nplugins, &err) < 0) {
		cli_error("%s", err.msg);
		return EXIT_INPUT;
	}
	if (dry) {
		struct stat st;
		dry_run(s, stat(dir, &st) == 0 ? dir : NULL);
		vl_sweep_free(s);
		return 0;
	}
	if ((rc = vl_sweep_plan_write(s, dir, &err)) < 0) {
		cli_error("sweep: %s", err.msg);
		vl_sweep_free(s);
		return EXIT_INPUT;
	}
	rc = slurm ? run_slurm(s, dir, &so, submit) : run_local(s, dir, jobs);
	vl_sweep_free(s);
	return rc;
}
