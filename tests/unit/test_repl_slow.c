/* tests/unit/test_repl_slow.c - lfu, opt and aging against plain
 * reimplementations.
 *
 * lfu keeps frequency buckets, opt a heap whose slots carry their keys and
 * aging a radix-sorted victim order per tick (policies/replacement/); here
 * each is redone the slow, obvious way: an array of resident pages scanned
 * at every fault for the victim.
 *   lfu:   the fewest references since load, then the least recent use;
 *   opt:   the furthest next use (computed here by a forward scan), pages
 *          never used again first, the least recent use among those;
 *   aging: 8-bit counters; at the first fault needing a victim once
 *          `interval` (= frames) accesses have passed since the last tick,
 *          k = elapsed / interval ticks happen at once: each resident
 *          page's counter shifts right k places and its R bit (referenced
 *          since the previous tick or its load) enters at the top, R
 *          cleared.  A page loaded since the last tick ranks as the top
 *          bit.  Victim: the lowest rank, then the earliest load.
 * Both are run on generated traces (two processes, a hot set, a drifting
 * warm set and random pages, a quarter of the accesses writes) at several
 * memory sizes, textbook personality, and must give the engine's faults,
 * evictions and write-backs (a page written since it was loaded is written
 * back when evicted, so the count depends on which page each victim was).
 */
#include "tests/testutil.h"

#define N 30000u
#define NPAGE 400u

enum kind { LFU, OPT, AGING };

struct page {
	uint32_t pid;
	uint64_t vpn;
	uint64_t count, last, next, load;
	uint32_t counter; /* aging */
	bool dirty, ref, fresh;
};

static struct vl_rec *gen(uint64_t seed)
{
	struct vl_rec *r = malloc(N * sizeof(*r));
	assert_non_null(r);
	uint64_t s = seed;
	for (size_t i = 0; i < N; i++) {
		uint64_t x = tu_rand(&s);
		uint32_t k = (uint32_t)(x % 10), page;
		if (k < 5)
			page = (uint32_t)((x >> 8) % 20); /* hot */
		else if (k < 8)
			page = 20 + (uint32_t)((x >> 8) % 60) + (uint32_t)(i / 3000) * 25; /* drifting */
		else
			page = (uint32_t)((x >> 8) % NPAGE);
		page %= NPAGE;
		r[i] = (struct vl_rec){ .addr = 0x400000ull + ((uint64_t)page << 12) + ((x >> 20) & 0xff8),
					.pid = 1 + (uint32_t)((x >> 40) % 2),
					.op = (x >> 50) % 4 == 0 ? VL_OP_WRITE : VL_OP_READ };
	}
	return r;
}

struct result {
	uint64_t faults, evictions, writebacks;
};

/* The slow simulation of policy `kind`. */
static struct result slow(const struct vl_rec *recs, uint32_t frames, enum kind kind)
{
	uint64_t last_tick = 0;
	struct result res = { 0 };
	uint64_t *next = malloc(N * sizeof(*next));
	assert_non_null(next);
	for (size_t i = 0; i < N; i++) { /* O(N^2) worst case, but short runs */
		next[i] = VL_NEVER;
		for (size_t j = i + 1; j < N; j++)
			if (recs[j].pid == recs[i].pid && recs[j].addr >> 12 == recs[i].addr >> 12) {
				next[i] = j;
				break;
			}
	}
	struct page *res_pages = calloc(frames, sizeof(*res_pages));
	assert_non_null(res_pages);
	uint32_t n = 0;
	for (size_t i = 0; i < N; i++) {
		uint32_t pid = recs[i].pid;
		uint64_t vpn = recs[i].addr >> 12;
		uint32_t at = n;
		for (uint32_t k = 0; k < n; k++)
			if (res_pages[k].pid == pid && res_pages[k].vpn == vpn)
				at = k;
		if (at == n) {
			res.faults++;
			if (n == frames) {
				if (kind == AGING && i - last_tick >= frames) {
					uint64_t ticks = (i - last_tick) / frames;
					for (uint32_t k = 0; k < n; k++) {
						struct page *p = &res_pages[k];
						p->counter = ticks >= 8 ? 0 : p->counter >> ticks;
						if (p->ref)
							p->counter |= 0x80;
						p->ref = false;
						p->fresh = false;
					}
					last_tick += ticks * frames;
				}
				uint32_t v = 0;
				for (uint32_t k = 1; k < n; k++) {
					const struct page *a = &res_pages[k], *b = &res_pages[v];
					uint32_t ra = a->fresh ? 0x80 : a->counter;
					uint32_t rb = b->fresh ? 0x80 : b->counter;
					bool better;
					if (kind == OPT)
						better = a->next != b->next ? a->next > b->next : a->last < b->last;
					else if (kind == LFU)
						better = a->count != b->count ? a->count < b->count : a->last < b->last;
					else
						better = ra != rb ? ra < rb : a->load < b->load;
					if (better)
						v = k;
				}
				res.evictions++;
				res.writebacks += res_pages[v].dirty;
				at = v;
			} else {
				n++;
			}
			res_pages[at] = (struct page){ .pid = pid, .vpn = vpn, .load = i, .fresh = true };
		}
		struct page *p = &res_pages[at];
		p->count++;
		p->last = i;
		p->next = next[i];
		p->ref = true;
		if (recs[i].op == VL_OP_WRITE)
			p->dirty = true;
	}
	free(res_pages);
	free(next);
	return res;
}

static struct result engine(const struct vl_rec *recs, uint32_t frames, const char *policy)
{
	char fr[32], po[64];
	snprintf(fr, sizeof(fr), "memory.frames=%u", frames);
	snprintf(po, sizeof(po), "replacement.policy=%s", policy);
	struct vl_engine *e = tu_engine("os.personality=textbook", fr, po, "run.check=on", NULL);
	uint64_t *future = NULL;
	if (vl_engine_needs_future(e)) {
		future = tu_future(recs, N);
		vl_engine_set_future(e, future, N);
	}
	tu_feed(e, recs, N);
	const struct vl_counters *c = vl_engine_counters(e);
	struct result r = { c->faults, c->evictions, c->writebacks };
	vl_engine_free(e);
	free(future);
	return r;
}

static void check(const char *policy, enum kind kind)
{
	static const uint32_t sizes[] = { 1, 2, 13, 64, 150, 390 };
	for (uint64_t seed = 1; seed <= 2; seed++) {
		struct vl_rec *recs = gen(seed);
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			struct result want = slow(recs, sizes[k], kind);
			struct result got = engine(recs, sizes[k], policy);
			print_message("  %s seed %llu frames %3u: faults %llu/%llu writebacks %llu/%llu\n",
				      policy, (unsigned long long)seed, sizes[k],
				      (unsigned long long)got.faults, (unsigned long long)want.faults,
				      (unsigned long long)got.writebacks,
				      (unsigned long long)want.writebacks);
			assert_int_equal(got.faults, want.faults);
			assert_int_equal(got.evictions, want.evictions);
			assert_int_equal(got.writebacks, want.writebacks);
		}
		free(recs);
	}
}

static void test_lfu(void **state)
{
	(void)state;
	check("lfu", LFU);
}

static void test_opt(void **state)
{
	(void)state;
	check("opt", OPT);
}

static void test_aging(void **state)
{
	(void)state;
	check("aging", AGING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lfu),
		cmocka_unit_test(test_opt),
		cmocka_unit_test(test_aging),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
