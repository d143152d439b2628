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

/* A Zipf(alpha) trace over `pages` pages written here (inverse CDF by
 * binary search, splitmix64 draws): rank k has weight k^-alpha; ranks are
 * scattered over the page ids and shifted by `offset`, so each offset is
 * another draw of which pages the SHARDS hash keeps.  cnt[k] gets each
 * rank's references (for the tolerance below). */
static uint64_t sm64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static struct vl_rec *zipf_trace(size_t n, uint32_t pages, double alpha, uint64_t offset,
				 uint64_t *cnt, uint32_t *rank)
{
	double *cdf = malloc(pages * sizeof(*cdf)), sum = 0;
	struct vl_rec *r = malloc(n * sizeof(*r));
	assert_non_null(cdf);
	assert_non_null(r);
	for (uint32_t k = 0; k < pages; k++)
		cdf[k] = (sum += pow(k + 1.0, -alpha));
	uint64_t st = 42;
	for (size_t i = 0; i < n; i++) {
		double u = (double)(sm64(&st) >> 11) * 0x1p-53 * sum;
		uint32_t lo = 0, hi = pages - 1;
		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;
			if (cdf[mid] > u)
				hi = mid;
			else
				lo = mid + 1;
		}
		cnt[lo]++;
		if (rank)
			rank[i] = lo;
		uint64_t page = 1 + (lo * 2654435761ull) % pages + offset;
		r[i] = (struct vl_rec){ .addr = page << 12, .pid = 1, .op = VL_OP_READ };
	}
	free(cdf);
	return r;
}

/* Misses of each rank at each size, by a move-to-front stack of ranks:
 * miss[k * ns + j] for rank k and sizes[j] (a first access misses); and
 * depth[d], the accesses at stack depth d (depth[pages + 1]: first ones). */
static void brute_by_page(const uint32_t *rank, size_t n, uint32_t pages, const uint64_t *sizes,
			  int ns, uint64_t *miss, uint64_t *depth)
{
	uint32_t *stack = malloc(pages * sizeof(*stack));
	size_t len = 0;
	assert_non_null(stack);
	for (size_t i = 0; i < n; i++) {
		size_t pos = 0;
		while (pos < len && stack[pos] != rank[i])
			pos++;
		for (int j = 0; j < ns; j++)
			if (pos == len || pos + 1 > sizes[j])
				miss[(size_t)rank[i] * ns + j]++;
		depth[pos == len ? pages + 1 : pos + 1]++; /* [pages + 1]: first accesses */
		if (pos == len)
			len++;
		memmove(stack + 1, stack, pos * sizeof(*stack));
		stack[0] = rank[i];
	}
	free(stack);
}

/* The hot-set estimator (the default) against the exact curve, both from
 * this file: brute_by_page() above, an explicit move-to-front LRU stack.
 * Zipf(0.9) over 10,000 pages, 200,000 accesses, rate 0.1, 10 sizes from
 * 16 to 8192 frames, three hash draws (page ids shifted).
 *
 * The tolerance.  Pages that join the hot set are counted exactly.  The
 * others are a spatial sample: each kept whole with probability R, and
 * their misses estimated by the sample's miss ratio times their references
 * (the regression split of the shortfall is such a ratio estimate).  The
 * standard error of a ratio estimate from a sample of whole units is, to
 * first order (Cochran, Sampling Techniques, 3rd ed., section 6.3),
 *     sigma(C) = sqrt((1 - R) / R * sum over those pages of
 *                     (m_p(C) - M(C) t_p)^2) / n,
 * m_p(C) the page's misses at C frames, t_p its references, M(C) their
 * overall miss ratio: computed below from the exact per-page misses.  The
 * hot set takes pages of frequency >= 0.005 R (analysis/mrc.c), here 100
 * references; a page near that may join late, so sigma sums every page
 * under twice that, which makes it larger than the true one.  Distances
 * are estimated too: the pages between two accesses that are not hot are
 * counted as c / R from the c sampled ones, c about binomial(X, R) for X
 * such pages, so near a size C (X R <= C R) the count is off by more than
 * two standard deviations, 2 sqrt(C R) / R pages (at least 2 / R), rarely.
 * An access is misjudged only if its true distance lies within that margin
 * of C: at most the accesses whose exact depth lies in (C - margin,
 * C + margin], the exact curve's drop over that interval (misjudgements
 * both ways cancel in part, so this overstates them).  Each size:
 * 3 sigma(C) + that drop; the mean over sizes: the 0.01.  With
 * SHARDS_adj, which samples the hottest pages too, the same sample exceeds
 * that tolerance (checked, so the bound can tell the two apart). */
