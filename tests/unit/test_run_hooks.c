/* tests/unit/test_run_hooks.c - the start and end hooks of vl_run_opts
 * (on_start, on_end) in vl_run_multi and vl_run_ex.
 *
 * A raw trace of 2,300,000 addresses (three chunks of a multi-engine
 * replay: 128 batches of 8,192 records each) is replayed into four engines
 * at once on two threads, with a timeline every 100,000 accesses.
 * Expected, for every engine: on_start once, before anything was fed (its
 * access counter 0); on_end once, after all of it was fed (accesses =
 * records = 2,300,000) and after its last timeline row (23 rows, none
 * after on_end), with the final statistics; hooks and observers never two
 * at a time; counters equal to a run of the same engine alone without
 * hooks.  An on_start that fails leaves its engine unfed (accesses 0), its
 * code and message in rcs[i] and errs[i], and no on_end, while the others
 * complete; an on_end that fails is the engine's result.  An empty trace
 * still gets one on_start and one on_end per engine.
 */
#include "tests/testutil.h"
#include "vmlab/run.h"

#define N 2300000
#define IVAL 100000
#define NE 4

static char trace_path[64];

static void write_trace(void)
{
	snprintf(trace_path, sizeof(trace_path), "/tmp/vmlab-hooks-XXXXXX");
	int fd = mkstemp(trace_path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "wb");
	assert_non_null(f);
	uint64_t x = 99;
	for (size_t i = 0; i < N; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t page = (x >> 33) % 3000;
		if ((x >> 20) & 3)
			page %= 200;
		uint64_t a = 0x400000 + page * 4096;
		assert_int_equal(fwrite(&a, sizeof(a), 1, f), 1);
	}
	assert_int_equal(fclose(f), 0);
}

struct probe {
	int starts, ends, rows, rows_after_end;
	uint64_t accesses_at_start, accesses_at_end, records_at_end;
	int fail_start, fail_end; /* return an error from that hook */
};

static int busy; /* set while a hook or observer runs: two at once fail */

static void enter(void)
{
	assert_int_equal(__atomic_exchange_n(&busy, 1, __ATOMIC_ACQ_REL), 0);
}

