/* tests/golden/test_thp_stress.c - the linux THP rules under pressure.
 *
 * Random traces over 8 MiB per process with COMMIT / DECOMMIT / ADVISE
 * events, reads and writes, and memory too small to hold it all, so 2 MiB
 * pages are mapped, evicted page by page, decommitted and faulted again;
 * the invariant checker runs after every batch.  Then exact counts on a
 * fixed pattern, derived by hand:
 *   thp.enabled = always, 4 MiB committed at a 2 MiB boundary, one write
 *   per page: 2 faults (one per 2 MiB range), 1024 pages resident;
 *   the same with thp.enabled = never: 1024 faults;
 *   thp.enabled = always but ADVISE nohugepage: 1024 faults.
 */
#include "tests/testutil.h"

#define BASE 0x40000000ull
#define NRECS 12000

static void feed_one(struct vl_engine *e, struct vl_rec r, const struct vl_event *ev)
{
	struct vl_error err = { 0 };
	struct vl_batch b;
	if (vl_batch_init(&b, 4, &err) < 0)
		fail_msg("%s", err.msg);
	if (ev) {
		b.events[0] = *ev;
		r.addr = 0;
		b.n_events = 1;
	}
	b.recs[b.n++] = r;
	if (vl_engine_feed(e, &b, &err) < 0)
		fail_msg("feed: %s", err.msg);
	vl_batch_free(&b);
}

static void event(struct vl_engine *e, uint32_t pid, uint32_t kind, uint64_t addr, uint64_t len,
		  uint32_t prot)
{
	struct vl_event ev = { .kind = kind, .addr = addr, .len = len, .prot = prot };
	feed_one(e, (struct vl_rec){ .pid = pid, .op = VL_OP_EVENT }, &ev);
}

static void access1(struct vl_engine *e, uint32_t pid, uint64_t addr, uint8_t op)
{
	feed_one(e, (struct vl_rec){ .addr = addr, .pid = pid, .op = op }, NULL);
}

/* Engine with the TLBs and walk caches of the generic machine (tlb = 1),
 * of amd-zen3 (tlb = 2: fully associative L1s and a 2048-entry L2 DTLB
 * keep old translations long enough for a missing invalidation to show)
 * or none (tlb = 0), from NULL-terminated settings. */
static struct vl_engine *engine(int tlb, const char *const *sets)
{
	return tu_engine_on(tlb == 2 ? "amd-zen3" : tlb ? "generic" : NULL, sets);
}

/* Runs of one workload with and without TLBs made the same memory-manager
 * decisions. */
static void same_decisions(const struct vl_counters *on, const struct vl_counters *off)
{
	assert_int_equal(on->faults, off->faults);
	assert_int_equal(on->faults_cow, off->faults_cow);
	assert_int_equal(on->faults_hard, off->faults_hard);
	assert_int_equal(on->evictions, off->evictions);
	assert_int_equal(on->writebacks, off->writebacks);
	assert_int_equal(on->access_violations, off->access_violations);
	assert_int_equal(on->large_pages_mapped, off->large_pages_mapped);
	assert_int_equal(on->large_page_splits, off->large_page_splits);
}