static void test_shards_hot(void **state)
{
	(void)state;
	const size_t n = 200000;
	const uint32_t pages = 10000;
	const double rate = 0.1;
	const uint64_t sizes[] = { 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192 };
	enum { NS = 10 };
	uint64_t *cnt = calloc(pages, sizeof(*cnt));
	uint64_t *miss = calloc((size_t)pages * NS, sizeof(*miss));
	uint32_t *rank = malloc(n * sizeof(*rank));
	uint64_t *depth = calloc(pages + 2, sizeof(*depth));
	assert_non_null(depth);
	assert_non_null(cnt);
	assert_non_null(miss);
	assert_non_null(rank);
	bool adj_out = false;
	for (int draw = 0; draw < 3; draw++) {
		memset(cnt, 0, pages * sizeof(*cnt));
		memset(miss, 0, (size_t)pages * NS * sizeof(*miss));
		memset(depth, 0, (pages + 2) * sizeof(*depth));
		struct vl_rec *r = zipf_trace(n, pages, 0.9, (uint64_t)draw * 1000003u, cnt, rank);
		brute_by_page(rank, n, pages, sizes, NS, miss, depth);
		double exact[NS], tol[NS];
		for (int j = 0; j < NS; j++) {
			double all = 0, cm = 0, ct = 0, v = 0;
			for (uint32_t k = 0; k < pages; k++) {
				all += (double)miss[(size_t)k * NS + j];
				if ((double)cnt[k] < 2 * 0.005 * rate * (double)n) {
					cm += (double)miss[(size_t)k * NS + j];
					ct += (double)cnt[k];
				}
			}
			for (uint32_t k = 0; k < pages; k++)
				if ((double)cnt[k] < 2 * 0.005 * rate * (double)n) {
					double d = (double)miss[(size_t)k * NS + j] - cm / ct * (double)cnt[k];
					v += d * d;
				}
			exact[j] = all / (double)n;
			/* the exact curve's drop over C -+ the margin */
			double margin = 2 * sqrt(fmax(1, (double)sizes[j] * rate)) / rate;
			double lo = fmax(1, (double)sizes[j] - margin), hi = (double)sizes[j] + margin;
			double flip = 0;
			for (uint32_t d = 1; d <= pages; d++)
				if (d > lo && d <= hi)
					flip += (double)depth[d];
			tol[j] = 3 * sqrt((1 - rate) / rate * v) / (double)n + flip / (double)n;
		}
		struct vl_mrc *m = curve(r, n, rate, sizes, NS);
		assert_true(vl_mrc_hot_pages(m) > 0);
		struct vl_mrc_point p[NS];
		struct vl_error err = { 0 };
		assert_int_equal(vl_mrc_result(m, sizes, NS, p, &err), 0);
		double mean = 0, worst = 0;
		for (int j = 0; j < NS; j++) {
			double e = fabs(p[j].miss_ratio - exact[j]);
			mean += e / NS;
			worst = fmax(worst, e / tol[j]);
			if (e > tol[j])
				fail_msg("draw %d, %llu frames: hot %.4f, exact %.4f (tolerance %.4f)", draw,
					 (unsigned long long)sizes[j], p[j].miss_ratio, exact[j], tol[j]);
		}
		if (mean > 0.01)
			fail_msg("draw %d: mean |error| %.4f > 0.01", draw, mean);
		vl_mrc_set_estimator(m, VL_MRC_SHARDS_ADJ);
		assert_int_equal(vl_mrc_result(m, sizes, NS, p, &err), 0);
		double adj_mean = 0;
		for (int j = 0; j < NS; j++) {
			adj_mean += fabs(p[j].miss_ratio - exact[j]) / NS;
			if (fabs(p[j].miss_ratio - exact[j]) > tol[j])
				adj_out = true;
		}
		print_message("draw %d: mean |error| hot %.4f (SHARDS_adj %.4f), largest error / "
			      "tolerance %.2f; tolerance %.4f..%.4f; %llu hot pages\n",
			      draw, mean, adj_mean, worst, tol[NS - 1], tol[0],
			      (unsigned long long)vl_mrc_hot_pages(m));
		vl_mrc_free(m);
		free(r);
	}
	if (!adj_out)
		fail_msg("SHARDS_adj within the tolerance everywhere: the test cannot tell the "
			 "estimators apart");
	free(cnt);
	free(miss);
	free(rank);
	free(depth);
}

