/* analysis/runset.c - the runs of a results file as one table (runset.h).
 *
 * Loading reads /summary once as a generic table (so a sweep's extra
 * columns come along), then each run's `config` attribute (INI text, every
 * key) and its counters row.  Columns are found by name through a small
 * open-addressing hash, so a sweep of thousands of cells with a few hundred
 * keys each loads in one pass.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/runset.h"
#include "analysis/util.h"
#include "vmlab/config.h"

/* ---- columns ---- */

static size_t hname(const char *s)
{
	size_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static long find_exact(const struct rs *s, const char *name)
{
	if (!s->hcap)
		return -1;
	for (size_t k = hname(name) & (s->hcap - 1);; k = (k + 1) & (s->hcap - 1)) {
		long c = s->hash[k];
		if (c < 0)
			return -1;
		if (!strcmp(s->cols[c].name, name))
			return c;
	}
}

static int rehash(struct rs *s, size_t cap)
{
	long *h = malloc(cap * sizeof(*h));
	if (!h)
		return -1;
	for (size_t k = 0; k < cap; k++)
		h[k] = -1;
	for (size_t c = 0; c < s->ncols; c++) {
		size_t k = hname(s->cols[c].name) & (cap - 1);
		while (h[k] >= 0)
			k = (k + 1) & (cap - 1);
		h[k] = (long)c;
	}
	free(s->hash);
	s->hash = h;
	s->hcap = cap;
	return 0;
}

/* The column named name (created with role when missing); -1 out of memory. */
static long col(struct rs *s, const char *name, enum rs_role role)
{
	long c = find_exact(s, name);
	if (c >= 0)
		return c;
	if (s->ncols == s->cap) {
		size_t nc = s->cap ? 2 * s->cap : 64;
		struct rs_col *v = realloc(s->cols, nc * sizeof(*v));
		if (!v)
			return -1;
		s->cols = v;
		s->cap = nc;
	}
	struct rs_col *k = &s->cols[s->ncols];
	memset(k, 0, sizeof(*k));
	k->name = strdup(name);
	k->v = calloc(s->nruns ? s->nruns : 1, sizeof(char *));
	if (!k->name || !k->v) {
		free(k->name);
		free(k->v);
		return -1;
	}
	k->role = role;
	s->ncols++;
	if (2 * s->ncols > s->hcap && rehash(s, s->hcap ? 2 * s->hcap : 256) < 0) {
		s->ncols--;
		free(k->name);
		free(k->v);
		return -1;
	}
	if (s->hcap && find_exact(s, name) < 0) { /* insert into the existing table */
		size_t h = hname(name) & (s->hcap - 1);
		while (s->hash[h] >= 0)
			h = (h + 1) & (s->hcap - 1);
		s->hash[h] = (long)(s->ncols - 1);
	}
	return (long)(s->ncols - 1);
}

/* Set a value unless the run already has one (the first source wins). */
static int put(struct rs *s, size_t run, const char *name, enum rs_role role, const char *v)
{
	long c = col(s, name, role);
	if (c < 0)
		return -1;
	if (s->cols[c].v[run])
		return 0;
	return (s->cols[c].v[run] = strdup(v)) ? 0 : -1;
}

static void num_text(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "nan");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.17g", v);
}

static bool is_number(const char *v)
{
	char *e;
	if (!*v)
		return false;
	strtod(v, &e);
	return *e == '\0' && !isspace((unsigned char)*v);
}

/* Every key of an INI text as a parameter column. */
static int put_config(struct rs *s, size_t run, const char *text)
{
	char section[128] = "";
	const char *p = text;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[1024];
		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1),
			 p);
		p = nl ? nl + 1 : NULL;
		char *t = au_trim(line);
		if (*t == '[') {
			char *e = strchr(t, ']');
			if (e) {
				*e = '\0';
				snprintf(section, sizeof(section), "%s", t + 1);
			}
			continue;
		}
		char *eq = strchr(t, '=');
		if (!eq || *t == '#' || *t == ';')
			continue;
		*eq = '\0';
		char full[512];
		snprintf(full, sizeof(full), "%s%s%s", section, *section ? "." : "", au_trim(t));
		if (put(s, run, full, RS_PARAM, au_trim(eq + 1)) < 0)
			return -1;
	}
	return 0;
}

