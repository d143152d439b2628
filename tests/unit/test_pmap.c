/* tests/unit/test_pmap.c - the page map of policy.h (vl_pmap) against a
 * plain array of (pid, vpn, value) triples searched linearly.
 *
 * Random puts, gets and deletes (keys from a small range of pages and two
 * processes, so that keys come back after deletion, and runs of sequential
 * pages, the pattern of real traces) on a map of 600 keys: after every
 * operation the map's answer equals the array's, the map holds as many
 * keys as the array, and a full lookup of every key ever used agrees.
 * Backward-shift deletion must keep every remaining key reachable; a put
 * beyond max_entries must fail with VL_ELIMIT and change nothing.
 */
#include "tests/testutil.h"

#define MAXK 600u

struct ent {
	uint32_t pid;
	uint64_t vpn;
	uint32_t val;
};

static struct ent ref[MAXK];
static uint32_t nref;

static int ref_find(uint32_t pid, uint64_t vpn)
{
	for (uint32_t i = 0; i < nref; i++)
		if (ref[i].pid == pid && ref[i].vpn == vpn)
			return (int)i;
	return -1;
}

static void test_pmap_random(void **state)
{
	(void)state;
	struct vl_pmap m;
	assert_int_equal(vl_pmap_init(&m, MAXK), 0);
	uint64_t s = 42;
	nref = 0;
	for (int step = 0; step < 200000; step++) {
		uint64_t x = tu_rand(&s);
		uint32_t pid = 1 + (uint32_t)(x & 1);
		/* half the keys sequential near 0x400, half spread out */
		uint64_t vpn = (x >> 8) % 2 ? 0x400 + (x >> 16) % 900 : ((x >> 16) % 900) << 20;
		unsigned op = (unsigned)((x >> 40) % 3);
		int i = ref_find(pid, vpn);
		if (op == 0) {
			uint32_t val = (uint32_t)(x >> 44);
			int rc = vl_pmap_put(&m, pid, vpn, val);
			if (i >= 0) {
				assert_int_equal(rc, 0);
				ref[i].val = val;
			} else if (nref == MAXK) {
				assert_int_equal(rc, VL_ELIMIT);
			} else {
				assert_int_equal(rc, 0);
				ref[nref++] = (struct ent){ pid, vpn, val };
			}
		} else if (op == 1) {
			uint32_t got = vl_pmap_del(&m, pid, vpn);
			if (i < 0) {
				assert_int_equal(got, VL_PMAP_NONE);
			} else {
				assert_int_equal(got, ref[i].val);
				ref[i] = ref[--nref];
			}
		} else {
			assert_int_equal(vl_pmap_get(&m, pid, vpn), i < 0 ? VL_PMAP_NONE : ref[i].val);
		}
		assert_int_equal(m.n, nref);
		if (step % 5000 == 0)
			for (uint32_t k = 0; k < nref; k++)
				assert_int_equal(vl_pmap_get(&m, ref[k].pid, ref[k].vpn), ref[k].val);
	}
	/* every slot's key sits at or after its home, with no empty slot
	 * between (linear probing's invariant) */
	for (uint32_t j = 0; j <= m.mask; j++) {
		if (m.slot[j].val == VL_PMAP_NONE)
			continue;
		for (uint32_t k = vl_pmap_home(&m, m.slot[j].pid, m.slot[j].vpn); k != j;
		     k = (k + 1) & m.mask)
			assert_int_not_equal(m.slot[k].val, VL_PMAP_NONE);
	}
	vl_pmap_free(&m);
}

/* Homes spread: 1000 sequential pages of one process in a map of 2048
 * slots occupy at least 900 different home slots (a hash that kept only
 * low-entropy bits would pile them up). */
static void test_pmap_spread(void **state)
{
	(void)state;
	struct vl_pmap m;
	assert_int_equal(vl_pmap_init(&m, 1000), 0);
	assert_int_equal(m.mask + 1, 2048);
	uint8_t *used = calloc(m.mask + 1, 1);
	assert_non_null(used);
	uint32_t distinct = 0;
	for (uint64_t v = 0; v < 1000; v++) {
		uint32_t h = vl_pmap_home(&m, 1, 0x7f0000 + v);
		assert_true(h <= m.mask);
		distinct += !used[h];
		used[h] = 1;
	}
	print_message("  %u distinct homes of 1000\n", distinct);
	assert_true(distinct >= 900);
	free(used);
	vl_pmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pmap_random),
		cmocka_unit_test(test_pmap_spread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
