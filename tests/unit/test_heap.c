/* tests/unit/test_heap.c - the engine's heap layer (sim/heap.c) with a
 * bump allocator defined here, so the layer is tested apart from the real
 * models: where accesses land, what the model commits, decommits and
 * releases through the personality, the heap counters, bad input.
 *
 * This file defines vl_heap_models[] itself (the bump model only): the
 * linker then takes it instead of sim/heap_models.c's list from the
 * static library, which defines nothing else.
 *
 * The bump model ("bump"): at create it reserves 1 MiB (B); a block below
 * 256 KiB goes at the next multiple of its alignment (16 by default) after
 * the last one, committing the pages up to its end; when no small block
 * is live any more it decommits everything it committed and starts again
 * at B.  A block of 256 KiB or more gets a reservation of its own (its
 * size rounded up to the granularity), committed up to its size rounded
 * to a page, and released when freed.  realloc grows the last small block
 * in place; otherwise it allocates anew and frees the old block.
 *
 * The expected values below are derived by hand from these rules and the
 * layer's documented placement (the first free range at or above
 * 0x200000000000 = 32 TiB, granularity-aligned): B = 0x200000000000.
 */
#include <stdbool.h>

#include "../testutil.h"
#include "sim/heap.h"

struct bump {
	const struct vl_heap_os *os;
	uint64_t base, off, committed_end, last;
	unsigned live;
	uint64_t big[16];
	unsigned nbig;
	unsigned frees_seen; /* free() calls the layer made */
};

static unsigned bump_destroyed;

static int bump_create(void **state, const struct vl_heap_os *os)
{
	struct bump *b = calloc(1, sizeof(*b));
	if (!b)
		return -1;
	b->os = os;
	if (os->reserve(os->ctx, 1 << 20, &b->base) < 0) {
		free(b);
		return -1;
	}
	b->last = UINT64_MAX;
	*state = b;
	return 0;
}

static void bump_destroy(void *state)
{
	bump_destroyed++;
	free(state);
}

static uint64_t up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static int bump_alloc(void *state, uint64_t size, uint64_t align, uint64_t *addr)
{
	struct bump *b = state;
	const struct vl_heap_os *os = b->os;
	if (size >= 256 * 1024) {
		uint64_t a;
		if (b->nbig == 16 || os->reserve(os->ctx, up(size, os->granularity), &a) < 0)
			return -1;
		if (os->commit(os->ctx, a, up(size, 4096)) < 0) {
			os->release(os->ctx, a);
			return -1;
		}
		b->big[b->nbig++] = a;
		*addr = a;
		return 0;
	}
	uint64_t a = up(b->off, align ? align : 16), end = a + size, need = up(end, 4096);
	if (need > (1 << 20))
		return -1;
	if (need > b->committed_end) {
		if (os->commit(os->ctx, b->base + b->committed_end, need - b->committed_end) < 0)
			return -1;
		b->committed_end = need;
	}
	b->off = end;
	b->live++;
	b->last = b->base + a;
	*addr = b->base + a;
	return 0;
}

static void bump_free(void *state, uint64_t addr)
{
	struct bump *b = state;
	b->frees_seen++;
	for (unsigned i = 0; i < b->nbig; i++)
		if (b->big[i] == addr) {
			b->os->release(b->os->ctx, addr);
			b->big[i] = b->big[--b->nbig];
			return;
		}
	if (--b->live == 0) {
		if (b->committed_end)
			b->os->decommit(b->os->ctx, b->base, b->committed_end);
		b->off = b->committed_end = 0;
		b->last = UINT64_MAX;
	}
}

static int bump_realloc(void *state, uint64_t addr, uint64_t size, uint64_t *new_addr)
{
	struct bump *b = state;
	if (addr == b->last && size < 256 * 1024) {
		uint64_t end = addr - b->base + size, need = up(end, 4096);
		if (need > (1 << 20))
			return -1;
		if (need > b->committed_end) {
			if (b->os->commit(b->os->ctx, b->base + b->committed_end, need - b->committed_end) < 0)
				return -1;
			b->committed_end = need;
		}
		b->off = end;
		*new_addr = addr;
		return 0;
	}
	if (bump_alloc(state, size, 0, new_addr) < 0)
		return -1;
	bump_free(state, addr);
	return 0;
}