static enum rs_role summary_role(const char *name)
{
	static const char *const ids[] = { "run_id", "cell", "cell_key" };
	static const char *const params[] = { "kind", "trace" };
	static const char *const aliases[] = { "os", "policy", "frames", "seed", "stats_interval" };
	for (size_t i = 0; i < 3; i++)
		if (!strcmp(name, ids[i]))
			return RS_ID;
	for (size_t i = 0; i < 2; i++)
		if (!strcmp(name, params[i]))
			return RS_PARAM;
	for (size_t i = 0; i < 5; i++)
		if (!strcmp(name, aliases[i]))
			return RS_ALIAS;
	if (strchr(name, '.')) /* a sweep's [vary] column: a configuration key */
		return RS_PARAM;
	return RS_MEASURE;
}

int rs_load(struct rs *s, struct vl_results *r, struct vl_error *err)
{
	memset(s, 0, sizeof(*s));
	s->r = r;
	struct vl_table t = { .size = sizeof(t) };
	int rc = vl_results_table(r, "/summary", &t, err);
	if (rc == VL_ENOENT)
		return vl_err(err, VL_EFORMAT, "%s: no /summary dataset", vl_results_path(r));
	if (rc < 0)
		return rc;
	long crun = vl_table_col(&t, "run_id");
	if (crun < 0) {
		vl_table_free(&t);
		return vl_err(err, VL_EFORMAT, "%s: /summary has no run_id field (docs/results.md)",
			      vl_results_path(r));
	}
	s->nruns = t.nrows;
	s->sel = malloc((s->nruns ? s->nruns : 1) * sizeof(bool));
	if (!s->sel)
		goto oom;
	for (size_t i = 0; i < s->nruns; i++)
		s->sel[i] = true;
	/* /summary columns first, in their order (the order of report --csv) */
	for (size_t c = 0; c < t.ncols; c++) {
		enum rs_role role = summary_role(t.names[c]);
		if (col(s, t.names[c], role) < 0)
			goto oom;
	}
	s->nsummary = s->ncols;
	for (size_t i = 0; i < s->nruns; i++) {
		for (size_t c = 0; c < t.ncols; c++) {
			char num[64];
			const char *v = t.strs[i * t.ncols + c];
			if (!v) {
				num_text(t.v[i * t.ncols + c], num, sizeof(num));
				v = num;
			}
			if (put(s, i, t.names[c], summary_role(t.names[c]), v) < 0)
				goto oom;
		}
	}
	/* each run's configuration, then its counters */
	for (size_t i = 0; i < s->nruns; i++) {
		const char *id = t.strs[i * t.ncols + crun];
		char obj[VL_RUN_ID_MAX + 32];
		char *text = NULL;
		struct vl_error e = { 0 };
		snprintf(obj, sizeof(obj), "/runs/%s", id ? id : "");
		if (vl_results_attr(r, obj, "config", &text, &e) == 0) {
			int prc = put_config(s, i, text);
			free(text);
			if (prc < 0)
				goto oom;
		}
		snprintf(obj, sizeof(obj), "/runs/%s/counters", id ? id : "");
		struct vl_table ct = { .size = sizeof(ct) };
		if (vl_results_table(r, obj, &ct, &e) == 0) {
			for (size_t c = 0; c < ct.ncols && ct.nrows; c++) {
				char num[64];
				num_text(ct.v[c], num, sizeof(num));
				if (!ct.strs[c] && put(s, i, ct.names[c], RS_MEASURE, num) < 0) {
					vl_table_free(&ct);
					goto oom;
				}
			}
			vl_table_free(&ct);
		}
	}
	vl_table_free(&t);
	for (size_t c = 0; c < s->ncols; c++) {
		bool num = false, all = true;
		for (size_t i = 0; i < s->nruns; i++)
			if (s->cols[c].v[i]) {
				num = true;
				all = all && is_number(s->cols[c].v[i]);
			}
		s->cols[c].numeric = num && all;
	}
	return 0;
oom:
	vl_table_free(&t);
	rs_free(s);
	return vl_err(err, VL_ENOMEM, "out of memory");
}

