/* tests/unit/test_mrc.c - one-pass LRU miss-ratio curves (analysis/mrc.c).
 *
 * Expected numbers come from a second implementation written here: an
 * explicit LRU stack (an array kept in recency order, move-to-front), whose
 * position of the touched page is its stack distance; misses at C frames are
 * the accesses at depth > C plus first touches.  And from the textbook:
 * Belady's string under LRU faults 10 times with 3 frames and 8 with 4.
 */
#include <math.h>

#include "vmlab/mrc.h"
#include "tests/testutil.h"

/* Misses at every size 1..maxc by brute force; out[c] for c in 1..maxc. */
static void brute(const struct vl_rec *r, size_t n, uint64_t maxc, uint64_t *out)
{
	uint64_t *stack = malloc((n + 1) * sizeof(*stack)); /* keys, most recent first */
	uint64_t *depth_hist = calloc(n + 2, sizeof(*depth_hist));
	size_t len = 0;
	uint64_t cold = 0, total = 0;
	assert_non_null(stack);
	assert_non_null(depth_hist);
	for (size_t i = 0; i < n; i++) {
		if (r[i].op >= VL_OP_NACCESS)
			continue;
		int64_t hi = (int64_t)r[i].addr >> 47;
		if (hi != 0 && hi != -1)
			continue;
		total++;
		uint64_t key = ((uint64_t)r[i].pid << 36) ^ ((r[i].addr >> 12) & ((1ull << 36) - 1));
		size_t pos = 0;
		while (pos < len && stack[pos] != key)
			pos++;
		if (pos == len) {
			cold++;
			len++;
		} else {
			depth_hist[pos + 1]++;
		}
		memmove(stack + 1, stack, pos * sizeof(*stack));
		stack[0] = key;
	}
	for (uint64_t c = 1; c <= maxc; c++) {
		uint64_t hits = 0;
		for (uint64_t d = 1; d <= c && d <= n; d++)
			hits += depth_hist[d];
		out[c] = total - hits;
	}
	(void)cold;
	free(stack);
	free(depth_hist);
}

static struct vl_mrc *curve(const struct vl_rec *r, size_t n, double rate, const uint64_t *sizes,
			    size_t ns)
{
	struct vl_error err = { 0 };
	struct vl_mrc *m;
	struct vl_batch b;
	if (vl_mrc_new(&m, rate, sizes, ns, &err) < 0)
		fail_msg("mrc: %s", err.msg);
	assert_int_equal(vl_batch_init(&b, 1000, &err), 0);
	for (size_t i = 0; i < n;) {
		vl_batch_reset(&b);
		while (i < n && b.n < b.cap)
			b.recs[b.n++] = r[i++];
		assert_int_equal(vl_mrc_feed(m, &b, &err), 0);
	}
	vl_batch_free(&b);
	return m;
}

static struct vl_rec *gen(size_t n, uint64_t pages, uint32_t npids, uint64_t seed)
{
	struct vl_rec *r = malloc(n * sizeof(*r));
	assert_non_null(r);
	uint64_t s = seed;
	for (size_t i = 0; i < n; i++) {
		/* half the time near the previous page (locality), else anywhere */
		uint64_t page = vl_rand_below(&s, 4) ? vl_rand_below(&s, pages / 8 + 1)
						     : vl_rand_below(&s, pages);
		r[i] = (struct vl_rec){ .addr = 0x400000ull + (page << 12) + vl_rand_below(&s, 4096),
					.pid = 1 + (uint32_t)vl_rand_below(&s, npids),
					.op = (uint8_t)vl_rand_below(&s, 3) };
	}
	return r;
}

static void test_belady(void **state)
{
	static const int str[] = { 1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5 };
	struct vl_rec r[12];
	for (int i = 0; i < 12; i++)
		r[i] = (struct vl_rec){ .addr = (uint64_t)str[i] << 12, .pid = 1, .op = VL_OP_READ };
	uint64_t sizes[] = { 3, 4 };
	struct vl_mrc_point p[2];
	struct vl_error err = { 0 };
	struct vl_mrc *m = curve(r, 12, 1, sizes, 2);
	assert_int_equal(vl_mrc_result(m, sizes, 2, p, &err), 0);
	assert_int_equal(p[0].misses, 10);
	assert_int_equal(p[1].misses, 8);
	assert_true(fabs(p[1].miss_ratio - 8.0 / 12) < 1e-12);
	vl_mrc_free(m);
}

/* Every size, several processes, both modes (histogram and size buckets);
 * the footprint outgrows the initial slot and table capacity, so compaction
 * and rehashing run many times. */
static void test_against_brute_force(void **state)
{
	const size_t n = 60000;
	const uint64_t pages = 1500, maxc = 3 * 1500 + 10;
	struct vl_rec *r = gen(n, pages, 3, 11);
	uint64_t *want = calloc(maxc + 1, sizeof(*want));
	brute(r, n, maxc, want);
	struct vl_mrc *m = curve(r, n, 1, NULL, 0);
	uint64_t *all = malloc(maxc * sizeof(*all));
	struct vl_mrc_point *p = malloc(maxc * sizeof(*p));
	struct vl_error err = { 0 };
	for (uint64_t c = 1; c <= maxc; c++)
		all[c - 1] = c;
	assert_int_equal(vl_mrc_result(m, all, maxc, p, &err), 0);
	for (uint64_t c = 1; c <= maxc; c++)
		if (p[c - 1].misses != want[c])
			fail_msg("%llu frames: %llu misses, brute force %llu", (unsigned long long)c,
				 (unsigned long long)p[c - 1].misses, (unsigned long long)want[c]);
	assert_int_equal(vl_mrc_accesses(m), n);
	vl_mrc_free(m);

	uint64_t sizes[] = { 1, 2, 7, 64, 500, 1499, 1500, 4000, 4510 };
	size_t ns = sizeof(sizes) / sizeof(sizes[0]);
	m = curve(r, n, 1, sizes, ns);
	assert_int_equal(vl_mrc_result(m, sizes, ns, p, &err), 0);
	for (size_t i = 0; i < ns; i++)
		assert_int_equal(p[i].misses, want[sizes[i]]);
	uint64_t other = 3;
	assert_int_equal(vl_mrc_result(m, &other, 1, p, &err), VL_EINVAL);
	vl_mrc_free(m);
	free(all);
	free(p);
	free(want);
	free(r);
}