static const struct vl_heap_model_ops bump_model = {
	.name = "bump",
	.summary = "test-only bump allocator",
	.create = bump_create,
	.destroy = bump_destroy,
	.alloc = bump_alloc,
	.free = bump_free,
	.realloc = bump_realloc,
};

/* A model whose create always fails (its OS refused it). */
static int fail_create(void **state, const struct vl_heap_os *os)
{
	(void)state;
	(void)os;
	return -1;
}

static const struct vl_heap_model_ops fail_model = {
	.name = "fail",
	.summary = "test-only model that cannot create its heap",
	.create = fail_create,
	.destroy = bump_destroy,
	.alloc = bump_alloc,
	.free = bump_free,
	.realloc = bump_realloc,
};

const struct vl_heap_model_ops *const vl_heap_models[] = { &bump_model, &fail_model, NULL };

/* Replay addr-format text through e, in batches of cap records. */
static void feed_text(struct vl_engine *e, const char *text, size_t cap)
{
	char path[] = "/tmp/vmlab-heap-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct vl_error err = { 0 };
	struct vl_trace *t;
	if (vl_trace_open(&t, path, "addr", &err) < 0)
		fail_msg("open: %s", err.msg);
	struct vl_batch b;
	assert_int_equal(vl_batch_init(&b, cap, &err), 0);
	ssize_t got;
	while ((got = vl_trace_read(t, &b, &err)) > 0)
		if (vl_engine_feed(e, &b, &err) < 0)
			fail_msg("feed: %s", err.msg);
	if (got < 0)
		fail_msg("read: %s", err.msg);
	vl_batch_free(&b);
	vl_trace_close(t);
	unlink(path);
}

/* The scenario of the file header.  B = 0x200000000000. */
static const char *const scenario =
	"V COMMIT 0x10000000 0x1000 readwrite\n" /* the process has VADs: strays are violations */
	/* 2, 3: B+0 (100 bytes, commits B's page 0), B+112 */
	"H ALLOC 0x5000000 100\n"
	"H ALLOC 0x5003000 100\n"
	"W 0x5000010\n"                          /* B+0x10: page 0, demand-zero fault 1 */
	"W 0x5003020\n"                          /* B+112+0x20: page 0 again, no fault */
	/* 6: B+224 (212 rounded to 16), 8000 bytes: commits pages 1, 2 (committed 3) */
	"H ALLOC 0x6000000 8000\n"
	"W 0x6001388\n"                          /* +5000 -> B+5224: page 1, fault 2 */
	"R 0x6001f3f\n"                          /* +7999 -> B+8223: page 2, fault 3 */
	/* 9: 300000 bytes: a reservation of its own, 5 x 64 KiB (windows) at
	 * B + 1 MiB, 74 pages committed: committed 77, the peak */
	"H ALLOC 0x7000000 300000\n"
	"W 0x70493df\n"                          /* +299999: fault 4 */
	"H FREE 0x7000000\n"                     /* released: committed 3 */
	"H FREE 0x5000000\n"
	"H FREE 0x5003000\n"
	"H FREE 0x6000000\n"                     /* no small block live: decommit 3 pages */
	"W 0x5000010\n"                          /* no live block: stays, no VAD: violation 1 */
	/* 14, 15: B+0 again (commits page 0), grown in place to 5000 bytes (page 1) */
	"H ALLOC 0x8000000 100\n"
	"H REALLOC 0x8000000 0x8000000 5000\n"
	"W 0x8001194\n"                          /* +4500 -> B+4500: page 1 (decommitted, new): fault 5 */
	"H ALLOC 0x9000000 16\n"                 /* B+5008 */
	/* 18: not the last block: moves to B+5024, 6000 bytes, commits page 2 */
	"H REALLOC 0x8000000 0xa000000 6000\n"
	"W 0xa00176f\n"                          /* +5999 -> B+11023: page 2, fault 6 */
	"R 0x8000000\n";                         /* the old address: violation 2 */

