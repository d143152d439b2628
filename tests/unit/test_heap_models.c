/* tests/unit/test_heap_models.c - the heap models (sim/heap_nt.c,
 * heap_segment.c, heap_glibc.c) called directly through sim/heap.h, with a
 * fake operating system that records every call.
 *
 * The short sequences have their expected addresses and OS calls derived
 * by hand in the comments from the models' documented rules (docs/heap.md
 * below "<!-- models -->", the sources named there), not from running the
 * code; the glibc ones are also run against the host's glibc 2.36.  The
 * randomized test checks properties any allocator must have: live blocks
 * never overlap, every byte of a live block lies in committed memory, and
 * after everything is freed the committed bytes fall under a bound argued
 * from the rules (for glibc, whose tcache and fastbins keep chunks, the
 * random sequences are compared with the host's glibc instead).
 *
 * The fake hands out reservations upward from 0x10000000 (windows) or
 * 0x7f0000000000 (linux mmap), each right after the previous one, so two
 * reservations can touch (the models must not merge across them); the
 * break starts at 0x555555559000.
 */
#include <gnu/libc-version.h>
#include <malloc.h>
#include <sys/wait.h>

#include "tests/testutil.h"
#include "sim/heap.h"
#include "sim/heap_util.h"

/* ---- the fake OS ---- */

#define WIN_BASE 0x10000000ull
#define MMAP_BASE 0x7f0000000000ull
#define BRK_BASE 0x555555559000ull
#define PG 4096ull

struct res {
	uint64_t base, len;
	uint8_t *pages; /* committed flag per page */
	int live;
};

struct call {
	char op; /* R reserve, C commit, D decommit, X release, B brk */
	uint64_t a, b;
};

struct fos {
	struct vl_heap_os os;
	struct res *r;
	size_t nres, cap;
	uint64_t next;
	uint64_t brk_len, brk_max;
	int brk_started;
	uint64_t committed; /* bytes, reservations only */
	uint64_t max_release;
	struct call log[64];
	size_t nlog;
	uint64_t callhash; /* of every call, past the 64 logged too */
	int refuse_commit, refuse_brk;
	int commits_left; /* > 0: this many more commits succeed, later ones are refused */
};

static void rec(struct fos *f, char op, uint64_t a, uint64_t b)
{
	f->callhash = (f->callhash ^ (uint64_t)op ^ a * 31 ^ b * 17) * 1099511628211ull;
	if (f->nlog < 64)
		f->log[f->nlog++] = (struct call){ op, a, b };
}

static struct res *find(struct fos *f, uint64_t addr)
{
	for (size_t i = 0; i < f->nres; i++)
		if (f->r[i].live && addr >= f->r[i].base && addr < f->r[i].base + f->r[i].len)
			return &f->r[i];
	return NULL;
}

static int f_reserve(void *ctx, uint64_t len, uint64_t *addr)
{
	struct fos *f = ctx;
	if (len == 0 || len % f->os.granularity)
		fail_msg("reserve of %#llx: not a multiple of the granularity", (unsigned long long)len);
	if (f->nres == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 64;
		f->r = realloc(f->r, f->cap * sizeof(*f->r));
		assert_non_null(f->r);
	}
	struct res *r = &f->r[f->nres++];
	*r = (struct res){ .base = f->next, .len = len, .pages = calloc(len / PG, 1), .live = 1 };
	assert_non_null(r->pages);
	*addr = f->next;
	f->next += len;
	rec(f, 'R', *addr, len);
	return 0;
}

static int f_commit(void *ctx, uint64_t addr, uint64_t len)
{
	struct fos *f = ctx;
	if (f->refuse_commit)
		return -1;
	if (f->commits_left > 0 && --f->commits_left == 0)
		f->refuse_commit = 1;
	struct res *r = find(f, addr);
	if (!r || addr % PG || len % PG || len == 0 || addr + len > r->base + r->len)
		fail_msg("commit [%#llx, +%#llx) not page-aligned inside one reservation",
			 (unsigned long long)addr, (unsigned long long)len);
	for (uint64_t p = (addr - r->base) / PG; p < (addr + len - r->base) / PG; p++) {
		if (r->pages[p])
			fail_msg("commit of page %#llx, committed already",
				 (unsigned long long)(r->base + p * PG));
		r->pages[p] = 1;
	}
	f->committed += len;
	rec(f, 'C', addr, len);
	return 0;
}

static int f_decommit(void *ctx, uint64_t addr, uint64_t len)
{
	struct fos *f = ctx;
	struct res *r = find(f, addr);
	if (!r || addr % PG || len % PG || len == 0 || addr + len > r->base + r->len)
		fail_msg("decommit [%#llx, +%#llx) not page-aligned inside one reservation",
			 (unsigned long long)addr, (unsigned long long)len);
	for (uint64_t p = (addr - r->base) / PG; p < (addr + len - r->base) / PG; p++) {
		if (!r->pages[p])
			fail_msg("decommit of page %#llx, not committed",
				 (unsigned long long)(r->base + p * PG));
		r->pages[p] = 0;
	}
	f->committed -= len;
	rec(f, 'D', addr, len);
	return 0;
}

static int f_release(void *ctx, uint64_t addr)
{
	struct fos *f = ctx;
	struct res *r = find(f, addr);
	if (!r || r->base != addr)
		fail_msg("release of %#llx: no reservation based there", (unsigned long long)addr);
	for (uint64_t p = 0; p < r->len / PG; p++)
		f->committed -= r->pages[p] ? PG : 0;
	if (r->len > f->max_release)
		f->max_release = r->len;
	r->live = 0;
	free(r->pages);
	r->pages = NULL;
	rec(f, 'X', addr, 0);
	return 0;
}

static int f_brk(void *ctx, uint64_t len, uint64_t *base)
{
	struct fos *f = ctx;
	if (f->refuse_brk && (!f->brk_started || len > f->brk_len))
		return -1;
	if ((BRK_BASE + len) % PG)
		fail_msg("break at %#llx, not page-aligned", (unsigned long long)(BRK_BASE + len));
	f->brk_len = len;
	if (len > f->brk_max)
		f->brk_max = len;
	f->brk_started = 1;
	*base = BRK_BASE;
	rec(f, 'B', BRK_BASE, len);
	return 0;
}

static void fos_init(struct fos *f, int linux_os)
{
	memset(f, 0, sizeof(*f));
	f->os = (struct vl_heap_os){ .ctx = f, .reserve = f_reserve, .commit = f_commit,
				     .decommit = f_decommit, .release = f_release,
				     .brk = linux_os ? f_brk : NULL,
				     .granularity = linux_os ? PG : 0x10000 };
	f->next = linux_os ? MMAP_BASE : WIN_BASE;
}

static void fos_fini(struct fos *f)
{
	for (size_t i = 0; i < f->nres; i++)
		free(f->r[i].pages);
	free(f->r);
}

static int is_committed(struct fos *f, uint64_t addr)
{
	if (f->brk_started && addr >= BRK_BASE && addr < BRK_BASE + f->brk_len)
		return 1;
	struct res *r = find(f, addr);
	return r && r->pages[(addr - r->base) / PG];
}

static size_t live_res(struct fos *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->nres; i++)
		n += f->r[i].live;
	return n;
}

static const struct vl_heap_model_ops *model(const char *name)
{
	for (size_t i = 0; vl_heap_models[i]; i++)
		if (!strcmp(vl_heap_models[i]->name, name))
			return vl_heap_models[i];
	fail_msg("no heap model %s", name);
	return NULL;
}

/* the recorded calls must be exactly want[0..n) */
static void expect_calls(struct fos *f, const struct call *want, size_t n)
{
	for (size_t i = 0; i < n || i < f->nlog; i++) {
		if (i >= n || i >= f->nlog || f->log[i].op != want[i].op || f->log[i].a != want[i].a ||
		    f->log[i].b != want[i].b) {
			for (size_t j = 0; j < f->nlog; j++)
				print_message("  got %c %#llx %#llx\n", f->log[j].op,
					      (unsigned long long)f->log[j].a, (unsigned long long)f->log[j].b);
			fail_msg("call %zu differs (want %zu calls, got %zu)", i, n, f->nlog);
		}
	}
}