static struct vl_counters stress(const char *mode, const char *frames, uint64_t seed, int tlb)
{
	char m[64];
	snprintf(m, sizeof(m), "thp.enabled=%s", mode);
	const char *sets[] = { "os.personality=linux", "anon.zero_page=on", m, frames,
			       "memory.pt_frames=on", "pagefile.size=256M", "run.check=on",
			       "replacement.policy=clock", NULL };
	struct vl_engine *e = engine(tlb, sets);
	uint64_t s = seed;
	for (uint32_t pid = 1; pid <= 2; pid++) {
		event(e, pid, VL_EV_COMMIT, BASE, 8u << 20, VL_PROT_READWRITE);
		event(e, pid, VL_EV_ADVISE, BASE, 8u << 20, VL_ADV_HUGEPAGE);
	}
	for (size_t i = 0; i < NRECS; i++) {
		uint64_t x = tu_rand(&s);
		uint32_t pid = 1 + (uint32_t)(x & 1);
		uint64_t page = (x >> 8) % 2048;
		unsigned k = (unsigned)((x >> 40) % 1000);
		if (k < 3) { /* decommit all or half of a 2 MiB range, recommit it */
			uint64_t r = BASE + (((x >> 50) % 4) << 21);
			event(e, pid, VL_EV_DECOMMIT, r, (x >> 53) & 1 ? 2u << 20 : 1u << 20, 0);
			event(e, pid, VL_EV_COMMIT, r, 2u << 20, VL_PROT_READWRITE);
			continue;
		}
		access1(e, pid, BASE + (page << 12), (x >> 30) % 3 ? VL_OP_READ : VL_OP_WRITE);
	}
	struct vl_counters c = *vl_engine_counters(e);
	assert_int_equal(c.faults, c.faults_demand_zero + c.faults_soft + c.faults_hard + c.faults_cow);
	assert_int_equal(c.access_violations, 0);
	print_message("  thp=%-7s %-18s tlb %d: faults %llu (dz %llu cow %llu hard %llu) evicted %llu, "
		      "huge %llu split %llu, walks %llu\n",
		      mode, frames, tlb, (unsigned long long)c.faults,
		      (unsigned long long)c.faults_demand_zero, (unsigned long long)c.faults_cow,
		      (unsigned long long)c.faults_hard, (unsigned long long)c.evictions,
		      (unsigned long long)c.large_pages_mapped, (unsigned long long)c.large_page_splits,
		      (unsigned long long)c.walks);
	vl_engine_free(e);
	return c;
}

/* With and without TLBs the memory manager decides alike: a huge page's
 * accessed and dirty bits are one bit each in both, and every change of a
 * PTE drops the translations it makes stale (the checker verifies each
 * cached 2 MiB translation of a huge page against its node). */
static void test_stress(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 2; seed++) {
		static const char *const runs[][2] = { { "madvise", "memory.frames=1500" },
						       { "always", "memory.frames=5000" } };
		for (size_t r = 0; r < 2; r++) {
			struct vl_counters off = stress(runs[r][0], runs[r][1], seed, 0);
			struct vl_counters on = stress(runs[r][0], runs[r][1], seed, 1);
			struct vl_counters zen = stress(runs[r][0], runs[r][1], seed, 2);
			assert_true(off.large_pages_mapped > 0);
			assert_true(off.large_page_splits > 0);
			assert_true(on.walks < off.walks); /* the TLBs were used */
			same_decisions(&on, &off);
			same_decisions(&zen, &off);
		}
	}
}

/* A second workload, found by a longer randomised search: two processes
 * over 16 MiB (huge pages under madvise), with decommits of parts of 2 MiB
 * ranges, recommits, and mprotect of a few pages to read-only and back, so
 * huge zero pages, huge pages, splits and 4 KiB pages mix; the checker
 * runs after every batch of 60 records.  With PCIDs, translations survive
 * the switches between the two processes: on amd-zen3 this once caught
 * 4 KiB translations of the huge zero page surviving its replacement by
 * a huge page.  Counters must agree with and without TLBs. */
