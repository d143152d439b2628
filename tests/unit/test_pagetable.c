/* tests/unit/test_pagetable.c - 4-level page tables in one arena
 * (sim/pagetable.c).
 *
 * Node counts follow from the x86-64 layout: a PT maps 2 MiB, a PD 1 GiB,
 * a PDPT 512 GiB, and the PML4 (the root) the whole 48-bit space.  So the
 * first address under an empty root needs a PDPT, a PD and a PT (3 nodes);
 * another page of the same 2 MiB region needs none; another 2 MiB region of
 * the same 1 GiB one more PT; another 1 GiB of the same 512 GiB a PD and a
 * PT; another 512 GiB a PDPT, PD and PT.
 */
#include "sim/internal.h"
#include "tests/testutil.h"

#define KiB4 0x1000ull
#define MiB2 0x200000ull
#define GiB1 0x40000000ull
#define GiB512 0x8000000000ull

static uint32_t new_root(struct vl_ptarena *a)
{
	struct vl_error err = { 0 };
	if (pt_init(a, &err) < 0)
		fail_msg("pt_init: %s", err.msg);
	assert_int_equal(a->live, 0);
	uint32_t root = pt_node_new(a);
	assert_int_not_equal(root, 0);
	assert_int_equal(a->live, 1);
	return root;
}

/* The slot of va within its leaf node: bits 20..12. */
static uint32_t pt_slot(uint64_t va)
{
	return (uint32_t)((va >> 12) & 511);
}

/* Create va's leaf and check the nodes that took, and that pt_walk agrees. */
static uint32_t create(struct vl_ptarena *a, uint32_t root, uint64_t va, uint32_t new_nodes)
{
	uint32_t before = a->live;
	uint32_t idx = pt_walk_create(a, root, va);
	if (idx == VL_NIL)
		fail_msg("pt_walk_create(0x%llx) failed", (unsigned long long)va);
	if (a->live - before != new_nodes)
		fail_msg("pt_walk_create(0x%llx) made %u nodes, want %u", (unsigned long long)va,
			 a->live - before, new_nodes);
	assert_int_equal(idx % PT_ENTRIES, pt_slot(va));
	assert_true(idx / PT_ENTRIES < a->nnodes);
	assert_int_equal(pt_walk(a, root, va), idx);
	return idx;
}

static void test_empty_root(void **state)
{
	(void)state;
	struct vl_ptarena a;
	uint32_t root = new_root(&a);
	assert_int_equal(pt_walk(&a, root, 0), VL_NIL);
	assert_int_equal(pt_walk(&a, root, 0x400000), VL_NIL);
	assert_int_equal(pt_walk(&a, root, 0x00007ffffffff000ull), VL_NIL);
	assert_int_equal(pt_walk(&a, root, 0xffff800000000000ull), VL_NIL);
	/* a walk creates nothing */
	assert_int_equal(a.live, 1);
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		assert_int_equal(a.e[(size_t)root * PT_ENTRIES + i], 0);
	pt_fini(&a);
}

