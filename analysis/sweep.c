/* analysis/sweep.c - experiment files, cells, plans, per-cell runs, merging.
 *
 * Expansion.  The experiment file is read by a small INI reader of our own
 * (it needs line numbers for errors and the order of [vary] keys).  Every
 * [vary] value is checked once against the configuration schema on top of
 * the base (os, config files, [set]), so an error names its line; then the
 * cartesian product is built, traces outermost and the last [vary] key
 * varying fastest, and every cell's configuration is resolved and hashed.
 *
 * Keys.  XXH64 over "config text \0 trace-hash \0 format \0 version/results
 * format version".  The trace's path is not part of the key: the same bytes
 * give the same counters.
 *
 * Crash safety.  Every file is written to a temporary name in its final
 * directory and renamed: the plan, each cell's results (analysis/h5 does
 * this), each cell's error, the merge.  A cell's results file therefore
 * exists only when complete, and "done" is "the file exists and reads as
 * complete".  A killed sweep leaves at most hidden temporary files, which
 * the next local sweep removes.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <hdf5.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "vmlab/results.h"
#include "analysis/h5util.h"
#include "analysis/sweep.h"

#define MAX_CELLS 100000u
#define MAX_VALUES 10000u

/* ---- small helpers ---- */

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

struct strv {
	char **v;
	size_t n, cap;
};

static int strv_push(struct strv *sv, const char *s)
{
	if (sv->n == sv->cap) {
		size_t nc = sv->cap ? 2 * sv->cap : 8;
		char **nv = realloc(sv->v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		sv->v = nv;
		sv->cap = nc;
	}
	if (!(sv->v[sv->n] = strdup(s)))
		return -1;
	sv->n++;
	return 0;
}

static void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (n < cap - 1) {
			if (ferror(f)) {
				free(buf);
				buf = NULL;
			}
			break;
		}
		char *nb = realloc(buf, cap * 2);
		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		if (len)
			*len = n;
	}
	return buf;
}

