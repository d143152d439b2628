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

/* Whether the sampler keeps page (pid 1, vpn): a curve at rate 0.5 fed
 * that one access samples it or not (found by asking, not by copying the
 * hash). */
static bool kept(uint64_t vpn)
{
	struct vl_rec r = { .addr = vpn << 12, .pid = 1, .op = VL_OP_READ };
	struct vl_mrc *m = curve(&r, 1, 0.5, NULL, 0);
	bool k = vl_mrc_sampled(m) == 1;
	vl_mrc_free(m);
	return k;
}

/* The root in (0, 1) of a x^3 + x - b = 0 (increasing in x), by halving:
 * the split estimator's x = exp(-T/N) below, found here independently of
 * the library's search for T. */
static double cubic_root(double a, double b)
{
	double lo = 0, hi = 1;
	for (int i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2;
		if (a * mid * mid * mid + mid - b < 0)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

/* The three SHARDS estimators on traces small enough to follow by hand.
 * Rate 0.5 (the threshold is exactly 2^23 of 2^24).  Pages A and B are
 * sampled, U1..U8 are not.  Sizes 2 and 4 frames: a sampled distance d
 * hits when d <= floor(frames * 0.5), i.e. d <= 1 and d <= 2.
 *
 * Shortfall: A B A B A B U1..U8, N = 14 accesses.  Sampled: S = 6 (A, B
 * three times each), expected E = 0.5 * 14 = 7, missing D = E - S = 1.
 * Sampled distances: A, B cold; then A, B, A, B at distance 2.  At 4
 * frames 4 hits, 2 sampled misses; at 2 frames 0 hits, 6 misses.
 *   fixed-rate  misses / S:  2/6, 6/6
 *   SHARDS_adj  misses / E:  2/7, 6/7   (the missing reference counted a hit)
 *   split       (misses + w D) / E with w = exp(-f T), f = D/N = 1/14 and
 *               T solving (1 - e^{-T/14})/0.5 + 2 (1 - e^{-3T/14})/0.5 = C
 *               (the missing page and A, B with 3 references each, each
 *               sampled page standing for 2); with x = e^{-T/14}:
 *               C = 4: 2x^3 + x - 1 = 0;  C = 2: 2x^3 + x - 2 = 0; w = x.
 *
 * Excess: A B A B A B U1, N = 7.  S = 6, E = 3.5, D = -2.5.
 *   fixed-rate  2/6, 6/6
 *   SHARDS_adj  2/3.5, 6/3.5 -> 1 (capped)
 *   split       w = sum m_p t_p / sum t_p^2 over A and B (t = 3 each; m =
 *               1 at 4 frames, the cold miss; 3 at 2 frames): 6/18 = 1/3
 *               and 18/18 = 1; (2 - 2.5/3) / 3.5 = 1/3, (6 - 2.5) / 3.5 = 1. */
static void test_shards_adjust(void **state)
{
	(void)state;
	uint64_t a = 0, b = 0, u[8];
	size_t nu = 0;
	for (uint64_t vpn = 0x100; (!a || !b || nu < 8) && vpn < 0x10000; vpn++) {
		if (kept(vpn)) {
			if (!a)
				a = vpn;
			else if (!b)
				b = vpn;
		} else if (nu < 8) {
			u[nu++] = vpn;
		}
	}
	assert_true(a && b && nu == 8);
	uint64_t sizes[] = { 2, 4 };
	struct vl_rec r[14];
	size_t n = 0;
	for (int i = 0; i < 3; i++) {
		r[n++] = (struct vl_rec){ .addr = a << 12, .pid = 1, .op = VL_OP_READ };
		r[n++] = (struct vl_rec){ .addr = b << 12, .pid = 1, .op = VL_OP_READ };
	}
	for (int i = 0; i < 8; i++)
		r[n++] = (struct vl_rec){ .addr = u[i] << 12, .pid = 1, .op = VL_OP_READ };
	struct vl_error err = { 0 };
	struct vl_mrc_point p[2];
	const double x4 = cubic_root(2, 1), x2 = cubic_root(2, 2);
	/* shortfall (14 accesses), then excess (the first 7) */
	for (int excess = 0; excess <= 1; excess++) {
		size_t len = excess ? 7 : 14;
		double e = 0.5 * (double)len;
		double want[3][2]; /* [estimator][size 2, size 4] */
		want[VL_MRC_SHARDS_FIXED][0] = 1, want[VL_MRC_SHARDS_FIXED][1] = 2.0 / 6;
		want[VL_MRC_SHARDS_ADJ][0] = fmin(1, 6 / e), want[VL_MRC_SHARDS_ADJ][1] = 2 / e;
		if (excess)
			want[VL_MRC_SHARDS_SPLIT][0] = 1, want[VL_MRC_SHARDS_SPLIT][1] = 1.0 / 3;
		else
			want[VL_MRC_SHARDS_SPLIT][0] = (6 + x2) / 7, want[VL_MRC_SHARDS_SPLIT][1] = (2 + x4) / 7;
		struct vl_mrc *m = curve(r, len, 0.5, sizes, 2);
		assert_int_equal(vl_mrc_sampled(m), 6);
		for (int est = 0; est < 3; est++) {
			vl_mrc_set_estimator(m, (enum vl_mrc_estimator)est);
			assert_int_equal(vl_mrc_result(m, sizes, 2, p, &err), 0);
			for (int k = 0; k < 2; k++)
				if (fabs(p[k].miss_ratio - want[est][k]) > 1e-9)
					fail_msg("%s, estimator %d, %llu frames: %.9f, expected %.9f",
						 excess ? "excess" : "shortfall", est,
						 (unsigned long long)sizes[k], p[k].miss_ratio, want[est][k]);
		}
		vl_mrc_free(m);
	}
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
		cmocka_unit_test(test_shards_adjust),
		cmocka_unit_test(test_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
