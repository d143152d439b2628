/* analysis/plot.c - gnuplot figures from results files (plot.h).
 *
 * Each kind selects runs (runset.h: --where, --run), checks that the runs
 * it would merge differ in nothing but run.seed, aggregates replicates
 * (mean and 95% t interval, or median and min..max) per facet, series and
 * x, writes FIG.dat (whitespace columns, "#" comments; gnuplot `index`
 * blocks separated by two blank lines) and FIG.gp that draws it, and runs
 * gnuplot.  Everything is made in a temporary directory beside the figure,
 * ".FIG.plot-XXXXXX", renamed into place (data, script, figure) only when
 * gnuplot succeeded, so a failed plot leaves the directory as it was.
 *
 * Style: a fixed colour-blind-safe palette (Okabe & Ito, 2008, with grey
 * in place of yellow), each series also with its own marker and dash type
 * (bars: solid or hatched), so series stay apart in greyscale.  A
 * replacement policy always gets the same style, its position among the
 * registered policies, in every figure.  Legends sit outside the data and
 * are titled with the parameter; labels come from the counters' and keys'
 * help text; memory is shown in KiB/MiB/GiB.  Text goes through the
 * noenhanced terminals (counter names keep their underscores).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/plot.h"
#include "analysis/runset.h"
#include "analysis/util.h"
#include "vmlab/config.h"
#include "vmlab/counters.h"
#include "vmlab/policy.h"

static const char *const palette[] = { "#0072B2", "#D55E00", "#009E73", "#CC79A7",
				       "#E69F00", "#56B4E9", "#000000", "#999999" };
static const int markers[] = { 7, 5, 9, 13, 11, 6, 4, 8, 12, 10 };
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

/* ---- small helpers ---- */

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* Write s as a gnuplot double-quoted string. */
static void gq(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
	fputc('"', f);
}

/* The data file in a plot command: named by the first item, '' after. */
static void src(FILE *f, const char *dat_name, bool first)
{
	fputs("  ", f);
	if (first)
		gq(f, dat_name);
	else
		fputs("''", f);
}

/* Data-file token: no whitespace or quotes inside. */
static void dtok(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fputc(*s == '"' || *s == '\n' ? '\'' : *s, f);
	fputc('"', f);
}

static bool is_num(const char *s)
{
	char *e;
	if (!*s)
		return false;
	strtod(s, &e);
	return *e == '\0';
}

static long find_str(const struct au_strv *v, const char *x)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], x))
			return (long)i;
	return -1;
}

static bool is_policy_col(const struct rs *s, long c)
{
	return c >= 0 && (!strcmp(s->cols[c].name, "replacement.policy") ||
			  !strcmp(s->cols[c].name, "policy"));
}

static long policy_rank(const char *name)
{
	for (size_t i = 0; vl_repl_at(i); i++)
		if (!strcmp(vl_repl_at(i)->name, name))
			return (long)i;
	return 1000;
}

static const struct rs *sort_rs;
static long sort_col;
static int cmp_vals(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	if (is_policy_col(sort_rs, sort_col)) {
		long px = policy_rank(x), py = policy_rank(y);
		if (px != py)
			return px < py ? -1 : 1;
	}
	if (is_num(x) && is_num(y)) {
		double dx = strtod(x, NULL), dy = strtod(y, NULL);
		if (dx != dy)
			return dx < dy ? -1 : 1;
	}
	return strcmp(x, y);
}

/* Distinct values of column c over the figure's runs, in display order. */
static int values(struct fig *g, long c, struct au_strv *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < g->s->nruns; i++) {
		if (!g->ok[i])
			continue;
		const char *v = c >= 0 ? rs_val(g->s, i, c) : "";
		if (find_str(out, v) < 0 && au_strv_push(out, v) < 0)
			return -1;
	}
	sort_rs = g->s;
	sort_col = c;
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(char *), cmp_vals);
	return 0;
}

static void lay_free(struct lay *l)
{
	au_strv_free(&l->fv);
	au_strv_free(&l->bv);
	au_strv_free(&l->xv);
	free(l->pal);
}

/* Resolve a key the user named (NULL: none, dflt when given). */
static int key(struct fig *g, const char *name, const char *opt, long *out, struct vl_error *err)
{
	*out = -1;
	if (!name || !*name)
		return 0;
	*out = rs_find(g->s, name);
	if (*out < 0)
		return vl_err(err, VL_EUSAGE,
			      "%s %s: no such key in %s (keys: trace, os, seed, run, cell, policy, "
			      "frames, any configuration key of `vmlab config`)",
			      opt, name, vl_results_path(g->r));
	return 0;
}

/* Check the grouping and fill the layout's value lists. */
static int layout(struct fig *g, struct lay *l, bool x_from_data, struct vl_error *err)
{
	long named[3] = { l->cf, l->cb, x_from_data ? -1 : l->cx };
	int rc = rs_check(g->s, g->ok, named, 3, err);
	if (rc < 0)
		return rc;
	if (values(g, l->cf, &l->fv) < 0 || values(g, l->cb, &l->bv) < 0 ||
	    (!x_from_data && values(g, l->cx, &l->xv) < 0))
		return vl_err(err, VL_ENOMEM, "out of memory");
	l->pal = calloc(l->bv.n + 1, sizeof(int));
	if (!l->pal)
		return vl_err(err, VL_ENOMEM, "out of memory");
	for (size_t b = 0; b < l->bv.n; b++) {
		long p = is_policy_col(g->s, l->cb) ? policy_rank(l->bv.v[b]) : 1000;
		l->pal[b] = p < 1000 ? (int)p : (int)b;
	}
	return 0;
}

/* " (mean and 95% CI of 2 seeds)" when points aggregate replicates. */
static const char *rep_note(const struct fig *g)
{
	static char buf[96];
	static const char *const what[] = { "mean and 95%% CI", "median and min..max", "mean" };
	char fmt[64];
	if (g->maxn < 2)
		return "";
	snprintf(fmt, sizeof(fmt), " (%s of %%zu seeds)", what[g->emode]);
	snprintf(buf, sizeof(buf), fmt, g->maxn);
	return buf;
}

/* Replicates: the y values of runs in one cell of the layout. */
#define stat_cols(d, v, n) stat_cols_(g, d, v, n)
static void stat_cols_(struct fig *g, FILE *d, double *v, size_t n)
{
	g->maxn = n > g->maxn ? n : g->maxn;
	if (n == 0) {
		fprintf(d, " ? ? ? 0 ? ? ?");
		return;
	}
	struct rs_stat st;
	rs_stats(v, n, &st);
	fprintf(d, " %.10g %.10g %.10g %zu %.10g %.10g %.10g", st.mean, st.lo, st.hi, st.n, st.min,
		st.median, st.max);
}

/* Columns (1-based, relative to a 7-column stat group at off) that the
 * error mode draws: y, ylow, yhigh. */
static void ycols(const struct fig *g, int off, int *y, int *lo, int *hi)
{
	switch (g->emode) {
	case 1: *y = off + 5; *lo = off + 4; *hi = off + 6; break;
	default: *y = off; *lo = off + 1; *hi = off + 2; break;
	}
}

/* ---- labels ---- */

/* Axis label of a counter: its help text up to the first '(' or ':'. */
static void counter_label(const char *name, char *buf, size_t len)
{
	static const char *const own[][2] = {
		{ "faults", "faults" },
		{ "faults_hard", "hard faults (page-file and file reads)" },
		{ "faults_soft", "soft faults (no I/O)" },
		{ "faults_demand_zero", "demand-zero faults" },
		{ "fault_ratio", "miss ratio (faults per access)" },
		{ "walks", "page walks" },
		{ "resident_peak", "peak resident pages (4 KiB)" },
		{ "est_cycles", "estimated cycles" },
		{ "wall_seconds", "wall time (s)" },
	};
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!strcmp(name, own[i][0])) {
			snprintf(buf, len, "%s", own[i][1]);
			return;
		}
	size_t n = strlen(name);
	if (!strncmp(name, "tlb_", 4) && n > 11 && !strcmp(name + n - 7, "_misses")) {
		snprintf(buf, len, "%.*s TLB misses", (int)(n - 11), name + 4);
		return;
	}
	if (!strncmp(name, "tlb_", 4) && n > 9 && !strcmp(name + n - 5, "_hits")) {
		snprintf(buf, len, "%.*s TLB hits", (int)(n - 9), name + 4);
		return;
	}
	for (size_t i = 0; i < vl_counter_count(); i++)
		if (!strcmp(vl_counter_name(i), name)) {
			const char *h = vl_counter_help(i);
			size_t k = strcspn(h, "(:");
			while (k && h[k - 1] == ' ')
				k--;
			snprintf(buf, len, "%.*s (%s)", (int)k, h, name);
			return;
		}
	snprintf(buf, len, "%s", name);
}

/* Axis label of a configuration key: its help text ("entries of TLB l2")
 * and the key. */
