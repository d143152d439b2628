/* analysis/plot.h - figures from a results file, drawn by gnuplot.
 *
 * vl_plot writes, next to the figure FIG.EXT, the data FIG.dat and the
 * gnuplot script FIG.gp that draws it (both refer to each other by base
 * name, so `cd DIR && gnuplot FIG.gp` redraws it after restyling), then runs
 * gnuplot on the script.  The terminal follows the extension: .png
 * pngcairo, .pdf pdfcairo, .svg svg.  All three files are made in a
 * temporary directory beside the figure and renamed into place only when
 * gnuplot succeeded: a failed plot writes nothing and deletes nothing.
 *
 * Runs are selected (--where) and grouped by what produced them
 * (analysis/runset.h): --x gives the x axis or the clusters, --by the
 * series, --facet a panel per value.  Runs that differ in any other
 * parameter but run.seed are refused, listing those parameters; runs that
 * differ only in run.seed are replicates, drawn as their mean with a 95%
 * confidence interval (or median with min..max) as error bars.
 *
 * Kinds (docs/results.md says which datasets each reads):
 *   mrc         miss ratio against memory size, a line per series
 *               (/runs/<id>/mrc curves; without any, engine runs)
 *   timeline    faults per interval (and working set) over accesses
 *   bars        a counter across runs, clustered by --x, a bar per --by
 *   tlb         TLB misses per kilo-access by level (tlb_<level>_misses)
 *   validation  simulated against measured counters (/validation/<name>)
 */
#ifndef VMLAB_ANALYSIS_PLOT_H
#define VMLAB_ANALYSIS_PLOT_H

#include <stdbool.h>

#include "vmlab/results.h"

#define VL_PLOT_MAX_RUNS 32
#define VL_PLOT_MAX_WHERE 16

struct vl_plot_opts {
	const char *kind;     /* one of the kinds above */
	const char *out;      /* figure path: .png, .pdf or .svg */
	const char *runs[VL_PLOT_MAX_RUNS]; /* restrict to these run ids (none: all) */
	int nruns;
	const char *where[VL_PLOT_MAX_WHERE]; /* "KEY=V1,V2": keep matching runs */
	int nwhere;
	const char *counter;  /* bars: counter name (default faults); mrc of
			       * engine runs: the y value (default fault_ratio) */
	const char *by;       /* series (bars, mrc: default replacement.policy) */
	const char *x;        /* x axis / clusters (bars, mrc: default frames) */
	const char *facet;    /* a panel per value of this key; NULL: one panel */
	const char *title;    /* figure title, NULL for a default */
	const char *gnuplot;  /* program to run, NULL for "gnuplot" */
	const char *size;     /* "WxH": pixels (png, svg) or inches (pdf); NULL default */
	const char *font;     /* "Name,points"; NULL default */
	const char *errors;   /* replicates: "ci" (default), "range", "none" */
	bool logx, logy;
};

/* Kinds, '|'-separated. */
#define VL_PLOT_KINDS "mrc|timeline|bars|tlb|validation"

/* Draw one figure.  Returns 0; VL_EUSAGE (unknown kind, extension, key or
 * option value; runs that vary in a parameter not named, with the list);
 * VL_ENOENT (the file lacks what the kind needs, with what to do about it);
 * VL_EIO (cannot write, gnuplot missing or failing: its first error line).
 * On failure no file is created, replaced or removed. */
int vl_plot(struct vl_results *r, const struct vl_plot_opts *o, struct vl_error *err);

/* Told about each figure of vl_plot_all: its path and, when it was not
 * drawn, why (NULL when drawn). */
typedef void (*vl_plot_note_fn)(void *ctx, const char *fig, const char *why);

/* The standard set into directory dir (created when missing), in format
 * ext ("png", "pdf", "svg"): mrc, bars of faults, tlb, timeline and
 * validation, each when the file has what it needs, grouped automatically
 * (x memory, series policy, a panel per value of the next parameter that
 * varies); a figure whose runs vary in more is skipped with the reason.
 * o supplies --where, styling and the program.  Returns 0 when at least one
 * figure was drawn, else the last error. */
int vl_plot_all(struct vl_results *r, const struct vl_plot_opts *o, const char *dir,
		const char *ext, vl_plot_note_fn note, void *ctx, struct vl_error *err);

#endif
