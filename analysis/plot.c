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
 * This file runs a figure: selection (--run, --where), the temporary
 * directory, gnuplot, the renames, and --all; the kinds are in
 * plot_kinds.c, layout, labels and style in plot_style.c.
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

#include "analysis/plot_internal.h"

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
	char *out = pl_str_printf("%s/%s", g->tmpdir, g->out_name);
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
			char *p = pl_str_printf("%s/%s", g->tmpdir, names[i]);
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
		{ "mrc", pl_plot_mrc }, { "timeline", pl_plot_timeline }, { "bars", pl_plot_bars },
		{ "tlb", pl_plot_tlb }, { "validation", pl_plot_validation },
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
	g.dat_name = g.base ? pl_str_printf("%s.dat", g.base) : NULL;
	g.gp_name = g.base ? pl_str_printf("%s.gp", g.base) : NULL;
	g.out_name = g.base ? pl_str_printf("%s.%s", g.base, g.ext) : NULL;
	g.ok = calloc(s->nruns + 1, sizeof(bool));
	char *tmpl = g.dir && g.base ? pl_str_printf("%s/.%s.plot-XXXXXX", g.dir, g.base) : NULL;
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
	/* the figure, its data and its script are renamed over what is there */
	const char *finals[] = { g.dat_name, g.gp_name, g.out_name };
	for (int i = 0; i < 3; i++) {
		char *to = pl_str_printf("%s/%s", g.dir, finals[i]);
		rc = to ? au_check_replace(to, err) : vl_err(err, VL_ENOMEM, "out of memory");
		free(to);
		if (rc < 0) {
			free(tmpl);
			goto out;
		}
	}
	if (!mkdtemp(tmpl)) {
		rc = vl_err(err, VL_EIO, "cannot write in %s: %s", g.dir, strerror(errno));
		free(tmpl);
		goto out;
	}
	g.tmpdir = tmpl;
	dat_path = pl_str_printf("%s/%s", g.tmpdir, g.dat_name);
	gp_path = pl_str_printf("%s/%s", g.tmpdir, g.gp_name);
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
		char *from = pl_str_printf("%s/%s", g.tmpdir, names[i]);
		char *to = pl_str_printf("%s/%s", g.dir, names[i]);
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
			if (s.sel[i] && pl_find_str(&vals, rs_val(&s, i, split)) < 0)
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
				path = pl_str_printf("%s/%s-%s-%s.%s", d, kinds[k], rs_short(&s, split), part,
						  ext);
				if (path)
					for (char *q = path + strlen(d) + 1; *q; q++)
						*q = *q == ' ' ? '_' : *q;
			} else {
				path = pl_str_printf("%s/%s.%s", d, kinds[k], ext);
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
