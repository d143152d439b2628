/* tests/unit/test_pfn.c - the buddy allocator of the frame database
 * (sim/pfn.c).
 *
 * Expected block layouts come from an independent carving: walk [0, n)
 * from the bottom, taking at each frame the largest naturally aligned
 * block (at most 2^BUDDY_MAX_ORDER) that fits.  The randomized test keeps
 * its own bitmap of used frames and checks every answer against it.
 */
#include "sim/internal.h"
#include "tests/testutil.h"

static const uint32_t sizes[] = { 1, 7, 512, 1000, 4096, 262144 + 3 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

struct block {
	uint32_t f;
	unsigned order;
};

/* The maximal aligned blocks partition of [0, n), bottom-up.  Fills
 * count[o] and (if out) the blocks; returns how many. */
static size_t carve(uint32_t n, uint32_t count[BUDDY_MAX_ORDER + 1], struct block *out)
{
	size_t nb = 0;
	memset(count, 0, (BUDDY_MAX_ORDER + 1) * sizeof(count[0]));
	uint64_t f = 0;
	while (f < n) {
		unsigned o = BUDDY_MAX_ORDER;
		while ((f % (1ull << o)) != 0 || f + (1ull << o) > n)
			o--;
		count[o]++;
		if (out)
			out[nb] = (struct block){ (uint32_t)f, o };
		nb++;
		f += 1ull << o;
	}
	return nb;
}

static int cmp_block(const void *a, const void *b)
{
	const struct block *x = a, *y = b;
	return x->f < y->f ? -1 : x->f > y->f;
}

/* The free blocks the allocator holds, sorted by frame. */
static size_t free_blocks(const struct vl_pfndb *db, struct block *out, size_t max)
{
	size_t nb = 0;
	for (unsigned o = 0; o <= BUDDY_MAX_ORDER; o++)
		for (uint32_t f = db->head[o]; f != VL_NIL; f = db->pfn[f].flink) {
			assert_true(nb < max);
			out[nb++] = (struct block){ f, o };
		}
	qsort(out, nb, sizeof(*out), cmp_block);
	return nb;
}

static void check(const struct vl_pfndb *db)
{
	struct vl_error err = { 0 };
	if (pfn_check(db, &err) < 0)
		fail_msg("pfn_check: %s", err.msg);
}

/* The allocator's free blocks are exactly the initial carving of [0, n). */
static void assert_pristine(const struct vl_pfndb *db)
{
	uint32_t n = db->nframes;
	uint32_t count[BUDDY_MAX_ORDER + 1];
	size_t want_n = carve(n, count, NULL);
	struct block *want = malloc(want_n * sizeof(*want));
	struct block *got = malloc((want_n + 64) * sizeof(*got));
	assert_non_null(want);
	assert_non_null(got);
	carve(n, count, want);
	assert_int_equal(db->nfree, n);
	for (unsigned o = 0; o <= BUDDY_MAX_ORDER; o++)
		if (db->count[o] != count[o])
			fail_msg("n=%u: %u blocks of order %u, want %u", n, db->count[o], o, count[o]);
	size_t got_n = free_blocks(db, got, want_n + 64);
	assert_int_equal(got_n, want_n);
	for (size_t i = 0; i < want_n; i++) {
		if (got[i].f != want[i].f || got[i].order != want[i].order)
			fail_msg("n=%u: block %zu is %u/order %u, want %u/order %u", n, i, got[i].f,
				 got[i].order, want[i].f, want[i].order);
	}
	free(want);
	free(got);
	check(db);
}

static void init(struct vl_pfndb *db, uint32_t n)
{
	struct vl_error err = { 0 };
	if (pfn_init(db, n, 0, &err) < 0)
		fail_msg("pfn_init(%u): %s", n, err.msg);
}

/* ---- tests ---- */

static void test_carve_reference(void **state)
{
	(void)state;
	/* the reference carving itself, on hand-worked cases */
	uint32_t count[BUDDY_MAX_ORDER + 1];
	struct block b[8];
	assert_int_equal(carve(7, count, b), 3);
	assert_true(b[0].f == 0 && b[0].order == 2);
	assert_true(b[1].f == 4 && b[1].order == 1);
	assert_true(b[2].f == 6 && b[2].order == 0);
	/* 1000 = 512 + 256 + 128 + 64 + 32 + 8 */
	assert_int_equal(carve(1000, count, NULL), 6);
	assert_int_equal(count[9], 1);
	assert_int_equal(count[3], 1);
	assert_int_equal(count[0], 0);
	/* 2^18 + 3: one 1 GiB block, then 2 + 1 */
	assert_int_equal(carve(262144 + 3, count, b), 3);
	assert_int_equal(count[BUDDY_MAX_ORDER], 1);
	assert_true(b[1].f == 262144 && b[1].order == 1);
	/* the top order is capped: 2^19 frames are two order-18 blocks */
	assert_int_equal(carve(1u << 19, count, NULL), 2);
	assert_int_equal(count[BUDDY_MAX_ORDER], 2);
}

static void test_init(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSIZES; i++) {
		struct vl_pfndb db;
		init(&db, sizes[i]);
		assert_int_equal(db.nframes, sizes[i]);
		assert_int_equal(db.nfree, sizes[i]);
		assert_pristine(&db);
		pfn_fini(&db);
	}
	/* two top-order blocks */
	struct vl_pfndb db;
	init(&db, (1u << 19) + 5);
	assert_int_equal(db.count[BUDDY_MAX_ORDER], 2);
	assert_pristine(&db);
	pfn_fini(&db);
}