#define CALLS(f, ...)                                                           \
	do {                                                                    \
		const struct call w_[] = { __VA_ARGS__ };                       \
		expect_calls(f, w_, sizeof(w_) / sizeof(w_[0]));                \
	} while (0)

static uint64_t A(const struct vl_heap_model_ops *m, void *s, uint64_t size)
{
	uint64_t a = 0;
	assert_int_equal(m->alloc(s, size, 0, &a), 0);
	return a;
}

static uint64_t RA(const struct vl_heap_model_ops *m, void *s, uint64_t addr, uint64_t size)
{
	uint64_t a = 0;
	assert_int_equal(m->realloc(s, addr, size, &a), 0);
	return a;
}

#define H WIN_BASE
#define G BRK_BASE

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* ---- the shared range sets (sim/heap_util.c) ----
 * Random adds and takes on a sized range set over 4096 cells, against a
 * plain bitmap: the set's ranges are exactly the maximal runs of set
 * cells, its byte count their total, and best fit returns the shortest
 * run that is long enough, the lowest among equals. */
static void test_ranges_against_bitmap(void **state)
{
	(void)state;
	enum { N = 4096 };
	static uint8_t bit[N];
	struct vl_hranges r = { .sized = 1 };
	uint64_t x = 99;
	memset(bit, 0, sizeof(bit));
	for (int step = 0; step < 20000; step++) {
		uint64_t a = rnd(&x) % N, len = 1 + rnd(&x) % 64;
		if (a + len > N)
			len = N - a;
		int allset = 1, allclear = 1;
		for (uint64_t i = a; i < a + len; i++) {
			allset &= bit[i];
			allclear &= !bit[i];
		}
		if (allclear) {
			uint64_t ma, ml;
			assert_int_equal(vl_hranges_add(&r, a, len, &ma, &ml), 0);
			for (uint64_t i = a; i < a + len; i++)
				bit[i] = 1;
			/* the merged range is the run around [a, a + len) */
			uint64_t lo = a, hi = a + len;
			while (lo > 0 && bit[lo - 1])
				lo--;
			while (hi < N && bit[hi])
				hi++;
			assert_true(ma == lo && ml == hi - lo);
		} else if (allset) {
			assert_int_equal(vl_hranges_take(&r, a, len), 0);
			for (uint64_t i = a; i < a + len; i++)
				bit[i] = 0;
		}
		if (step % 97)
			continue;
		/* the whole set against the runs */
		uint64_t total = 0, best_len = UINT64_MAX, best_at = 0, want = 1 + rnd(&x) % 80;
		for (uint64_t i = 0; i < N;) {
			if (!bit[i]) {
				i++;
				continue;
			}
			uint64_t j = i;
			while (j < N && bit[j])
				j++;
			struct vl_hnode *n = vl_hranges_starting(&r, i);
			assert_non_null(n);
			assert_true(n->v == j - i);
			assert_true(vl_hranges_at(&r, j - 1) == n);
			total += j - i;
			if (j - i >= want && j - i < best_len) {
				best_len = j - i;
				best_at = i;
			}
			i = j;
		}
		assert_true(r.bytes == total);
		assert_true(r.by_addr.n == r.by_len.n);
		struct vl_hnode *b = vl_hranges_best(&r, want);
		if (best_len == UINT64_MAX) {
			assert_null(b);
		} else {
			assert_non_null(b);
			assert_true(b->k1 == best_len && b->k2 == best_at);
		}
	}
	vl_hranges_clear(&r);
}

/* vl_hcommit commits only the gaps, and on a refusal takes back exactly
 * what it committed itself.  [B+0x1000, +0x1000) and [B+0x3000, +0x1000)
 * are committed; committing [B, B+0x6000) fills [B, B+0x1000), then
 * [B+0x2000, B+0x3000) is refused: [B, B+0x1000) is decommitted again and
 * the set holds its two ranges as before.  Allowed, the same call commits
 * the three gaps [B, +0x1000), [B+0x2000, +0x1000), [B+0x4000, +0x2000). */
static void test_commit_undo(void **state)
{
	(void)state;
	struct fos f;
	struct vl_hranges c = { 0 };
	uint64_t B;
	fos_init(&f, 0);
	assert_int_equal(f.os.reserve(f.os.ctx, 0x10000, &B), 0);
	assert_int_equal(vl_hcommit(&f.os, &c, B + 0x1000, B + 0x2000), 0);
	assert_int_equal(vl_hcommit(&f.os, &c, B + 0x3000, B + 0x4000), 0);
	f.commits_left = 1; /* the next one succeeds, the one after is refused */
	assert_int_equal(vl_hcommit(&f.os, &c, B, B + 0x6000), -1);
	assert_true(c.bytes == 0x2000 && f.committed == 0x2000);
	f.refuse_commit = 0;
	assert_int_equal(vl_hcommit(&f.os, &c, B, B + 0x6000), 0);
	assert_true(c.bytes == 0x6000 && c.by_addr.n == 1);
	CALLS(&f, { 'R', B, 0x10000 }, { 'C', B + 0x1000, 0x1000 }, { 'C', B + 0x3000, 0x1000 },
	      { 'C', B, 0x1000 }, { 'D', B, 0x1000 }, { 'C', B, 0x1000 },
	      { 'C', B + 0x2000, 0x1000 }, { 'C', B + 0x4000, 0x2000 });
	vl_hdecommit(&f.os, &c, B + 0x1000, B + 0x5000); /* one piece: one call */
	assert_true(c.bytes == 0x2000 && c.by_addr.n == 2);
	assert_true(f.nlog == 9 && f.log[8].op == 'D' && f.log[8].a == B + 0x1000 && f.log[8].b == 0x4000);
	vl_hranges_clear(&c);
	fos_fini(&f);
}

/* ---- nt ---- */

/* A hot bucket moves to the LFH after 17 back-end allocations.
 * HeapCreate reserves SegmentReserve (1 MiB) at H and commits
 * SegmentCommit (0x2000); the _HEAP header takes [H, H+0x2c0).
 * malloc(100): block = round16(100) + 16-byte header = 0x80, bucket of
 * 0x80 bytes.  Blocks 0..16 come from the back end one after another:
 * block i at H+0x2c0+i*0x80, user H+0x2d0+i*0x80 (the 17th, i = 16, at
 * H+0xad0; the last ends at H+0xb40, inside the 2 committed pages).
 * The 18th goes to the LFH: the bucket's first UserBlocks holds 16 slots
 * of 0x80: 0x30 header + 16*0x80 = 0x830 bytes asked of the back end, a
 * block of round16(0x830) + 16 = 0x840 at H+0xb40 (user part H+0xb50);
 * slot 0 at H+0xb50+0x30 = H+0xb80, its user address past the slot's
 * 16-byte header: H+0xb90; the 19th: slot 1, H+0xc10.  A 200-byte block
 * (0xe0, another bucket, 1 allocation so far) comes from the back end
 * after the UserBlocks: H+0xb40+0x840 = H+0x1380, user H+0x1390.  Still
 * inside the first 2 pages: no call after the create's two. */
static void test_nt_lfh_activation(void **state)
{
	(void)state;
	struct fos f;
	fos_init(&f, 0);
	const struct vl_heap_model_ops *m = model("nt");
	void *s;
	assert_int_equal(m->create(&s, &f.os), 0);
	for (uint64_t i = 0; i < 17; i++)
		assert_true(A(m, s, 100) == H + 0x2d0 + i * 0x80);
	uint64_t l0 = A(m, s, 100), l1 = A(m, s, 100);
	assert_true(l0 == H + 0xb90);
	assert_true(l1 == H + 0xc10);
	assert_true(A(m, s, 200) == H + 0x1390);
	/* both slots freed: the empty UserBlocks goes back to the back end,
	 * a free block [H+0xb40, H+0x1380) of 0x840 between live blocks (no
	 * decommit: 0x2000 committed - 0x960 busy - 0x2c0 header = 0x13e0 of
	 * free, under 64 KiB).  The next malloc(100) builds a new UserBlocks
	 * of the same 0x840, best fit takes that exact hole: H+0xb90 again. */
	m->free(s, l1);
	m->free(s, l0);
	assert_true(A(m, s, 100) == H + 0xb90);
	CALLS(&f, { 'R', H, 0x100000 }, { 'C', H, 0x2000 });
	m->destroy(s);
	fos_fini(&f);
}