#define NMIXED 60000
static struct vl_counters mixed(uint64_t seed, int tlb, bool khp)
{
	static const char *const pols[] = { "clock", "lru", "sieve", "linux-lru", "fifo" };
	char po[64];
	snprintf(po, sizeof(po), "replacement.policy=%s", pols[seed % 5]);
	/* with khugepaged, memory for all of it: ranges with paged-out pages
	 * do not collapse, nor do they without a free 2 MiB block */
	const char *sets[] = { "os.personality=linux", "thp.enabled=madvise",
			       khp ? "memory.frames=16000" : "memory.frames=3000", po,
			       "memory.pt_frames=on", "pagefile.size=256M", "run.check=on",
			       "anon.zero_page=on",
			       khp ? "thp.khugepaged=on" : "thp.khugepaged=off",
			       "thp.khugepaged.interval=500",
			       tlb ? "tlb.pcid=on" : NULL, NULL };
	struct vl_engine *e = engine(tlb, sets);
	struct vl_error err = { 0 };
	struct vl_batch b;
	if (vl_batch_init(&b, 64, &err) < 0)
		fail_msg("%s", err.msg);
	uint64_t s = seed * 7919;
	for (size_t i = 0; i < NMIXED;) {
		vl_batch_reset(&b);
		while (i < NMIXED && b.n < 60) {
			uint64_t x = tu_rand(&s);
			uint32_t pid = 1 + (uint32_t)(x & 1);
			unsigned k = (unsigned)((x >> 40) % 1000);
			i++;
			if (i <= 4) { /* commit 16 MiB in processes 2 and 1, then advise */
				b.events[b.n_events] = (struct vl_event){
					.kind = i <= 2 ? VL_EV_COMMIT : VL_EV_ADVISE, .addr = BASE,
					.len = 16u << 20, .prot = i <= 2 ? VL_PROT_READWRITE : VL_ADV_HUGEPAGE };
				b.recs[b.n++] = (struct vl_rec){ .addr = b.n_events++, .pid = 1 + (i % 2),
								 .op = VL_OP_EVENT };
				continue;
			}
			if (k < 12) {
				uint64_t r = BASE + (((x >> 50) % 8) << 21);
				struct vl_event ev;
				switch (k % 4) {
				case 0: ev = (struct vl_event){ .kind = VL_EV_DECOMMIT,
								.addr = r + (((x >> 20) % 4) << 16),
								.len = (1 + (x >> 30) % 64) << 12 }; break;
				case 1: ev = (struct vl_event){ .kind = VL_EV_COMMIT, .addr = r,
								.len = 2u << 20, .prot = VL_PROT_READWRITE }; break;
				case 2: ev = (struct vl_event){ .kind = VL_EV_PROTECT,
								.addr = r + (((x >> 20) % 512) << 12),
								.len = (1 + (x >> 30) % 8) << 12,
								.prot = (x >> 36) & 1 ? VL_PROT_READONLY
										       : VL_PROT_READWRITE }; break;
				default: ev = (struct vl_event){ .kind = VL_EV_PROTECT, .addr = r,
								 .len = 2u << 20, .prot = VL_PROT_READWRITE }; break;
				}
				b.events[b.n_events] = ev;
				b.recs[b.n++] = (struct vl_rec){ .addr = b.n_events++, .pid = pid,
								 .op = VL_OP_EVENT };
				continue;
			}
			uint64_t page = (x >> 60) % 4 == 0 ? (x >> 8) % 64 : (x >> 8) % 4096;
			b.recs[b.n++] = (struct vl_rec){ .addr = BASE + (page << 12), .pid = pid,
							 .op = (x >> 30) % 3 ? VL_OP_READ : VL_OP_WRITE };
		}
		if (vl_engine_feed(e, &b, &err) < 0)
			fail_msg("seed %llu tlb %d: %s", (unsigned long long)seed, tlb, err.msg);
	}
	vl_batch_free(&b);
	struct vl_counters c = *vl_engine_counters(e);
	vl_engine_free(e);
	return c;
}

static void test_mixed(void **state)
{
	(void)state;
	const uint64_t seed = 40;
	for (int khp = 0; khp <= 1; khp++) {
	struct vl_counters off = mixed(seed, 0, khp);
	for (int tlb = 1; tlb <= 2; tlb++) {
		struct vl_counters on = mixed(seed, tlb, khp);
		same_decisions(&on, &off);
	}
	print_message("  seed %llu khugepaged %d: faults %llu, huge pages %llu (collapsed %llu), "
		      "splits %llu, violations %llu\n",
		      (unsigned long long)seed, khp, (unsigned long long)off.faults,
		      (unsigned long long)off.large_pages_mapped,
		      (unsigned long long)off.large_page_promotions,
		      (unsigned long long)off.large_page_splits,
		      (unsigned long long)off.access_violations);
	assert_true(off.large_pages_mapped > 0);
	assert_true(khp ? off.large_page_promotions > 0 : off.large_page_promotions == 0);
	}
}

/* Exact translation counts over 64 MiB of huge pages, derived by hand.
 * Process 1 commits 64 MiB at 1 GiB (one PDPTE, 32 PDEs) with
 * thp.enabled = always, and writes one word per 4 KiB page in order:
 *   - 32 faults, one per 2 MiB range, 32 huge pages;
 *   - without TLBs every access walks, and the walk of a huge page stops
 *     at its PDE: 3 references per access, 32768 walks over two passes;
 *   - with the generic machine, the first access of each range misses
 *     both levels and walks (32 walks; the walk that found the PTE
 *     missing is not counted), the other 511 hit the 2 MiB L1 DTLB
 *     (32 entries, 4 ways: the 32 consecutive ranges fill its 8 sets
 *     exactly), so a second pass hits it 16384 times and walks never;
 *     the 4 KiB L1 DTLB is never filled;
 *   - mprotect of one 4 KiB page in range 5 to read-only splits that
 *     page (1 split); a third pass of reads then walks 512 times (every
 *     page of range 5, now 4 KiB pages new to both levels) and hits the
 *     2 MiB L1 DTLB for the other 31 x 512 accesses.
 * With thp.enabled = never: 16384 faults and 4 references per walk. */

