/* tests/unit/test_swap.c - the linux swap cache and swap readahead
 * (sim/swap.c) against sequences derived by hand from the kernel's rules.
 *
 * The rules (mm/swap_state.c, Linux 6.x; mm/memory.c do_swap_page):
 *   window = __swapin_nr_pages(prev, offset, hits, max, prev_win):
 *     hits + 2, rounded up to a power of two >= 4; with 0 hits: 2 when
 *     offset = prev +- 1, else 1; then at most max, at least prev_win / 2.
 *   cluster readahead: offset = slot + 1 (offset 0 is the swap header);
 *     hits = readahead pages used since the last readahead (then zeroed),
 *     initially 4; prev = the last offset read with 0 hits (initially 0);
 *     reads the slots of the aligned block [offset & ~(w-1), offset | (w-1)]
 *     whose pages are out of memory, in slot order.
 *   VMA readahead: per VMA (vpn, win, hits), unused = (0, 0, 4 hits); a
 *     miss computes win from (prev vpn, vpn, hits, min(max, 32), win) and
 *     stores (vpn, win, 0); the window starts at vpn when prev = vpn - 1,
 *     ends at vpn when prev = vpn + 1, else starts (win - 1) / 2 before;
 *     clipped to the 2 MiB range of vpn; a swap-cache hit stores (vpn,
 *     win, hits + 1 if the page came by readahead).
 *   A fault that reads is major; one that finds its page in the swap cache
 *   is minor.
 *
 * The machine of every case: 8 frames, fifo (the victim is the page that
 * entered memory first: readahead pages enter in the order read),
 * page_cluster 2 (windows of at most 4), no page tables in frames.  Each
 * case first writes pages 0..15 of a 2 MiB-aligned range: 16 demand-zero
 * faults; fifo evicts pages 0..7 (dirty: 8 writebacks) as 8..15 come in,
 * and the cluster allocator (its cursor moving up cluster 0, whose offset
 * 0 is the header) gives page i slot i.  So at the start of every
 * scan pages 8..15 are resident (fifo order 8..15) and pages 0..7 sit in
 * slots 0..7; a page evicted later gets the next slot (8, 9, ...).
 */
#include "sim/internal.h"
#include "tests/testutil.h"

#define BASE 0x10000000ull /* vpn 0x10000: 2 MiB aligned */

static struct vl_engine *machine(bool vma)
{
	return tu_engine("os.personality=linux", "memory.frames=8", "replacement.policy=fifo",
			 "swap.cache=on", "swap.page_cluster=2",
			 vma ? "swap.rotational=off" : "swap.rotational=on", "swap.vma_readahead=on",
			 "run.check=on", NULL);
}

/* Write pages 0..15, then access the pages of `order` (op each). */
static struct vl_engine *run(bool vma, const unsigned *order, size_t n, uint8_t op)
{
	struct vl_engine *e = machine(vma);
	struct vl_rec r[64];
	size_t k = 0;
	for (unsigned p = 0; p < 16; p++)
		r[k++] = (struct vl_rec){ .addr = BASE + ((uint64_t)p << 12), .pid = 1,
					  .op = VL_OP_WRITE };
	for (size_t i = 0; i < n; i++)
		r[k++] = (struct vl_rec){ .addr = BASE + ((uint64_t)order[i] << 12), .pid = 1,
					  .op = op };
	tu_feed(e, r, k);
	struct vl_error err = { 0 };
	if (vl_engine_check(e, &err) < 0)
		fail_msg("check: %s", err.msg);
	return e;
}

struct want {
	uint64_t major, minor_swap, ra_read, ra_used, reads, evictions, writebacks;
};

static void expect(struct vl_engine *e, struct want w)
{
	assert_int_equal(tu_counter(e, "faults_demand_zero"), 16);
	assert_int_equal(tu_counter(e, "major_faults"), w.major);
	assert_int_equal(tu_counter(e, "faults_hard"), w.major);
	assert_int_equal(tu_counter(e, "swapcache_hits"), w.minor_swap);
	assert_int_equal(tu_counter(e, "faults_soft"), w.minor_swap);
	assert_int_equal(tu_counter(e, "minor_faults"), 16 + w.minor_swap);
	assert_int_equal(tu_counter(e, "swap_ra_pages"), w.ra_read);
	assert_int_equal(tu_counter(e, "swap_ra_hits"), w.ra_used);
	assert_int_equal(tu_counter(e, "pagefile_reads"), w.reads);
	assert_int_equal(tu_counter(e, "evictions"), w.evictions);
	assert_int_equal(tu_counter(e, "writebacks"), w.writebacks);
}

