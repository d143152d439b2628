/* analysis/plot.c - gnuplot figures from results files.
 *
 * Each kind gathers its numbers from the file into FIG.dat (whitespace
 * columns, "#" comments, blocks separated by two blank lines for gnuplot's
 * `index`), writes FIG.gp that draws FIG.dat into FIG.EXT, and runs gnuplot
 * in the figure's directory, so the script and data are self-contained.
 * Text goes through the noenhanced terminals (counter names keep their
 * underscores); strings in the script are escaped for double quotes.
 */
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

struct fig {
	const struct vl_plot_opts *o;
	struct vl_results *r;
	char *dir;            /* directory of the figure */
	char *base;           /* figure path without extension */
	const char *ext;      /* "png" ... */
	char *dat_name, *gp_name, *out_name; /* base names, as the script refers to them */
	FILE *dat, *gp;
	struct vl_summary_row *rows;
	size_t nrows;
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

/* Data-file token: no whitespace or quotes inside. */
static void dtok(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fputc(*s == '"' || *s == '\n' ? '\'' : *s, f);
	fputc('"', f);
}

static bool selected(const struct fig *g, const char *id)
{
	if (g->o->nruns == 0)
		return true;
	for (int i = 0; i < g->o->nruns; i++)
		if (!strcmp(g->o->runs[i], id))
			return true;
	return false;
}

static void header(struct fig *g, const char *what)
{
	FILE *f = g->gp;
	fprintf(f, "# vmlab plot %s of %s\n", g->o->kind, vl_results_path(g->r));
	fprintf(f, "# %s\n", what);
	fprintf(f, "# Data: %s.  Redraw after editing: cd to this directory, gnuplot %s\n",
		g->dat_name, g->gp_name);
	if (!strcmp(g->ext, "png"))
		fprintf(f, "set terminal pngcairo noenhanced size 960,600 font \"Sans,11\"\n");
	else if (!strcmp(g->ext, "pdf"))
		fprintf(f, "set terminal pdfcairo noenhanced size 6in,3.75in font \"Sans,9\"\n");
	else
		fprintf(f, "set terminal svg noenhanced size 960,600 dynamic font \"Sans,11\"\n");
	fprintf(f, "set output ");
	gq(f, g->out_name);
	fprintf(f, "\nset datafile missing \"?\"\nset grid\n");
	if (g->o->title) {
		fprintf(f, "set title ");
		gq(f, g->o->title);
		fputc('\n', f);
	}
	fprintf(g->dat, "# vmlab plot %s of %s\n", g->o->kind, vl_results_path(g->r));
}

static void default_title(struct fig *g, const char *t)
{
	if (g->o->title)
		return;
	fprintf(g->gp, "set title ");
	gq(g->gp, t);
	fputc('\n', g->gp);
}

/* Value of KEY ("section.name") in INI text, into buf; false if absent. */
static bool ini_value(const char *text, const char *key, char *buf, size_t len)
{
	char section[128] = "";
	const char *p = text;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)(n < 511 ? n : 511), p);
		p = nl ? nl + 1 : NULL;
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '[') {
			char *e = strchr(s, ']');
			if (e) {
				*e = '\0';
				snprintf(section, sizeof(section), "%s", s + 1);
			}
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq || *s == '#' || *s == ';')
			continue;
		char *ke = eq;
		while (ke > s && (ke[-1] == ' ' || ke[-1] == '\t'))
			ke--;
		*ke = '\0';
		char full[384];
		snprintf(full, sizeof(full), "%s%s%s", section, *section ? "." : "", s);
		if (strcmp(full, key))
			continue;
		char *v = eq + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		size_t vl = strlen(v);
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\r'))
			v[--vl] = '\0';
		snprintf(buf, len, "%s", v);
		return true;
	}
	return false;
}

/* A run's parameter: frames, policy, os, run (the id), or any config key. */
static void param(struct fig *g, const struct vl_summary_row *row, const char *name, char *buf,
		  size_t len)
{
	if (!strcmp(name, "frames") || !strcmp(name, "memory.frames")) {
		snprintf(buf, len, "%llu", (unsigned long long)row->frames);
		return;
	}
	if (!strcmp(name, "policy") || !strcmp(name, "replacement.policy")) {
		snprintf(buf, len, "%s", row->policy);
		return;
	}
	if (!strcmp(name, "run")) {
		snprintf(buf, len, "%s", row->run_id);
		return;
	}
	char obj[VL_RUN_ID_MAX + 8], *text = NULL;
	struct vl_error e = { 0 };
	snprintf(obj, sizeof(obj), "/runs/%s", row->run_id);
	if (vl_results_attr(g->r, obj, "config", &text, &e) < 0 ||
	    !ini_value(text, name, buf, len))
		snprintf(buf, len, "?");
	free(text);
}

