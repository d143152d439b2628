/* tests/unit/test_sweep.c - the seams between the sweep files: value lists
 * and ranges, the experiment reader (lines longer than libinih's 200
 * bytes, its syntax and its errors with lines), the order of cells, the
 * plan's text and its round trip, the cells still to run, the Slurm
 * scripts, and a local run reported through the progress callback.
 *
 * Every expected value is written out by hand from docs/sweeps.md: ranges
 * include their end when a step lands on it, traces vary slowest and the
 * last [vary] key fastest, cells of identical trace bytes share a key.
 */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "analysis/sweep_internal.h"
#include "vmlab/results.h"
#include "tests/testutil.h"

static char dir[] = "/tmp/vmlab-test-sweep-XXXXXX";

static void put(const char *path, const char *text)
{
	struct vl_error err = { 0 };
	if (au_write_atomic(path, text, &err) < 0)
		fail_msg("%s", err.msg);
}

static char *path_in(const char *name)
{
	static char buf[4][PATH_MAX];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}

/* Load the experiment body (written to NAME.ini) and write its plan into
 * the directory NAME. */
static struct vl_sweep *load(const char *name, const char *body)
{
	char exp[PATH_MAX];
	snprintf(exp, sizeof(exp), "%s.ini", path_in(name));
	put(exp, body);
	struct vl_sweep *s;
	struct vl_error err = { 0 };
	if (vl_sweep_load(&s, exp, &err) < 0 || vl_sweep_plan_write(s, path_in(name), &err) < 0)
		fail_msg("%s", err.msg);
	return s;
}

/* The values of text joined with single spaces ("" on error, err set). */
static const char *values(const char *text, struct vl_error *err)
{
	static char out[4096];
	struct au_strv v = { 0 };
	out[0] = '\0';
	if (sweep_values(text, &v, "exp.ini line 7: k", err) == 0) {
		size_t n = 0;
		for (size_t i = 0; i < v.n; i++)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", i ? " " : "", v.v[i]);
	}
	au_strv_free(&v);
	return out;
}

static void test_values(void **state)
{
	(void)state;
	struct vl_error err = { 0 };
	assert_string_equal(values("lru, fifo ,clock", &err), "lru fifo clock");
	assert_string_equal(values("8, 16..64 step 16, 100", &err), "8 16 32 48 64 100");
	assert_string_equal(values("16..1024 *2", &err), "16 32 64 128 256 512 1024");
	assert_string_equal(values("16..100 *2", &err), "16 32 64"); /* 128 > 100 */
	assert_string_equal(values("1..10 step 4", &err), "1 5 9");  /* 13 > 10 */
	assert_string_equal(values("4K..64K *4", &err), "4096 16384 65536");
	assert_string_equal(values("1M..3M step 1M", &err), "1048576 2097152 3145728");
	assert_string_equal(values("5..5", &err), "5");
	assert_string_equal(values("3..6", &err), "3 4 5 6");
	/* the last representable value ends the range instead of wrapping */
	assert_string_equal(values("18446744073709551614..18446744073709551615 step 8", &err),
			    "18446744073709551614");
	assert_string_equal(values("18446744073709551615..18446744073709551615", &err),
			    "18446744073709551615");
}

static void test_values_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "64..32", "exp.ini line 7: k: range 64..32 is empty (start > end)" },
		{ "1..3 *1", "exp.ini line 7: k: range factor '*1': expected *N with N >= 2" },
		{ "0..8 *2", "exp.ini line 7: k: a geometric range (*2) cannot start at 0" },
		{ "32..64 step x", "exp.ini line 7: k: range step 'step x': expected 'step N' with N >= 1" },
		{ "32..64 step 0", "exp.ini line 7: k: range step 'step 0': expected 'step N' with N >= 1" },
		{ "1..x",
		  "exp.ini line 7: k: range '1..x': expected unsigned numbers (64, 4K, 2M) on both sides" },
		{ "1..20000", "exp.ini line 7: k: range 1..20000 has more than 10000 values" },
		{ "a, , b", "exp.ini line 7: k: empty value in the list" },
		{ "16, 32, 16", "exp.ini line 7: k: value '16' listed twice (its cells would be the same)" },
		{ "16..64 *2, 32",
		  "exp.ini line 7: k: value '32' listed twice (its cells would be the same)" },
		{ "  ", "exp.ini line 7: k: expected a comma-separated list or a range of values" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vl_error err = { 0 };
		struct au_strv v = { 0 };
		assert_int_equal(sweep_values(bad[i].text, &v, "exp.ini line 7: k", &err), VL_EFORMAT);
		assert_string_equal(err.msg, bad[i].msg);
		au_strv_free(&v);
	}
}

