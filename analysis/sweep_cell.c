/* analysis/sweep_cell.c - one cell: its files, running it, its error, and
 * which cells are still to run.
 *
 * A cell's results file DIR/cells/KEY.h5 is written through analysis/h5
 * (temporary file, renamed when complete), so "done" is "the file exists
 * and reads as complete".  A failed run stores its error in
 * DIR/cells/KEY.err (written atomically, removed when the cell succeeds),
 * which is how a worker's error reaches the sweep, --collect and
 * --dry-run.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/sweep_internal.h"
#include "vmlab/results.h"
#include "vmlab/run.h"

char *vl_sweep_cell_path(const char *dir, const struct vl_sweep_cell *c, const char *ext)
{
	size_t n = strlen(dir) + strlen(ext) + VL_SWEEP_KEY_LEN + 16;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/cells/%s%s", dir, c->key, ext);
	return p;
}

bool vl_sweep_cell_done(const struct vl_sweep *s, const char *dir, size_t i)
{
	if (i >= s->ncells)
		return false;
	const struct vl_sweep_cell *c = &s->cells[i];
	char *p = vl_sweep_cell_path(dir, c, ".h5");
	struct vl_results *r = NULL;
	struct vl_error err;
	bool ok = p && access(p, F_OK) == 0 && vl_results_open(&r, p, &err) == 0;
	/* and it holds this cell's run: its configuration and trace hash give
	 * this cell's key (a file copied over another cell's is not done) */
	char *cfg_text = NULL, *hash = NULL;
	if (ok && (vl_results_attr(r, "runs/cell", "config", &cfg_text, &err) < 0 ||
		   vl_results_attr(r, "runs/cell", "trace_hash", &hash, &err) < 0)) {
		ok = false;
	} else if (ok) {
		char key[VL_SWEEP_KEY_LEN];
		sweep_cell_key(s, cfg_text, hash, key);
		ok = !strcmp(key, c->key);
	}
	free(cfg_text);
	free(hash);
	vl_results_close(r);
	free(p);
	return ok;
}

char *vl_sweep_cell_error(const struct vl_sweep *s, const char *dir, size_t i)
{
	if (i >= s->ncells)
		return NULL;
	char *p = vl_sweep_cell_path(dir, &s->cells[i], ".err");
	char *t = p ? au_read_all(p, NULL) : NULL;
	free(p);
	if (t)
		au_trim(t);
	return t;
}

/* Cell i's configuration, refused when it no longer hashes to the key
 * the plan recorded (a base config file, a plug-in or a preset changed). */
static int cell_config_checked(const struct vl_sweep *s, size_t i, struct vl_config **cfg,
			       struct vl_error *err)
{
	const struct vl_sweep_cell *c = &s->cells[i];
	char *text = NULL;
	VL_TRY(vl_sweep_cell_config(s, i, cfg, &text, err));
	char key[VL_SWEEP_KEY_LEN];
	sweep_cell_key(s, text, c->trace_hash, key);
	free(text);
	if (strcmp(key, c->key)) {
		vl_config_free(*cfg);
		*cfg = NULL;
		return vl_err(err, VL_ESTATE,
			      "cell %zu: its configuration no longer hashes to %s (a base config file, "
			      "a plug-in or the presets changed since the plan was written); re-run the "
			      "sweep from its experiment file",
			      i, c->key);
	}
	return 0;
}

static int cell_run(const struct vl_sweep *s, const char *dir, size_t i, const char *h5path,
		    const char *volatile *tmp_path, struct vl_error *err)
{
	const struct vl_sweep_cell *c = &s->cells[i];
	struct vl_config *cfg = NULL;
	VL_TRY(cell_config_checked(s, i, &cfg, err));
	uint64_t th;
	int hrc = vl_hash_file(c->trace, &th, err);
	if (hrc < 0) {
		vl_config_free(cfg);
		return hrc;
	}
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
		au_write_atomic(errpath, msg, &e2);
	}
	free(h5path);
	free(errpath);
	return rc;
}

/* ---- cells over one trace, decoded once ---- */

/* What one cell of a group holds while the trace is replayed. */
struct gcell {
	size_t i;
	char *h5path, *errpath;
	const char *trace;
	const struct vl_trace *t;
	const char *volatile *tmp; /* its entry in the signal guard's list */
	struct vl_engine *e;
	struct vl_h5 *h5;
	struct vl_h5_run *run;
	struct vl_run_opts ro;
	int rc;
	struct vl_error err;
};

/* The hooks of vl_run_multi, called on the thread that feeds the cell's
 * engine, one at a time (HDF5 is not thread-safe): the results file is
 * opened and the run begun before the engine's first chunk, and the run is
 * ended and the file committed right after its last one, while the other
 * engines are still being fed (not all 16 files one after another on one
 * thread at the end). */