/* Write text to path through a temporary file in the same directory. */
static int write_atomic(const char *path, const char *text, struct vl_error *err)
{
	char *d = strdup(path), *b = strdup(path);
	size_t tl = strlen(path) + 32;
	char *tmp = malloc(tl);
	bool ok = tmp && d && b;
	if (ok)
		snprintf(tmp, tl, "%s/.%s.tmp-XXXXXX", dirname(d), basename(b));
	free(d);
	free(b);
	if (!ok) {
		free(tmp);
		return vl_err(err, VL_ENOMEM, "out of memory");
	}
	int fd = mkstemp(tmp);
	if (fd < 0) {
		int rc = vl_err(err, VL_EIO, "%s: cannot create: %s", tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	mode_t um = umask(0);
	umask(um);
	fchmod(fd, 0666 & ~um);
	size_t n = strlen(text), off = 0;
	int rc = 0;
	while (off < n) {
		ssize_t w = write(fd, text + off, n - off);
		if (w < 0) {
			rc = vl_err(err, VL_EIO, "%s: cannot write: %s", tmp, strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = vl_err(err, VL_EIO, "%s: cannot sync: %s", tmp, strerror(errno));
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = vl_err(err, VL_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int mkdir_p(const char *dir, struct vl_error *err)
{
	char *p = strdup(dir);
	if (!p)
		return vl_err(err, VL_ENOMEM, "out of memory");
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, 0777) < 0 && errno != EEXIST) {
				int rc = vl_err(err, VL_EIO, "%s: cannot create directory: %s", p,
						strerror(errno));
				free(p);
				return rc;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return vl_err(err, VL_EIO, "%s: not a directory", dir);
	return 0;
}

static char *path_join(const char *dir, const char *rel)
{
	if (rel[0] == '/')
		return strdup(rel);
	size_t n = strlen(dir) + strlen(rel) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, rel);
	return p;
}

static void kv_free(struct vl_kv *kv, size_t n)
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
	free(s->name);
	free(s->exp_path);
	free(s->os);
	free(s->machine);
	free(s->format);
	for (size_t i = 0; i < s->nconfigs; i++)
		free(s->configs[i]);
	free(s->configs);
	kv_free(s->set, s->nset);
	for (size_t i = 0; i < s->nvary; i++)
		free(s->vary_keys[i]);
	free(s->vary_keys);
	for (size_t i = 0; i < s->ncells; i++) {
		free(s->cells[i].trace);
		kv_free(s->cells[i].vary, s->nvary);
	}
	free(s->cells);
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
static int expand_item(char *item, struct strv *out, const char *origin, struct vl_error *err)
{
	char *dots = strstr(item, "..");
	if (!dots) {
		if (!*item)
			return vl_err(err, VL_EFORMAT, "%s: empty value in the list", origin);
		return strv_push(out, item) ? vl_err(err, VL_ENOMEM, "out of memory") : 0;
	}
	*dots = '\0';
	char *a = trim(item), *b = dots + 2, *op = NULL;
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
	b = trim(b);
	char *o = trim(opbuf);
	uint64_t lo, hi, step = 1, factor = 0;
	if (parse_num(a, &lo) < 0 || parse_num(b, &hi) < 0)
		return vl_err(err, VL_EFORMAT,
			      "%s: range '%s..%s': expected unsigned numbers (64, 4K, 2M) on both sides",
			      origin, a, b);
	if (*o == '*') {
		if (vl_parse_u64(trim(o + 1), &factor) < 0 || factor < 2)
			return vl_err(err, VL_EFORMAT, "%s: range factor '%s': expected *N with N >= 2",
				      origin, o);
	} else if (*o) {
		if (parse_num(trim(o + 4), &step) < 0 || step == 0)
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
		if (++count > MAX_VALUES)
			return vl_err(err, VL_EFORMAT, "%s: range %s..%s has more than %u values",
				      origin, a, b, MAX_VALUES);
		char num[32];
		snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
		if (strv_push(out, num))
			return vl_err(err, VL_ENOMEM, "out of memory");
		uint64_t nv = factor ? v * factor : v + step;
		if (nv <= v || (factor && nv / factor != v))
			break; /* overflow */
		v = nv;
	}
	return 0;
}

static int expand_values(const char *text, struct strv *out, const char *origin,
			 struct vl_error *err)
{
	char *copy = strdup(text);
	if (!copy)
		return vl_err(err, VL_ENOMEM, "out of memory");
	int rc = 0;
	char *save = NULL;
	if (!*trim(copy))
		rc = vl_err(err, VL_EFORMAT, "%s: expected a comma-separated list or a range of values",
			    origin);
	for (char *it = strtok_r(copy, ",", &save); it && rc == 0; it = strtok_r(NULL, ",", &save))
		rc = expand_item(trim(it), out, origin, err);
	free(copy);
	return rc;
}

/* ---- the experiment file ---- */

struct vary_src {
	char *key;
	unsigned line;
	struct strv values;
};

struct exp_src {
	char *path, *dir;
	char *name, *os, *machine, *format;
	unsigned traces_line, config_line;
	char *traces, *configs;
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
	free(e->name);
	free(e->os);
	free(e->machine);
	free(e->format);
	free(e->traces);
	free(e->configs);
	kv_free(e->set, e->nset);
	free(e->set_lines);
	for (size_t i = 0; i < e->nvary; i++) {
		free(e->vary[i].key);
		strv_free(&e->vary[i].values);
	}
	free(e->vary);
}

static bool ok_value(const char *v)
{
	return !strchr(v, '\t');
}

static int parse_exp(struct exp_src *e, const char *text, struct vl_error *err)
{
	enum { NONE, EXPERIMENT, VARY, SET } sec = NONE;
	bool seen[3] = { false, false, false };
	unsigned line = 0;
	const char *p = text;
	int rc = 0;
	while (*p && rc == 0) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *buf = malloc(len + 1);
		if (!buf)
			return vl_err(err, VL_ENOMEM, "out of memory");
		memcpy(buf, p, len);
		buf[len] = '\0';
		p = nl ? nl + 1 : p + len;
		line++;
		char *s = trim(buf);
		if (!*s || *s == '#' || *s == ';') {
			free(buf);
			continue;
		}
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end || *trim(end + 1)) {
				rc = vl_err(err, VL_EFORMAT, "%s line %u: expected '[section]'", e->path, line);
			} else {
				*end = '\0';
				char *n = trim(s + 1);
				if (!strcmp(n, "experiment"))
					sec = EXPERIMENT;
				else if (!strcmp(n, "vary"))
					sec = VARY;
				else if (!strcmp(n, "set"))
					sec = SET;
				else
					rc = vl_err(err, VL_EFORMAT,
						    "%s line %u: unknown section [%s]; expected [experiment], [vary] or [set]",
						    e->path, line, n);
				if (rc == 0 && seen[sec - 1])
					rc = vl_err(err, VL_EFORMAT, "%s line %u: section [%s] appears twice",
						    e->path, line, n);
				if (rc == 0)
					seen[sec - 1] = true;
			}
			free(buf);
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = vl_err(err, VL_EFORMAT, "%s line %u: expected 'key = value'", e->path, line);
			free(buf);
			continue;
		}
		*eq = '\0';
		char *k = trim(s), *v = trim(eq + 1);
		if (!*k)
			rc = vl_err(err, VL_EFORMAT, "%s line %u: expected a key before '='", e->path, line);
		else if (!ok_value(v))
			rc = vl_err(err, VL_EFORMAT, "%s line %u: tab characters are not allowed in values",
				    e->path, line);
		else if (sec == NONE)
			rc = vl_err(err, VL_EFORMAT,
				    "%s line %u: '%s' outside a section; expected [experiment] first",
				    e->path, line, k);
		else if (sec == EXPERIMENT) {
			char **slot = NULL;
			if (!strcmp(k, "name"))
				slot = &e->name;
			else if (!strcmp(k, "traces")) {
				slot = &e->traces;
				e->traces_line = line;
			} else if (!strcmp(k, "os"))
				slot = &e->os;
			else if (!strcmp(k, "machine"))
				slot = &e->machine;
			else if (!strcmp(k, "format"))
				slot = &e->format;
			else if (!strcmp(k, "config")) {
				slot = &e->configs;
				e->config_line = line;
			} else
				rc = vl_err(err, VL_EFORMAT,
					    "%s line %u: unknown key '%s' in [experiment]; expected name, traces, os, machine, config or format",
					    e->path, line, k);
			if (slot && *slot)
				rc = vl_err(err, VL_EFORMAT, "%s line %u: '%s' given twice", e->path, line, k);
			else if (slot && !(*slot = strdup(v)))
				rc = vl_err(err, VL_ENOMEM, "out of memory");
		} else if (sec == SET) {
			for (size_t i = 0; i < e->nset && rc == 0; i++)
				if (!strcmp(e->set[i].key, k))
					rc = vl_err(err, VL_EFORMAT, "%s line %u: '%s' set twice in [set]",
						    e->path, line, k);
			struct vl_kv *ns = rc ? NULL : realloc(e->set, (e->nset + 1) * sizeof(*ns));
			unsigned *nl2 = ns ? realloc(e->set_lines, (e->nset + 1) * sizeof(*nl2)) : NULL;
			if (ns)
				e->set = ns;
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
					rc = expand_values(v, &vs->values, origin, err);
			}
		}
		free(buf);
	}
	if (rc)
		return rc;
	if (!seen[0])
		return vl_err(err, VL_EFORMAT, "%s: no [experiment] section; expected name and traces",
			      e->path);
	if (!e->name || !*e->name)
		return vl_err(err, VL_EFORMAT, "%s: [experiment] has no 'name'", e->path);
	if (!e->traces || !*e->traces)
		return vl_err(err, VL_EFORMAT, "%s: [experiment] has no 'traces' (globs, comma-separated)",
			      e->path);
	return 0;
}

/* ---- building cells ---- */

/* "os" and "machine" in [vary] pick presets, not keys (keys are dotted). */
static bool preset_key(const char *k)
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
		if (!preset_key(v[k].key))
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

static void cell_key(const char *cfg_text, const char *trace_hash, const char *format,
		     char out[VL_SWEEP_KEY_LEN])
{
	XXH64_state_t *st = XXH64_createState();
	XXH64_reset(st, 0);
	XXH64_update(st, cfg_text, strlen(cfg_text) + 1);
	XXH64_update(st, trace_hash, strlen(trace_hash) + 1);
	XXH64_update(st, format, strlen(format) + 1);
	/* results of another vmlab version or results format are not reused */
	char ver[64];
	snprintf(ver, sizeof(ver), "%s/%d", vl_version(), VL_RESULTS_VERSION);
	XXH64_update(st, ver, strlen(ver) + 1);
	snprintf(out, VL_SWEEP_KEY_LEN, "%016llx", (unsigned long long)XXH64_digest(st));
	XXH64_freeState(st);
}

static int expand_traces(struct exp_src *e, struct strv *out, struct vl_error *err)
{
	char *copy = strdup(e->traces), *save = NULL;
	if (!copy)
		return vl_err(err, VL_ENOMEM, "out of memory");
	int rc = 0;
	for (char *it = strtok_r(copy, ",", &save); it && rc == 0; it = strtok_r(NULL, ",", &save)) {
		char *pat = trim(it);
		if (!*pat) {
			rc = vl_err(err, VL_EFORMAT, "%s line %u: traces: empty entry in the list", e->path,
				    e->traces_line);
			break;
		}
		char *full = path_join(e->dir, pat);
		glob_t g;
		int gr = full ? glob(full, 0, NULL, &g) : GLOB_NOSPACE;
		if (gr == GLOB_NOMATCH)
			rc = vl_err(err, VL_ENOENT, "%s line %u: traces: '%s' matches no file (relative to %s)",
				    e->path, e->traces_line, pat, e->dir);
		else if (gr)
			rc = vl_err(err, VL_EIO, "%s line %u: traces: cannot expand '%s'", e->path,
				    e->traces_line, pat);
		for (size_t j = 0; gr == 0 && rc == 0 && j < g.gl_pathc; j++) {
			char real[PATH_MAX];
			struct stat st;
			if (!realpath(g.gl_pathv[j], real) || stat(real, &st) < 0 || !S_ISREG(st.st_mode))
				rc = vl_err(err, VL_ENOENT, "%s line %u: traces: %s is not a readable file",
					    e->path, e->traces_line, g.gl_pathv[j]);
			else if (strchr(real, '\t') || strchr(real, '\n'))
				rc = vl_err(err, VL_EINVAL, "%s: trace paths with tabs or newlines are not supported",
					    real);
			else if (strv_push(out, real))
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
	struct exp_src e = { 0 };
	struct vl_sweep *s = calloc(1, sizeof(*s));
	struct strv traces = { 0 };
	char real[PATH_MAX];
	char *text = NULL;
	int rc = 0;
	if (!s)
		return vl_err(err, VL_ENOMEM, "out of memory");
	if (!realpath(exp_path, real) || !(text = read_all(real, NULL))) {
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

	s->name = strdup(e.name);
	s->exp_path = strdup(real);
	s->os = strdup(e.os ? e.os : "");
	s->machine = strdup(e.machine ? e.machine : "");
	s->format = strdup(e.format ? e.format : "auto");
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
	if (e.configs) {
		char *copy = strdup(e.configs), *save = NULL;
		struct strv cv = { 0 };
		for (char *it = copy ? strtok_r(copy, ",", &save) : NULL; it && rc == 0;
		     it = strtok_r(NULL, ",", &save)) {
			char *full = path_join(e.dir, trim(it));
			char r2[PATH_MAX];
			if (!full)
				rc = vl_err(err, VL_ENOMEM, "out of memory");
			else if (!realpath(full, r2))
				rc = vl_err(err, VL_ENOENT, "%s line %u: config: cannot read %s: %s", e.path,
					    e.config_line, full, strerror(errno));
			else if (strv_push(&cv, r2))
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
				if (preset_key(key)) {
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
		if (ncells > MAX_CELLS / (e.vary[k].values.n ? e.vary[k].values.n : 1)) {
			rc = vl_err(err, VL_EFORMAT, "%s: more than %u cells", e.path, MAX_CELLS);
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
			cell_key(ctext, c->trace_hash, s->format, c->key);
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
	strv_free(&traces);
	exp_src_free(&e);
	free(text);
	if (rc) {
		vl_sweep_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* ---- the plan ---- */

struct buf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		if (b->oom)
			return;
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p && b->n + (size_t)n < b->cap) {
			b->n += (size_t)n;
			return;
		}
		size_t nc = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
		char *np = realloc(b->p, nc);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
}

#define PLAN_MAGIC "vmlab-sweep-plan 1"

char *vl_sweep_cell_path(const char *dir, const struct vl_sweep_cell *c, const char *ext)
{
	size_t n = strlen(dir) + strlen(ext) + VL_SWEEP_KEY_LEN + 16;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/cells/%s%s", dir, c->key, ext);
	return p;
}

static char *plan_text(const struct vl_sweep *s)
{
	struct buf b = { 0 };
	bprintf(&b, "%s\n", PLAN_MAGIC);
	bprintf(&b, "name\t%s\n", s->name);
	bprintf(&b, "experiment\t%s\n", s->exp_path);
	bprintf(&b, "os\t%s\n", s->os);
	bprintf(&b, "machine\t%s\n", s->machine);
	bprintf(&b, "format\t%s\n", s->format);
	for (size_t i = 0; i < s->nconfigs; i++)
		bprintf(&b, "config\t%s\n", s->configs[i]);
	for (size_t i = 0; i < s->nset; i++)
		bprintf(&b, "set\t%s\t%s\n", s->set[i].key, s->set[i].value);
	for (size_t i = 0; i < s->nvary; i++)
		bprintf(&b, "vary\t%s\n", s->vary_keys[i]);
	for (size_t i = 0; i < s->ncells; i++) {
		const struct vl_sweep_cell *c = &s->cells[i];
		bprintf(&b, "cell\t%zu\t%s\t%s\t%s", i, c->key, c->trace_hash, c->trace);
		for (size_t k = 0; k < s->nvary; k++)
			bprintf(&b, "\t%s", c->vary[k].value);
		bprintf(&b, "\n");
	}
	bprintf(&b, "end\t%zu\n", s->ncells);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

int vl_sweep_plan_write(const struct vl_sweep *s, const char *dir, struct vl_error *err)
{
	size_t n = strlen(dir) + 16;
	char *cells = malloc(n), *plan = malloc(n);
	char *text = plan_text(s);
	int rc = 0;
	if (!cells || !plan || !text)
		rc = vl_err(err, VL_ENOMEM, "out of memory");
	if (rc == 0) {
		snprintf(cells, n, "%s/cells", dir);
		snprintf(plan, n, "%s/plan", dir);
		rc = mkdir_p(cells, err);
	}
	if (rc == 0)
		rc = write_atomic(plan, text, err);
	free(cells);
	free(plan);
	free(text);
	return rc;
}

/* Split line at tabs in place; returns the number of fields (up to max). */
static size_t split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;
	while (n < max) {
		f[n++] = p;
		char *t = strchr(p, '\t');
		if (!t)
			break;
		*t = '\0';
		p = t + 1;
	}
	return n;
}

static bool is_hex16(const char *s)
{
	if (strlen(s) != 16)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

int vl_sweep_plan_read(struct vl_sweep **out, const char *dir, struct vl_error *err)
{
	size_t pn = strlen(dir) + 16;
	char *path = malloc(pn);
	if (!path)
		return vl_err(err, VL_ENOMEM, "out of memory");
	snprintf(path, pn, "%s/plan", dir);
	char *text = read_all(path, NULL);
	if (!text) {
		int rc = vl_err(err, VL_ENOENT, "%s: cannot read the sweep plan (%s); is %s a sweep directory?",
				path, strerror(errno), dir);
		free(path);
		return rc;
	}
	struct vl_sweep *s = calloc(1, sizeof(*s));
	struct strv configs = { 0 }, vkeys = { 0 };
	size_t cap = 0;
	int rc = s ? 0 : vl_err(err, VL_ENOMEM, "out of memory");
	unsigned line = 0;
	bool ended = false;
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l && rc == 0; l = strtok_r(NULL, "\n", &save)) {
		line++;
		if (ended) {
			rc = vl_err(err, VL_EFORMAT, "%s line %u: text after 'end'", path, line);
			break;
		}
		if (line == 1) {
			if (strcmp(l, PLAN_MAGIC))
				rc = vl_err(err, VL_EFORMAT, "%s line 1: expected '%s'", path, PLAN_MAGIC);
			continue;
		}
		char *f[8 + 256];
		size_t nf = split_tabs(l, f, sizeof(f) / sizeof(f[0]));
		const char *what = f[0];
		char **slot = NULL;
		if (!strcmp(what, "name"))
			slot = &s->name;
		else if (!strcmp(what, "experiment"))
			slot = &s->exp_path;
		else if (!strcmp(what, "os"))
			slot = &s->os;
		else if (!strcmp(what, "machine"))
			slot = &s->machine;
		else if (!strcmp(what, "format"))
			slot = &s->format;
		if (slot) {
			if (nf != 2 || *slot)
				rc = vl_err(err, VL_EFORMAT, "%s line %u: bad '%s' line", path, line, what);
			else if (!(*slot = strdup(f[1])))
				rc = vl_err(err, VL_ENOMEM, "out of memory");
		} else if (!strcmp(what, "config")) {
			if (nf != 2 || strv_push(&configs, f[1]))
				rc = vl_err(err, VL_EFORMAT, "%s line %u: bad 'config' line", path, line);
		} else if (!strcmp(what, "set")) {
			struct vl_kv *ns = nf == 3 ? realloc(s->set, (s->nset + 1) * sizeof(*ns)) : NULL;
			if (!ns) {
				rc = vl_err(err, VL_EFORMAT, "%s line %u: bad 'set' line", path, line);
			} else {
				s->set = ns;
				ns[s->nset].key = strdup(f[1]);
				ns[s->nset].value = strdup(f[2]);
				s->nset++;
			}
		} else if (!strcmp(what, "vary")) {
			if (nf != 2 || s->ncells || strv_push(&vkeys, f[1]))
				rc = vl_err(err, VL_EFORMAT, "%s line %u: bad 'vary' line", path, line);
		} else if (!strcmp(what, "cell")) {
			uint64_t idx;
			if (nf != 5 + vkeys.n || vl_parse_u64(f[1], &idx) < 0 || idx != s->ncells ||
			    !is_hex16(f[2]) || !is_hex16(f[3]) || f[4][0] != '/') {
				rc = vl_err(err, VL_EFORMAT,
					    "%s line %u: expected 'cell INDEX KEY TRACEHASH TRACE' and %zu values",
					    path, line, vkeys.n);
				break;
			}
			if (s->ncells == cap) {
				size_t nc = cap ? cap * 2 : 64;
				struct vl_sweep_cell *ncl = realloc(s->cells, nc * sizeof(*ncl));
				if (!ncl) {
					rc = vl_err(err, VL_ENOMEM, "out of memory");
					break;
				}
				s->cells = ncl;
				cap = nc;
			}
			struct vl_sweep_cell *c = &s->cells[s->ncells];
			memset(c, 0, sizeof(*c));
			c->index = s->ncells++;
			memcpy(c->key, f[2], VL_SWEEP_KEY_LEN);
			memcpy(c->trace_hash, f[3], VL_SWEEP_KEY_LEN);
			c->trace = strdup(f[4]);
			c->vary = calloc(vkeys.n ? vkeys.n : 1, sizeof(*c->vary));
			if (!c->trace || !c->vary) {
				rc = vl_err(err, VL_ENOMEM, "out of memory");
				break;
			}
			for (size_t k = 0; k < vkeys.n; k++) {
				c->vary[k].key = strdup(vkeys.v[k]);
				c->vary[k].value = strdup(f[5 + k]);
			}
		} else if (!strcmp(what, "end")) {
			uint64_t n;
			if (nf != 2 || vl_parse_u64(f[1], &n) < 0 || n != s->ncells)
				rc = vl_err(err, VL_EFORMAT, "%s line %u: 'end' does not match the %zu cells",
					    path, line, s->ncells);
			ended = true;
		} else {
			rc = vl_err(err, VL_EFORMAT, "%s line %u: unknown line '%s'", path, line, what);
		}
	}
	if (rc == 0 && (!ended || !s->name || !s->os || !s->machine || !s->format || !s->exp_path))
		rc = vl_err(err, VL_EFORMAT, "%s: incomplete plan (no 'end' line or missing fields)", path);
	if (s) {
		s->configs = configs.v;
		s->nconfigs = configs.n;
		s->vary_keys = vkeys.v;
		s->nvary = vkeys.n;
		if (!s->vary_keys)
			s->vary_keys = calloc(1, sizeof(char *));
	}
	free(text);
	free(path);
	if (rc) {
		vl_sweep_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* ---- one cell ---- */

bool vl_sweep_cell_done(const struct vl_sweep *s, const char *dir, size_t i)
{
	if (i >= s->ncells)
		return false;
	char *p = vl_sweep_cell_path(dir, &s->cells[i], ".h5");
	struct vl_results *r = NULL;
	struct vl_error err;
	bool ok = p && access(p, F_OK) == 0 && vl_results_open(&r, p, &err) == 0;
	vl_results_close(r);
	free(p);
	return ok;
}

char *vl_sweep_cell_error(const struct vl_sweep *s, const char *dir, size_t i)
{
	if (i >= s->ncells)
		return NULL;
	char *p = vl_sweep_cell_path(dir, &s->cells[i], ".err");
	char *t = p ? read_all(p, NULL) : NULL;
	free(p);
	if (t)
		trim(t);
	return t;
}

static int cell_run(const struct vl_sweep *s, const char *dir, size_t i, const char *h5path,
		    const char *volatile *tmp_path, struct vl_error *err)
{
	const struct vl_sweep_cell *c = &s->cells[i];
	struct vl_config *cfg = NULL;
	char *text = NULL;
	VL_TRY(vl_sweep_cell_config(s, i, &cfg, &text, err));
	char key[VL_SWEEP_KEY_LEN];
	cell_key(text, c->trace_hash, s->format, key);
	free(text);
	if (strcmp(key, c->key)) {
		vl_config_free(cfg);
		return vl_err(err, VL_ESTATE,
			      "cell %zu: its configuration no longer hashes to %s (a base config file or "
			      "the presets changed since the plan was written); re-run the sweep from "
			      "its experiment file",
			      i, c->key);
	}
	uint64_t th;
	VL_TRY(vl_hash_file(c->trace, &th, err));
	char ths[VL_SWEEP_KEY_LEN];
	snprintf(ths, sizeof(ths), "%016llx", (unsigned long long)th);
	if (strcmp(ths, c->trace_hash)) {
		vl_config_free(cfg);
		return vl_err(err, VL_ESTATE, "%s: the trace changed since the plan was written (hash %s, plan %s)",
			      c->trace, ths, c->trace_hash);
	}

	struct vl_engine *e = NULL;
	struct vl_trace *t = NULL;
	struct vl_h5 *h5 = NULL;
	struct vl_h5_run *run = NULL;
	int rc = vl_engine_new(&e, cfg, err);
	vl_config_free(cfg);
	if (rc == 0)
		rc = vl_trace_open(&t, c->trace, s->format, err);
	if (rc == 0 && (rc = vl_h5_open(&h5, h5path, err)) == 0) {
		if (tmp_path)
			*tmp_path = vl_h5_temp_path(h5);
		rc = vl_h5_run_begin(h5, "cell", "run", e, &run, err);
	}
	struct vl_run_stats st = { .size = sizeof(st) };
	if (rc == 0) {
		struct vl_run_opts ro = { .size = sizeof(ro), .on_interval = vl_h5_timeline_row,
					  .interval_ctx = run };
		rc = vl_run_ex(e, t, &ro, &st, err);
	}
	if (rc == 0) {
		rc = vl_h5_run_end_trace(run, e, t, c->trace, &st, err);
		run = NULL;
		if (tmp_path)
			*tmp_path = NULL; /* the commit frees the path (a stray temporary
					   * file is removed by the next sweep) */
		if (rc == 0) {
			rc = vl_h5_commit(h5, err);
			h5 = NULL;
		}
	}
	if (tmp_path)
		*tmp_path = NULL;
	vl_h5_run_free(run);
	vl_h5_abort(h5);
	vl_trace_close(t);
	vl_engine_free(e);
	return rc;
}

int vl_sweep_cell_run(const struct vl_sweep *s, const char *dir, size_t i,
		      const char *volatile *tmp_path, struct vl_error *err)
{
	if (i >= s->ncells)
		return vl_err(err, VL_EINVAL, "cell %zu: the sweep has %zu cells (0..%zu)", i, s->ncells,
			      s->ncells ? s->ncells - 1 : 0);
	char *h5path = vl_sweep_cell_path(dir, &s->cells[i], ".h5");
	char *errpath = vl_sweep_cell_path(dir, &s->cells[i], ".err");
	if (!h5path || !errpath) {
		free(h5path);
		free(errpath);
		return vl_err(err, VL_ENOMEM, "out of memory");
	}
	int rc = 0;
	if (!vl_sweep_cell_done(s, dir, i)) {
		/* not there, or not a complete results file (damaged since): it
		 * must go, or vl_h5_open would append to it */
		unlink(h5path);
		rc = cell_run(s, dir, i, h5path, tmp_path, err);
	} /* else finished meanwhile (another task had the same key) */
	if (rc == 0) {
		unlink(errpath);
	} else {
		struct vl_error e2;
		char msg[sizeof(err->msg) + 2];
		snprintf(msg, sizeof(msg), "%s\n", err->msg);
		write_atomic(errpath, msg, &e2);
	}
	free(h5path);
	free(errpath);
	return rc;
}

/* ---- merging ---- */

static int h5err(struct vl_error *err, const char *path, const char *what)
{
	return h5u_fail(err, VL_EIO, path, what);
}

/* Is every value of vary key k a number (so the column can be numeric)? */
static bool vary_numeric(const struct vl_sweep *s, size_t k)
{
	for (size_t i = 0; i < s->ncells; i++) {
		const char *v = s->cells[i].vary[k].value;
		char *end;
		errno = 0;
		double d = strtod(v, &end);
		if (!*v || *end || errno || !isfinite(d))
			return false;
	}
	return true;
}

struct merge {
	const struct vl_sweep *s;
	hid_t out, runs, summary;
	hid_t rowtype;     /* extended summary type (memory) */
	size_t base_size;  /* size of the cell files' summary row */
	size_t row_size;
	size_t *col_off;   /* per vary key */
	bool *col_num;
	size_t off_cell, off_key;
	size_t runid_off, runid_len;
	hsize_t rows;
};

static int merge_setup(struct merge *m, hid_t srcsum, const char *tmp, struct vl_error *err)
{
	const struct vl_sweep *s = m->s;
	hid_t ft = H5Dget_type(srcsum);
	hid_t bt = ft >= 0 ? H5Tget_native_type(ft, H5T_DIR_ASCEND) : -1;
	if (ft >= 0)
		H5Tclose(ft);
	if (bt < 0)
		return h5err(err, tmp, "read the type of /summary of a cell");
	int ri = H5Tget_member_index(bt, "run_id");
	if (ri < 0) {
		H5Tclose(bt);
		return h5err(err, tmp, "find run_id in /summary of a cell");
	}
	m->runid_off = H5Tget_member_offset(bt, (unsigned)ri);
	hid_t rt = H5Tget_member_type(bt, (unsigned)ri);
	m->runid_len = H5Tget_size(rt);
	H5Tclose(rt);
	m->base_size = H5Tget_size(bt);
	size_t off = (m->base_size + 7) & ~(size_t)7;
	m->off_cell = off;
	off += 8;
	m->off_key = off;
	off += VL_SWEEP_KEY_LEN;
	m->col_off = calloc(s->nvary ? s->nvary : 1, sizeof(size_t));
	m->col_num = calloc(s->nvary ? s->nvary : 1, sizeof(bool));
	if (!m->col_off || !m->col_num) {
		H5Tclose(bt);
		return vl_err(err, VL_ENOMEM, "out of memory");
	}
	size_t vlen = 64;
	for (size_t k = 0; k < s->nvary; k++) {
		m->col_num[k] = vary_numeric(s, k);
		off = (off + 7) & ~(size_t)7;
		m->col_off[k] = off;
		off += m->col_num[k] ? sizeof(double) : vlen;
	}
	m->row_size = (off + 7) & ~(size_t)7;
	m->rowtype = H5Tcopy(bt);
	H5Tclose(bt);
	H5Tset_size(m->rowtype, m->row_size);
	H5Tinsert(m->rowtype, "cell", m->off_cell, H5T_NATIVE_UINT64);
	hid_t kt = H5Tcopy(H5T_C_S1);
	H5Tset_size(kt, VL_SWEEP_KEY_LEN);
	H5Tinsert(m->rowtype, "cell_key", m->off_key, kt);
	hid_t st = H5Tcopy(H5T_C_S1);
	H5Tset_size(st, vlen);
	int rc = 0;
	for (size_t k = 0; k < s->nvary && rc == 0; k++) {
		char cname[128];
		snprintf(cname, sizeof(cname), "%s%s", preset_key(s->vary_keys[k]) ? "preset." : "",
			 s->vary_keys[k]);
		if (H5Tinsert(m->rowtype, cname, m->col_off[k],
			      m->col_num[k] ? H5T_NATIVE_DOUBLE : st) < 0)
			rc = vl_err(err, VL_EINVAL,
				    "cannot add a /summary column '%s' (the name is taken)", cname);
	}
	H5Tclose(kt);
	H5Tclose(st);
	if (rc)
		return rc;
	hsize_t dims = 0, maxdims = H5S_UNLIMITED, chunk = 64;
	hid_t sp = H5Screate_simple(1, &dims, &maxdims);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_chunk(dcpl, 1, &chunk);
	m->summary = H5Dcreate2(m->out, "summary", m->rowtype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	H5Pclose(dcpl);
	H5Sclose(sp);
	if (m->summary < 0)
		return h5err(err, tmp, "create /summary");
	return 0;
}

static int merge_cell(struct merge *m, size_t i, const char *cellpath, const char *tmp,
		      struct vl_error *err)
{
	const struct vl_sweep_cell *c = &m->s->cells[i];
	hid_t src = H5Fopen(cellpath, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (src < 0)
		return h5err(err, cellpath, "open a cell's results");
	int rc = 0;
	hid_t ss = H5Dopen2(src, "summary", H5P_DEFAULT);
	if (ss < 0)
		rc = h5err(err, cellpath, "open /summary");
	if (rc == 0 && m->summary < 0)
		rc = merge_setup(m, ss, tmp, err);
	char id[32];
	snprintf(id, sizeof(id), "cell-%04zu", i);
	unsigned char *row = rc == 0 ? calloc(1, m->row_size) : NULL;
	if (rc == 0 && !row)
		rc = vl_err(err, VL_ENOMEM, "out of memory");
	if (rc == 0) {
		hid_t ft = H5Dget_type(ss);
		hid_t bt = H5Tget_native_type(ft, H5T_DIR_ASCEND);
		hid_t sp = H5Dget_space(ss);
		hssize_t n = H5Sget_simple_extent_npoints(sp);
		if (n != 1 || H5Tget_size(bt) != m->base_size)
			rc = vl_err(err, VL_EFORMAT, "%s: expected one /summary row of the usual type",
				    cellpath);
		else if (H5Dread(ss, bt, H5S_ALL, H5S_ALL, H5P_DEFAULT, row) < 0)
			rc = h5err(err, cellpath, "read /summary");
		H5Sclose(sp);
		H5Tclose(bt);
		H5Tclose(ft);
	}
	if (rc == 0) {
		memset(row + m->runid_off, 0, m->runid_len);
		memcpy(row + m->runid_off, id, strlen(id) < m->runid_len ? strlen(id) : m->runid_len - 1);
		uint64_t ci = i;
		memcpy(row + m->off_cell, &ci, 8);
		memcpy(row + m->off_key, c->key, VL_SWEEP_KEY_LEN);
		for (size_t k = 0; k < m->s->nvary; k++) {
			if (m->col_num[k]) {
				double d = strtod(c->vary[k].value, NULL);
				memcpy(row + m->col_off[k], &d, sizeof(d));
			} else {
				strncpy((char *)row + m->col_off[k], c->vary[k].value, 63);
			}
		}
		hsize_t ndims = m->rows + 1, start = m->rows, count = 1;
		hid_t fs = -1, ms = -1;
		if (H5Dset_extent(m->summary, &ndims) < 0 || (fs = H5Dget_space(m->summary)) < 0 ||
		    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
		    (ms = H5Screate_simple(1, &count, NULL)) < 0 ||
		    H5Dwrite(m->summary, m->rowtype, ms, fs, H5P_DEFAULT, row) < 0)
			rc = h5err(err, tmp, "append a /summary row");
		if (fs >= 0)
			H5Sclose(fs);
		if (ms >= 0)
			H5Sclose(ms);
		m->rows++;
	}
	if (rc == 0) {
		hid_t ocp = H5Pcreate(H5P_OBJECT_COPY);
		if (H5Ocopy(src, "runs/cell", m->runs, id, ocp, H5P_DEFAULT) < 0)
			rc = h5err(err, cellpath, "copy /runs/cell into the merge");
		H5Pclose(ocp);
	}
	if (rc == 0) {
		hid_t g = H5Gopen2(m->runs, id, H5P_DEFAULT);
		if (g < 0 || h5u_attr_u64(g, "sweep_cell", i) < 0 ||
		    h5u_attr_str(g, "sweep_cell_key", c->key) < 0)
			rc = h5err(err, tmp, "annotate a run");
		if (g >= 0)
			H5Gclose(g);
	}
	free(row);
	if (ss >= 0)
		H5Dclose(ss);
	H5Fclose(src);
	return rc;
}

int vl_sweep_collect(const struct vl_sweep *s, const char *dir, struct vl_sweep_status *st,
		     struct vl_error *err)
{
	h5u_quiet();
	memset(st, 0, sizeof(*st));
	bool *ok = calloc(s->ncells ? s->ncells : 1, sizeof(bool));
	if (!ok)
		return vl_err(err, VL_ENOMEM, "out of memory");
	struct buf missing = { 0 };
	for (size_t i = 0; i < s->ncells; i++) {
		ok[i] = vl_sweep_cell_done(s, dir, i);
		if (ok[i]) {
			st->done++;
			continue;
		}
		char *e = vl_sweep_cell_error(s, dir, i);
		if (e)
			st->failed++;
		else
			st->missing++;
		free(e);
		bprintf(&missing, "%s%zu", missing.n ? "," : "", i);
	}
	bool all = st->done == s->ncells;
	st->written = all ? "all.h5" : "partial.h5";
	size_t pl = strlen(dir) + 32;
	char *final = malloc(pl), *other = malloc(pl), *tmp = malloc(pl);
	char *ptext = plan_text(s);
	int rc = 0;
	if (!final || !other || !tmp || !ptext || missing.oom)
		rc = vl_err(err, VL_ENOMEM, "out of memory");
	hid_t out = -1;
	struct merge m = { .s = s, .out = -1, .runs = -1, .summary = -1, .rowtype = -1 };
	if (rc == 0) {
		snprintf(final, pl, "%s/%s", dir, st->written);
		snprintf(other, pl, "%s/%s", dir, all ? "partial.h5" : "all.h5");
		snprintf(tmp, pl, "%s/.%s.tmp-XXXXXX", dir, st->written);
		int fd = mkstemp(tmp);
		if (fd < 0)
			rc = vl_err(err, VL_EIO, "%s: cannot create: %s", tmp, strerror(errno));
		else {
			mode_t um = umask(0);
			umask(um);
			fchmod(fd, 0666 & ~um);
			close(fd);
		}
	}
	if (rc == 0) {
		hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
		H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
		out = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
		H5Pclose(fapl);
		char ts[32], host[256] = "";
		h5u_now_iso(ts, sizeof(ts));
		gethostname(host, sizeof(host) - 1);
		if (out < 0 || h5u_attr_str(out, "status", "writing") < 0 ||
		    h5u_attr_str(out, "format", VL_RESULTS_FORMAT) < 0 ||
		    h5u_attr_u64(out, "format_version", VL_RESULTS_VERSION) < 0 ||
		    h5u_attr_str(out, "created", ts) < 0 || h5u_attr_str(out, "modified", ts) < 0 ||
		    h5u_attr_str(out, "vmlab_version", vl_version()) < 0 ||
		    h5u_attr_str(out, "host", host) < 0 || H5Fflush(out, H5F_SCOPE_GLOBAL) < 0)
			rc = h5err(err, tmp, "create the merged results file");
	}
	m.out = out;
	if (rc == 0 && (m.runs = H5Gcreate2(out, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
		rc = h5err(err, tmp, "create /runs");
	for (size_t i = 0; i < s->ncells && rc == 0; i++) {
		if (!ok[i])
			continue;
		char *cp = vl_sweep_cell_path(dir, &s->cells[i], ".h5");
		rc = cp ? merge_cell(&m, i, cp, tmp, err) : vl_err(err, VL_ENOMEM, "out of memory");
		free(cp);
	}
	if (rc == 0) {
		hid_t g = H5Gcreate2(out, "sweep", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
		char *etext = s->exp_path && *s->exp_path ? read_all(s->exp_path, NULL) : NULL;
		if (g < 0 || h5u_attr_str(g, "name", s->name) < 0 ||
		    h5u_attr_str(g, "experiment_path", s->exp_path) < 0 ||
		    h5u_attr_str(g, "experiment", etext ? etext : "") < 0 ||
		    h5u_attr_str(g, "plan", ptext) < 0 || h5u_attr_u64(g, "cells", s->ncells) < 0 ||
		    h5u_attr_u64(g, "cells_done", st->done) < 0 ||
		    h5u_attr_u64(g, "cells_failed", st->failed) < 0 ||
		    h5u_attr_str(g, "missing_cells", missing.p ? missing.p : "") < 0)
			rc = h5err(err, tmp, "write /sweep");
		free(etext);
		if (g >= 0)
			H5Gclose(g);
	}
	if (rc == 0 && m.summary < 0) {
		/* no finished cell: an empty /summary of the plain type is not
		 * available without a cell, so the file says so in /sweep only */
	}
	if (m.summary >= 0)
		H5Dclose(m.summary);
	if (m.rowtype >= 0)
		H5Tclose(m.rowtype);
	if (m.runs >= 0)
		H5Gclose(m.runs);
	free(m.col_off);
	free(m.col_num);
	if (rc == 0 && h5u_attr_str(out, "status", "complete") < 0)
		rc = h5err(err, tmp, "mark the merged file complete");
	if (out >= 0 && H5Fclose(out) < 0 && rc == 0)
		rc = h5err(err, tmp, "close the merged file");
	if (rc == 0) {
		int fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0)
			rc = vl_err(err, VL_EIO, "%s: cannot sync: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	if (rc == 0 && rename(tmp, final) < 0)
		rc = vl_err(err, VL_EIO, "cannot rename %s to %s: %s", tmp, final, strerror(errno));
	if (rc == 0)
		unlink(other); /* a stale all.h5 must not look like this sweep's */
	else if (tmp)
		unlink(tmp);
	free(final);
	free(other);
	free(tmp);
	free(ptext);
	free(missing.p);
	free(ok);
	return rc;
}