/* Cluster readahead, reading pages 0..10 in order.
 *   read 0: slot 0, offset 1; hits 4 -> 6 -> 8 -> max 4; prev stays 0 (hits
 *     were not 0), last 4; block [0 -> 1, 3] = slots 0..2: page 0 (the
 *     fault), 1 and 2 (readahead); fifo evicts 8, 9, 10 (dirty: written,
 *     slots 8, 9, 10).  major 1, readahead 2.
 *   read 1, 2: swap-cache hits (minor), readahead pages: hits 2.
 *   read 3: slot 3, offset 4; hits 2 -> 4; at least 4/2; block [4, 7] =
 *     slots 3..6: page 3, readahead 4, 5, 6; evicts 11..14 (written).
 *   read 4, 5, 6: hits, hits 3.
 *   read 7: slot 7, offset 8; hits 3 -> 5 -> 8 -> 4; block [8, 11] = slots
 *     7..10: page 7, readahead 8, 9, 10 (paged out by the first read);
 *     evicts 15 (written), then 0, 1, 2: read and never written, each
 *     keeps its slot and leaves without a write.
 *   read 8, 9, 10: hits.
 * major 3 (0, 3, 7), minor 8, readahead 2 + 3 + 3 = 8, all used; reads
 * 3 + 4 + 4 = 11; evictions 8 + 3 + 4 + 4 = 19; writebacks 8 + 3 + 4 + 1. */