static void check_bump(const char *os)
{
	char set[64];
	snprintf(set, sizeof(set), "os.personality=%s", os);
	for (size_t cap = 3; cap <= 4096; cap = cap == 3 ? 4096 : 8192) {
		bump_destroyed = 0;
		struct vl_engine *e = tu_engine("heap.model=bump", set, "run.check=on", NULL);
		feed_text(e, scenario, cap);
		assert_int_equal(tu_counter(e, "heap_allocs"), 6);
		assert_int_equal(tu_counter(e, "heap_frees"), 4);
		assert_int_equal(tu_counter(e, "heap_bytes_peak"), 100 + 100 + 8000 + 300000);
		assert_int_equal(tu_counter(e, "heap_committed_peak"), 77);
		assert_int_equal(tu_counter(e, "heap_decommits"), 1);
		assert_int_equal(tu_counter(e, "heap_releases"), 1);
		assert_int_equal(tu_counter(e, "heap_errors"), 0);
		assert_int_equal(tu_counter(e, "faults"), 6);
		assert_int_equal(tu_counter(e, "faults_demand_zero"), 6);
		assert_int_equal(tu_counter(e, "access_violations"), 2);
		/* heap events are not address-space events: only the V COMMIT */
		assert_int_equal(tu_counter(e, "events"), 1);
		struct vl_proc_counters pc = { .size = sizeof(pc) };
		assert_int_equal(vl_engine_proc_counters(e, 0, &pc), 0);
		assert_int_equal(pc.heap_allocs, 6);
		assert_int_equal(pc.heap_committed_peak, 77);
		assert_int_equal(pc.heap_releases, 1);
		assert_null(vl_engine_warning(e));
		vl_engine_free(e);
		assert_int_equal(bump_destroyed, 1);
	}
}

static void test_bump_windows(void **state)
{
	(void)state;
	check_bump("windows");
}

static void test_bump_linux(void **state)
{
	(void)state;
	check_bump("linux");
}

/* The same trace under captured: addresses as recorded, so every access
 * is a violation (no VAD there); the heap's pages are those the live
 * blocks touch: at the peak 0x5000, 0x5003, 0x6000-0x6001 and
 * 0x7000-0x7049 (74 pages), 78 in all. */
static void test_captured(void **state)
{
	(void)state;
	struct vl_engine *e = tu_engine("os.personality=windows", NULL);
	feed_text(e, scenario, 4096);
	assert_int_equal(tu_counter(e, "heap_allocs"), 6);
	assert_int_equal(tu_counter(e, "heap_frees"), 4);
	assert_int_equal(tu_counter(e, "heap_bytes_peak"), 308200);
	assert_int_equal(tu_counter(e, "heap_committed_peak"), 78);
	assert_int_equal(tu_counter(e, "heap_decommits"), 0);
	assert_int_equal(tu_counter(e, "heap_releases"), 0);
	assert_int_equal(tu_counter(e, "faults"), 0);
	assert_int_equal(tu_counter(e, "access_violations"), 9);
	vl_engine_free(e);
}

/* Bad input under the model: counted, one warning, the replay goes on.
 *   ALLOC 0x5000000 100            B+0
 *   FREE 0x5000000, FREE again      double free: error 1
 *   FREE 0x1234                     never allocated: error 2
 *   REALLOC 0x4444 0x6000000 64     unknown: error 3, taken as an ALLOC (B+0,
 *                                   the bump heap started again after the free)
 *   ALLOC 0x6000020 32              overlaps it: error 4, the old block is
 *                                   dropped (the model frees it) and this one
 *                                   placed at B+0 once more
 *   W 0x6000020                     -> B+0: fault 1 (page 0 recommitted)
 *   W 0x6000000                     no live block there any more: violation
 * allocs: the ALLOC, the REALLOC taken as one, the last ALLOC = 3; frees 1. */
static void test_bad_input(void **state)
{
	(void)state;
	struct vl_engine *e = tu_engine("heap.model=bump", "os.personality=windows", NULL);
	feed_text(e,
		  "V COMMIT 0x10000000 0x1000 readwrite\n"
		  "H ALLOC 0x5000000 100\n"
		  "H FREE 0x5000000\n"
		  "H FREE 0x5000000\n"
		  "H FREE 0x1234\n"
		  "H REALLOC 0x4444 0x6000000 64\n"
		  "H ALLOC 0x6000020 32\n"
		  "W 0x6000020\n"
		  "W 0x6000000\n",
		  4096);
	assert_int_equal(tu_counter(e, "heap_errors"), 4);
	assert_int_equal(tu_counter(e, "heap_allocs"), 3);
	assert_int_equal(tu_counter(e, "heap_frees"), 1);
	assert_int_equal(tu_counter(e, "faults"), 1);
	assert_int_equal(tu_counter(e, "access_violations"), 1);
	struct vl_proc_counters pc = { .size = sizeof(pc) };
	assert_int_equal(vl_engine_proc_counters(e, 0, &pc), 0);
	assert_int_equal(pc.heap_errors, 4);
	const char *w = vl_engine_warning(e);
	assert_non_null(w);
	assert_null(strchr(w, '\n')); /* one line */
	assert_non_null(strstr(w, "heap_errors"));
	assert_non_null(strstr(w, "0x5000000"));
	vl_engine_free(e);
}

