/* analysis/sweep_exp.c - the experiment file and its expansion into cells.
 *
 * Reading.  The experiment file is read by core/ini.c, the INI reader of
 * configuration files too (lines up to 64 KiB: a [vary] list or a traces
 * list of many globs is one line, never cut; "key: value", text after
 * "[section]" and continuation lines are errors naming their line).  Here
 * the sections and keys are checked (a section given twice, an unknown
 * key), the line of every [set] and [vary] key is kept, so an error names
 * it, and the order of the [vary] keys, which orders the cells.
 *
 * Expansion.  Every [vary] value is checked once against the configuration
 * schema on top of the base (os, config files, [set]), so an error names
 * its line; then the cartesian product is built, traces outermost and the
 * last [vary] key varying fastest, and every cell's configuration is
 * resolved and hashed.
 *
 * Keys.  XXH64 over "config text \0 trace-hash \0 format \0 version/results
 * format version".  The trace's path is not part of the key: the same bytes
 * give the same counters.
 */
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "analysis/sweep_internal.h"
#include "core/ini.h"
#include "vmlab/results.h"

void sweep_kv_free(struct vl_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void vl_sweep_free(struct vl_sweep *s)
{
	if (!s)
		return;
	char *fields[] = { s->name, s->exp_path, s->os, s->machine, s->format };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		free(fields[i]);
	au_strs_free(s->configs, s->nconfigs);
	sweep_kv_free(s->set, s->nset);
	au_strs_free(s->vary_keys, s->nvary);
	for (size_t i = 0; i < s->ncells; i++) {
		free(s->cells[i].trace);
		sweep_kv_free(s->cells[i].vary, s->nvary);
	}
	free(s->cells);
	for (size_t i = 0; i < s->nplugins; i++)
		free(s->plugins[i].path);
	free(s->plugins);
	free(s);
}


/* ---- [vary] values: comma lists and ranges ---- */

/* Parse an unsigned number with an optional binary suffix (K, M, G, T). */
static int parse_num(const char *s, uint64_t *out)
{
	if (vl_parse_u64(s, out) == 0)
		return 0;
	return vl_parse_size(s, out);
}

/* Expand one comma-separated item: "V", "A..B", "A..B step S", "A..B *F".
 * Ranges include both ends (B when the steps land on it). */
static int expand_item(char *item, struct au_strv *out, const char *origin, struct vl_error *err)
{
	char *dots = strstr(item, "..");
	if (!dots) {
		if (!*item)
			return vl_err(err, VL_EFORMAT, "%s: empty value in the list", origin);
		return au_strv_push(out, item) ? vl_err(err, VL_ENOMEM, "out of memory") : 0;
	}
	*dots = '\0';
	char *a = au_trim(item), *b = dots + 2, *op = NULL;
	char *star = strchr(b, '*'), *stp = strstr(b, "step");
	if (star)
		op = star;
	else if (stp)
		op = stp;
	char opbuf[64] = "";
	if (op) {
		snprintf(opbuf, sizeof(opbuf), "%s", op);
		*op = '\0';
	}
	b = au_trim(b);
	char *o = au_trim(opbuf);
	uint64_t lo, hi, step = 1, factor = 0;
	if (parse_num(a, &lo) < 0 || parse_num(b, &hi) < 0)
		return vl_err(err, VL_EFORMAT,
			      "%s: range '%s..%s': expected unsigned numbers (64, 4K, 2M) on both sides",
			      origin, a, b);
	if (*o == '*') {
		if (vl_parse_u64(au_trim(o + 1), &factor) < 0 || factor < 2)
			return vl_err(err, VL_EFORMAT, "%s: range factor '%s': expected *N with N >= 2",
				      origin, o);
	} else if (*o) {
		if (parse_num(au_trim(o + 4), &step) < 0 || step == 0)
			return vl_err(err, VL_EFORMAT, "%s: range step '%s': expected 'step N' with N >= 1",
				      origin, o);
	}
	if (lo > hi)
		return vl_err(err, VL_EFORMAT, "%s: range %s..%s is empty (start > end)", origin, a, b);
	if (factor && lo == 0)
		return vl_err(err, VL_EFORMAT, "%s: a geometric range (*%llu) cannot start at 0",
			      origin, (unsigned long long)factor);
	size_t count = 0;
	for (uint64_t v = lo; v <= hi;) {
		if (++count > SWEEP_MAX_VALUES)
			return vl_err(err, VL_EFORMAT, "%s: range %s..%s has more than %u values",
				      origin, a, b, SWEEP_MAX_VALUES);
		char num[32];
		snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
		if (au_strv_push(out, num))
			return vl_err(err, VL_ENOMEM, "out of memory");
		uint64_t nv = factor ? v * factor : v + step;
		if (nv <= v || (factor && nv / factor != v))
			break; /* overflow */
		v = nv;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sweep_values(const char *text, struct au_strv *out, const char *origin,
			 struct vl_error *err)
{
	char *copy = strdup(text);
	if (!copy)
		return vl_err(err, VL_ENOMEM, "out of memory");
	int rc = 0;
	char *save = NULL;
	if (!*au_trim(copy))
		rc = vl_err(err, VL_EFORMAT, "%s: expected a comma-separated list or a range of values",
			    origin);
	for (char *it = strtok_r(copy, ",", &save); it && rc == 0; it = strtok_r(NULL, ",", &save))
		rc = expand_item(au_trim(it), out, origin, err);
	free(copy);
	/* a value listed twice (or inside a range listed too) would make two
	 * identical cells */
	char **sorted = rc == 0 && out->n > 1 ? malloc(out->n * sizeof(*sorted)) : NULL;
	if (rc == 0 && out->n > 1 && !sorted)
		rc = vl_err(err, VL_ENOMEM, "out of memory");
	if (sorted) {
		memcpy(sorted, out->v, out->n * sizeof(*sorted));
		qsort(sorted, out->n, sizeof(*sorted), cmp_str);
		for (size_t i = 1; i < out->n && rc == 0; i++)
			if (!strcmp(sorted[i - 1], sorted[i]))
				rc = vl_err(err, VL_EFORMAT,
					    "%s: value '%s' listed twice (its cells would be the same)",
					    origin, sorted[i]);
		free(sorted);
	}
	return rc;
}

/* ---- the experiment file ---- */

struct vary_src {
	char *key;
	unsigned line;
	struct au_strv values;
};

/* The keys of [experiment]. */
enum { X_NAME, X_TRACES, X_OS, X_MACHINE, X_CONFIG, X_FORMAT, X_PLUGINS, X_NKEYS };
static const char *const exp_keys[X_NKEYS] = { "name", "traces", "os", "machine", "config",
					       "format", "plugins" };

struct exp_src {
	char *path, *dir;
	char *val[X_NKEYS];     /* [experiment] values as written; NULL when not given */
	unsigned line[X_NKEYS]; /* and their lines */
	struct vl_kv *set;
	unsigned *set_lines;
	size_t nset;
	struct vary_src *vary;
	size_t nvary;
};

static void exp_src_free(struct exp_src *e)
{
	free(e->path);
	free(e->dir);
	for (size_t x = 0; x < X_NKEYS; x++)
		free(e->val[x]);
	sweep_kv_free(e->set, e->nset);
	free(e->set_lines);
	for (size_t i = 0; i < e->nvary; i++) {
		free(e->vary[i].key);
		au_strv_free(&e->vary[i].values);
	}
	free(e->vary);
}

static bool ok_value(const char *v)
{
	return !strchr(v, '\t');
}

/* The parse's state between lines (core/ini.c calls exp_line per line). */
struct exp_parse {
	struct exp_src *e;
	enum { NONE, EXPERIMENT, VARY, SET } sec;
	bool seen[3];
};

static int exp_line(void *ctx, const struct vl_ini_line *l, struct vl_error *err)
{
	struct exp_parse *ps = ctx;
	struct exp_src *e = ps->e;
	unsigned line = l->line;
	int rc = 0;
	if (!l->key) {
		const char *n = l->section;
		if (!strcmp(n, "experiment"))
			ps->sec = EXPERIMENT;
		else if (!strcmp(n, "vary"))
			ps->sec = VARY;
		else if (!strcmp(n, "set"))
			ps->sec = SET;
		else
			return vl_err(err, VL_EFORMAT,
				      "%s line %u: unknown section [%s]; expected [experiment], [vary] or [set]",
				      e->path, line, n);
		if (ps->seen[ps->sec - 1])
			return vl_err(err, VL_EFORMAT, "%s line %u: section [%s] appears twice", e->path,
				      line, n);
		ps->seen[ps->sec - 1] = true;
		return 0;
	}
	const char *k = l->key, *v = l->value;
	if (!ok_value(v))
		rc = vl_err(err, VL_EFORMAT, "%s line %u: tab characters are not allowed in values",
			    e->path, line);
	else if (ps->sec == NONE)
		rc = vl_err(err, VL_EFORMAT, "%s line %u: '%s' outside a section; expected [experiment] first",
			    e->path, line, k);
	else if (ps->sec == EXPERIMENT) {
		size_t x = 0;
		while (x < X_NKEYS && strcmp(k, exp_keys[x]))
			x++;
		if (x == X_NKEYS)
			rc = vl_err(err, VL_EFORMAT,
				    "%s line %u: unknown key '%s' in [experiment]; expected name, traces, os, machine, config, format or plugins",
				    e->path, line, k);
		else if (e->val[x])
			rc = vl_err(err, VL_EFORMAT, "%s line %u: '%s' given twice", e->path, line, k);
		else if (!(e->val[x] = strdup(v)))
			rc = vl_err(err, VL_ENOMEM, "out of memory");
		else
			e->line[x] = line;
	} else if (ps->sec == SET) {
		for (size_t i = 0; i < e->nset && rc == 0; i++)
			if (!strcmp(e->set[i].key, k))
				rc = vl_err(err, VL_EFORMAT, "%s line %u: '%s' set twice in [set]", e->path,
					    line, k);
		struct vl_kv *ns = rc ? NULL : realloc(e->set, (e->nset + 1) * sizeof(*ns));
		if (ns)
			e->set = ns;
		unsigned *nl2 = ns ? realloc(e->set_lines, (e->nset + 1) * sizeof(*nl2)) : NULL;
		if (nl2)
			e->set_lines = nl2;
		if (rc == 0 && (!ns || !nl2))
			rc = vl_err(err, VL_ENOMEM, "out of memory");
		if (rc == 0) {
			e->set[e->nset].key = strdup(k);
			e->set[e->nset].value = strdup(v);
			e->set_lines[e->nset] = line;
			e->nset++;
			if (!e->set[e->nset - 1].key || !e->set[e->nset - 1].value)
				rc = vl_err(err, VL_ENOMEM, "out of memory");
		}
	} else {
		for (size_t i = 0; i < e->nvary && rc == 0; i++)
			if (!strcmp(e->vary[i].key, k))
				rc = vl_err(err, VL_EFORMAT, "%s line %u: '%s' appears twice in [vary]",
					    e->path, line, k);
		struct vary_src *nv = rc ? NULL : realloc(e->vary, (e->nvary + 1) * sizeof(*nv));
		if (rc == 0 && !nv)
			rc = vl_err(err, VL_ENOMEM, "out of memory");
		if (rc == 0) {
			e->vary = nv;
			struct vary_src *vs = &e->vary[e->nvary++];
			memset(vs, 0, sizeof(*vs));
			vs->line = line;
			if (!(vs->key = strdup(k)))
				rc = vl_err(err, VL_ENOMEM, "out of memory");
			char origin[PATH_MAX + 32];
			snprintf(origin, sizeof(origin), "%s line %u: %s", e->path, line, k);
			if (rc == 0)
				rc = sweep_values(v, &vs->values, origin, err);
		}
	}
	return rc;
}

static int parse_exp(struct exp_src *e, const char *text, struct vl_error *err)
{
	struct exp_parse ps = { .e = e, .sec = NONE };
	int rc = vl_ini_parse(text, strlen(text), e->path, 0, exp_line, &ps, err);
	bool *seen = ps.seen;
	if (rc)
		return rc;
	if (!seen[0])
		return vl_err(err, VL_EFORMAT, "%s: no [experiment] section; expected name and traces",
			      e->path);
	if (!e->val[X_NAME] || !*e->val[X_NAME])
		return vl_err(err, VL_EFORMAT, "%s: [experiment] has no 'name'", e->path);
	if (!e->val[X_TRACES] || !*e->val[X_TRACES])
		return vl_err(err, VL_EFORMAT, "%s: [experiment] has no 'traces' (globs, comma-separated)",
			      e->path);
	return 0;
}

/* ---- building cells ---- */

/* "os" and "machine" in [vary] pick presets, not keys (keys are dotted). */
bool sweep_preset_key(const char *k)
{
	return !strcmp(k, "os") || !strcmp(k, "machine");
}

/* Whether a built-in preset exists (by loading it into a scratch
 * configuration: independent of how vl_config_presets formats its list). */
static bool have_preset(const char *kind, const char *name)
{
	struct vl_config *c;
	struct vl_error e;
	if (vl_config_new(&c, &e) < 0)
		return false;
	bool ok = vl_config_load_preset(c, kind, name, &e) == 0;
	vl_config_free(c);
	return ok;
}

static int load_preset(struct vl_config *cfg, const char *kind, const char *name,
		       const char *origin, struct vl_error *err)
{
	int rc = vl_config_load_preset(cfg, kind, name, err);
	if (rc < 0) {
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		rc = vl_err(err, VL_EFORMAT, "%s: %s: %s", origin,
			    strcmp(kind, "os") ? "machine" : "os", msg);
	}
	return rc;
}

/* defaults < machine preset (as `vmlab run`: "generic" when there is one)
 * < os preset < config files < [set].  os/machine NULL: the experiment's. */
static int base_config(const struct vl_sweep *s, const char *os, const char *machine,
		       struct vl_config **out, const char *exp_path, const unsigned *set_lines,
		       struct vl_error *err)
{
	struct vl_config *cfg;
	VL_TRY(vl_config_new(&cfg, err));
	int rc = 0;
	const char *origin = exp_path && *exp_path ? exp_path : "plan";
	if (!machine)
		machine = s->machine;
	if (!os)
		os = s->os;
	if (machine && *machine)
		rc = load_preset(cfg, "machines", machine, origin, err);
	else if (have_preset("machines", "generic"))
		rc = load_preset(cfg, "machines", "generic", origin, err);
	if (rc == 0 && os && *os)
		rc = load_preset(cfg, "os", os, origin, err);
	for (size_t i = 0; rc == 0 && i < s->nconfigs; i++)
		rc = vl_config_load_file(cfg, s->configs[i], err);
	for (size_t i = 0; rc == 0 && i < s->nset; i++) {
		char o2[PATH_MAX + 32];
		if (set_lines)
			snprintf(o2, sizeof(o2), "%s line %u", exp_path, set_lines[i]);
		else
			snprintf(o2, sizeof(o2), "plan [set]");
		rc = vl_config_set(cfg, s->set[i].key, s->set[i].value, o2, err);
	}
	if (rc) {
		vl_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

int vl_sweep_cell_config(const struct vl_sweep *s, size_t i, struct vl_config **out, char **text,
			 struct vl_error *err)
{
	if (i >= s->ncells)
		return vl_err(err, VL_EINVAL, "cell %zu: the sweep has %zu cells (0..%zu)", i, s->ncells,
			      s->ncells ? s->ncells - 1 : 0);
	const struct vl_kv *v = s->cells[i].vary;
	const char *os = NULL, *machine = NULL;
	for (size_t k = 0; k < s->nvary; k++) {
		if (!strcmp(v[k].key, "os"))
			os = v[k].value;
		else if (!strcmp(v[k].key, "machine"))
			machine = v[k].value;
	}
	struct vl_config *cfg;
	VL_TRY(base_config(s, os, machine, &cfg, s->exp_path, NULL, err));
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < s->nvary; k++)
		if (!sweep_preset_key(v[k].key))
			rc = vl_config_set(cfg, v[k].key, v[k].value, "[vary]", err);
	if (rc == 0 && text && !(*text = vl_config_text(cfg)))
		rc = vl_err(err, VL_ENOMEM, "out of memory");
	if (rc) {
		vl_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

void sweep_cell_key(const struct vl_sweep *s, const char *cfg_text, const char *trace_hash,
		    char out[VL_SWEEP_KEY_LEN])
{
	XXH64_state_t *st = XXH64_createState();
	XXH64_reset(st, 0);
	XXH64_update(st, cfg_text, strlen(cfg_text) + 1);
	XXH64_update(st, trace_hash, strlen(trace_hash) + 1);
	XXH64_update(st, s->format, strlen(s->format) + 1);
	/* results of another vmlab version or results format are not reused */
	char ver[64];
	snprintf(ver, sizeof(ver), "%s/%d", vl_version(), VL_RESULTS_VERSION);
	XXH64_update(st, ver, strlen(ver) + 1);
	/* nor those of other plug-ins (a sweep without any keeps its keys) */
	if (s->plugins_key[0])
		XXH64_update(st, s->plugins_key, strlen(s->plugins_key) + 1);
	snprintf(out, VL_SWEEP_KEY_LEN, "%016llx", (unsigned long long)XXH64_digest(st));
	XXH64_freeState(st);
}

/* ---- plug-ins ---- */

int sweep_plugin_load(struct vl_sweep_plugin *p, char *path, const char *origin,
		      struct vl_error *err)
{
	struct vl_error e2 = { 0 };
	uint64_t h;
	int rc = vl_plugin_load(path, &e2);
	if (rc == 0)
		rc = vl_hash_file(path, &h, &e2);
	if (rc < 0)
		return vl_err(err, rc, "%s: %s", origin, e2.msg);
	p->path = path;
	snprintf(p->hash, sizeof(p->hash), "%016llx", (unsigned long long)h);
	return 0;
}

void sweep_plugins_key(struct vl_sweep *s)
{
	s->plugins_key[0] = '\0';
	if (!s->nplugins)
		return;
	XXH64_state_t *st = XXH64_createState();
	XXH64_reset(st, 0);
	for (size_t i = 0; i < s->nplugins; i++)
		XXH64_update(st, s->plugins[i].hash, strlen(s->plugins[i].hash) + 1);
	snprintf(s->plugins_key, sizeof(s->plugins_key), "%016llx",
		 (unsigned long long)XXH64_digest(st));
	XXH64_freeState(st);
}

/* Resolve (against dir when relative), load and record one plug-in;
 * one named twice is recorded once. */
static int add_plugin(struct vl_sweep *s, const char *dir, const char *name, const char *origin,
		      struct vl_error *err)
{
	char *full = dir && name[0] != '/' ? au_path_join(dir, name) : strdup(name);
	char real[PATH_MAX];
	if (!full)
		return vl_err(err, VL_ENOMEM, "out of memory");
	if (!realpath(full, real)) {
		int rc = vl_err(err, VL_ENOENT, "%s: plug-in %s: %s", origin, full, strerror(errno));
		free(full);
		return rc;
	}
	free(full);
	if (strchr(real, '\t') || strchr(real, '\n'))
		return vl_err(err, VL_EINVAL, "%s: plug-in %s: paths with tabs or newlines are not "
			      "supported", origin, real);
	for (size_t i = 0; i < s->nplugins; i++)
		if (!strcmp(s->plugins[i].path, real))
			return 0;
	struct vl_sweep_plugin *np = realloc(s->plugins, (s->nplugins + 1) * sizeof(*np));
	char *path = strdup(real);
	if (np)
		s->plugins = np;
	if (!np || !path) {
		free(path);
		return vl_err(err, VL_ENOMEM, "out of memory");
	}
	int rc = sweep_plugin_load(&s->plugins[s->nplugins], path, origin, err);
	if (rc < 0) {
		free(path);
		return rc;
	}
	s->nplugins++;
	return 0;
}

static int expand_traces(struct exp_src *e, struct au_strv *out, struct vl_error *err)
{
	char *copy = strdup(e->val[X_TRACES]), *save = NULL;
	if (!copy)
		return vl_err(err, VL_ENOMEM, "out of memory");
	int rc = 0;
	for (char *it = strtok_r(copy, ",", &save); it && rc == 0; it = strtok_r(NULL, ",", &save)) {
		char *pat = au_trim(it);
		if (!*pat) {
			rc = vl_err(err, VL_EFORMAT, "%s line %u: traces: empty entry in the list", e->path,
				    e->line[X_TRACES]);
			break;
		}
		char *full = au_path_join(e->dir, pat);
		glob_t g;
		int gr = full ? glob(full, 0, NULL, &g) : GLOB_NOSPACE;
		if (gr == GLOB_NOMATCH)
			rc = vl_err(err, VL_ENOENT, "%s line %u: traces: '%s' matches no file (relative to %s)",
				    e->path, e->line[X_TRACES], pat, e->dir);
		else if (gr)
			rc = vl_err(err, VL_EIO, "%s line %u: traces: cannot expand '%s'", e->path,
				    e->line[X_TRACES], pat);
		for (size_t j = 0; gr == 0 && rc == 0 && j < g.gl_pathc; j++) {
			char real[PATH_MAX];
			struct stat st;
			if (!realpath(g.gl_pathv[j], real) || stat(real, &st) < 0 || !S_ISREG(st.st_mode))
				rc = vl_err(err, VL_ENOENT, "%s line %u: traces: %s is not a readable file",
					    e->path, e->line[X_TRACES], g.gl_pathv[j]);
			else if (strchr(real, '\t') || strchr(real, '\n'))
				rc = vl_err(err, VL_EINVAL, "%s: trace paths with tabs or newlines are not supported",
					    real);
			else if (au_strv_push(out, real))
				rc = vl_err(err, VL_ENOMEM, "out of memory");
		}
		if (gr == 0)
			globfree(&g);
		free(full);
	}
	free(copy);
	return rc;
}

int vl_sweep_load(struct vl_sweep **out, const char *exp_path, struct vl_error *err)
{
	return vl_sweep_load_with(out, exp_path, NULL, 0, err);
}

int vl_sweep_load_with(struct vl_sweep **out, const char *exp_path, const char *const *plugins,
		       size_t nplugins, struct vl_error *err)
{
	struct exp_src e = { 0 };
	struct vl_sweep *s = calloc(1, sizeof(*s));
	struct au_strv traces = { 0 };
	char real[PATH_MAX];
	char *text = NULL;
	int rc = 0;
	if (!s)
		return vl_err(err, VL_ENOMEM, "out of memory");
	if (!realpath(exp_path, real) || !(text = au_read_all(real, NULL))) {
		rc = vl_err(err, VL_ENOENT, "%s: cannot read the experiment file: %s", exp_path,
			    strerror(errno));
		goto out;
	}
	e.path = strdup(exp_path);
	char *d = strdup(real);
	e.dir = d ? strdup(dirname(d)) : NULL;
	free(d);
	if (!e.path || !e.dir) {
		rc = vl_err(err, VL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = parse_exp(&e, text, err)))
		goto out;

	s->name = strdup(e.val[X_NAME]);
	s->exp_path = strdup(real);
	s->os = strdup(e.val[X_OS] ? e.val[X_OS] : "");
	s->machine = strdup(e.val[X_MACHINE] ? e.val[X_MACHINE] : "");
	s->format = strdup(e.val[X_FORMAT] ? e.val[X_FORMAT] : "auto");
	if (!s->name || !s->exp_path || !s->os || !s->machine || !s->format) {
		rc = vl_err(err, VL_ENOMEM, "out of memory");
		goto out;
	}
	if (!ok_value(s->name) || strchr(s->name, '\n')) {
		rc = vl_err(err, VL_EFORMAT, "%s: name must not contain tabs", e.path);
		goto out;
	}
	if (strcmp(s->format, "auto")) {
		const char *names[32];
		size_t n = vl_trace_formats(names, NULL, 32);
		bool known = false;
		for (size_t i = 0; i < n && i < 32 && !known; i++)
			known = !strcmp(names[i], s->format);
		if (!known) {
			rc = vl_err(err, VL_EFORMAT, "%s: format '%s' is not a trace format (see vmlab formats)",
				    e.path, s->format);
			goto out;
		}
	}
	if (e.val[X_CONFIG]) {
		char *copy = strdup(e.val[X_CONFIG]), *save = NULL;
		struct au_strv cv = { 0 };
		for (char *it = copy ? strtok_r(copy, ",", &save) : NULL; it && rc == 0;
		     it = strtok_r(NULL, ",", &save)) {
			char *full = au_path_join(e.dir, au_trim(it));
			char r2[PATH_MAX];
			if (!full)
				rc = vl_err(err, VL_ENOMEM, "out of memory");
			else if (!realpath(full, r2))
				rc = vl_err(err, VL_ENOENT, "%s line %u: config: cannot read %s: %s", e.path,
					    e.line[X_CONFIG], full, strerror(errno));
			else if (au_strv_push(&cv, r2))
				rc = vl_err(err, VL_ENOMEM, "out of memory");
			free(full);
		}
		free(copy);
		s->configs = cv.v;
		s->nconfigs = cv.n;
		if (rc)
			goto out;
	}
	s->set = e.set;
	s->nset = e.nset;
	e.set = NULL;
	e.nset = 0;

	/* plug-ins before any configuration: their policies and keys */
	for (size_t i = 0; i < nplugins && rc == 0; i++)
		rc = add_plugin(s, NULL, plugins[i], "--plugin", err);
	if (rc == 0 && e.val[X_PLUGINS]) {
		char *copy = strdup(e.val[X_PLUGINS]), *save = NULL;
		char origin[PATH_MAX + 32];
		snprintf(origin, sizeof(origin), "%s line %u: plugins", e.path, e.line[X_PLUGINS]);
		if (!copy)
			rc = vl_err(err, VL_ENOMEM, "out of memory");
		for (char *it = copy ? strtok_r(copy, ",", &save) : NULL; it && rc == 0;
		     it = strtok_r(NULL, ",", &save)) {
			char *name = au_trim(it);
			if (!*name)
				rc = vl_err(err, VL_EFORMAT, "%s: empty entry in the list", origin);
			else
				rc = add_plugin(s, e.dir, name, origin, err);
		}
		free(copy);
	}
	if (rc)
		goto out;
	sweep_plugins_key(s);

	/* the base, then every [vary] value once on top of it, for errors with lines */
	struct vl_config *base;
	{
		/* set_lines stays with e; base_config reads it by index */
		if ((rc = base_config(s, NULL, NULL, &base, e.path, e.set_lines, err)))
			goto out;
		for (size_t k = 0; k < e.nvary && rc == 0; k++) {
			for (size_t j = 0; j < e.vary[k].values.n && rc == 0; j++) {
				const char *key = e.vary[k].key, *val = e.vary[k].values.v[j];
				char origin[PATH_MAX + 32];
				snprintf(origin, sizeof(origin), "%s line %u", e.path, e.vary[k].line);
				struct vl_config *c = NULL;
				if (sweep_preset_key(key)) {
					bool os = !strcmp(key, "os");
					rc = base_config(s, os ? val : NULL, os ? NULL : val, &c, origin,
							 e.set_lines, err);
				} else if (!(c = vl_config_dup(base))) {
					rc = vl_err(err, VL_ENOMEM, "out of memory");
				} else {
					rc = vl_config_set(c, key, val, origin, err);
				}
				vl_config_free(c);
			}
		}
		vl_config_free(base);
		if (rc)
			goto out;
	}
	if ((rc = expand_traces(&e, &traces, err)))
		goto out;

	size_t ncells = traces.n;
	for (size_t k = 0; k < e.nvary; k++) {
		if (ncells > SWEEP_MAX_CELLS / (e.vary[k].values.n ? e.vary[k].values.n : 1)) {
			rc = vl_err(err, VL_EFORMAT, "%s: more than %u cells", e.path, SWEEP_MAX_CELLS);
			goto out;
		}
		ncells *= e.vary[k].values.n;
	}
	s->nvary = e.nvary;
	s->vary_keys = calloc(e.nvary ? e.nvary : 1, sizeof(char *));
	s->cells = calloc(ncells ? ncells : 1, sizeof(*s->cells));
	if (!s->vary_keys || !s->cells) {
		rc = vl_err(err, VL_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < e.nvary; k++)
		if (!(s->vary_keys[k] = strdup(e.vary[k].key))) {
			rc = vl_err(err, VL_ENOMEM, "out of memory");
			goto out;
		}
	/* trace hashes, once per trace */
	char (*hashes)[VL_SWEEP_KEY_LEN] = calloc(traces.n ? traces.n : 1, VL_SWEEP_KEY_LEN);
	if (!hashes) {
		rc = vl_err(err, VL_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t t = 0; t < traces.n && rc == 0; t++) {
		uint64_t h;
		if ((rc = vl_hash_file(traces.v[t], &h, err)) == 0)
			snprintf(hashes[t], VL_SWEEP_KEY_LEN, "%016llx", (unsigned long long)h);
	}
	size_t per_trace = traces.n ? ncells / traces.n : 0;
	for (size_t i = 0; i < ncells && rc == 0; i++) {
		struct vl_sweep_cell *c = &s->cells[i];
		c->index = i;
		size_t t = i / per_trace, rem = i % per_trace;
		c->vary = calloc(e.nvary ? e.nvary : 1, sizeof(*c->vary));
		c->trace = strdup(traces.v[t]);
		s->ncells = i + 1;
		if (!c->vary || !c->trace) {
			rc = vl_err(err, VL_ENOMEM, "out of memory");
			break;
		}
		memcpy(c->trace_hash, hashes[t], VL_SWEEP_KEY_LEN);
		for (size_t k = e.nvary; k-- > 0;) {
			size_t nv = e.vary[k].values.n;
			c->vary[k].key = strdup(e.vary[k].key);
			c->vary[k].value = strdup(e.vary[k].values.v[rem % nv]);
			rem /= nv;
			if (!c->vary[k].key || !c->vary[k].value)
				rc = vl_err(err, VL_ENOMEM, "out of memory");
		}
		struct vl_config *cfg = NULL;
		char *ctext = NULL;
		if (rc == 0 && (rc = vl_sweep_cell_config(s, i, &cfg, &ctext, err)) == 0) {
			sweep_cell_key(s, ctext, c->trace_hash, c->key);
			vl_config_free(cfg);
			free(ctext);
		} else if (rc) {
			/* a combination the schema refuses (e.g. memory.size with frames) */
			char msg[sizeof(err->msg)];
			snprintf(msg, sizeof(msg), "%s", err->msg);
			rc = vl_err(err, rc, "%s: cell %zu: %s", e.path, i, msg);
		}
	}
	free(hashes);
out:
	au_strv_free(&traces);
	exp_src_free(&e);
	free(text);
	if (rc) {
		vl_sweep_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