static void key_label(const struct rs *s, long c, char *buf, size_t len)
{
	const char *name = c >= 0 ? s->cols[c].name : "";
	if (!strcmp(name, "frames") || !strcmp(name, "memory.frames") ||
	    !strcmp(name, "memory.size")) {
		snprintf(buf, len, "physical memory");
		return;
	}
	if (!strcmp(name, "trace") || !strcmp(name, "run_id")) {
		snprintf(buf, len, "%s", rs_short(s, c));
		return;
	}
	struct vl_config *cfg = NULL;
	struct vl_error e = { 0 };
	snprintf(buf, len, "%s", name);
	if (vl_config_new(&cfg, &e) < 0)
		return;
	for (size_t i = 0; vl_config_key(cfg, i); i++) {
		const struct vl_key_def *d = vl_config_key(cfg, i);
		/* match with '*' standing for one segment, remembering it */
		const char *p = d->key, *q = name, *star = NULL;
		size_t starlen = 0;
		bool m = true;
		while (*p && m) {
			if (*p == '*') {
				star = q;
				starlen = strcspn(q, ".");
				q += starlen;
				p++;
			} else if (*p == *q) {
				p++;
				q++;
			} else
				m = false;
		}
		if (!m || *q)
			continue;
		char help[256];
		snprintf(help, sizeof(help), "%s", d->help ? d->help : name);
		char *nm = star ? strstr(help, "NAME") : NULL;
		if (nm) {
			char rest[256];
			snprintf(rest, sizeof(rest), "%s", nm + 4);
			snprintf(nm, sizeof(help) - (size_t)(nm - help), "%.*s%s", (int)starlen, star,
				 rest);
		}
		size_t k = strcspn(help, "(;");
		while (k && help[k - 1] == ' ')
			k--;
		snprintf(buf, len, "%.*s (%s)", (int)k, help, name);
		break;
	}
	vl_config_free(cfg);
}

/* "trace X, OS Y" for what every run of the figure shares. */
static void context(struct fig *g, long skip1, long skip2, char *buf, size_t len)
{
	const char *keys[] = { "trace", "os.personality", "frames" };
	buf[0] = '\0';
	size_t used = 0;
	for (int k = 0; k < 3; k++) {
		long c = rs_find(g->s, keys[k]);
		if (c < 0 || c == skip1 || c == skip2)
			continue;
		struct au_strv v;
		if (values(g, c, &v) < 0)
			return;
		if (v.n == 1 && *v.v[0] && strcmp(v.v[0], "0")) { /* curves have frames 0 */
			char shown[160];
			rs_show(g->s, c, v.v[0], shown, sizeof(shown));
			int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", shown);
			used += w > 0 ? (size_t)w : 0;
			if (used >= len)
				used = len - 1;
		}
		au_strv_free(&v);
	}
}

/* ---- the script ---- */

static int term_size(struct fig *g, double *w, double *h, struct vl_error *err)
{
	if (!g->o->size)
		return 0;
	char *e;
	double a = strtod(g->o->size, &e);
	double b = (*e == 'x' || *e == 'X') ? strtod(e + 1, &e) : NAN;
	if (!(a > 0) || !(b > 0) || *e)
		return vl_err(err, VL_EUSAGE,
			      "--size '%s': expected WxH (pixels for png and svg, inches for pdf)",
			      g->o->size);
	*w = a;
	*h = b;
	return 0;
}

/* Terminal, output and styles.  rows x cols panels; nseries styles. */
static void panels_begin(struct fig *g, int n, int *rows, int *cols);

static int header(struct fig *g, const char *what, size_t npanels, const struct lay *l,
		  bool bars, struct vl_error *err)
{
	FILE *f = g->gp;
	int rows, cols;
	panels_begin(g, (int)npanels, &rows, &cols);
	bool pdf = !strcmp(g->ext, "pdf");
	double w = pdf ? (cols > 1 || g->vertical ? 7.0 : 3.5) : (cols > 1 ? 120 + 420.0 * cols : 960);
	double h = pdf ? (rows > 1 || cols > 1 ? 0.4 + 2.1 * rows : 2.4)
		       : (rows > 1 || cols > 1 ? 80 + 330.0 * rows : 600);
	VL_TRY(term_size(g, &w, &h, err));
	const char *font = g->o->font ? g->o->font : pdf ? "Sans,7" : "Sans,11";
	const char *comma = strchr(font, ',');
	double pts = comma ? strtod(comma + 1, NULL) : 0;
	if (!(pts > 0))
		pts = pdf ? 7 : 11;
	g->wpt = (pdf ? w * 72 : w) * 11 / pts;
	g->hpt = (pdf ? h * 72 : h) * 11 / pts;
	fprintf(f, "# vmlab plot %s of %s\n", g->o->kind, vl_results_path(g->r));
	fprintf(f, "# %s\n", what);
	fprintf(f, "# Data: %s.  Redraw after editing: cd to this directory, gnuplot %s\n",
		g->dat_name, g->gp_name);
	if (!strcmp(g->ext, "png"))
		fprintf(f, "set terminal pngcairo noenhanced size %.0f,%.0f font ", w, h);
	else if (pdf)
		fprintf(f, "set terminal pdfcairo noenhanced size %.2fin,%.2fin font ", w, h);
	else
		fprintf(f, "set terminal svg noenhanced size %.0f,%.0f dynamic font ", w, h);
	gq(f, font);
	fprintf(f, "\nset output ");
	gq(f, g->out_name);
	fprintf(f, "\nset datafile missing \"?\"\nset grid lc rgb \"#d0d0d0\"\nset border lw 1\n");
	/* one style per series: colour, marker, dash type; bars solid or hatched */
	for (size_t b = 0; l && b < (l->bv.n ? l->bv.n : 1); b++) {
		int p = l->pal ? l->pal[b] : (int)b;
		/* pdfcairo draws at its size in inches: thinner lines, smaller marks */
		fprintf(f, "set style line %zu lc rgb \"%s\" lw %s pt %d ps %s dt %d\n", b + 1,
			palette[p % NPAL], pdf ? "1.5" : "2", markers[p % NMARK], pdf ? "0.6" : "1.2",
			bars ? 1 : 1 + p % 5);
	}
	fprintf(g->dat, "# vmlab plot %s of %s\n", g->o->kind, vl_results_path(g->r));
	return 0;
}

/* Bars: fill of series b (palette index p). */
static void bar_fill(FILE *f, int p)
{
	static const int pattern[] = { 0, 4, 5, 1, 6, 7 }; /* 0: solid */
	if (pattern[p % 6] == 0)
		fprintf(f, "fs solid 0.9 border lc rgb \"black\"");
	else
		fprintf(f, "fs pattern %d border lc rgb \"black\"", pattern[p % 6]);
}

/* Panels: a multiplot with room for the legend at the right. */
static void panels_begin(struct fig *g, int n, int *rows, int *cols)
{
	*cols = n <= 1 || g->vertical ? 1 : n <= 4 ? (n == 3 ? 3 : 2) : 3;
	*rows = (n + *cols - 1) / *cols;
}

static void title_cmd(FILE *f, const char *what, const char *t)
{
	fprintf(f, "set %s ", what);
	gq(f, t);
	fputc('\n', f);
}

/* Before panel k of n: titles and legend placement (outside the data). */
static void panel(struct fig *g, int k, int n, int rows, int cols, const char *title,
		  const char *ptitle, const char *keytitle)
{
	FILE *f = g->gp;
	if (n <= 1) {
		title_cmd(f, "title", g->o->title ? g->o->title : title);
		fprintf(f, "set key outside right top vertical Left reverse %s title ",
			strcmp(g->ext, "pdf") ? "width 1" : "width 2 samplen 2");
		gq(f, keytitle);
		fputc('\n', f);
		return;
	}
	if (k == 0) {
		/* room in points: titles 75, x tics and label 80, between rows 120 */
		double left = 95 / g->wpt, right = 1 - 150 / g->wpt;
		double top = 1 - 75 / g->hpt, bottom = 80 / g->hpt, vsp = 120 / g->hpt;
		fprintf(f, "set multiplot layout %d,%d margins %.3f,%.3f,%.3f,%.3f spacing %.3f,%.3f "
			   "title ",
			rows, cols, left, right, bottom, top, left + 20 / g->wpt, vsp);
		gq(f, g->o->title ? g->o->title : title);
		fprintf(f, "\nset key at screen %.3f,%.3f top left vertical Left reverse %s title ",
			right + 10 / g->wpt, top,
			strcmp(g->ext, "pdf") ? "width 1" : "width 2 samplen 2");
		gq(f, keytitle);
		fputc('\n', f);
	} else if (k == 1) {
		fprintf(f, "unset key\n");
	}
	title_cmd(f, "title", ptitle);
}

static void panels_end(struct fig *g, int n)
{
	if (n > 1)
		fprintf(g->gp, "unset multiplot\n");
}

/* ---- kinds ---- */

static bool kind_is(const struct rs *s, size_t i, const char *k)
{
	return !strcmp(rs_val(s, i, rs_find(s, "kind")), k);
}

static int check_any(struct fig *g, const char *what, struct vl_error *err)
{
	for (size_t i = 0; i < g->s->nruns; i++)
		if (g->ok[i])
			return 0;
	return vl_err(err, VL_ENOENT, "%s: %s", vl_results_path(g->r), what);
}