/* An unknown model: a clear error listing the choices. */
static void test_unknown_model(void **state)
{
	(void)state;
	struct vl_error err = { 0 };
	struct vl_config *cfg;
	assert_int_equal(vl_config_new(&cfg, &err), 0);
	assert_int_equal(vl_config_set_arg(cfg, "heap.model=nope", &err), 0);
	struct vl_engine *e = NULL;
	assert_int_equal(vl_engine_new(&e, cfg, &err), VL_EINVAL);
	assert_non_null(strstr(err.msg, "'nope'"));
	assert_non_null(strstr(err.msg, "captured, bump"));
	vl_config_free(cfg);
}

/* EXIT: the process's heap goes (the model is destroyed), and the pid
 * starts anew without live blocks: a FREE of an old block is an error. */
static void test_exit(void **state)
{
	(void)state;
	bump_destroyed = 0;
	struct vl_engine *e = tu_engine("heap.model=bump", NULL);
	feed_text(e,
		  "H ALLOC 0x5000000 100\n"
		  "W 0x5000000\n"
		  "V EXIT\n"
		  "H FREE 0x5000000\n",
		  4096);
	assert_int_equal(bump_destroyed, 1);
	assert_int_equal(tu_counter(e, "heap_errors"), 1);
	/* two rows for pid 1: the exited process keeps its heap counters (its
	 * slot was given to the new one: they come from its compact record),
	 * the new one has the error and nothing else */
	assert_int_equal(vl_engine_nprocs(e), 2);
	struct vl_proc_counters c0 = { .size = sizeof(c0) }, c1 = { .size = sizeof(c1) };
	assert_int_equal(vl_engine_proc_counters(e, 0, &c0), 0);
	assert_int_equal(vl_engine_proc_counters(e, 1, &c1), 0);
	assert_int_equal(c0.heap_allocs, 1);
	assert_int_equal(c0.heap_bytes_peak, 100);
	assert_int_equal(c0.heap_errors, 0);
	assert_int_equal(c1.heap_allocs, 0);
	assert_int_equal(c1.heap_errors, 1);
	vl_engine_free(e);
	assert_int_equal(bump_destroyed, 2); /* the new process's heap too */
}

/* V FORK: the child inherits the parent's live blocks, so each process
 * frees its own copy without an error: 1 ALLOC, 2 FREEs, no error.  With
 * the model, the child's access to the inherited block goes where the
 * parent's model put it, in the child's copy of that memory (no
 * violation); the child's own model instance is a second bump heap. */
static void test_fork(void **state)
{
	(void)state;
	static const char *const text = "V COMMIT 0x10000000 0x1000 readwrite 1\n"
					"H ALLOC 0x5000000 100 1\n"
					"W 0x5000000 1\n"
					"V FORK 1 2\n"
					"W 0x5000008 2\n"
					"H FREE 0x5000000 2\n"
					"H FREE 0x5000000 1\n";
	for (int m = 0; m < 2; m++) {
		bump_destroyed = 0;
		struct vl_engine *e = m ? tu_engine("heap.model=bump", "os.personality=linux", NULL)
					: tu_engine("os.personality=linux", NULL);
		feed_text(e, text, 4096);
		assert_int_equal(tu_counter(e, "heap_allocs"), 1);
		assert_int_equal(tu_counter(e, "heap_frees"), 2);
		assert_int_equal(tu_counter(e, "heap_errors"), 0);
		if (m)
			assert_int_equal(tu_counter(e, "access_violations"), 0);
		struct vl_proc_counters pc = { .size = sizeof(pc) };
		assert_int_equal(vl_engine_proc_counters(e, 1, &pc), 0);
		assert_int_equal(pc.pid, 2);
		assert_int_equal(pc.heap_frees, 1);
		assert_int_equal(pc.heap_bytes_peak, 100); /* the inherited block */
		vl_engine_free(e);
		assert_int_equal(bump_destroyed, m ? 2 : 0);
	}
}

