/* analysis/plot_internal.h - what the parts of vmlab plot share (private).
 *
 * plot.c runs a figure (selection, temporary directory, gnuplot, --all);
 * plot_style.c holds the layout, labels, palette and script helpers;
 * plot_kinds.c writes the data and script of each kind.  A kind fills
 * FIG.dat and FIG.gp through struct fig and returns 0 or a VL_E* code with
 * err set; it must not write anything else.
 */
#ifndef VMLAB_ANALYSIS_PLOT_INTERNAL_H
#define VMLAB_ANALYSIS_PLOT_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

#include "analysis/plot.h"
#include "analysis/runset.h"
#include "analysis/util.h"

/* The palette (Okabe & Ito, grey for yellow) and markers, by series style. */
extern const char *const pl_palette[];
extern const int pl_markers[];
#define NPAL 8
/* rc = expr; on failure jump to label */
#define TRY_GOTO(rc, expr, label)    \
	do {                             \
		if (((rc) = (expr)) < 0) \
			goto label;      \
	} while (0)
#define NMARK 10

struct fig {
	const struct vl_plot_opts *o;
	struct vl_results *r;
	struct rs *s;
	char *dir;            /* directory of the figure */
	char *tmpdir;         /* where the files are made */
	char *base;           /* base name without extension */
	const char *ext;      /* "png" ... */
	char *dat_name, *gp_name, *out_name; /* base names, as the script refers to them */
	FILE *dat, *gp;
	bool *ok;             /* runs this figure uses */
	int emode;            /* 0 ci, 1 range, 2 none */
	bool vertical;        /* panels in one column */
	double wpt, hpt;      /* canvas in points of an 11-point font (layout) */
	size_t maxn;          /* most replicates behind one point */
};

/* A figure's layout: facets (panels), series and x values, in order. */
struct lay {
	long cf, cb, cx;
	struct au_strv fv, bv, xv;
	int *pal;             /* palette index per series */
};

/* Replicate statistics of one point as 7 data columns (uses g). */
#define stat_cols(d, v, n) pl_stat_cols_(g, d, v, n)

/* ---- plot_style.c: text ---- */
/* asprintf into a new string; NULL when out of memory. */
char *pl_str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* s as a gnuplot double-quoted string. */
void pl_gq(FILE *f, const char *s);
/* A plot item's data source: the quoted data file first, '' after. */
void pl_src(FILE *f, const char *dat_name, bool first);
/* s as one quoted data-file token (quotes and newlines replaced). */
void pl_dtok(FILE *f, const char *s);
/* Whether s is a whole number (strtod). */
bool pl_is_num(const char *s);
/* Index of x in v, or -1. */
long pl_find_str(const struct au_strv *v, const char *x);

/* ---- plot_style.c: runs, layout, replicates ---- */
/* Whether column c is the replacement policy. */
bool pl_is_policy_col(const struct rs *s, long c);
/* Position of a policy among the registered ones (1000 when unknown). */
long pl_policy_rank(const char *name);
/* Distinct values of column c over g->ok runs, in display order (policies
 * in registry order, numbers numerically); -1 out of memory. */
int pl_values(struct fig *g, long c, struct au_strv *out);
void pl_lay_free(struct lay *l);
/* Column of a key the user named for option opt (NULL name: -1, 0);
 * VL_EUSAGE naming an unknown key. */
int pl_key(struct fig *g, const char *name, const char *opt, long *out, struct vl_error *err);
/* Check the grouping (rs_check over l's keys; x too unless it comes from
 * the data) and fill l's value lists and palette.  0 or VL_EUSAGE/ENOMEM. */
int pl_layout(struct fig *g, struct lay *l, bool x_from_data, struct vl_error *err);
/* " (mean and 95% CI of N seeds)" when points aggregate replicates, else "". */
const char *pl_rep_note(const struct fig *g);
/* Write " mean lo hi n min median max" of v[0..n) ("?" when n is 0). */
void pl_stat_cols_(struct fig *g, FILE *d, double *v, size_t n);
/* 1-based columns of y, ylow, yhigh for the error mode, from a group at off. */
void pl_ycols(const struct fig *g, int off, int *y, int *lo, int *hi);

/* ---- plot_style.c: labels and the script ---- */
/* Axis label of a counter or /summary number, from its help text. */
void pl_counter_label(const char *name, char *buf, size_t len);
/* Axis label of a configuration key, from its help text, with the key. */
void pl_key_label(const struct rs *s, long c, char *buf, size_t len);
/* "trace, OS, memory" that every run of the figure shares (skipping two
 * columns that are drawn anyway). */
void pl_context(struct fig *g, long skip1, long skip2, char *buf, size_t len);
/* --size into w, h; VL_EUSAGE when it is not WxH. */
int pl_term_size(struct fig *g, double *w, double *h, struct vl_error *err);
/* Terminal, output, styles (one per series of l) for npanels panels;
 * sets g->wpt/hpt.  0 or VL_EUSAGE (--size). */
int pl_header(struct fig *g, const char *what, size_t npanels, const struct lay *l,
	      bool bars, struct vl_error *err);
/* Fill style of bars of palette index p: solid or hatched. */
void pl_bar_fill(FILE *f, int p);
/* Grid of n panels (one column when g->vertical). */
void pl_panels_begin(struct fig *g, int n, int *rows, int *cols);
/* "set WHAT \"t\"". */
void pl_title_cmd(FILE *f, const char *what, const char *t);
/* Panel fi's title, "KEY: value" of the facet parameter ("" without
 * one, or without a layout l). */
void pl_facet_title(const struct fig *g, const struct lay *l, size_t fi, char *buf, size_t n);
/* Before panel k of n: the multiplot and shared legend (k 0), titles. */
void pl_panel(struct fig *g, int k, int n, int rows, int cols, const char *title,
	      const char *ptitle, const char *keytitle);
/* After the last panel. */
void pl_panels_end(struct fig *g, int n);
/* Whether run i is of kind k ("run", "mrc"). */
bool pl_kind_is(const struct rs *s, size_t i, const char *k);
/* VL_ENOENT with what when g->ok selects no run. */
int pl_check_any(struct fig *g, const char *what, struct vl_error *err);
/* Divisor and name (KiB, MiB, GiB) for memory up to max bytes. */
double pl_mem_unit(double max, const char **name);

/* ---- plot_kinds.c: one function per kind ---- */
int pl_plot_mrc(struct fig *g, struct vl_error *err);
int pl_plot_timeline(struct fig *g, struct vl_error *err);
int pl_plot_bars(struct fig *g, struct vl_error *err);
int pl_plot_tlb(struct fig *g, struct vl_error *err);
int pl_plot_validation(struct fig *g, struct vl_error *err);

#endif
