/* tests/paper/test_textbook.c - worked examples from the literature and
 * small scenarios checked by hand.
 *
 * Belady's reference string 1 2 3 4 1 2 5 1 2 3 4 5 (Belady, Nelson and
 * Shedler, "An anomaly in space-time characteristics of certain programs
 * running in a paging machine", CACM 12(6), 1969; also Silberschatz,
 * Operating System Concepts, ch. 10): FIFO 9 faults with 3 frames and 10
 * with 4 (the anomaly); LRU 10 and 8; OPT 7 and 6.
 */
#include "tests/testutil.h"

static const unsigned belady[] = { 1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5 };

static uint64_t faults_on(const char *policy, unsigned frames, const unsigned *pages,
			  const char *ops, size_t n, uint64_t *writebacks)
{
	struct vl_rec recs[64];
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++)
		recs[i] = (struct vl_rec){ .addr = (uint64_t)pages[i] << 12, .pid = 1,
					   .op = ops && ops[i] == 'W' ? VL_OP_WRITE : VL_OP_READ };
	char fr[32], po[64];
	snprintf(fr, sizeof(fr), "memory.frames=%u", frames);
	snprintf(po, sizeof(po), "replacement.policy=%s", policy);
	struct vl_engine *e = tu_engine(fr, po, "run.check=on", NULL);
	uint64_t *future = NULL;
	if (vl_engine_needs_future(e)) {
		future = tu_future(recs, n);
		vl_engine_set_future(e, future, n);
	}
	tu_feed(e, recs, n);
	const struct vl_counters *c = vl_engine_counters(e);
	uint64_t f = c->faults;
	if (writebacks)
		*writebacks = c->writebacks;
	vl_engine_free(e);
	free(future);
	return f;
}

static void test_belady_fifo(void **state)
{
	(void)state;
	assert_int_equal(faults_on("fifo", 3, belady, NULL, 12, NULL), 9);
	assert_int_equal(faults_on("fifo", 4, belady, NULL, 12, NULL), 10);
}

static void test_belady_lru(void **state)
{
	(void)state;
	assert_int_equal(faults_on("lru", 3, belady, NULL, 12, NULL), 10);
	assert_int_equal(faults_on("lru", 4, belady, NULL, 12, NULL), 8);
}

static void test_belady_opt(void **state)
{
	(void)state;
	assert_int_equal(faults_on("opt", 3, belady, NULL, 12, NULL), 7);
	assert_int_equal(faults_on("opt", 4, belady, NULL, 12, NULL), 6);
}

/* S = 1 2 3 4 2 5 2 3 with 3 frames, by hand.
 * CLOCK (bit set on load): 4 sweeps all bits clear and evicts 1, hand at 2;
 * the hit on 2 sets its bit; 5 clears 2 and evicts 3; the hit on 2 sets it
 * again; 3 sweeps 4, 2, 5 and evicts 4: faults 1 2 3 4 5 3 = 6.
 * FIFO: 4 evicts 1, 5 evicts 2, 2 evicts 3, 3 evicts 4: 7 faults.
 * LRU: 4 evicts 1, 5 evicts 3, 3 evicts 4: 6 faults. */
static void test_clock_second_chance(void **state)
{
	(void)state;
	static const unsigned s[] = { 1, 2, 3, 4, 2, 5, 2, 3 };
	assert_int_equal(faults_on("clock", 3, s, NULL, 8, NULL), 6);
	assert_int_equal(faults_on("fifo", 3, s, NULL, 8, NULL), 7);
	assert_int_equal(faults_on("lru", 3, s, NULL, 8, NULL), 6);
}

/* Write-backs, FIFO, 3 frames: W1 R2 R3 R4 W2 R5 R1.
 * R4 evicts 1 (dirty: write-back 1); W2 hits and dirties 2; R5 evicts 2
 * (dirty: write-back 2); R1 evicts 3 (clean).  Faults 1 2 3 4 5 1 = 6;
 * page 1's second fault is the only hard one.  Page 4, 5, 1 stay resident
 * clean; nothing dirty is left, so no write is owed at the end either. */
static void test_writebacks_by_hand(void **state)
{
	(void)state;
	static const unsigned s[] = { 1, 2, 3, 4, 2, 5, 1 };
	uint64_t wb;
	assert_int_equal(faults_on("fifo", 3, s, "WRRRWRR", 7, &wb), 6);
	assert_int_equal(wb, 2);
	/* a dirty page still resident at the end is not written back */
	static const unsigned d[] = { 1, 2, 3 };
	assert_int_equal(faults_on("fifo", 3, d, "WWW", 3, &wb), 3);
	assert_int_equal(wb, 0);
}

