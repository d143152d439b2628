/* tests/unit/test_lists.c - the frame lists of policy.h (vl_flist and
 * vl_mlist) against plain arrays holding each list's order.
 *
 * Random pushes at either end, deletions and (vl_flist) moves to the head
 * over 40 ids: after every operation each list read from its head along
 * next equals the reference order, read from its tail along prev equals
 * it reversed, its length equals the reference's, and membership
 * (vl_flist_has, vl_mlist_which) agrees.  The reference is an array
 * shifted by memmove, sharing no code with the linked lists.
 */
#include <string.h>

#include "tests/testutil.h"

#define N 40u
#define NL 3u

/* ref[k][0..nref[k]) is list k from head to tail */
static uint32_t ref[NL][N], nref[NL];

static int ref_pos(uint32_t k, uint32_t f)
{
	for (uint32_t i = 0; i < nref[k]; i++)
		if (ref[k][i] == f)
			return (int)i;
	return -1;
}

static void ref_del(uint32_t k, uint32_t f)
{
	int i = ref_pos(k, f);
	assert_true(i >= 0);
	memmove(&ref[k][i], &ref[k][i + 1], (nref[k] - (uint32_t)i - 1) * sizeof(uint32_t));
	nref[k]--;
}

static void ref_push_head(uint32_t k, uint32_t f)
{
	memmove(&ref[k][1], &ref[k][0], nref[k] * sizeof(uint32_t));
	ref[k][0] = f;
	nref[k]++;
}

static void ref_push_tail(uint32_t k, uint32_t f)
{
	ref[k][nref[k]++] = f;
}

static uint32_t ref_which(uint32_t f)
{
	for (uint32_t k = 0; k < NL; k++)
		if (ref_pos(k, f) >= 0)
			return k;
	return VL_FLIST_OUT;
}

static void check_flist(const struct vl_flist *l)
{
	assert_int_equal(l->len, nref[0]);
	uint32_t f = l->head;
	for (uint32_t i = 0; i < nref[0]; i++, f = l->next[f])
		assert_int_equal(f, ref[0][i]);
	assert_int_equal(f, VL_FLIST_OUT);
	f = l->tail;
	for (uint32_t i = nref[0]; i-- > 0; f = l->prev[f])
		assert_int_equal(f, ref[0][i]);
	assert_int_equal(f, VL_FLIST_OUT);
	for (uint32_t g = 0; g < N; g++)
		assert_int_equal(vl_flist_has(l, g), ref_pos(0, g) >= 0);
}

static void test_flist_random(void **state)
{
	(void)state;
	struct vl_flist l;
	assert_int_equal(vl_flist_init(&l, N), 0);
	memset(nref, 0, sizeof(nref));
	uint64_t s = 7;
	for (int step = 0; step < 100000; step++) {
		uint32_t f = (uint32_t)vl_rand_below(&s, N);
		unsigned op = (unsigned)vl_rand_below(&s, 4);
		if (!vl_flist_has(&l, f)) {
			if (op & 1) {
				vl_flist_push_tail(&l, f);
				ref_push_tail(0, f);
			} else {
				vl_flist_push_head(&l, f);
				ref_push_head(0, f);
			}
		} else if (op == 0) {
			vl_flist_del(&l, f);
			ref_del(0, f);
		} else { /* moves are the hit path: most common */
			vl_flist_move_head(&l, f);
			ref_del(0, f);
			ref_push_head(0, f);
		}
		check_flist(&l);
	}
	vl_flist_free(&l);
}

static void check_mlist(const struct vl_mlist *l)
{
	for (uint32_t k = 0; k < NL; k++) {
		assert_int_equal(l->len[k], nref[k]);
		uint32_t f = l->head[k];
		for (uint32_t i = 0; i < nref[k]; i++, f = l->link[f].next)
			assert_int_equal(f, ref[k][i]);
		assert_int_equal(f, VL_FLIST_OUT);
		f = l->tail[k];
		for (uint32_t i = nref[k]; i-- > 0; f = l->link[f].prev)
			assert_int_equal(f, ref[k][i]);
		assert_int_equal(f, VL_FLIST_OUT);
	}
	for (uint32_t g = 0; g < N; g++)
		assert_int_equal(vl_mlist_which(l, g), ref_which(g));
}

static void test_mlist_random(void **state)
{
	(void)state;
	struct vl_mlist l;
	assert_int_equal(vl_mlist_init(&l, N, NL), 0);
	memset(nref, 0, sizeof(nref));
	uint64_t s = 11;
	for (int step = 0; step < 100000; step++) {
		uint32_t f = (uint32_t)vl_rand_below(&s, N);
		uint32_t k = (uint32_t)vl_rand_below(&s, NL);
		unsigned op = (unsigned)vl_rand_below(&s, 3);
		uint32_t w = vl_mlist_which(&l, f);
		if (w == VL_FLIST_OUT) {
			if (op & 1) {
				vl_mlist_push_tail(&l, k, f);
				ref_push_tail(k, f);
			} else {
				vl_mlist_push_head(&l, k, f);
				ref_push_head(k, f);
			}
		} else if (op == 0) {
			vl_mlist_del(&l, f);
			ref_del(w, f);
		} else { /* off its list, to the head of list k (a promotion) */
			vl_mlist_del(&l, f);
			vl_mlist_push_head(&l, k, f);
			ref_del(w, f);
			ref_push_head(k, f);
		}
		check_mlist(&l);
	}
	vl_mlist_del(&l, 0); /* on none now or not: deleting twice is a no-op */
	vl_mlist_del(&l, 0);
	assert_int_equal(vl_mlist_which(&l, 0), VL_FLIST_OUT);
	vl_mlist_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flist_random),
		cmocka_unit_test(test_mlist_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
