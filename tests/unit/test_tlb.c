/* tests/unit/test_tlb.c - TLBs, walk caches and large pages.
 *
 * Expected numbers come from reference models written here (a TLB is a
 * set of LRU-ordered arrays of page numbers, nothing more), from the
 * engine without TLBs (whose fault counts tests/golden checks against
 * textbook simulators), or from scenarios counted by hand in the comments.
 */
#include "tests/testutil.h"
#include "sim/internal.h"

/* ---- helpers ---- */

static bool has_ctr(struct vl_engine *e, const char *name)
{
	const char *names[256];
	size_t n = vl_engine_counter_list(e, names, NULL, 256);
	for (size_t i = 0; i < n && i < 256; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

/* Engine creation that must fail; returns the message. */
static const char *engine_error(const char *const *sets)
{
	static struct vl_error err;
	struct vl_config *cfg;
	memset(&err, 0, sizeof(err));
	assert_int_equal(vl_config_new(&cfg, &err), 0);
	for (size_t i = 0; sets[i]; i++)
		assert_int_equal(vl_config_set_arg(cfg, sets[i], &err), 0);
	struct vl_engine *e = NULL;
	assert_true(vl_engine_new(&e, cfg, &err) < 0);
	assert_null(e);
	vl_config_free(cfg);
	return err.msg;
}

static struct vl_rec rec(uint64_t addr, uint32_t pid, uint8_t op)
{
	return (struct vl_rec){ .addr = addr, .pid = pid, .op = op };
}

/* ---- reference TLB: per set, page numbers most recent first ---- */

struct ref_tlb {
	uint32_t sets, ways;
	uint64_t *slot;  /* sets * ways, most recently used first; UINT64_MAX empty */
	uint32_t *fill;  /* fifo: next way to fill, per set */
	uint8_t *bits;   /* plru: tree bits per set, (ways - 1) used */
	uint8_t *rrpv;   /* srrip */
	int kind;        /* 0 lru, 1 fifo, 2 plru, 3 srrip */
	uint64_t misses;
};

static void ref_init(struct ref_tlb *t, uint32_t entries, uint32_t ways, int kind)
{
	t->sets = entries / ways;
	t->ways = ways;
	t->kind = kind;
	t->misses = 0;
	t->slot = malloc((size_t)entries * sizeof(*t->slot));
	t->fill = calloc(t->sets, sizeof(*t->fill));
	t->bits = calloc((size_t)entries, 1);
	t->rrpv = malloc(entries);
	assert_non_null(t->slot);
	memset(t->slot, 0xff, (size_t)entries * sizeof(*t->slot));
	memset(t->rrpv, 3, entries);
}

static void ref_free(struct ref_tlb *t)
{
	free(t->slot);
	free(t->fill);
	free(t->bits);
	free(t->rrpv);
}

/* PLRU, written as "which half did we use last": bit = 1 means the right
 * half was used more recently, so the victim search goes left. */
static void plru_mark(uint8_t *b, uint32_t ways, uint32_t way)
{
	uint32_t lo = 0, hi = ways, node = 0;
	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;
		bool right = way >= mid;
		b[node] = right;
		node = 2 * node + (right ? 2 : 1);
		if (right)
			lo = mid;
		else
			hi = mid;
	}
}

static uint32_t plru_pick(const uint8_t *b, uint32_t ways)
{
	uint32_t lo = 0, hi = ways, node = 0;
	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;
		bool go_right = !b[node];
		node = 2 * node + (go_right ? 2 : 1);
		if (go_right)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* One lookup of page vpn. */
static void ref_access(struct ref_tlb *t, uint64_t vpn)
{
	uint32_t set = (uint32_t)(vpn % t->sets);
	uint64_t *s = t->slot + (size_t)set * t->ways;
	uint8_t *b = t->bits + (size_t)set * t->ways, *r = t->rrpv + (size_t)set * t->ways;
	if (t->kind == 0) { /* LRU as move-to-front */
		uint32_t i = 0;
		while (i < t->ways && s[i] != vpn)
			i++;
		if (i == t->ways) {
			t->misses++;
			i = t->ways - 1; /* drop the last (least recent or empty) */
		}
		memmove(s + 1, s, i * sizeof(*s));
		s[0] = vpn;
		return;
	}
	for (uint32_t w = 0; w < t->ways; w++) {
		if (s[w] == vpn) {
			if (t->kind == 2)
				plru_mark(b, t->ways, w);
			if (t->kind == 3)
				r[w] = 0;
			return;
		}
	}
	t->misses++;
	uint32_t w = 0;
	while (w < t->ways && s[w] != UINT64_MAX)
		w++; /* an empty way first */
	if (w == t->ways) {
		if (t->kind == 1) {
			w = t->fill[set];
		} else if (t->kind == 2) {
			w = plru_pick(b, t->ways);
		} else {
			for (;;) {
				for (w = 0; w < t->ways && r[w] != 3; w++)
					;
				if (w < t->ways)
					break;
				for (uint32_t k = 0; k < t->ways; k++)
					r[k]++;
			}
		}
	}
	if (t->kind == 1)
		t->fill[set] = (w + 1) % t->ways;
	s[w] = vpn;
	if (t->kind == 2)
		plru_mark(b, t->ways, w);
	if (t->kind == 3)
		r[w] = 2;
}

static void ref_drop(struct ref_tlb *t, uint64_t vpn)
{
	uint64_t *s = t->slot + (size_t)(vpn % t->sets) * t->ways;
	for (uint32_t i = 0; i < t->ways; i++) {
		if (s[i] == vpn) {
			memmove(s + i, s + i + 1, (t->ways - 1 - i) * sizeof(*s));
			s[t->ways - 1] = UINT64_MAX;
			return;
		}
	}
}

/* Trace: a drifting hot set of 80 pages and uniform noise over 3000; vpn
 * is recs[i].addr >> 12 relative to base page 0x10000. */
#define NTRACE 300000u
static struct vl_rec *trace_one(uint64_t seed)
{
	struct vl_rec *r = malloc(NTRACE * sizeof(*r));
	assert_non_null(r);
	uint64_t s = seed, hot = 0;
	for (size_t i = 0; i < NTRACE; i++) {
		if (i % 20000 == 0)
			hot = tu_rand(&s) % 2900;
		uint64_t x = tu_rand(&s);
		uint64_t p = (x % 100) < 85 ? hot + (x >> 8) % 80 : (x >> 8) % 3000;
		r[i] = rec(((0x10000 + p) << 12) | ((x >> 40) & 0xff8), 1,
			   (x >> 56) % 4 == 0 ? VL_OP_WRITE : VL_OP_READ);
	}
	return r;
}

static const char *const repl_names[] = { "lru", "fifo", "plru", "srrip" };

/* Single-level TLB, memory larger than the footprint (no evictions): the
 * miss count equals the reference's, for each policy and geometry. */
static void test_single_level_exact(void **state)
{
	(void)state;
	struct vl_rec *recs = trace_one(11);
	/* the last two have set counts that are not powers of two (24 and 3
	 * sets; the reference indexes by vpn % sets): the modulo path, narrow
	 * and wide (hinted) sets */
	static const uint32_t geo[][2] = { { 64, 4 }, { 64, 64 }, { 32, 1 }, { 128, 8 },
					   { 96, 4 }, { 48, 16 } };
	for (size_t g = 0; g < 6; g++) {
		for (int kind = 0; kind < 4; kind++) {
			char en[64], wa[64], re[64];
			snprintf(en, sizeof(en), "tlb.l1.entries=%u", geo[g][0]);
			snprintf(wa, sizeof(wa), "tlb.l1.ways=%u", geo[g][1]);
			snprintf(re, sizeof(re), "tlb.l1.replacement=%s", repl_names[kind]);
			const char *sets[] = { en, wa, re, "tlb.l1.page_sizes=4k", "memory.frames=8192",
					       "replacement.policy=fifo", NULL };
			struct vl_engine *e = tu_engine_on(NULL, sets);
			tu_feed(e, recs, NTRACE);
			struct ref_tlb t;
			ref_init(&t, geo[g][0], geo[g][1], kind);
			for (size_t i = 0; i < NTRACE; i++)
				ref_access(&t, recs[i].addr >> 12);
			print_message("  %-6s %4u entries %3u ways: misses %llu\n", repl_names[kind],
				      geo[g][0], geo[g][1], (unsigned long long)t.misses);
			assert_int_equal(tu_counter(e, "tlb_l1_misses"), t.misses);
			assert_int_equal(tu_counter(e, "tlb_l1_hits"), NTRACE - t.misses);
			assert_int_equal(tu_counter(e, "walks"), t.misses);
			assert_true(t.misses > 3000 && t.misses < NTRACE - 3000); /* a trace that tests something */
			ref_free(&t);
			vl_engine_free(e);
		}
	}
	free(recs);
}

/* A 6-entry 2-way LRU TLB has 3 sets: page p goes to set p % 3.  Pages
 * are 0x30000 + k (0x30000 = 196608 = 3 * 65536, so set = k % 3).  By hand,
 * k: 0 3 6 0 9 | 1 4 7 1 | 0 7 2
 *   set 0: 0 miss [0]; 3 miss [3 0]; 6 miss, evicts 0 [6 3]; 0 miss,
 *          evicts 3 [0 6]; 9 miss, evicts 6 [9 0]
 *   set 1: 1 miss [1]; 4 miss [4 1]; 7 miss, evicts 1 [7 4]; 1 miss,
 *          evicts 4 [1 7]
 *   0: hit in set 0; 7: hit in set 1; 2: miss in set 2
 * = 10 misses, 2 hits.  Indexing by a mask of 2 (sets - 1) or 3 bits would
 * put these pages elsewhere and miss differently. */
static void test_three_sets_by_hand(void **state)
{
	(void)state;
	static const unsigned k[] = { 0, 3, 6, 0, 9, 1, 4, 7, 1, 0, 7, 2 };
	struct vl_rec r[12];
	for (size_t i = 0; i < 12; i++)
		r[i] = rec((0x30000ull + k[i]) << 12, 1, VL_OP_READ);
	for (int wide = 0; wide < 2; wide++) {
		/* wide: 3 sets of 16 ways (hinted lookups, recency lists); the
		 * same sequence then misses only on first touches (8 pages) */
		const char *sets[] = { wide ? "tlb.l1.entries=48" : "tlb.l1.entries=6",
				       wide ? "tlb.l1.ways=16" : "tlb.l1.ways=2",
				       "tlb.l1.page_sizes=4k", "memory.frames=64",
				       "replacement.policy=fifo", NULL };
		struct vl_engine *e = tu_engine_on(NULL, sets);
		tu_feed(e, r, 12);
		assert_int_equal(tu_counter(e, "tlb_l1_misses"), wide ? 8 : 10);
		assert_int_equal(tu_counter(e, "tlb_l1_hits"), wide ? 4 : 2);
		struct vl_error err = { 0 };
		assert_int_equal(vl_engine_check(e, &err), 0);
		vl_engine_free(e);
	}
}

/* The same with page replacement evicting pages (LRU over 256 frames):
 * every eviction must drop the page's translation (INVLPG), so the
 * reference drops it too. */
static void test_eviction_invalidates(void **state)
{
	(void)state;
	struct vl_rec *recs = trace_one(12);
	const uint32_t frames = 256;
	for (size_t g = 0; g < 2; g++) {
		const char *sets[] = { g ? "tlb.l1.ways=64" : "tlb.l1.ways=4", "tlb.l1.entries=64",
				       "memory.frames=256", "replacement.policy=lru", "run.check=on",
				       NULL };
		struct vl_engine *e = tu_engine_on(NULL, sets);
		tu_feed(e, recs, NTRACE);
		struct ref_tlb t;
		ref_init(&t, 64, g ? 64 : 4, 0);
		/* page LRU: last-use stamps, linear minimum search */
		uint64_t *last = calloc(3000, sizeof(*last));
		bool *res = calloc(3000, sizeof(*res));
		uint32_t nres = 0;
		uint64_t faults = 0;
		for (size_t i = 0; i < NTRACE; i++) {
			uint64_t vpn = recs[i].addr >> 12, p = vpn - 0x10000;
			if (!res[p]) {
				faults++;
				if (nres == frames) {
					uint64_t v = UINT64_MAX;
					for (uint64_t q = 0; q < 3000; q++)
						if (res[q] && (v == UINT64_MAX || last[q] < last[v]))
							v = q;
					res[v] = false;
					nres--;
					ref_drop(&t, v + 0x10000);
				}
				res[p] = true;
				nres++;
			}
			last[p] = i + 1;
			ref_access(&t, vpn);
		}
		assert_int_equal(vl_engine_counters(e)->faults, faults);
		assert_int_equal(tu_counter(e, "tlb_l1_misses"), t.misses);
		free(last);
		free(res);
		ref_free(&t);
		vl_engine_free(e);
	}
	free(recs);
}

/* Lazy touch delivery: a copy of the built-in lru without VL_TLB_REPL_LRU,
 * registered under another name, goes through the generic
 * insert/touch/victim calls; the engine's inline LRU must give identical
 * counters on a two-level hierarchy.  A second copy keeps the flag but
 * has hooks that fail the test if called: the flag alone (not which ops
 * table it is) selects the inline path. */
extern const struct vl_tlb_repl_ops vl_tlb_lru;

static uint64_t hook_victims;

static uint32_t counting_victim(struct vl_tlb_repl *t, uint32_t set)
{
	hook_victims++;
	return vl_tlb_lru.victim(t, set);
}

static void never_insert(struct vl_tlb_repl *t, uint32_t set, uint32_t way)
{
	(void)t, (void)set, (void)way;
	fail_msg("insert called for a VL_TLB_REPL_LRU policy");
}

static uint32_t never_victim(struct vl_tlb_repl *t, uint32_t set)
{
	(void)t, (void)set;
	fail_msg("victim called for a VL_TLB_REPL_LRU policy");
	return 0;
}

static void test_hooks_match_native_lru(void **state)
{
	(void)state;
	static struct vl_tlb_repl_ops hooks, flagged;
	struct vl_error err = { 0 };
	assert_true(vl_tlb_lru.flags & VL_TLB_REPL_LRU);
	if (!vl_tlb_repl_find("lru-hooks")) {
		hooks = vl_tlb_lru;
		hooks.name = "lru-hooks";
		hooks.flags &= ~VL_TLB_REPL_LRU;
		hooks.victim = counting_victim;
		assert_int_equal(vl_tlb_repl_register(&hooks, &err), 0);
		flagged = vl_tlb_lru;
		flagged.name = "lru-flagged";
		flagged.insert = never_insert;
		flagged.touch = NULL;
		flagged.victim = never_victim;
		assert_int_equal(vl_tlb_repl_register(&flagged, &err), 0);
	}
	struct vl_rec *recs = trace_one(13);
	/* narrow sets (the native lru scans use stamps), then wide ones (it
	 * keeps a recency list per set): both against the hooks */
	static const char *const geo[2][2] = { { "tlb.a.ways=4", "tlb.b.ways=8" },
					       { "tlb.a.ways=32", "tlb.b.ways=16" } };
	static const char *const name[3] = { "lru", "lru-hooks", "lru-flagged" };
	for (int g = 0; g < 2; g++) {
		uint64_t got[3][7];
		hook_victims = 0;
		for (int v = 0; v < 3; v++) {
			char r1[64], r2[64];
			snprintf(r1, sizeof(r1), "tlb.a.replacement=%s", name[v]);
			snprintf(r2, sizeof(r2), "tlb.b.replacement=%s", name[v]);
			const char *sets[] = { "tlb.a.entries=32", geo[g][0], r1, "tlb.b.level=2",
					       "tlb.b.entries=256", geo[g][1], r2, "memory.frames=512",
					       "replacement.policy=clock", "run.check=on", NULL };
			struct vl_engine *e = tu_engine_on(NULL, sets);
			tu_feed(e, recs, NTRACE);
			got[v][0] = tu_counter(e, "tlb_a_misses");
			got[v][1] = tu_counter(e, "tlb_b_misses");
			got[v][2] = tu_counter(e, "tlb_b_hits");
			got[v][3] = vl_engine_counters(e)->faults;
			/* the walks and dirty updates too: with 4 and 8 ways the
			 * native lru runs take tlb.c's miss_two, the hooks the
			 * general miss path */
			got[v][4] = vl_engine_counters(e)->walks;
			got[v][5] = vl_engine_counters(e)->walk_refs;
			got[v][6] = vl_engine_counters(e)->dirty_updates;
			vl_engine_free(e);
		}
		assert_memory_equal(got[0], got[1], sizeof(got[0]));
		assert_memory_equal(got[0], got[2], sizeof(got[0]));
		assert_true(hook_victims > 1000); /* the copy really went through the hooks */
		assert_true(got[0][2] > 1000); /* the second level matters here */
		assert_true(got[0][3] > 1000); /* evictions invalidate translations */
	}
	free(recs);
}

/* Two processes, every replacement policy, the generic machine's TLBs with
 * and without PCIDs: faults, evictions and write-backs equal the engine
 * without TLBs (accessed and dirty bits keep their meaning), and the
 * invariant checker (which checks every cached translation against the
 * page tables) passes after every batch. */
static void test_tlbs_keep_textbook_results(void **state)
{
	(void)state;
	enum { N = 120000 };
	struct vl_rec *recs = malloc(N * sizeof(*recs));
	uint64_t s = 5;
	for (size_t i = 0; i < N; i++) {
		uint64_t x = tu_rand(&s);
		uint64_t p = (x % 10) < 7 ? (x >> 8) % 120 : (x >> 8) % 1500;
		uint32_t pid = (i / 500) % 3 == 2 ? 2 : 1; /* switch every 500 accesses */
		recs[i] = rec((((p % 5) << 30) | ((p / 5) << 12)) + 0x40, pid,
			      (x >> 50) % 3 == 0 ? VL_OP_WRITE : (x >> 50) % 3 == 1 ? VL_OP_READ : VL_OP_IFETCH);
	}
	uint64_t *future = tu_future(recs, N);
	for (size_t k = 0; vl_repl_at(k); k++) {
		const char *name = vl_repl_at(k)->name;
		if (!strcmp(name, "lru-hooks"))
			continue;
		char po[64];
		snprintf(po, sizeof(po), "replacement.policy=%s", name);
		struct vl_counters c[3];
		uint64_t flushes[3];
		for (int v = 0; v < 3; v++) {
			const char *sets[] = { po, "memory.frames=300", "run.check=on",
					       v == 2 ? "tlb.pcid=on" : "tlb.pcid=off", NULL };
			struct vl_engine *e = tu_engine_on(v ? "generic" : NULL, sets);
			if (vl_engine_needs_future(e))
				vl_engine_set_future(e, future, N);
			tu_feed(e, recs, N);
			c[v] = *vl_engine_counters(e);
			flushes[v] = c[v].tlb_flushes;
			if (v)
				print_message("  %-8s %s: l1 hits %llu, l2 hits %llu, walks %llu\n", name,
					      v == 2 ? "pcid" : "flush",
					      (unsigned long long)(tu_counter(e, "tlb_l1d_hits") + tu_counter(e, "tlb_l1i_hits")),
					      (unsigned long long)tu_counter(e, "tlb_l2_hits"),
					      (unsigned long long)c[v].walks);
			vl_engine_free(e);
		}
		for (int v = 1; v < 3; v++) {
			assert_int_equal(c[v].faults, c[0].faults);
			assert_int_equal(c[v].faults_hard, c[0].faults_hard);
			assert_int_equal(c[v].evictions, c[0].evictions);
			assert_int_equal(c[v].writebacks, c[0].writebacks);
		}
		/* pid changes 1 -> 2 -> 1 every 1500 accesses: 2 switches per period */
		assert_int_equal(flushes[1], 2 * (N / 1500) - 1);
		assert_int_equal(flushes[2], 0);
		/* PCIDs keep translations (clock's sweeps invalidate nearly all anyway) */
		assert_true(c[2].walks <= c[1].walks);
		if (!strcmp(name, "lru"))
			assert_true(c[2].walks < c[1].walks);
	}
	free(future);
	free(recs);
}

/* Walk cost with page-walk caches, counted by hand.  One TLB level so that
 * repeated pages do not walk; PML4E, PDPTE and PDE caches. */
static void test_walk_references(void **state)
{
	(void)state;
	const char *sets[] = { "tlb.l1.entries=64", "tlb.l1.ways=4", "tlb.l1.page_sizes=4k,2m",
			       "psc.pml4e.entries=2", "psc.pdpte.entries=4", "psc.pde.entries=32",
			       "run.check=on", NULL };
	struct vl_engine *e = tu_engine_on(NULL, sets);
	const struct vl_counters *c;
	uint64_t a = 0x7f1234500000ull;
	struct vl_rec r[1];
	/* fresh address space, cold caches: PML4E, PDPTE, PDE, PTE */
	r[0] = rec(a, 1, VL_OP_READ);
	tu_feed(e, r, 1);
	c = vl_engine_counters(e);
	assert_int_equal(c->walks, 1);
	assert_int_equal(c->walk_refs, 4);
	assert_int_equal(c->psc_hits, 0);
	/* same page again: a TLB hit, no walk */
	tu_feed(e, r, 1);
	assert_int_equal(vl_engine_counters(e)->walks, 1);
	/* next page, same page table: the PDE cache names it, 1 reference */
	r[0] = rec(a + 0x1000, 1, VL_OP_READ);
	tu_feed(e, r, 1);
	c = vl_engine_counters(e);
	assert_int_equal(c->walks, 2);
	assert_int_equal(c->walk_refs, 5);
	assert_int_equal(c->psc_hits, 1);
	/* another 2 MiB range of the same 1 GiB: PDPTE cache, PDE + PTE = 2 */
	r[0] = rec(a + (5ull << 21), 1, VL_OP_READ);
	tu_feed(e, r, 1);
	assert_int_equal(vl_engine_counters(e)->walk_refs, 7);
	/* another 1 GiB of the same 512 GiB: PML4E cache, 3 references */
	r[0] = rec(a + (3ull << 30), 1, VL_OP_READ);
	tu_feed(e, r, 1);
	assert_int_equal(vl_engine_counters(e)->walk_refs, 10);
	/* another 512 GiB: cold again, 4 */
	r[0] = rec(0x1000, 1, VL_OP_READ);
	tu_feed(e, r, 1);
	c = vl_engine_counters(e);
	assert_int_equal(c->walk_refs, 14);
	assert_int_equal(c->psc_hits, 3);
	/* a context switch without PCIDs flushes TLB and walk caches: back in
	 * pid 1, the first page costs a cold walk (pid 2's own first touch: 4) */
	r[0] = rec(a, 2, VL_OP_READ);
	tu_feed(e, r, 1);
	r[0] = rec(a, 1, VL_OP_READ);
	tu_feed(e, r, 1);
	c = vl_engine_counters(e);
	assert_int_equal(c->tlb_flushes, 2);
	assert_int_equal(c->walks, 7);
	assert_int_equal(c->walk_refs, 22);
	vl_engine_free(e);

	/* the same with PCIDs: pid 1's translation survives the switch */
	const char *sets2[] = { "tlb.l1.entries=64", "tlb.l1.ways=4", "psc.pde.entries=32",
				"tlb.pcid=on", "run.check=on", NULL };
	e = tu_engine_on(NULL, sets2);
	struct vl_rec seq[3] = { rec(a, 1, VL_OP_READ), rec(a, 2, VL_OP_READ), rec(a, 1, VL_OP_READ) };
	tu_feed(e, seq, 3);
	c = vl_engine_counters(e);
	assert_int_equal(c->walks, 2);
	assert_int_equal(c->tlb_flushes, 0);
	assert_int_equal(tu_counter(e, "tlb_l1_hits"), 1);
	vl_engine_free(e);
}

/* The checker sees a narrow set's fingerprint bytes and live-way mask
 * disagree with its tags (the probe and the fill trust them). */
static void test_checker_narrow_sets(void **state)
{
	(void)state;
	const char *sets[] = { "tlb.l1.entries=16", "tlb.l1.ways=4", "tlb.l1.page_sizes=4k",
			       "psc.pde.entries=4", "psc.pde.ways=2", NULL };
	struct vl_engine *e = tu_engine_on(NULL, sets);
	struct vl_rec r[3] = { rec(0x10000, 1, VL_OP_READ), rec(0x11000, 1, VL_OP_READ),
			       rec(0x10000, 1, VL_OP_READ) };
	tu_feed(e, r, 3);
	assert_int_equal(tu_counter(e, "tlb_l1_hits"), 1);
	struct vl_error err = { 0 };
	assert_int_equal(vl_engine_check(e, &err), 0);
	struct tlb *t = &e->xl.t[0];
	assert_non_null(t->fp); /* 4 ways: a narrow set */
	/* the page of 0x10000 (vpn 16) sits in set 16 % 4 = 0, the first
	 * free way: way 0 */
	assert_true(t->tag[0] != 0);
	t->fp[0] ^= 0x5a;
	assert_int_equal(vl_engine_check(e, &err), VL_ESTATE);
	assert_non_null(strstr(err.msg, "fingerprint"));
	t->fp[0] ^= 0x5a;
	t->live[0] &= ~1ull;
	assert_int_equal(vl_engine_check(e, &err), VL_ESTATE);
	assert_non_null(strstr(err.msg, "live mask"));
	t->live[0] |= 1;
	/* the walk cache (2 sets of 2 ways) is checked the same way */
	struct tlb *pde = &e->xl.psc[2];
	uint32_t g = 0;
	while (g < pde->sets * pde->ways && !pde->tag[g])
		g++;
	assert_true(g < pde->sets * pde->ways);
	pde->fp[g] ^= 1;
	assert_int_equal(vl_engine_check(e, &err), VL_ESTATE);
	assert_non_null(strstr(err.msg, "walk cache pde"));
	pde->fp[g] ^= 1;
	assert_int_equal(vl_engine_check(e, &err), 0);
	vl_engine_free(e);
}

/* xl_ord_front against moving an element of an array to its end: every
 * recency order of 1 to 8 ways (all permutations up to 7 ways, every
 * rotation and reversal of 8 plus random ones), every way moved. */
static void ord_check(const uint8_t *perm, unsigned ways)
{
	uint32_t o = 0;
	for (unsigned r = 0; r < ways; r++)
		o |= (uint32_t)perm[r] << (4 * r);
	for (unsigned w = 0; w < ways; w++) {
		uint8_t want[8];
		unsigned k = 0;
		for (unsigned r = 0; r < ways; r++)
			if (perm[r] != w)
				want[k++] = perm[r];
		want[k] = (uint8_t)w;
		uint32_t wo = 0;
		for (unsigned r = 0; r < ways; r++)
			wo |= (uint32_t)want[r] << (4 * r);
		uint32_t got = xl_ord_front(o, w, ways);
		if (got != wo)
			fail_msg("%u ways, word 0x%08x, way %u to the top: 0x%08x, expected 0x%08x", ways,
				 o, w, got, wo);
	}
}

static void ord_perms(uint8_t *perm, unsigned k, unsigned ways)
{
	if (k == ways) {
		ord_check(perm, ways);
		return;
	}
	for (unsigned i = k; i < ways; i++) {
		uint8_t t = perm[k];
		perm[k] = perm[i];
		perm[i] = t;
		ord_perms(perm, k + 1, ways);
		perm[i] = perm[k];
		perm[k] = t;
	}
}

static void test_recency_word(void **state)
{
	(void)state;
	uint8_t perm[8];
	for (unsigned ways = 1; ways <= 7; ways++) {
		for (unsigned i = 0; i < ways; i++)
			perm[i] = (uint8_t)i;
		ord_perms(perm, 0, ways);
	}
	uint64_t s = 7;
	for (unsigned n = 0; n < 20000; n++) {
		for (unsigned i = 0; i < 8; i++)
			perm[i] = (uint8_t)(n < 8 ? (i + n) % 8 : n < 16 ? (7 - i + n) % 8 : i);
		for (unsigned i = 7; n >= 16 && i > 0; i--) {
			unsigned j = (unsigned)(tu_rand(&s) % (i + 1));
			uint8_t t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
		ord_check(perm, 8);
	}
}

/* The default machine's second-level TLB keeps a recency word per set;
 * the checker finds one that is no permutation or disagrees with the
 * use stamps. */
static void test_checker_recency_word(void **state)
{
	(void)state;
	const char *sets[] = { "memory.frames=64", "run.check=on", NULL };
	struct vl_engine *e = tu_engine_on("generic", sets);
	/* 12 pages of one L2 set (128 sets: page numbers 128 apart), each
	 * twice: the set fills (8 ways), and evicts */
	struct vl_rec r[24];
	for (unsigned i = 0; i < 24; i++)
		r[i] = rec(0x100000000ull + ((uint64_t)(i % 12) << 19), 1, VL_OP_READ);
	tu_feed(e, r, 24);
	struct vl_error err = { 0 };
	assert_int_equal(vl_engine_check(e, &err), 0);
	struct tlb *t = NULL;
	for (uint32_t i = 0; i < e->xl.nt; i++)
		if (!strcmp(e->xl.t[i].name, "l2"))
			t = &e->xl.t[i];
	assert_non_null(t);
	assert_non_null(t->ord);
	uint32_t set = (uint32_t)((0x100000000ull >> 12) & t->set_mask);
	assert_int_equal((uint32_t)t->live[set], 0xff); /* all 8 ways live */
	uint32_t o = t->ord[set];
	/* two ways swapped: still a permutation, out of stamp order */
	t->ord[set] = (o & ~0xffu) | (o & 0xf) << 4 | (o >> 4 & 0xf);
	assert_int_equal(vl_engine_check(e, &err), VL_ESTATE);
	assert_non_null(strstr(err.msg, "out of recency order"));
	/* a way twice */
	t->ord[set] = (o & ~0xfu) | (o >> 4 & 0xf);
	assert_int_equal(vl_engine_check(e, &err), VL_ESTATE);
	assert_non_null(strstr(err.msg, "not a permutation"));
	t->ord[set] = o;
	assert_int_equal(vl_engine_check(e, &err), 0);
	vl_engine_free(e);
}

/* 2 MiB pages walk three levels; a PDPTE-cache hit leaves the PDE alone. */
static void test_walk_large_page(void **state)
{
	(void)state;
	const char *sets[] = { "tlb.l1.entries=64", "tlb.l1.ways=4", "tlb.l1.page_sizes=4k,2m",
			       "psc.pml4e.entries=2", "psc.pdpte.entries=4", "psc.pde.entries=32",
			       "largepage.policy=always", "memory.size=16M", "run.check=on", NULL };
	struct vl_engine *e = tu_engine_on(NULL, sets);
	struct vl_rec r[4] = { rec(0x40000000, 1, VL_OP_READ), rec(0x40001000, 1, VL_OP_WRITE),
			       rec(0x401ff000, 1, VL_OP_READ), rec(0x40200000, 1, VL_OP_READ) };
	tu_feed(e, r, 4);
	const struct vl_counters *c = vl_engine_counters(e);
	/* fault + cold walk (3); two hits on the 2 MiB entry (the store is a
	 * dirty update); next range: fault + PDPTE-cache walk (1) */
	assert_int_equal(c->faults, 2);
	assert_int_equal(c->large_pages_mapped, 2);
	assert_int_equal(c->walks, 2);
	assert_int_equal(c->walk_refs, 4);
	assert_int_equal(c->dirty_updates, 1);
	assert_int_equal(tu_counter(e, "tlb_l1_hits"), 2);
	assert_int_equal(c->resident_peak, 1024);
	assert_int_equal(c->zeroed_pages, 1024);
	vl_engine_free(e);
}

/* A store through a clean TLB entry costs one dirty-bit update; a store
 * whose walk sets D does not; the dirty page is written back. */
static void test_dirty_updates(void **state)
{
	(void)state;
	const char *sets[] = { "tlb.l1.entries=16", "tlb.l1.ways=4", "memory.frames=2",
			       "run.check=on", NULL };
	struct vl_engine *e = tu_engine_on(NULL, sets);
	struct vl_rec r[] = { rec(0x1000, 1, VL_OP_READ), rec(0x1000, 1, VL_OP_WRITE),
			      rec(0x1000, 1, VL_OP_WRITE), rec(0x2000, 1, VL_OP_WRITE),
			      rec(0x2000, 1, VL_OP_MODIFY), rec(0x3000, 1, VL_OP_READ),
			      rec(0x4000, 1, VL_OP_READ) };
	tu_feed(e, r, 7);
	const struct vl_counters *c = vl_engine_counters(e);
	assert_int_equal(c->dirty_updates, 1);
	assert_int_equal(c->writebacks, 2); /* 0x1000 and 0x2000, both dirty, evicted */
	vl_engine_free(e);
}

/* ---- large pages ---- */

/* Touch 64 MiB once, page by page, in 128 MiB of memory. */
static struct vl_counters touch_64m(const char *policy, const char *frag)
{
	enum { PAGES = 16384 };
	struct vl_rec *r = malloc(PAGES * sizeof(*r));
	for (size_t i = 0; i < PAGES; i++)
		r[i] = rec(0x40000000ull + (i << 12), 1, VL_OP_WRITE);
	char po[64], fr[64];
	snprintf(po, sizeof(po), "largepage.policy=%s", policy);
	snprintf(fr, sizeof(fr), "memory.fragmentation=%s", frag);
	const char *sets[] = { po, fr, "memory.size=128M", "run.check=on", NULL };
	struct vl_engine *e = tu_engine_on("generic", sets);
	tu_feed(e, r, PAGES);
	struct vl_counters c = *vl_engine_counters(e);
	vl_engine_free(e);
	free(r);
	return c;
}

static void test_64m_sequential(void **state)
{
	(void)state;
	struct vl_counters c = touch_64m("none", "0");
	assert_int_equal(c.faults_demand_zero, 16384);
	assert_int_equal(c.large_pages_mapped, 0);
	c = touch_64m("always", "0");
	assert_int_equal(c.faults_demand_zero, 32);
	assert_int_equal(c.large_pages_mapped, 32);
	assert_int_equal(c.large_page_fallbacks, 0);
	assert_int_equal(c.resident_peak, 16384);
	assert_int_equal(c.zeroed_pages, 16384);
	/* fragmented: one pinned frame in a fraction x of the 64 blocks of
	 * 2 MiB; blocks pinned: b with floor((b+1)x) > floor(bx) */
	static const char *const xs[] = { "0.25", "0.75", "1" };
	for (size_t k = 0; k < 3; k++) {
		double x = strtod(xs[k], NULL);
		uint64_t pinned = 0;
		for (uint64_t b = 0; b < 64; b++)
			pinned += (uint64_t)((double)(b + 1) * x) > (uint64_t)((double)b * x);
		uint64_t whole = 64 - pinned, large = whole < 32 ? whole : 32;
		c = touch_64m("always", xs[k]);
		print_message("  fragmentation %s: %llu blocks pinned, %llu faults\n", xs[k],
			      (unsigned long long)pinned, (unsigned long long)c.faults);
		assert_int_equal(c.faults, large + (32 - large) * 512);
		assert_int_equal(c.large_page_fallbacks, 32 - large);
		if (x > 0.5)
			assert_true(c.faults > 32);
	}
}

/* The same fragmentation made by a trace: process 2 (which uses VAD
 * events, so it gets 4 KiB pages only) commits and touches all of memory,
 * then decommits every page but one per 2 MiB block; the buddy allocator
 * gave it frames in address order, so each block keeps one resident frame
 * and no free 2 MiB block is left.  Process 1 then touches 64 MiB with
 * `always`: every range falls back to 4 KiB pages. */
static void test_64m_after_scattered_allocations(void **state)
{
	(void)state;
	enum { MEM = 32768, KEEP = 256 };
	const uint64_t base2 = 0x100000000ull;
	size_t cap = MEM + 16384 + 256, n = 0, nev = 0;
	struct vl_rec *r = malloc(cap * sizeof(*r));
	struct vl_event *ev = calloc(256, sizeof(*ev));
	assert_non_null(r);
	ev[nev] = (struct vl_event){ .kind = VL_EV_COMMIT, .prot = VL_PROT_READWRITE, .addr = base2,
				     .len = (uint64_t)MEM << 12 };
	r[n++] = (struct vl_rec){ .addr = nev++, .pid = 2, .op = VL_OP_EVENT };
	for (uint64_t i = 0; i < MEM; i++)
		r[n++] = rec(base2 + (i << 12), 2, VL_OP_WRITE);
	for (uint64_t b = 0; b < MEM / 512; b++) { /* keep page KEEP of every block */
		ev[nev] = (struct vl_event){ .kind = VL_EV_DECOMMIT, .addr = base2 + ((b * 512) << 12),
					     .len = (uint64_t)KEEP << 12 };
		r[n++] = (struct vl_rec){ .addr = nev++, .pid = 2, .op = VL_OP_EVENT };
		ev[nev] = (struct vl_event){ .kind = VL_EV_DECOMMIT,
					     .addr = base2 + ((b * 512 + KEEP + 1) << 12),
					     .len = (uint64_t)(511 - KEEP) << 12 };
		r[n++] = (struct vl_rec){ .addr = nev++, .pid = 2, .op = VL_OP_EVENT };
	}
	size_t phase2 = n;
	for (uint64_t i = 0; i < 16384; i++)
		r[n++] = rec(0x40000000ull + (i << 12), 1, VL_OP_WRITE);
	const char *sets[] = { "largepage.policy=always", "memory.size=128M", "run.check=on", NULL };
	struct vl_engine *e = tu_engine_on("generic", sets);
	struct vl_batch b;
	struct vl_error err = { 0 };
	assert_int_equal(vl_batch_init(&b, 4096, &err), 0);
	uint64_t faults_before = 0;
	for (size_t i = 0; i < n;) {
		vl_batch_reset(&b);
		while (i < n && b.n < b.cap && b.n_events < b.ev_cap && (i != phase2 || b.n == 0)) {
			struct vl_rec x = r[i++];
			if (x.op == VL_OP_EVENT) {
				b.events[b.n_events] = ev[x.addr];
				x.addr = b.n_events++;
			}
			b.recs[b.n++] = x;
			if (i == phase2)
				break;
		}
		if (vl_engine_feed(e, &b, &err) < 0)
			fail_msg("feed: %s", err.msg);
		if (i == phase2)
			faults_before = vl_engine_counters(e)->faults;
	}
	const struct vl_counters *c = vl_engine_counters(e);
	struct vl_gauges g = { .size = sizeof(g) };
	vl_engine_gauges(e, &g);
	assert_int_equal(faults_before, MEM);        /* phase 1: 4 KiB pages only */
	assert_int_equal(c->faults - faults_before, 16384);
	assert_int_equal(c->large_pages_mapped, 0);
	assert_int_equal(c->large_page_fallbacks, 32);
	assert_int_equal(c->evictions, 0);
	assert_int_equal(g.resident_pages, 16384 + MEM / 512);
	vl_batch_free(&b);
	vl_engine_free(e);
	free(r);
	free(ev);
}

/* Memory for two 2 MiB pages; a third range finds no free block and falls
 * back to 4 KiB; the frame it needs comes from evicting the LRU page, a
 * piece of the first large page, which is split first. */
static void test_split_on_eviction(void **state)
{
	(void)state;
	const char *sets[] = { "largepage.policy=always", "memory.frames=1024",
			       "replacement.policy=lru", "run.check=on", NULL };
	struct vl_engine *e = tu_engine_on("generic", sets);
	struct vl_rec r[] = { rec(0x40000000, 1, VL_OP_WRITE), rec(0x40200000, 1, VL_OP_READ),
			      rec(0x40400000, 1, VL_OP_READ), rec(0x40000000, 1, VL_OP_READ),
			      rec(0x40001000, 1, VL_OP_READ) };
	tu_feed(e, r, 5);
	const struct vl_counters *c = vl_engine_counters(e);
	/* LRU order after the two large faults: range 1's 511 untouched pages
	 * (announced first), its touched page, then range 2.  The 4 KiB fault
	 * evicts range 1's first untouched page: 0x40001000 (0x40000000 was
	 * the faulting one, announced last).  0x40000000 still hits; the
	 * evicted 0x40001000 faults back in (hard: it was dirty, copied to the
	 * page file since the split copies D to every piece). */
	assert_int_equal(c->large_pages_mapped, 2);
	assert_int_equal(c->large_page_fallbacks, 1);
	assert_int_equal(c->large_page_splits, 1);
	assert_int_equal(c->evictions, 2);
	assert_int_equal(c->faults, 4);
	assert_int_equal(c->faults_hard, 1);
	assert_int_equal(c->writebacks, 2);
	vl_engine_free(e);
}

/* A 1 GiB page, split twice (1 GiB -> 2 MiB -> 4 KiB) when one of its
 * pieces is evicted. */
static void test_1g_page(void **state)
{
	(void)state;
	const char *sets[] = { "largepage.policy=always", "largepage.always.1g=on",
			       "memory.frames=262160", "replacement.policy=fifo", NULL };
	struct vl_engine *e = tu_engine_on("intel-skylake", sets);
	struct vl_rec r[20];
	r[0] = rec(0x40000000, 1, VL_OP_READ);
	for (int i = 1; i < 20; i++)
		r[i] = rec(0x80000000ull + (uint64_t)i * 0x1000, 1, VL_OP_READ);
	tu_feed(e, r, 20);
	const struct vl_counters *c = vl_engine_counters(e);
	/* 0x80000000: no 1 GiB block left (fallback), no 2 MiB block either
	 * (one fallback counted per range), 4 KiB from the 16 spare frames;
	 * the 17th..19th pages evict pieces of the 1 GiB page: split to 2 MiB,
	 * then that 2 MiB page to 4 KiB. */
	assert_int_equal(c->large_pages_mapped, 1);
	assert_int_equal(c->faults, 20);
	assert_int_equal(c->large_page_fallbacks, 1);
	assert_int_equal(c->evictions, 3);
	assert_int_equal(c->large_page_splits, 2);
	struct vl_error err = { 0 };
	assert_int_equal(vl_engine_check(e, &err), 0);
	vl_engine_free(e);
}

/* promote: 300 of 512 pages resident at the scan (threshold 0.5): one
 * collapse copying 300 pages and zero-filling 212; the rest of the range
 * then needs no fault. */
static void test_promote(void **state)
{
	(void)state;
	enum { N = 1000 + 512 };
	struct vl_rec *r = malloc(N * sizeof(*r));
	for (size_t i = 0; i < 1000; i++)
		r[i] = rec(0x40000000ull + ((i % 300) << 12), 1, VL_OP_READ);
	for (size_t i = 0; i < 512; i++)
		r[1000 + i] = rec(0x40000000ull + (i << 12), 1, VL_OP_READ);
	const char *sets[] = { "largepage.policy=promote", "largepage.interval=1000",
			       "largepage.promote.threshold=0.5", "memory.frames=2048",
			       "run.check=on", NULL };
	struct vl_engine *e = tu_engine_on("generic", sets);
	tu_feed(e, r, N);
	const struct vl_counters *c = vl_engine_counters(e);
	assert_int_equal(c->faults, 300);
	assert_int_equal(c->large_page_promotions, 1);
	assert_int_equal(c->large_page_copies, 300);
	assert_int_equal(c->zeroed_pages, 212); /* textbook counts only large-page zero fills */
	struct vl_gauges g = { .size = sizeof(g) };
	vl_engine_gauges(e, &g);
	assert_int_equal(g.resident_pages, 512);
	assert_int_equal(c->pt_nodes, 3); /* PML4, PDPT, PD: the page table was freed */
	vl_engine_free(e);
	free(r);
}

/* reservation: a full range is promoted in place; a partial one is broken
 * when memory runs out. */
static void test_reservation(void **state)
{
	(void)state;
	enum { N = 512 + 100 + 150 };
	struct vl_rec *r = malloc(N * sizeof(*r));
	uint64_t s = 3;
	for (size_t i = 0; i < 512; i++) /* range A, every page, in a scrambled order */
		r[i] = rec(0x40000000ull + (((i * 307) % 512) << 12), 1, VL_OP_WRITE);
	for (size_t i = 0; i < 100; i++) /* range B, 100 pages */
		r[512 + i] = rec(0x40200000ull + (i << 12), 1, VL_OP_READ);
	for (size_t i = 0; i < 150; i++) /* range C */
		r[612 + i] = rec(0x40400000ull + (i << 12), 1, VL_OP_READ);
	(void)s;
	const char *sets[] = { "largepage.policy=reservation", "memory.frames=1100",
			       "run.check=on", NULL };
	struct vl_engine *e = tu_engine_on("generic", sets);
	tu_feed(e, r, N);
	const struct vl_counters *c = vl_engine_counters(e);
	/* A: 512 faults, promoted with no copy.  B: 100 faults inside a second
	 * reservation.  C: no free 2 MiB block (fallback), 4 KiB pages from
	 * the 76 spare frames, then pressure breaks B's reservation (412
	 * frames back), no eviction. */
	assert_int_equal(c->faults, N);
	assert_int_equal(c->large_page_promotions, 1);
	assert_int_equal(c->large_page_copies, 0);
	assert_int_equal(c->reservations_broken, 1);
	assert_int_equal(c->large_page_fallbacks, 1);
	assert_int_equal(c->evictions, 0);
	vl_engine_free(e);
	free(r);
}

/* madvise: 2 MiB pages only inside the region, non-pageable; without
 * fallback a range that finds no block refuses its accesses. */
static void test_madvise(void **state)
{
	(void)state;
	enum { N = 2 + 700 };
	struct vl_rec *r = malloc(N * sizeof(*r));
	r[0] = rec(0x40000000, 1, VL_OP_READ);
	r[1] = rec(0x40200000, 1, VL_OP_READ);
	for (size_t i = 0; i < 700; i++)
		r[2 + i] = rec(0x10000000ull + (i << 12), 1, VL_OP_READ);
	const char *sets[] = { "largepage.policy=madvise",
			       "largepage.madvise.regions=0x40000000-0x40400000",
			       "memory.frames=1500", "replacement.policy=clock", "run.check=on", NULL };
	struct vl_engine *e = tu_engine_on("generic", sets);
	tu_feed(e, r, N);
	const struct vl_counters *c = vl_engine_counters(e);
	/* 1024 pinned frames + 476 for 700 pages: 224 evictions, none pinned */
	assert_int_equal(c->large_pages_mapped, 2);
	assert_int_equal(c->faults, 702);
	assert_int_equal(c->evictions, 224);
	struct vl_gauges g = { .size = sizeof(g) };
	vl_engine_gauges(e, &g);
	assert_int_equal(g.resident_pages, 1500);
	vl_engine_free(e);

	const char *sets2[] = { "largepage.policy=madvise",
				"largepage.madvise.regions=0x40000000-0x40400000",
				"largepage.madvise.fallback=off", "memory.size=8M",
				"memory.fragmentation=1", "run.check=on", NULL };
	e = tu_engine_on("generic", sets2);
	tu_feed(e, r, N);
	c = vl_engine_counters(e);
	assert_int_equal(c->access_violations, 2);
	assert_int_equal(c->faults, 700);
	vl_engine_free(e);
	free(r);
}

/* ---- configuration ---- */

static void test_config_shape(void **state)
{
	(void)state;
	struct vl_error err = { 0 };
	struct vl_config *cfg;
	assert_int_equal(vl_config_new(&cfg, &err), 0);
	assert_int_equal(vl_config_load_preset(cfg, "machines", "intel-skylake", &err), 0);
	/* an INI layer with a [tlb.NAME] section replaces the whole hierarchy */
	assert_int_equal(vl_config_load_string(cfg, "[tlb.only]\nentries = 16\nways = 4\n",
					       "mine.ini", &err), 0);
	/* -s adds to it */
	assert_int_equal(vl_config_set_arg(cfg, "tlb.second.level=2", &err), 0);
	struct vl_engine *e;
	assert_int_equal(vl_engine_new(&e, cfg, &err), 0);
	assert_true(has_ctr(e, "tlb_only_hits"));
	assert_true(has_ctr(e, "tlb_second_misses"));
	assert_false(has_ctr(e, "tlb_stlb_misses"));
	assert_false(has_ctr(e, "tlb_l1d_misses"));
	/* every counter says what it counts; a TLB's with its geometry */
	size_t nc = vl_engine_counter_list(e, NULL, NULL, 0);
	const char *names[256];
	assert_true(nc <= 256);
	vl_engine_counter_list(e, names, NULL, nc);
	for (size_t i = 0; i < nc; i++) {
		const char *h = vl_engine_counter_help(e, i);
		assert_non_null(h);
		assert_true(strlen(h) > 0);
		if (!strcmp(names[i], "tlb_only_hits"))
			assert_non_null(strstr(h, "16 entries, 4-way, 4k"));
	}
	assert_null(vl_engine_counter_help(e, nc));
	vl_engine_free(e);
	/* a layer without TLB sections keeps them */
	assert_int_equal(vl_config_load_string(cfg, "[memory]\nframes = 64\n", "m.ini", &err), 0);
	assert_int_equal(vl_engine_new(&e, cfg, &err), 0);
	assert_true(has_ctr(e, "tlb_only_hits"));
	vl_engine_free(e);
	vl_config_free(cfg);

	/* every machine preset builds, names itself, and has the counters */
	static const char *const machines[] = { "generic", "intel-skylake", "intel-goldencove",
						"amd-zen3" };
	for (size_t i = 0; i < 4; i++) {
		const char *none[] = { NULL };
		e = tu_engine_on(machines[i], none);
		assert_string_equal(vl_config_str(vl_engine_config(e), "machine.name"), machines[i]);
		assert_true(has_ctr(e, "tlb_l1d_misses"));
		assert_true(has_ctr(e, "tlb_l1i_misses"));
		vl_engine_free(e);
	}
}

static void test_config_errors(void **state)
{
	(void)state;
	const char *a[] = { "tlb.x.page_sizes=4k,3m", NULL };
	assert_non_null(strstr(engine_error(a), "tlb.x.page_sizes"));
	const char *b[] = { "tlb.x.entries=64", "tlb.x.ways=5", NULL };
	assert_non_null(strstr(engine_error(b), "do not divide"));
	const char *d[] = { "tlb.x.replacement=mru", NULL };
	const char *msg = engine_error(d);
	assert_non_null(strstr(msg, "mru"));
	assert_non_null(strstr(msg, "srrip"));
	const char *f[] = { "tlb.x.entries=96", "tlb.x.ways=6", "tlb.x.replacement=plru", NULL };
	assert_non_null(strstr(engine_error(f), "power-of-two"));
	const char *g[] = { "largepage.policy=huge", NULL };
	assert_non_null(strstr(engine_error(g), "reservation"));
	const char *h[] = { "largepage.policy=madvise", "largepage.madvise.regions=0x2000-0x1000",
			    NULL };
	assert_non_null(strstr(engine_error(h), "largepage.madvise.regions"));
	struct vl_error err = { 0 };
	struct vl_config *cfg;
	assert_int_equal(vl_config_new(&cfg, &err), 0);
	assert_true(vl_config_set_arg(cfg, "tlb.x.kind=both", &err) < 0);
	assert_non_null(strstr(err.msg, "data"));
	assert_true(vl_config_load_preset(cfg, "machines", "pentium", &err) < 0);
	assert_non_null(strstr(err.msg, "amd-zen3"));
	vl_config_free(cfg);
}

/* est_cycles is the cost model applied to the counters. */
static void test_cost_model(void **state)
{
	(void)state;
	const char *sets[] = { "memory.frames=64", "cost.tlb_hit=2", "cost.tlb_miss=3",
			       "cost.walk_ref=5", "cost.dirty_update=7", "cost.fault=11",
			       "cost.page_zero=13", "cost.pagefile_read=17", "cost.pagefile_write=19",
			       "cost.tlb_flush=23", NULL };
	struct vl_engine *e = tu_engine_on("generic", sets);
	struct vl_rec *recs = trace_one(14);
	for (size_t i = 0; i < 20000; i++)
		recs[i].pid = 1 + (i / 1000) % 2;
	tu_feed(e, recs, 20000);
	const struct vl_counters *c = vl_engine_counters(e);
	/* levels missed: every l1 miss is one; l2 misses add another (data and
	 * instruction first levels are separate structures, l2 is shared) */
	uint64_t lm = tu_counter(e, "tlb_l1d_misses") + tu_counter(e, "tlb_l1i_misses") + tu_counter(e, "tlb_l2_misses");
	uint64_t want = 2 * c->accesses + 3 * lm + 5 * c->walk_refs + 7 * c->dirty_updates +
			11 * c->faults + 13 * c->zeroed_pages + 17 * c->pagefile_reads +
			19 * c->pagefile_writes + 23 * c->tlb_flushes;
	assert_true(c->pagefile_reads > 0 && c->tlb_flushes > 0 && c->dirty_updates > 0);
	assert_int_equal(c->est_cycles, want);
	vl_engine_free(e);
	free(recs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_level_exact),
		cmocka_unit_test(test_three_sets_by_hand),
		cmocka_unit_test(test_eviction_invalidates),
		cmocka_unit_test(test_hooks_match_native_lru),
		cmocka_unit_test(test_tlbs_keep_textbook_results),
		cmocka_unit_test(test_walk_references),
		cmocka_unit_test(test_walk_large_page),
		cmocka_unit_test(test_dirty_updates),
		cmocka_unit_test(test_64m_sequential),
		cmocka_unit_test(test_64m_after_scattered_allocations),
		cmocka_unit_test(test_split_on_eviction),
		cmocka_unit_test(test_1g_page),
		cmocka_unit_test(test_promote),
		cmocka_unit_test(test_reservation),
		cmocka_unit_test(test_madvise),
		cmocka_unit_test(test_config_shape),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_cost_model),
		cmocka_unit_test(test_checker_narrow_sets),
		cmocka_unit_test(test_recency_word),
		cmocka_unit_test(test_checker_recency_word),
	};
	return cmocka_run_group_tests_name("tlb and large pages", tests, NULL, NULL);
}