/* Distinct strings, in order of first appearance. */
struct strset {
	char **v;
	size_t n;
};

static long strset_add(struct strset *s, const char *x)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], x))
			return (long)i;
	char **nv = realloc(s->v, (s->n + 1) * sizeof(char *));
	if (!nv)
		return -1;
	s->v = nv;
	if (!(s->v[s->n] = strdup(x)))
		return -1;
	return (long)s->n++;
}

static void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static bool is_num(const char *s)
{
	char *e;
	if (!*s)
		return false;
	strtod(s, &e);
	return *e == '\0';
}

/* Order of a set: numerically when every member is a number. */
static int cmp_num(const void *a, const void *b)
{
	double x = strtod(*(char *const *)a, NULL), y = strtod(*(char *const *)b, NULL);
	return x < y ? -1 : x > y;
}

static void strset_sort_numeric(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (!is_num(s->v[i]))
			return;
	qsort(s->v, s->n, sizeof(char *), cmp_num);
}

/* ---- kinds ---- */

static int plot_mrc(struct fig *g, struct vl_error *err)
{
	header(g, "miss ratio against memory size; one block of the data per curve");
	FILE *d = g->dat;
	fprintf(d, "# memory_mib miss_ratio frames misses\n");
	struct strset titles = { 0 };
	size_t blocks = 0;
	char **bt = NULL;
	for (size_t i = 0; i < g->nrows; i++) {
		const struct vl_summary_row *row = &g->rows[i];
		if (strcmp(row->kind, "mrc") || !selected(g, row->run_id))
			continue;
		char path[VL_RUN_ID_MAX + 16];
		snprintf(path, sizeof(path), "/runs/%s/mrc", row->run_id);
		struct vl_table t = { .size = sizeof(t) };
		if (vl_results_table(g->r, path, &t, err) < 0) {
			strset_free(&titles);
			return err->code;
		}
		long cf = vl_table_col(&t, "frames"), cr = vl_table_col(&t, "miss_ratio"),
		     cm = vl_table_col(&t, "misses");
		if (cf < 0 || cr < 0) {
			vl_table_free(&t);
			strset_free(&titles);
			return vl_err(err, VL_EFORMAT, "%s: %s lacks frames/miss_ratio fields",
				      vl_results_path(g->r), path);
		}
		const char *method = vl_table_attr(&t, "method");
		const char *rate = vl_table_attr(&t, "sample_rate");
		char title[160];
		if (method && !strcmp(method, "shards"))
			snprintf(title, sizeof(title), "%s (SHARDS %s)", row->policy, rate ? rate : "");
		else
			snprintf(title, sizeof(title), "%s", row->policy);
		size_t before = titles.n;
		strset_add(&titles, title);
		if (titles.n == before) { /* a second curve with the same title: name the run */
			char t2[200];
			snprintf(t2, sizeof(t2), "%s [%s]", title, row->run_id);
			snprintf(title, sizeof(title), "%s", t2);
		}
		char **nb = realloc(bt, (blocks + 1) * sizeof(char *));
		if (nb)
			bt = nb;
		if (!nb || !(bt[blocks] = strdup(title))) {
			vl_table_free(&t);
			break;
		}
		fprintf(d, "# curve %zu: %s\n", blocks, title);
		for (size_t k = 0; k < t.nrows; k++) {
			double fr = t.v[k * t.ncols + cf];
			fprintf(d, "%.6f %.8f %.0f %.0f\n", fr * VL_PAGE_SIZE / (1 << 20),
				t.v[k * t.ncols + cr], fr, cm >= 0 ? t.v[k * t.ncols + cm] : NAN);
		}
		fprintf(d, "\n\n");
		blocks++;
		vl_table_free(&t);
	}
	if (blocks == 0) {
		/* engine runs at several sizes: a curve per policy */
		struct strset pol = { 0 };
		for (size_t i = 0; i < g->nrows; i++)
			if (!strcmp(g->rows[i].kind, "run") && selected(g, g->rows[i].run_id))
				strset_add(&pol, g->rows[i].policy);
		for (size_t p = 0; p < pol.n; p++) {
			size_t *idx = calloc(g->nrows, sizeof(*idx)), k = 0;
			if (!idx)
				break;
			for (size_t i = 0; i < g->nrows; i++)
				if (!strcmp(g->rows[i].kind, "run") && selected(g, g->rows[i].run_id) &&
				    !strcmp(g->rows[i].policy, pol.v[p]))
					idx[k++] = i;
			/* by frames (insertion sort: few runs) */
			for (size_t a = 1; a < k; a++)
				for (size_t b = a; b > 0 && g->rows[idx[b]].frames < g->rows[idx[b - 1]].frames;
				     b--) {
					size_t x = idx[b];
					idx[b] = idx[b - 1];
					idx[b - 1] = x;
				}
			char title[160];
			snprintf(title, sizeof(title), "%s (engine runs)", pol.v[p]);
			char **nb = realloc(bt, (blocks + 1) * sizeof(char *));
			if (nb)
				bt = nb;
			if (!nb || !(bt[blocks] = strdup(title))) {
				free(idx);
				break;
			}
			fprintf(d, "# curve %zu: %s\n", blocks, title);
			for (size_t a = 0; a < k; a++) {
				const struct vl_summary_row *row = &g->rows[idx[a]];
				fprintf(d, "%.6f %.8f %llu %llu\n",
					(double)row->frames * VL_PAGE_SIZE / (1 << 20), row->fault_ratio,
					(unsigned long long)row->frames, (unsigned long long)row->faults);
			}
			fprintf(d, "\n\n");
			blocks++;
			free(idx);
		}
		strset_free(&pol);
	}
	strset_free(&titles);
	if (blocks == 0) {
		free(bt);
		return vl_err(err, VL_ENOENT,
			      "%s: no miss-ratio data (store a curve with vmlab mrc -o, or runs at "
			      "several memory sizes with vmlab run -o)", vl_results_path(g->r));
	}
	FILE *f = g->gp;
	default_title(g, "Miss-ratio curve");
	fprintf(f, "set logscale x 2\nset format x \"%%g\"\nset xlabel \"memory (MiB)\"\n"
		   "set ylabel \"miss ratio\"\nset yrange [0:*]\nset key inside right top\n");
	fprintf(f, "plot \\\n");
	for (size_t b = 0; b < blocks; b++) {
		fprintf(f, "  ");
		if (b)
			fprintf(f, "''");
		else
			gq(f, g->dat_name);
		fprintf(f, " index %zu using 1:2 with linespoints lw 2 pt 7 ps 0.6 title ", b);
		gq(f, bt[b]);
		fprintf(f, "%s\n", b + 1 < blocks ? ", \\" : "");
		free(bt[b]);
	}
	free(bt);
	return 0;
}