/* Events and non-canonical addresses are not accesses to a page, as in the
 * engine; the same page in two processes is two pages. */
static void test_skips_and_pids(void **state)
{
	struct vl_rec r[] = {
		{ .addr = 0x1000, .pid = 1, .op = VL_OP_READ },
		{ .addr = 0x1000, .pid = 2, .op = VL_OP_READ },
		{ .addr = 0, .pid = 1, .op = VL_OP_EVENT },
		{ .addr = 0x0000800000000000ull, .pid = 1, .op = VL_OP_READ }, /* non-canonical */
		{ .addr = 0x1ff8, .pid = 1, .op = VL_OP_WRITE },
	};
	uint64_t sizes[] = { 1, 2 };
	struct vl_mrc_point p[2];
	struct vl_error err = { 0 };
	struct vl_mrc *m = curve(r, 5, 1, sizes, 2);
	assert_int_equal(vl_mrc_accesses(m), 3);
	assert_int_equal(vl_mrc_pages(m), 2);
	assert_int_equal(vl_mrc_result(m, sizes, 2, p, &err), 0);
	assert_int_equal(p[0].misses, 3); /* distance 2 misses with 1 frame */
	assert_int_equal(p[1].misses, 2); /* two cold misses */
	vl_mrc_free(m);
}

/* SHARDS: rate 1 is the exact curve; rate 0.1 on a footprint of 200K pages
 * samples about a tenth of the references and stays close to exact. */
static void test_shards(void **state)
{
	const size_t n = 1500000;
	struct vl_rec *r = gen(n, 200000, 1, 5);
	uint64_t sizes[] = { 1000, 5000, 20000, 50000, 100000, 200000 };
	struct vl_mrc_point ex[6], s1[6], s10[6];
	struct vl_error err = { 0 };
	struct vl_mrc *m = curve(r, n, 1, sizes, 6);
	assert_int_equal(vl_mrc_result(m, sizes, 6, ex, &err), 0);
	vl_mrc_free(m);
	m = curve(r, n, 1.0, NULL, 0);
	assert_int_equal(vl_mrc_result(m, sizes, 6, s1, &err), 0);
	vl_mrc_free(m);
	m = curve(r, n, 0.1, sizes, 6);
	assert_int_equal(vl_mrc_result(m, sizes, 6, s10, &err), 0);
	double frac = (double)vl_mrc_sampled(m) / (double)vl_mrc_accesses(m);
	assert_true(frac > 0.08 && frac < 0.12);
	vl_mrc_free(m);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(s1[i].misses, ex[i].misses);
		if (fabs(s10[i].miss_ratio - ex[i].miss_ratio) > 0.02)
			fail_msg("%llu frames: shards %.4f exact %.4f", (unsigned long long)sizes[i],
				 s10[i].miss_ratio, ex[i].miss_ratio);
	}
	free(r);
	struct vl_mrc *bad;
	assert_int_equal(vl_mrc_new(&bad, 0, NULL, 0, &err), VL_EINVAL);
	assert_int_equal(vl_mrc_new(&bad, 1.5, NULL, 0, &err), VL_EINVAL);
	uint64_t down[] = { 5, 3 };
	assert_int_equal(vl_mrc_new(&bad, 1, down, 2, &err), VL_EINVAL);
}

static void test_sizes(void **state)
{
	struct vl_error err = { 0 };
	uint64_t *f;
	size_t n;
	assert_int_equal(vl_mrc_parse_sizes("50,300,64M", 16, &f, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(f[0], 50);
	assert_int_equal(f[1], 300);
	assert_int_equal(f[2], 16384);
	free(f);
	assert_int_equal(vl_mrc_parse_sizes("64M,300,300,8K", 16, &f, &n, &err), 0);
	assert_int_equal(n, 3); /* sorted, duplicates gone */
	assert_int_equal(f[0], 2);
	assert_int_equal(f[2], 16384);
	free(f);
	/* 64 frames to 1 GiB (262144 frames) in 5 log-spaced points: ratio 8 */
	assert_int_equal(vl_mrc_parse_sizes("64:1G", 5, &f, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_int_equal(f[0], 64);
	assert_int_equal(f[1], 512);
	assert_int_equal(f[2], 4096);
	assert_int_equal(f[3], 32768);
	assert_int_equal(f[4], 262144);
	free(f);
	const char *bad[] = { "", "0", "abc", "50,,60", "64:32", "1K", "10:20:30", "5,", "-3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		if (vl_mrc_parse_sizes(bad[i], 16, &f, &n, &err) != VL_EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_true(err.msg[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_belady),
		cmocka_unit_test(test_against_brute_force),
		cmocka_unit_test(test_skips_and_pids),
		cmocka_unit_test(test_shards),
		cmocka_unit_test(test_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