static void test_init_zero(void **state)
{
	(void)state;
	struct vl_pfndb db;
	struct vl_error err = { 0 };
	assert_true(pfn_init(&db, 0, 0, &err) < 0);
	assert_int_equal(err.code, VL_EINVAL);
	pfn_fini(&db); /* harmless after a failed init */
}

/* Extra frames (memory outside a cgroup's limit): handed out in order
 * after the buddy allocator's frames, each record fresh, none of them the
 * buddy allocator's, VL_NIL once all are used. */
static void test_extra(void **state)
{
	(void)state;
	struct vl_pfndb db;
	struct vl_error err = { 0 };
	if (pfn_init(&db, 100, 5, &err) < 0)
		fail_msg("pfn_init(100, 5): %s", err.msg);
	assert_int_equal(db.nfree, 100);
	for (uint32_t k = 0; k < 5; k++) {
		uint32_t f = pfn_alloc_extra(&db);
		assert_int_equal(f, 100 + k);
		assert_int_equal(db.pfn[f].loc, PFN_FREE);
		assert_int_equal(db.pfn[f].slot, VL_NIL);
		assert_int_equal(db.pfn[f].pte, VL_NIL);
		assert_int_equal(db.pfn[f].owner, VL_NIL);
		assert_int_equal(db.pfn[f].flink, VL_NIL);
		assert_int_equal(db.pfn[f].flags, 0);
	}
	assert_int_equal(pfn_alloc_extra(&db), VL_NIL);
	assert_int_equal(db.nfree, 100); /* the buddy allocator's frames untouched */
	for (uint32_t k = 0; k < 100; k++)
		assert_true(pfn_alloc(&db, 0) < 100);
	assert_int_equal(pfn_alloc(&db, 0), VL_NIL);
	pfn_fini(&db);
	/* no room for the extra frames in 32-bit frame numbers: refused */
	assert_true(pfn_init(&db, 100, VL_NIL - 100, &err) < 0);
	assert_int_equal(err.code, VL_EINVAL);
}

/* Take every frame as order 0, then give them back in random order. */
static void test_all_order0(void **state)
{
	(void)state;
	uint64_t seed = 42;
	for (size_t i = 0; i < NSIZES; i++) {
		uint32_t n = sizes[i];
		bool small = n <= 1000;
		struct vl_pfndb db;
		init(&db, n);
		uint8_t *used = calloc(n, 1);
		uint32_t *frames = malloc(n * sizeof(*frames));
		assert_non_null(used);
		assert_non_null(frames);
		for (uint32_t k = 0; k < n; k++) {
			uint32_t f = pfn_alloc(&db, 0);
			if (f == VL_NIL)
				fail_msg("n=%u: allocation %u of %u failed", n, k, n);
			assert_true(f < n);
			if (used[f])
				fail_msg("n=%u: frame %u handed out twice", n, f);
			used[f] = 1;
			frames[k] = f;
			assert_int_equal(db.pfn[f].loc, PFN_ACTIVE);
			assert_int_equal(db.nfree, n - k - 1);
			if (small)
				check(&db);
		}
		assert_int_equal(pfn_alloc(&db, 0), VL_NIL);
		assert_int_equal(pfn_alloc(&db, 9), VL_NIL);
		assert_int_equal(db.nfree, 0);
		check(&db);

		/* shuffle, free */
		for (uint32_t k = n; k > 1; k--) {
			uint32_t j = (uint32_t)vl_rand_below(&seed, k);
			uint32_t t = frames[k - 1];
			frames[k - 1] = frames[j];
			frames[j] = t;
		}
		for (uint32_t k = 0; k < n; k++) {
			pfn_free(&db, frames[k], 0);
			assert_int_equal(db.nfree, k + 1);
			if (small)
				check(&db);
		}
		/* everything coalesced back to the initial blocks */
		assert_pristine(&db);
		free(used);
		free(frames);
		pfn_fini(&db);
	}
}

static void test_order9(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSIZES; i++) {
		uint32_t n = sizes[i];
		struct vl_pfndb db;
		init(&db, n);
		uint32_t want = n / 512; /* whole aligned 2 MiB blocks in [0, n) */
		uint32_t got = 0;
		uint8_t *used = calloc(n / 512 + 1, 1);
		assert_non_null(used);
		for (;;) {
			uint32_t f = pfn_alloc(&db, 9);
			if (f == VL_NIL)
				break;
			if (f % 512 != 0)
				fail_msg("n=%u: order-9 block at %u is not 512-aligned", n, f);
			assert_true(f + 512 <= n);
			assert_false(used[f / 512]);
			used[f / 512] = 1;
			got++;
			assert_true(got <= want);
		}
		assert_int_equal(got, want);
		assert_int_equal(db.nfree, n - want * 512);
		check(&db);
		for (uint32_t b = 0; b < want; b++)
			pfn_free(&db, b * 512, 9);
		assert_pristine(&db);
		free(used);
		pfn_fini(&db);
	}
}