/* The hot set changes nothing for the other estimators: a builder that
 * tracked one (the default, estimator chosen after the pass) and one that
 * did not (estimator chosen before the first access) give the same
 * curves, to the last bit, although the first tracked pages the hash does
 * not keep. */
static void test_hot_leaves_shards_alone(void **state)
{
	(void)state;
	const size_t n = 100000;
	uint64_t *cnt = calloc(5000, sizeof(*cnt));
	assert_non_null(cnt);
	struct vl_rec *r = zipf_trace(n, 5000, 0.9, 7, cnt, NULL);
	uint64_t sizes[] = { 8, 50, 300, 2000 };
	struct vl_error err = { 0 };
	struct vl_mrc *with = curve(r, n, 0.05, sizes, 4);
	assert_true(vl_mrc_hot_pages(with) > 0);
	assert_true(vl_mrc_pages(with) > 0);
	for (int est = VL_MRC_SHARDS_SPLIT; est <= VL_MRC_SHARDS_FIXED; est++) {
		struct vl_mrc *without;
		struct vl_batch b;
		assert_int_equal(vl_mrc_new(&without, 0.05, sizes, 4, &err), 0);
		vl_mrc_set_estimator(without, (enum vl_mrc_estimator)est);
		assert_int_equal(vl_batch_init(&b, 1000, &err), 0);
		for (size_t i = 0; i < n;) {
			vl_batch_reset(&b);
			while (i < n && b.n < b.cap)
				b.recs[b.n++] = r[i++];
			assert_int_equal(vl_mrc_feed(without, &b, &err), 0);
		}
		vl_batch_free(&b);
		assert_int_equal(vl_mrc_hot_pages(without), 0);
		assert_int_equal(vl_mrc_sampled(without), vl_mrc_sampled(with));
		struct vl_mrc_point a[4], c[4];
		vl_mrc_set_estimator(with, (enum vl_mrc_estimator)est);
		assert_int_equal(vl_mrc_result(with, sizes, 4, a, &err), 0);
		assert_int_equal(vl_mrc_result(without, sizes, 4, c, &err), 0);
		for (int i = 0; i < 4; i++)
			if (a[i].miss_ratio != c[i].miss_ratio)
				fail_msg("estimator %d, %llu frames: %.12f with a hot set, %.12f without",
					 est, (unsigned long long)sizes[i], a[i].miss_ratio, c[i].miss_ratio);
		vl_mrc_free(without);
	}
	vl_mrc_free(with);
	free(r);
	free(cnt);
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
		cmocka_unit_test(test_shards_hot),
		cmocka_unit_test(test_hot_leaves_shards_alone),
		cmocka_unit_test(test_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