/* Unit for memory in bytes up to max: divisor and name. */
static double mem_unit(double max, const char **name)
{
	if (max >= 4.0 * (1 << 30)) {
		*name = "GiB";
		return 1 << 30;
	}
	if (max >= 4.0 * (1 << 20)) {
		*name = "MiB";
		return 1 << 20;
	}
	*name = "KiB";
	return 1024;
}

static int plot_mrc(struct fig *g, struct vl_error *err)
{
	struct rs *s = g->s;
	struct lay l = { -1, -1, -1, { 0 }, { 0 }, { 0 }, NULL };
	int rc = 0;
	bool curves = false;
	for (size_t i = 0; i < s->nruns; i++)
		curves = curves || (s->sel[i] && kind_is(s, i, "mrc"));
	const char *ycounter = g->o->counter ? g->o->counter : "fault_ratio";
	long cy = curves ? -1 : rs_find(s, ycounter);
	if (!curves && cy < 0)
		return vl_err(err, VL_EUSAGE, "--counter %s: no such counter in %s", ycounter,
			      vl_results_path(g->r));
	for (size_t i = 0; i < s->nruns; i++)
		g->ok[i] = s->sel[i] && kind_is(s, i, curves ? "mrc" : "run") &&
			   (curves || *rs_val(s, i, cy));
	VL_TRY(check_any(g, "no miss-ratio curve (vmlab mrc -o) and no engine runs to draw one from",
			 err));
	if ((rc = key(g, g->o->facet, "--facet", &l.cf, err)) < 0 ||
	    (rc = key(g, g->o->by ? g->o->by : "policy", "--by", &l.cb, err)) < 0 ||
	    (rc = key(g, curves ? NULL : g->o->x ? g->o->x : "frames", "--x", &l.cx, err)) < 0)
		return rc;
	if ((rc = layout(g, &l, curves, err)) < 0)
		goto out;
	bool memx = curves || !strcmp(s->cols[l.cx].name, "frames") ||
		    !strcmp(s->cols[l.cx].name, "memory.frames") ||
		    !strcmp(s->cols[l.cx].name, "memory.size");
	double bytes_per = !curves && !strcmp(s->cols[l.cx].name, "memory.size") ? 1 : VL_PAGE_SIZE;
	if (!curves && !s->cols[l.cx].numeric) {
		rc = vl_err(err, VL_EUSAGE, "--x %s: mrc needs a numeric x (memory.frames by default)",
			    s->cols[l.cx].name);
		goto out;
	}
	/* points: (facet, series, x) -> values; read curves once */
	size_t nf = l.fv.n ? l.fv.n : 1, nb = l.bv.n ? l.bv.n : 1;
	struct pt {
		size_t f, b;
		double x, y;
	} *pts = NULL;
	size_t npts = 0, cap = 0;
	double xmax = 0, xmin = INFINITY;
	char method[64] = "";
	for (size_t i = 0; i < s->nruns && rc == 0; i++) {
		if (!g->ok[i])
			continue;
		size_t f = (size_t)(l.cf >= 0 ? find_str(&l.fv, rs_val(s, i, l.cf)) : 0);
		size_t b = (size_t)(l.cb >= 0 ? find_str(&l.bv, rs_val(s, i, l.cb)) : 0);
		struct vl_table t = { .size = sizeof(t) };
		size_t k0 = 0, k1 = 1;
		if (curves) {
			char path[VL_RUN_ID_MAX + 16];
			snprintf(path, sizeof(path), "/runs/%s/mrc", rs_val(s, i, rs_find(s, "run_id")));
			if ((rc = vl_results_table(g->r, path, &t, err)) < 0)
				break;
			if (vl_table_col(&t, "frames") < 0 || vl_table_col(&t, "miss_ratio") < 0) {
				rc = vl_err(err, VL_EFORMAT, "%s: %s lacks frames/miss_ratio fields",
					    vl_results_path(g->r), path);
				vl_table_free(&t);
				break;
			}
			const char *m = vl_table_attr(&t, "method"), *sr = vl_table_attr(&t, "sample_rate");
			if (m && !strcmp(m, "shards"))
				snprintf(method, sizeof(method), "SHARDS at rate %s", sr ? sr : "?");
			k1 = t.nrows;
		}
		for (size_t k = k0; k < k1; k++) {
			if (npts == cap) {
				cap = cap ? 2 * cap : 256;
				struct pt *np = realloc(pts, cap * sizeof(*np));
				if (!np) {
					rc = vl_err(err, VL_ENOMEM, "out of memory");
					break;
				}
				pts = np;
			}
			struct pt *p = &pts[npts++];
			p->f = f;
			p->b = b;
			if (curves) {
				p->x = t.v[k * t.ncols + vl_table_col(&t, "frames")] * VL_PAGE_SIZE;
				p->y = t.v[k * t.ncols + vl_table_col(&t, "miss_ratio")];
			} else {
				p->x = strtod(rs_val(s, i, l.cx), NULL) * (memx ? bytes_per : 1);
				p->y = strtod(rs_val(s, i, cy), NULL);
			}
			xmax = fmax(xmax, p->x);
			if (p->x > 0)
				xmin = fmin(xmin, p->x);
		}
		if (curves)
			vl_table_free(&t);
	}
	if (rc < 0)
		goto pts_out;
	const char *uname = "";
	/* log memory axes are drawn in bytes with ticks labelled KiB/MiB/GiB */
	bool logmem = memx && g->o->logx && xmin < INFINITY;
	double unit = logmem ? 1 : memx ? mem_unit(xmax, &uname) : 1;
	TRY_GOTO(rc, header(g, "miss ratio against memory; one data block per panel and series",
			       nf, &l, false, err), pts_out);
	FILE *d = g->dat;
	fprintf(d, "# blocks: for each panel (%s) each series (%s), in the order below\n"
		   "# x mean ci95_low ci95_high n min median max\n",
		l.cf >= 0 ? s->cols[l.cf].name : "one panel", l.cb >= 0 ? s->cols[l.cb].name : "one");
	bool reps = false;
	double *vals = malloc((npts ? npts : 1) * sizeof(double));
	bool *done = calloc(npts ? npts : 1, sizeof(bool));
	if (!vals || !done) {
		free(vals);
		free(done);
		rc = vl_err(err, VL_ENOMEM, "out of memory");
		goto pts_out;
	}
	for (size_t f = 0; f < nf; f++)
		for (size_t b = 0; b < nb; b++) {
			fprintf(d, "# panel %zu %s, series %zu %s\n", f, l.fv.n ? l.fv.v[f] : "", b,
				l.bv.n ? l.bv.v[b] : "");
			/* x values in order: repeatedly the smallest not done */
			size_t wrote = 0;
			for (;;) {
				double xm = INFINITY;
				for (size_t k = 0; k < npts; k++)
					if (!done[k] && pts[k].f == f && pts[k].b == b && pts[k].x < xm)
						xm = pts[k].x;
				if (xm == INFINITY)
					break;
				size_t n = 0;
				for (size_t k = 0; k < npts; k++)
					if (!done[k] && pts[k].f == f && pts[k].b == b && pts[k].x == xm) {
						vals[n++] = pts[k].y;
						done[k] = true;
					}
				reps = reps || n > 1;
				fprintf(d, "%.10g", xm / unit);
				stat_cols(d, vals, n);
				fputc('\n', d);
				wrote++;
			}
			if (!wrote)
				fprintf(d, "? ? ? ? 0 ? ? ?\n");
			fprintf(d, "\n\n");
		}
	free(vals);
	free(done);
	FILE *f = g->gp;
	char xl[256], ctx[256], title[400];
	if (memx)
		snprintf(xl, sizeof(xl), logmem ? "physical memory" : "physical memory (%s)", uname);
	else
		key_label(s, l.cx, xl, sizeof(xl));
	context(g, l.cf, -1, ctx, sizeof(ctx));
	snprintf(title, sizeof(title), "Miss-ratio curve%s%s%s%s%s%s", *ctx ? ": " : "", ctx, rep_note(g),
		 *method ? " (" : "", method, *method ? ")" : "");
	fprintf(f, "set xlabel ");
	gq(f, xl);
	fprintf(f, "\nset ylabel ");
	char yl[200];
	counter_label(curves ? "fault_ratio" : ycounter, yl, sizeof(yl));
	gq(f, yl);
	fputc('\n', f);
	if (logmem) { /* a tick at powers of 2, 4, 16 ... apart: at most 8 */
		fprintf(f, "set logscale x 2\nset xtics (");
		double lo = pow(2, floor(log2(xmin))), hi = pow(2, ceil(log2(xmax)));
		double step = 2;
		while (log2(hi / lo) / log2(step) > 8)
			step *= step;
		for (double t = lo; t <= hi * 1.0001; t *= step) {
			char lbl[32];
			rs_bytes(t, lbl, sizeof(lbl));
			fprintf(f, "%s\"%s\" %.0f", t > lo ? ", " : "", lbl, t);
		}
		fprintf(f, ")\n");
	} else if (g->o->logx) {
		fprintf(f, "set logscale x 2\n");
	} else if (memx && xmax > 0) { /* about five ticks, a power of two apart */
		double step = 1;
		while (xmax / unit / step > 6)
			step *= 2;
		while (xmax / unit / step < 3 && step > 1.0 / 1024)
			step /= 2;
		fprintf(f, "set xtics 0,%g\nset xrange [0:*]\n", step);
	}
	if (g->o->logy)
		fprintf(f, "set logscale y\nset format y \"%%g\"\n");
	else
		fprintf(f, "set yrange [0:*]\n");
	int rows, cols;
	panels_begin(g, (int)nf, &rows, &cols);
	bool err_bars = reps && g->emode != 2;
	int yc, lo, hi;
	ycols(g, 2, &yc, &lo, &hi);
	for (size_t fi = 0; fi < nf; fi++) {
		char pt[200] = "";
		if (l.cf >= 0) {
			char v[160];
			rs_show(s, l.cf, l.fv.v[fi], v, sizeof(v));
			snprintf(pt, sizeof(pt), "%s: %s", rs_short(s, l.cf), v);
		}
		panel(g, (int)fi, (int)nf, rows, cols, title, pt,
		      l.cb >= 0 ? rs_short(s, l.cb) : "");
		fprintf(f, "plot \\\n");
		for (size_t b = 0; b < nb; b++) {
			char v[160] = "";
			if (l.bv.n)
				rs_show(s, l.cb, l.bv.v[b], v, sizeof(v));
			src(f, g->dat_name, b == 0);
			fprintf(f, " index %zu using 1:%d", fi * nb + b, yc);
			if (err_bars)
				fprintf(f, ":%d:%d with yerrorlines", lo, hi);
			else
				fprintf(f, " with linespoints");
			fprintf(f, " ls %zu title ", b + 1);
			gq(f, v);
			fprintf(f, "%s\n", b + 1 < nb ? ", \\" : "");
		}
	}
	panels_end(g, (int)nf);
pts_out:
	free(pts);
out:
	lay_free(&l);
	return rc;
}