static int plot_timeline(struct fig *g, struct vl_error *err)
{
	const struct vl_summary_row *row = NULL;
	struct vl_table t = { .size = sizeof(t) };
	char path[VL_RUN_ID_MAX + 16];
	for (size_t i = g->nrows; i-- > 0;) {
		if (!selected(g, g->rows[i].run_id) || strcmp(g->rows[i].kind, "run"))
			continue;
		snprintf(path, sizeof(path), "/runs/%s/timeline", g->rows[i].run_id);
		struct vl_error e2 = { 0 };
		if (vl_results_table(g->r, path, &t, &e2) == 0) {
			row = &g->rows[i];
			break;
		}
		if (g->o->nruns == 1)
			return vl_err(err, VL_ENOENT,
				      "%s: run %s has no timeline (run it with -s stats.interval=N)",
				      vl_results_path(g->r), g->rows[i].run_id);
	}
	if (!row)
		return vl_err(err, VL_ENOENT,
			      "%s: no run with a timeline (vmlab run -s stats.interval=N -o FILE)",
			      vl_results_path(g->r));
	header(g, "faults per interval and working-set pages against accesses");
	/* column 1 is where the interval starts, so `steps` draws each value
	 * across its interval; a last line at the end closes the last step */
	const char *cols[] = { "accesses", "faults", "faults_hard", "faults_demand_zero",
			       "ws_pages", "resident_pages", "free_frames" };
	long ci[7], cend = vl_table_col(&t, "accesses_end");
	FILE *d = g->dat;
	fprintf(d, "# run %s\n# interval_start interval_end", row->run_id);
	for (int k = 0; k < 7; k++) {
		ci[k] = vl_table_col(&t, cols[k]);
		if (k)
			fprintf(d, " %s", cols[k]);
	}
	fputc('\n', d);
	if (cend < 0 || ci[0] < 0 || ci[1] < 0 || ci[4] < 0) {
		vl_table_free(&t);
		return vl_err(err, VL_EFORMAT, "%s: %s lacks accesses_end/accesses/faults/ws_pages",
			      vl_results_path(g->r), path);
	}
	for (size_t k = 0; k <= t.nrows && t.nrows; k++) {
		size_t row_i = k < t.nrows ? k : t.nrows - 1;
		const double *v = &t.v[row_i * t.ncols];
		double x = k < t.nrows ? v[cend] - v[ci[0]] : v[cend];
		fprintf(d, "%.0f %.0f", x, v[cend]);
		for (int c = 1; c < 7; c++)
			if (ci[c] >= 0)
				fprintf(d, " %.0f", v[ci[c]]);
			else
				fprintf(d, " ?");
		fputc('\n', d);
	}
	const char *iv = vl_table_attr(&t, "interval_accesses");
	char title[256];
	snprintf(title, sizeof(title), "Run %s: %s, %llu frames, intervals of %s accesses",
		 row->run_id, row->policy, (unsigned long long)row->frames, iv ? iv : "?");
	vl_table_free(&t);
	default_title(g, title);
	FILE *f = g->gp;
	fprintf(f, "set xlabel \"accesses (millions)\"\nset ylabel \"faults per interval\"\n"
		   "set y2label \"pages\"\nset ytics nomirror\nset y2tics\nset yrange [0:*]\n"
		   "set y2range [0:*]\nset key inside right top\n");
	fprintf(f, "plot \\\n");
	fprintf(f, "  ");
	gq(f, g->dat_name);
	fprintf(f, " using ($1/1e6):3 with steps lw 2 title \"faults\", \\\n"
		   "  '' using ($1/1e6):4 with steps lw 1 title \"hard faults\", \\\n"
		   "  '' using ($2/1e6):6 axes x1y2 with lines lw 2 dt 2 title \"working set (pages)\", \\\n"
		   "  '' using ($2/1e6):8 axes x1y2 with lines lw 1 dt 3 title \"free frames\"\n");
	return 0;
}

