/* analysis/plot_kinds.c - the data and script of each figure kind: mrc,
 * timeline, bars, tlb, validation (plot_internal.h, docs/results.md).
 *
 * Each kind marks the runs it uses in g->ok, checks the grouping
 * (pl_layout: runs merged into one point may differ only in run.seed),
 * aggregates replicates per panel, series and x, and writes one data
 * block per panel (and series) with mean, 95% interval, n, min, median,
 * max.
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


bool pl_kind_is(const struct rs *s, size_t i, const char *k)
{
	return !strcmp(rs_val(s, i, rs_find(s, "kind")), k);
}

int pl_check_any(struct fig *g, const char *what, struct vl_error *err)
{
	for (size_t i = 0; i < g->s->nruns; i++)
		if (g->ok[i])
			return 0;
	return vl_err(err, VL_ENOENT, "%s: %s", vl_results_path(g->r), what);
}

/* Unit for memory in bytes up to max: divisor and name. */
double pl_mem_unit(double max, const char **name)
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

int pl_plot_mrc(struct fig *g, struct vl_error *err)
{
	struct rs *s = g->s;
	struct lay l = { -1, -1, -1, { 0 }, { 0 }, { 0 }, NULL };
	int rc = 0;
	bool curves = false;
	for (size_t i = 0; i < s->nruns; i++)
		curves = curves || (s->sel[i] && pl_kind_is(s, i, "mrc"));
	const char *ycounter = g->o->counter ? g->o->counter : "fault_ratio";
	long cy = curves ? -1 : rs_find(s, ycounter);
	if (!curves && cy < 0)
		return vl_err(err, VL_EUSAGE, "--counter %s: no such counter in %s", ycounter,
			      vl_results_path(g->r));
	for (size_t i = 0; i < s->nruns; i++)
		g->ok[i] = s->sel[i] && pl_kind_is(s, i, curves ? "mrc" : "run") &&
			   (curves || *rs_val(s, i, cy));
	VL_TRY(pl_check_any(g, "no miss-ratio curve (vmlab mrc -o) and no engine runs to draw one from",
			 err));
	if ((rc = pl_key(g, g->o->facet, "--facet", &l.cf, err)) < 0 ||
	    (rc = pl_key(g, g->o->by ? g->o->by : "policy", "--by", &l.cb, err)) < 0 ||
	    (rc = pl_key(g, curves ? NULL : g->o->x ? g->o->x : "frames", "--x", &l.cx, err)) < 0)
		return rc;
	if ((rc = pl_layout(g, &l, curves, err)) < 0)
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
		size_t f = (size_t)(l.cf >= 0 ? pl_find_str(&l.fv, rs_val(s, i, l.cf)) : 0);
		size_t b = (size_t)(l.cb >= 0 ? pl_find_str(&l.bv, rs_val(s, i, l.cb)) : 0);
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
	double unit = logmem ? 1 : memx ? pl_mem_unit(xmax, &uname) : 1;
	TRY_GOTO(rc, pl_header(g, "miss ratio against memory; one data block per panel and series",
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
		pl_key_label(s, l.cx, xl, sizeof(xl));
	pl_context(g, l.cf, -1, ctx, sizeof(ctx));
	snprintf(title, sizeof(title), "Miss-ratio curve%s%s%s%s%s%s", *ctx ? ": " : "", ctx, pl_rep_note(g),
		 *method ? " (" : "", method, *method ? ")" : "");
	fprintf(f, "set xlabel ");
	pl_gq(f, xl);
	fprintf(f, "\nset ylabel ");
	char yl[200];
	pl_counter_label(curves ? "fault_ratio" : ycounter, yl, sizeof(yl));
	pl_gq(f, yl);
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
	pl_panels_begin(g, (int)nf, &rows, &cols);
	bool err_bars = reps && g->emode != 2;
	int yc, lo, hi;
	pl_ycols(g, 2, &yc, &lo, &hi);
	for (size_t fi = 0; fi < nf; fi++) {
		char pt[200];
		pl_facet_title(g, &l, fi, pt, sizeof(pt));
		pl_panel(g, (int)fi, (int)nf, rows, cols, title, pt,
		      l.cb >= 0 ? rs_short(s, l.cb) : "");
		fprintf(f, "plot \\\n");
		for (size_t b = 0; b < nb; b++) {
			char v[160] = "";
			if (l.bv.n)
				rs_show(s, l.cb, l.bv.v[b], v, sizeof(v));
			pl_src(f, g->dat_name, b == 0);
			fprintf(f, " index %zu using 1:%d", fi * nb + b, yc);
			if (err_bars)
				fprintf(f, ":%d:%d with yerrorlines", lo, hi);
			else
				fprintf(f, " with linespoints");
			fprintf(f, " ls %zu title ", b + 1);
			pl_gq(f, v);
			fprintf(f, "%s\n", b + 1 < nb ? ", \\" : "");
		}
	}
	pl_panels_end(g, (int)nf);
pts_out:
	free(pts);
out:
	pl_lay_free(&l);
	return rc;
}

static int read_timeline(struct fig *g, size_t i, struct vl_table *t, struct vl_error *err)
{
	char path[VL_RUN_ID_MAX + 16];
	snprintf(path, sizeof(path), "/runs/%s/timeline", rs_val(g->s, i, rs_find(g->s, "run_id")));
	return vl_results_table(g->r, path, t, err);
}

int pl_plot_timeline(struct fig *g, struct vl_error *err)
{
	struct rs *s = g->s;
	struct lay l = { -1, -1, -1, { 0 }, { 0 }, { 0 }, NULL };
	int rc;
	for (size_t i = 0; i < s->nruns; i++) {
		struct vl_table t = { .size = sizeof(t) };
		struct vl_error e = { 0 };
		g->ok[i] = s->sel[i] && pl_kind_is(s, i, "run") && read_timeline(g, i, &t, &e) == 0;
		if (g->ok[i])
			vl_table_free(&t);
	}
	VL_TRY(pl_check_any(g, "no run with a timeline (vmlab run -s stats.interval=N -o FILE)", err));
	if ((rc = pl_key(g, g->o->facet, "--facet", &l.cf, err)) < 0 ||
	    (rc = pl_key(g, g->o->by, "--by", &l.cb, err)) < 0)
		return rc;
	if ((rc = pl_layout(g, &l, true, err)) < 0)
		goto out;
	size_t nf = l.fv.n ? l.fv.n : 1, nb = l.bv.n ? l.bv.n : 1;
	/* --counter COLUMN: that column of /timeline per series instead of
	 * faults (and no working-set lines) */
	const char *col = g->o->counter && strcmp(g->o->counter, "faults") ? g->o->counter : NULL;
	bool one = nb == 1 && l.cb < 0 && !col;
	TRY_GOTO(rc, pl_header(g, col ? "a timeline column against accesses"
				      : "faults per interval (and working set) against accesses",
			       nf, &l, false, err), out);
	FILE *d = g->dat;
	const char *const cols[] = { col ? col : "faults", "faults_hard", "ws_pages", "free_frames" };
	fprintf(d, "# blocks: for each panel each series; interval_start interval_end then, for "
		   "%s, faults_hard, ws_pages, free_frames: mean ci95_low ci95_high n min median "
		   "max over replicates\n", cols[0]);
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
				if (col && vl_table_col(&tabs[nt], col) < 0) {
					vl_table_free(&tabs[nt]);
					rc = vl_err(err, VL_EUSAGE,
						    "--counter %s: no such column in run %s's timeline "
						    "(docs/results.md lists them)",
						    col, rs_val(s, i, rs_find(s, "run_id")));
					break;
				}
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
	pl_context(g, l.cf, l.cb, ctx, sizeof(ctx));
	snprintf(title, sizeof(title), "%s over the run%s%s%s", col ? col : "Faults",
		 *ctx ? ": " : "", ctx, pl_rep_note(g));
	if (one && l.cf < 0) { /* name the policy when there is one run or group */
		long cp = rs_find(s, "policy");
		for (size_t i = 0; i < s->nruns && cp >= 0; i++)
			if (g->ok[i]) {
				snprintf(title, sizeof(title), "Faults over the run%s%s, %s%s",
					 *ctx ? ": " : "", ctx, rs_val(s, i, cp), pl_rep_note(g));
				break;
			}
	}
	char yl[160];
	static const char *const levels[] = { "commit_charge", "resident_pages", "ws_pages",
					      "free_frames", "heap_committed" };
	bool level = false;
	for (size_t k = 0; col && k < sizeof(levels) / sizeof(levels[0]); k++)
		level = level || !strcmp(col, levels[k]);
	if (col)
		snprintf(yl, sizeof(yl), level ? "%s (pages)" : "%s per %s accesses", col, iv);
	else
		snprintf(yl, sizeof(yl), "faults per %s accesses", iv);
	fprintf(f, "set xlabel \"accesses (millions)\"\nset ylabel \"%s\"\n"
		   "set xrange [0:*]\nset autoscale xfixmax\n"
		   "set ytics nomirror\nset yrange [0:*]\n", yl);
	if (g->o->logy)
		fprintf(f, "set logscale y\nset yrange [*:*]\n");
	if (one)
		fprintf(f, "set y2label \"pages (4 KiB)\"\nset y2tics\nset y2range [0:*]\n");
	int prow, pcol;
	pl_panels_begin(g, (int)nf, &prow, &pcol);
	bool eb = reps && g->emode != 2;
	int yc, lo, hi;
	pl_ycols(g, 3, &yc, &lo, &hi);
	for (size_t fi = 0; fi < nf; fi++) {
		char pt[200];
		pl_facet_title(g, &l, fi, pt, sizeof(pt));
		pl_panel(g, (int)fi, (int)nf, prow, pcol, title, pt, l.cb >= 0 ? rs_short(s, l.cb) : "");
		fprintf(f, "plot \\\n");
		for (size_t b = 0; b < nb; b++) {
			char v[160];
			snprintf(v, sizeof(v), "%s", cols[0]);
			if (l.bv.n && l.cb >= 0)
				rs_show(s, l.cb, l.bv.v[b], v, sizeof(v));
			size_t ix = fi * nb + b;
			pl_src(f, g->dat_name, b == 0);
			fprintf(f, " index %zu using ($1/1e6):%d with steps ls %zu title ", ix, yc, b + 1);
			pl_gq(f, v);
			if (eb) {
				fprintf(f, ", \\\n  '' index %zu using (($1+$2)/2e6):%d:%d:%d with yerrorbars "
					   "ls %zu pt 0 notitle", ix, yc, lo, hi, b + 1);
			}
			if (one) {
				fprintf(f, ", \\\n  '' index %zu using ($1/1e6):%d with steps ls %zu lw 1 "
					   "dt 1 lc rgb \"%s\" title \"hard faults\"",
					ix, yc + 7, b + 1, pl_palette[1]);
				fprintf(f, ", \\\n  '' index %zu using ($2/1e6):%d axes x1y2 with lines lw 2 "
					   "dt 2 lc rgb \"%s\" title \"working set (pages)\"",
					ix, yc + 14, pl_palette[2]);
				fprintf(f, ", \\\n  '' index %zu using ($2/1e6):%d axes x1y2 with lines lw 1 "
					   "dt 3 lc rgb \"%s\" title \"free frames\"",
					ix, yc + 21, pl_palette[6]);
			}
			fprintf(f, "%s\n", b + 1 < nb ? ", \\" : "");
		}
	}
	pl_panels_end(g, (int)nf);
out:
	pl_lay_free(&l);
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
	pl_panels_begin(g, (int)nf, &prow0, &pcol0);
	double panel_pt = (g->wpt - 300) / pcol0;
	fprintf(f, "set style data histograms\nset boxwidth 0.9\nset xtics nomirror%s\n",
		(double)longest * 8 > 0.75 * panel_pt / (double)nx ? " rotate by 30 right" : "");
	fprintf(f, ""
		   "set style histogram %s gap 1%s\n", eb ? "errorbars" : "clustered",
		eb ? " lw 1" : "");
	fprintf(f, "set xlabel ");
	pl_gq(f, xlabel);
	fprintf(f, "\nset ylabel ");
	pl_gq(f, ylabel);
	fputc('\n', f);
	if (logy) /* bars rise from a decade below the smallest value */
		fprintf(f, "set logscale y\nset yrange [%g:*]\n",
			pow(10, floor(log10((ymin > 0 ? ymin : 1) * 0.999))));
	else
		fprintf(f, "set yrange [0:*]\n");
	int rows, cols;
	pl_panels_begin(g, (int)nf, &rows, &cols);
	int yc, lo, hi;
	for (size_t fi = 0; fi < nf; fi++) {
		char pt[200];
		pl_facet_title(g, l, fi, pt, sizeof(pt));
		pl_panel(g, (int)fi, (int)nf, rows, cols, title, pt, keytitle);
		fprintf(f, "plot \\\n");
		for (size_t b = 0; b < nb; b++) {
			pl_ycols(g, 2 + 7 * (int)b, &yc, &lo, &hi);
			char v[160] = "";
			if (l && l->bv.n && l->cb >= 0)
				rs_show(g->s, l->cb, l->bv.v[b], v, sizeof(v));
			else if (!l || l->cb < 0)
				snprintf(v, sizeof(v), "%s", keytitle[0] ? "" : "");
			pl_src(f, g->dat_name, b == 0);
			if (eb)
				fprintf(f, " index %zu using %d:%d:%d%s ls %zu ", fi, yc, lo, hi,
					b == 0 ? ":xtic(1)" : "", b + 1);
			else
				fprintf(f, " index %zu using %d%s ls %zu ", fi, yc,
					b == 0 ? ":xtic(1)" : "", b + 1);
			pl_bar_fill(f, l && l->pal ? l->pal[b] : (int)b);
			fprintf(f, " title ");
			pl_gq(f, v);
			fprintf(f, "%s\n", b + 1 < nb ? ", \\" : "");
		}
	}
	pl_panels_end(g, (int)nf);
}

int pl_plot_bars(struct fig *g, struct vl_error *err)
{
	struct rs *s = g->s;
	const char *counter = g->o->counter ? g->o->counter : "faults";
	struct lay l = { -1, -1, -1, { 0 }, { 0 }, { 0 }, NULL };
	int rc;
	long cy = rs_find(s, counter);
	for (size_t i = 0; i < s->nruns; i++)
		g->ok[i] = s->sel[i] && pl_kind_is(s, i, "run") && cy >= 0 && *rs_val(s, i, cy);
	if (cy < 0 || s->cols[cy].role == RS_PARAM) {
		for (size_t i = 0; i < s->nruns; i++)
			g->ok[i] = false;
	}
	char msg[200];
	snprintf(msg, sizeof(msg), "no run has a counter '%s' (see vmlab report --json)", counter);
	VL_TRY(pl_check_any(g, msg, err));
	if ((rc = pl_key(g, g->o->facet, "--facet", &l.cf, err)) < 0 ||
	    (rc = pl_key(g, g->o->by ? g->o->by : "policy", "--by", &l.cb, err)) < 0 ||
	    (rc = pl_key(g, g->o->x ? g->o->x : "frames", "--x", &l.cx, err)) < 0)
		return rc;
	if ((rc = pl_layout(g, &l, false, err)) < 0)
		goto out;
	size_t nf = l.fv.n ? l.fv.n : 1, nb = l.bv.n ? l.bv.n : 1;
	TRY_GOTO(rc, pl_header(g, "a counter across runs: clusters by one parameter, bars by another",
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
			pl_dtok(d, l.bv.v[b]);
			fprintf(d, " lo hi n min median max");
		}
		fputc('\n', d);
		for (size_t x = 0; x < l.xv.n; x++) {
			char shown[160];
			rs_show(s, l.cx, l.xv.v[x], shown, sizeof(shown));
			pl_dtok(d, shown);
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
	pl_context(g, l.cf, l.cx, ctx, sizeof(ctx));
	pl_counter_label(counter, yl, sizeof(yl));
	pl_key_label(s, l.cx, xl, sizeof(xl));
	snprintf(title, sizeof(title), "%c%s%s%s%s", yl[0] >= 'a' && yl[0] <= 'z' ? yl[0] - 32 : yl[0],
		 yl + 1, *ctx ? ": " : "", ctx, pl_rep_note(g));
	histogram_script(g, &l, nf, nb, title, xl, yl, rs_short(s, l.cb), reps && g->emode != 2,
			 g->o->logy, ymin);
out:
	pl_lay_free(&l);
	return rc;
}

int pl_plot_tlb(struct fig *g, struct vl_error *err)
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
	rc = pl_check_any(g, "no run has TLB counters (tlb_<level>_misses); they come from runs with "
			  "the TLB model", err);
	if (rc < 0 || (rc = pl_key(g, g->o->facet, "--facet", &l.cf, err)) < 0 ||
	    (rc = pl_key(g, g->o->by, "--by", &l.cb, err)) < 0)
		goto out;
	if ((rc = pl_layout(g, &l, true, err)) < 0)
		goto out;
	size_t nf = l.fv.n ? l.fv.n : 1, nb = l.bv.n ? l.bv.n : 1;
	TRY_GOTO(rc, pl_header(g, "TLB misses per 1000 accesses by level", nf, &l, true, err), out);
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
			pl_dtok(d, l.cb >= 0 ? l.bv.v[b] : "all");
			fprintf(d, " lo hi n min median max");
		}
		fputc('\n', d);
		for (size_t k = 0; k < levels.n; k++) {
			char nm[96];
			snprintf(nm, sizeof(nm), "tlb_%s_misses", levels.v[k]);
			long cm = rs_find(s, nm);
			pl_dtok(d, levels.v[k]);
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
	pl_context(g, l.cf, l.cb, ctx, sizeof(ctx));
	snprintf(title, sizeof(title), "TLB misses per kilo-access%s%s%s", *ctx ? ": " : "", ctx,
		 pl_rep_note(g));
	histogram_script(g, &l, nf, nb, title, "TLB level", "misses per kilo-access",
			 l.cb >= 0 ? rs_short(s, l.cb) : "", reps && g->emode != 2, g->o->logy, 0.01);
out:
	au_strv_free(&levels);
	pl_lay_free(&l);
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
int pl_plot_validation(struct fig *g, struct vl_error *err)
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
			long e = pl_find_str(&evs, ev);
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
	if ((rc = pl_header(g, "simulated against measured counters: a panel per event, a cluster "
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
		long e = pl_find_str(&evs, l.fv.v[f]);
		for (size_t k = 0; k < nrows; k++) {
			if ((long)rows[k].e != e)
				continue;
			pl_dtok(d, names[rows[k].w]);
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
	pl_panels_begin(g, (int)nf, &prow, &pcol);
	for (size_t fi = 0; fi < nf; fi++) {
		pl_panel(g, (int)fi, (int)nf, prow, pcol,
		      nf > 1 ? "Simulated vs measured, per event" : "Simulated vs measured",
		      l.fv.v[fi], "");
		if (nf == 1)
			pl_title_cmd(f, "xlabel", l.fv.v[fi]);
		fprintf(f, "plot ");
		pl_gq(f, g->dat_name);
		fprintf(f, " index %zu using 2:xtic(1) ls 1 ", fi);
		pl_bar_fill(f, 0);
		fprintf(f, " title \"simulated\", '' index %zu using 3 ls 2 ", fi);
		pl_bar_fill(f, 1);
		fprintf(f, " title \"measured\"\n");
	}
	pl_panels_end(g, (int)nf);
out:
	free(rows);
	au_strv_free(&evs);
	au_strv_free(&unmeasured);
	vl_results_names_free(names, nn);
	pl_lay_free(&l);
	return rc;
}