/* ---- a hand-made plan ---- */

static struct vl_kv kv(const char *k, const char *v)
{
	return (struct vl_kv){ strdup(k), strdup(v) };
}

static struct vl_sweep *hand_plan(void)
{
	struct vl_sweep *s = calloc(1, sizeof(*s));
	s->name = strdup("grid");
	s->exp_path = strdup("/x/grid.ini");
	s->os = strdup("textbook");
	s->machine = strdup("");
	s->format = strdup("auto");
	s->nconfigs = 1;
	s->configs = calloc(1, sizeof(char *));
	s->configs[0] = strdup("/x/base.ini");
	s->nset = 1;
	s->set = calloc(1, sizeof(struct vl_kv));
	s->set[0] = kv("stats.interval", "5000");
	s->nvary = 2;
	s->vary_keys = calloc(2, sizeof(char *));
	s->vary_keys[0] = strdup("memory.frames");
	s->vary_keys[1] = strdup("replacement.policy");
	static const char *const c[3][5] = {
		{ "0123456789abcdef", "fedcba9876543210", "/t/a.addr", "32", "fifo" },
		{ "1111111111111111", "fedcba9876543210", "/t/a.addr", "32", "lru" },
		{ "2222222222222222", "aaaaaaaaaaaaaaaa", "/t/b addr.vmt", "64", "fifo" },
	};
	s->ncells = 3;
	s->cells = calloc(3, sizeof(*s->cells));
	for (size_t i = 0; i < 3; i++) {
		struct vl_sweep_cell *cell = &s->cells[i];
		cell->index = i;
		snprintf(cell->key, sizeof(cell->key), "%s", c[i][0]);
		snprintf(cell->trace_hash, sizeof(cell->trace_hash), "%s", c[i][1]);
		cell->trace = strdup(c[i][2]);
		cell->vary = calloc(2, sizeof(struct vl_kv));
		cell->vary[0] = kv("memory.frames", c[i][3]);
		cell->vary[1] = kv("replacement.policy", c[i][4]);
	}
	return s;
}

static const char *hand_plan_text =
	"vmlab-sweep-plan 1\n"
	"name\tgrid\n"
	"experiment\t/x/grid.ini\n"
	"os\ttextbook\n"
	"machine\t\n"
	"format\tauto\n"
	"config\t/x/base.ini\n"
	"set\tstats.interval\t5000\n"
	"vary\tmemory.frames\n"
	"vary\treplacement.policy\n"
	"cell\t0\t0123456789abcdef\tfedcba9876543210\t/t/a.addr\t32\tfifo\n"
	"cell\t1\t1111111111111111\tfedcba9876543210\t/t/a.addr\t32\tlru\n"
	"cell\t2\t2222222222222222\taaaaaaaaaaaaaaaa\t/t/b addr.vmt\t64\tfifo\n"
	"end\t3\n";

