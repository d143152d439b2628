/* analysis/plot_style.c - layout, labels, palette and gnuplot script
 * helpers shared by the plot kinds (plot_internal.h).
 *
 * Style: a fixed colour-blind-safe palette (Okabe & Ito, 2008, with grey
 * in place of yellow), each series also with its own marker and dash type
 * (bars: solid or hatched), so series stay apart in greyscale.  A
 * replacement policy always gets the same style, its position among the
 * registered policies, in every figure.  Legends sit outside the data and
 * are titled with the parameter; labels come from the counters' and keys'
 * help text; memory is shown in KiB/MiB/GiB.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/plot_internal.h"
#include "vmlab/config.h"
#include "vmlab/counters.h"
#include "vmlab/policy.h"

const char *const pl_palette[] = { "#0072B2", "#D55E00", "#009E73", "#CC79A7",
				       "#E69F00", "#56B4E9", "#000000", "#999999" };
const int pl_markers[] = { 7, 5, 9, 13, 11, 6, 4, 8, 12, 10 };

/* ---- small helpers ---- */

char *pl_str_printf(const char *fmt, ...)
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
void pl_gq(FILE *f, const char *s)
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
void pl_src(FILE *f, const char *dat_name, bool first)
{
	fputs("  ", f);
	if (first)
		pl_gq(f, dat_name);
	else
		fputs("''", f);
}

/* Data-file token: no whitespace or quotes inside. */
void pl_dtok(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fputc(*s == '"' || *s == '\n' ? '\'' : *s, f);
	fputc('"', f);
}

bool pl_is_num(const char *s)
{
	char *e;
	if (!*s)
		return false;
	strtod(s, &e);
	return *e == '\0';
}

long pl_find_str(const struct au_strv *v, const char *x)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], x))
			return (long)i;
	return -1;
}

bool pl_is_policy_col(const struct rs *s, long c)
{
	return c >= 0 && (!strcmp(s->cols[c].name, "replacement.policy") ||
			  !strcmp(s->cols[c].name, "policy"));
}

long pl_policy_rank(const char *name)
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
	if (pl_is_policy_col(sort_rs, sort_col)) {
		long px = pl_policy_rank(x), py = pl_policy_rank(y);
		if (px != py)
			return px < py ? -1 : 1;
	}
	if (pl_is_num(x) && pl_is_num(y)) {
		double dx = strtod(x, NULL), dy = strtod(y, NULL);
		if (dx != dy)
			return dx < dy ? -1 : 1;
	}
	return strcmp(x, y);
}

/* Distinct values of column c over the figure's runs, in display order. */
int pl_values(struct fig *g, long c, struct au_strv *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < g->s->nruns; i++) {
		if (!g->ok[i])
			continue;
		const char *v = c >= 0 ? rs_val(g->s, i, c) : "";
		if (pl_find_str(out, v) < 0 && au_strv_push(out, v) < 0)
			return -1;
	}
	sort_rs = g->s;
	sort_col = c;
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(char *), cmp_vals);
	return 0;
}

void pl_lay_free(struct lay *l)
{
	au_strv_free(&l->fv);
	au_strv_free(&l->bv);
	au_strv_free(&l->xv);
	free(l->pal);
}

/* Resolve a key the user named (NULL: none, dflt when given). */
int pl_key(struct fig *g, const char *name, const char *opt, long *out, struct vl_error *err)
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
int pl_layout(struct fig *g, struct lay *l, bool x_from_data, struct vl_error *err)
{
	long named[3] = { l->cf, l->cb, x_from_data ? -1 : l->cx };
	int rc = rs_check(g->s, g->ok, named, 3, err);
	if (rc < 0)
		return rc;
	if (pl_values(g, l->cf, &l->fv) < 0 || pl_values(g, l->cb, &l->bv) < 0 ||
	    (!x_from_data && pl_values(g, l->cx, &l->xv) < 0))
		return vl_err(err, VL_ENOMEM, "out of memory");
	l->pal = calloc(l->bv.n + 1, sizeof(int));
	if (!l->pal)
		return vl_err(err, VL_ENOMEM, "out of memory");
	for (size_t b = 0; b < l->bv.n; b++) {
		long p = pl_is_policy_col(g->s, l->cb) ? pl_policy_rank(l->bv.v[b]) : 1000;
		l->pal[b] = p < 1000 ? (int)p : (int)b;
	}
	return 0;
}

/* " (mean and 95% CI of 2 seeds)" when points aggregate replicates. */
const char *pl_rep_note(const struct fig *g)
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
void pl_stat_cols_(struct fig *g, FILE *d, double *v, size_t n)
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
void pl_ycols(const struct fig *g, int off, int *y, int *lo, int *hi)
{
	switch (g->emode) {
	case 1: *y = off + 5; *lo = off + 4; *hi = off + 6; break;
	default: *y = off; *lo = off + 1; *hi = off + 2; break;
	}
}

/* ---- labels ---- */