static void test_create_counts(void **state)
{
	(void)state;
	struct vl_ptarena a;
	uint32_t root = new_root(&a);
	const uint64_t base = 0x400000; /* 4 MiB */

	uint32_t i0 = create(&a, root, base, 3);
	assert_int_equal(a.live, 4);
	/* another page, same 2 MiB region: same leaf node, next slot */
	uint32_t i1 = create(&a, root, base + KiB4, 0);
	assert_int_equal(i1, i0 + 1);
	uint32_t i511 = create(&a, root, base + MiB2 - KiB4, 0);
	assert_int_equal(i511, i0 + 511);
	/* the same page again, any offset in it */
	assert_int_equal(create(&a, root, base + 0xabc, 0), i0);
	/* another 2 MiB region of the same 1 GiB: one PT */
	uint32_t i2 = create(&a, root, base + MiB2, 1);
	assert_int_not_equal(i2 / PT_ENTRIES, i0 / PT_ENTRIES);
	/* another 1 GiB region of the same 512 GiB: PD + PT */
	uint32_t i3 = create(&a, root, base + GiB1, 2);
	/* a page next to it: nothing */
	create(&a, root, base + GiB1 + 5 * KiB4, 0);
	/* another 512 GiB region: PDPT + PD + PT */
	uint32_t i4 = create(&a, root, base + GiB512, 3);
	assert_int_equal(a.live, 1 + 3 + 1 + 2 + 3);

	/* every leaf is still found where it was created, nothing more is made */
	uint32_t live = a.live;
	assert_int_equal(pt_walk(&a, root, base), i0);
	assert_int_equal(pt_walk(&a, root, base + MiB2), i2);
	assert_int_equal(pt_walk(&a, root, base + GiB1), i3);
	assert_int_equal(pt_walk(&a, root, base + GiB512), i4);
	assert_int_equal(pt_walk_create(&a, root, base + GiB512), i4);
	assert_int_equal(a.live, live);
	/* distinct pages, distinct PTEs */
	uint32_t idx[] = { i0, i1, i511, i2, i3, i4 };
	for (size_t x = 0; x < 6; x++)
		for (size_t y = x + 1; y < 6; y++)
			assert_int_not_equal(idx[x], idx[y]);

	/* regions never touched stay missing */
	assert_int_equal(pt_walk(&a, root, base + 2 * MiB2), VL_NIL);      /* PT missing */
	assert_int_equal(pt_walk(&a, root, base + 2 * GiB1), VL_NIL);      /* PD missing */
	assert_int_equal(pt_walk(&a, root, base + 2 * GiB512), VL_NIL);    /* PDPT missing */
	assert_int_equal(a.live, live);

	/* upper-level entries are present; the root holds exactly two */
	unsigned present = 0;
	for (unsigned k = 0; k < PT_ENTRIES; k++)
		present += (a.e[(size_t)root * PT_ENTRIES + k] & PTE_P) != 0;
	assert_int_equal(present, 2);
	pt_fini(&a);
}

static void test_two_roots(void **state)
{
	(void)state;
	struct vl_ptarena a;
	uint32_t r1 = new_root(&a);
	uint32_t r2 = pt_node_new(&a);
	assert_int_not_equal(r2, 0);
	assert_int_not_equal(r2, r1);
	uint32_t x = create(&a, r1, 0x1000, 3);
	/* the same address in another address space is not mapped */
	assert_int_equal(pt_walk(&a, r2, 0x1000), VL_NIL);
	uint32_t y = create(&a, r2, 0x1000, 3);
	assert_int_not_equal(x, y);
	assert_int_equal(pt_walk(&a, r1, 0x1000), x);
	pt_fini(&a);
}

static void test_high_half(void **state)
{
	(void)state;
	struct vl_ptarena a;
	uint32_t root = new_root(&a);
	/* the first canonical high-half address: bit 47 set -> PML4 index 256 */
	uint32_t hi = create(&a, root, 0xffff800000000000ull, 3);
	assert_int_equal(hi % PT_ENTRIES, 0);
	const uint64_t *r = &a.e[(size_t)root * PT_ENTRIES];
	assert_true(r[256] & PTE_P);
	for (unsigned k = 0; k < PT_ENTRIES; k++)
		if (k != 256)
			assert_int_equal(r[k] & PTE_P, 0);
	/* the top of the low half: index 255 */
	uint32_t lo = create(&a, root, 0x00007ffffffff000ull, 3);
	r = &a.e[(size_t)root * PT_ENTRIES]; /* the arena may have moved */
	assert_true(r[255] & PTE_P);
	assert_int_equal(lo % PT_ENTRIES, 511);
	/* the last page of the address space: index 511, last slot */
	uint32_t top = create(&a, root, 0xfffffffffffff000ull, 3);
	r = &a.e[(size_t)root * PT_ENTRIES]; /* the arena may have moved */
	assert_true(r[511] & PTE_P);
	assert_int_equal(top % PT_ENTRIES, 511);
	/* address 0: index 0 */
	create(&a, root, 0, 3);
	assert_true(a.e[(size_t)root * PT_ENTRIES] & PTE_P);
	assert_int_equal(pt_walk(&a, root, 0xffff800000000000ull), hi);
	pt_fini(&a);
}