static void test_plan_round_trip(void **state)
{
	(void)state;
	struct vl_error err = { 0 };
	struct vl_sweep *s = hand_plan();
	const char *pd = path_in("plan-rt/sub");
	if (vl_sweep_plan_write(s, pd, &err) < 0)
		fail_msg("%s", err.msg);
	char plan[PATH_MAX + 8];
	snprintf(plan, sizeof(plan), "%s/plan", pd);
	char *text = au_read_all(plan, NULL);
	assert_non_null(text);
	assert_string_equal(text, hand_plan_text);
	free(text);
	char cells[PATH_MAX + 8];
	snprintf(cells, sizeof(cells), "%s/cells", pd);
	struct stat st;
	assert_int_equal(stat(cells, &st), 0);
	assert_true(S_ISDIR(st.st_mode));

	struct vl_sweep *r;
	if (vl_sweep_plan_read(&r, pd, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(r->name, "grid");
	assert_string_equal(r->exp_path, "/x/grid.ini");
	assert_string_equal(r->os, "textbook");
	assert_string_equal(r->machine, "");
	assert_string_equal(r->format, "auto");
	assert_int_equal(r->nconfigs, 1);
	assert_string_equal(r->configs[0], "/x/base.ini");
	assert_int_equal(r->nset, 1);
	assert_string_equal(r->set[0].key, "stats.interval");
	assert_string_equal(r->set[0].value, "5000");
	assert_int_equal(r->nvary, 2);
	assert_string_equal(r->vary_keys[1], "replacement.policy");
	assert_int_equal(r->ncells, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(r->cells[i].index, i);
		assert_string_equal(r->cells[i].key, s->cells[i].key);
		assert_string_equal(r->cells[i].trace_hash, s->cells[i].trace_hash);
		assert_string_equal(r->cells[i].trace, s->cells[i].trace);
		for (size_t k = 0; k < 2; k++) {
			assert_string_equal(r->cells[i].vary[k].key, s->vary_keys[k]);
			assert_string_equal(r->cells[i].vary[k].value, s->cells[i].vary[k].value);
		}
	}
	/* what is read back writes the same text again */
	text = sweep_plan_text(r);
	assert_string_equal(text, hand_plan_text);
	free(text);
	vl_sweep_free(r);
	vl_sweep_free(s);
}

static void test_plan_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text, *msg; /* msg follows "DIR/plan" */
	} bad[] = {
		{ "vmlab-sweep-plan 2\n", " line 1: expected 'vmlab-sweep-plan 1'" },
		{ "vmlab-sweep-plan 1\nname\tx\nbogus\t1\n", " line 3: unknown line 'bogus'" },
		{ "vmlab-sweep-plan 1\nname\tx\nname\ty\n", " line 3: bad 'name' line" },
		{ "vmlab-sweep-plan 1\nvary\tk\ncell\t0\t0123456789abcdef\tfedcba9876543210\t/t\n",
		  " line 3: expected 'cell INDEX KEY TRACEHASH TRACE' and 1 values" },
		{ "vmlab-sweep-plan 1\ncell\t1\t0123456789abcdef\tfedcba9876543210\t/t\n",
		  " line 2: expected 'cell INDEX KEY TRACEHASH TRACE' and 0 values" },
		{ "vmlab-sweep-plan 1\ncell\t0\t0123456789ABCDEF\tfedcba9876543210\t/t\n",
		  " line 2: expected 'cell INDEX KEY TRACEHASH TRACE' and 0 values" },
		{ "vmlab-sweep-plan 1\nend\t1\n", " line 2: 'end' does not match the 0 cells" },
		{ "vmlab-sweep-plan 1\nend\t0\nname\tx\n", " line 3: text after 'end'" },
		{ "vmlab-sweep-plan 1\nname\tx\nend\t0\n",
		  ": incomplete plan (no 'end' line or missing fields)" },
	};
	const char *pd = path_in("plan-bad");
	mkdir(pd, 0777);
	char plan[PATH_MAX + 8];
	snprintf(plan, sizeof(plan), "%s/plan", pd);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(plan, bad[i].text);
		struct vl_sweep *r = NULL;
		struct vl_error err = { 0 };
		assert_int_equal(vl_sweep_plan_read(&r, pd, &err), VL_EFORMAT);
		char want[PATH_MAX + 128];
		snprintf(want, sizeof(want), "%s%s", plan, bad[i].msg);
		assert_string_equal(err.msg, want);
	}
	struct vl_sweep *r = NULL;
	struct vl_error err = { 0 };
	assert_int_equal(vl_sweep_plan_read(&r, path_in("no-such-dir"), &err), VL_ENOENT);
	assert_non_null(strstr(err.msg, "cannot read the sweep plan"));
}

/* ---- an experiment file ---- */