static void pass(struct vl_engine *e, uint8_t op)
{
	struct vl_rec *r = malloc(16384 * sizeof(*r));
	assert_non_null(r);
	for (uint64_t p = 0; p < 16384; p++)
		r[p] = (struct vl_rec){ .addr = BASE + (p << 12) + 8, .pid = 1, .op = op };
	tu_feed(e, r, 16384);
	free(r);
}

static void test_tlb_reach(void **state)
{
	(void)state;
	const char *sets[] = { "os.personality=linux", "thp.enabled=always", "memory.frames=20000",
			       "run.check=on", NULL };
	/* without TLBs */
	struct vl_engine *e = engine(0, sets);
	event(e, 1, VL_EV_COMMIT, BASE, 64u << 20, VL_PROT_READWRITE);
	pass(e, VL_OP_WRITE);
	assert_int_equal(tu_counter(e, "faults"), 32);
	assert_int_equal(tu_counter(e, "large_pages_mapped"), 32);
	pass(e, VL_OP_READ);
	assert_int_equal(tu_counter(e, "walks"), 32768);
	assert_int_equal(tu_counter(e, "walk_refs"), 3 * 32768);
	vl_engine_free(e);

	/* with the generic machine */
	e = engine(1, sets);
	event(e, 1, VL_EV_COMMIT, BASE, 64u << 20, VL_PROT_READWRITE);
	pass(e, VL_OP_WRITE);
	assert_int_equal(tu_counter(e, "faults"), 32);
	assert_int_equal(tu_counter(e, "walks"), 32);
	assert_int_equal(tu_counter(e, "tlb_l1d_misses"), 32);
	assert_int_equal(tu_counter(e, "tlb_l2_misses"), 32);
	assert_int_equal(tu_counter(e, "tlb_l1d2m_hits"), 16384 - 32);
	assert_int_equal(tu_counter(e, "tlb_l1d_hits"), 0);
	pass(e, VL_OP_READ);
	assert_int_equal(tu_counter(e, "walks"), 32);
	assert_int_equal(tu_counter(e, "tlb_l1d_misses"), 32);
	assert_int_equal(tu_counter(e, "tlb_l1d2m_hits"), 2 * 16384 - 32);
	event(e, 1, VL_EV_PROTECT, BASE + (5u << 21) + (7u << 12), 4096, VL_PROT_READONLY);
	assert_int_equal(tu_counter(e, "large_page_splits"), 1);
	pass(e, VL_OP_READ);
	assert_int_equal(tu_counter(e, "walks"), 32 + 512);
	assert_int_equal(tu_counter(e, "tlb_l1d_misses"), 32 + 512);
	assert_int_equal(tu_counter(e, "tlb_l1d2m_hits"), 2 * 16384 - 32 + 31 * 512);
	assert_int_equal(tu_counter(e, "faults"), 32);
	vl_engine_free(e);

	/* freeing a whole huge page is not a split; freeing part of one is */
	e = engine(1, sets);
	event(e, 1, VL_EV_COMMIT, BASE, 4u << 20, VL_PROT_READWRITE);
	access1(e, 1, BASE, VL_OP_WRITE);
	access1(e, 1, BASE + (2u << 20), VL_OP_WRITE);
	assert_int_equal(tu_counter(e, "large_pages_mapped"), 2);
	event(e, 1, VL_EV_DECOMMIT, BASE, 2u << 20, 0);
	assert_int_equal(tu_counter(e, "large_page_splits"), 0);
	event(e, 1, VL_EV_DECOMMIT, BASE + (2u << 20) + (3u << 12), 4096, 0);
	assert_int_equal(tu_counter(e, "large_page_splits"), 1);
	vl_engine_free(e);

	/* thp.enabled = never, without TLBs */
	const char *never[] = { "os.personality=linux", "thp.enabled=never", "memory.frames=20000",
				NULL };
	e = engine(0, never);
	event(e, 1, VL_EV_COMMIT, BASE, 64u << 20, VL_PROT_READWRITE);
	pass(e, VL_OP_WRITE);
	assert_int_equal(tu_counter(e, "faults"), 16384);
	assert_int_equal(tu_counter(e, "large_pages_mapped"), 0);
	assert_int_equal(tu_counter(e, "walk_refs"), 4 * 16384);
	vl_engine_free(e);
}

