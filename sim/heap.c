/* sim/heap.c - the engine's heap layer: heap events (H lines), the heap
 * counters, and the replay of a captured program's heap under a model.
 *
 * Heap events (VL_EV_HEAP_ALLOC / FREE / REALLOC) say what the captured
 * program's allocator returned.  Per process the layer keeps the live
 * captured blocks:
 *
 *   blk[]     captured address, size, model address (dense, free list)
 *   by_addr   open addressing: captured address -> block (FREE, REALLOC)
 *   by_page   open addressing: captured page number -> list of the blocks
 *             overlapping that page (nodes in pn[]); its number of keys is
 *             the pages the live blocks touch
 *
 * heap.model = captured (the default): addresses stay as recorded; the
 * events only feed the counters, and the access loop is untouched
 * (vl_engine_feed takes its usual path: no per-access check at all).
 *
 * heap.model = a model of vl_heap_models[] (sim/heap.h): each process gets
 * an instance; every ALLOC asks it where the block lives, and its OS calls
 * (struct vl_heap_os) become the personality's address-space operations,
 * as V events would be (windows: RESERVE, COMMIT, DECOMMIT, RELEASE; the
 * others: MMAP, MPROTECT, ADVISE dontneed, MUNMAP, and a program break of
 * its own).  vl_engine_feed then goes through vl_heap_feed, which copies
 * each run of access records between heap events into a scratch batch,
 * moving an access inside a live block to the same offset in the model's
 * block (one hash probe on the captured page, then that page's short list
 * of blocks, the last block hit first), feeds the run, then applies the
 * heap event.
 *
 * Invariants: a live block's [caddr, caddr + max(size, 1)) overlaps no
 * other live block of its process; every page it overlaps lists it once in
 * by_page; by_addr holds exactly the live blocks.  Bad input (a free of an
 * address that is not live, a realloc of one, an ALLOC overlapping live
 * blocks) is counted in heap_errors, noted once in the engine's warning,
 * and the replay goes on (the overlapped blocks are dropped as if freed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/heap.h"
#include "sim/internal.h"

#define HNIL UINT32_MAX
#define HEAP_BASE 0x200000000000ull  /* where the models' address space starts (32 TiB) */
#define BRK_SPAN (64ull << 30)         /* the model's program break: room reserved */

struct hblk {
	uint64_t caddr, size, maddr;
	bool placed;      /* the model holds it (maddr is the model's) */
	uint32_t next;    /* free list */
};

struct pnode {
	uint32_t blk, next;
};

struct resv {             /* a reservation the model made */
	uint64_t base, len;   /* bytes */
	uint64_t *bits;       /* committed pages */
};

struct hmap {             /* open addressing, linear probing: key -> val, aux */
	uint64_t *keys;
	uint32_t *vals;
	uint64_t *aux;        /* by_page: which 64-byte granules of the page live blocks cover */
	uint32_t *tab;        /* by_page: the page's granule table (struct heap_proc's gtab), or HNIL */
	uint32_t mask, n;     /* capacity - 1 (0: none yet), keys */
};

#define HEMPTY UINT64_MAX
#define GRANULES 256            /* 16-byte granules per page */
#define GMULTI (UINT32_MAX - 1)

struct heap_proc {
	struct vl_engine *e;
	uint32_t proc;
	struct hblk *blk;
	uint32_t nblk, blk_cap, blk_free;
	struct pnode *pn;
	uint32_t npn, pn_cap, pn_free;
	struct hmap by_addr, by_page;
	/* granule tables of the pages that hold two blocks or more: per
	 * 16-byte granule of the page, the one live block that covers it,
	 * HNIL for none, GMULTI for several (then the page's list decides);
	 * glibc's blocks never share a granule, so a lookup is one probe */
	uint32_t (*gtab)[GRANULES];
	uint32_t ngtab, gtab_cap, gtab_free;
	uint32_t last;                  /* last block an access hit */
	/* every block ever live lay in [lo, lo + span): accesses outside
	 * (the stack, code) are passed on without a probe */
	uint64_t lo, span;
	uint64_t live_bytes;
	/* the model (model_on: its instance exists) */
	bool model_on;
	void *state;
	struct vl_heap_os os;
	struct resv *resv;
	uint32_t nresv, resv_cap;
	uint64_t brk_base, brk_len;     /* the model's program break (0: none yet) */
	uint64_t committed;             /* pages the model holds committed */
	int os_rc;                      /* an engine error inside a callback */
	struct vl_error *os_err;
};

struct vl_heap {
	const struct vl_heap_model_ops *model; /* NULL: captured */
	bool windows;
	uint64_t live_bytes, committed;         /* all processes */
	struct vl_rec *scratch;
	size_t scratch_cap;
};

/* ---- hash maps ---- */

static inline uint32_t hmix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (uint32_t)k;
}

static int hmap_grow(struct hmap *m)
{
	uint32_t cap = m->mask ? (m->mask + 1) * 2 : 64;
	struct hmap n = { .keys = malloc(cap * sizeof(uint64_t)), .vals = malloc(cap * sizeof(uint32_t)),
			  .aux = malloc(cap * sizeof(uint64_t)), .tab = malloc(cap * sizeof(uint32_t)),
			  .mask = cap - 1 };
	if (!n.keys || !n.vals || !n.aux || !n.tab) {
		free(n.keys);
		free(n.vals);
		free(n.aux);
		free(n.tab);
		return VL_ENOMEM;
	}
	memset(n.keys, 0xff, cap * sizeof(uint64_t));
	for (uint32_t i = 0; m->mask && i <= m->mask; i++) {
		if (m->keys[i] == HEMPTY)
			continue;
		uint32_t s = hmix(m->keys[i]) & n.mask;
		while (n.keys[s] != HEMPTY)
			s = (s + 1) & n.mask;
		n.keys[s] = m->keys[i];
		n.vals[s] = m->vals[i];
		n.aux[s] = m->aux[i];
		n.tab[s] = m->tab[i];
	}
	n.n = m->n;
	free(m->keys);
	free(m->vals);
	free(m->aux);
	free(m->tab);
	*m = n;
	return 0;
}