static void test_load(void **state)
{
	(void)state;
	/* a [vary] line of 60 values, longer than libinih's 200-byte lines */
	char frames[512] = "";
	for (int v = 8; v <= 480; v += 8)
		snprintf(frames + strlen(frames), sizeof(frames) - strlen(frames), "%s%d",
			 v == 8 ? "" : ", ", v);
	assert_true(strlen(frames) > 200);
	char text[2048];
	snprintf(text, sizeof(text),
		 "# comment\n"
		 "; comment\n"
		 "[experiment]\n"
		 "name = a ; b\n" /* kept whole: ';' starts a comment only at a line's start */
		 "traces = one.addr, two.addr\n"
		 "os = textbook\n"
		 "\n"
		 "[vary]\n"
		 "memory.frames = %s\n"
		 "replacement.policy = fifo, lru\n"
		 "[set]\n"
		 "stats.interval = 5000\n",
		 frames);
	struct vl_sweep *s = load("long", text);
	assert_string_equal(s->name, "a ; b");
	assert_string_equal(s->os, "textbook");
	assert_string_equal(s->format, "auto");
	assert_int_equal(s->nset, 1);
	assert_int_equal(s->nvary, 2);
	/* 2 traces x 60 sizes x 2 policies, traces outermost, policy fastest */
	assert_int_equal(s->ncells, 240);
	static const struct {
		size_t cell;
		const char *trace, *frames, *policy;
	} want[] = {
		{ 0, "one.addr", "8", "fifo" },    { 1, "one.addr", "8", "lru" },
		{ 2, "one.addr", "16", "fifo" },   { 119, "one.addr", "480", "lru" },
		{ 120, "two.addr", "8", "fifo" },  { 239, "two.addr", "480", "lru" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct vl_sweep_cell *c = &s->cells[want[i].cell];
		assert_string_equal(strrchr(c->trace, '/') + 1, want[i].trace);
		assert_string_equal(c->vary[0].value, want[i].frames);
		assert_string_equal(c->vary[1].value, want[i].policy);
	}
	/* identical bytes: identical keys; within a trace every key differs */
	for (size_t i = 0; i < 120; i++) {
		assert_string_equal(s->cells[i].key, s->cells[i + 120].key);
		assert_string_equal(s->cells[i].trace_hash, s->cells[120].trace_hash);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(s->cells[i].key, s->cells[j].key);
	}
	/* so only the first trace's cells are to run */
	size_t ntodo, ndone;
	size_t *todo = sweep_todo(s, path_in("nothing-run-here"), &ntodo, &ndone);
	assert_non_null(todo);
	assert_int_equal(ntodo, 120);
	assert_int_equal(ndone, 0);
	for (size_t i = 0; i < ntodo; i++)
		assert_int_equal(todo[i], i);
	free(todo);
	vl_sweep_free(s);
}

static void test_load_errors(void **state)
{
	(void)state;
	const char *exp = path_in("bad.ini");
	static const struct {
		const char *body, *msg; /* msg follows the file's path */
	} bad[] = {
		{ "[experiment]\nname = x\ntraces = one.addr\n[vary]\nmemory.frames = 64..32\n",
		  " line 5: memory.frames: range 64..32 is empty (start > end)" },
		/* libinih would take these three; the experiment reader does not */
		{ "[experiment]\nname: x\n", " line 2: expected 'key = value'" },
		{ "[experiment] x\n", " line 1: expected '[section]'" },
		{ "[experiment]\nname = x\n[experiment]\n", " line 3: section [experiment] appears twice" },
		{ "[experiment]\nname = x\ntraces = one.addr\n[vary]\nk = 1\nk = 2\n",
		  " line 6: 'k' appears twice in [vary]" },
		{ "[experiment]\nname = x\n", ": [experiment] has no 'traces' (globs, comma-separated)" },
		{ "[experiment]\nname = x\ntraces = one.addr, none*.addr\n",
		  " line 3: traces: 'none*.addr' matches no file (relative to " },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(exp, bad[i].body);
		struct vl_sweep *s = NULL;
		struct vl_error err = { 0 };
		assert_true(vl_sweep_load(&s, exp, &err) < 0);
		char want[PATH_MAX + 128];
		snprintf(want, sizeof(want), "%s%s", exp, bad[i].msg);
		if (strncmp(err.msg, want, strlen(want)))
			fail_msg("case %zu: got '%s', want '%s...'", i, err.msg, want);
	}
	/* a continuation line (libinih's multi-line value) is a line of its own */
	put(exp, "[experiment]\nname = x\ntraces = one.addr\n[vary]\nmemory.frames = 8\n  16\n");
	struct vl_sweep *s = NULL;
	struct vl_error err = { 0 };
	assert_int_equal(vl_sweep_load(&s, exp, &err), VL_EFORMAT);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "%s line 6: expected 'key = value'", exp);
	assert_string_equal(err.msg, want);
}

/* ---- Slurm scripts ---- */