/* A clustered histogram: rows = clusters (x), columns = series. */
static void histogram_script(struct fig *g, size_t nseries, const char *xlabel,
			     const char *ylabel, bool logy, double ymin)
{
	FILE *f = g->gp;
	fprintf(f, "set style data histograms\nset style histogram clustered gap 1\n"
		   "set style fill solid 0.85 border -1\nset boxwidth 0.9\nset xtics rotate by -25\n"
		   "set key inside right top\n");
	fprintf(f, "set xlabel ");
	gq(f, xlabel);
	fprintf(f, "\nset ylabel ");
	gq(f, ylabel);
	fputc('\n', f);
	if (logy) /* bars rise from a decade below the smallest value */
		fprintf(f, "set logscale y\nset yrange [%g:*]\n", pow(10, floor(log10(ymin * 0.999))));
	else
		fprintf(f, "set yrange [0:*]\n");
	fprintf(f, "plot for [i=2:%zu] ", nseries + 1);
	gq(f, g->dat_name);
	fprintf(f, " using i:xtic(1) title columnheader(i)\n");
}

static int counter_of(struct fig *g, const char *run_id, const char *name, double *out)
{
	char path[VL_RUN_ID_MAX + 16];
	struct vl_table t = { .size = sizeof(t) };
	struct vl_error e = { 0 };
	snprintf(path, sizeof(path), "/runs/%s/counters", run_id);
	if (vl_results_table(g->r, path, &t, &e) < 0)
		return -1;
	long c = vl_table_col(&t, name);
	int rc = -1;
	if (c >= 0 && t.nrows > 0) {
		*out = t.v[c];
		rc = 0;
	}
	vl_table_free(&t);
	return rc;
}