/* The VirtualAlloc threshold, 0x7F000 bytes asked.
 * 0x7efff (one byte below): back end, block round16 + 16 = 0x7f010 at
 * H+0x2c0 (user H+0x2d0), ending at H+0x7f2d0: pages up to H+0x80000
 * needed, [H, H+0x2000) committed by the create: commit(H+0x2000,
 * 0x7e000).  0x7f000 (at) and 0x7f001 (above): VirtualAlloc, with the
 * 0x40-byte _HEAP_VIRTUAL_ALLOC_ENTRY in front: 0x7f040 / 0x7f041 bytes,
 * reserved in 64 KiB (0x80000) and committed in pages (0x80000), at
 * the next reservations H+0x100000 and H+0x180000, users base + 0x40.
 * Freed: released.  Freeing the back-end block leaves [H+0x2c0, H+1 MiB)
 * free with 0x80000 - 0x2c0 committed free bytes >= 64 KiB
 * (DeCommitTotalFreeThreshold), the block longer than one page
 * (DeCommitFreeBlockThreshold): its whole pages [H+0x1000, H+1 MiB)
 * decommitted where committed, i.e. decommit(H+0x1000, 0x7f000). */
static void test_nt_va_threshold(void **state)
{
	(void)state;
	struct fos f;
	fos_init(&f, 0);
	const struct vl_heap_model_ops *m = model("nt");
	void *s;
	assert_int_equal(m->create(&s, &f.os), 0);
	uint64_t below = A(m, s, 0x7efff), at = A(m, s, 0x7f000), above = A(m, s, 0x7f001);
	assert_true(below == H + 0x2d0);
	assert_true(at == H + 0x100040);
	assert_true(above == H + 0x180040);
	m->free(s, at);
	m->free(s, above);
	m->free(s, below);
	CALLS(&f, { 'R', H, 0x100000 }, { 'C', H, 0x2000 }, { 'C', H + 0x2000, 0x7e000 },
	      { 'R', H + 0x100000, 0x80000 }, { 'C', H + 0x100000, 0x80000 },
	      { 'R', H + 0x180000, 0x80000 }, { 'C', H + 0x180000, 0x80000 },
	      { 'X', H + 0x100000, 0 }, { 'X', H + 0x180000, 0 }, { 'D', H + 0x1000, 0x7f000 });
	assert_true(f.committed == 0x1000);
	m->destroy(s);
	fos_fini(&f);
}

/* Decommit only past both thresholds.  Blocks of 0x7ff0 bytes are 0x8000
 * with the header: a [H+0x2c0, H+0x82c0) commits [H+0x2000, H+0x9000),
 * b [H+0x82c0, H+0x102c0) commits [H+0x9000, H+0x11000), c [H+0x102c0,
 * H+0x182c0) commits [H+0x11000, H+0x19000); a 16-byte guard (block 0x20)
 * at H+0x182c0 needs no new page.  Committed 0x19000, busy 0x18020,
 * header 0x2c0.  free(b): free 0x19000 - 0x10020 - 0x2c0 = 0x8d20 < 64 KiB:
 * nothing decommitted.  free(a): merged with b into [H+0x2c0, H+0x102c0),
 * 0x10000 long (>= one page); free 0x19000 - 0x8020 - 0x2c0 = 0x10d20
 * >= 64 KiB: the whole pages [H+0x1000, H+0x10000) are decommitted (the
 * fragments left, 0xd40 and 0x2c0 bytes, are not 16).  Then a new
 * 0x7ff0 block: best fit is that range (0x10000 long, shorter than the
 * tail), at H+0x2c0 again; its pages [H, H+0x9000) need [H+0x1000,
 * H+0x9000) recommitted. */
static void test_nt_decommit_threshold(void **state)
{
	(void)state;
	struct fos f;
	fos_init(&f, 0);
	const struct vl_heap_model_ops *m = model("nt");
	void *s;
	assert_int_equal(m->create(&s, &f.os), 0);
	uint64_t a = A(m, s, 0x7ff0), b = A(m, s, 0x7ff0), c = A(m, s, 0x7ff0), g = A(m, s, 16);
	assert_true(a == H + 0x2d0 && b == H + 0x82d0 && c == H + 0x102d0 && g == H + 0x182d0);
	m->free(s, b);
	assert_int_equal((int)f.nlog, 5); /* no decommit yet */
	m->free(s, a);
	assert_true(A(m, s, 0x7ff0) == H + 0x2d0);
	CALLS(&f, { 'R', H, 0x100000 }, { 'C', H, 0x2000 }, { 'C', H + 0x2000, 0x7000 },
	      { 'C', H + 0x9000, 0x8000 }, { 'C', H + 0x11000, 0x8000 },
	      { 'D', H + 0x1000, 0xf000 }, { 'C', H + 0x1000, 0x8000 });
	m->destroy(s);
	fos_fini(&f);
}

/* No 16-byte fragment is left before a decommitted range (ReactOS's
 * RtlpDeCommitFreeBlock).  a = malloc(0xd20): block 0xd30 at H+0x2c0,
 * ending at H+0xff0, inside the committed 2 pages.  b = malloc(0xfff0):
 * block 0x10000 at H+0xff0, pages to H+0x11000: commit(H+0x2000, 0xf000).
 * c = malloc(16): block 0x20 at H+0x10ff0, reaching into the page at
 * H+0x11000: commit(H+0x11000, 0x1000).  free(b): a 0x10000 block between
 * live neighbours; committed free 0x12000 - 0xd50 - 0x2c0 = 0x10ff0
 * >= 64 KiB.  Its whole pages would start at H+0x1000, 16 bytes in: that
 * page stays, the range starts at H+0x2000 and ends at H+0x10000 (0xff0
 * bytes before the block's end): decommit(H+0x2000, 0xe000). */
static void test_nt_decommit_fragment(void **state)
{
	(void)state;
	struct fos f;
	fos_init(&f, 0);
	const struct vl_heap_model_ops *m = model("nt");
	void *s;
	assert_int_equal(m->create(&s, &f.os), 0);
	uint64_t a = A(m, s, 0xd20), b = A(m, s, 0xfff0), c = A(m, s, 16);
	assert_true(a == H + 0x2d0 && b == H + 0x1000 && c == H + 0x11000);
	m->free(s, b);
	CALLS(&f, { 'R', H, 0x100000 }, { 'C', H, 0x2000 }, { 'C', H + 0x2000, 0xf000 },
	      { 'C', H + 0x11000, 0x1000 }, { 'D', H + 0x2000, 0xe000 });
	m->destroy(s);
	fos_fini(&f);
}

/* Segments grow, their reservations doubling.  Blocks of 0x7efff bytes
 * are 0x7f010 with the header (below the VirtualAlloc threshold).  The
 * first segment (1 MiB, header 0x2c0) holds two: [H+0x2c0, H+0x7f2d0),
 * committing [H+0x2000, H+0x80000), and [H+0x7f2d0, H+0xfe2e0), committing
 * [H+0x80000, H+0xff000); 0x1d20 bytes stay free.  The third needs a new
 * segment of twice 1 MiB at the next reservation H+0x100000: its 2 pages
 * committed, the 0x70-byte segment header, the block at H+0x100070 (user
 * +0x10), committing up to H+0x180000.  That segment holds four
 * ((0x200000 - 0x70) / 0x7f010 = 4), each committing the pages it reaches:
 * blocks at H+0x100070, H+0x17f080, H+0x1fe090, H+0x27d0a0.  The seventh:
 * a segment of 4 MiB at H+0x300000, the block at H+0x300070. */
static void test_nt_segment_growth(void **state)
{
	(void)state;
	struct fos f;
	fos_init(&f, 0);
	const struct vl_heap_model_ops *m = model("nt");
	void *s;
	assert_int_equal(m->create(&s, &f.os), 0);
	static const uint64_t want[] = { 0x2d0, 0x7f2e0, 0x100080, 0x17f090, 0x1fe0a0, 0x27d0b0, 0x300080 };
	for (int i = 0; i < 7; i++)
		assert_true(A(m, s, 0x7efff) == H + want[i]);
	CALLS(&f, { 'R', H, 0x100000 }, { 'C', H, 0x2000 }, { 'C', H + 0x2000, 0x7e000 },
	      { 'C', H + 0x80000, 0x7f000 }, { 'R', H + 0x100000, 0x200000 },
	      { 'C', H + 0x100000, 0x2000 }, { 'C', H + 0x102000, 0x7e000 },
	      { 'C', H + 0x180000, 0x7f000 }, { 'C', H + 0x1ff000, 0x7f000 },
	      { 'C', H + 0x27e000, 0x7f000 }, { 'R', H + 0x300000, 0x400000 },
	      { 'C', H + 0x300000, 0x2000 }, { 'C', H + 0x302000, 0x7e000 });
	m->destroy(s);
	fos_fini(&f);
}

