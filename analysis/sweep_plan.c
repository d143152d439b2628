/* analysis/sweep_plan.c - DIR/plan: the expanded cells, written once by
 * the sweep and read by every array task and by --collect.
 *
 * Text, one record per line, fields separated by tabs (values with tabs
 * are refused when the experiment is read):
 *
 *   vmlab-sweep-plan 1
 *   name      NAME
 *   experiment  /abs/path/of/the/experiment.ini
 *   os        PRESET or empty
 *   machine   PRESET or empty
 *   format    FORMAT
 *   plugin    HASH  /abs/plugin.so       (one line per plug-in, in load order)
 *   config    /abs/base/config.ini      (one line per file, in order)
 *   set       KEY  VALUE                (one line per [set] key, in order)
 *   vary      KEY                       (one line per [vary] key, in order)
 *   cell      INDEX  KEY  TRACEHASH  /abs/trace  VALUE...  (one value per vary key)
 *   end       NCELLS
 *
 * The reader checks the syntax and the cell numbering, not that the plan
 * still matches its experiment: a cell's run checks its key instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/sweep_internal.h"

#define PLAN_MAGIC "vmlab-sweep-plan 1"

char *sweep_plan_text(const struct vl_sweep *s)
{
	struct au_buf b = { 0 };
	au_bprintf(&b, "%s\n", PLAN_MAGIC);
	au_bprintf(&b, "name\t%s\n", s->name);
	au_bprintf(&b, "experiment\t%s\n", s->exp_path);
	au_bprintf(&b, "os\t%s\n", s->os);
	au_bprintf(&b, "machine\t%s\n", s->machine);
	au_bprintf(&b, "format\t%s\n", s->format);
	for (size_t i = 0; i < s->nplugins; i++)
		au_bprintf(&b, "plugin\t%s\t%s\n", s->plugins[i].hash, s->plugins[i].path);
	for (size_t i = 0; i < s->nconfigs; i++)
		au_bprintf(&b, "config\t%s\n", s->configs[i]);
	for (size_t i = 0; i < s->nset; i++)
		au_bprintf(&b, "set\t%s\t%s\n", s->set[i].key, s->set[i].value);
	for (size_t i = 0; i < s->nvary; i++)
		au_bprintf(&b, "vary\t%s\n", s->vary_keys[i]);
	for (size_t i = 0; i < s->ncells; i++) {
		const struct vl_sweep_cell *c = &s->cells[i];
		au_bprintf(&b, "cell\t%zu\t%s\t%s\t%s", i, c->key, c->trace_hash, c->trace);
		for (size_t k = 0; k < s->nvary; k++)
			au_bprintf(&b, "\t%s", c->vary[k].value);
		au_bprintf(&b, "\n");
	}
	au_bprintf(&b, "end\t%zu\n", s->ncells);
	return au_buf_take(&b);
}

int vl_sweep_plan_write(const struct vl_sweep *s, const char *dir, struct vl_error *err)
{
	size_t n = strlen(dir) + 16;
	char *cells = malloc(n), *plan = malloc(n);
	char *text = sweep_plan_text(s);
	int rc = 0;
	if (!cells || !plan || !text)
		rc = vl_err(err, VL_ENOMEM, "out of memory");
	if (rc == 0) {
		snprintf(cells, n, "%s/cells", dir);
		snprintf(plan, n, "%s/plan", dir);
		rc = au_mkdir_p(cells, err);
	}
	if (rc == 0)
		rc = au_write_atomic(plan, text, err);
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
	char *text = au_read_all(path, NULL);
	if (!text) {
		int rc = vl_err(err, VL_ENOENT, "%s: cannot read the sweep plan (%s); is %s a sweep directory?",
				path, strerror(errno), dir);
		free(path);
		return rc;
	}
	struct vl_sweep *s = calloc(1, sizeof(*s));
	struct au_strv configs = { 0 }, vkeys = { 0 };
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
		} else if (!strcmp(what, "plugin")) {
			/* loaded now: --cell and --collect build configurations
			 * that may name its policies */
			struct vl_sweep_plugin *np =
				nf == 3 && is_hex16(f[1]) && f[2][0] == '/' && !s->ncells
					? realloc(s->plugins, (s->nplugins + 1) * sizeof(*np))
					: NULL;
			char *pp = np ? strdup(f[2]) : NULL;
			char origin[64];
			snprintf(origin, sizeof(origin), "plan line %u", line);
			if (np)
				s->plugins = np;
			if (!pp)
				rc = vl_err(err, VL_EFORMAT, "%s line %u: expected 'plugin HASH /PATH'", path,
					    line);
			else if ((rc = sweep_plugin_load(&s->plugins[s->nplugins], pp, origin, err)) < 0)
				free(pp);
			else if (strcmp(s->plugins[s->nplugins++].hash, f[1]))
				rc = vl_err(err, VL_ESTATE,
					    "%s line %u: plug-in %s changed since the plan was written; "
					    "re-run the sweep from its experiment file",
					    path, line, f[2]);
		} else if (!strcmp(what, "config")) {
			if (nf != 2 || au_strv_push(&configs, f[1]))
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
			if (nf != 2 || s->ncells || au_strv_push(&vkeys, f[1]))
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
		sweep_plugins_key(s);
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