static int plot_bars(struct fig *g, struct vl_error *err)
{
	const char *counter = g->o->counter ? g->o->counter : "faults";
	const char *by = g->o->by ? g->o->by : "replacement.policy";
	const char *xp = g->o->x ? g->o->x : "frames";
	struct strset xs = { 0 }, bs = { 0 };
	size_t n = 0;
	size_t *ri = calloc(g->nrows + 1, sizeof(*ri));
	double *val = calloc(g->nrows + 1, sizeof(*val));
	char (*xv)[128] = calloc(g->nrows + 1, sizeof(*xv));
	char (*bv)[128] = calloc(g->nrows + 1, sizeof(*bv));
	int rc = 0;
	if (!ri || !val || !xv || !bv) {
		rc = vl_err(err, VL_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < g->nrows; i++) {
		const struct vl_summary_row *row = &g->rows[i];
		if (strcmp(row->kind, "run") || !selected(g, row->run_id))
			continue;
		if (counter_of(g, row->run_id, counter, &val[n]) < 0)
			continue;
		param(g, row, xp, xv[n], sizeof(xv[n]));
		param(g, row, by, bv[n], sizeof(bv[n]));
		strset_add(&xs, xv[n]);
		strset_add(&bs, bv[n]);
		ri[n++] = i;
	}
	if (n == 0) {
		rc = vl_err(err, VL_ENOENT, "%s: no run has a counter '%s' (see vmlab report --json)",
			    vl_results_path(g->r), counter);
		goto out;
	}
	strset_sort_numeric(&xs);
	strset_sort_numeric(&bs);
	header(g, "a counter across runs: clusters by one parameter, bars by another");
	FILE *d = g->dat;
	fprintf(d, "# %s of each run; rows: %s; columns: %s; ? = no such run\n", counter, xp, by);
	dtok(d, xp);
	for (size_t b = 0; b < bs.n; b++) {
		fputc(' ', d);
		dtok(d, bs.v[b]);
	}
	fputc('\n', d);
	for (size_t x = 0; x < xs.n; x++) {
		dtok(d, xs.v[x]);
		for (size_t b = 0; b < bs.n; b++) {
			const char *cell = "?";
			char num[64];
			for (size_t k = 0; k < n; k++) /* the last run wins */
				if (!strcmp(xv[k], xs.v[x]) && !strcmp(bv[k], bs.v[b])) {
					snprintf(num, sizeof(num), "%.17g", val[k]);
					cell = num;
				}
			fprintf(d, " %s", cell);
		}
		fputc('\n', d);
	}
	char title[256];
	snprintf(title, sizeof(title), "%s by %s and %s", counter, xp, by);
	default_title(g, title);
	histogram_script(g, bs.n, xp, counter, false, 0);
out:
	strset_free(&xs);
	strset_free(&bs);
	free(ri);
	free(val);
	free(xv);
	free(bv);
	return rc;
}

static int plot_tlb(struct fig *g, struct vl_error *err)
{
	struct strset levels = { 0 }, runs = { 0 };
	/* mpki[run][level], at most VL_PLOT_MAX_RUNS * 64 cells */
	enum { MAXL = 64 };
	double (*mpki)[MAXL] = calloc(g->nrows + 1, sizeof(*mpki));
	int rc = 0;
	if (!mpki)
		return vl_err(err, VL_ENOMEM, "out of memory");
	for (size_t i = 0; i < g->nrows; i++) {
		const struct vl_summary_row *row = &g->rows[i];
		if (strcmp(row->kind, "run") || !selected(g, row->run_id))
			continue;
		char path[VL_RUN_ID_MAX + 16];
		struct vl_table t = { .size = sizeof(t) };
		struct vl_error e = { 0 };
		snprintf(path, sizeof(path), "/runs/%s/counters", row->run_id);
		if (vl_results_table(g->r, path, &t, &e) < 0)
			continue;
		long ca = vl_table_col(&t, "accesses");
		bool any = false;
		for (size_t c = 0; c < t.ncols && ca >= 0 && t.nrows; c++) {
			const char *nm = t.names[c];
			size_t len = strlen(nm);
			if (strncmp(nm, "tlb_", 4) || len <= 11 || strcmp(nm + len - 7, "_misses"))
				continue;
			char lvl[64];
			snprintf(lvl, sizeof(lvl), "%.*s", (int)(len - 11), nm + 4);
			long li = strset_add(&levels, lvl);
			if (li < 0 || li >= MAXL)
				continue;
			if (!any) {
				strset_add(&runs, row->run_id);
				for (int k = 0; k < MAXL; k++)
					mpki[runs.n - 1][k] = NAN;
				any = true;
			}
			double acc = t.v[ca];
			mpki[runs.n - 1][li] = acc > 0 ? 1000.0 * t.v[c] / acc : 0;
		}
		vl_table_free(&t);
	}
	if (runs.n == 0) {
		rc = vl_err(err, VL_ENOENT,
			    "%s: no run has TLB counters (tlb_<level>_misses); they come from runs "
			    "with the TLB model", vl_results_path(g->r));
		goto out;
	}
	header(g, "TLB misses per 1000 accesses by level; a column per run");
	FILE *d = g->dat;
	fprintf(d, "# misses per kilo-access = 1000 * tlb_<level>_misses / accesses\n\"level\"");
	for (size_t k = 0; k < runs.n; k++) {
		fputc(' ', d);
		dtok(d, runs.v[k]);
	}
	fputc('\n', d);
	for (size_t l = 0; l < levels.n && l < MAXL; l++) {
		dtok(d, levels.v[l]);
		for (size_t k = 0; k < runs.n; k++) {
			if (isnan(mpki[k][l]))
				fprintf(d, " ?");
			else
				fprintf(d, " %.6g", mpki[k][l]);
		}
		fputc('\n', d);
	}
	default_title(g, "TLB misses per kilo-access");
	histogram_script(g, runs.n, "TLB level", "misses per 1000 accesses", false, 0);
out:
	strset_free(&levels);
	strset_free(&runs);
	free(mpki);
	return rc;
}

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
	header(g, "simulated against measured counters, per validation and counter");
	FILE *d = g->dat;
	fprintf(d, "\"event\" \"simulated\" \"measured\"\n");
	size_t rows = 0;
	bool positive = true;
	double ymin = INFINITY;
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
		for (size_t k = 0; k < t.nrows; k++) {
			char label[256];
			const char *cn = t.strs[k * t.ncols + cc];
			snprintf(label, sizeof(label), "%s:%s", names[i], cn ? cn : "?");
			double v[2] = { t.v[k * t.ncols + cs], t.v[k * t.ncols + cm] };
			dtok(d, label);
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
			rows++;
		}
		vl_table_free(&t);
	}
	vl_results_names_free(names, nn);
	if (rc < 0)
		return rc;
	if (rows == 0)
		return vl_err(err, VL_ENOENT, "%s: /validation holds no rows", vl_results_path(g->r));
	default_title(g, "Simulated vs measured");
	histogram_script(g, 2, "workload:event", positive ? "count (log scale)" : "count",
			 positive && ymin < INFINITY, ymin);
	return 0;
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
		if (chdir(g->dir) < 0)
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
	char *out = str_printf("%s.%s", g->base, g->ext);
	struct stat sb;
	int rc = 0;
	if (!out || stat(out, &sb) < 0 || sb.st_size == 0)
		rc = vl_err(err, VL_EIO, "gnuplot wrote no figure to %s", out ? out : g->base);
	free(out);
	return rc;
}

