/* tests/golden/test_reference.c - the engine against independent textbook
 * simulators written here, on long generated traces.
 *
 * The reference simulators know nothing of page tables, frames or ops
 * tables: a page is a dense id, memory is a set of ids.  They use other data
 * structures than the policies (a ring buffer for FIFO, lazy-deletion heaps
 * keyed on last-use / next-use time for LRU and OPT), so a shared bug is
 * unlikely.  Semantics (the textbook rules the issue fixes):
 *   - every miss is a fault; a page loaded by a store is dirty;
 *   - a store to a resident page dirties it;
 *   - evicting a dirty page is one write-back; dirty pages resident at the
 *     end are not counted.
 * OPT's fault count is unique; write-backs depend on the tie rule among
 * pages never used again, so only faults are compared for OPT.
 */
#include "tests/testutil.h"

#define NACC 1000000u
#define NPAGES 6000u

struct ref_trace {
	struct vl_rec *recs;
	uint32_t *page;   /* dense page id per access */
	bool *write;
	size_t n;
	uint32_t npages;  /* dense ids in use */
};

/* Two processes; a drifting hot set plus uniform noise; stores 30%. */
static void make_trace(struct ref_trace *t, uint64_t seed)
{
	t->n = NACC;
	t->recs = malloc(NACC * sizeof(*t->recs));
	t->page = malloc(NACC * sizeof(*t->page));
	t->write = malloc(NACC * sizeof(*t->write));
	assert_non_null(t->recs);
	uint64_t s = seed;
	uint32_t hot_base = 0;
	for (size_t i = 0; i < NACC; i++) {
		if (i % 50000 == 0)
			hot_base = (uint32_t)(tu_rand(&s) % (NPAGES - 400));
		uint64_t r = tu_rand(&s);
		uint32_t p = (r % 100) < 75 ? hot_base + (uint32_t)((r >> 8) % 400)
					    : (uint32_t)((r >> 8) % NPAGES);
		uint32_t pid = 1 + (uint32_t)((r >> 40) & 1);
		bool w = ((r >> 48) % 100) < 30;
		/* spread pages over the address space: several PML4/PDPT slots */
		uint64_t va = ((uint64_t)(p % 7) << 39) + ((uint64_t)(p / 7) << 12) + ((r >> 20) & 0xfff);
		t->recs[i] = (struct vl_rec){ .addr = va, .pid = pid,
					      .op = w ? VL_OP_WRITE : VL_OP_READ };
		t->page[i] = (pid - 1) * NPAGES + p;
		t->write[i] = w;
	}
	t->npages = 2 * NPAGES;
}

static void free_trace(struct ref_trace *t)
{
	free(t->recs);
	free(t->page);
	free(t->write);
}

struct ref_result {
	uint64_t faults, writebacks;
};

/* FIFO with a ring buffer of resident ids. */
static struct ref_result ref_fifo(const struct ref_trace *t, uint32_t frames)
{
	struct ref_result res = { 0, 0 };
	uint32_t *ring = malloc(frames * sizeof(*ring));
	bool *in = calloc(t->npages, 1), *dirty = calloc(t->npages, 1);
	uint32_t head = 0, count = 0;
	for (size_t i = 0; i < t->n; i++) {
		uint32_t p = t->page[i];
		if (!in[p]) {
			res.faults++;
			if (count == frames) {
				uint32_t v = ring[head];
				head = (head + 1) % frames;
				count--;
				in[v] = false;
				if (dirty[v])
					res.writebacks++;
				dirty[v] = false;
			}
			ring[(head + count) % frames] = p;
			count++;
			in[p] = true;
		}
		if (t->write[i])
			dirty[p] = true;
	}
	free(ring);
	free(in);
	free(dirty);
	return res;
}

/* A binary min-heap of (key, page) with lazy deletion. */
struct heap {
	uint64_t *key;
	uint32_t *val;
	size_t n, cap;
};