/* The slot of key, or HNIL. */
static inline uint32_t hmap_find(const struct hmap *m, uint64_t key)
{
	if (!m->mask)
		return HNIL;
	uint32_t s = hmix(key) & m->mask;
	while (m->keys[s] != HEMPTY) {
		if (m->keys[s] == key)
			return s;
		s = (s + 1) & m->mask;
	}
	return HNIL;
}

/* Insert key (absent) with val.  0 or VL_ENOMEM. */
static int hmap_put(struct hmap *m, uint64_t key, uint32_t val)
{
	if ((m->n + 1) * 2 > m->mask + 1 || !m->mask)
		VL_TRY(hmap_grow(m));
	uint32_t s = hmix(key) & m->mask;
	while (m->keys[s] != HEMPTY)
		s = (s + 1) & m->mask;
	m->keys[s] = key;
	m->vals[s] = val;
	m->aux[s] = 0;
	m->tab[s] = HNIL;
	m->n++;
	return 0;
}

/* Remove the key at slot s (backward-shift deletion: no tombstones). */
static void hmap_del(struct hmap *m, uint32_t s)
{
	uint32_t i = s;
	for (;;) {
		m->keys[i] = HEMPTY;
		uint32_t j = i;
		for (;;) {
			j = (j + 1) & m->mask;
			if (m->keys[j] == HEMPTY) {
				m->n--;
				return;
			}
			uint32_t home = hmix(m->keys[j]) & m->mask;
			/* j's key may move to i when its home is not in (i, j] */
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		m->keys[i] = m->keys[j];
		m->vals[i] = m->vals[j];
		m->aux[i] = m->aux[j];
		m->tab[i] = m->tab[j];
		i = j;
	}
}

static void hmap_free(struct hmap *m)
{
	free(m->keys);
	free(m->vals);
	free(m->aux);
	free(m->tab);
	*m = (struct hmap){ 0 };
}

/* ---- blocks ---- */

static inline uint64_t blk_ext(const struct hblk *b)
{
	return b->size ? b->size : 1;
}

static uint32_t blk_new(struct heap_proc *hp)
{
	if (hp->blk_free != HNIL) {
		uint32_t i = hp->blk_free;
		hp->blk_free = hp->blk[i].next;
		return i;
	}
	if (grow_array(&hp->blk, hp->nblk, &hp->blk_cap, sizeof(*hp->blk), 64) < 0)
		return HNIL;
	return hp->nblk++;
}

static uint32_t pn_new(struct heap_proc *hp)
{
	if (hp->pn_free != HNIL) {
		uint32_t i = hp->pn_free;
		hp->pn_free = hp->pn[i].next;
		return i;
	}
	if (grow_array(&hp->pn, hp->npn, &hp->pn_cap, sizeof(*hp->pn), 64) < 0)
		return HNIL;
	return hp->npn++;
}

/* The 64-byte granules of page p that block k covers, as bits. */
static uint64_t gmask(const struct hblk *k, uint64_t p)
{
	uint64_t base = p << VL_PAGE_SHIFT, end = k->caddr + blk_ext(k);
	uint64_t s = k->caddr > base ? k->caddr - base : 0;
	uint64_t e = end - base < VL_PAGE_SIZE ? end - base : VL_PAGE_SIZE;
	unsigned g0 = (unsigned)(s >> 6), g1 = (unsigned)((e - 1) >> 6);
	return (g1 == 63 ? ~0ull : (2ull << g1) - 1) & ~((1ull << g0) - 1);
}

/* Granules [*g0, *g1] of page p that block k covers (16 bytes each). */
static void granules(const struct hblk *k, uint64_t p, unsigned *g0, unsigned *g1)
{
	uint64_t base = p << VL_PAGE_SHIFT, end = k->caddr + blk_ext(k);
	uint64_t s = k->caddr > base ? k->caddr - base : 0;
	uint64_t e = end - base < VL_PAGE_SIZE ? end - base : VL_PAGE_SIZE;
	*g0 = (unsigned)(s >> 4);
	*g1 = (unsigned)((e - 1) >> 4);
}

/* Block b now covers its granules of page p in table t. */
static void gtab_mark(struct heap_proc *hp, uint32_t t, uint32_t b, uint64_t p)
{
	unsigned g0, g1;
	granules(&hp->blk[b], p, &g0, &g1);
	for (unsigned g = g0; g <= g1; g++) {
		uint32_t o = hp->gtab[t][g];
		hp->gtab[t][g] = o == HNIL || o == b ? b : GMULTI;
	}
}

/* Page slot s has a list of two blocks or more: give it a granule table. */
static int gtab_build(struct heap_proc *hp, uint32_t s, uint64_t p)
{
	uint32_t t;
	if (hp->gtab_free != HNIL) {
		t = hp->gtab_free;
		hp->gtab_free = hp->gtab[t][0];
	} else {
		if (grow_array(&hp->gtab, hp->ngtab, &hp->gtab_cap, sizeof(*hp->gtab), 16) < 0)
			return VL_ENOMEM;
		t = hp->ngtab++;
	}
	for (unsigned g = 0; g < GRANULES; g++)
		hp->gtab[t][g] = HNIL;
	for (uint32_t n = hp->by_page.vals[s]; n != HNIL; n = hp->pn[n].next)
		gtab_mark(hp, t, hp->pn[n].blk, p);
	hp->by_page.tab[s] = t;
	return 0;
}

static void gtab_release(struct heap_proc *hp, uint32_t s)
{
	uint32_t t = hp->by_page.tab[s];
	if (t == HNIL)
		return;
	hp->gtab[t][0] = hp->gtab_free;
	hp->gtab_free = t;
	hp->by_page.tab[s] = HNIL;
}

/* List block b on every page it overlaps.  0 or VL_ENOMEM. */
static int blk_index(struct heap_proc *hp, uint32_t b, struct vl_error *err)
{
	const struct hblk *k = &hp->blk[b];
	uint64_t p0 = k->caddr >> VL_PAGE_SHIFT, p1 = (k->caddr + blk_ext(k) - 1) >> VL_PAGE_SHIFT;
	for (uint64_t p = p0; p <= p1; p++) {
		uint32_t n = pn_new(hp);
		if (n == HNIL)
			return vl_err(err, VL_ENOMEM, "out of memory for the heap's page index");
		uint32_t s = hmap_find(&hp->by_page, p);
		hp->pn[n] = (struct pnode){ .blk = b, .next = s == HNIL ? HNIL : hp->by_page.vals[s] };
		if (s != HNIL)
			hp->by_page.vals[s] = n;
		else if (hmap_put(&hp->by_page, p, n) < 0)
			return vl_err(err, VL_ENOMEM, "out of memory for the heap's page index");
		s = hmap_find(&hp->by_page, p);
		hp->by_page.aux[s] |= gmask(&hp->blk[b], p);
		if (hp->by_page.tab[s] != HNIL)
			gtab_mark(hp, hp->by_page.tab[s], b, p);
		else if (hp->pn[hp->by_page.vals[s]].next != HNIL && gtab_build(hp, s, p) < 0)
			return vl_err(err, VL_ENOMEM, "out of memory for the heap's granule tables");
	}
	return 0;
}

static void blk_unindex(struct heap_proc *hp, uint32_t b)
{
	const struct hblk *k = &hp->blk[b];
	uint64_t p0 = k->caddr >> VL_PAGE_SHIFT, p1 = (k->caddr + blk_ext(k) - 1) >> VL_PAGE_SHIFT;
	for (uint64_t p = p0; p <= p1; p++) {
		uint32_t s = hmap_find(&hp->by_page, p);
		if (s == HNIL)
			continue;
		uint32_t *link = &hp->by_page.vals[s];
		while (*link != HNIL && hp->pn[*link].blk != b)
			link = &hp->pn[*link].next;
		if (*link == HNIL)
			continue;
		uint32_t n = *link;
		*link = hp->pn[n].next;
		hp->pn[n].next = hp->pn_free;
		hp->pn_free = n;
		if (hp->by_page.vals[s] == HNIL) {
			gtab_release(hp, s);
			hmap_del(&hp->by_page, s);
			continue;
		}
		uint64_t bits = 0;
		for (uint32_t m = hp->by_page.vals[s]; m != HNIL; m = hp->pn[m].next)
			bits |= gmask(&hp->blk[hp->pn[m].blk], p);
		hp->by_page.aux[s] = bits;
		uint32_t t = hp->by_page.tab[s];
		if (t == HNIL)
			continue;
		unsigned g0, g1;
		granules(k, p, &g0, &g1);
		for (unsigned g = g0; g <= g1; g++) {
			if (hp->gtab[t][g] == b) {
				hp->gtab[t][g] = HNIL;
			} else if (hp->gtab[t][g] == GMULTI) {
				/* who is left on this granule */
				uint32_t who = HNIL;
				for (uint32_t m = hp->by_page.vals[s]; m != HNIL; m = hp->pn[m].next) {
					const struct hblk *o = &hp->blk[hp->pn[m].blk];
					uint64_t ga = (p << VL_PAGE_SHIFT) + ((uint64_t)g << 4);
					if (o->caddr < ga + 16 && ga < o->caddr + blk_ext(o))
						who = who == HNIL ? hp->pn[m].blk : GMULTI;
				}
				hp->gtab[t][g] = who;
			}
		}
	}
}

/* ---- counters ---- */

static void note_error(struct vl_engine *e, struct heap_proc *hp, const char *fmt, uint64_t a)
{
	uint32_t pid = e->procs[hp->proc].pid;
	e->ctr.heap_errors++;
	e->procs[hp->proc].ctr.heap_errors++;
	if (e->heap_warned)
		return;
	e->heap_warned = true;
	size_t used = strlen(e->warning);
	char line[200];
	snprintf(line, sizeof(line), fmt, (unsigned long long)a);
	snprintf(e->warning + used, sizeof(e->warning) - used,
		 "%sheap events that do not add up (counted in heap_errors, the replay went on); "
		 "the first: pid %u: %s", used ? "\n" : "", pid, line);
}

static void pages_changed(struct vl_engine *e, struct heap_proc *hp)
{
	/* under captured the heap's pages are those its live blocks touch */
	if (!e->heap->model) {
		int64_t d = (int64_t)hp->by_page.n - (int64_t)hp->committed;
		hp->committed = hp->by_page.n;
		e->heap->committed = (uint64_t)((int64_t)e->heap->committed + d);
	}
	struct vl_proc_counters *pc = &e->procs[hp->proc].ctr;
	if (hp->committed > pc->heap_committed_peak)
		pc->heap_committed_peak = hp->committed;
	if (e->heap->committed > e->ctr.heap_committed_peak)
		e->ctr.heap_committed_peak = e->heap->committed;
}

static void bytes_changed(struct vl_engine *e, struct heap_proc *hp, int64_t d)
{
	hp->live_bytes = (uint64_t)((int64_t)hp->live_bytes + d);
	e->heap->live_bytes = (uint64_t)((int64_t)e->heap->live_bytes + d);
	struct vl_proc_counters *pc = &e->procs[hp->proc].ctr;
	if (hp->live_bytes > pc->heap_bytes_peak)
		pc->heap_bytes_peak = hp->live_bytes;
	if (e->heap->live_bytes > e->ctr.heap_bytes_peak)
		e->ctr.heap_bytes_peak = e->heap->live_bytes;
}

/* ---- the model's operating system ---- */

/* Apply one address-space event for the model; -1 when the engine refused
 * it (counted as a failure: the model fails its allocation). */
static int os_event(struct heap_proc *hp, const struct vl_event *ev)
{
	struct vl_engine *e = hp->e;
	struct vl_proc *pr = &e->procs[hp->proc];
	if (hp->os_rc < 0)
		return -1;
	uint64_t fails = e->ctr.event_failures, cfails = e->ctr.commit_failures;
	bool implicit = !pr->explicit_vm;
	if (e->last_proc != hp->proc) {
		e->last_pid = pr->pid;
		e->last_proc = hp->proc;
		xl_switch(e, hp->proc);
	}
	int rc = vl_event(e, hp->proc, ev, hp->os_err);
	/* as after a V event (sim/access.c): page-table nodes freed by an
	 * unmap or a release may come back for other addresses, so cached
	 * translations and walk-cache entries go */
	if (e->pt.frees != e->xl.pt_frees)
		xl_flush_all(e);
	pr = &e->procs[hp->proc];
	if (implicit)
		pr->explicit_vm = false; /* a process without V events stays implicit */
	if (rc < 0) {
		hp->os_rc = rc;
		return -1;
	}
	return e->ctr.event_failures != fails || e->ctr.commit_failures != cfails ? -1 : 0;
}

static struct resv *resv_at(struct heap_proc *hp, uint64_t addr, uint32_t *idx)
{
	for (uint32_t i = 0; i < hp->nresv; i++)
		if (addr >= hp->resv[i].base && addr - hp->resv[i].base < hp->resv[i].len) {
			if (idx)
				*idx = i;
			return &hp->resv[i];
		}
	return NULL;
}

/* Set (on) or clear the committed bits of [addr, addr + len) in r; the
 * number of pages that changed. */
static uint64_t resv_mark(struct resv *r, uint64_t addr, uint64_t len, bool on)
{
	uint64_t p0 = (addr - r->base) >> VL_PAGE_SHIFT;
	uint64_t p1 = (addr + len - r->base + VL_PAGE_SIZE - 1) >> VL_PAGE_SHIFT;
	uint64_t np = r->len >> VL_PAGE_SHIFT, changed = 0;
	for (uint64_t p = p0; p < p1 && p < np; p++) {
		uint64_t bit = 1ull << (p & 63);
		bool was = (r->bits[p >> 6] & bit) != 0;
		if (was != on) {
			r->bits[p >> 6] ^= bit;
			changed++;
		}
	}
	return changed;
}

static void committed_add(struct heap_proc *hp, int64_t d)
{
	hp->committed = (uint64_t)((int64_t)hp->committed + d);
	hp->e->heap->committed = (uint64_t)((int64_t)hp->e->heap->committed + d);
	pages_changed(hp->e, hp);
}

/* The lowest free range of len bytes at or above HEAP_BASE, aligned to
 * the granularity, in the process's VADs (sorted by start). */
static uint64_t free_range(struct heap_proc *hp, uint64_t len)
{
	const struct vl_proc *pr = &hp->e->procs[hp->proc];
	uint64_t g = hp->os.granularity;
	uint64_t start = HEAP_BASE;
	for (uint32_t i = 0; i < pr->nvads; i++) {
		uint64_t vs = pr->vads[i].start << VL_PAGE_SHIFT, ve = pr->vads[i].end << VL_PAGE_SHIFT;
		if (ve <= start)
			continue;
		if (vs >= start + len)
			break;
		start = (ve + g - 1) & ~(g - 1);
	}
	return start;
}

static int os_reserve(void *ctx, uint64_t len, uint64_t *addr)
{
	struct heap_proc *hp = ctx;
	uint64_t g = hp->os.granularity;
	if (len == 0 || (len & (g - 1)))
		return -1;
	uint64_t a = free_range(hp, len);
	if (a + len > (1ull << 46))
		return -1; /* past 64 TiB: out of the address space we give heaps */
	struct vl_event ev = hp->e->heap->windows
		? (struct vl_event){ .kind = VL_EV_RESERVE, .addr = a, .len = len }
		: (struct vl_event){ .kind = VL_EV_MMAP, .prot = VL_PROT_NOACCESS, .addr = a, .len = len };
	if (grow_array(&hp->resv, hp->nresv, &hp->resv_cap, sizeof(*hp->resv), 8) < 0)
		return -1;
	uint64_t *bits = calloc(((len >> VL_PAGE_SHIFT) + 63) / 64, sizeof(uint64_t));
	if (!bits || os_event(hp, &ev) < 0) {
		free(bits);
		return -1;
	}
	hp->resv[hp->nresv++] = (struct resv){ .base = a, .len = len, .bits = bits };
	*addr = a;
	return 0;
}

static int os_commit(void *ctx, uint64_t addr, uint64_t len)
{
	struct heap_proc *hp = ctx;
	struct resv *r = resv_at(hp, addr, NULL);
	if (!r || len == 0 || (addr & (VL_PAGE_SIZE - 1)) || addr + len > r->base + r->len)
		return -1;
	struct vl_event ev = hp->e->heap->windows
		? (struct vl_event){ .kind = VL_EV_COMMIT, .prot = VL_PROT_READWRITE, .addr = addr, .len = len }
		: (struct vl_event){ .kind = VL_EV_MPROTECT, .prot = VL_PROT_READWRITE, .addr = addr, .len = len };
	if (os_event(hp, &ev) < 0)
		return -1;
	committed_add(hp, (int64_t)resv_mark(r, addr, len, true));
	return 0;
}

static int os_decommit(void *ctx, uint64_t addr, uint64_t len)
{
	struct heap_proc *hp = ctx;
	struct resv *r = resv_at(hp, addr, NULL);
	if (!r || len == 0 || (addr & (VL_PAGE_SIZE - 1)) || addr + len > r->base + r->len)
		return -1;
	struct vl_event ev = hp->e->heap->windows
		? (struct vl_event){ .kind = VL_EV_DECOMMIT, .addr = addr, .len = len }
		: (struct vl_event){ .kind = VL_EV_ADVISE, .prot = VL_ADV_DONTNEED, .addr = addr, .len = len };
	if (os_event(hp, &ev) < 0)
		return -1;
	hp->e->ctr.heap_decommits++;
	hp->e->procs[hp->proc].ctr.heap_decommits++;
	committed_add(hp, -(int64_t)resv_mark(r, addr, len, false));
	return 0;
}

static int os_release(void *ctx, uint64_t addr)
{
	struct heap_proc *hp = ctx;
	uint32_t i;
	struct resv *r = resv_at(hp, addr, &i);
	if (!r || r->base != addr)
		return -1;
	struct vl_event ev = hp->e->heap->windows
		? (struct vl_event){ .kind = VL_EV_RELEASE, .addr = addr }
		: (struct vl_event){ .kind = VL_EV_MUNMAP, .addr = addr, .len = r->len };
	if (os_event(hp, &ev) < 0)
		return -1;
	hp->e->ctr.heap_releases++;
	hp->e->procs[hp->proc].ctr.heap_releases++;
	committed_add(hp, -(int64_t)resv_mark(r, addr, r->len, false));
	free(r->bits);
	hp->resv[i] = hp->resv[--hp->nresv];
	return 0;
}

/* Linux: the model's own program break, in BRK_SPAN bytes of address
 * space mapped PROT_NONE at its first call; growing maps pages read-write,
 * shrinking maps them PROT_NONE again (their pages are dropped, as munmap
 * would), so the captured program's own break is left alone. */
static int os_brk(void *ctx, uint64_t len, uint64_t *base)
{
	struct heap_proc *hp = ctx;
	if (!hp->brk_base) {
		uint64_t a = free_range(hp, BRK_SPAN);
		struct vl_event ev = { .kind = VL_EV_MMAP, .prot = VL_PROT_NOACCESS, .addr = a, .len = BRK_SPAN };
		if (a + BRK_SPAN > (1ull << 46) || os_event(hp, &ev) < 0)
			return -1;
		hp->brk_base = a;
	}
	*base = hp->brk_base;
	if (len > BRK_SPAN)
		return -1;
	uint64_t old = (hp->brk_len + VL_PAGE_SIZE - 1) & ~(uint64_t)(VL_PAGE_SIZE - 1);
	uint64_t now = (len + VL_PAGE_SIZE - 1) & ~(uint64_t)(VL_PAGE_SIZE - 1);
	if (now != old) {
		struct vl_event ev = { .kind = VL_EV_MMAP,
				       .prot = now > old ? VL_PROT_READWRITE : VL_PROT_NOACCESS,
				       .addr = hp->brk_base + (now > old ? old : now),
				       .len = now > old ? now - old : old - now };
		if (os_event(hp, &ev) < 0)
			return -1;
		if (now < old) {
			hp->e->ctr.heap_decommits++;
			hp->e->procs[hp->proc].ctr.heap_decommits++;
		}
		committed_add(hp, ((int64_t)now - (int64_t)old) >> VL_PAGE_SHIFT);
	}
	hp->brk_len = len;
	return 0;
}

/* ---- per-process state ---- */

static void hp_free(struct heap_proc *hp)
{
	if (!hp)
		return;
	free(hp->blk);
	free(hp->pn);
	free(hp->gtab);
	hmap_free(&hp->by_addr);
	hmap_free(&hp->by_page);
	for (uint32_t i = 0; i < hp->nresv; i++)
		free(hp->resv[i].bits);
	free(hp->resv);
	free(hp);
}

static struct heap_proc *hp_get(struct vl_engine *e, uint32_t proc, struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	if (pr->heap)
		return pr->heap;
	struct heap_proc *hp = calloc(1, sizeof(*hp));
	if (!hp) {
		vl_err(err, VL_ENOMEM, "out of memory for a process's heap");
		return NULL;
	}
	hp->e = e;
	hp->proc = proc;
	hp->blk_free = hp->pn_free = hp->last = hp->gtab_free = HNIL;
	const struct vl_heap_model_ops *m = e->heap->model;
	if (m) {
		hp->os = (struct vl_heap_os){ .ctx = hp, .reserve = os_reserve, .commit = os_commit,
					      .decommit = os_decommit, .release = os_release,
					      .brk = e->heap->windows ? NULL : os_brk,
					      .granularity = e->heap->windows ? 65536 : VL_PAGE_SIZE };
		hp->os_err = err;
		int rc = m->create(&hp->state, &hp->os);
		if (hp->os_rc < 0) { /* the engine failed (out of memory) */
			if (rc >= 0 && m->destroy)
				m->destroy(hp->state);
			hp_free(hp);
			return NULL;
		}
		hp->model_on = rc >= 0;
	}
	e->procs[proc].heap = hp;
	if (m && !hp->model_on) /* the OS refused (or no host memory): blocks stay where captured */
		note_error(e, hp, "the model could not create its heap (the OS refused)", 0);
	return hp;
}

/* Undo a model call's effects on a failed OS call: nothing to undo (the
 * model left its state as before); an engine error is returned. */
static int model_rc(struct heap_proc *hp)
{
	int rc = hp->os_rc;
	hp->os_rc = 0;
	return rc;
}

/* Free block b (live): the model frees its copy. */
static void blk_drop(struct vl_engine *e, struct heap_proc *hp, uint32_t b)
{
	struct hblk *k = &hp->blk[b];
	if (k->placed)
		e->heap->model->free(hp->state, k->maddr);
	blk_unindex(hp, b);
	uint32_t s = hmap_find(&hp->by_addr, k->caddr);
	if (s != HNIL)
		hmap_del(&hp->by_addr, s);
	bytes_changed(e, hp, -(int64_t)k->size);
	k->next = hp->blk_free;
	hp->blk_free = b;
	if (hp->last == b)
		hp->last = HNIL;
}

/* Live blocks overlapping [a, a + ext): dropped, each an error. */
static void drop_overlaps(struct vl_engine *e, struct heap_proc *hp, uint64_t a, uint64_t ext,
			  uint32_t pid)
{
	for (uint64_t p = a >> VL_PAGE_SHIFT; p <= (a + ext - 1) >> VL_PAGE_SHIFT; p++) {
		uint32_t s;
		while ((s = hmap_find(&hp->by_page, p)) != HNIL) {
			uint32_t n = hp->by_page.vals[s], hit = HNIL;
			for (; n != HNIL && hit == HNIL; n = hp->pn[n].next) {
				const struct hblk *k = &hp->blk[hp->pn[n].blk];
				if (k->caddr < a + ext && a < k->caddr + blk_ext(k))
					hit = hp->pn[n].blk;
			}
			if (hit == HNIL)
				break;
			note_error(e, hp, "an ALLOC at 0x%llx overlaps a live block", a);
			blk_drop(e, hp, hit);
		}
	}
}

static void range_add(struct heap_proc *hp, uint64_t a, uint64_t ext)
{
	uint64_t lo = hp->span ? hp->lo : a, hi = hp->span ? hp->lo + hp->span : a + ext;
	if (a < lo)
		lo = a;
	if (a + ext > hi)
		hi = a + ext;
	hp->lo = lo;
	hp->span = hi - lo;
}

/* A new live block; the model places it unless model is false. */
static int blk_add(struct vl_engine *e, struct heap_proc *hp, uint64_t a, uint64_t size,
		   uint64_t align, bool model, uint32_t pid, struct vl_error *err)
{
	uint32_t b = blk_new(hp);
	if (b == HNIL)
		return vl_err(err, VL_ENOMEM, "out of memory for a heap block");
	struct hblk *k = &hp->blk[b];
	*k = (struct hblk){ .caddr = a, .size = size, .maddr = a, .next = HNIL };
	if (model && hp->model_on) {
		uint64_t m;
		hp->os_err = err;
		int rc = e->heap->model->alloc(hp->state, size, align, &m);
		VL_TRY(model_rc(hp));
		if (rc == 0) {
			k->maddr = m;
			k->placed = true;
		} else {
			note_error(e, hp, "the model could not place a block of %llu bytes (the OS refused)", size);
		}
	}
	VL_TRY(blk_index(hp, b, err));
	if (hmap_put(&hp->by_addr, a, b) < 0)
		return vl_err(err, VL_ENOMEM, "out of memory for the heap's address index");
	bytes_changed(e, hp, (int64_t)size);
	range_add(hp, a, blk_ext(k));
	return 0;
}

int vl_heap_event(struct vl_engine *e, uint32_t pid, const struct vl_event *ev, struct vl_error *err)
{
	uint32_t proc = vl_proc_lookup(e, pid, err);
	if (proc == VL_NIL)
		return err ? err->code : VL_ENOMEM;
	struct heap_proc *hp = hp_get(e, proc, err);
	if (!hp)
		return err ? err->code : VL_ENOMEM;
	struct vl_proc_counters *pc = &e->procs[proc].ctr;
	uint64_t a = ev->addr;
	switch (ev->kind) {
	case VL_EV_HEAP_ALLOC: {
		uint64_t ext = ev->len ? ev->len : 1;
		if (a == 0 || a + ext < a) {
			note_error(e, hp, "an ALLOC at 0x%llx (a null or wrapping block)", a);
			return 0;
		}
		drop_overlaps(e, hp, a, ext, pid);
		e->ctr.heap_allocs++;
		pc->heap_allocs++;
		VL_TRY(blk_add(e, hp, a, ev->len, ev->offset, true, pid, err));
		break;
	}
	case VL_EV_HEAP_FREE: {
		if (a == 0)
			return 0; /* free(NULL) does nothing */
		uint32_t s = hmap_find(&hp->by_addr, a);
		if (s == HNIL) {
			note_error(e, hp, "a FREE of 0x%llx, not a live block (never allocated, or freed already)", a);
			return 0;
		}
		e->ctr.heap_frees++;
		pc->heap_frees++;
		blk_drop(e, hp, hp->by_addr.vals[s]);
		break;
	}
	case VL_EV_HEAP_REALLOC: {
		uint64_t na = ev->offset, ext = ev->len ? ev->len : 1;
		if (na == 0 || na + ext < na) {
			note_error(e, hp, "a REALLOC to 0x%llx (a null or wrapping block)", na);
			return 0;
		}
		uint32_t s = a ? hmap_find(&hp->by_addr, a) : HNIL;
		if (s == HNIL) {
			/* realloc(NULL, n) is an allocation; an unknown address is
			 * an error, and the block is taken as newly allocated */
			if (a)
				note_error(e, hp, "a REALLOC of 0x%llx, not a live block", a);
			drop_overlaps(e, hp, na, ext, pid);
			e->ctr.heap_allocs++;
			pc->heap_allocs++;
			VL_TRY(blk_add(e, hp, na, ev->len, 0, true, pid, err));
			break;
		}
		uint32_t b = hp->by_addr.vals[s];
		struct hblk old = hp->blk[b];
		/* unlist it, then check the new range against the others */
		blk_unindex(hp, b);
		hmap_del(&hp->by_addr, s);
		bytes_changed(e, hp, -(int64_t)old.size);
		hp->blk[b].size = 0;
		hp->blk[b].placed = false;
		hp->blk[b].next = hp->blk_free;
		hp->blk_free = b;
		if (hp->last == b)
			hp->last = HNIL;
		drop_overlaps(e, hp, na, ext, pid);
		uint64_t m = old.caddr;
		bool placed = false;
		if (old.placed) {
			hp->os_err = err;
			int rc = e->heap->model->realloc(hp->state, old.maddr, ev->len, &m);
			VL_TRY(model_rc(hp));
			if (rc == 0) {
				placed = true;
			} else {
				/* the model keeps the old block: let it go, and the
				 * new one stays where it was captured */
				e->heap->model->free(hp->state, old.maddr);
				note_error(e, hp, "the model could not resize a block to %llu bytes (the OS refused)", ev->len);
			}
		}
		VL_TRY(blk_add(e, hp, na, ev->len, 0, false, pid, err));
		uint32_t nb = hp->by_addr.vals[hmap_find(&hp->by_addr, na)];
		hp->blk[nb].maddr = placed ? m : na;
		hp->blk[nb].placed = placed;
		break;
	}
	default:
		return vl_err(err, VL_EINVAL, "unknown heap event kind %u", ev->kind);
	}
	pages_changed(e, hp);
	return 0;
}

int vl_heap_fork(struct vl_engine *e, uint32_t proc, uint32_t ppid, struct vl_error *err)
{
	uint32_t pp = vl_proc_find(e, ppid);
	struct heap_proc *parent = pp == VL_NIL || pp == proc ? NULL : e->procs[pp].heap;
	if (!parent || !parent->by_addr.n)
		return 0;
	struct heap_proc *hp = hp_get(e, proc, err);
	if (!hp)
		return err ? err->code : VL_ENOMEM;
	parent = e->procs[pp].heap;
	for (uint32_t s = 0; s <= parent->by_addr.mask; s++) {
		if (parent->by_addr.keys[s] == HEMPTY)
			continue;
		const struct hblk *k = &parent->blk[parent->by_addr.vals[s]];
		if (hmap_find(&hp->by_addr, k->caddr) != HNIL)
			continue;
		uint32_t b = blk_new(hp);
		if (b == HNIL)
			return vl_err(err, VL_ENOMEM, "out of memory for a heap block");
		/* where the parent's model put it (the child's copy of that
		 * memory), but not the child's model's: freeing it returns
		 * nothing to it */
		hp->blk[b] = (struct hblk){ .caddr = k->caddr, .size = k->size, .maddr = k->maddr,
					    .placed = false, .next = HNIL };
		VL_TRY(blk_index(hp, b, err));
		if (hmap_put(&hp->by_addr, k->caddr, b) < 0)
			return vl_err(err, VL_ENOMEM, "out of memory for the heap's address index");
		bytes_changed(e, hp, (int64_t)k->size);
		range_add(hp, k->caddr, blk_ext(k));
		parent = e->procs[pp].heap;
	}
	pages_changed(e, hp);
	return 0;
}

void vl_heap_exit(struct vl_engine *e, uint32_t proc)
{
	struct heap_proc *hp = e->procs[proc].heap;
	if (!hp)
		return;
	/* its address space is gone: the model frees host memory only */
	if (hp->model_on && e->heap->model->destroy)
		e->heap->model->destroy(hp->state);
	int64_t d = -(int64_t)hp->live_bytes;
	e->heap->live_bytes = (uint64_t)((int64_t)e->heap->live_bytes + d);
	e->heap->committed -= hp->committed;
	hp_free(hp);
	e->procs[proc].heap = NULL;
}

/* ---- translation ---- */

/* The model's address for captured address a of this process (a itself
 * outside every live block). */
static inline uint64_t translate(struct heap_proc *hp, uint64_t a)
{
	if (a - hp->lo >= hp->span)
		return a;
	if (hp->last != HNIL) {
		const struct hblk *k = &hp->blk[hp->last];
		if (a - k->caddr < blk_ext(k))
			return k->maddr + (a - k->caddr);
	}
	uint32_t s = hmap_find(&hp->by_page, a >> VL_PAGE_SHIFT);
	if (s == HNIL || !((hp->by_page.aux[s] >> ((a >> 6) & 63)) & 1))
		return a; /* no live block on this 64-byte granule */
	uint32_t t = hp->by_page.tab[s];
	if (t != HNIL) {
		uint32_t b = hp->gtab[t][(a >> 4) & (GRANULES - 1)];
		if (b == HNIL)
			return a;
		if (b != GMULTI) {
			const struct hblk *k = &hp->blk[b];
			if (a - k->caddr >= blk_ext(k))
				return a;
			hp->last = b;
			return k->maddr + (a - k->caddr);
		}
	}
	for (uint32_t n = hp->by_page.vals[s]; n != HNIL; n = hp->pn[n].next) {
		const struct hblk *k = &hp->blk[hp->pn[n].blk];
		if (a - k->caddr < blk_ext(k)) {
			hp->last = hp->pn[n].blk;
			return k->maddr + (a - k->caddr);
		}
	}
	return a;
}

static inline bool is_heap_event(const struct vl_batch *b, const struct vl_rec *r)
{
	if (r->op != VL_OP_EVENT || r->addr >= b->n_events)
		return false;
	uint32_t k = b->events[r->addr].kind;
	return k >= VL_EV_HEAP_ALLOC && k <= VL_EV_HEAP_REALLOC;
}

int vl_heap_feed(struct vl_engine *e, const struct vl_batch *b, struct vl_error *err)
{
	struct vl_heap *h = e->heap;
	if (e->future)
		return vl_err(err, VL_EINVAL,
			      "heap.model = %s cannot be combined with a policy that needs the future "
			      "(opt): its pre-pass reads captured addresses", h->model->name);
	if (h->scratch_cap < b->n) {
		struct vl_rec *s = realloc(h->scratch, b->n * sizeof(*s));
		if (!s)
			return vl_err(err, VL_ENOMEM, "out of memory for the heap's scratch batch");
		h->scratch = s;
		h->scratch_cap = b->n;
	}
	struct vl_batch s = { .recs = h->scratch, .n = 0, .cap = h->scratch_cap, .events = b->events,
			      .n_events = b->n_events, .ev_cap = b->ev_cap };
	uint32_t last_pid = 0;
	struct heap_proc *hp = NULL;
	for (size_t i = 0; i < b->n; i++) {
		const struct vl_rec *r = &b->recs[i];
		if (r->op >= VL_OP_NACCESS) {
			/* events: in order with the accesses around them; the
			 * translation of what follows may change */
			if (s.n)
				VL_TRY(vl_engine_feed_plain(e, &s, err));
			s.n = 0;
			last_pid = 0;
			if (is_heap_event(b, r)) {
				VL_TRY(vl_heap_event(e, r->pid, &b->events[r->addr], err));
				continue;
			}
			s.recs[0] = *r;
			s.n = 1;
			VL_TRY(vl_engine_feed_plain(e, &s, err));
			s.n = 0;
			continue;
		}
		struct vl_rec t = *r;
		if (t.pid != last_pid) {
			uint32_t proc = vl_proc_find(e, t.pid);
			hp = proc == VL_NIL ? NULL : e->procs[proc].heap;
			last_pid = t.pid;
		}
		if (hp && hp->by_addr.n)
			t.addr = translate(hp, t.addr);
		s.recs[s.n++] = t;
	}
	if (s.n)
		VL_TRY(vl_engine_feed_plain(e, &s, err));
	return 0;
}

uint64_t vl_heap_committed(const struct vl_engine *e)
{
	return e->heap ? e->heap->committed : 0;
}

/* ---- setup ---- */

int vl_heap_init(struct vl_engine *e, struct vl_error *err)
{
	e->heap = calloc(1, sizeof(*e->heap));
	if (!e->heap)
		return vl_err(err, VL_ENOMEM, "out of memory for the heap layer");
	const char *name = vl_config_str(e->cfg, "heap.model");
	e->heap->windows = !strcmp(vl_config_str(e->cfg, "os.personality"), "windows");
	if (!name || !*name || !strcmp(name, "captured"))
		return 0;
	for (size_t i = 0; vl_heap_models[i]; i++)
		if (!strcmp(vl_heap_models[i]->name, name)) {
			if (vl_heap_models[i]->needs_brk && e->heap->windows)
				return vl_err(err, VL_EINVAL,
					      "heap.model = %s needs a program break (brk), which "
					      "os.personality = windows does not have (use nt or segment, "
					      "or another personality)", name);
			e->heap->model = vl_heap_models[i];
			e->heap_xlate = true; /* vl_engine_feed goes through vl_heap_feed */
			return 0;
		}
	char list[256] = "captured";
	for (size_t i = 0; vl_heap_models[i]; i++) {
		size_t u = strlen(list);
		snprintf(list + u, sizeof(list) - u, ", %s", vl_heap_models[i]->name);
	}
	return vl_err(err, VL_EINVAL, "heap.model: unknown model '%s' (choices: %s)", name, list);
}

void vl_heap_fini(struct vl_engine *e)
{
	if (!e->heap)
		return;
	for (uint32_t i = 0; i < e->nslots; i++) {
		struct heap_proc *hp = e->procs[i].heap;
		if (hp && hp->model_on && e->heap->model->destroy)
			e->heap->model->destroy(hp->state);
		hp_free(hp);
		e->procs[i].heap = NULL;
	}
	free(e->heap->scratch);
	free(e->heap);
	e->heap = NULL;
}