static int read_timeline(struct fig *g, size_t i, struct vl_table *t, struct vl_error *err)
{
	char path[VL_RUN_ID_MAX + 16];
	snprintf(path, sizeof(path), "/runs/%s/timeline", rs_val(g->s, i, rs_find(g->s, "run_id")));
	return vl_results_table(g->r, path, t, err);
}

static int plot_timeline(struct fig *g, struct vl_error *err)
{
	struct rs *s = g->s;
	struct lay l = { -1, -1, -1, { 0 }, { 0 }, { 0 }, NULL };
	int rc;
	for (size_t i = 0; i < s->nruns; i++) {
		struct vl_table t = { .size = sizeof(t) };
		struct vl_error e = { 0 };
		g->ok[i] = s->sel[i] && kind_is(s, i, "run") && read_timeline(g, i, &t, &e) == 0;
		if (g->ok[i])
			vl_table_free(&t);
	}
	VL_TRY(check_any(g, "no run with a timeline (vmlab run -s stats.interval=N -o FILE)", err));
	if ((rc = key(g, g->o->facet, "--facet", &l.cf, err)) < 0 ||
	    (rc = key(g, g->o->by, "--by", &l.cb, err)) < 0)
		return rc;
	if ((rc = layout(g, &l, true, err)) < 0)
		goto out;
	size_t nf = l.fv.n ? l.fv.n : 1, nb = l.bv.n ? l.bv.n : 1;
	bool one = nb == 1 && l.cb < 0;
	TRY_GOTO(rc, header(g, "faults per interval (and working set) against accesses", nf, &l,
			       false, err), out);
	FILE *d = g->dat;
	static const char *const cols[] = { "faults", "faults_hard", "ws_pages", "free_frames" };
	fprintf(d, "# blocks: for each panel each series; interval_start interval_end then, for "
		   "faults, faults_hard, ws_pages, free_frames: mean ci95_low ci95_high n min median "
		   "max over replicates\n");
	bool reps = false;
	char iv[64] = "?";
	for (size_t f = 0; f < nf && rc == 0; f++)
		for (size_t b = 0; b < nb && rc == 0; b++) {
			fprintf(d, "# panel %zu %s, series %zu %s\n", f, l.fv.n ? l.fv.v[f] : "", b,
				l.bv.n ? l.bv.v[b] : "");
			struct vl_table tabs[64];
			size_t nt = 0, rows = 0;
			for (size_t i = 0; i < s->nruns; i++) {
				if (!g->ok[i] ||
				    (l.cf >= 0 && strcmp(rs_val(s, i, l.cf), l.fv.v[f])) ||
				    (l.cb >= 0 && strcmp(rs_val(s, i, l.cb), l.bv.v[b])))
					continue;
				if (nt == 64) {
					rc = vl_err(err, VL_EUSAGE,
						    "%s: more than 64 replicates in one series of a timeline; "
						    "keep fewer seeds with --where seed=...",
						    vl_results_path(g->r));
					break;
				}
				tabs[nt].size = sizeof(tabs[nt]);
				if ((rc = read_timeline(g, i, &tabs[nt], err)) < 0)
					break;
				long cend = vl_table_col(&tabs[nt], "accesses_end"),
				     cacc = vl_table_col(&tabs[nt], "accesses"),
				     cf0 = vl_table_col(&tabs[nt], "faults");
				if (cend < 0 || cacc < 0 || cf0 < 0) {
					vl_table_free(&tabs[nt]);
					rc = vl_err(err, VL_EFORMAT,
						    "%s: run %s's timeline lacks accesses_end/accesses/faults",
						    vl_results_path(g->r), rs_val(s, i, rs_find(s, "run_id")));
					break;
				}
				const char *a = vl_table_attr(&tabs[nt], "interval_accesses");
				if (a)
					snprintf(iv, sizeof(iv), "%s", a);
				if (tabs[nt].nrows > rows)
					rows = tabs[nt].nrows;
				nt++;
			}
			reps = reps || nt > 1;
			/* one line per interval, and a last one at the end to close the steps */
			for (size_t k = 0; k <= rows && rc == 0 && rows; k++) {
				size_t kk = k < rows ? k : rows - 1;
				double start = NAN, end = NAN;
				for (size_t t = 0; t < nt; t++)
					if (kk < tabs[t].nrows) {
						const double *v = &tabs[t].v[kk * tabs[t].ncols];
						end = v[vl_table_col(&tabs[t], "accesses_end")];
						start = end - v[vl_table_col(&tabs[t], "accesses")];
						break;
					}
				fprintf(d, "%.0f %.0f", k < rows ? start : end, end);
				for (int c = 0; c < 4; c++) {
					double vals[64];
					size_t n = 0;
					for (size_t t = 0; t < nt; t++) {
						long ci = vl_table_col(&tabs[t], cols[c]);
						if (kk < tabs[t].nrows && ci >= 0)
							vals[n++] = tabs[t].v[kk * tabs[t].ncols + ci];
					}
					stat_cols(d, vals, n);
				}
				fputc('\n', d);
			}
			if (!rows)
				fprintf(d, "? ?\n");
			fprintf(d, "\n\n");
			for (size_t t = 0; t < nt; t++)
				vl_table_free(&tabs[t]);
		}
	if (rc < 0)
		goto out;
	FILE *f = g->gp;
	char ctx[256], title[512];
	context(g, l.cf, l.cb, ctx, sizeof(ctx));
	snprintf(title, sizeof(title), "Faults over the run%s%s%s", *ctx ? ": " : "", ctx,
		 rep_note(g));
	if (one && l.cf < 0) { /* name the policy when there is one run or group */
		long cp = rs_find(s, "policy");
		for (size_t i = 0; i < s->nruns && cp >= 0; i++)
			if (g->ok[i]) {
				snprintf(title, sizeof(title), "Faults over the run%s%s, %s%s",
					 *ctx ? ": " : "", ctx, rs_val(s, i, cp), rep_note(g));
				break;
			}
	}
	fprintf(f, "set xlabel \"accesses (millions)\"\nset ylabel \"faults per %s accesses\"\n"
		   "set xrange [0:*]\nset autoscale xfixmax\n"
		   "set ytics nomirror\nset yrange [0:*]\n", iv);
	if (g->o->logy)
		fprintf(f, "set logscale y\nset yrange [*:*]\n");
	if (one)
		fprintf(f, "set y2label \"pages (4 KiB)\"\nset y2tics\nset y2range [0:*]\n");
	int prow, pcol;
	panels_begin(g, (int)nf, &prow, &pcol);
	bool eb = reps && g->emode != 2;
	int yc, lo, hi;
	ycols(g, 3, &yc, &lo, &hi);
	for (size_t fi = 0; fi < nf; fi++) {
		char pt[200] = "";
		if (l.cf >= 0) {
			char v[160];
			rs_show(s, l.cf, l.fv.v[fi], v, sizeof(v));
			snprintf(pt, sizeof(pt), "%s: %s", rs_short(s, l.cf), v);
		}
		panel(g, (int)fi, (int)nf, prow, pcol, title, pt, l.cb >= 0 ? rs_short(s, l.cb) : "");
		fprintf(f, "plot \\\n");
		for (size_t b = 0; b < nb; b++) {
			char v[160] = "faults";
			if (l.bv.n && l.cb >= 0)
				rs_show(s, l.cb, l.bv.v[b], v, sizeof(v));
			size_t ix = fi * nb + b;
			src(f, g->dat_name, b == 0);
			fprintf(f, " index %zu using ($1/1e6):%d with steps ls %zu title ", ix, yc, b + 1);
			gq(f, v);
			if (eb) {
				fprintf(f, ", \\\n  '' index %zu using (($1+$2)/2e6):%d:%d:%d with yerrorbars "
					   "ls %zu pt 0 notitle", ix, yc, lo, hi, b + 1);
			}
			if (one) {
				fprintf(f, ", \\\n  '' index %zu using ($1/1e6):%d with steps ls %zu lw 1 "
					   "dt 1 lc rgb \"%s\" title \"hard faults\"",
					ix, yc + 7, b + 1, palette[1]);
				fprintf(f, ", \\\n  '' index %zu using ($2/1e6):%d axes x1y2 with lines lw 2 "
					   "dt 2 lc rgb \"%s\" title \"working set (pages)\"",
					ix, yc + 14, palette[2]);
				fprintf(f, ", \\\n  '' index %zu using ($2/1e6):%d axes x1y2 with lines lw 1 "
					   "dt 3 lc rgb \"%s\" title \"free frames\"",
					ix, yc + 21, palette[6]);
			}
			fprintf(f, "%s\n", b + 1 < nb ? ", \\" : "");
		}
	}
	panels_end(g, (int)nf);
out:
	lay_free(&l);
	return rc;
}