static void leave(void)
{
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

static int on_start(void *ctx, struct vl_engine *e, struct vl_error *err)
{
	struct probe *p = ctx;
	enter();
	p->starts++;
	p->accesses_at_start = vl_engine_counters(e)->accesses;
	leave();
	if (p->fail_start)
		return vl_err(err, VL_EIO, "cannot start this one");
	return 0;
}

static int on_row(void *ctx, struct vl_engine *e, uint64_t done, struct vl_error *err)
{
	(void)e;
	(void)done;
	(void)err;
	struct probe *p = ctx;
	enter();
	p->rows++;
	if (p->ends)
		p->rows_after_end++;
	leave();
	return 0;
}

static int on_end(void *ctx, struct vl_engine *e, const struct vl_run_stats *st,
		  struct vl_error *err)
{
	struct probe *p = ctx;
	enter();
	p->ends++;
	p->accesses_at_end = vl_engine_counters(e)->accesses;
	p->records_at_end = st->records;
	leave();
	if (p->fail_end)
		return vl_err(err, VL_EIO, "cannot end this one");
	return 0;
}

static struct vl_engine *engine(size_t i)
{
	static const char *frames[NE] = { "memory.frames=50", "memory.frames=120",
					  "memory.frames=400", "memory.frames=2500" };
	static const char *policy[NE] = { "replacement.policy=lru", "replacement.policy=clock",
					  "replacement.policy=arc", "replacement.policy=fifo" };
	return tu_engine_on(NULL, (const char *const[]){ frames[i], policy[i],
							    "stats.interval=100000", NULL });
}

/* NE engines, their hooks' probes and what vl_run_multi returns for them */
struct rig {
	struct vl_engine *es[NE];
	struct probe p[NE];
	int rcs[NE];
	struct vl_error errs[NE];
	struct vl_run_stats st[NE];
};

static void rig_init(struct rig *g)
{
	memset(g, 0, sizeof(*g));
	for (size_t i = 0; i < NE; i++)
		g->es[i] = engine(i);
}

static void rig_free(struct rig *g)
{
	for (size_t i = 0; i < NE; i++)
		vl_engine_free(g->es[i]);
}

/* Replay path into the rig's engines with hooks whose probes are g->p;
 * returns vl_run_multi's result, g->rcs and g->errs filled. */
static int replay(const char *path, struct rig *g)
{
	struct vl_run_opts o[NE];
	const struct vl_run_opts *op[NE];
	struct vl_run_stats *sp[NE];
	for (size_t i = 0; i < NE; i++) {
		o[i] = (struct vl_run_opts){ .size = sizeof(o[i]), .on_interval = on_row,
					     .interval_ctx = &g->p[i], .on_start = on_start,
					     .on_end = on_end, .hook_ctx = &g->p[i] };
		op[i] = &o[i];
		g->st[i] = (struct vl_run_stats){ .size = sizeof(g->st[i]) };
		sp[i] = &g->st[i];
	}
	struct vl_trace *t;
	struct vl_error err = { 0 };
	assert_int_equal(vl_trace_open(&t, path, "raw", &err), 0);
	int rc = vl_run_multi(g->es, NE, t, 2, op, sp, g->rcs, g->errs, &err);
	vl_trace_close(t);
	return rc;
}

static void test_hooks_multi(void **state)
{
	(void)state;
	struct rig g;
	rig_init(&g);
	assert_int_equal(replay(trace_path, &g), 0);
	for (size_t i = 0; i < NE; i++) {
		const struct probe *p = &g.p[i];
		assert_int_equal(g.rcs[i], 0);
		assert_int_equal(p->starts, 1);
		assert_int_equal(p->accesses_at_start, 0);
		assert_int_equal(p->ends, 1);
		assert_int_equal(p->accesses_at_end, N);
		assert_int_equal(p->records_at_end, N);
		assert_int_equal(p->rows, (N + IVAL - 1) / IVAL);
		assert_int_equal(p->rows_after_end, 0);
		assert_int_equal(g.st[i].records, N);
		/* the same engine alone, without hooks or observers */
		struct vl_engine *alone = engine(i);
		struct vl_trace *t;
		struct vl_error err = { 0 };
		assert_int_equal(vl_trace_open(&t, trace_path, "raw", &err), 0);
		assert_int_equal(vl_run(alone, t, NULL, NULL, NULL, &err), 0);
		vl_trace_close(t);
		const struct vl_counters *a = vl_engine_counters(alone), *b = vl_engine_counters(g.es[i]);
		assert_int_equal(a->accesses, b->accesses);
		assert_int_equal(a->faults, b->faults);
		assert_int_equal(a->evictions, b->evictions);
		assert_int_equal(a->writebacks, b->writebacks);
		assert_true(b->faults > 0);
		vl_engine_free(alone);
	}
	rig_free(&g);
}

static void test_hooks_fail(void **state)
{
	(void)state;
	struct rig g;
	rig_init(&g);
	g.p[1].fail_start = 1;
	g.p[2].fail_end = 1;
	assert_true(replay(trace_path, &g) < 0);
	assert_int_equal(g.rcs[1], VL_EIO);
	assert_string_equal(g.errs[1].msg, "cannot start this one");
	assert_int_equal(g.p[1].starts, 1);
	assert_int_equal(g.p[1].ends, 0);
	assert_int_equal(g.p[1].rows, 0);
	assert_int_equal(vl_engine_counters(g.es[1])->accesses, 0);
	assert_int_equal(g.rcs[2], VL_EIO);
	assert_string_equal(g.errs[2].msg, "cannot end this one");
	assert_int_equal(g.p[2].ends, 1);
	assert_int_equal(g.p[2].accesses_at_end, N);
	for (size_t i = 0; i < NE; i += 3) { /* 0 and 3 complete */
		assert_int_equal(g.rcs[i], 0);
		assert_int_equal(g.p[i].ends, 1);
		assert_int_equal(vl_engine_counters(g.es[i])->accesses, N);
	}
	rig_free(&g);
}

static void test_hooks_empty(void **state)
{
	(void)state;
	char path[] = "/tmp/vmlab-hooks-empty-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct rig g;
	rig_init(&g);
	assert_int_equal(replay(path, &g), 0);
	for (size_t i = 0; i < NE; i++) {
		assert_int_equal(g.p[i].starts, 1);
		assert_int_equal(g.p[i].ends, 1);
		assert_int_equal(g.p[i].records_at_end, 0);
	}
	rig_free(&g);
	unlink(path);
}

/* vl_run_ex: one engine, the same hooks */
static void test_hooks_run_ex(void **state)
{
	(void)state;
	struct probe p = { 0 };
	struct vl_engine *e = engine(0);
	struct vl_run_opts o = { .size = sizeof(o), .on_interval = on_row, .interval_ctx = &p,
				 .on_start = on_start, .on_end = on_end, .hook_ctx = &p };
	struct vl_run_stats st = { .size = sizeof(st) };
	struct vl_trace *t;
	struct vl_error err = { 0 };
	assert_int_equal(vl_trace_open(&t, trace_path, "raw", &err), 0);
	assert_int_equal(vl_run_ex(e, t, &o, &st, &err), 0);
	vl_trace_close(t);
	assert_int_equal(p.starts, 1);
	assert_int_equal(p.accesses_at_start, 0);
	assert_int_equal(p.ends, 1);
	assert_int_equal(p.records_at_end, N);
	assert_int_equal(p.rows, (N + IVAL - 1) / IVAL);
	assert_int_equal(p.rows_after_end, 0);
	vl_engine_free(e);
}

static int setup(void **state)
{
	(void)state;
	write_trace();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(trace_path);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hooks_multi),
		cmocka_unit_test(test_hooks_fail),
		cmocka_unit_test(test_hooks_empty),
		cmocka_unit_test(test_hooks_run_ex),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