/* realloc.  p, q = malloc(100): blocks of 0x80 at H+0x2c0, H+0x340 (users
 * H+0x2d0, H+0x350).  realloc(q, 300): needs round16(H+0x350+300) -
 * H+0x340 = 0x140 bytes, the free block after q has them: grows in place
 * (H+0x350).  realloc(p, 300): q follows p, so p moves: a new 0x140 block
 * at the start of the free tail, H+0x480 (user H+0x490), then p's block
 * [H+0x2c0, H+0x340) is freed.  realloc(H+0x490, 10): 0x20 bytes needed,
 * the 0x120 left over goes back to the tail; in place.  Next malloc(100):
 * best fit, the exact 0x80 hole at H+0x2c0: user H+0x2d0. */
static void test_nt_realloc(void **state)
{
	(void)state;
	struct fos f;
	fos_init(&f, 0);
	const struct vl_heap_model_ops *m = model("nt");
	void *s;
	assert_int_equal(m->create(&s, &f.os), 0);
	uint64_t p = A(m, s, 100), q = A(m, s, 100);
	assert_true(p == H + 0x2d0 && q == H + 0x350);
	assert_true(RA(m, s, q, 300) == H + 0x350);
	uint64_t p2 = RA(m, s, p, 300);
	assert_true(p2 == H + 0x490);
	assert_true(RA(m, s, p2, 10) == H + 0x490);
	assert_true(A(m, s, 100) == H + 0x2d0);
	/* the shrunk block's tail went back to the free tail, which now
	 * starts at H+0x4a0: a 0x110 block lands there (user H+0x4b0) */
	assert_true(A(m, s, 0x100) == H + 0x4b0);
	CALLS(&f, { 'R', H, 0x100000 }, { 'C', H, 0x2000 });
	m->destroy(s);
	fos_fini(&f);
}

/* An OS refusal leaves the heap as it was: the same request succeeds
 * later at the address it would have had. */
static void test_nt_refusal(void **state)
{
	(void)state;
	struct fos f;
	fos_init(&f, 0);
	const struct vl_heap_model_ops *m = model("nt");
	void *s;
	uint64_t a;
	assert_int_equal(m->create(&s, &f.os), 0);
	f.refuse_commit = 1;
	assert_int_equal(m->alloc(s, 0x10000, 0, &a), -1); /* needs pages past 0x2000 */
	assert_int_equal(m->alloc(s, 0x80000, 0, &a), -1); /* VirtualAlloc */
	f.refuse_commit = 0;
	assert_true(A(m, s, 0x10000) == H + 0x2d0);
	m->destroy(s);
	fos_fini(&f);
}

/* ---- segment ---- */

#define S WIN_BASE

/* LFH activation.  malloc(100) is a VS chunk of round16(100) + 16 = 0x80.
 * The first needs a VS subsegment: 64 KiB of back end pages; the back end
 * has no segment yet: reserve 1 MiB at S, commit its 2 header pages
 * [S, S+0x2000); the subsegment takes [S+0x2000, S+0x12000) (= B), its
 * header page committed: commit(S+0x2000, 0x1000).  Chunks i = 0..16 at
 * B+0x30+i*0x80, users B+0x40+i*0x80, all in B's first page.  After the
 * 17th, 17 blocks of the 112-byte bucket are live: the bucket is active.
 * The 18th: an LFH subsegment for 112-byte slots, 16 asked: 0x40 + 16*112
 * = 0x740, one page from the back end at S+0x12000 (after B), committed;
 * the page holds (0x1000 - 0x40) / 112 = 36 slots, headerless, slot 0 at
 * S+0x12040, slot 1 at S+0x120b0. */
static void test_segment_lfh_activation(void **state)
{
	(void)state;
	struct fos f;
	fos_init(&f, 0);
	const struct vl_heap_model_ops *m = model("segment");
	void *s;
	assert_int_equal(m->create(&s, &f.os), 0);
	uint64_t B = S + 0x2000;
	for (uint64_t i = 0; i < 17; i++)
		assert_true(A(m, s, 100) == B + 0x40 + i * 0x80);
	assert_true(A(m, s, 100) == S + 0x12040);
	assert_true(A(m, s, 100) == S + 0x120b0);
	CALLS(&f, { 'R', S, 0x100000 }, { 'C', S, 0x2000 }, { 'C', S + 0x2000, 0x1000 },
	      { 'C', S + 0x12000, 0x1000 });
	m->destroy(s);
	fos_fini(&f);
}

/* Thresholds: back end up to 508 KiB (0x7F000) inclusive, large blocks
 * above.  0x7efff and 0x7f000: 127 pages each from the back end: the
 * first segment (reserve S, header commit) at S+0x2000, then the rest of
 * the segment, exactly 127 pages, at S+0x81000; each committed whole.
 * 0x7f001: a large block, reserved 0x80000 (64 KiB granularity) at the
 * next reservation S+0x100000, committed 0x80000 (pages), at its base.
 * Freed: the large block released, the back-end block's pages
 * decommitted. */
static void test_segment_thresholds(void **state)
{
	(void)state;
	struct fos f;
	fos_init(&f, 0);
	const struct vl_heap_model_ops *m = model("segment");
	void *s;
	assert_int_equal(m->create(&s, &f.os), 0);
	uint64_t below = A(m, s, 0x7efff), at = A(m, s, 0x7f000), above = A(m, s, 0x7f001);
	assert_true(below == S + 0x2000 && at == S + 0x81000 && above == S + 0x100000);
	m->free(s, above);
	m->free(s, below);
	CALLS(&f, { 'R', S, 0x100000 }, { 'C', S, 0x2000 }, { 'C', S + 0x2000, 0x7f000 },
	      { 'C', S + 0x81000, 0x7f000 }, { 'R', S + 0x100000, 0x80000 },
	      { 'C', S + 0x100000, 0x80000 }, { 'X', S + 0x100000, 0 },
	      { 'D', S + 0x2000, 0x7f000 });
	m->destroy(s);
	fos_fini(&f);
}

/* VS free pages are decommitted.  malloc(0x3000): VS chunk 0x3010; new
 * segment and subsegment B = S+0x2000 as above; chunk [B+0x30, B+0x3040)
 * needs pages [B, B+0x4000): commit(B+0x1000, 0x3000).  A second one,
 * [B+0x3040, B+0x6050): commit(B+0x4000, 0x3000).  free(a): the free
 * chunk [B+0x30, B+0x3040) holds whole pages [B+0x1000, B+0x3000):
 * decommitted.  free(b): the subsegment is empty and goes back to the
 * back end, whose free pages are decommitted: of [B, B+0x10000) the
 * committed pieces [B, B+0x1000) and [B+0x3000, B+0x7000). */
static void test_segment_vs_decommit(void **state)
{
	(void)state;
	struct fos f;
	fos_init(&f, 0);
	const struct vl_heap_model_ops *m = model("segment");
	void *s;
	assert_int_equal(m->create(&s, &f.os), 0);
	uint64_t B = S + 0x2000;
	uint64_t a = A(m, s, 0x3000), b = A(m, s, 0x3000);
	assert_true(a == B + 0x40 && b == B + 0x3050);
	m->free(s, a);
	m->free(s, b);
	CALLS(&f, { 'R', S, 0x100000 }, { 'C', S, 0x2000 }, { 'C', B, 0x1000 },
	      { 'C', B + 0x1000, 0x3000 }, { 'C', B + 0x4000, 0x3000 }, { 'D', B + 0x1000, 0x2000 },
	      { 'D', B, 0x1000 }, { 'D', B + 0x3000, 0x4000 });
	assert_true(f.committed == 0x2000);
	m->destroy(s);
	fos_fini(&f);
}