static uint64_t pass_faults(const char *mode, bool nohuge, uint64_t *resident)
{
	char m[64];
	snprintf(m, sizeof(m), "thp.enabled=%s", mode);
	struct vl_engine *e = tu_engine("os.personality=linux", "anon.zero_page=on", m,
					"memory.frames=4096", "run.check=on", NULL);
	event(e, 1, VL_EV_COMMIT, BASE, 4u << 20, VL_PROT_READWRITE);
	if (nohuge)
		event(e, 1, VL_EV_ADVISE, BASE, 4u << 20, VL_ADV_NOHUGEPAGE);
	for (uint64_t p = 0; p < 1024; p++)
		access1(e, 1, BASE + (p << 12), VL_OP_WRITE);
	const struct vl_counters *c = vl_engine_counters(e);
	uint64_t f = c->faults;
	*resident = c->resident_peak;
	vl_engine_free(e);
	return f;
}

static void test_exact(void **state)
{
	(void)state;
	uint64_t res;
	assert_int_equal(pass_faults("always", false, &res), 2);
	assert_int_equal(res, 1024);
	assert_int_equal(pass_faults("never", false, &res), 1024);
	assert_int_equal(pass_faults("always", true, &res), 1024);
}

/* khugepaged, counted by hand.  thp.enabled = madvise: 4 MiB committed
 * at a 2 MiB boundary and written at pages 0..99 and 519 before any
 * advice, so they fault as 101 4 KiB pages; then V ADVISE hugepage makes
 * both 2 MiB ranges eligible.  Reads of page 0 follow.  The scan before
 * access 1000 looks at one range when pages_to_scan = 512 (range 0:
 * 100 present, 412 empty, <= 511), the one before access 2000 at the next
 * (range 1: 1 present, 511 empty).  Each collapse copies the present
 * pages and maps a huge page, so reading all 1024 pages afterwards faults
 * never and, with the generic machine, walks once: range 0's 2 MiB
 * translation is cached already (the reads of page 0 after its collapse
 * walked once and filled it, and range 1's collapse invalidates only range
 * 1), so its 512 reads hit the 2 MiB L1 DTLB, range 1's first read walks
 * and its other 511 hit.  With max_ptes_none = 450 only
 * range 0 qualifies; with khugepaged off, the 923 untouched pages fault
 * one by one (their ranges already have page tables: no fault-time THP). */
static const char *khp_os = "os.personality=linux";

static struct vl_engine *khp_run_mode(int tlb, const char *mode, const char *none, const char *on,
				      uint64_t reads)
{
	const char *sets[] = { khp_os, mode, on,
			       "thp.khugepaged.interval=1000", "thp.khugepaged.pages_to_scan=512", none,
			       "memory.frames=4096", "run.check=on", NULL };
	struct vl_engine *e = engine(tlb, sets);
	event(e, 1, VL_EV_COMMIT, BASE, 4u << 20, VL_PROT_READWRITE);
	for (uint64_t p = 0; p < 100; p++)
		access1(e, 1, BASE + (p << 12), VL_OP_WRITE);
	access1(e, 1, BASE + (519u << 12), VL_OP_WRITE);
	event(e, 1, VL_EV_ADVISE, BASE, 4u << 20, VL_ADV_HUGEPAGE);
	struct vl_rec *r = malloc(reads * sizeof(*r));
	assert_non_null(r);
	for (uint64_t i = 0; i < reads; i++)
		r[i] = (struct vl_rec){ .addr = BASE, .pid = 1, .op = VL_OP_READ };
	tu_feed(e, r, reads);
	free(r);
	return e;
}

static struct vl_engine *khp_run(int tlb, const char *none, const char *on, uint64_t reads)
{
	return khp_run_mode(tlb, "thp.enabled=madvise", none, on, reads);
}