/* The same page in two processes is two pages. */
static void test_processes_are_separate(void **state)
{
	(void)state;
	struct vl_rec recs[] = {
		{ .addr = 0x1000, .pid = 1, .op = VL_OP_READ },
		{ .addr = 0x1000, .pid = 2, .op = VL_OP_READ },
		{ .addr = 0x1000, .pid = 1, .op = VL_OP_READ },
		{ .addr = 0x1000, .pid = 2, .op = VL_OP_READ },
	};
	struct vl_engine *e = tu_engine("memory.frames=2", NULL);
	tu_feed(e, recs, 4);
	const struct vl_counters *c = vl_engine_counters(e);
	assert_int_equal(c->faults, 2);
	assert_int_equal(c->processes, 2);
	assert_int_equal(vl_engine_nprocs(e), 2);
	for (size_t i = 0; i < 2; i++) {
		struct vl_proc_counters pc = { .size = sizeof(pc) };
		assert_int_equal(vl_engine_proc_counters(e, i, &pc), 0);
		assert_int_equal(pc.pid, i + 1); /* numbered in order of appearance */
		assert_int_equal(pc.accesses, 2);
		assert_int_equal(pc.faults, 1);
		assert_int_equal(pc.resident_pages, 1);
	}
	struct vl_proc_counters none = { .size = sizeof(none) };
	assert_int_equal(vl_engine_proc_counters(e, 2, &none), VL_EINVAL);
	/* the caller's size is kept, and a size left unset is refused */
	struct vl_proc_counters sized = { .size = sizeof(sized) }, unset = { .size = 0 };
	assert_int_equal(vl_engine_proc_counters(e, 0, &sized), 0);
	assert_int_equal(sized.size, sizeof(sized));
	assert_int_equal(sized.pid, 1);
	assert_int_equal(vl_engine_proc_counters(e, 0, &unset), VL_EINVAL);
	vl_engine_free(e);
	/* with one frame they evict each other every time */
	e = tu_engine("memory.frames=1", NULL);
	tu_feed(e, recs, 4);
	assert_int_equal(vl_engine_counters(e)->faults, 4);
	assert_int_equal(vl_engine_counters(e)->faults_hard, 2);
	struct vl_proc_counters p1 = { .size = sizeof(p1) }, p2 = { .size = sizeof(p2) };
	vl_engine_proc_counters(e, 0, &p1);
	vl_engine_proc_counters(e, 1, &p2);
	/* pid 1 loses its page to pid 2 twice; pid 2 loses it once (the last
	 * access leaves pid 2 resident) */
	assert_int_equal(p1.evictions, 2);
	assert_int_equal(p2.evictions, 1);
	assert_int_equal(p1.faults_hard + p2.faults_hard, 2);
	struct vl_gauges g = { .size = sizeof(g) };
	vl_engine_gauges(e, &g);
	assert_int_equal(g.resident_pages, 1);
	assert_int_equal(g.free_frames, 0);
	vl_engine_free(e);
}

/* A non-canonical address (bits 63..47 not all equal) cannot be translated
 * on x86-64: counted as an access violation, nothing mapped. */
static void test_noncanonical(void **state)
{
	(void)state;
	struct vl_rec recs[] = {
		{ .addr = 0x0000800000000000ull, .pid = 1, .op = VL_OP_READ },
		{ .addr = 0xffff800000001000ull, .pid = 1, .op = VL_OP_READ }, /* canonical, high half */
	};
	struct vl_engine *e = tu_engine("memory.frames=4", NULL);
	tu_feed(e, recs, 2);
	const struct vl_counters *c = vl_engine_counters(e);
	assert_int_equal(c->access_violations, 1);
	assert_int_equal(c->faults, 1);
	assert_int_equal(c->accesses, 2);
	assert_int_equal(vl_engine_check(e, NULL), 0);
	vl_engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_belady_fifo),
		cmocka_unit_test(test_belady_lru),
		cmocka_unit_test(test_belady_opt),
		cmocka_unit_test(test_clock_second_chance),
		cmocka_unit_test(test_writebacks_by_hand),
		cmocka_unit_test(test_processes_are_separate),
		cmocka_unit_test(test_noncanonical),
	};
	return cmocka_run_group_tests_name("textbook", tests, NULL, NULL);
}