static void heap_push(struct heap *h, uint64_t key, uint32_t val)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->key = realloc(h->key, h->cap * sizeof(*h->key));
		h->val = realloc(h->val, h->cap * sizeof(*h->val));
	}
	size_t i = h->n++;
	while (i > 0 && h->key[(i - 1) / 2] > key) {
		h->key[i] = h->key[(i - 1) / 2];
		h->val[i] = h->val[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->key[i] = key;
	h->val[i] = val;
}

static void heap_pop(struct heap *h)
{
	uint64_t key = h->key[--h->n];
	uint32_t val = h->val[h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->key[c + 1] < h->key[c])
			c++;
		if (h->key[c] >= key)
			break;
		h->key[i] = h->key[c];
		h->val[i] = h->val[c];
		i = c;
	}
	if (h->n) {
		h->key[i] = key;
		h->val[i] = val;
	}
}

/* LRU: every access pushes (time, page); the victim is the smallest time
 * whose entry is still the page's latest. */
static struct ref_result ref_lru(const struct ref_trace *t, uint32_t frames)
{
	struct ref_result res = { 0, 0 };
	struct heap h = { 0 };
	uint64_t *last = calloc(t->npages, sizeof(*last));
	bool *in = calloc(t->npages, 1), *dirty = calloc(t->npages, 1);
	uint32_t count = 0;
	for (size_t i = 0; i < t->n; i++) {
		uint32_t p = t->page[i];
		if (!in[p]) {
			res.faults++;
			if (count == frames) {
				for (;;) {
					uint32_t v = h.val[0];
					uint64_t k = h.key[0];
					heap_pop(&h);
					if (in[v] && last[v] == k) {
						in[v] = false;
						if (dirty[v])
							res.writebacks++;
						dirty[v] = false;
						count--;
						break;
					}
				}
			}
			in[p] = true;
			count++;
		}
		last[p] = i + 1;
		heap_push(&h, i + 1, p);
		if (t->write[i])
			dirty[p] = true;
	}
	free(h.key);
	free(h.val);
	free(last);
	free(in);
	free(dirty);
	return res;
}

/* OPT: victim = resident page with the largest next use; a max-heap via
 * negated keys, lazy deletion by comparing with the page's current next. */
static uint64_t ref_opt_faults(const struct ref_trace *t, uint32_t frames)
{
	uint64_t faults = 0;
	/* next use by a backward scan over dense ids */
	uint64_t *next = malloc(t->n * sizeof(*next));
	uint64_t *seen = malloc(t->npages * sizeof(*seen));
	for (uint32_t p = 0; p < t->npages; p++)
		seen[p] = UINT64_MAX;
	for (size_t i = t->n; i-- > 0;) {
		next[i] = seen[t->page[i]];
		seen[t->page[i]] = i;
	}
	struct heap h = { 0 };
	uint64_t *cur = malloc(t->npages * sizeof(*cur));
	bool *in = calloc(t->npages, 1);
	uint32_t count = 0;
	for (size_t i = 0; i < t->n; i++) {
		uint32_t p = t->page[i];
		if (!in[p]) {
			faults++;
			if (count == frames) {
				for (;;) {
					uint32_t v = h.val[0];
					uint64_t k = UINT64_MAX - h.key[0];
					heap_pop(&h);
					if (in[v] && cur[v] == k) {
						in[v] = false;
						count--;
						break;
					}
				}
			}
			in[p] = true;
			count++;
		}
		cur[p] = next[i];
		heap_push(&h, UINT64_MAX - next[i], p);
	}
	free(next);
	free(seen);
	free(h.key);
	free(h.val);
	free(cur);
	free(in);
	return faults;
}

static const uint32_t frame_counts[] = { 16, 300, 1000, 4000 };