/* realloc (VS).  p, q = malloc(1000): chunks of 0x400 at B+0x30, B+0x430
 * (users B+0x40, B+0x440).  realloc(q, 2000): round16(B+0x440+2000) -
 * (B+0x430) = 0x7e0 needed, the free space after q has it: in place.
 * realloc(p, 2000): q follows, p moves: a VS chunk of 0x7e0 at the start
 * of the free space, B+0xc10 (user B+0xc20), its pages [B, B+0x2000):
 * commit(B+0x1000, 0x1000); p's old chunk is freed (no whole page in it). */
static void test_segment_realloc(void **state)
{
	(void)state;
	struct fos f;
	fos_init(&f, 0);
	const struct vl_heap_model_ops *m = model("segment");
	void *s;
	assert_int_equal(m->create(&s, &f.os), 0);
	uint64_t B = S + 0x2000;
	uint64_t p = A(m, s, 1000), q = A(m, s, 1000);
	assert_true(p == B + 0x40 && q == B + 0x440);
	assert_true(RA(m, s, q, 2000) == B + 0x440);
	assert_true(RA(m, s, p, 2000) == B + 0xc20);
	/* p's old chunk [B+0x30, B+0x430) is free: a 0x400 chunk fits exactly */
	assert_true(A(m, s, 1000) == B + 0x40);
	CALLS(&f, { 'R', S, 0x100000 }, { 'C', S, 0x2000 }, { 'C', B, 0x1000 },
	      { 'C', B + 0x1000, 0x1000 });
	m->destroy(s);
	fos_fini(&f);
}

/* ---- glibc ---- */

/* The mmap threshold and its dynamic adjustment.  The first call takes the
 * tcache's 0x290 chunk: sysmalloc grows the break by
 * round_page(0x290 + top_pad 0x20000 + MINSIZE 0x20) = 0x21000; the chunk
 * at G, top G+0x290 of 0x20d70.
 * a = malloc(0x1fff0): nb = (0x1fff0 + 8 + 15) & ~15 = 0x20000, at the
 * threshold, but the top holds nb + MINSIZE: from the top, G+0x290 (user
 * G+0x2a0); top G+0x20290 of 0xd70.
 * b = malloc(0x1fff0): the top is short, nb >= 0x20000: mmap of
 * round_page(nb + 8) = 0x21000 at M (user M+0x10).
 * c = malloc(0x1ffe8): nb = 0x1fff0, under the threshold: the break grows
 * by round_page(0x1fff0 + 0x20000 + 0x20 - 0xd70) = 0x40000 to 0x61000;
 * c at G+0x20290 (user G+0x202a0); top G+0x40280 of 0x20d80.
 * free(b): an mmapped chunk of 0x21000 > threshold: threshold 0x21000,
 * trim threshold 0x42000; munmap.
 * d = malloc(0x1fff0): nb 0x20000 now under the threshold; top fits:
 * G+0x40280 (user G+0x40290); top G+0x60280 of 0xd80.
 * e = malloc(0x20ff8): nb 0x21000 reaches the new threshold, top short:
 * mmap round_page(0x21008) = 0x22000 at M+0x21000 (user +0x10). */
static void test_glibc_mmap_threshold(void **state)
{
	(void)state;
	struct fos f;
	fos_init(&f, 1);
	const struct vl_heap_model_ops *m = model("glibc");
	void *s;
	assert_int_equal(m->create(&s, &f.os), 0);
	const uint64_t M = MMAP_BASE;
	uint64_t a = A(m, s, 0x1fff0), b = A(m, s, 0x1fff0), c = A(m, s, 0x1ffe8);
	assert_true(a == G + 0x2a0 && b == M + 0x10 && c == G + 0x202a0);
	m->free(s, b);
	uint64_t d = A(m, s, 0x1fff0), e = A(m, s, 0x20ff8);
	assert_true(d == G + 0x40290);
	assert_true(e == M + 0x21000 + 0x10);
	CALLS(&f, { 'B', G, 0x21000 }, { 'R', M, 0x21000 }, { 'C', M, 0x21000 }, { 'B', G, 0x61000 },
	      { 'X', M, 0 }, { 'R', M + 0x21000, 0x22000 }, { 'C', M + 0x21000, 0x22000 });
	m->destroy(s);
	fos_fini(&f);
}

/* Trimming the top.  After the tcache chunk (break 0x21000, top G+0x290 of
 * 0x20d70): a, b = malloc(0x10000) (nb 0x10010) from the top: G+0x290,
 * G+0x102a0 (users +0x10); top G+0x202b0 of 0xd50.  c = malloc(0x10000):
 * the break grows by round_page(0x10010 + 0x20000 + 0x20 - 0xd50) =
 * 0x30000 to 0x51000; c at G+0x202b0; top G+0x302c0 of 0x20d40.
 * free(c): merges into the top, G+0x202b0 of 0x30d50 >= 64 KiB and >= the
 * trim threshold 0x20000: systrim keeps top_pad: extra =
 * round_down(0x30d50 - 0x21 - 0x20000) = 0x10000: break 0x41000.
 * free(a): a free chunk below live b; the top (0x20d50) is at the
 * threshold but round_down(0x20d50 - 0x21 - 0x20000) = 0: nothing.
 * free(b): merges with a and the top: G+0x290 of 0x40d70: extra =
 * round_down(0x40d4f - 0x20000) = 0x20000: break 0x21000. */
static void test_glibc_trim(void **state)
{
	(void)state;
	struct fos f;
	fos_init(&f, 1);
	const struct vl_heap_model_ops *m = model("glibc");
	void *s;
	assert_int_equal(m->create(&s, &f.os), 0);
	uint64_t a = A(m, s, 0x10000), b = A(m, s, 0x10000), c = A(m, s, 0x10000);
	assert_true(a == G + 0x2a0 && b == G + 0x102b0 && c == G + 0x202c0);
	m->free(s, c);
	m->free(s, a);
	m->free(s, b);
	CALLS(&f, { 'B', G, 0x21000 }, { 'B', G, 0x51000 }, { 'B', G, 0x41000 }, { 'B', G, 0x21000 });
	/* the next block starts where a was: the top begins at G+0x290 */
	assert_true(A(m, s, 100) == G + 0x2a0);
	m->destroy(s);
	fos_fini(&f);
}

/* The trim threshold doubles with the mmap threshold: after freeing an
 * mmapped chunk of 0x41000 (malloc(0x40ff0): nb 0x41000, mmap
 * round_page(0x41008) = 0x42000), the thresholds are 0x42000 and 0x84000.
 * The same top as in test_glibc_trim, 0x30d50 after free(c), is now
 * under 0x84000: no trim (the break stays 0x51000). */
static void test_glibc_trim_after_adjust(void **state)
{
	(void)state;
	struct fos f;
	fos_init(&f, 1);
	const struct vl_heap_model_ops *m = model("glibc");
	void *s;
	assert_int_equal(m->create(&s, &f.os), 0);
	uint64_t big = A(m, s, 0x40ff0);
	assert_true(big == MMAP_BASE + 0x10);
	m->free(s, big);
	uint64_t a = A(m, s, 0x10000), b = A(m, s, 0x10000), c = A(m, s, 0x10000);
	assert_true(a == G + 0x2a0 && b == G + 0x102b0 && c == G + 0x202c0);
	m->free(s, c);
	CALLS(&f, { 'B', G, 0x21000 }, { 'R', MMAP_BASE, 0x42000 }, { 'C', MMAP_BASE, 0x42000 },
	      { 'X', MMAP_BASE, 0 }, { 'B', G, 0x51000 });
	m->destroy(s);
	fos_fini(&f);
}

/* realloc.  After the tcache chunk: p, q = malloc(100): nb 0x70 at
 * G+0x290, G+0x300 (users +0x10), top G+0x370.  realloc(q, 1000): nb
 * 0x3f0; q borders the top, which has room: grows in place (G+0x310), top
 * G+0x6f0.  realloc(p, 1000): q follows p: malloc 0x3f0 from the top at
 * G+0x6f0 (user G+0x700), p's chunk freed.  malloc(100) then takes p's
 * free chunk (exact fit): G+0x2a0. */