/* Two blocks sharing a 16-byte granule (the layer's granule table marks
 * it as shared and asks the page's list), found apart, and after one is
 * freed the other alone:
 *   ALLOC 0x5000000 8     -> B+0
 *   ALLOC 0x6000000 5000  -> B+16 .. B+5016 (commits pages 0 and 1)
 *   ALLOC 0x5000008 8     -> B+5024 (page 1)
 *   W 0x500000c           -> B+5028: page 1, fault 1
 *   W 0x5000004           -> B+4: page 0, fault 2 (were both moved to
 *                            one block, there would be one fault)
 *   FREE 0x5000000
 *   W 0x5000008           -> B+5024: page 1 again, no fault
 *   W 0x5000000           -> no live block: stays, no VAD: violation */
static void test_shared_granule(void **state)
{
	(void)state;
	struct vl_engine *e = tu_engine("heap.model=bump", "os.personality=windows", "run.check=on", NULL);
	feed_text(e,
		  "V COMMIT 0x10000000 0x1000 readwrite\n"
		  "H ALLOC 0x5000000 8\n"
		  "H ALLOC 0x6000000 5000\n"
		  "H ALLOC 0x5000008 8\n"
		  "W 0x500000c\n"
		  "W 0x5000004\n"
		  "H FREE 0x5000000\n"
		  "W 0x5000008\n"
		  "W 0x5000000\n",
		  4096);
	assert_int_equal(tu_counter(e, "faults"), 2);
	assert_int_equal(tu_counter(e, "access_violations"), 1);
	assert_int_equal(tu_counter(e, "heap_errors"), 0);
	vl_engine_free(e);
}

/* A model that cannot create its heap: one error for the process, whose
 * blocks then stay where they were captured (the access is not moved:
 * a violation, no VAD there); the counters go on; nothing is destroyed. */
static void test_create_fails(void **state)
{
	(void)state;
	bump_destroyed = 0;
	struct vl_engine *e = tu_engine("heap.model=fail", NULL);
	feed_text(e,
		  "V COMMIT 0x10000000 0x1000 readwrite\n"
		  "H ALLOC 0x5000000 100\n"
		  "W 0x5000000\n"
		  "H FREE 0x5000000\n",
		  4096);
	assert_int_equal(tu_counter(e, "heap_errors"), 1);
	assert_int_equal(tu_counter(e, "heap_allocs"), 1);
	assert_int_equal(tu_counter(e, "heap_frees"), 1);
	assert_int_equal(tu_counter(e, "access_violations"), 1);
	assert_non_null(strstr(vl_engine_warning(e), "could not create"));
	vl_engine_free(e);
	assert_int_equal(bump_destroyed, 0);
}

/* A model with a policy that needs the future (opt): an error at the
 * first batch, saying why, not a replay on wrong next-use times. */
static void test_opt_refused(void **state)
{
	(void)state;
	struct vl_engine *e = tu_engine("heap.model=bump", "replacement.policy=opt", NULL);
	assert_true(vl_engine_needs_future(e));
	static const uint64_t next[1] = { VL_NEVER };
	vl_engine_set_future(e, next, 1);
	struct vl_rec r = { .addr = 0x1000, .pid = 1, .op = VL_OP_READ };
	struct vl_batch b = { .recs = &r, .n = 1, .cap = 1 };
	struct vl_error err = { 0 };
	assert_int_equal(vl_engine_feed(e, &b, &err), VL_EINVAL);
	assert_non_null(strstr(err.msg, "opt"));
	vl_engine_set_future(e, NULL, 0);
	vl_engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bump_windows), cmocka_unit_test(test_bump_linux),
		cmocka_unit_test(test_captured),     cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_unknown_model), cmocka_unit_test(test_exit),
		cmocka_unit_test(test_fork),         cmocka_unit_test(test_opt_refused),
		cmocka_unit_test(test_shared_granule), cmocka_unit_test(test_create_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
