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
		"usage: vmlab plot RESULTS.h5 KIND -o FIGURE.{png,pdf,svg} [--run ID]...\n"
		"                  [--counter NAME] [--by PARAM] [--x PARAM] [--title TEXT]\n"
		"\n"
		"Draw a figure with gnuplot.  FIGURE.gp (the script) and FIGURE.dat (its data)\n"
		"are kept beside the figure: edit and rerun `gnuplot FIGURE.gp` to restyle.\n"
		"\n"
		"kinds:\n"
		"  mrc         miss ratio against memory size, a line per curve (vmlab mrc -o;\n"
		"              without curves, engine runs grouped by policy)\n"
		"  timeline    faults per interval and working set over the run (a run made\n"
		"              with -s stats.interval=N; --run picks it, default the last)\n"
		"  bars        a counter across runs: clusters by --x (default frames), a bar\n"
		"              per --by value (default replacement.policy); --counter (default\n"
		"              faults); PARAM is frames, policy, run or any configuration key\n"
		"  tlb         TLB misses per kilo-access by level (tlb_<level>_misses counters)\n"
		"  validation  simulated against measured counters (/validation)\n"
		"\n"
		"  -o, --output FIG  figure path; the extension picks the format\n"
		"      --run ID      only this run (repeatable)\n"
		"      --title TEXT  figure title\n");
}

int cmd_plot(int argc, char **argv)
{
	struct vl_plot_opts po = { 0 };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "run", required_argument, NULL, 'R' },
		{ "counter", required_argument, NULL, 'C' },
		{ "by", required_argument, NULL, 'B' },
		{ "x", required_argument, NULL, 'X' },
		{ "title", required_argument, NULL, 'T' },
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
		case 'C': po.counter = optarg; break;
		case 'B': po.by = optarg; break;
		case 'X': po.x = optarg; break;
		case 'T': po.title = optarg; break;
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
	if (argc - optind != 2) {
		cli_error("plot: expected RESULTS.h5 KIND (kinds: %s; see vmlab plot --help)",
			  VL_PLOT_KINDS);
		return EXIT_USAGE;
	}
	po.kind = argv[optind + 1];
	if (!po.out) {
		cli_error("plot: missing -o FIGURE.png|pdf|svg");
		return EXIT_USAGE;
	}
	char bar[64];
	snprintf(bar, sizeof(bar), "|%s|", po.kind);
	if (!strstr("|" VL_PLOT_KINDS "|", bar)) {
		cli_error("plot: unknown kind '%s' (known: %s)", po.kind, VL_PLOT_KINDS);
		return EXIT_USAGE;
	}
	struct vl_error err = { 0 };
	struct vl_results *r;
	if (vl_results_open(&r, argv[optind], &err) < 0) {
		cli_error("%s", err.msg);
		return EXIT_INPUT;
	}
	int rc = vl_plot(r, &po, &err);
	vl_results_close(r);
	if (rc < 0) {
		cli_error("plot: %s", err.msg);
		return rc == VL_EUSAGE ? EXIT_USAGE : EXIT_INPUT;
	}
	return 0;
}