/* Every other frame free: half the memory, no two adjacent frames. */
static void test_fragmentation(void **state)
{
	(void)state;
	static const uint32_t ns[] = { 1024, 4096, 1000 };
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		uint32_t n = ns[i];
		struct vl_pfndb db;
		init(&db, n);
		for (uint32_t k = 0; k < n; k++)
			assert_int_not_equal(pfn_alloc(&db, 0), VL_NIL);
		for (uint32_t f = 0; f < n; f += 2)
			pfn_free(&db, f, 0);
		assert_int_equal(db.nfree, n / 2);
		check(&db);
		assert_int_equal(db.count[0], n / 2);
		assert_int_equal(pfn_alloc(&db, 9), VL_NIL);
		assert_int_equal(pfn_alloc(&db, 1), VL_NIL);
		assert_int_equal(db.nfree, n / 2); /* failed allocations take nothing */
		check(&db);
		/* order 0 still works, and gives an even frame */
		uint32_t f = pfn_alloc(&db, 0);
		assert_int_not_equal(f, VL_NIL);
		assert_int_equal(f % 2, 0);
		pfn_free(&db, f, 0);
		/* freeing the odd frames too brings the carving back */
		for (uint32_t g = 1; g < n; g += 2)
			pfn_free(&db, g, 0);
		assert_pristine(&db);
		pfn_fini(&db);
	}
}

/* Could the model place an aligned 2^order block? */
static bool model_fits(const uint8_t *used, uint32_t n, unsigned order)
{
	uint32_t size = 1u << order;
	for (uint32_t f = 0; f + size <= n; f += size) {
		uint32_t k = 0;
		while (k < size && !used[f + k])
			k++;
		if (k == size)
			return true;
	}
	return false;
}

static void randomized(uint32_t n, uint64_t seed, unsigned steps)
{
	struct vl_pfndb db;
	init(&db, n);
	uint8_t *used = calloc(n, 1);
	struct block *held = malloc(n * sizeof(*held));
	assert_non_null(used);
	assert_non_null(held);
	size_t nheld = 0;
	uint32_t nused = 0;
	unsigned fails = 0, allocs = 0;
	for (unsigned s = 0; s < steps; s++) {
		bool do_alloc = nheld == 0 || vl_rand_below(&seed, 100) < 55;
		if (do_alloc) {
			/* mostly small orders, sometimes large */
			unsigned r = (unsigned)vl_rand_below(&seed, 16);
			unsigned order = r < 8 ? 0 : r < 11 ? 1 : r < 13 ? 2 : (unsigned)vl_rand_below(&seed, 11);
			bool fits = model_fits(used, n, order);
			uint32_t f = pfn_alloc(&db, order);
			if (!fits) {
				if (f != VL_NIL)
					fail_msg("step %u: order %u allocated at %u but no aligned run is free",
						 s, order, f);
				fails++;
			} else {
				if (f == VL_NIL)
					fail_msg("step %u: order %u refused though an aligned run is free", s,
						 order);
				uint32_t size = 1u << order;
				if (f % size)
					fail_msg("step %u: order %u block at %u misaligned", s, order, f);
				assert_true((uint64_t)f + size <= n);
				for (uint32_t k = 0; k < size; k++) {
					if (used[f + k])
						fail_msg("step %u: block %u/order %u overlaps frame %u in use", s,
							 f, order, f + k);
					used[f + k] = 1;
				}
				nused += size;
				held[nheld++] = (struct block){ f, order };
				allocs++;
			}
		} else {
			size_t j = (size_t)vl_rand_below(&seed, nheld);
			struct block b = held[j];
			held[j] = held[--nheld];
			pfn_free(&db, b.f, b.order);
			for (uint32_t k = 0; k < (1u << b.order); k++)
				used[b.f + k] = 0;
			nused -= 1u << b.order;
		}
		assert_int_equal(db.nfree, n - nused);
		check(&db);
	}
	/* the sequence exercised both outcomes */
	assert_true(allocs > steps / 4);
	assert_true(fails > 0);
	while (nheld) {
		struct block b = held[--nheld];
		pfn_free(&db, b.f, b.order);
	}
	assert_pristine(&db);
	free(used);
	free(held);
	pfn_fini(&db);
}

static void test_randomized(void **state)
{
	(void)state;
	randomized(1000, 1, 4000);
	randomized(777, 2, 4000);
	randomized(64, 3, 2000);
	randomized(4096, 4, 3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_carve_reference),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_init_zero),
		cmocka_unit_test(test_extra),
		cmocka_unit_test(test_all_order0),
		cmocka_unit_test(test_order9),
		cmocka_unit_test(test_fragmentation),
		cmocka_unit_test(test_randomized),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