static void test_slurm_scripts(void **state)
{
	(void)state;
	/* 4 cells, of which 2 and 3 repeat 0 and 1 (same bytes) */
	struct vl_sweep *s = load("slurm", "[experiment]\nname = dup sweep\n"
					   "traces = one.addr, two.addr\n"
					   "[vary]\nmemory.frames = 32, 64\n");
	struct vl_error err = { 0 };
	const char *sd = path_in("slurm");
	char real[PATH_MAX];
	assert_non_null(realpath(sd, real));
	struct vl_sweep_slurm o = { .partition = "short", .max_parallel = 3, .cells_per_task = 1,
				    .vmlab = "/srv/it's/vmlab" };
	struct vl_sweep_slurm_job j;
	if (vl_sweep_slurm_write(s, sd, &o, &j, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(j.dir, real);
	assert_int_equal(j.todo, 2);
	assert_int_equal(j.tasks, 2);
	char want[8192], p[PATH_MAX + 32];
	snprintf(p, sizeof(p), "%s/slurm/sweep.sbatch", real);
	assert_string_equal(j.script, p);
	snprintf(want, sizeof(want),
		 "#!/bin/sh\n"
		 "# vmlab sweep dup sweep: 2 cells in 2 array tasks (written by vmlab sweep --slurm)\n"
		 "#SBATCH --job-name=vmlab-dup_sweep\n"
		 "#SBATCH --array=0-1%%3\n"
		 "#SBATCH --ntasks=1\n"
		 "#SBATCH --cpus-per-task=1\n"
		 "#SBATCH --output=%s/slurm/logs/%%A_%%a.out\n"
		 "#SBATCH --partition=short\n"
		 "set -u\n"
		 "cells=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" '%s/slurm'/tasks)\n"
		 "rc=0\n"
		 "for i in $cells; do\n"
		 "\t'/srv/it'\\''s/vmlab' sweep -o '%s' --cell \"$i\" || rc=1\n"
		 "done\n"
		 "exit $rc\n",
		 real, real, real);
	char *t = au_read_all(j.script, NULL);
	assert_non_null(t);
	assert_string_equal(t, want);
	free(t);
	snprintf(want, sizeof(want),
		 "#!/bin/sh\n"
		 "# merge the cells of vmlab sweep dup sweep once its array is done\n"
		 "#SBATCH --job-name=vmlab-dup_sweep-collect\n"
		 "#SBATCH --ntasks=1\n"
		 "#SBATCH --output=%s/slurm/logs/collect-%%j.out\n"
		 "#SBATCH --partition=short\n"
		 "'/srv/it'\\''s/vmlab' sweep --collect '%s'\n",
		 real, real);
	t = au_read_all(j.collect, NULL);
	assert_non_null(t);
	assert_string_equal(t, want);
	free(t);
	snprintf(p, sizeof(p), "%s/slurm/tasks", real);
	t = au_read_all(p, NULL);
	assert_string_equal(t, "0\n1\n");
	free(t);
	snprintf(p, sizeof(p), "%s/slurm/logs", real);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);

	/* two cells per task: one task, no partition, a time limit */
	o = (struct vl_sweep_slurm){ .time = "10:00", .cells_per_task = 2, .vmlab = "/v" };
	if (vl_sweep_slurm_write(s, sd, &o, &j, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(j.tasks, 1);
	snprintf(p, sizeof(p), "%s/slurm/tasks", real);
	t = au_read_all(p, NULL);
	assert_string_equal(t, "0 1\n");
	free(t);
	t = au_read_all(j.script, NULL);
	assert_non_null(strstr(t, "#SBATCH --array=0-0\n#SBATCH --ntasks=1\n"));
	assert_non_null(strstr(t, "#SBATCH --time=10:00\nset -u\n"));
	assert_null(strstr(t, "--partition"));
	free(t);

	/* a partition of two words cannot go into an #SBATCH line */
	assert_false(vl_sweep_slurm_word_ok("a b"));
	assert_false(vl_sweep_slurm_word_ok("it's"));
	assert_true(vl_sweep_slurm_word_ok("gpu-short"));
	o.partition = "a b";
	assert_int_equal(vl_sweep_slurm_write(s, sd, &o, &j, &err), VL_EINVAL);
	vl_sweep_free(s);
}

/* ---- a local run, seen through the progress callback ---- */

struct seen {
	struct vl_sweep_progress ev[64];
	char msg[64][VL_ERRMSG_MAX];
	size_t n;
};

static void record(void *ctx, const struct vl_sweep_progress *p)
{
	struct seen *s = ctx;
	if (s->n == 64)
		return;
	s->ev[s->n] = *p;
	snprintf(s->msg[s->n], sizeof(s->msg[0]), "%s", p->msg ? p->msg : "");
	s->n++;
}

static void test_run_local(void **state)
{
	(void)state;
	struct seen *seen = calloc(1, sizeof(*seen));
	struct vl_sweep_local o = { .jobs = 2, .progress = record, .ctx = seen };
	struct vl_sweep_local_result r;
	struct vl_sweep *s = load("run", "[experiment]\nname = run\n"
					 "traces = good.addr, bad.addr\nformat = addr\n"
					 "[vary]\nreplacement.policy = fifo, lru\n");
	const char *rd = path_in("run");
	struct vl_error err = { 0 };
	if (vl_sweep_run_local(s, rd, &o, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.signal, 0);
	assert_int_equal(r.st.done, 2);
	assert_int_equal(r.st.failed, 2);
	assert_int_equal(r.st.missing, 0);
	assert_string_equal(r.st.written, "partial.h5");
	assert_true(vl_sweep_cell_done(s, rd, 0) && vl_sweep_cell_done(s, rd, 1));
	assert_false(vl_sweep_cell_done(s, rd, 2) || vl_sweep_cell_done(s, rd, 3));

	/* START first; one CELL_FAILED per bad cell with its stored error; a
	 * PROGRESS after each failure and at the end */
	assert_true(seen->n >= 4);
	assert_int_equal(seen->ev[0].event, VL_SWEEP_EV_START);
	assert_int_equal(seen->ev[0].cells, 4);
	assert_int_equal(seen->ev[0].done, 0);
	assert_int_equal(seen->ev[0].todo, 4);
	assert_int_equal(seen->ev[0].jobs, 2);
	size_t failed = 0;
	bool cell_failed[4] = { false };
	for (size_t i = 1; i < seen->n; i++) {
		const struct vl_sweep_progress *p = &seen->ev[i];
		assert_true(p->event == VL_SWEEP_EV_PROGRESS || p->event == VL_SWEEP_EV_CELL_FAILED);
		if (p->event != VL_SWEEP_EV_CELL_FAILED)
			continue;
		failed++;
		assert_true(p->cell == 2 || p->cell == 3);
		cell_failed[p->cell] = true;
		assert_non_null(strstr(seen->msg[i], "bad.addr line 3: "));
		char *stored = vl_sweep_cell_error(s, rd, p->cell);
		assert_string_equal(seen->msg[i], stored);
		free(stored);
		assert_int_equal(seen->ev[i + 1].event, VL_SWEEP_EV_PROGRESS);
	}
	assert_int_equal(failed, 2);
	assert_true(cell_failed[2] && cell_failed[3]);
	const struct vl_sweep_progress *last = &seen->ev[seen->n - 1];
	assert_int_equal(last->event, VL_SWEEP_EV_PROGRESS);
	assert_int_equal(last->done, 2);
	assert_int_equal(last->failed, 2);
	assert_int_equal(last->running, 0);
	assert_true(last->eta_s == 0.0);

	/* again: the two complete cells are skipped, the failed ones re-run */
	memset(seen, 0, sizeof(*seen));
	if (vl_sweep_run_local(s, rd, &o, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(seen->ev[0].done, 2);
	assert_int_equal(seen->ev[0].todo, 2);
	assert_int_equal(r.st.done, 2);

	/* the directory is locked while a sweep runs in it */
	char lock[PATH_MAX + 8];
	snprintf(lock, sizeof(lock), "%s/.lock", rd);
	int fd = open(lock, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(vl_sweep_run_local(s, rd, &o, &r, &err), VL_EIO);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "%s: another sweep is running in this directory", lock);
	assert_string_equal(err.msg, want);
	close(fd);
	free(seen);
	vl_sweep_free(s);
}

/* Every numeric cell of every table of run `cell` in results file a
 * equals the same in b, except the columns that time things (seconds,
 * rates): the number of tables compared is returned. */
static size_t same_results(const char *a, const char *b)
{
	struct vl_results *ra = NULL, *rb = NULL;
	struct vl_error err = { 0 };
	if (vl_results_open(&ra, a, &err) < 0 || vl_results_open(&rb, b, &err) < 0)
		fail_msg("%s", err.msg);
	char **names = NULL;
	size_t nn = 0, compared = 0;
	if (vl_results_names(ra, "/runs/cell", &names, &nn, &err) < 0)
		fail_msg("%s", err.msg);
	for (size_t k = 0; k < nn; k++) {
		char dset[256];
		snprintf(dset, sizeof(dset), "/runs/cell/%s", names[k]);
		struct vl_table ta = { .size = sizeof(ta) }, tb = { .size = sizeof(tb) };
		if (vl_results_table(ra, dset, &ta, &err) < 0)
			continue; /* a group, not a table */
		if (vl_results_table(rb, dset, &tb, &err) < 0)
			fail_msg("%s: %s", b, err.msg);
		assert_int_equal(ta.nrows, tb.nrows);
		assert_int_equal(ta.ncols, tb.ncols);
		for (size_t c = 0; c < ta.ncols; c++) {
			assert_string_equal(ta.names[c], tb.names[c]);
			if (strstr(ta.names[c], "seconds") || strstr(ta.names[c], "per_s"))
				continue;
			for (size_t r = 0; r < ta.nrows; r++) {
				size_t i = r * ta.ncols + c;
				if (ta.strs && ta.strs[i])
					continue;
				if (!(ta.v[i] == tb.v[i]))
					fail_msg("%s row %zu %s: %.17g one by one, %.17g together", dset, r,
						 ta.names[c], tb.v[i], ta.v[i]);
			}
		}
		compared++;
		vl_table_free(&ta);
		vl_table_free(&tb);
	}
	vl_results_names_free(names, nn);
	vl_results_close(ra);
	vl_results_close(rb);
	return compared;
}

/* Run every cell of s together in DIR/together (planned by load) on
 * `threads` threads, and each alone in DIR/alone (planned here); each
 * cell's results in both must agree table for table (same_results) in at
 * least min_tables tables.  Returns nothing: a difference fails the test. */
static void together_and_alone(const struct vl_sweep *s, const char *together, const char *alone,
			       unsigned threads, size_t min_tables)
{
	char da[PATH_MAX], db[PATH_MAX];
	snprintf(da, sizeof(da), "%s", path_in(together));
	snprintf(db, sizeof(db), "%s", path_in(alone));
	struct vl_error err = { 0 };
	if (vl_sweep_plan_write(s, db, &err) < 0)
		fail_msg("%s", err.msg);
	size_t *all = malloc(s->ncells * sizeof(*all));
	assert_non_null(all);
	for (size_t i = 0; i < s->ncells; i++)
		all[i] = i;
	if (vl_sweep_cells_run(s, da, all, s->ncells, threads, &err) < 0)
		fail_msg("%s", err.msg);
	free(all);
	for (size_t i = 0; i < s->ncells; i++)
		if (vl_sweep_cell_run(s, db, i, NULL, &err) < 0)
			fail_msg("%s", err.msg);
	for (size_t i = 0; i < s->ncells; i++) {
		assert_true(vl_sweep_cell_done(s, da, i));
		char *a = vl_sweep_cell_path(da, &s->cells[i], ".h5");
		char *b = vl_sweep_cell_path(db, &s->cells[i], ".h5");
		assert_true(same_results(a, b) >= min_tables);
		free(a);
		free(b);
	}
}

/* One decode, many configurations: the cells of one trace replayed
 * together (vl_sweep_cells_run: one decode, the engines fed from the same
 * batches on three threads) give the results of the same cells run one by
 * one (vl_sweep_cell_run, one replay each: the established path), table
 * for table, timeline rows included, for policies that hear every access,
 * learn from accessed bits, or need the future (opt: its pre-pass is
 * shared), with and without TLBs. */
static void test_cells_together(void **state)
{
	(void)state;
	/* a trace with a skewed reuse pattern (an LCG over 300 pages, half
	 * of the draws folded onto 40 of them), reads, writes and fetches */
	size_t cap = 20000 * 24, len = 0;
	char *text = malloc(cap);
	uint64_t x = 12345;
	for (int i = 0; i < 20000; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t page = (x >> 33) % 300;
		if ((x >> 20) & 1)
			page %= 40;
		const char *op = ((x >> 24) & 7) == 0 ? "W" : ((x >> 24) & 7) == 1 ? "I" : "R";
		len += (size_t)snprintf(text + len, cap - len, "%s 0x%llx\n", op,
					(unsigned long long)(0x400000 + page * 4096));
	}
	put(path_in("many.addr"), text);
	free(text);
	struct vl_sweep *s = load("together", "[experiment]\nname = together\n"
					      "traces = many.addr\nformat = addr\n"
					      "[vary]\nmachine = none, generic\n"
					      "replacement.policy = lru, clock, opt, arc\n"
					      "memory.frames = 16, 64\n"
					      "[set]\nstats.interval = 3000\n");
	assert_int_equal(s->ncells, 16);
	/* counters, per-process counters, timeline, TLB counters */
	together_and_alone(s, "together", "one-by-one", 3, 2);
	vl_sweep_free(s);
}

/* The same over a trace of several chunks (driver/multi.c decodes 128
 * batches of 8,192 records at a time for a sweep, 16 for a single run,
 * and reorders the engines costliest first after each chunk): 2,300,000
 * raw addresses, so three chunks of a sweep and eighteen of each run of
 * its own; cells of unequal cost (the smaller memory faults more) so
 * that the order changes. */
static void test_cells_together_chunks(void **state)
{
	(void)state;
	const size_t n = 2300000;
	uint64_t *addr = malloc(n * sizeof(*addr));
	assert_non_null(addr);
	uint64_t x = 777;
	for (size_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t page = (x >> 33) % 2000;
		if ((x >> 20) & 3)
			page %= 150;
		addr[i] = 0x400000 + page * 4096 + ((x >> 12) & 0xff8);
	}
	FILE *f = fopen(path_in("chunks.raw"), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(addr, sizeof(*addr), n, f), n);
	assert_int_equal(fclose(f), 0);
	free(addr);
	struct vl_sweep *s = load("chunks", "[experiment]\nname = chunks\n"
					    "traces = chunks.raw\nformat = raw\nmachine = none\n"
					    "[vary]\nreplacement.policy = lru, arc, clock\n"
					    "memory.frames = 100, 1000\n");
	assert_int_equal(s->ncells, 6);
	together_and_alone(s, "chunks", "chunks-one-by-one", 2, 1);
	struct vl_error err = { 0 };
	for (size_t i = 0; i < 6; i++) {
		char *a = vl_sweep_cell_path(path_in("chunks"), &s->cells[i], ".h5");
		/* every access counted: the last chunk was not lost */
		struct vl_results *r = NULL;
		struct vl_table t = { .size = sizeof(t) };
		if (vl_results_open(&r, a, &err) < 0 || vl_results_table(r, "/runs/cell/counters", &t, &err) < 0)
			fail_msg("%s", err.msg);
		bool found = false;
		for (size_t c = 0; c < t.ncols; c++)
			if (!strcmp(t.names[c], "accesses")) {
				assert_true(t.v[c] == (double)n);
				found = true;
			}
		assert_true(found);
		vl_table_free(&t);
		vl_results_close(r);
		free(a);
	}
	vl_sweep_free(s);
}

/* vl_hash_file: XXH64 of the bytes (computed here by the library's
 * one-shot call), the same on a second call once the file is old enough to
 * be remembered, and the new bytes' hash after the file is rewritten in
 * place with the same size (the remembered hash must not be returned). */
static void test_hash_file(void **state)
{
	(void)state;
	char a[4096], b[4096];
	for (size_t i = 0; i < sizeof(a); i++) {
		a[i] = (char)('a' + i % 26);
		b[i] = (char)('A' + i % 26);
	}
	const char *path = path_in("hashed.bin");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, a, sizeof(a)), (ssize_t)sizeof(a));
	struct vl_error err = { 0 };
	uint64_t h = 0;
	assert_int_equal(vl_hash_file(path, &h, &err), 0);
	assert_true(h == XXH64(a, sizeof(a), 0)); /* fresh: read */
	sleep(3);                                 /* old enough to be remembered */
	assert_int_equal(vl_hash_file(path, &h, &err), 0);
	assert_true(h == XXH64(a, sizeof(a), 0));
	assert_int_equal(vl_hash_file(path, &h, &err), 0);
	assert_true(h == XXH64(a, sizeof(a), 0));
	assert_int_equal(pwrite(fd, b, sizeof(b), 0), (ssize_t)sizeof(b)); /* same size */
	assert_int_equal(close(fd), 0);
	assert_int_equal(vl_hash_file(path, &h, &err), 0);
	assert_true(h == XXH64(b, sizeof(b), 0));
	assert_true(vl_hash_file(path_in("no-such-file"), &h, &err) == VL_ENOENT);
	assert_non_null(strstr(err.msg, "no-such-file"));
}

/* The directory every test works in, with its traces: one.addr and
 * two.addr hold the same bytes; bad.addr has a bad address on line 3. */
static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	put(path_in("one.addr"), "R 0x1000\nW 0x2000\nR 0x1000\n");
	put(path_in("two.addr"), "R 0x1000\nW 0x2000\nR 0x1000\n");
	put(path_in("good.addr"), "R 0x1000\nW 0x2000\nR 0x1000\nR 0x3000\n");
	put(path_in("bad.addr"), "R 0x1000\nR 0x2000\nR 0xZZZZ\n");
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_values_errors),
		cmocka_unit_test(test_plan_round_trip),
		cmocka_unit_test(test_plan_errors),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_slurm_scripts),
		cmocka_unit_test(test_run_local),
		cmocka_unit_test(test_cells_together),
		cmocka_unit_test(test_cells_together_chunks),
		cmocka_unit_test(test_hash_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