void rs_free(struct rs *s)
{
	for (size_t c = 0; c < s->ncols; c++) {
		for (size_t i = 0; i < s->nruns; i++)
			free(s->cols[c].v[i]);
		free(s->cols[c].v);
		free(s->cols[c].name);
	}
	free(s->cols);
	free(s->hash);
	free(s->sel);
	memset(s, 0, sizeof(*s));
}

long rs_find(const struct rs *s, const char *name)
{
	static const char *const alias[][2] = {
		{ "policy", "replacement.policy" }, { "os", "os.personality" },
		{ "seed", "run.seed" },             { "run", "run_id" },
		{ "memory.frames", "frames" },      { "id", "run_id" },
	};
	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (!strcmp(name, alias[i][0])) {
			long c = find_exact(s, alias[i][1]);
			if (c >= 0)
				return c;
		}
	return find_exact(s, name);
}

const char *rs_val(const struct rs *s, size_t i, long c)
{
	if (c < 0)
		return "";
	const char *v = s->cols[c].v[i];
	return v ? v : "";
}

/* File name of a path without its trace extensions. */
static void trace_name(const char *path, char *buf, size_t len)
{
	const char *b = strrchr(path, '/');
	snprintf(buf, len, "%s", b ? b + 1 : path);
	static const char *const ext[] = { ".gz", ".zst", ".xz", ".vmt", ".trace", ".addr",
					   ".din", ".champsim", ".txt" };
	for (int again = 1; again;) {
		again = 0;
		size_t n = strlen(buf);
		for (size_t k = 0; k < sizeof(ext) / sizeof(ext[0]); k++) {
			size_t e = strlen(ext[k]);
			if (n > e && !strcmp(buf + n - e, ext[k])) {
				buf[n - e] = '\0';
				again = 1;
				break;
			}
		}
	}
}

static bool matches(const struct rs *s, long c, const char *have, const char *want)
{
	if (!strcmp(have, want))
		return true;
	if (s->cols[c].numeric && is_number(want) && is_number(have))
		return strtod(have, NULL) == strtod(want, NULL);
	if (!strcmp(s->cols[c].name, "trace")) {
		char tn[256];
		const char *b = strrchr(have, '/');
		trace_name(have, tn, sizeof(tn));
		return !strcmp(b ? b + 1 : have, want) || !strcmp(tn, want);
	}
	return false;
}

/* "a, b, c" of the distinct values of column c over runs with ok[i] (at
 * most a few, then "..."); the count in *n. */
static void distinct(const struct rs *s, long c, const bool *ok, char *buf, size_t len, size_t *n)
{
	struct au_strv seen = { 0 };
	for (size_t i = 0; i < s->nruns; i++) {
		if (!ok[i])
			continue;
		const char *v = rs_val(s, i, c);
		bool dup = false;
		for (size_t k = 0; k < seen.n && !dup; k++)
			dup = !strcmp(seen.v[k], v);
		if (!dup && au_strv_push(&seen, v) < 0)
			break;
	}
	*n = seen.n;
	buf[0] = '\0';
	size_t used = 0;
	for (size_t k = 0; k < seen.n && used + 8 < len; k++) {
		char shown[128];
		if (!strcmp(s->cols[c].name, "trace"))
			rs_show(s, c, seen.v[k], shown, sizeof(shown));
		else
			snprintf(shown, sizeof(shown), "%s", seen.v[k]);
		if (k == 6) {
			snprintf(buf + used, len - used, ", ...");
			break;
		}
		int w = snprintf(buf + used, len - used, "%s%s", k ? ", " : "",
				 *shown ? shown : "(none)");
		used += w > 0 ? (size_t)w : 0;
	}
	au_strv_free(&seen);
}

