/* cli/plot.c - `vmlab plot`: a figure from a results file through gnuplot. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/plot.h"
#include "cli/cli.h"

static void plot_usage(FILE *f)
{
	fprintf(f,
		"usage: vmlab plot RESULTS.h5 KIND -o FIGURE.{png,pdf,svg} [options]\n"
		"       vmlab plot --all RESULTS.h5 -o DIR/ [--format png|pdf|svg] [options]\n"
		"\n"
		"Draw a figure with gnuplot.  FIGURE.gp (the script) and FIGURE.dat (its data)\n"
		"are kept beside the figure: edit and rerun `gnuplot FIGURE.gp` to restyle.  A\n"
		"failed plot writes nothing and removes nothing.\n"
		"\n"
		"kinds:\n"
		"  mrc         miss ratio against memory, a line per --by value (default policy):\n"
		"              the curves of vmlab mrc -o, or engine runs at several memory sizes\n"
		"  timeline    faults per interval (and working set) over the run (runs made\n"
		"              with -s stats.interval=N); --counter COLUMN draws another\n"
		"              column of the timeline instead (e.g. heap_committed)\n"
		"  bars        a counter (--counter, default faults) across runs: clusters by --x\n"
		"              (default frames), a bar per --by value (default policy)\n"
		"  tlb         TLB misses per kilo-access by level, a bar per --by value\n"
		"  validation  simulated against measured counters (/validation)\n"
		"\n"
		"Selecting and grouping (KEY: trace, os, seed, run, cell, policy, frames, any\n"
		"configuration key of `vmlab config`):\n"
		"      --where KEY=V[,V]  keep runs with one of these values (repeatable)\n"
		"      --run ID           keep this run (repeatable)\n"
		"      --x KEY            x axis or clusters\n"
		"      --by KEY           a series (line, bar) per value, one style per policy\n"
		"      --facet KEY        a panel per value\n"
		"  Runs that differ in a parameter not named are refused with the list of\n"
		"  those parameters; runs differing only in run.seed are replicates, drawn as\n"
		"  mean and 95%% confidence interval (--errors ci), median and min..max\n"
		"  (--errors range) or mean alone (--errors none).\n"
		"\n"
		"Style:\n"
		"  -o, --output FIG      figure path; the extension picks the format\n"
		"      --title TEXT      figure title (default: what, trace and OS)\n"
		"      --logx, --logy    logarithmic axes\n"
		"      --size WxH        pixels for png/svg (960x600), inches for pdf (3.5x2.4)\n"
		"      --font NAME,PT    e.g. \"Times,8\"\n"
		"      --all             the standard set into -o DIR/, grouped automatically\n"
		"      --format EXT      with --all: png (default), pdf or svg\n");
}

static void note(void *ctx, const char *fig, const char *why)
{
	(void)ctx;
	if (why)
		fprintf(stderr, "plot: %s: %s\n", fig, why);
	else
		fprintf(stderr, "plot: %s\n", fig);
}

int cmd_plot(int argc, char **argv)
{
	struct vl_plot_opts po = { 0 };
	bool all = false;
	const char *format = "png";
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "run", required_argument, NULL, 'R' },
		{ "where", required_argument, NULL, 'W' },
		{ "counter", required_argument, NULL, 'C' },
		{ "by", required_argument, NULL, 'B' },
		{ "x", required_argument, NULL, 'X' },
		{ "facet", required_argument, NULL, 'F' },
		{ "title", required_argument, NULL, 'T' },
		{ "logx", no_argument, NULL, 'l' },
		{ "logy", no_argument, NULL, 'L' },
		{ "size", required_argument, NULL, 'S' },
		{ "font", required_argument, NULL, 'f' },
		{ "errors", required_argument, NULL, 'E' },
		{ "all", no_argument, NULL, 'A' },
		{ "format", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': po.out = optarg; break;
		case 'R':
			if (po.nruns == VL_PLOT_MAX_RUNS) {
				cli_error("plot: at most %d --run options", VL_PLOT_MAX_RUNS);
				return EXIT_USAGE;
			}
			po.runs[po.nruns++] = optarg;
			break;
		case 'W':
			if (po.nwhere == VL_PLOT_MAX_WHERE) {
				cli_error("plot: at most %d --where options", VL_PLOT_MAX_WHERE);
				return EXIT_USAGE;
			}
			po.where[po.nwhere++] = optarg;
			break;
		case 'C': po.counter = optarg; break;
		case 'B': po.by = optarg; break;
		case 'X': po.x = optarg; break;
		case 'F': po.facet = optarg; break;
		case 'T': po.title = optarg; break;
		case 'l': po.logx = true; break;
		case 'L': po.logy = true; break;
		case 'S': po.size = optarg; break;
		case 'f': po.font = optarg; break;
		case 'E': po.errors = optarg; break;
		case 'A': all = true; break;
		case 'M': format = optarg; break;
		case 'h': plot_usage(stdout); return 0;
		default:
			if (optopt)
				cli_error("plot: option -%c needs an argument or is unknown (see vmlab plot --help)",
					  optopt);
			else
				cli_error("plot: unknown option '%s' (see vmlab plot --help)", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != (all ? 1 : 2)) {
		if (all)
			cli_error("plot: --all expects RESULTS.h5 -o DIR/ (see vmlab plot --help)");
		else
			cli_error("plot: expected RESULTS.h5 KIND (kinds: %s; see vmlab plot --help)",
				  VL_PLOT_KINDS);
		return EXIT_USAGE;
	}
	if (!po.out) {
		cli_error(all ? "plot: missing -o DIR/" : "plot: missing -o FIGURE.png|pdf|svg");
		return EXIT_USAGE;
	}
	if (!all) {
		po.kind = argv[optind + 1];
		char bar[64];
		snprintf(bar, sizeof(bar), "|%s|", po.kind);
		if (!strstr("|" VL_PLOT_KINDS "|", bar)) {
			cli_error("plot: unknown kind '%s' (known: %s)", po.kind, VL_PLOT_KINDS);
			return EXIT_USAGE;
		}
	}
	struct vl_error err = { 0 };
	struct vl_results *r;
	if (vl_results_open(&r, argv[optind], &err) < 0) {
		cli_error("%s", err.msg);
		return EXIT_INPUT;
	}
	int rc = all ? vl_plot_all(r, &po, po.out, format, note, NULL, &err) : vl_plot(r, &po, &err);
	vl_results_close(r);
	if (rc < 0) {
		cli_error("plot: %s", err.msg);
		return rc == VL_EUSAGE ? EXIT_USAGE : EXIT_INPUT;
	}
	return 0;
}