static void test_glibc_realloc(void **state)
{
	(void)state;
	struct fos f;
	fos_init(&f, 1);
	const struct vl_heap_model_ops *m = model("glibc");
	void *s;
	assert_int_equal(m->create(&s, &f.os), 0);
	uint64_t p = A(m, s, 100), q = A(m, s, 100);
	assert_true(p == G + 0x2a0 && q == G + 0x310);
	assert_true(RA(m, s, q, 1000) == G + 0x310);
	assert_true(RA(m, s, p, 1000) == G + 0x700);
	assert_true(A(m, s, 100) == G + 0x2a0);
	CALLS(&f, { 'B', G, 0x21000 });
	m->destroy(s);
	fos_fini(&f);
}

/* ---- refusals, every model ----
 * While the OS refuses every commit (and every growth of the break), no
 * allocation succeeds and nothing stays committed or reserved beyond what
 * the heap held before; once the OS agrees again, the first block lands
 * where it lands in a heap that never saw a refusal (relative to the
 * reservation or break it lies in).  Every size needs new pages: nt's
 * create commits 2 pages, which 0x2000 bytes after the 0x2c0 header
 * overrun. */
static uint64_t rel(struct fos *f, uint64_t a)
{
	if (f->brk_started && a >= BRK_BASE && a < BRK_BASE + f->brk_len)
		return a - BRK_BASE;
	struct res *r = find(f, a);
	assert_non_null(r);
	return a - r->base;
}

static void refusal_run(const char *name, int linux_os)
{
	static const uint64_t sizes[] = { 0x2000, 0x6000, 0x30000, 0x90000, 0x300000 };
	const struct vl_heap_model_ops *m = model(name);
	struct fos f0, f;
	void *s0, *s;
	uint64_t a0, a;
	fos_init(&f0, linux_os);
	assert_int_equal(m->create(&s0, &f0.os), 0);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(m->alloc(s0, sizes[i], 0, &a0), 0);
	fos_init(&f, linux_os);
	assert_int_equal(m->create(&s, &f.os), 0);
	uint64_t committed = f.committed;
	size_t nres = live_res(&f);
	f.refuse_commit = f.refuse_brk = 1;
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(m->alloc(s, sizes[i], 0, &a), -1);
	assert_true(f.committed == committed);
	assert_true(live_res(&f) <= nres + 1); /* at most a segment kept, free */
	f.refuse_commit = f.refuse_brk = 0;
	m->destroy(s0);
	fos_fini(&f0);
	fos_init(&f0, linux_os);
	assert_int_equal(m->create(&s0, &f0.os), 0);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(m->alloc(s0, sizes[i], 0, &a0), 0);
		assert_int_equal(m->alloc(s, sizes[i], 0, &a), 0);
		assert_true(rel(&f0, a0) == rel(&f, a));
	}
	m->destroy(s0);
	m->destroy(s);
	fos_fini(&f0);
	fos_fini(&f);
}

static void test_refusals(void **state)
{
	(void)state;
	refusal_run("nt", 0);
	refusal_run("segment", 0);
	refusal_run("glibc", 1);
}

/* ---- the glibc model against the real glibc ----
 * The hand-derived glibc sequences above, run once more: by this program
 * re-executed as a fresh process ("--glibc-probe N": nothing has called
 * malloc yet), with the host's own malloc, and by the model.  Arena
 * pointers and breaks must agree as offsets from the initial break;
 * mmapped blocks must be mmapped on both sides (their addresses are the
 * kernel's).  Skipped unless the host is glibc 2.36 (Debian 12), its
 * malloc is glibc's (not a sanitizer's) and the probe's heap is fresh. */
struct gop {
	char op;       /* m malloc, f free, r realloc, b record the break */
	int slot;
	uint64_t size;
};

static const struct gop gseq[][16] = {
	{ /* test_glibc_trim */
	  { 'm', 0, 0x10000 }, { 'm', 1, 0x10000 }, { 'b', 0, 0 }, { 'm', 2, 0x10000 },
	  { 'b', 0, 0 }, { 'f', 2, 0 }, { 'b', 0, 0 }, { 'f', 0, 0 }, { 'b', 0, 0 },
	  { 'f', 1, 0 }, { 'b', 0, 0 }, { 'm', 3, 100 }, { 0, 0, 0 } },
	{ /* test_glibc_mmap_threshold */
	  { 'm', 0, 0x1fff0 }, { 'm', 1, 0x1fff0 }, { 'm', 2, 0x1ffe8 }, { 'b', 0, 0 },
	  { 'f', 1, 0 }, { 'm', 3, 0x1fff0 }, { 'm', 4, 0x20ff8 }, { 'b', 0, 0 }, { 0, 0, 0 } },
	{ /* test_glibc_realloc */
	  { 'm', 0, 100 }, { 'm', 1, 100 }, { 'r', 1, 1000 }, { 'r', 0, 1000 }, { 'm', 2, 100 },
	  { 'b', 0, 0 }, { 0, 0, 0 } },
	{ /* test_glibc_trim_after_adjust */
	  { 'm', 0, 0x40ff0 }, { 'f', 0, 0 }, { 'm', 1, 0x10000 }, { 'm', 2, 0x10000 },
	  { 'm', 3, 0x10000 }, { 'b', 0, 0 }, { 'f', 3, 0 }, { 'b', 0, 0 }, { 0, 0, 0 } },
};
#define NGSEQ (sizeof(gseq) / sizeof(gseq[0]))

/* In the fresh child: run sequence n with the host's malloc; print one
 * line per record: "B off" (break), "A off" (arena pointer), "M" (mmapped). */
static int glibc_probe(unsigned n)
{
	static uintptr_t rec[16];
	static char kind[16];
	void *slot[8] = { 0 };
	int k = 0;
	if (n >= NGSEQ)
		return 2;
	struct mallinfo2 mi = mallinfo2();
	if (mi.arena != 0)
		return 3; /* not fresh */
	uintptr_t base = (uintptr_t)sbrk(0);
	for (const struct gop *o = gseq[n]; o->op; o++) {
		switch (o->op) {
		case 'm':
			slot[o->slot] = malloc(o->size);
			kind[k] = 'p';
			rec[k++] = (uintptr_t)slot[o->slot];
			break;
		case 'r':
			slot[o->slot] = realloc(slot[o->slot], o->size);
			kind[k] = 'p';
			rec[k++] = (uintptr_t)slot[o->slot];
			break;
		case 'f':
			free(slot[o->slot]);
			break;
		default:
			kind[k] = 'b';
			rec[k++] = (uintptr_t)sbrk(0);
		}
	}
	for (int i = 0; i < k; i++) {
		uintptr_t off = rec[i] - base;
		if (kind[i] == 'b')
			printf("B %#lx\n", (unsigned long)off);
		else if (rec[i] >= base && off < (1ul << 32))
			printf("A %#lx\n", (unsigned long)off);
		else
			printf("M %#lx\n", (unsigned long)(rec[i] & 0xfff));
	}
	return 0;
}

/* The host's malloc is glibc 2.36's with its defaults: not under a
 * sanitizer, not another glibc, no tunables in the environment. */
static int host_glibc_usable(void)
{
	extern char **environ;
#ifdef __SANITIZE_ADDRESS__
	print_message("AddressSanitizer replaces malloc: skipped\n");
	return 0;
#endif
	if (strcmp(gnu_get_libc_version(), "2.36")) {
		print_message("host glibc %s, not 2.36: skipped\n", gnu_get_libc_version());
		return 0;
	}
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, "GLIBC_TUNABLES=", 15) || !strncmp(*e, "MALLOC_", 7)) {
			print_message("%s in the environment: skipped\n", *e);
			return 0;
		}
	return 1;
}