int rs_where(struct rs *s, const char *expr, struct vl_error *err)
{
	const char *eq = strchr(expr, '=');
	if (!eq || eq == expr)
		return vl_err(err, VL_EUSAGE, "--where '%s': expected KEY=VALUE[,VALUE...]", expr);
	char key[256];
	snprintf(key, sizeof(key), "%.*s", (int)(eq - expr < 255 ? eq - expr : 255), expr);
	long c = rs_find(s, au_trim(key));
	if (c < 0)
		return vl_err(err, VL_EUSAGE,
			      "--where: no key '%s' in %s (keys: trace, os, seed, run, cell, policy, "
			      "frames, any configuration key of `vmlab config`, any counter)",
			      key, vl_results_path(s->r));
	char *vals = strdup(eq + 1);
	if (!vals)
		return vl_err(err, VL_ENOMEM, "out of memory");
	bool *keep = calloc(s->nruns ? s->nruns : 1, sizeof(bool));
	if (!keep) {
		free(vals);
		return vl_err(err, VL_ENOMEM, "out of memory");
	}
	int rc = 0;
	char *save = NULL;
	for (char *v = strtok_r(vals, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
		char *w = au_trim(v);
		bool any = false;
		for (size_t i = 0; i < s->nruns; i++)
			if (s->sel[i] && matches(s, c, rs_val(s, i, c), w))
				keep[i] = any = true;
		if (!any) {
			char list[512];
			size_t n;
			distinct(s, c, s->sel, list, sizeof(list), &n);
			rc = vl_err(err, VL_EUSAGE, "--where %s=%s: no run has that value (values: %s)",
				    s->cols[c].name, w, list);
			break;
		}
	}
	if (rc == 0)
		for (size_t i = 0; i < s->nruns; i++)
			s->sel[i] = s->sel[i] && keep[i];
	free(keep);
	free(vals);
	return rc;
}

bool rs_same(const struct rs *s, size_t i, size_t j, const long *named, size_t nnamed)
{
	for (size_t k = 0; k < nnamed; k++)
		if (named[k] >= 0 && strcmp(rs_val(s, i, named[k]), rs_val(s, j, named[k])))
			return false;
	return true;
}

int rs_check(const struct rs *s, const bool *ok, const long *named, size_t nnamed,
	     struct vl_error *err)
{
	long seed = rs_find(s, "run.seed");
	size_t n = s->nruns;
	/* group[i]: the first run of i's group */
	size_t *group = malloc((n ? n : 1) * sizeof(*group));
	bool *vary = calloc(s->ncols + 1, sizeof(bool));
	if (!group || !vary) {
		free(group);
		free(vary);
		return vl_err(err, VL_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		group[i] = i;
		if (!ok[i])
			continue;
		for (size_t j = 0; j < i; j++)
			if (ok[j] && group[j] == j && rs_same(s, i, j, named, nnamed)) {
				group[i] = j;
				break;
			}
	}
	size_t nvary = 0;
	for (size_t c = 0; c < s->ncols; c++) {
		if (s->cols[c].role != RS_PARAM || (long)c == seed)
			continue;
		bool isnamed = false;
		for (size_t k = 0; k < nnamed; k++)
			isnamed = isnamed || named[k] == (long)c;
		if (isnamed)
			continue;
		for (size_t i = 0; i < n && !vary[c]; i++)
			if (ok[i] && group[i] != i &&
			    strcmp(rs_val(s, i, (long)c), rs_val(s, group[i], (long)c)))
				vary[c] = true;
		nvary += vary[c];
	}
	int rc = 0;
	if (nvary) {
		char msg[VL_ERRMSG_MAX] = "";
		size_t used = 0;
		for (size_t c = 0; c < s->ncols && used + 16 < sizeof(msg); c++) {
			if (!vary[c])
				continue;
			char list[200];
			size_t nv;
			distinct(s, (long)c, ok, list, sizeof(list), &nv);
			int w = snprintf(msg + used, sizeof(msg) - used, "%s%s (%zu values: %s)",
					 used ? "; " : "", s->cols[c].name, nv, list);
			used += w > 0 ? (size_t)w : 0;
		}
		rc = vl_err(err, VL_EUSAGE,
			    "%s: the runs differ in parameters the figure does not name, which would "
			    "be merged: %s; name each with --by, --facet or --x, or keep one value "
			    "with --where KEY=VALUE",
			    vl_results_path(s->r), msg);
	}
	free(group);
	free(vary);
	return rc;
}

int rs_interesting(const struct rs *s, bool *out, struct vl_error *err)
{
	struct vl_config *cfg = NULL;
	char *text = NULL;
	struct rs d = { 0 };
	d.nruns = 1;
	int rc = vl_config_new(&cfg, err);
	if (rc < 0)
		return rc;
	if (!(text = vl_config_text(cfg)) || put_config(&d, 0, text) < 0)
		rc = vl_err(err, VL_ENOMEM, "out of memory");
	for (size_t c = 0; c < s->ncols && rc == 0; c++) {
		out[c] = false;
		if (s->cols[c].role != RS_PARAM)
			continue;
		long dc = find_exact(&d, s->cols[c].name);
		const char *def = dc >= 0 && d.cols[dc].v[0] ? d.cols[dc].v[0] : NULL;
		const char *first = NULL;
		for (size_t i = 0; i < s->nruns && !out[c]; i++) {
			if (!s->sel[i])
				continue;
			const char *v = rs_val(s, i, (long)c);
			if (!first)
				first = v;
			out[c] = strcmp(first, v) != 0 || !def || strcmp(def, v) != 0;
		}
	}
	rs_free(&d);
	free(text);
	vl_config_free(cfg);
	return rc;
}

void rs_bytes(double bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;
	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	if (bytes == floor(bytes))
		snprintf(buf, len, "%.0f %s", bytes, unit[u]);
	else
		snprintf(buf, len, "%.3g %s", bytes, unit[u]);
}

void rs_show(const struct rs *s, long c, const char *v, char *buf, size_t len)
{
	const char *name = c >= 0 ? s->cols[c].name : "";
	if ((!strcmp(name, "frames") || !strcmp(name, "memory.frames")) && is_number(v))
		rs_bytes(strtod(v, NULL) * VL_PAGE_SIZE, buf, len);
	else if (!strcmp(name, "memory.size") && is_number(v))
		rs_bytes(strtod(v, NULL), buf, len);
	else if (!strcmp(name, "trace"))
		trace_name(v, buf, len);
	else
		snprintf(buf, len, "%s", v);
}

const char *rs_short(const struct rs *s, long c)
{
	static const char *const names[][2] = {
		{ "replacement.policy", "policy" }, { "policy", "policy" },
		{ "frames", "memory" },             { "memory.frames", "memory" },
		{ "memory.size", "memory" },        { "run.seed", "seed" },
		{ "os.personality", "OS" },         { "os", "OS" },
		{ "run_id", "run" },                { "largepage.policy", "large pages" },
	};
	if (c < 0)
		return "";
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s->cols[c].name, names[i][0]))
			return names[i][1];
	return s->cols[c].name;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void rs_stats(double *v, size_t n, struct rs_stat *st)
{
	/* two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom
	 * (standard tables, e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2) */
	static const double t975[] = { 0,      12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
				       2.306,  2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
				       2.120,  2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
				       2.064,  2.060,  2.056, 2.052, 2.048, 2.045, 2.042 };
	qsort(v, n, sizeof(double), cmp_d);
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	st->n = n;
	st->mean = sum / (double)n;
	st->min = v[0];
	st->max = v[n - 1];
	st->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	st->lo = st->hi = st->mean;
	if (n > 1) {
		double ss = 0;
		for (size_t i = 0; i < n; i++)
			ss += (v[i] - st->mean) * (v[i] - st->mean);
		double sd = sqrt(ss / (double)(n - 1));
		double t = n - 1 <= 30 ? t975[n - 1] : 1.960;
		st->lo = st->mean - t * sd / sqrt((double)n);
		st->hi = st->mean + t * sd / sqrt((double)n);
	}
}