/* A clustered histogram per panel: rows = clusters (x), a 7-column stat
 * group per series.  The data has one block per panel. */
static void histogram_script(struct fig *g, const struct lay *l, size_t nf, size_t nb,
			     const char *title, const char *xlabel, const char *ylabel,
			     const char *keytitle, bool eb, bool logy, double ymin)
{
	FILE *f = g->gp;
	/* tick labels turn when they would not fit side by side in a panel */
	size_t longest = 0, nx = l && l->xv.n ? l->xv.n : 4;
	for (size_t x = 0; l && x < l->xv.n; x++) {
		char shown[160];
		rs_show(g->s, l->cx, l->xv.v[x], shown, sizeof(shown));
		longest = longest > strlen(shown) ? longest : strlen(shown);
	}
	int prow0, pcol0;
	panels_begin(g, (int)nf, &prow0, &pcol0);
	double panel_pt = (g->wpt - 300) / pcol0;
	fprintf(f, "set style data histograms\nset boxwidth 0.9\nset xtics nomirror%s\n",
		(double)longest * 8 > 0.75 * panel_pt / (double)nx ? " rotate by 30 right" : "");
	fprintf(f, ""
		   "set style histogram %s gap 1%s\n", eb ? "errorbars" : "clustered",
		eb ? " lw 1" : "");
	fprintf(f, "set xlabel ");
	gq(f, xlabel);
	fprintf(f, "\nset ylabel ");
	gq(f, ylabel);
	fputc('\n', f);
	if (logy) /* bars rise from a decade below the smallest value */
		fprintf(f, "set logscale y\nset yrange [%g:*]\n",
			pow(10, floor(log10((ymin > 0 ? ymin : 1) * 0.999))));
	else
		fprintf(f, "set yrange [0:*]\n");
	int rows, cols;
	panels_begin(g, (int)nf, &rows, &cols);
	int yc, lo, hi;
	for (size_t fi = 0; fi < nf; fi++) {
		char pt[200] = "";
		if (l && l->cf >= 0) {
			char v[160];
			rs_show(g->s, l->cf, l->fv.v[fi], v, sizeof(v));
			snprintf(pt, sizeof(pt), "%s: %s", rs_short(g->s, l->cf), v);
		}
		panel(g, (int)fi, (int)nf, rows, cols, title, pt, keytitle);
		fprintf(f, "plot \\\n");
		for (size_t b = 0; b < nb; b++) {
			ycols(g, 2 + 7 * (int)b, &yc, &lo, &hi);
			char v[160] = "";
			if (l && l->bv.n && l->cb >= 0)
				rs_show(g->s, l->cb, l->bv.v[b], v, sizeof(v));
			else if (!l || l->cb < 0)
				snprintf(v, sizeof(v), "%s", keytitle[0] ? "" : "");
			src(f, g->dat_name, b == 0);
			if (eb)
				fprintf(f, " index %zu using %d:%d:%d%s ls %zu ", fi, yc, lo, hi,
					b == 0 ? ":xtic(1)" : "", b + 1);
			else
				fprintf(f, " index %zu using %d%s ls %zu ", fi, yc,
					b == 0 ? ":xtic(1)" : "", b + 1);
			bar_fill(f, l && l->pal ? l->pal[b] : (int)b);
			fprintf(f, " title ");
			gq(f, v);
			fprintf(f, "%s\n", b + 1 < nb ? ", \\" : "");
		}
	}
	panels_end(g, (int)nf);
}