static void test_glibc_against_host(void **state)
{
	(void)state;
	if (!host_glibc_usable())
		skip();
	const struct vl_heap_model_ops *m = model("glibc");
	char self[4096];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(len > 0);
	self[len] = 0;
	for (unsigned n = 0; n < NGSEQ; n++) {
		char cmd[4200], want[64], got[64];
		snprintf(cmd, sizeof(cmd), "'%s' --glibc-probe %u", self, n);
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		struct fos f;
		void *s;
		uint64_t slot[8] = { 0 };
		fos_init(&f, 1);
		assert_int_equal(m->create(&s, &f.os), 0);
		for (const struct gop *o = gseq[n]; o->op; o++) {
			uint64_t a = 0;
			if (o->op == 'f') {
				m->free(s, slot[o->slot]);
				continue;
			}
			if (o->op == 'm')
				assert_int_equal(m->alloc(s, o->size, 0, &a), 0);
			else if (o->op == 'r')
				assert_int_equal(m->realloc(s, slot[o->slot], o->size, &a), 0);
			if (o->op == 'b')
				snprintf(want, sizeof(want), "B %#lx\n", (unsigned long)f.brk_len);
			else if (a >= BRK_BASE && a < BRK_BASE + f.brk_len)
				snprintf(want, sizeof(want), "A %#lx\n", (unsigned long)(a - BRK_BASE));
			else
				snprintf(want, sizeof(want), "M %#lx\n", (unsigned long)(a & 0xfff));
			if (o->op != 'b')
				slot[o->slot] = a;
			if (!fgets(got, sizeof(got), p)) {
				int st = pclose(p);
				if (WIFEXITED(st) && WEXITSTATUS(st) == 3) {
					print_message("the probe's heap was not fresh: skipped\n");
					m->destroy(s);
					fos_fini(&f);
					skip();
				}
				fail_msg("sequence %u: the probe stopped (status %d)", n, st);
			}
			if (strcmp(want, got))
				fail_msg("sequence %u: model %s host %s", n, want, got);
		}
		assert_int_equal(pclose(p), 0);
		m->destroy(s);
		fos_fini(&f);
	}
}

/* Random sequences against the host: malloc, free, realloc and memalign
 * of sizes across the tcache, fastbin, small-bin, large-bin and mmap
 * ranges, generated from a seed the same way in the probe and here; every
 * returned pointer and, every 64 calls, the break must agree. */
#define RSLOTS 256


struct rop {
	char op; /* m malloc, a memalign, f free, r realloc, b break */
	int slot;
	uint64_t size, align;
};

static uint64_t rsize(uint64_t *x)
{
	uint64_t r = rnd(x) % 100;
	if (r < 50)
		return rnd(x) % 129;
	if (r < 75)
		return rnd(x) % 1100;
	if (r < 90)
		return rnd(x) % 70000;
	if (r < 98)
		return rnd(x) % 300000;
	return rnd(x) % (2 << 20);
}

/* the next call, given which slots are live */
static struct rop next_rop(uint64_t *x, const uint8_t *used, int nlive, int i)
{
	struct rop o = { 0, 0, 0, 0 };
	uint64_t r = rnd(x) % 100;
	if (i % 64 == 63) {
		o.op = 'b';
		return o;
	}
	if (nlive == RSLOTS || (nlive && r < 55)) {
		int k = (int)(rnd(x) % (uint64_t)nlive);
		for (o.slot = 0;; o.slot++)
			if (used[o.slot] && k-- == 0)
				break;
		o.op = r < 40 || nlive == RSLOTS ? 'f' : 'r';
		if (o.op == 'r')
			o.size = 1 + rsize(x);
		return o;
	}
	for (o.slot = (int)(rnd(x) % RSLOTS); used[o.slot]; o.slot = (o.slot + 1) % RSLOTS)
		;
	o.size = rsize(x);
	o.op = r < 62 ? 'a' : 'm';
	if (o.op == 'a')
		o.align = 32ull << rnd(x) % 8;
	return o;
}

static int glibc_random_probe(uint64_t seed, int n)
{
	static void *slot[RSLOTS];
	static uint8_t used[RSLOTS];
	static uintptr_t rec[20000];
	static char kind[20000];
	int nlive = 0, k = 0;
	uint64_t x = seed;
	if (n > 20000)
		return 2;
	struct mallinfo2 mi = mallinfo2();
	if (mi.arena != 0)
		return 3;
	uintptr_t base = (uintptr_t)sbrk(0);
	for (int i = 0; i < n; i++) {
		struct rop o = next_rop(&x, used, nlive, i);
		switch (o.op) {
		case 'b':
			kind[k] = 'b';
			rec[k++] = (uintptr_t)sbrk(0);
			break;
		case 'f':
			free(slot[o.slot]);
			used[o.slot] = 0;
			nlive--;
			break;
		case 'r':
			slot[o.slot] = realloc(slot[o.slot], o.size);
			kind[k] = 'p';
			rec[k++] = (uintptr_t)slot[o.slot];
			break;
		default:
			slot[o.slot] = o.op == 'a' ? memalign(o.align, o.size) : malloc(o.size);
			used[o.slot] = 1;
			nlive++;
			kind[k] = 'p';
			rec[k++] = (uintptr_t)slot[o.slot];
		}
	}
	for (int i = 0; i < k; i++) {
		uintptr_t off = rec[i] - base;
		if (kind[i] == 'b')
			printf("B %#lx\n", (unsigned long)off);
		else if (rec[i] >= base && off < (1ul << 32))
			printf("A %#lx\n", (unsigned long)off);
		else
			printf("M %#lx\n", (unsigned long)(rec[i] & 0xfff));
	}
	return 0;
}

static void test_glibc_random_against_host(void **state)
{
	(void)state;
	if (!host_glibc_usable())
		skip();
	const struct vl_heap_model_ops *m = model("glibc");
	char self[4096];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(len > 0);
	self[len] = 0;
	static const uint64_t seeds[] = { 1, 2, 3, 0x9e3779b97f4a7c15ull };
	const int n = 6000;
	for (size_t si = 0; si < sizeof(seeds) / sizeof(seeds[0]); si++) {
		char cmd[4200], want[64], got[64];
		snprintf(cmd, sizeof(cmd), "'%s' --glibc-random %llu %d", self,
			 (unsigned long long)seeds[si], n);
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		struct fos f;
		void *s;
		static uint64_t slot[RSLOTS];
		static uint8_t used[RSLOTS];
		int nlive = 0;
		uint64_t x = seeds[si];
		memset(used, 0, sizeof(used));
		fos_init(&f, 1);
		assert_int_equal(m->create(&s, &f.os), 0);
		for (int i = 0; i < n; i++) {
			struct rop o = next_rop(&x, used, nlive, i);
			uint64_t a = 0;
			switch (o.op) {
			case 'f':
				m->free(s, slot[o.slot]);
				used[o.slot] = 0;
				nlive--;
				continue;
			case 'b':
				break;
			case 'r':
				assert_int_equal(m->realloc(s, slot[o.slot], o.size, &a), 0);
				slot[o.slot] = a;
				break;
			default:
				assert_int_equal(m->alloc(s, o.size, o.align, &a), 0);
				slot[o.slot] = a;
				used[o.slot] = 1;
				nlive++;
			}
			if (o.op == 'b')
				snprintf(want, sizeof(want), "B %#lx\n", (unsigned long)f.brk_len);
			else if (a >= BRK_BASE && a < BRK_BASE + f.brk_len)
				snprintf(want, sizeof(want), "A %#lx\n", (unsigned long)(a - BRK_BASE));
			else
				snprintf(want, sizeof(want), "M %#lx\n", (unsigned long)(a & 0xfff));
			if (!fgets(got, sizeof(got), p)) {
				int st = pclose(p);
				if (WIFEXITED(st) && WEXITSTATUS(st) == 3) {
					print_message("the probe's heap was not fresh: skipped\n");
					m->destroy(s);
					fos_fini(&f);
					skip();
				}
				fail_msg("seed %zu: the probe stopped (status %d)", si, st);
			}
			if (strcmp(want, got))
				fail_msg("seed %zu call %d (%c slot %d size %#llx align %llu): model %s host %s",
					 si, i, o.op, o.slot, (unsigned long long)o.size,
					 (unsigned long long)o.align, want, got);
		}
		assert_int_equal(pclose(p), 0);
		m->destroy(s);
		fos_fini(&f);
	}
}

/* ---- randomized ---- */

struct blk {
	uint64_t addr, size;
};

static uint64_t draw_size(uint64_t *x)
{
	uint64_t r = rnd(x) % 100;
	if (r < 70)
		return rnd(x) % 513;
	if (r < 90)
		return 512 + rnd(x) % 65536;
	if (r < 98)
		return 65536 + rnd(x) % (600 * 1024);
	return 600 * 1024 + rnd(x) % (2 << 20);
}

static void check_block(struct fos *f, uint64_t addr, uint64_t size)
{
	uint64_t end = addr + (size ? size : 1);
	for (uint64_t p = addr & ~(PG - 1); p < end; p += PG)
		if (!is_committed(f, p))
			fail_msg("block [%#llx, +%#llx): page %#llx not committed",
				 (unsigned long long)addr, (unsigned long long)size, (unsigned long long)p);
}