static int gcell_start(void *ctx, struct vl_engine *e, struct vl_error *err)
{
	struct gcell *g = ctx;
	VL_TRY(vl_h5_open(&g->h5, g->h5path, err));
	*g->tmp = vl_h5_temp_path(g->h5);
	return vl_h5_run_begin(g->h5, "cell", "run", e, &g->run, err);
}

static int gcell_row(void *ctx, struct vl_engine *e, uint64_t accesses_done, struct vl_error *err)
{
	struct gcell *g = ctx;
	return vl_h5_timeline_row(g->run, e, accesses_done, err);
}

static int gcell_end(void *ctx, struct vl_engine *e, const struct vl_run_stats *st,
		     struct vl_error *err)
{
	struct gcell *g = ctx;
	int rc = vl_h5_run_end_trace(g->run, e, g->t, g->trace, st, err);
	g->run = NULL;
	*g->tmp = NULL; /* the commit frees the path (a stray temporary file is
			 * removed by the next sweep) */
	if (rc == 0) {
		rc = vl_h5_commit(g->h5, err);
		g->h5 = NULL;
	}
	return rc;
}

/* Everything of cell_run before the replay that needs no results file:
 * configuration and trace checks, engine. */
static int gcell_prepare(const struct vl_sweep *s, struct gcell *g, const char *volatile *tmp)
{
	struct vl_error *err = &g->err;
	struct vl_config *cfg = NULL;
	VL_TRY(cell_config_checked(s, g->i, &cfg, err));
	int rc = vl_engine_new(&g->e, cfg, err);
	vl_config_free(cfg);
	g->trace = s->cells[g->i].trace;
	g->tmp = tmp;
	g->ro = (struct vl_run_opts){ .size = sizeof(g->ro), .on_interval = gcell_row,
				      .interval_ctx = g, .on_start = gcell_start,
				      .on_end = gcell_end, .hook_ctx = g };
	return rc;
}

static void gcell_free(struct gcell *g)
{
	vl_h5_run_free(g->run);
	vl_h5_abort(g->h5);
	vl_engine_free(g->e);
	free(g->h5path);
	free(g->errpath);
}

static const char *volatile *guard_list; /* temporary files of a group, for signals */
static volatile size_t guard_n;

int vl_sweep_cells_run(const struct vl_sweep *s, const char *dir, const size_t *cells, size_t n,
		       unsigned threads, struct vl_error *err)
{
	struct gcell *g = calloc(n ? n : 1, sizeof(*g));
	struct vl_engine **es = calloc(n ? n : 1, sizeof(*es));
	const struct vl_run_opts **ops = calloc(n ? n : 1, sizeof(*ops));
	int *rcs = calloc(n ? n : 1, sizeof(*rcs));
	struct vl_error *errs = calloc(n ? n : 1, sizeof(*errs));
	const char *volatile *tmps = calloc(n ? n : 1, sizeof(*tmps));
	if (!g || !es || !ops || !rcs || !errs || !tmps) {
		free(g); free(es); free(ops); free(rcs); free(errs); free((void *)tmps);
		return vl_err(err, VL_ENOMEM, "out of memory");
	}
	guard_list = tmps;
	guard_n = n;
	const char *trace = n ? s->cells[cells[0]].trace : "";
	const char *hash = n ? s->cells[cells[0]].trace_hash : "";
	int trc = 0;
	struct vl_error terr = { 0 };
	uint64_t th;
	if (n && (trc = vl_hash_file(trace, &th, &terr)) == 0) {
		char ths[VL_SWEEP_KEY_LEN];
		snprintf(ths, sizeof(ths), "%016llx", (unsigned long long)th);
		if (strcmp(ths, hash))
			trc = vl_err(&terr, VL_ESTATE,
				     "%s: the trace changed since the plan was written (hash %s, plan %s)",
				     trace, ths, hash);
	}
	size_t k = 0;
	for (size_t j = 0; j < n; j++) {
		g[j].i = cells[j];
		g[j].h5path = vl_sweep_cell_path(dir, &s->cells[cells[j]], ".h5");
		g[j].errpath = vl_sweep_cell_path(dir, &s->cells[cells[j]], ".err");
		if (!g[j].h5path || !g[j].errpath) {
			g[j].rc = vl_err(&g[j].err, VL_ENOMEM, "out of memory");
			continue;
		}
		if (vl_sweep_cell_done(s, dir, cells[j])) {
			g[j].rc = 1; /* finished meanwhile */
			continue;
		}
		unlink(g[j].h5path);
		if (trc < 0) {
			g[j].rc = trc;
			g[j].err = terr;
			continue;
		}
		g[j].rc = gcell_prepare(s, &g[j], &tmps[j]);
		if (g[j].rc == 0) {
			es[k] = g[j].e;
			ops[k] = &g[j].ro;
			k++;
		}
	}
	struct vl_trace *t = NULL;
	struct vl_error merr = { 0 };
	int orc = k ? vl_trace_open(&t, trace, s->format, &merr) : 0;
	for (size_t j = 0; j < n; j++)
		g[j].t = t;
	if (k && orc == 0) /* the results files are written by gcell_end */
		vl_run_multi(es, k, t, threads, ops, NULL, rcs, errs, &merr);
	int rc = 0;
	for (size_t j = 0, q = 0; j < n; j++) {
		struct gcell *c = &g[j];
		if (c->rc == 0) {
			if (orc < 0) {
				c->rc = orc;
				c->err = merr;
			} else if (rcs[q] < 0) {
				c->rc = rcs[q];
				c->err = errs[q];
			}
			q++;
		}
		tmps[j] = NULL;
		if (c->rc >= 0 && c->errpath) {
			unlink(c->errpath);
		} else if (c->errpath) {
			struct vl_error e2;
			char msg[sizeof(c->err.msg) + 2];
			snprintf(msg, sizeof(msg), "%s\n", c->err.msg);
			au_write_atomic(c->errpath, msg, &e2);
		}
		if (c->rc < 0 && rc == 0) {
			rc = c->rc;
			*err = c->err;
		}
		gcell_free(c);
	}
	vl_trace_close(t);
	guard_n = 0;
	guard_list = NULL;
	free(g); free(es); free(ops); free(rcs); free(errs); free((void *)tmps);
	return rc;
}