static struct vl_counters run_engine(const struct ref_trace *t, const char *policy, uint32_t frames)
{
	char fr[64], po[64];
	snprintf(fr, sizeof(fr), "memory.frames=%u", frames);
	snprintf(po, sizeof(po), "replacement.policy=%s", policy);
	struct vl_engine *e = tu_engine(fr, po, NULL);
	uint64_t *future = NULL;
	if (vl_engine_needs_future(e)) {
		future = tu_future(t->recs, t->n);
		vl_engine_set_future(e, future, t->n);
	}
	tu_feed(e, t->recs, t->n);
	struct vl_counters c = *vl_engine_counters(e);
	vl_engine_free(e);
	free(future);
	return c;
}

static void test_fifo(void **state)
{
	(void)state;
	struct ref_trace t;
	make_trace(&t, 11);
	for (size_t k = 0; k < sizeof(frame_counts) / sizeof(frame_counts[0]); k++) {
		struct ref_result want = ref_fifo(&t, frame_counts[k]);
		struct vl_counters got = run_engine(&t, "fifo", frame_counts[k]);
		assert_int_equal(got.accesses, NACC);
		assert_int_equal(got.faults, want.faults);
		assert_int_equal(got.writebacks, want.writebacks);
		assert_int_equal(got.pagefile_writes, want.writebacks);
	}
	free_trace(&t);
}

static void test_lru(void **state)
{
	(void)state;
	struct ref_trace t;
	make_trace(&t, 22);
	for (size_t k = 0; k < sizeof(frame_counts) / sizeof(frame_counts[0]); k++) {
		struct ref_result want = ref_lru(&t, frame_counts[k]);
		struct vl_counters got = run_engine(&t, "lru", frame_counts[k]);
		assert_int_equal(got.faults, want.faults);
		assert_int_equal(got.writebacks, want.writebacks);
		/* every miss is a fault: first touches are demand-zero, the rest hard */
		assert_int_equal(got.faults, got.faults_demand_zero + got.faults_hard);
		assert_int_equal(got.faults_hard, got.pagefile_reads);
	}
	free_trace(&t);
}

static void test_opt(void **state)
{
	(void)state;
	struct ref_trace t;
	make_trace(&t, 33);
	for (size_t k = 0; k < sizeof(frame_counts) / sizeof(frame_counts[0]); k++) {
		uint64_t want = ref_opt_faults(&t, frame_counts[k]);
		struct vl_counters got = run_engine(&t, "opt", frame_counts[k]);
		assert_int_equal(got.faults, want);
		struct ref_result lru = ref_lru(&t, frame_counts[k]);
		assert_true(got.faults <= lru.faults);
	}
	free_trace(&t);
}

/* The same through a trace file and vl_run: the reader, the run driver and
 * driver/future.c's pre-pass (not the test's next-use helper). */
static void test_opt_through_file(void **state)
{
	(void)state;
	struct ref_trace t;
	make_trace(&t, 44);
	t.n = 200000;
	const char *path = tu_write_addr(t.recs, t.n);
	for (size_t k = 0; k < 3; k++) {
		char fr[64];
		snprintf(fr, sizeof(fr), "memory.frames=%u", frame_counts[k]);
		struct vl_engine *e = tu_engine(fr, "replacement.policy=opt", NULL);
		struct vl_trace *tr;
		struct vl_error err = { 0 };
		assert_int_equal(vl_trace_open(&tr, path, "auto", &err), 0);
		assert_string_equal(vl_trace_format(tr), "addr");
		struct vl_run_stats st = { .size = sizeof(st) };
		if (vl_run(e, tr, NULL, NULL, &st, &err) < 0)
			fail_msg("run: %s", err.msg);
		assert_int_equal(st.records, t.n);
		assert_int_equal(vl_engine_counters(e)->faults, ref_opt_faults(&t, frame_counts[k]));
		vl_trace_close(tr);
		vl_engine_free(e);
	}
	unlink(path);
	free_trace(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_lru),
		cmocka_unit_test(test_opt),
		cmocka_unit_test(test_opt_through_file),
	};
	return cmocka_run_group_tests_name("reference", tests, NULL, NULL);
}
