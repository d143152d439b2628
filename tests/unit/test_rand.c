/* tests/unit/test_rand.c - the plug-in ABI's random numbers
 * (include/vmlab/policy.h) against the 128-bit arithmetic they replace.
 *
 * vl_rand_below was ((unsigned __int128)x * n) >> 64, a GCC/Clang type
 * in the plug-in ABI; vl_mul_hi64 now computes that high half from 32-bit
 * halves.  Here, where compiler-specific code is fine, __int128 is the
 * reference: the carries at the edges, a million random pairs, and every
 * draw a randomized policy makes must be bit-identical.
 */
#include "tests/testutil.h"
#include "vmlab/policy.h"

static uint64_t ref_hi(uint64_t a, uint64_t b)
{
	return (uint64_t)(((unsigned __int128)a * b) >> 64);
}

static void test_mul_hi64_edges(void **state)
{
	(void)state;
	static const uint64_t v[] = {
		0, 1, 2, 3, 0xffffffffull, 0x100000000ull, 0x100000001ull, 0xfffffffeffffffffull,
		0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffff00000000ull,
		0x00000000ffffffffull, 0x8000000080000000ull, 0xfffffffffffffffeull, UINT64_MAX,
		0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull,
	};
	const size_t n = sizeof(v) / sizeof(v[0]);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (vl_mul_hi64(v[i], v[j]) != ref_hi(v[i], v[j]))
				fail_msg("vl_mul_hi64(%#llx, %#llx) = %#llx, want %#llx",
					 (unsigned long long)v[i], (unsigned long long)v[j],
					 (unsigned long long)vl_mul_hi64(v[i], v[j]),
					 (unsigned long long)ref_hi(v[i], v[j]));
	/* the middle sum's largest case: every half all ones */
	assert_true(vl_mul_hi64(UINT64_MAX, UINT64_MAX) == UINT64_MAX - 1);
}

static void test_mul_hi64_random(void **state)
{
	(void)state;
	uint64_t s = 42;
	for (int i = 0; i < 1000000; i++) {
		uint64_t a = vl_rand_next(&s), b = vl_rand_next(&s);
		/* also products of small and large factors, like vl_rand_below's */
		uint64_t c = b >> (a & 63);
		if (vl_mul_hi64(a, b) != ref_hi(a, b) || vl_mul_hi64(a, c) != ref_hi(a, c))
			fail_msg("differs at pair %d: %#llx * %#llx", i, (unsigned long long)a,
				 (unsigned long long)b);
	}
}

/* Every draw as the old inline function made it, for the bounds policies
 * and generators use (frames, ways, set sizes, pages) and the extremes. */
static void test_rand_below_unchanged(void **state)
{
	(void)state;
	static const uint64_t bounds[] = { 1, 2, 3, 7, 8, 64, 1000, 16384, 1u << 20, 0xffffffffull,
					   0x100000000ull, 1ull << 40, (1ull << 63) + 12345,
					   UINT64_MAX };
	for (size_t k = 0; k < sizeof(bounds) / sizeof(bounds[0]); k++) {
		uint64_t s1 = k + 1, s2 = k + 1, n = bounds[k];
		for (int i = 0; i < 100000; i++) {
			uint64_t got = vl_rand_below(&s1, n);
			uint64_t want = ref_hi(vl_rand_next(&s2), n);
			if (got != want)
				fail_msg("vl_rand_below(n=%llu) draw %d: %llu, the __int128 form %llu",
					 (unsigned long long)n, i, (unsigned long long)got,
					 (unsigned long long)want);
			assert_true(got < n);
		}
		assert_true(s1 == s2); /* one step of the generator per draw */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mul_hi64_edges),
		cmocka_unit_test(test_mul_hi64_random),
		cmocka_unit_test(test_rand_below_unchanged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