/* ---- a cell in a process that runs cells ---- */

static const char *volatile guard_tmp;

static void guard_signal(int sig)
{
	const char *t = guard_tmp;
	if (t)
		unlink(t);
	const char *volatile *l = guard_list;
	for (size_t k = 0; l && k < guard_n; k++)
		if (l[k])
			unlink(l[k]);
	signal(sig, SIG_DFL);
	raise(sig);
}

int vl_sweep_cell_run_guarded(const struct vl_sweep *s, const char *dir, size_t i,
			      struct vl_error *err)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = guard_signal, .sa_flags = SA_RESTART }, old[3];
	sigemptyset(&sa.sa_mask);
	for (size_t k = 0; k < 3; k++)
		sigaction(sigs[k], &sa, &old[k]);
	int rc = vl_sweep_cell_run(s, dir, i, &guard_tmp, err);
	for (size_t k = 0; k < 3; k++)
		sigaction(sigs[k], &old[k], NULL);
	return rc;
}

int vl_sweep_cells_run_guarded(const struct vl_sweep *s, const char *dir, const size_t *cells,
			       size_t n, unsigned threads, struct vl_error *err)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = guard_signal, .sa_flags = SA_RESTART }, old[3];
	sigemptyset(&sa.sa_mask);
	for (size_t k = 0; k < 3; k++)
		sigaction(sigs[k], &sa, &old[k]);
	int rc = vl_sweep_cells_run(s, dir, cells, n, threads, err);
	for (size_t k = 0; k < 3; k++)
		sigaction(sigs[k], &old[k], NULL);
	return rc;
}

/* ---- cells still to run ---- */

static int cmp_key(const void *a, const void *b, void *arg)
{
	const struct vl_sweep *s = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(s->cells[x].key, s->cells[y].key);
	return c ? c : (x > y) - (x < y);
}

size_t *sweep_todo(const struct vl_sweep *s, const char *dir, size_t *ntodo, size_t *ndone)
{
	size_t n = s->ncells, nt = 0, nd = 0;
	size_t *ix = malloc((n ? n : 1) * sizeof(*ix));
	bool *dup = calloc(n ? n : 1, sizeof(*dup));
	if (!ix || !dup) {
		free(ix);
		free(dup);
		return NULL;
	}
	/* dup[i]: an earlier cell has cell i's key (the same results file) */
	for (size_t i = 0; i < n; i++)
		ix[i] = i;
	qsort_r(ix, n, sizeof(*ix), cmp_key, (void *)s);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(s->cells[ix[i]].key, s->cells[ix[i - 1]].key))
			dup[ix[i]] = true;
	for (size_t i = 0; i < n; i++) {
		if (vl_sweep_cell_done(s, dir, i))
			nd++;
		else if (!dup[i])
			ix[nt++] = i;
	}
	free(dup);
	*ntodo = nt;
	if (ndone)
		*ndone = nd;
	return ix;
}
