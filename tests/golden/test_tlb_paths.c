/* tests/golden/test_tlb_paths.c - the TLB model's shape-specific miss
 * paths against its general one.
 *
 * The default machine's data side goes through sim/tlb.c's miss_two with
 * walk_std (the walk caches' probes, descent and fills written out for
 * its geometry) and its second-level TLB picks victims from a recency
 * word per set instead of comparing the ways' stamps.  Each of these is
 * a second implementation of what the general code does (miss, walk,
 * fill_one with the stamps' tournament), so the same workload is run
 * three ways on the same machine:
 *   std      as configured (XL_TWO_48S, recency words),
 *   two      miss_two with the general walk, recency words off
 *            (the victims from the stamps),
 *   general  xl->two off: the general miss path, recency words off,
 * and everything must be equal afterwards: every counter the engine lists
 * and the whole content of every TLB and walk cache (tags, page-table
 * references, use stamps, live masks, fingerprints, recency lists and
 * hash chains), with the invariant checker on during the runs (it checks
 * the recency words against the stamps).  The workloads reach every
 * branch of the specialised code: cold walks from the root (more than 2
 * PML4 regions, more than 4 PDPT regions), PDE-cache hits and misses,
 * second-level hits and misses, faults and their retries, evictions
 * (INVLPG), stores through clean entries, two processes with and
 * without PCIDs (flush generations), and the address-space events of
 * the stress workload (protection changes, copy-on-write, unmaps, exits).
 *
 * The retry after a fault that fault_fast resolved takes a shortcut on
 * the default shape (sim/tlb_inline.h xl_retry_48s: the one step the
 * walk can take when the PDE cache's last way holds the page's PDE, else
 * xl_miss_48s_retry).  The std runs above take it after every such
 * fault; test_retry also calls it and xl_miss_48s_retry directly on two
 * engines in the same state, for pages where the shortcut applies and
 * where it does not, and compares results and state after each call.
 */
#include "tests/testutil.h"
#include "sim/internal.h"
#include "sim/tlb_inline.h"

enum { STD, TWO, GENERAL };
static const char *const path_name[] = { "std", "two", "general" };

static struct vl_engine *engine(const char *const *sets, int path)
{
	struct vl_engine *e = tu_engine_on("generic", sets);
	struct vl_xlat *xl = &e->xl;
	struct tlb *l2 = NULL;
	for (uint32_t i = 0; i < xl->nt; i++)
		if (!strcmp(xl->t[i].name, "l2"))
			l2 = &xl->t[i];
	assert_non_null(l2);
	if (path == STD) {
		/* the default machine has the shapes under test */
		assert_int_equal(xl->two[XL_DATA], XL_TWO_48S);
		assert_true(xl->psc_std);
		assert_non_null(l2->ord);
		return e;
	}
	for (unsigned kd = 0; kd < 2; kd++)
		if (xl->two[kd])
			xl->two[kd] = path == TWO ? XL_TWO_48 : 0;
	xl->psc_std = false;
	for (uint32_t i = 0; i < xl->nt; i++) {
		free(xl->t[i].ord);
		xl->t[i].ord = NULL;
	}
	return e;
}