static void check_disjoint(struct blk *b, size_t n, size_t k)
{
	uint64_t a = b[k].addr, e = a + (b[k].size ? b[k].size : 1);
	for (size_t i = 0; i < n; i++) {
		if (i == k)
			continue;
		uint64_t ia = b[i].addr, ie = ia + (b[i].size ? b[i].size : 1);
		if (a < ie && ia < e)
			fail_msg("blocks [%#llx, %#llx) and [%#llx, %#llx) overlap", (unsigned long long)a,
				 (unsigned long long)e, (unsigned long long)ia, (unsigned long long)ie);
	}
}

/* Returns a hash of every address the model returned and every OS call's
 * arguments, for the determinism test. */
static uint64_t random_run(const char *name, int linux_os, uint64_t seed)
{
	uint64_t hash = 1469598103934665603ull;
	struct fos f;
	fos_init(&f, linux_os);
	const struct vl_heap_model_ops *m = model(name);
	void *s;
	assert_int_equal(m->create(&s, &f.os), 0);
	enum { OPS = 6000, MAXLIVE = 3000 };
	struct blk *b = calloc(MAXLIVE, sizeof(*b));
	assert_non_null(b);
	size_t n = 0;
	uint64_t x = seed;
	for (int op = 0; op < OPS; op++) {
		uint64_t r = rnd(&x) % 100;
		if (n && (r < 35 || n == MAXLIVE)) {
			size_t k = rnd(&x) % n;
			m->free(s, b[k].addr);
			b[k] = b[--n];
		} else if (n && r < 50) {
			size_t k = rnd(&x) % n;
			uint64_t size = draw_size(&x), na;
			assert_int_equal(m->realloc(s, b[k].addr, size, &na), 0);
			b[k] = (struct blk){ na, size };
			hash = (hash ^ na) * 1099511628211ull;
			check_disjoint(b, n, k);
			check_block(&f, na, size);
		} else {
			uint64_t size = draw_size(&x), align = rnd(&x) % 10 == 0 ? 32u << rnd(&x) % 8 : 0, a;
			assert_int_equal(m->alloc(s, size, align, &a), 0);
			if (align)
				assert_true(a % align == 0);
			else
				assert_true(a % 16 == 0);
			b[n++] = (struct blk){ a, size };
			hash = (hash ^ a) * 1099511628211ull;
			check_disjoint(b, n, n - 1);
			check_block(&f, a, size);
		}
		if (op % 500 == 0)
			for (size_t i = 0; i < n; i++)
				check_block(&f, b[i].addr, b[i].size);
	}
	for (size_t i = 0; i < n; i++)
		check_block(&f, b[i].addr, b[i].size);
	while (n)
		m->free(s, b[--n].addr);
	size_t nres = live_res(&f);
	if (!strcmp(name, "nt")) {
		/* Every VirtualAlloc block is released, so the live reservations
		 * are segments.  Per segment, after its last free the free
		 * space is one block [base + header, end); either the heap's
		 * committed free bytes exceeded 64 KiB then, and all its whole
		 * pages went (leaving the header's page), or they did not, and
		 * the segments that ended that way hold at most 64 KiB of
		 * committed free together (the latest of them saw them all
		 * under the threshold).  Committed <= 64 KiB + 2 pages per
		 * segment (its header page, and one for rounding). */
		assert_true(f.committed <= 0x10000 + nres * 2 * PG);
	} else if (!strcmp(name, "segment")) {
		/* every LFH and VS subsegment and back-end block went back to
		 * the back end, which decommits free pages: only the 2 header
		 * pages of each segment stay */
		assert_true(f.committed == nres * 0x2000);
	} else {
		/* every mmapped chunk unmapped.  The arena keeps what glibc
		 * keeps: chunks parked in the tcache (up to 7 per size) and the
		 * fastbins are in use as far as merging goes and can hold the
		 * top up anywhere, so no bound tighter than the break's peak
		 * holds; test_glibc_random_against_host checks the arena against
		 * the real glibc instead. */
		assert_true(f.committed == 0);
		assert_true(f.brk_len <= f.brk_max);
	}
	hash = (hash ^ f.callhash ^ f.committed ^ f.brk_len) * 1099511628211ull;
	free(b);
	m->destroy(s);
	fos_fini(&f);
	return hash;
}

/* The same calls give the same addresses and the same OS calls. */
static void test_deterministic(void **state)
{
	(void)state;
	assert_true(random_run("nt", 0, 7) == random_run("nt", 0, 7));
	assert_true(random_run("segment", 0, 7) == random_run("segment", 0, 7));
	assert_true(random_run("glibc", 1, 7) == random_run("glibc", 1, 7));
	assert_true(random_run("nt", 0, 7) != random_run("nt", 0, 8));
}

/* (the Windows models also run with a 4 KiB reservation granularity, as
 * under a linux personality: the fake checks every reservation length) */
static void test_random_nt(void **state)
{
	(void)state;
	random_run("nt", 0, 0x9e3779b97f4a7c15ull);
	random_run("nt", 0, 12345);
	random_run("nt", 1, 12345);
}

static void test_random_segment(void **state)
{
	(void)state;
	random_run("segment", 0, 0x9e3779b97f4a7c15ull);
	random_run("segment", 0, 12345);
	random_run("segment", 1, 12345);
}

static void test_random_glibc(void **state)
{
	(void)state;
	random_run("glibc", 1, 0x9e3779b97f4a7c15ull);
	random_run("glibc", 1, 12345);
}

/* The registry: three models, named as heap.model spells them. */
static void test_registry(void **state)
{
	(void)state;
	size_t n = 0;
	for (; vl_heap_models[n]; n++) {
		assert_non_null(vl_heap_models[n]->summary);
		assert_non_null(vl_heap_models[n]->create);
		assert_non_null(vl_heap_models[n]->realloc);
	}
	assert_int_equal((int)n, 3);
	model("nt");
	model("segment");
	model("glibc");
	/* glibc's arena lives on the break: no brk (windows), no heap */
	struct fos f;
	void *s;
	fos_init(&f, 0);
	assert_int_equal(model("glibc")->create(&s, &f.os), -1);
	fos_fini(&f);
	/* an absurd size (a corrupt trace) fails like a refusal, no OS call */
	for (size_t i = 0; vl_heap_models[i]; i++) {
		const struct vl_heap_model_ops *m = vl_heap_models[i];
		uint64_t a;
		fos_init(&f, !strcmp(m->name, "glibc"));
		assert_int_equal(m->create(&s, &f.os), 0);
		size_t before = f.nlog;
		assert_int_equal(m->alloc(s, UINT64_MAX - 8, 0, &a), -1);
		assert_int_equal(m->alloc(s, 16, 1ull << 63, &a), -1);
		assert_int_equal((int)f.nlog, (int)before);
		m->destroy(s);
		fos_fini(&f);
	}
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "--glibc-probe"))
		return glibc_probe((unsigned)atoi(argv[2]));
	if (argc > 3 && !strcmp(argv[1], "--glibc-random"))
		return glibc_random_probe(strtoull(argv[2], NULL, 0), atoi(argv[3]));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_ranges_against_bitmap),
		cmocka_unit_test(test_commit_undo),
		cmocka_unit_test(test_nt_lfh_activation),
		cmocka_unit_test(test_nt_va_threshold),
		cmocka_unit_test(test_nt_decommit_threshold),
		cmocka_unit_test(test_nt_decommit_fragment),
		cmocka_unit_test(test_nt_segment_growth),
		cmocka_unit_test(test_nt_realloc),
		cmocka_unit_test(test_nt_refusal),
		cmocka_unit_test(test_segment_lfh_activation),
		cmocka_unit_test(test_segment_thresholds),
		cmocka_unit_test(test_segment_vs_decommit),
		cmocka_unit_test(test_segment_realloc),
		cmocka_unit_test(test_glibc_mmap_threshold),
		cmocka_unit_test(test_glibc_trim),
		cmocka_unit_test(test_glibc_trim_after_adjust),
		cmocka_unit_test(test_glibc_realloc),
		cmocka_unit_test(test_glibc_against_host),
		cmocka_unit_test(test_glibc_random_against_host),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_random_nt),
		cmocka_unit_test(test_random_segment),
		cmocka_unit_test(test_random_glibc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