static int plot_bars(struct fig *g, struct vl_error *err)
{
	struct rs *s = g->s;
	const char *counter = g->o->counter ? g->o->counter : "faults";
	struct lay l = { -1, -1, -1, { 0 }, { 0 }, { 0 }, NULL };
	int rc;
	long cy = rs_find(s, counter);
	for (size_t i = 0; i < s->nruns; i++)
		g->ok[i] = s->sel[i] && kind_is(s, i, "run") && cy >= 0 && *rs_val(s, i, cy);
	if (cy < 0 || s->cols[cy].role == RS_PARAM) {
		for (size_t i = 0; i < s->nruns; i++)
			g->ok[i] = false;
	}
	char msg[200];
	snprintf(msg, sizeof(msg), "no run has a counter '%s' (see vmlab report --json)", counter);
	VL_TRY(check_any(g, msg, err));
	if ((rc = key(g, g->o->facet, "--facet", &l.cf, err)) < 0 ||
	    (rc = key(g, g->o->by ? g->o->by : "policy", "--by", &l.cb, err)) < 0 ||
	    (rc = key(g, g->o->x ? g->o->x : "frames", "--x", &l.cx, err)) < 0)
		return rc;
	if ((rc = layout(g, &l, false, err)) < 0)
		goto out;
	size_t nf = l.fv.n ? l.fv.n : 1, nb = l.bv.n ? l.bv.n : 1;
	TRY_GOTO(rc, header(g, "a counter across runs: clusters by one parameter, bars by another",
			       nf, &l, true, err), out);
	FILE *d = g->dat;
	fprintf(d, "# %s; a block per panel (%s); rows: %s; for each series (%s): mean ci95_low "
		   "ci95_high n min median max over replicates (runs differing only in run.seed)\n",
		counter, l.cf >= 0 ? s->cols[l.cf].name : "one panel", s->cols[l.cx].name,
		s->cols[l.cb].name);
	bool reps = false;
	double ymin = INFINITY;
	double *vals = malloc((s->nruns ? s->nruns : 1) * sizeof(double));
	if (!vals) {
		rc = vl_err(err, VL_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t f = 0; f < nf; f++) {
		fprintf(d, "# panel %zu %s\n# \"%s\"", f, l.fv.n ? l.fv.v[f] : "", s->cols[l.cx].name);
		for (size_t b = 0; b < nb; b++) {
			fputc(' ', d);
			dtok(d, l.bv.v[b]);
			fprintf(d, " lo hi n min median max");
		}
		fputc('\n', d);
		for (size_t x = 0; x < l.xv.n; x++) {
			char shown[160];
			rs_show(s, l.cx, l.xv.v[x], shown, sizeof(shown));
			dtok(d, shown);
			for (size_t b = 0; b < nb; b++) {
				size_t n = 0;
				for (size_t i = 0; i < s->nruns; i++)
					if (g->ok[i] && !strcmp(rs_val(s, i, l.cx), l.xv.v[x]) &&
					    !strcmp(rs_val(s, i, l.cb), l.bv.v[b]) &&
					    (l.cf < 0 || !strcmp(rs_val(s, i, l.cf), l.fv.v[f]))) {
						vals[n++] = strtod(rs_val(s, i, cy), NULL);
						ymin = fmin(ymin, vals[n - 1]);
					}
				reps = reps || n > 1;
				stat_cols(d, vals, n);
			}
			fputc('\n', d);
		}
		fprintf(d, "\n\n");
	}
	free(vals);
	char ctx[256], title[400], xl[256], yl[256];
	context(g, l.cf, l.cx, ctx, sizeof(ctx));
	counter_label(counter, yl, sizeof(yl));
	key_label(s, l.cx, xl, sizeof(xl));
	snprintf(title, sizeof(title), "%c%s%s%s%s", yl[0] >= 'a' && yl[0] <= 'z' ? yl[0] - 32 : yl[0],
		 yl + 1, *ctx ? ": " : "", ctx, rep_note(g));
	histogram_script(g, &l, nf, nb, title, xl, yl, rs_short(s, l.cb), reps && g->emode != 2,
			 g->o->logy, ymin);
out:
	lay_free(&l);
	return rc;
}

static int plot_tlb(struct fig *g, struct vl_error *err)
{
	struct rs *s = g->s;
	struct lay l = { -1, -1, -1, { 0 }, { 0 }, { 0 }, NULL };
	struct au_strv levels = { 0 };
	int rc;
	long cacc = rs_find(s, "accesses");
	for (size_t c = 0; c < s->ncols; c++) {
		const char *nm = s->cols[c].name;
		size_t len = strlen(nm);
		if (s->cols[c].role == RS_MEASURE && !strncmp(nm, "tlb_", 4) && len > 11 &&
		    !strcmp(nm + len - 7, "_misses")) {
			char lvl[64];
			snprintf(lvl, sizeof(lvl), "%.*s", (int)(len - 11), nm + 4);
			if (au_strv_push(&levels, lvl) < 0)
				return vl_err(err, VL_ENOMEM, "out of memory");
		}
	}
	for (size_t i = 0; i < s->nruns; i++) {
		bool any = false;
		for (size_t k = 0; k < levels.n && !any; k++) {
			char nm[96];
			snprintf(nm, sizeof(nm), "tlb_%s_misses", levels.v[k]);
			any = *rs_val(s, i, rs_find(s, nm));
		}
		g->ok[i] = s->sel[i] && any && strtod(rs_val(s, i, cacc), NULL) > 0;
	}
	rc = check_any(g, "no run has TLB counters (tlb_<level>_misses); they come from runs with "
			  "the TLB model", err);
	if (rc < 0 || (rc = key(g, g->o->facet, "--facet", &l.cf, err)) < 0 ||
	    (rc = key(g, g->o->by, "--by", &l.cb, err)) < 0)
		goto out;
	if ((rc = layout(g, &l, true, err)) < 0)
		goto out;
	size_t nf = l.fv.n ? l.fv.n : 1, nb = l.bv.n ? l.bv.n : 1;
	TRY_GOTO(rc, header(g, "TLB misses per 1000 accesses by level", nf, &l, true, err), out);
	FILE *d = g->dat;
	fprintf(d, "# misses per kilo-access = 1000 * tlb_<level>_misses / accesses; a block per "
		   "panel; for each series: mean ci95_low ci95_high n min median max\n");
	bool reps = false;
	double *vals = malloc((s->nruns ? s->nruns : 1) * sizeof(double));
	if (!vals) {
		rc = vl_err(err, VL_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t f = 0; f < nf; f++) {
		fprintf(d, "# panel %zu %s\n# \"level\"", f, l.fv.n ? l.fv.v[f] : "");
		for (size_t b = 0; b < nb; b++) {
			fputc(' ', d);
			dtok(d, l.cb >= 0 ? l.bv.v[b] : "all");
			fprintf(d, " lo hi n min median max");
		}
		fputc('\n', d);
		for (size_t k = 0; k < levels.n; k++) {
			char nm[96];
			snprintf(nm, sizeof(nm), "tlb_%s_misses", levels.v[k]);
			long cm = rs_find(s, nm);
			dtok(d, levels.v[k]);
			for (size_t b = 0; b < nb; b++) {
				size_t n = 0;
				for (size_t i = 0; i < s->nruns; i++)
					if (g->ok[i] && *rs_val(s, i, cm) &&
					    (l.cb < 0 || !strcmp(rs_val(s, i, l.cb), l.bv.v[b])) &&
					    (l.cf < 0 || !strcmp(rs_val(s, i, l.cf), l.fv.v[f])))
						vals[n++] = 1000.0 * strtod(rs_val(s, i, cm), NULL) /
							    strtod(rs_val(s, i, cacc), NULL);
				reps = reps || n > 1;
				stat_cols(d, vals, n);
			}
			fputc('\n', d);
		}
		fprintf(d, "\n\n");
	}
	free(vals);
	char ctx[256], title[400];
	context(g, l.cf, l.cb, ctx, sizeof(ctx));
	snprintf(title, sizeof(title), "TLB misses per kilo-access%s%s%s", *ctx ? ": " : "", ctx,
		 rep_note(g));
	histogram_script(g, &l, nf, nb, title, "TLB level", "misses per kilo-access",
			 l.cb >= 0 ? rs_short(s, l.cb) : "", reps && g->emode != 2, g->o->logy, 0.01);
out:
	au_strv_free(&levels);
	lay_free(&l);
	return rc;
}

/* An event's name for a panel: the libpfm name without its PMU prefix and
 * with at most its first modifier ("L1_DTLB_MISS:TLB_RELOAD_4K_L2_HIT"). */
static void event_short(const char *ev, char *buf, size_t len)
{
	const char *p = strstr(ev, "::");
	p = p ? p + 2 : ev;
	const char *c1 = strchr(p, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	size_t n = c2 ? (size_t)(c2 - p) : strlen(p);
	snprintf(buf, len, "%.*s", (int)n, p);
}

/* Validation: a panel per event that was measured somewhere, a cluster
 * per workload, simulated beside measured. */
static int plot_validation(struct fig *g, struct vl_error *err)
{
	char **names;
	size_t nn;
	int rc = vl_results_names(g->r, "/validation", &names, &nn, err);
	if (rc == VL_ENOENT || (rc == 0 && nn == 0)) {
		if (rc == 0)
			vl_results_names_free(names, nn);
		return vl_err(err, VL_ENOENT,
			      "%s: no /validation group: it holds measured-vs-simulated counters "
			      "written by hardware validation (layout in docs/results.md)",
			      vl_results_path(g->r));
	}
	if (rc < 0)
		return rc;
	struct lay l = { -1, -1, -1, { 0 }, { 0 }, { 0 }, NULL };
	struct au_strv evs = { 0 }, unmeasured = { 0 };
	struct row {
		size_t w, e;
		double sim, meas;
	} *rows = NULL;
	size_t nrows = 0;
	if (au_strv_push(&l.bv, "simulated") < 0 || au_strv_push(&l.bv, "measured") < 0 ||
	    !(l.pal = calloc(2, sizeof(int)))) {
		rc = vl_err(err, VL_ENOMEM, "out of memory");
		goto out;
	}
	l.pal[1] = 1;
	for (size_t i = 0; i < nn && rc == 0; i++) {
		char path[300];
		struct vl_table t = { .size = sizeof(t) };
		snprintf(path, sizeof(path), "/validation/%s", names[i]);
		if ((rc = vl_results_table(g->r, path, &t, err)) < 0)
			break;
		long cc = vl_table_col(&t, "event"), cs = vl_table_col(&t, "simulated"),
		     cm = vl_table_col(&t, "measured");
		if (cc < 0 || cs < 0 || cm < 0 || t.nrows == 0 || !t.strs[cc]) {
			rc = vl_err(err, VL_EFORMAT,
				    "%s: %s lacks the event/simulated/measured fields (docs/results.md)",
				    vl_results_path(g->r), path);
			vl_table_free(&t);
			break;
		}
		struct row *nr = realloc(rows, (nrows + t.nrows) * sizeof(*rows));
		if (!nr) {
			vl_table_free(&t);
			rc = vl_err(err, VL_ENOMEM, "out of memory");
			break;
		}
		rows = nr;
		for (size_t k = 0; k < t.nrows; k++) {
			char ev[256];
			const char *cn = t.strs[k * t.ncols + cc];
			event_short(cn ? cn : "?", ev, sizeof(ev));
			long e = find_str(&evs, ev);
			if (e < 0) {
				au_strv_push(&evs, ev);
				e = (long)evs.n - 1;
			}
			rows[nrows++] = (struct row){ i, (size_t)e, t.v[k * t.ncols + cs],
						      t.v[k * t.ncols + cm] };
		}
		vl_table_free(&t);
	}
	if (rc < 0)
		goto out;
	if (nrows == 0) {
		rc = vl_err(err, VL_ENOENT, "%s: /validation holds no rows", vl_results_path(g->r));
		goto out;
	}
	/* panels: events measured at least once */
	for (size_t e = 0; e < evs.n; e++) {
		bool m = false;
		for (size_t k = 0; k < nrows && !m; k++)
			m = rows[k].e == e && !isnan(rows[k].meas);
		if (m)
			au_strv_push(&l.fv, evs.v[e]);
		else
			au_strv_push(&unmeasured, evs.v[e]);
	}
	if (l.fv.n == 0) { /* nothing measured: show what was simulated */
		for (size_t e = 0; e < evs.n; e++)
			au_strv_push(&l.fv, evs.v[e]);
	}
	g->vertical = true;
	if ((rc = header(g, "simulated against measured counters: a panel per event, a cluster "
			    "per workload", l.fv.n, &l, true, err)) < 0)
		goto out;
	FILE *d = g->dat;
	if (unmeasured.n) {
		fprintf(d, "# not measured anywhere (no panel):");
		for (size_t e = 0; e < unmeasured.n; e++)
			fprintf(d, " %s", unmeasured.v[e]);
		fputc('\n', d);
	}
	bool positive = true;
	double ymin = INFINITY;
	for (size_t f = 0; f < l.fv.n; f++) {
		fprintf(d, "# panel %zu %s\n# \"workload\" \"simulated\" \"measured\"\n", f, l.fv.v[f]);
		long e = find_str(&evs, l.fv.v[f]);
		for (size_t k = 0; k < nrows; k++) {
			if ((long)rows[k].e != e)
				continue;
			dtok(d, names[rows[k].w]);
			double v[2] = { rows[k].sim, rows[k].meas };
			for (int c = 0; c < 2; c++) { /* NaN: not measured (the why field says why) */
				if (isnan(v[c])) {
					fprintf(d, " ?");
					continue;
				}
				positive = positive && v[c] > 0;
				ymin = fmin(ymin, v[c]);
				fprintf(d, " %.17g", v[c]);
			}
			fputc('\n', d);
		}
		fprintf(d, "\n\n");
	}
	FILE *f = g->gp;
	fprintf(f, "set style data histograms\nset style histogram clustered gap 1\n"
		   "set boxwidth 0.9\nset xtics nomirror rotate by 30 right\nset ylabel \"%s\"\n",
		positive ? "count (log scale)" : "count");
	if (positive && ymin < INFINITY)
		fprintf(f, "set logscale y\nset yrange [%g:*]\n", pow(10, floor(log10(ymin * 0.999))));
	else
		fprintf(f, "set yrange [0:*]\n");
	int prow, pcol;
	size_t nf = l.fv.n;
	panels_begin(g, (int)nf, &prow, &pcol);
	for (size_t fi = 0; fi < nf; fi++) {
		panel(g, (int)fi, (int)nf, prow, pcol,
		      nf > 1 ? "Simulated vs measured, per event" : "Simulated vs measured",
		      l.fv.v[fi], "");
		if (nf == 1)
			title_cmd(f, "xlabel", l.fv.v[fi]);
		fprintf(f, "plot ");
		gq(f, g->dat_name);
		fprintf(f, " index %zu using 2:xtic(1) ls 1 ", fi);
		bar_fill(f, 0);
		fprintf(f, " title \"simulated\", '' index %zu using 3 ls 2 ", fi);
		bar_fill(f, 1);
		fprintf(f, " title \"measured\"\n");
	}
	panels_end(g, (int)nf);
out:
	free(rows);
	au_strv_free(&evs);
	au_strv_free(&unmeasured);
	vl_results_names_free(names, nn);
	lay_free(&l);
	return rc;
}

/* ---- running gnuplot ---- */

static int run_gnuplot(struct fig *g, struct vl_error *err)
{
	const char *prog = g->o->gnuplot ? g->o->gnuplot : "gnuplot";
	int p[2];
	if (pipe(p) < 0)
		return vl_err(err, VL_EIO, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t c = fork();
	if (c < 0) {
		close(p[0]);
		close(p[1]);
		return vl_err(err, VL_EIO, "fork: %s", strerror(errno));
	}
	if (c == 0) {
		close(p[0]);
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
		}
		dup2(p[1], 2);
		if (chdir(g->tmpdir) < 0)
			_exit(126);
		execlp(prog, prog, g->gp_name, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	while ((n = read(p[0], buf + got, sizeof(buf) - 1 - got)) > 0 && got < sizeof(buf) - 1)
		got += (size_t)n;
	while (n > 0) { /* drain the rest */
		char sink[1024];
		n = read(p[0], sink, sizeof(sink));
	}
	buf[got] = '\0';
	close(p[0]);
	int st;
	while (waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return vl_err(err, VL_EIO, "cannot run %s (install Debian's gnuplot-nox: make deps)",
			      prog);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		/* gnuplot's message: the last non-blank line naming the problem */
		char *line = NULL;
		for (char *s = strtok(buf, "\n"); s; s = strtok(NULL, "\n"))
			if (strspn(s, " \t^") != strlen(s))
				line = s;
		return vl_err(err, VL_EIO, "gnuplot failed on %s/%s: %s", g->dir, g->gp_name,
			      line ? line : "no message");
	}
	char *out = str_printf("%s/%s", g->tmpdir, g->out_name);
	struct stat sb;
	int rc = 0;
	if (!out || stat(out, &sb) < 0 || sb.st_size == 0)
		rc = vl_err(err, VL_EIO, "gnuplot wrote no figure to %s/%s", g->dir, g->out_name);
	free(out);
	return rc;
}

static void fig_free(struct fig *g)
{
	free(g->base);
	free(g->dir);
	free(g->tmpdir);
	free(g->dat_name);
	free(g->gp_name);
	free(g->out_name);
	free(g->ok);
}

/* Remove the temporary directory and whatever is in it. */
static void rm_tmpdir(struct fig *g)
{
	if (!g->tmpdir)
		return;
	const char *names[] = { g->dat_name, g->gp_name, g->out_name };
	for (int i = 0; i < 3; i++)
		if (names[i]) {
			char *p = str_printf("%s/%s", g->tmpdir, names[i]);
			if (p)
				unlink(p);
			free(p);
		}
	rmdir(g->tmpdir);
}

static int plot_one(struct vl_results *r, struct rs *s, const struct vl_plot_opts *o,
		    struct vl_error *err)
{
	static const struct {
		const char *name;
		int (*fn)(struct fig *, struct vl_error *);
	} kinds[] = {
		{ "mrc", plot_mrc }, { "timeline", plot_timeline }, { "bars", plot_bars },
		{ "tlb", plot_tlb }, { "validation", plot_validation },
	};
	int (*fn)(struct fig *, struct vl_error *) = NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (o->kind && !strcmp(o->kind, kinds[i].name))
			fn = kinds[i].fn;
	if (!fn)
		return vl_err(err, VL_EUSAGE, "unknown plot kind '%s' (known: %s)",
			      o->kind ? o->kind : "", VL_PLOT_KINDS);
	const char *dot = strrchr(o->out, '.');
	const char *slash = strrchr(o->out, '/');
	if (!dot || (slash && dot < slash) || dot == o->out || (slash && dot == slash + 1) ||
	    (strcmp(dot, ".png") && strcmp(dot, ".pdf") && strcmp(dot, ".svg")))
		return vl_err(err, VL_EUSAGE, "figure '%s': expected a name ending in .png, .pdf or .svg",
			      o->out);
	int emode = 0;
	if (o->errors && !strcmp(o->errors, "range"))
		emode = 1;
	else if (o->errors && !strcmp(o->errors, "none"))
		emode = 2;
	else if (o->errors && strcmp(o->errors, "ci"))
		return vl_err(err, VL_EUSAGE, "--errors %s: expected ci, range or none", o->errors);
	struct fig g = { .o = o, .r = r, .s = s, .ext = dot + 1, .emode = emode };
	int rc = 0;
	char *d1 = strdup(o->out);
	char *b1 = strndup(o->out, (size_t)(dot - o->out));
	g.dir = d1 ? strdup(dirname(d1)) : NULL;
	g.base = b1 ? strdup(basename(b1)) : NULL;
	free(d1);
	free(b1);
	g.dat_name = g.base ? str_printf("%s.dat", g.base) : NULL;
	g.gp_name = g.base ? str_printf("%s.gp", g.base) : NULL;
	g.out_name = g.base ? str_printf("%s.%s", g.base, g.ext) : NULL;
	g.ok = calloc(s->nruns + 1, sizeof(bool));
	char *tmpl = g.dir && g.base ? str_printf("%s/.%s.plot-XXXXXX", g.dir, g.base) : NULL;
	char *dat_path = NULL, *gp_path = NULL;
	if (!g.dir || !g.base || !g.dat_name || !g.gp_name || !g.out_name || !g.ok || !tmpl) {
		free(tmpl);
		rc = vl_err(err, VL_ENOMEM, "out of memory");
		goto out;
	}
	struct stat sb;
	if (stat(g.dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		free(tmpl);
		rc = vl_err(err, VL_EIO, "cannot write %s: directory %s does not exist", o->out, g.dir);
		goto out;
	}
	if (!mkdtemp(tmpl)) {
		rc = vl_err(err, VL_EIO, "cannot write in %s: %s", g.dir, strerror(errno));
		free(tmpl);
		goto out;
	}
	g.tmpdir = tmpl;
	dat_path = str_printf("%s/%s", g.tmpdir, g.dat_name);
	gp_path = str_printf("%s/%s", g.tmpdir, g.gp_name);
	if (!dat_path || !gp_path) {
		rc = vl_err(err, VL_ENOMEM, "out of memory");
		goto out;
	}
	g.dat = fopen(dat_path, "w");
	g.gp = g.dat ? fopen(gp_path, "w") : NULL;
	if (!g.dat || !g.gp) {
		rc = vl_err(err, VL_EIO, "cannot write %s: %s", g.dat ? gp_path : dat_path,
			    strerror(errno));
		goto out;
	}
	rc = fn(&g, err);
	int e1 = fclose(g.dat), e2 = fclose(g.gp);
	g.dat = g.gp = NULL;
	if (rc == 0 && (e1 || e2))
		rc = vl_err(err, VL_EIO, "cannot write %s or %s", dat_path, gp_path);
	if (rc == 0)
		rc = run_gnuplot(&g, err);
	/* into place: data, script, then the figure */
	const char *names[] = { g.dat_name, g.gp_name, g.out_name };
	for (int i = 0; i < 3 && rc == 0; i++) {
		char *from = str_printf("%s/%s", g.tmpdir, names[i]);
		char *to = str_printf("%s/%s", g.dir, names[i]);
		if (!from || !to)
			rc = vl_err(err, VL_ENOMEM, "out of memory");
		else if (rename(from, to) < 0)
			rc = vl_err(err, VL_EIO, "cannot rename %s to %s: %s", from, to,
				    strerror(errno));
		free(from);
		free(to);
	}
out:
	if (g.dat)
		fclose(g.dat);
	if (g.gp)
		fclose(g.gp);
	rm_tmpdir(&g);
	free(dat_path);
	free(gp_path);
	fig_free(&g);
	return rc;
}

/* Selections common to every figure: --run and --where. */
static int select_runs(struct rs *s, const struct vl_plot_opts *o, struct vl_error *err)
{
	long crun = rs_find(s, "run_id");
	if (o->nruns) {
		for (int k = 0; k < o->nruns; k++) {
			bool found = false;
			for (size_t i = 0; i < s->nruns && !found; i++)
				found = !strcmp(rs_val(s, i, crun), o->runs[k]);
			if (!found)
				return vl_err(err, VL_ENOENT, "%s: no run '%s' (see vmlab report)",
					      vl_results_path(s->r), o->runs[k]);
		}
		for (size_t i = 0; i < s->nruns; i++) {
			bool keep = false;
			for (int k = 0; k < o->nruns && !keep; k++)
				keep = !strcmp(rs_val(s, i, crun), o->runs[k]);
			s->sel[i] = s->sel[i] && keep;
		}
	}
	for (int k = 0; k < o->nwhere; k++)
		VL_TRY(rs_where(s, o->where[k], err));
	return 0;
}

int vl_plot(struct vl_results *r, const struct vl_plot_opts *o, struct vl_error *err)
{
	struct rs s;
	int rc = rs_load(&s, r, err);
	if (rc < 0)
		return rc;
	rc = select_runs(&s, o, err);
	if (rc == 0)
		rc = plot_one(r, &s, o, err);
	rs_free(&s);
	return rc;
}

/* Automatic grouping for --all: up to four parameters that vary among the
 * runs, each not already fixed by the earlier ones, in the order memory,
 * policy, the others (for kinds without an x: policy, the others, memory). */
static size_t auto_picks(struct rs *s, bool want_x, long *pick)
{
	long seed = rs_find(s, "run.seed");
	long cfr = rs_find(s, "frames"), cpol = rs_find(s, "replacement.policy");
	long *order = malloc((s->ncols + 2) * sizeof(long));
	size_t n = 0, np = 0;
	if (!order)
		return 0;
	if (want_x)
		order[n++] = cfr;
	order[n++] = cpol;
	for (size_t c = 0; c < s->ncols; c++)
		if (s->cols[c].role == RS_PARAM && (long)c != seed && (long)c != cpol &&
		    strcmp(s->cols[c].name, "memory.frames") && strcmp(s->cols[c].name, "kind"))
			order[n++] = (long)c;
	if (!want_x)
		order[n++] = cfr;
	for (size_t k = 0; k < n && np < 4; k++) {
		long c = order[k];
		if (c < 0)
			continue;
		bool varies = false; /* within the groups of the earlier picks */
		for (size_t i = 0; i < s->nruns && !varies; i++)
			for (size_t j = 0; j < i && !varies; j++)
				if (s->sel[i] && s->sel[j] && rs_same(s, i, j, pick, np) &&
				    strcmp(rs_val(s, i, c), rs_val(s, j, c)))
					varies = true;
		if (varies)
			pick[np++] = c;
	}
	free(order);
	return np;
}

/* A value as part of a file name: letters, digits, '.', '-', '_'. */
static void file_part(const char *v, char *buf, size_t len)
{
	size_t k = 0;
	for (; *v && k + 1 < len; v++)
		buf[k++] = (isalnum((unsigned char)*v) || *v == '.' || *v == '-') ? *v : '_';
	buf[k] = '\0';
}

int vl_plot_all(struct vl_results *r, const struct vl_plot_opts *o, const char *dir,
		const char *ext, vl_plot_note_fn note, void *ctx, struct vl_error *err)
{
	if (strcmp(ext, "png") && strcmp(ext, "pdf") && strcmp(ext, "svg"))
		return vl_err(err, VL_EUSAGE, "--format %s: expected png, pdf or svg", ext);
	VL_TRY(au_mkdir_p(dir, err));
	char *d = strdup(dir);
	if (!d)
		return vl_err(err, VL_ENOMEM, "out of memory");
	for (size_t n = strlen(d); n > 1 && d[n - 1] == '/'; n--)
		d[n - 1] = '\0';
	struct rs s;
	int rc = rs_load(&s, r, err);
	if (rc < 0) {
		free(d);
		return rc;
	}
	rc = select_runs(&s, o, err);
	bool *saved = malloc((s.nruns + 1) * sizeof(bool));
	if (rc == 0 && !saved)
		rc = vl_err(err, VL_ENOMEM, "out of memory");
	static const char *const kinds[] = { "mrc", "bars", "tlb", "timeline", "validation" };
	int drawn = 0, last = VL_ENOENT;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && rc == 0; k++) {
		struct vl_plot_opts po = *o;
		po.kind = kinds[k];
		po.x = po.by = po.facet = NULL;
		bool want_x = !strcmp(kinds[k], "mrc") || !strcmp(kinds[k], "bars");
		long pick[4] = { -1, -1, -1, -1 };
		size_t np = strcmp(kinds[k], "validation") ? auto_picks(&s, want_x, pick) : 0;
		size_t at = 0;
		long split = -1;
		if (want_x && np && (pick[0] == rs_find(&s, "frames") || !strcmp(kinds[k], "bars")))
			po.x = s.cols[pick[at++]].name;
		if (!strcmp(kinds[k], "mrc") && !po.x) {
			bool curves = false;
			for (size_t i = 0; i < s.nruns; i++)
				curves = curves || (s.sel[i] && !strcmp(rs_val(&s, i, rs_find(&s, "kind")), "mrc"));
			if (!curves) {
				if (note)
					note(ctx, "mrc", "not drawn: memory does not vary among the engine runs");
				continue;
			}
		}
		if (at < np)
			po.by = s.cols[pick[at++]].name;
		if (at < np)
			po.facet = s.cols[pick[at++]].name;
		if (at < np)
			split = pick[at++];
		/* a figure per value of the split key (none: one figure) */
		struct au_strv vals = { 0 };
		for (size_t i = 0; i < s.nruns && split >= 0; i++)
			if (s.sel[i] && find_str(&vals, rs_val(&s, i, split)) < 0)
				au_strv_push(&vals, rs_val(&s, i, split));
		memcpy(saved, s.sel, s.nruns * sizeof(bool));
		for (size_t v = 0; v < (split >= 0 ? vals.n : 1); v++) {
			char *path, part[128] = "", where[512] = "";
			if (split >= 0) {
				char shown[160];
				rs_show(&s, split, vals.v[v], shown, sizeof(shown));
				file_part(shown, part, sizeof(part));
				snprintf(where, sizeof(where), "%s=%s", s.cols[split].name, vals.v[v]);
				for (size_t i = 0; i < s.nruns; i++)
					s.sel[i] = saved[i] && !strcmp(rs_val(&s, i, split), vals.v[v]);
				path = str_printf("%s/%s-%s-%s.%s", d, kinds[k], rs_short(&s, split), part,
						  ext);
				if (path)
					for (char *q = path + strlen(d) + 1; *q; q++)
						*q = *q == ' ' ? '_' : *q;
			} else {
				path = str_printf("%s/%s.%s", d, kinds[k], ext);
			}
			if (!path) {
				rc = vl_err(err, VL_ENOMEM, "out of memory");
				break;
			}
			po.out = path;
			struct vl_error e = { 0 };
			int prc = plot_one(r, &s, &po, &e);
			if (prc == 0)
				drawn++;
			else
				last = prc;
			if (note) {
				char why[VL_ERRMSG_MAX + 600];
				if (prc < 0)
					snprintf(why, sizeof(why), "not drawn: %s", e.msg);
				else
					snprintf(why, sizeof(why), "drawn%s%s%s%s%s%s%s%s%s",
						 po.x || po.by || po.facet ? " with" : "", po.x ? " --x " : "",
						 po.x ? po.x : "", po.by ? " --by " : "", po.by ? po.by : "",
						 po.facet ? " --facet " : "", po.facet ? po.facet : "",
						 *where ? " --where " : "", where);
				note(ctx, path, why);
			}
			free(path);
		}
		memcpy(s.sel, saved, s.nruns * sizeof(bool));
		au_strv_free(&vals);
	}
	free(saved);
	rs_free(&s);
	free(d);
	if (rc < 0)
		return rc;
	if (!drawn)
		return vl_err(err, last, "%s: no figure could be drawn", vl_results_path(r));
	return 0;
}
