/* analysis/plot.h - figures from a results file, drawn by gnuplot.
 *
 * vl_plot writes, next to the figure FIG.EXT, the data FIG.dat and the
 * gnuplot script FIG.gp that draws it (both refer to each other by base
 * name, so `cd DIR && gnuplot FIG.gp` redraws it after restyling), then runs
 * gnuplot on the script.  The terminal follows the extension: .png
 * pngcairo, .pdf pdfcairo, .svg svg.
 *
 * Kinds (docs/results.md says which datasets each reads):
 *   mrc         miss ratio against memory size, a line per curve
 *               (/runs/<id>/mrc; without any, engine runs grouped by policy)
 *   timeline    faults per interval and working-set pages over accesses
 *   bars        a counter across runs, clustered by a parameter
 *   tlb         TLB misses per kilo-access by level (tlb_<level>_misses)
 *   validation  simulated against measured counters (/validation/<name>)
 */
#ifndef VMLAB_ANALYSIS_PLOT_H
#define VMLAB_ANALYSIS_PLOT_H

#include "vmlab/results.h"

#define VL_PLOT_MAX_RUNS 32

struct vl_plot_opts {
	const char *kind;     /* one of the kinds above */
	const char *out;      /* figure path: .png, .pdf or .svg */
	const char *runs[VL_PLOT_MAX_RUNS]; /* restrict to these run ids (none: all) */
	int nruns;
	const char *counter;  /* bars: counter name (default faults) */
	const char *by;       /* bars: parameter giving the bars of a cluster
			       * (default replacement.policy) */
	const char *x;        /* bars: parameter giving the clusters (default frames) */
	const char *title;    /* figure title, NULL for a default */
	const char *gnuplot;  /* program to run, NULL for "gnuplot" */
};

/* Kinds, '|'-separated. */
#define VL_PLOT_KINDS "mrc|timeline|bars|tlb|validation"

/* Draw one figure.  Returns 0; VL_EUSAGE (unknown kind or extension);
 * VL_ENOENT (the file lacks what the kind needs, with what to do about it);
 * VL_EIO (cannot write, gnuplot missing or failing: its first error line). */
int vl_plot(struct vl_results *r, const struct vl_plot_opts *o, struct vl_error *err);

#endif
