/* tests/unit/test_lookahead.c - struct vl_lookahead (policy.h): which
 * frames a scan announces through vl_repl_prefetch, against hand-derived
 * sequences.
 *
 * A fake engine records every announced frame.  Expected:
 *   - a scan that takes all 40 frames of a list from its tail (evicting
 *     each) announces each frame exactly once, in tail order, frame i by
 *     the time it is taken and never more than VL_REPL_PREFETCH_AHEAD
 *     frames ahead of the tail;
 *   - when the frame it would announce next leaves the list, it starts
 *     again from the tail;
 *   - a clock over a list shorter than the distance (frames move from the
 *     tail to the head) announces at most twice per step on average;
 *   - the flist form announces like the mlist one.
 */
#include "tests/testutil.h"

#define NF 40
#define AHEAD VL_REPL_PREFETCH_AHEAD

static uint32_t seen[4096];
static size_t nseen;

static void rec(void *ctx, uint32_t f)
{
	(void)ctx;
	assert_true(nseen < 4096);
	seen[nseen++] = f;
}

static const struct vl_mm_services fake = { .prefetch = rec };

static struct vl_repl repl(void)
{
	nseen = 0;
	return (struct vl_repl){ .nframes = NF, .mm = &fake };
}

/* frames 0..n-1 pushed at the head of list 0 in order: the tail is 0, and
 * the scan from the tail meets 0, 1, 2, ... */
static void fill(struct vl_mlist *l, uint32_t n)
{
	assert_int_equal(vl_mlist_init(l, NF, 2), 0);
	for (uint32_t f = 0; f < n; f++)
		vl_mlist_push_head(l, 0, f);
}

static void test_scan_evicts(void **state)
{
	(void)state;
	struct vl_repl r = repl();
	struct vl_mlist l;
	fill(&l, NF);
	struct vl_lookahead a = VL_LOOKAHEAD_INIT;
	for (uint32_t i = 0; i < NF; i++) {
		uint32_t f = l.tail[0];
		assert_int_equal(f, i);
		vl_lookahead_mlist(&r, &a, &l, 0);
		/* i announced by now, and nothing beyond i + AHEAD - 1 */
		assert_true(nseen >= i + 1);
		assert_int_equal(nseen, (i + AHEAD < NF ? i + AHEAD : NF));
		vl_mlist_del(&l, f);
	}
	assert_int_equal(nseen, NF);
	for (uint32_t i = 0; i < NF; i++)
		assert_int_equal(seen[i], i);
	vl_mlist_free(&l);
}

static void test_restart(void **state)
{
	(void)state;
	struct vl_repl r = repl();
	struct vl_mlist l;
	fill(&l, NF);
	struct vl_lookahead a = VL_LOOKAHEAD_INIT;
	vl_lookahead_mlist(&r, &a, &l, 0); /* 0 .. AHEAD-1 */
	assert_int_equal(nseen, AHEAD);
	vl_mlist_del(&l, 0);
	/* the next one to announce (AHEAD) leaves the list (another list now) */
	vl_mlist_del(&l, AHEAD);
	vl_mlist_push_head(&l, 1, AHEAD);
	vl_lookahead_mlist(&r, &a, &l, 0);
	/* again from the tail (1): 1 .. AHEAD-1, AHEAD+1 (AHEAD frames) */
	assert_int_equal(nseen, 2 * AHEAD);
	assert_int_equal(seen[AHEAD], 1);
	assert_int_equal(seen[2 * AHEAD - 1], AHEAD + 1);
	/* a scan of another list starts there */
	vl_lookahead_mlist(&r, &a, &l, 1);
	assert_int_equal(nseen, 2 * AHEAD + 1);
	assert_int_equal(seen[2 * AHEAD], AHEAD);
	vl_mlist_free(&l);
}

static void test_short_clock(void **state)
{
	(void)state;
	struct vl_repl r = repl();
	struct vl_flist l;
	assert_int_equal(vl_flist_init(&l, NF), 0);
	const uint32_t n = 10, steps = 1000;
	for (uint32_t f = 0; f < n; f++)
		vl_flist_push_head(&l, f);
	struct vl_lookahead a = VL_LOOKAHEAD_INIT;
	for (uint32_t i = 0; i < steps; i++) {
		uint32_t f = l.tail;
		assert_int_equal(f, i % n);
		vl_lookahead_flist(&r, &a, &l);
		vl_flist_move_head(&l, f);
	}
	/* the first step announces the 10 frames from the tail */
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(seen[i], i);
	assert_true(nseen <= 2 * steps);
	assert_true(nseen >= steps / AHEAD * n);
	vl_flist_free(&l);
}

static void test_flist_evicts(void **state)
{
	(void)state;
	struct vl_repl r = repl();
	struct vl_flist l;
	assert_int_equal(vl_flist_init(&l, NF), 0);
	for (uint32_t f = 0; f < NF; f++)
		vl_flist_push_head(&l, f);
	struct vl_lookahead a = VL_LOOKAHEAD_INIT;
	for (uint32_t i = 0; i < NF; i++) {
		assert_int_equal(l.tail, i);
		vl_lookahead_flist(&r, &a, &l);
		assert_int_equal(nseen, (i + AHEAD < NF ? i + AHEAD : NF));
		vl_flist_del(&l, i);
	}
	for (uint32_t i = 0; i < NF; i++)
		assert_int_equal(seen[i], i);
	vl_flist_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_evicts),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_short_clock),
		cmocka_unit_test(test_flist_evicts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