static void test_growth(void **state)
{
	(void)state;
	struct vl_ptarena a;
	uint32_t root = new_root(&a);
	uint32_t cap0 = a.cap;
	enum { N = 60 };
	uint32_t idx[N];
	/* addresses 1 GiB apart in one 512 GiB region: 3 nodes, then 2 each */
	for (unsigned i = 0; i < N; i++) {
		uint64_t va = (uint64_t)i * GiB1 + (uint64_t)i * KiB4;
		idx[i] = create(&a, root, va, i == 0 ? 3 : 2);
		/* write a value into the leaf now; read it back after growth */
		a.e[idx[i]] = 0x5a5a000ull + i;
	}
	assert_int_equal(a.live, 1 + 3 + 2 * (N - 1));
	assert_true(a.live > 100);
	assert_true(a.cap > cap0);
	assert_true(a.cap >= a.nnodes);
	for (unsigned i = 0; i < N; i++) {
		uint64_t va = (uint64_t)i * GiB1 + (uint64_t)i * KiB4;
		assert_int_equal(pt_walk(&a, root, va), idx[i]);
		if (a.e[idx[i]] != 0x5a5a000ull + i)
			fail_msg("leaf %u lost its value after the arena grew", i);
	}
	/* nodes added by growth start zeroed: a new region walks to NIL first */
	assert_int_equal(pt_walk(&a, root, N * GiB1), VL_NIL);
	pt_fini(&a);
}

/* pt_vpn: a leaf's page number from its node's first page (pt.base).  The
 * expected number is the address's bits 47..12, as the engine takes it
 * from an access (sim/access.c: (va >> 12) & VPN_MASK). */
static void test_leaf_vpn(void **state)
{
	(void)state;
	struct vl_ptarena a;
	uint32_t root = new_root(&a);
	static const uint64_t va[] = {
		0, KiB4 * 5, MiB2 - KiB4, MiB2, GiB1 + 7 * KiB4, GiB512 * 3 + GiB1 * 2 + MiB2 * 9,
		0x00007ffffffff000ull, 0xffff800000000000ull, 0xffff800000123000ull,
		0xfffffffffffff000ull,
	};
	enum { NV = sizeof(va) / sizeof(va[0]), N = 40 };
	uint32_t li[NV + N];
	for (unsigned i = 0; i < NV; i++)
		li[i] = pt_walk_create(&a, root, va[i]);
	/* enough regions 1 GiB apart for the arena to grow and move */
	uint32_t cap0 = a.cap;
	for (unsigned i = 0; i < N; i++)
		li[NV + i] = pt_walk_create(&a, root, GiB512 * 5 + i * GiB1 + i * KiB4);
	assert_true(a.cap > cap0);
	for (unsigned i = 0; i < NV + N; i++) {
		uint64_t v = i < NV ? va[i] : GiB512 * 5 + (i - NV) * GiB1 + (i - NV) * KiB4;
		assert_int_not_equal(li[i], VL_NIL);
		if (pt_vpn(&a, li[i]) != ((v >> 12) & 0xfffffffffull))
			fail_msg("leaf of 0x%llx: page 0x%llx, want 0x%llx", (unsigned long long)v,
				 (unsigned long long)pt_vpn(&a, li[i]),
				 (unsigned long long)((v >> 12) & 0xfffffffffull));
	}
	/* a freed leaf node reused for another 2 MiB region of the same 1 GiB
	 * takes that region's first page */
	uint32_t node = li[1] / PT_ENTRIES; /* holds va[0] and va[1] */
	a.e[li[0]] = a.e[li[1]] = a.e[li[2]] = 0;
	a.e[a.parent[node]] = 0;
	pt_node_free(&a, node);
	uint32_t again = create(&a, root, MiB2 * 100 + KiB4 * 3, 1);
	assert_int_equal(again / PT_ENTRIES, node);
	assert_int_equal(pt_vpn(&a, again), (MiB2 * 100 + KiB4 * 3) >> 12);
	pt_fini(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_root),
		cmocka_unit_test(test_create_counts),
		cmocka_unit_test(test_two_roots),
		cmocka_unit_test(test_high_half),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_leaf_vpn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