int vl_plot(struct vl_results *r, const struct vl_plot_opts *o, struct vl_error *err)
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
	struct fig g = { .o = o, .r = r, .ext = dot + 1 };
	int rc = 0;
	char *d1 = strdup(o->out);
	g.base = strndup(o->out, (size_t)(dot - o->out));
	g.dir = d1 ? strdup(dirname(d1)) : NULL;
	free(d1);
	char *b1 = g.base ? strdup(g.base) : NULL;
	const char *bn = b1 ? basename(b1) : NULL;
	g.dat_name = bn ? str_printf("%s.dat", bn) : NULL;
	g.gp_name = bn ? str_printf("%s.gp", bn) : NULL;
	g.out_name = bn ? str_printf("%s.%s", bn, g.ext) : NULL;
	free(b1);
	char *dat_path = g.base ? str_printf("%s.dat", g.base) : NULL;
	char *gp_path = g.base ? str_printf("%s.gp", g.base) : NULL;
	if (!g.base || !g.dir || !g.dat_name || !g.gp_name || !g.out_name || !dat_path || !gp_path) {
		rc = vl_err(err, VL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = vl_results_summary(r, &g.rows, &g.nrows, err)) < 0)
		goto out;
	for (int i = 0; i < o->nruns; i++) {
		bool found = false;
		for (size_t k = 0; k < g.nrows && !found; k++)
			found = !strcmp(g.rows[k].run_id, o->runs[i]);
		if (!found) {
			rc = vl_err(err, VL_ENOENT, "%s: no run '%s' (see vmlab report)",
				    vl_results_path(r), o->runs[i]);
			goto out;
		}
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
	if (rc < 0 && rc != VL_EIO) {
		unlink(dat_path); /* nothing was drawn: leave no half-made files */
		unlink(gp_path);
	}
out:
	if (g.dat)
		fclose(g.dat);
	if (g.gp)
		fclose(g.gp);
	free(g.rows);
	free(g.base);
	free(g.dir);
	free(g.dat_name);
	free(g.gp_name);
	free(g.out_name);
	free(dat_path);
	free(gp_path);
	return rc;
}