static void read_all(struct vl_engine *e)
{
	struct vl_rec *r = malloc(1024 * sizeof(*r));
	assert_non_null(r);
	for (uint64_t p = 0; p < 1024; p++)
		r[p] = (struct vl_rec){ .addr = BASE + (p << 12), .pid = 1, .op = VL_OP_READ };
	tu_feed(e, r, 1024);
	free(r);
}

static void test_khugepaged(void **state)
{
	(void)state;
	const char *on = "thp.khugepaged=on", *all = "thp.khugepaged.max_ptes_none=511";
	/* the first scan (before access 1000) collapses range 0 only */
	struct vl_engine *e = khp_run(0, all, on, 1500 - 101);
	assert_int_equal(tu_counter(e, "faults"), 101);
	assert_int_equal(tu_counter(e, "large_page_promotions"), 1);
	assert_int_equal(tu_counter(e, "large_page_copies"), 100);
	vl_engine_free(e);
	/* the second (before access 2000) range 1; then nothing faults */
	e = khp_run(0, all, on, 2500 - 101);
	assert_int_equal(tu_counter(e, "large_page_promotions"), 2);
	assert_int_equal(tu_counter(e, "large_pages_mapped"), 2);
	assert_int_equal(tu_counter(e, "large_page_copies"), 101);
	read_all(e);
	assert_int_equal(tu_counter(e, "faults"), 101);
	vl_engine_free(e);
	/* with TLBs: one walk per huge page for the 1024 reads */
	e = khp_run(1, all, on, 2500 - 101);
	uint64_t w0 = tu_counter(e, "walks"), h0 = tu_counter(e, "tlb_l1d2m_hits");
	read_all(e);
	assert_int_equal(tu_counter(e, "walks") - w0, 1);
	assert_int_equal(tu_counter(e, "tlb_l1d2m_hits") - h0, 1023);
	assert_int_equal(tu_counter(e, "faults"), 101);
	vl_engine_free(e);
	/* max_ptes_none = 450: range 1 (511 empty) stays 4 KiB */
	e = khp_run(0, "thp.khugepaged.max_ptes_none=450", on, 2500 - 101);
	assert_int_equal(tu_counter(e, "large_page_promotions"), 1);
	read_all(e);
	assert_int_equal(tu_counter(e, "faults"), 101 + 511);
	vl_engine_free(e);
	/* thp.enabled = never: khugepaged does nothing either */
	e = khp_run_mode(0, "thp.enabled=never", all, on, 2500 - 101);
	assert_int_equal(tu_counter(e, "large_page_promotions"), 0);
	assert_int_equal(tu_counter(e, "large_pages_mapped"), 0);
	vl_engine_free(e);
	/* khugepaged off */
	e = khp_run(0, all, "thp.khugepaged=off", 2500 - 101);
	assert_int_equal(tu_counter(e, "large_page_promotions"), 0);
	read_all(e);
	assert_int_equal(tu_counter(e, "faults"), 1024);
	vl_engine_free(e);
	/* THP and khugepaged are keys, not a personality: textbook and linux
	 * share the global resident-set manager, so with the same keys every
	 * counter is the same (until 0.3 khugepaged was refused outside linux) */
	e = khp_run(0, all, on, 1500 - 101);
	khp_os = "os.personality=textbook";
	struct vl_engine *t = khp_run(0, all, on, 1500 - 101);
	khp_os = "os.personality=linux";
	const char *names[128], *tnames[128];
	uint64_t v[128], tv[128];
	size_t n = vl_engine_counter_list(e, names, v, 128);
	assert_int_equal(vl_engine_counter_list(t, tnames, tv, 128), n);
	assert_true(n <= 128);
	for (size_t i = 0; i < n; i++) {
		if (v[i] != tv[i])
			fail_msg("%s: linux %llu, textbook %llu", names[i], (unsigned long long)v[i],
				 (unsigned long long)tv[i]);
	}
	assert_int_equal(tu_counter(t, "large_page_promotions"), 1);
	vl_engine_free(t);
	vl_engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_stress),
		cmocka_unit_test(test_tlb_reach),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_khugepaged),
	};
	return cmocka_run_group_tests_name("thp", tests, NULL, NULL);
}