static void test_cluster_sequential(void **state)
{
	(void)state;
	static const unsigned order[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct vl_engine *e = run(false, order, 11, VL_OP_READ);
	expect(e, (struct want){ .major = 3, .minor_swap = 8, .ra_read = 8, .ra_used = 8,
				 .reads = 11, .evictions = 19, .writebacks = 16 });
	vl_engine_free(e);
}

/* Cluster readahead, reading pages 7..0 (reverse).
 *   read 7: slot 7, offset 8; hits 4 -> 4 pages; prev stays 0; block
 *     [8, 11] = slots 7..10, only slot 7 in use: page 7 alone; evicts 8.
 *   read 6: slot 6, offset 7; hits 0, 7 is not next to 0: 1, but at least
 *     last 4 / 2 = 2; prev = 7, last 2; block [6, 7] = slots 5, 6:
 *     readahead 5, page 6; evicts 9, 10.
 *   read 5: hit (hits 1).
 *   read 4: slot 4, offset 5; hits 1 -> 3 -> 4; block [4, 7] = slots 3..6:
 *     5 and 6 are in memory: readahead 3, page 4; evicts 11, 12.
 *   read 3: hit (hits 1).
 *   read 2: slot 2, offset 3; hits 1 -> 4; block [0 -> 1, 3] = slots 0..2:
 *     readahead 0, 1, page 2; evicts 13, 14, 15.
 *   read 1, 0: hits.
 * major 4 (7, 6, 4, 2), minor 4 (5, 3, 1, 0), readahead 4, all used;
 * every page read once: 8 reads; evictions 8 + 8; writebacks 8 + 8 (pages
 * 8..15 were written). */
static void test_cluster_reverse(void **state)
{
	(void)state;
	static const unsigned order[] = { 7, 6, 5, 4, 3, 2, 1, 0 };
	struct vl_engine *e = run(false, order, 8, VL_OP_READ);
	expect(e, (struct want){ .major = 4, .minor_swap = 4, .ra_read = 4, .ra_used = 4,
				 .reads = 8, .evictions = 16, .writebacks = 16 });
	vl_engine_free(e);
}

/* Cluster readahead, reading 5, 0, 6, 2, 7.
 *   read 5: slot 5, offset 6; hits 4 -> 4 pages; block [4, 7] = slots
 *     3..6: readahead 3, 4, page 5, readahead 6; evicts 8..11 (slots
 *     8..11).  fifo now: 12..15, 3, 4, 5, 6.
 *   read 0: slot 0, offset 1; hits 0, 1 = prev 0 + 1: 2 pages (and last
 *     4 / 2 = 2); prev = 1; block [0 -> 1, 1] = slot 0: page 0; evicts 12.
 *   read 6: hit (hits 1).
 *   read 2: slot 2, offset 3; hits 1 -> 4; block [0 -> 1, 3] = slots 0..2:
 *     page 0 is in memory: readahead 1, page 2; evicts 13, 14.
 *   read 7: slot 7, offset 8; hits 0, 8 is not next to prev 1: 1, at least
 *     4 / 2 = 2; block [8, 9] = slots 7, 8: page 7, readahead 8 (paged out
 *     to slot 8 by the first read); evicts 15 (written), then 3, a
 *     readahead page never used: dropped, not written.
 * major 4 (5, 0, 2, 7), minor 1 (6); readahead 3 + 1 + 1 = 5, used 1;
 * reads 9; evictions 8 + 4 + 1 + 2 + 2 = 17; writebacks 8 + 4 + 1 + 2 + 1. */
static void test_cluster_random(void **state)
{
	(void)state;
	static const unsigned order[] = { 5, 0, 6, 2, 7 };
	struct vl_engine *e = run(false, order, 5, VL_OP_READ);
	expect(e, (struct want){ .major = 4, .minor_swap = 1, .ra_read = 5, .ra_used = 1,
				 .reads = 9, .evictions = 17, .writebacks = 16 });
	vl_engine_free(e);
}

/* VMA readahead (not rotational), reading pages 7..0 (reverse).
 *   read 7: unused VMA: hits 4 -> 4 pages, prev vpn 0 is not next to it:
 *     centred, from 7 - (4 - 1) / 2 = 6 to 10; 8, 9 are in memory:
 *     readahead 6, page 7; evicts 8, 9.  state (7, 4, 0).
 *   read 6: hit: (6, 4, 1).
 *   read 5: hits 1 -> 4, at least 4 / 2; prev 6 = 5 + 1: the window ends
 *     at 5: pages 2..5: readahead 2, 3, 4, page 5; evicts 10..13.
 *   read 4, 3, 2: hits: (2, 4, 3).
 *   read 1: hits 3 -> 8 -> 4; ends at 1: -2..1, clipped to the 2 MiB range
 *     at 0: readahead 0, page 1; evicts 14, 15.
 *   read 0: hit.
 * major 3 (7, 5, 1), minor 5, readahead 5, all used; 8 reads; evictions
 * 16, writebacks 16.  (Cluster readahead: 4 major on the same scan.) */
static void test_vma_reverse(void **state)
{
	(void)state;
	static const unsigned order[] = { 7, 6, 5, 4, 3, 2, 1, 0 };
	struct vl_engine *e = run(true, order, 8, VL_OP_READ);
	expect(e, (struct want){ .major = 3, .minor_swap = 5, .ra_read = 5, .ra_used = 5,
				 .reads = 8, .evictions = 16, .writebacks = 16 });
	vl_engine_free(e);
}

/* VMA readahead, reading 5, 0, 6, 2, 7.
 *   read 5: unused: 4 pages, centred: 4..7: readahead 4, page 5, readahead
 *     6, 7; evicts 8..11.  state (5, 4, 0).
 *   read 0: hits 0, 0 is not next to 5: 1, at least 4 / 2 = 2; centred:
 *     0 - (2 - 1) / 2 = 0: pages 0, 1: page 0, readahead 1; evicts 12, 13.
 *     state (0, 2, 0).
 *   read 6: hit: (6, 2, 1).
 *   read 2: hits 1 -> 4, at least 2 / 2; not next to 6: centred, 1..4:
 *     1 and 4 are in the swap cache (not swap entries): page 2, readahead
 *     3; evicts 14, 15.
 *   read 7: hit.
 * major 3 (5, 0, 2), minor 2 (6, 7); readahead 3 + 1 + 1 = 5, used 2;
 * reads 8; evictions 8 + 4 + 2 + 2; writebacks the same (all dirty). */
static void test_vma_random(void **state)
{
	(void)state;
	static const unsigned order[] = { 5, 0, 6, 2, 7 };
	struct vl_engine *e = run(true, order, 5, VL_OP_READ);
	expect(e, (struct want){ .major = 3, .minor_swap = 2, .ra_read = 5, .ra_used = 2,
				 .reads = 8, .evictions = 16, .writebacks = 16 });
	vl_engine_free(e);
}

/* VMA readahead, reading 0..10 in order.
 *   read 0: unused: 4 pages; prev 0 is vpn 0x10000 away: centred from -1,
 *     clipped to the 2 MiB range at 0: 0..2: page 0, readahead 1, 2;
 *     evicts 8, 9, 10.
 *   read 1, 2: hits: (2, 4, 2).
 *   read 3: hits 2 -> 4; 3 = 2 + 1: starts at 3: 3..6; evicts 11..14.
 *   read 4, 5, 6: hits: (6, 4, 3).
 *   read 7: hits 3 -> 4 pages from 7: 7..10, 8, 9, 10 paged out by the
 *     first read; evicts 15, 0, 1, 2 (clean, with their slots: no write).
 *   read 8, 9, 10: hits.
 * The same counts as cluster readahead on this scan. */
static void test_vma_sequential(void **state)
{
	(void)state;
	static const unsigned order[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct vl_engine *e = run(true, order, 11, VL_OP_READ);
	expect(e, (struct want){ .major = 3, .minor_swap = 8, .ra_read = 8, .ra_used = 8,
				 .reads = 11, .evictions = 19, .writebacks = 16 });
	vl_engine_free(e);
}

/* A write fault frees the slot: written 0..10 (the sequential scan with
 * writes), every page read back is dirty and its slot is gone, so a page
 * evicted after its write is written again.  The faults are those of the
 * sequential scan; the last reads evict 15 (written), then 0, 1, 2, each
 * written now (dirty, no slot): writebacks 16 + 3.  Slots: the 11 pages
 * read back lost theirs at their write
 * faults: pages 11..15 and 0..2 paged out hold the 8 slots in use (the
 * checker also finds each held by one PTE or frame). */
static void test_write_frees_slot(void **state)
{
	(void)state;
	static const unsigned order[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct vl_engine *e = run(false, order, 11, VL_OP_WRITE);
	expect(e, (struct want){ .major = 3, .minor_swap = 8, .ra_read = 8, .ra_used = 8,
				 .reads = 11, .evictions = 19, .writebacks = 19 });
	/* slots held: pages 11..15 paged out, 0..2 paged out again: 8 */
	assert_int_equal(e->pf.used, 8);
	vl_engine_free(e);
}

/* A synchronous swap device (swap.synchronous, zram): reading pages
 * 0..10 after the same start, every swap-in reads its page alone, past
 * the swap cache, and frees its slot.
 *   read 0..7: each a major fault (no readahead), fifo evicting 8..15
 *     (dirty: written, slots 8..15); pages 0..7 give their slots back.
 *   read 8, 9, 10: major faults (their slots freed too), evicting 0, 1,
 *     2, which have no slot now: written again (the non-synchronous
 *     device keeps their slots and they leave without a write).
 * major 11, no swap-cache hit, no readahead; reads 11; evictions 8 + 11;
 * writebacks 8 + 8 + 3 = 19; slots held at the end: pages 11..15 and
 * 0, 1, 2: 8. */
static void test_synchronous(void **state)
{
	(void)state;
	struct vl_engine *e = tu_engine("os.personality=linux", "memory.frames=8",
					"replacement.policy=fifo", "swap.cache=on",
					"swap.page_cluster=2", "swap.rotational=on",
					"swap.synchronous=on", "run.check=on", NULL);
	struct vl_rec r[32];
	size_t k = 0;
	for (unsigned p = 0; p < 16; p++)
		r[k++] = (struct vl_rec){ .addr = BASE + ((uint64_t)p << 12), .pid = 1,
					  .op = VL_OP_WRITE };
	for (unsigned p = 0; p <= 10; p++)
		r[k++] = (struct vl_rec){ .addr = BASE + ((uint64_t)p << 12), .pid = 1,
					  .op = VL_OP_READ };
	tu_feed(e, r, k);
	struct vl_error err = { 0 };
	if (vl_engine_check(e, &err) < 0)
		fail_msg("check: %s", err.msg);
	expect(e, (struct want){ .major = 11, .minor_swap = 0, .ra_read = 0, .ra_used = 0,
				 .reads = 11, .evictions = 19, .writebacks = 19 });
	assert_int_equal(e->pf.used, 8);
	assert_int_equal(e->sw.cached, 0);
	vl_engine_free(e);
}

/* Off (the textbook default): no swap-cache counters, every swap-in hard. */
static void test_off(void **state)
{
	(void)state;
	struct vl_engine *e = tu_engine("memory.frames=8", "replacement.policy=fifo", NULL);
	const char *names[256];
	size_t n = vl_engine_counter_list(e, names, NULL, 256);
	for (size_t i = 0; i < n && i < 256; i++)
		assert_string_not_equal(names[i], "swapcache_hits");
	vl_engine_free(e);
}

/* The swap cache is refused where working sets decide (windows). */
static void test_refused_with_working_sets(void **state)
{
	(void)state;
	struct vl_error err = { 0 };
	struct vl_config *cfg;
	assert_int_equal(vl_config_new(&cfg, &err), 0);
	assert_int_equal(vl_config_set_arg(cfg, "os.personality=windows", &err), 0);
	assert_int_equal(vl_config_set_arg(cfg, "swap.cache=on", &err), 0);
	struct vl_engine *e = NULL;
	assert_true(vl_engine_new(&e, cfg, &err) < 0);
	assert_non_null(strstr(err.msg, "swap.cache"));
	vl_config_free(cfg);
}

/* memory.limit below memory.frames: the processes get the limit. */
static void test_memory_limit(void **state)
{
	(void)state;
	struct vl_engine *e = tu_engine("memory.frames=1024", "memory.limit=32k",
					"replacement.policy=fifo", NULL);
	assert_int_equal(e->db.nframes, 8);
	vl_engine_free(e);
	e = tu_engine("memory.frames=4", "memory.limit=1M", NULL);
	assert_int_equal(e->db.nframes, 4);
	vl_engine_free(e);
}

/* ---- slot allocation (sim/pagefile.c, the linux cluster allocator) ----
 *
 * The rules, from mm/swapfile.c of Linux 6.18 (order 0, a rotational
 * device without discard): offsets are slots + 1, clusters are 512
 * offsets, cluster 0's offset 0 is the header (cluster 0 starts on the
 * nonfull list).  An allocation scans the cursor's cluster upward from the
 * cursor, else takes the first nonfull cluster, else the first free one
 * (never-used clusters in index order before clusters that became empty),
 * else the first frag one, each scanned from its start.  A slot found
 * moves the cursor to the next offset when the cluster is not full and
 * the offset is inside it, else (or when nothing is found) the cursor is
 * none.  After a scan the cluster moves to frag (partly used) or full;
 * freeing a slot moves its cluster to the nonfull tail, or to the free
 * tail when it becomes empty. */
static struct vl_pagefile pf_new(uint32_t limit)
{
	struct vl_pagefile pf = { .clustered = true, .limit = limit };
	for (int l = 0; l < 4; l++)
		pf.lists[l].head = pf.lists[l].tail = VL_NIL;
	return pf;
}

/* n allocations, each expected to give the next slot of want[]. */
static void pf_expect(struct vl_pagefile *pf, const uint32_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pf_alloc(pf), want[i]);
}

/* n allocations, expected to give slots from, from + 1, ... */
static void pf_expect_run(struct vl_pagefile *pf, uint32_t from, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(pf_alloc(pf), from + i);
}

static void test_slot_allocation(void **state)
{
	(void)state;
	struct vl_pagefile pf = pf_new(0);
	/* cluster 0 from the nonfull list: offsets 1, 2, 3 */
	pf_expect_run(&pf, 0, 3);
	/* slot 1 (offset 2) freed behind the cursor: the cursor goes on (4) */
	pf_release(&pf, 1);
	pf_expect_run(&pf, 3, 1);
	/* the rest of cluster 0: slots 4..510 (offsets 5..511); the last one
	 * leaves no cursor, and cluster 0 (hole at slot 1) is on frag, since
	 * the allocation after the free moved it there from nonfull */
	pf_expect_run(&pf, 4, 507);
	/* so a never-used cluster comes next: cluster 1, offset 512 = slot 511 */
	pf_expect_run(&pf, 511, 1);
	/* a free in cluster 0 puts it on nonfull, but the cursor comes first */
	pf_release(&pf, 5);
	pf_expect_run(&pf, 512, 1);
	/* the rest of cluster 1 (offsets 514..1023: slots 513..1022); then
	 * the nonfull cluster 0 from its start: its holes, slots 1 and 5; then
	 * nothing above the cursor (offset 7) is free, cluster 0 is full, and
	 * the next never-used cluster gives offset 1024 = slot 1023 */
	pf_expect_run(&pf, 513, 510);
	static const uint32_t holes[] = { 1, 5, 1023 };
	pf_expect(&pf, holes, 3);
	assert_int_equal(pf.used, 1024); /* every slot of clusters 0, 1 and one of 2 */
	/* cluster 1 emptied goes to the free tail, behind the never-used ones:
	 * after cluster 2 (slots 1024..1534, offsets 1025..1535) comes cluster
	 * 3 (offset 1536 = slot 1535) */
	for (uint32_t s = 511; s <= 1022; s++)
		pf_release(&pf, s);
	pf_expect_run(&pf, 1024, 511);
	pf_expect_run(&pf, 1535, 1);
	pf_fini(&pf);

	/* a page file of 1535 slots (offsets 1..1535: clusters 0..2): once
	 * cluster 2 is used, an emptied cluster is the only free one */
	pf = pf_new(1535);
	pf_expect_run(&pf, 0, 1535);
	assert_int_equal(pf_alloc(&pf), VL_NIL); /* full */
	for (uint32_t s = 511; s <= 1022; s++) /* cluster 1 emptied */
		pf_release(&pf, s);
	pf_expect_run(&pf, 511, 512);
	assert_int_equal(pf_alloc(&pf), VL_NIL);
	pf_fini(&pf);
}

/* ---- refault detection (linux-lru, replacement.linux-lru.refault) ----
 *
 * A second implementation, written from the rules in the policy's header
 * and mm/workingset.c rather than from its code: pages on an active and
 * an inactive list (index 0 = head); a fault with memory full first moves
 * active tails to the inactive head (accessed bit cleared, referenced
 * flag kept) while the active list is longer, then takes inactive tails
 * as folio_check_references (mm/vmscan.c) does for an anonymous page:
 * accessed (cleared) with its referenced flag (PG_referenced) set to the
 * active head (an activation: the non-resident age advances, as
 * move_folios_to_lru ages it for every active folio put back), accessed
 * without it back to the inactive head (the flag set either way), else
 * (the flag cleared) the victim, whose shadow is the non-resident age,
 * which then advances.  A page coming in (flag
 * clear) whose shadow is at most the active list's length behind the age
 * goes to the active head (the age advances), else to the inactive head.
 * Without TLBs every access sets the page's accessed bit. */
#define RP 32 /* pages */

struct ref_lru {
	int act[RP], inact[RP], nact, ninact;
	bool res[RP], acc[RP], ref[RP];
	long shadow[RP]; /* -1: none */
	long age;
	unsigned nres;
	uint64_t activations;
};

static void rl_push(int *l, int *n, int p)
{
	memmove(l + 1, l, (size_t)*n * sizeof(*l));
	l[0] = p;
	(*n)++;
}

/* Faults of the page string under `frames` frames (refault activations
 * in *act when not NULL). */
static uint64_t ref_faults(const int *str, size_t n, unsigned frames, bool refault,
			   uint64_t *act)
{
	struct ref_lru m = { .nact = 0 };
	for (int p = 0; p < RP; p++)
		m.shadow[p] = -1;
	uint64_t faults = 0;
	for (size_t i = 0; i < n; i++) {
		int p = str[i];
		if (m.res[p]) {
			m.acc[p] = true;
			continue;
		}
		faults++;
		if (m.nres == frames) {
			for (;;) {
				while (m.nact > m.ninact) {
					int q = m.act[--m.nact];
					m.acc[q] = false;
					rl_push(m.inact, &m.ninact, q);
				}
				int f = m.inact[--m.ninact];
				bool was_ref = m.ref[f];
				m.ref[f] = false;
				if (m.acc[f]) {
					m.acc[f] = false;
					m.ref[f] = true;
					if (was_ref) {
						rl_push(m.act, &m.nact, f);
						if (refault)
							m.age++;
					} else
						rl_push(m.inact, &m.ninact, f);
					continue;
				}
				if (refault)
					m.shadow[f] = m.age++;
				m.res[f] = false;
				m.nres--;
				break;
			}
		}
		m.res[p] = m.acc[p] = true;
		m.ref[p] = false;
		m.nres++;
		if (refault && m.shadow[p] >= 0 && m.age - m.shadow[p] <= m.nact) {
			rl_push(m.act, &m.nact, p);
			m.age++;
			m.activations++;
		} else {
			rl_push(m.inact, &m.ninact, p);
		}
		m.shadow[p] = -1;
	}
	if (act)
		*act = m.activations;
	return faults;
}

/* swap: under the linux swap cache without readahead (the same faults;
 * refault activations counted in *act) */
static uint64_t engine_faults(const int *str, size_t n, unsigned frames, bool refault, bool swap,
			      uint64_t *act)
{
	char fr[32];
	snprintf(fr, sizeof(fr), "memory.frames=%u", frames);
	struct vl_engine *e = tu_engine(fr, "replacement.policy=linux-lru",
					refault ? "replacement.linux-lru.refault=on"
						: "replacement.linux-lru.refault=off",
					swap ? "os.personality=linux" : "os.personality=textbook",
					swap ? "swap.cache=on" : "swap.cache=off", "swap.page_cluster=0",
					"run.check=on", NULL);
	struct vl_rec *r = calloc(n, sizeof(*r));
	for (size_t i = 0; i < n; i++)
		r[i] = (struct vl_rec){ .addr = BASE + ((uint64_t)str[i] << 12), .pid = 1,
					.op = VL_OP_READ };
	tu_feed(e, r, n);
	uint64_t f = tu_counter(e, "faults");
	if (act)
		*act = tu_counter(e, "refault_activations");
	free(r);
	vl_engine_free(e);
	return f;
}

/* 20000 accesses over 24 pages, 70% to pages 0..5, under 6, 10 and 16
 * frames: the engine's linux-lru gives the second implementation's fault
 * counts with and without refault detection, and refault detection
 * changes them (the case exercises it); under the swap cache (no
 * readahead) the same faults, and refault_activations is the second
 * implementation's count of activations. */
static void test_refault_detection(void **state)
{
	(void)state;
	enum { N = 20000 };
	static int str[N];
	uint64_t seed = 7;
	for (size_t i = 0; i < N; i++)
		str[i] = tu_rand(&seed) % 10 < 7 ? (int)(tu_rand(&seed) % 6) : (int)(tu_rand(&seed) % 24);
	static const unsigned sizes[] = { 6, 10, 16 };
	bool differs = false;
	for (size_t k = 0; k < 3; k++) {
		uint64_t act, eact;
		uint64_t on = ref_faults(str, N, sizes[k], true, &act);
		uint64_t off = ref_faults(str, N, sizes[k], false, NULL);
		assert_int_equal(engine_faults(str, N, sizes[k], true, false, NULL), on);
		assert_int_equal(engine_faults(str, N, sizes[k], false, false, NULL), off);
		/* the swap cache without readahead changes no fault, and counts
		 * the activations */
		assert_int_equal(engine_faults(str, N, sizes[k], true, true, &eact), on);
		assert_int_equal(eact, act);
		assert_true(act > 0);
		differs |= on != off;
	}
	assert_true(differs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cluster_sequential),
		cmocka_unit_test(test_cluster_reverse),
		cmocka_unit_test(test_cluster_random),
		cmocka_unit_test(test_vma_sequential),
		cmocka_unit_test(test_vma_reverse),
		cmocka_unit_test(test_vma_random),
		cmocka_unit_test(test_write_frees_slot),
		cmocka_unit_test(test_synchronous),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_refused_with_working_sets),
		cmocka_unit_test(test_memory_limit),
		cmocka_unit_test(test_refault_detection),
		cmocka_unit_test(test_slot_allocation),
	};
	return cmocka_run_group_tests_name("swap cache and readahead", tests, NULL, NULL);
}
