/* tests/unit/test_gmap.c - the ghost map of arc, car and clock-pro
 * (policies/replacement/gmap.h) against a plain array of (pid, vpn, id)
 * triples searched linearly.
 *
 * The map keeps 32-bit hashes and ghost ids; the pages are in records the
 * test keeps, as a policy does (a pool of ids, a stack of free ones), and
 * the map asks `same` when hashes match.
 *   - random adds, lookups and deletions over pages of a small range and
 *     two processes (so pages come back after deletion) and runs of
 *     sequential pages: after every operation the map answers as the
 *     array does; every id still held is found from time to time; the
 *     probe runs keep linear probing's invariant (no empty slot between a
 *     key's home and its slot) after the backward-shift deletions;
 *   - two pages whose 32-bit hashes are equal (found by search): both are
 *     held and told apart through their records, and deleting either
 *     leaves the other, as deletion finds a ghost by its id.
 */
#include <stdlib.h>

#include "policies/replacement/gmap.h"
#include "tests/testutil.h"

#define MAXG 600u

static struct gkey rec[MAXG]; /* per id: the page (the policy's records) */
static uint32_t freeid[MAXG], nfree;
static unsigned long same_calls;

static bool rec_is(const void *owner, uint32_t g, uint32_t pid, uint64_t vpn)
{
	const struct gkey *r = owner;
	same_calls++;
	return r[g].vpn == vpn && r[g].pid == pid;
}

struct ent {
	uint32_t pid;
	uint64_t vpn;
	uint32_t g;
};

static struct ent ref[MAXG];
static uint32_t nref;

static int ref_find(uint32_t pid, uint64_t vpn)
{
	for (uint32_t i = 0; i < nref; i++)
		if (ref[i].pid == pid && ref[i].vpn == vpn)
			return (int)i;
	return -1;
}

static void check_runs(const struct gmap *m)
{
	for (uint32_t j = 0; j <= m->mask; j++) {
		if (m->slot[j].g == VL_PMAP_NONE)
			continue;
		for (uint32_t k = gmap_home(m, m->slot[j].hash); k != j; k = (k + 1) & m->mask)
			assert_int_not_equal(m->slot[k].g, VL_PMAP_NONE);
	}
}

static void test_gmap_random(void **state)
{
	(void)state;
	struct gmap m;
	assert_int_equal(gmap_init(&m, MAXG), 0);
	assert_true(m.mask + 1 >= 4 * MAXG); /* at most a quarter full */
	nfree = 0;
	for (uint32_t i = 0; i < MAXG; i++)
		freeid[nfree++] = MAXG - 1 - i;
	nref = 0;
	uint64_t s = 7;
	unsigned long adds = 0, dels = 0, hits = 0;
	for (int step = 0; step < 200000; step++) {
		uint64_t x = tu_rand(&s);
		uint32_t pid = 1 + (uint32_t)(x & 1);
		uint64_t vpn = (x >> 8) % 2 ? 0x400 + (x >> 16) % 900 : ((x >> 16) % 900) << 20;
		unsigned op = (unsigned)((x >> 40) % 3);
		int i = ref_find(pid, vpn);
		if (op == 0 && i < 0 && nfree) { /* a page becomes a ghost */
			uint32_t g = freeid[--nfree];
			rec[g] = (struct gkey){ vpn, pid };
			gmap_put(&m, pid, vpn, g, rec_is, rec);
			ref[nref++] = (struct ent){ pid, vpn, g };
			adds++;
		} else if (op == 1 && i >= 0) { /* its ghost goes */
			uint32_t g = ref[i].g;
			gmap_del(&m, pid, vpn, g);
			rec[g] = (struct gkey){ UINT64_MAX, 0 }; /* the record is reused later */
			freeid[nfree++] = g;
			ref[i] = ref[--nref];
			dels++;
		} else {
			uint32_t g = gmap_get(&m, pid, vpn, rec_is, rec);
			assert_int_equal(g, i < 0 ? VL_PMAP_NONE : ref[i].g);
			hits += i >= 0;
		}
		if (step % 5000 == 0) {
			for (uint32_t k = 0; k < nref; k++)
				assert_int_equal(gmap_get(&m, ref[k].pid, ref[k].vpn, rec_is, rec),
						 ref[k].g);
			check_runs(&m);
		}
	}
	print_message("  %lu adds, %lu deletions, %lu lookups that found a ghost\n", adds, dels,
		      hits);
	assert_true(adds > 10000 && dels > 10000 && hits > 10000);
	check_runs(&m);
	gmap_free(&m);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void test_gmap_hash_collision(void **state)
{
	(void)state;
	/* (hash << 32 | vpn) for 2^18 random 32-bit pages of process 1: two
	 * equal hashes (consecutive pages would have none: a multiplicative
	 * hash spreads them evenly) */
	size_t n = 1u << 18;
	uint64_t *h = malloc(n * sizeof(*h)), s = 11;
	assert_non_null(h);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = tu_rand(&s) & 0xffffffffu;
		h[i] = (uint64_t)gmap_hash(1, v) << 32 | v;
	}
	qsort(h, n, sizeof(*h), cmp_u64);
	uint64_t a = UINT64_MAX, b = UINT64_MAX;
	for (size_t i = 1; i < n && a == UINT64_MAX; i++)
		if (h[i] >> 32 == h[i - 1] >> 32 && h[i] != h[i - 1])
			a = h[i - 1] & 0xffffffffu, b = h[i] & 0xffffffffu;
	free(h);
	assert_int_not_equal(a, UINT64_MAX); /* 2^18 draws from 2^32: about 8 pairs */
	assert_int_equal(gmap_hash(1, a), gmap_hash(1, b));
	print_message("  pages %#lx and %#lx: hash %#x\n", (unsigned long)a, (unsigned long)b,
		      gmap_hash(1, a));

	struct gmap m;
	assert_int_equal(gmap_init(&m, 8), 0);
	rec[3] = (struct gkey){ a, 1 };
	rec[5] = (struct gkey){ b, 1 };
	gmap_put(&m, 1, a, 3, rec_is, rec);
	gmap_put(&m, 1, b, 5, rec_is, rec);
	same_calls = 0;
	assert_int_equal(gmap_get(&m, 1, a, rec_is, rec), 3);
	assert_int_equal(gmap_get(&m, 1, b, rec_is, rec), 5);
	assert_true(same_calls >= 3); /* b's lookup had to reject a's record */
	gmap_del(&m, 1, a, 3);
	assert_int_equal(gmap_get(&m, 1, a, rec_is, rec), VL_PMAP_NONE);
	assert_int_equal(gmap_get(&m, 1, b, rec_is, rec), 5);
	gmap_put(&m, 1, a, 3, rec_is, rec);
	gmap_del(&m, 1, b, 5);
	assert_int_equal(gmap_get(&m, 1, b, rec_is, rec), VL_PMAP_NONE);
	assert_int_equal(gmap_get(&m, 1, a, rec_is, rec), 3);
	check_runs(&m);
	gmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gmap_random),
		cmocka_unit_test(test_gmap_hash_collision),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