#define SAME_ARRAY(field, n, what)                                                          \
	do {                                                                                \
		if ((a->field == NULL) != (b->field == NULL) ||                            \
		    (a->field && memcmp(a->field, b->field, (n) * sizeof(*a->field))))     \
			fail_msg("%s: %s %s: %s differ between the %s and %s paths", label, what, \
				 a->name, #field, pa, pb);                                  \
	} while (0)

static void same_struct(const struct tlb *a, const struct tlb *b, const char *what, const char *label,
			const char *pa, const char *pb)
{
	size_t n = (size_t)a->sets * a->ways;
	assert_int_equal(a->sets, b->sets);
	assert_int_equal(a->ways, b->ways);
	SAME_ARRAY(tag, n, what);
	SAME_ARRAY(ref, n, what);
	SAME_ARRAY(used, n, what);
	SAME_ARRAY(live, a->sets, what);
	SAME_ARRAY(fp, n, what);
	SAME_ARRAY(lru_prev, n, what);
	SAME_ARRAY(lru_next, n, what);
	SAME_ARRAY(lru_head, a->sets, what);
	SAME_ARRAY(lru_tail, a->sets, what);
	/* a chain link of a valid way (an invalid one's is left as it was) */
	for (size_t g = 0; a->hnext && g < n; g++)
		if (a->tag[g] && a->hnext[g] != b->hnext[g])
			fail_msg("%s: %s %s: the hash chain differs at way %zu between the %s and %s paths",
				 label, what, a->name, g, pa, pb);
	SAME_ARRAY(hint, (size_t)a->sets << a->hint_bits, what);
	assert_int_equal(a->hits, b->hits);
}

struct result {
	struct vl_engine *e;
	size_t nc;
	const char *names[256];
	uint64_t values[256];
};

static void compare(const struct result *x, const struct result *y, const char *pa, const char *pb,
		    const char *label)
{
	assert_int_equal(x->nc, y->nc);
	for (size_t i = 0; i < x->nc; i++) {
		assert_string_equal(x->names[i], y->names[i]);
		if (x->values[i] != y->values[i])
			fail_msg("%s: counter %s is %llu on the %s path, %llu on the %s path", label,
				 x->names[i], (unsigned long long)x->values[i], pa,
				 (unsigned long long)y->values[i], pb);
	}
	const struct vl_xlat *a = &x->e->xl, *b = &y->e->xl;
	assert_int_equal(a->nt, b->nt);
	for (uint32_t i = 0; i < a->nt; i++)
		same_struct(&a->t[i], &b->t[i], "TLB", label, pa, pb);
	for (unsigned c = 0; c < 3; c++)
		same_struct(&a->psc[c], &b->psc[c], "walk cache", label, pa, pb);
	if (a->inv_cnt && memcmp(a->inv_cnt, b->inv_cnt, XL_BUCKETS * sizeof(*a->inv_cnt)))
		fail_msg("%s: the INVLPG filters differ between the %s and %s paths", label, pa, pb);
}

/* Run recs three ways and compare; returns the std run's counter value
 * of each name in want (for the caller's checks that the workload did
 * what it is for). */
static void three_ways(const char *const *sets, const struct vl_rec *recs, const struct vl_event *evs,
		       size_t n, const char *label, const char *const *want, uint64_t *got)
{
	static struct result r[3];
	for (int p = STD; p <= GENERAL; p++) {
		r[p].e = engine(sets, p);
		char l[200];
		snprintf(l, sizeof(l), "%s (%s path)", label, path_name[p]);
		tu_feed_events(r[p].e, recs, evs, n, 4096, l);
		r[p].nc = vl_engine_counter_list(r[p].e, r[p].names, r[p].values, 256);
		assert_true(r[p].nc <= 256);
		struct vl_error err = { 0 };
		if (vl_engine_check(r[p].e, &err) < 0)
			fail_msg("%s: %s", l, err.msg);
	}
	compare(&r[STD], &r[TWO], path_name[STD], path_name[TWO], label);
	compare(&r[STD], &r[GENERAL], path_name[STD], path_name[GENERAL], label);
	for (size_t w = 0; want && want[w]; w++) {
		got[w] = UINT64_MAX;
		for (size_t i = 0; i < r[STD].nc; i++)
			if (!strcmp(r[STD].names[i], want[w]))
				got[w] = r[STD].values[i];
		assert_true(got[w] != UINT64_MAX);
	}
	for (int p = STD; p <= GENERAL; p++)
		vl_engine_free(r[p].e);
}

/* Accesses by two processes, seven in ten to a hot set of 600 pages
 * (more than fit the first-level TLBs, fewer than the second level
 * holds), the rest to pages spread over 3 PML4 regions, 6 PDPT regions
 * in each and 64 page tables in each of those; the hot pages are spread
 * the same way, so the walk caches keep missing.  Reads, stores and
 * read-modify-writes, with process switches every few hundred records. */
#define NSPREAD 60000u
static void gen_spread(uint64_t seed, struct vl_rec *recs)
{
	uint64_t s = seed;
	uint32_t pid = 1;
	for (size_t i = 0; i < NSPREAD; i++) {
		uint64_t x = tu_rand(&s), y = tu_rand(&s);
		if (x % 300 == 0)
			pid = 3 - pid;
		uint64_t l4, l3, l2, l1;
		if ((x >> 2) % 10 < 7) {
			uint64_t h = (x >> 8) % 600;
			l4 = h % 3, l3 = h / 3 % 6, l2 = h / 18 % 64, l1 = h / 18 % 32;
		} else {
			l4 = (x >> 8) % 3, l3 = (x >> 10) % 6, l2 = (x >> 14) % 64, l1 = (x >> 20) % 512;
		}
		uint64_t va = (l4 + 1) << 39 | l3 << 30 | l2 << 21 | l1 << 12 | ((y >> 40) & 0xff8);
		unsigned o = (unsigned)((y >> 50) % 10);
		uint8_t op = o < 6 ? VL_OP_READ : o < 9 ? VL_OP_WRITE : VL_OP_MODIFY;
		recs[i] = (struct vl_rec){ .addr = va, .pid = pid, .op = op };
	}
}

static void spread(const char *pcid, const char *frames, uint64_t seed)
{
	struct vl_rec *recs = malloc(NSPREAD * sizeof(*recs));
	assert_non_null(recs);
	gen_spread(seed, recs);
	const char *sets[] = { pcid, frames, "replacement.policy=lru", "run.check=on", NULL };
	static const char *const want[] = { "walks", "psc_hits", "faults", "tlb_l2_hits",
					    "tlb_l2_misses", "evictions", "dirty_updates",
					    "tlb_flushes", NULL };
	uint64_t got[8];
	char label[128];
	snprintf(label, sizeof(label), "spread %s %s seed %llu", pcid, frames,
		 (unsigned long long)seed);
	three_ways(sets, recs, NULL, NSPREAD, label, want, got);
	print_message("  %-48s walks %llu (%llu from the root), faults %llu, L2 hits %llu, "
		      "evictions %llu\n", label, (unsigned long long)got[0],
		      (unsigned long long)(got[0] - got[1]), (unsigned long long)got[2],
		      (unsigned long long)got[3], (unsigned long long)got[5]);
	/* the branches under test were taken */
	assert_true(got[0] > got[1]);  /* walks from the root: PML4E misses */
	assert_true(got[1] > 0);       /* walks from a walk-cache hit */
	assert_true(got[2] > 0);       /* faults, so retries */
	assert_true(got[3] > 0 && got[4] > 0);
	if (!strcmp(frames, "memory.frames=2000"))
		assert_true(got[5] > 0); /* evictions: INVLPG */
	assert_true(got[6] > 0);       /* stores through clean entries */
	if (!strcmp(pcid, "tlb.pcid=off"))
		assert_true(got[7] > 0); /* flushes: stale generations in the sets */
	free(recs);
}

static void test_spread(void **state)
{
	(void)state;
	spread("tlb.pcid=off", "memory.frames=2000", 1);
	spread("tlb.pcid=on", "memory.frames=2000", 2);
	spread("tlb.pcid=off", "memory.frames=100000", 3);
}

/* The model stress workload of test_model_stress.c (address-space
 * events, sharing, copy-on-write, exits) under each personality. */
#define NSTRESS 40000u
static void stress(const char *os, const char *pcid, uint64_t seed)
{
	struct vl_rec *recs = malloc(NSTRESS * sizeof(*recs));
	struct vl_event *evs = malloc(NSTRESS * sizeof(*evs));
	assert_non_null(recs);
	assert_non_null(evs);
	size_t nev;
	tu_gen_vm(seed, NSTRESS, recs, evs, &nev);
	char o[64];
	snprintf(o, sizeof(o), "os.personality=%s", os);
	const char *sets[] = { o, pcid, "memory.frames=48", "run.check=on", "pagefile.size=64M",
			       "memory.pt_frames=on", NULL };
	static const char *const want[] = { "walks", "faults", NULL };
	uint64_t got[2];
	char label[128];
	snprintf(label, sizeof(label), "stress %s %s seed %llu", os, pcid, (unsigned long long)seed);
	three_ways(sets, recs, evs, NSTRESS, label, want, got);
	assert_true(got[0] > 0 && got[1] > 0);
	free(recs);
	free(evs);
}

static void test_stress(void **state)
{
	(void)state;
	stress("textbook", "tlb.pcid=off", 1);
	stress("linux", "tlb.pcid=on", 2);
	stress("windows", "tlb.pcid=off", 3);
}

/* xl_retry_48s against xl_miss_48s_retry, called directly on two engines
 * in the same state (the spread workload's first half fed to both, with
 * memory for every page), for each present page of the second half in
 * turn, twice: the first retry of a page mostly finds another region's
 * PDE in the PDE cache's last way (the general retry), the second finds
 * the page's own (the shortcut).  A retry is valid on any present leaf
 * that allows the access. */
static void test_retry(void **state)
{
	(void)state;
	struct vl_rec *recs = malloc(NSPREAD * sizeof(*recs));
	assert_non_null(recs);
	gen_spread(4, recs);
	const char *sets[] = { "tlb.pcid=off", "memory.frames=100000", "replacement.policy=lru",
			       NULL };
	static struct result r[2];
	for (int p = 0; p < 2; p++) {
		r[p].e = engine(sets, STD);
		tu_feed_events(r[p].e, recs, NULL, NSPREAD / 2, 4096, "retry warm-up");
	}
	uint64_t fast = 0, general = 0, prev2 = UINT64_MAX;
	for (size_t i = NSPREAD / 2; i < NSPREAD; i++) {
		struct vl_engine *a = r[0].e, *b = r[1].e;
		uint64_t va = recs[i].addr;
		if (recs[i].pid != a->last_pid)
			continue;
		uint32_t li = pt_walk(&a->pt, a->procs[a->last_proc].root, va);
		if (li == VL_NIL || !(a->pt.e[li] & PTE_P))
			continue;
		bool write = recs[i].op != VL_OP_READ && (a->pt.e[li] & PTE_RW);
		/* twice: the second retry finds the PDE the first one's walk
		 * hit or filled in the last way */
		for (int twice = 0; twice < 2; twice++) {
			const struct tlb *pde = &a->xl.psc[2];
			bool hit = pde->tag[pde->last] ==
				   XL_KEY(a->xl.asid, (va >> 21) & ((1ull << 27) - 1), 0);
			fast += hit;
			general += !hit;
			/* (the shortcut's condition, worked out apart from it:
			 * the region of the page retried just before) */
			if ((va >> 21) == prev2)
				assert_true(hit);
			prev2 = va >> 21;
			/* the page in no TLB, as after the fault that evicted
			 * it or never mapped it (a retry fills both levels) */
			xl_invlpg(a, a->last_proc, (va >> 12) & ((1ull << 36) - 1));
			xl_invlpg(b, b->last_proc, (va >> 12) & ((1ull << 36) - 1));
			/* each retry an access of its own: its own use stamps */
			a->time++;
			b->time++;
			uint64_t ta = xl_retry_48s(a, va, XL_DATA, write, li);
			uint64_t tb = xl_miss_48s_retry(b, va, XL_DATA, write);
			if (ta != tb)
				fail_msg("retry of va 0x%llx: translation 0x%llx, the general retry's "
					 "0x%llx", (unsigned long long)va, (unsigned long long)ta,
					 (unsigned long long)tb);
			assert_int_equal(ta, XL_TRANSLATION(li, 12));
			char label[80];
			snprintf(label, sizeof(label), "retry of va 0x%llx", (unsigned long long)va);
			for (int p = 0; p < 2; p++) {
				r[p].nc = vl_engine_counter_list(r[p].e, r[p].names, r[p].values, 256);
				assert_true(r[p].nc <= 256);
			}
			compare(&r[0], &r[1], "xl_retry_48s", "xl_miss_48s_retry", label);
		}
	}
	print_message("  retries: %llu through the shortcut, %llu through the general retry\n",
		      (unsigned long long)fast, (unsigned long long)general);
	assert_true(fast > 100 && general > 100);
	for (int p = 0; p < 2; p++) {
		struct vl_error err = { 0 };
		if (vl_engine_check(r[p].e, &err) < 0)
			fail_msg("after the retries: %s", err.msg);
		vl_engine_free(r[p].e);
	}
	free(recs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spread),
		cmocka_unit_test(test_stress),
		cmocka_unit_test(test_retry),
	};
	return cmocka_run_group_tests_name("TLB miss paths: shape-specific against general", tests,
					   NULL, NULL);
}