/* Axis label of a counter: its help text up to the first '(' or ':'. */
void pl_counter_label(const char *name, char *buf, size_t len)
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
void pl_key_label(const struct rs *s, long c, char *buf, size_t len)
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
void pl_context(struct fig *g, long skip1, long skip2, char *buf, size_t len)
{
	const char *keys[] = { "trace", "os.personality", "frames" };
	buf[0] = '\0';
	size_t used = 0;
	for (int k = 0; k < 3; k++) {
		long c = rs_find(g->s, keys[k]);
		if (c < 0 || c == skip1 || c == skip2)
			continue;
		struct au_strv v;
		if (pl_values(g, c, &v) < 0)
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

int pl_term_size(struct fig *g, double *w, double *h, struct vl_error *err)
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
int pl_header(struct fig *g, const char *what, size_t npanels, const struct lay *l,
		  bool bars, struct vl_error *err)
{
	FILE *f = g->gp;
	int rows, cols;
	pl_panels_begin(g, (int)npanels, &rows, &cols);
	bool pdf = !strcmp(g->ext, "pdf");
	double w = pdf ? (cols > 1 || g->vertical ? 7.0 : 3.5) : (cols > 1 ? 120 + 420.0 * cols : 960);
	double h = pdf ? (rows > 1 || cols > 1 ? 0.4 + 2.1 * rows : 2.4)
		       : (rows > 1 || cols > 1 ? 80 + 330.0 * rows : 600);
	VL_TRY(pl_term_size(g, &w, &h, err));
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
	pl_gq(f, font);
	fprintf(f, "\nset output ");
	pl_gq(f, g->out_name);
	fprintf(f, "\nset datafile missing \"?\"\nset grid lc rgb \"#d0d0d0\"\nset border lw 1\n");
	/* one style per series: colour, marker, dash type; bars solid or hatched */
	for (size_t b = 0; l && b < (l->bv.n ? l->bv.n : 1); b++) {
		int p = l->pal ? l->pal[b] : (int)b;
		/* pdfcairo draws at its size in inches: thinner lines, smaller marks */
		fprintf(f, "set style line %zu lc rgb \"%s\" lw %s pt %d ps %s dt %d\n", b + 1,
			pl_palette[p % NPAL], pdf ? "1.5" : "2", pl_markers[p % NMARK], pdf ? "0.6" : "1.2",
			bars ? 1 : 1 + p % 5);
	}
	fprintf(g->dat, "# vmlab plot %s of %s\n", g->o->kind, vl_results_path(g->r));
	return 0;
}

/* Bars: fill of series b (palette index p). */
void pl_bar_fill(FILE *f, int p)
{
	static const int pattern[] = { 0, 4, 5, 1, 6, 7 }; /* 0: solid */
	if (pattern[p % 6] == 0)
		fprintf(f, "fs solid 0.9 border lc rgb \"black\"");
	else
		fprintf(f, "fs pattern %d border lc rgb \"black\"", pattern[p % 6]);
}

/* Panels: a multiplot with room for the legend at the right. */
void pl_panels_begin(struct fig *g, int n, int *rows, int *cols)
{
	*cols = n <= 1 || g->vertical ? 1 : n <= 4 ? (n == 3 ? 3 : 2) : 3;
	*rows = (n + *cols - 1) / *cols;
}

void pl_title_cmd(FILE *f, const char *what, const char *t)
{
	fprintf(f, "set %s ", what);
	pl_gq(f, t);
	fputc('\n', f);
}

/* Before panel k of n: titles and legend placement (outside the data). */
void pl_facet_title(const struct fig *g, const struct lay *l, size_t fi, char *buf, size_t n)
{
	buf[0] = '\0';
	if (l && l->cf >= 0) {
		char v[160];
		rs_show(g->s, l->cf, l->fv.v[fi], v, sizeof(v));
		snprintf(buf, n, "%s: %s", rs_short(g->s, l->cf), v);
	}
}

void pl_panel(struct fig *g, int k, int n, int rows, int cols, const char *title,
		  const char *ptitle, const char *keytitle)
{
	FILE *f = g->gp;
	if (n <= 1) {
		pl_title_cmd(f, "title", g->o->title ? g->o->title : title);
		fprintf(f, "set key outside right top vertical Left reverse %s title ",
			strcmp(g->ext, "pdf") ? "width 1" : "width 2 samplen 2");
		pl_gq(f, keytitle);
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
		pl_gq(f, g->o->title ? g->o->title : title);
		fprintf(f, "\nset key at screen %.3f,%.3f top left vertical Left reverse %s title ",
			right + 10 / g->wpt, top,
			strcmp(g->ext, "pdf") ? "width 1" : "width 2 samplen 2");
		pl_gq(f, keytitle);
		fputc('\n', f);
	} else if (k == 1) {
		fprintf(f, "unset key\n");
	}
	pl_title_cmd(f, "title", ptitle);
}

void pl_panels_end(struct fig *g, int n)
{
	if (n > 1)
		fprintf(g->gp, "unset multiplot\n");
}
