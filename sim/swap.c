/* sim/swap.c - the linux swap cache and swap readahead (swap.cache = on).
 *
 * Linux keeps a page read back from swap in the swap cache (mm/swap_state.c):
 * the page keeps its swap slot until it is written through a fault (the
 * fault frees the slot, mm/memory.c should_try_to_free_swap) or the slot is
 * freed, so a clean page leaves memory again without a write.  A fault
 * reads more than the page it wants: swap readahead puts neighbours into
 * the swap cache, unmapped, on the LRU (the replacement policy holds them,
 * and may evict them before they are used).  A later fault on one of them
 * finds it there and only maps it: a minor fault.  Linux counts a fault
 * major when it had to read (do_swap_page: PGMAJFAULT only on a swap-cache
 * miss), so readahead turns most swap-ins of a sequential pass into minor
 * faults.
 *
 * The model: an unmapped swap-cache page is a frame PFN_SWAPCACHE whose
 * PTE is a transition PTE naming it (SWPTE_TRANS | frame, the protection
 * kept), its slot in the frame record (the PTE has no room for both), and
 * PFN_F_RA while it came by readahead and was not used.  Reclaiming it
 * writes nothing: the PTE gets its slot back.  A mapped page with a slot
 * is an ordinary resident page whose frame remembers the slot, as the
 * global manager always kept it (a dirty one is written to that slot).
 *
 * Which pages are read (the window), mm/swap_state.c of Linux 6.x:
 *   __swapin_nr_pages(prev, offset, hits, max, prev_win): hits + 2 pages,
 *   rounded up to a power of two from 4; with no hits, 2 pages if offset
 *   is next to prev, else 1; at most max; at least prev_win / 2 (the
 *   window shrinks by halves).
 *   cluster readahead (swap_cluster_readahead): the aligned block of that
 *   many slots around the faulting slot (Linux's offset = our slot + 1;
 *   offset 0 is the swap header and never read), every slot in use whose
 *   page is out of memory; state global: the hits are readahead pages used
 *   since the last readahead, prev the last offset that came with none,
 *   initial hits 4.
 *   VMA readahead (swap_vma_readahead, when vma_ra_enabled and no swap
 *   device is rotational, swap_use_vma_readahead): a window of pages by
 *   virtual address, max 2^min(page_cluster, 5), starting at the fault
 *   when the last fault of the VMA was the page before, ending at it when
 *   it was the page after, else centred ((win - 1) / 2 pages before),
 *   clipped to the VMA and to the fault's 2 MiB-aligned range; every page
 *   of it whose PTE is a swap entry is read.  State per VMA: the page of
 *   the last swap fault or swap-cache hit, its window, the readahead hits
 *   since (a major fault resets them, a hit on a readahead page adds one,
 *   up to 63); an unused VMA starts from 4 hits.  A process without VADs
 *   is one VMA.
 * The pages are read in slot (cluster) or address (VMA) order, the
 * faulting one among them, and go on the policy's lists in that order.
 *
 * A synchronous swap device (swap.synchronous: zram, brd, pmem; Linux's
 * SWP_SYNCHRONOUS_IO) is read past the swap cache when no other process
 * shares the entry (mm/memory.c do_swap_page; the model never shares a
 * private slot): a swap-in reads only its page, no readahead, a major
 * fault, and frees the slot (swap_free_nr), so the page is dirty and
 * written again when it leaves.  The swap cache then holds nothing.
 *
 * Slots are allocated as Linux 6.18 allocates them (sim/pagefile.c): in
 * clusters, from a cursor, then from clusters where slots were freed, so
 * pages reclaimed one after another get neighbouring slots until the
 * cursor's cluster runs out, and the holes that faults free are filled
 * again.
 */
#include <string.h>

#include "sim/internal.h"

int vl_swap_init(struct vl_engine *e, struct vl_error *err)
{
	struct vl_swap *sw = &e->sw;
	sw->on = vl_config_bool(e->cfg, "swap.cache");
	if (!sw->on)
		return 0;
	if (e->rsm != &vl_rsm_global)
		return vl_err(err, VL_EINVAL,
			      "swap.cache = on: the swap cache is Linux's, for the global resident-set "
			      "manager (os.personality linux or textbook), not %s",
			      vl_config_str(e->cfg, "os.personality"));
	sw->max_pages = 1u << vl_config_u64(e->cfg, "swap.page_cluster");
	sw->vma = vl_config_bool(e->cfg, "swap.vma_readahead") &&
		  !vl_config_bool(e->cfg, "swap.rotational");
	sw->sync = vl_config_bool(e->cfg, "swap.synchronous");
	sw->hits = 4; /* swapin_readahead_hits starts at 4 */
	e->pf.clustered = true;
	for (int l = 0; l < 4; l++)
		e->pf.lists[l].head = e->pf.lists[l].tail = VL_NIL;
	return 0;
}

void vl_swap_fini(struct vl_engine *e)
{
	free(e->sw.slot_pte);
	free(e->sw.slot_owner);
	e->sw.slot_pte = e->sw.slot_owner = NULL;
}

void vl_swap_paged_out(struct vl_engine *e, uint32_t proc, uint32_t li, uint32_t slot)
{
	struct vl_swap *sw = &e->sw;
	if (slot >= sw->slots_cap) {
		uint32_t ncap = sw->slots_cap ? sw->slots_cap : 4096;
		while (ncap <= slot)
			ncap *= 2;
		uint32_t *a = realloc(sw->slot_pte, (size_t)ncap * sizeof(*a));
		if (!a)
			return; /* readahead will not find this slot: only a missed neighbour */
		sw->slot_pte = a;
		uint32_t *b = realloc(sw->slot_owner, (size_t)ncap * sizeof(*b));
		if (!b)
			return;
		sw->slot_owner = b;
		memset(a + sw->slots_cap, 0xff, (size_t)(ncap - sw->slots_cap) * sizeof(*a));
		memset(b + sw->slots_cap, 0xff, (size_t)(ncap - sw->slots_cap) * sizeof(*b));
		sw->slots_cap = ncap;
	}
	sw->slot_pte[slot] = li;
	sw->slot_owner[slot] = proc;
}

/* Is pte a private page paged out to a slot (not in memory)? */
static inline bool swapped_out(uint64_t pte)
{
	return !(pte & (PTE_P | SWPTE_PROTO | SWPTE_TRANS)) && SWPTE_HAS_SLOT(pte);
}

/* The page number a leaf PTE translates, from the arena's parent links. */
static uint64_t vpn_of_leaf(const struct vl_ptarena *a, uint32_t li)
{
	uint64_t vpn = li % PT_ENTRIES;
	uint32_t i = li;
	for (unsigned level = 2; level <= 4; level++) {
		i = a->parent[i / PT_ENTRIES];
		vpn |= (uint64_t)(i % PT_ENTRIES) << (9 * (level - 1));
	}
	return vpn;
}

/* Read proc's page vpn, paged out at leaf li, into the swap cache: a
 * frame, a page-file read, the transition PTE, the policy's lists.  ra: a
 * readahead page (not the one the fault wants); a: the faulting access,
 * or NULL.  0 or an error. */
static int sc_read(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn, bool ra,
		   const struct vl_access *a, struct vl_error *err)
{
	struct vl_access ctx = a ? *a : vl_access_none(e, e->procs[proc].pid);
	ctx.vpn = vpn;
	uint32_t f = vl_frame_get(e, false, &ctx, err);
	if (f == VL_NIL)
		return err ? err->code : VL_ENOMEM;
	/* read after making room (the arena may have moved); making room never
	 * touches a page out of memory, so the PTE still holds the slot */
	uint64_t pte = e->pt.e[li];
	struct vl_pfn *p = &e->db.pfn[f];
	p->loc = PFN_SWAPCACHE;
	p->pte = li;
	p->owner = proc;
	p->slot = SWPTE_SLOT(pte);
	p->flags = ra ? PFN_F_RA : 0;
	p->aux = 0;
	p->flink = p->blink = VL_NIL;
	pt_set(&e->pt, li, (pte & SWPTE_MKPROT(0x1f)) | SWPTE_TRANS | PTE_MAKE(f));
	e->ctr.pagefile_reads++;
	e->sw.cached++;
	if (ra)
		e->sw.ra_read++;
	e->repl_ops->on_map(&e->repl, f, &ctx);
	return 0;
}

/* Map swap-cache frame f at li as proc's page vpn.  A write frees the
 * slot (its copy is stale): the page is dirty and gets a slot again when
 * it leaves.  The policy holds f already. */
static void sc_map(struct vl_engine *e, uint32_t proc, uint32_t li, uint32_t f, uint64_t vpn,
		   unsigned prot, bool write)
{
	struct vl_pfn *p = &e->db.pfn[f];
	p->loc = PFN_ACTIVE;
	p->flags &= (uint8_t)~PFN_F_RA;
	p->pte = li;
	p->owner = proc;
	e->sw.cached--;
	if (write && p->slot != VL_NIL) {
		pf_release(&e->pf, p->slot);
		p->slot = VL_NIL;
	}
	pt_set(&e->pt, li, PTE_MAKE(f) | prot_hw(prot) | PTE_A | (write ? PTE_D : 0));
	e->procs[proc].ctr.resident_pages++;
	count_resident(e, 1);
}

/* __swapin_nr_pages of mm/swap_state.c: the readahead window in pages. */
static uint32_t ra_window(uint64_t prev, uint64_t off, uint32_t hits, uint32_t max,
			  uint32_t prev_win)
{
	uint32_t pages = hits + 2;
	if (pages == 2) {
		if (off != prev + 1 && off != prev - 1)
			pages = 1;
	} else {
		uint32_t r = 4;
		while (r < pages)
			r <<= 1;
		pages = r;
	}
	if (pages > max)
		pages = max;
	if (pages < prev_win / 2)
		pages = prev_win / 2;
	return pages;
}

/* A page of a readahead window, chosen before any is read. */
struct ra_page {
	uint64_t vpn;
	uint32_t li, proc;
};

/* Read the window's pages chosen before reading any: the pages evicted
 * to make room for them were paged out now, and Linux would find them in
 * the swap cache still (written back asynchronously, in reclaim batches),
 * not read them again.  target: the leaf of the faulting page. */
static int ra_read_all(struct vl_engine *e, const struct ra_page *w, uint32_t n, uint32_t target,
		       const struct vl_access *a, struct vl_error *err)
{
	for (uint32_t i = 0; i < n; i++) {
		if (!swapped_out(e->pt.e[w[i].li]))
			continue;
		bool ra = w[i].li != target;
		VL_TRY(sc_read(e, w[i].proc, w[i].li, w[i].vpn, ra, ra ? NULL : a, err));
	}
	return 0;
}

#define RA_MAX (1u << 10) /* swap.page_cluster is at most 10 */

/* swap_cluster_readahead: the aligned block of slots around slot. */
static int ra_cluster(struct vl_engine *e, uint32_t slot, uint32_t target,
		      const struct vl_access *a, struct vl_error *err)
{
	struct vl_swap *sw = &e->sw;
	if (sw->max_pages <= 1)
		return 0;
	uint64_t off = (uint64_t)slot + 1; /* Linux's offset: 0 is the swap header */
	uint32_t hits = sw->hits;
	sw->hits = 0;
	uint32_t pages = ra_window(sw->prev_offset, off, hits, sw->max_pages, sw->last_pages);
	if (!hits)
		sw->prev_offset = off;
	sw->last_pages = pages;
	uint64_t mask = pages - 1;
	if (!mask)
		return 0;
	uint64_t start = off & ~mask, end = off | mask;
	if (!start)
		start = 1;
	struct ra_page w[RA_MAX];
	uint32_t n = 0;
	for (uint64_t o = start; o <= end; o++) {
		uint32_t s = (uint32_t)(o - 1);
		if (s >= e->pf.next || s >= sw->slots_cap || !e->pf.inuse[s] ||
		    sw->slot_pte[s] == VL_NIL)
			continue;
		uint32_t li = sw->slot_pte[s], proc = sw->slot_owner[s];
		uint64_t pte = e->pt.e[li];
		if (proc >= e->nslots || !e->procs[proc].root || !swapped_out(pte) ||
		    SWPTE_SLOT(pte) != s)
			continue; /* the slot's page is in memory, or the slot moved on */
		w[n++] = (struct ra_page){ .vpn = vpn_of_leaf(&e->pt, li), .li = li, .proc = proc };
	}
	return ra_read_all(e, w, n, target, a, err);
}

/* The readahead state of proc's VMA holding vpn, and its bounds. */
static struct swap_ra *vma_ra(struct vl_engine *e, uint32_t proc, uint64_t vpn, uint64_t *lo,
			      uint64_t *hi)
{
	struct vl_proc *pr = &e->procs[proc];
	struct vl_vad *d = pr->explicit_vm ? vl_vad_find(pr, vpn) : NULL;
	if (d) {
		*lo = d->start;
		*hi = d->end;
		return &d->ra;
	}
	*lo = 0;
	*hi = UINT64_MAX;
	return &pr->ra;
}

/* swap_vma_ra_win and swap_vma_readahead: pages around vpn by address. */
static int ra_vma(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn,
		  const struct vl_access *a, struct vl_error *err)
{
	uint32_t cluster = e->sw.max_pages > 32 ? 32 : e->sw.max_pages; /* SWAP_RA_ORDER_CEILING */
	if (cluster <= 1)
		return 0;
	uint64_t lo, hi;
	struct swap_ra *ra = vma_ra(e, proc, vpn, &lo, &hi);
	uint32_t hits = ra->hits;
	if (!ra->vpn && !ra->win && !ra->hits)
		hits = 4; /* GET_SWAP_RA_VAL: an unused VMA */
	uint64_t prev = ra->vpn;
	uint32_t win = ra_window(prev, vpn, hits, cluster, ra->win);
	*ra = (struct swap_ra){ .vpn = vpn, .win = win, .hits = 0 };
	if (win == 1)
		return 0;
	int64_t left;
	if (vpn == prev + 1)
		left = (int64_t)vpn;
	else if (prev == vpn + 1)
		left = (int64_t)vpn - win + 1;
	else
		left = (int64_t)vpn - (win - 1) / 2;
	uint64_t right = (uint64_t)left + win;
	uint64_t start = left < 0 ? 0 : (uint64_t)left, end = right;
	uint64_t pmd = vpn & ~(uint64_t)(PT_ENTRIES - 1);
	if (start < lo)
		start = lo;
	if (start < pmd)
		start = pmd;
	if (end > hi)
		end = hi;
	if (end > pmd + PT_ENTRIES)
		end = pmd + PT_ENTRIES;
	uint32_t node0 = li - (uint32_t)(vpn - pmd); /* the window is in li's page table */
	struct ra_page w[32];
	uint32_t n = 0;
	for (uint64_t v = start; v < end; v++) {
		uint32_t lv = node0 + (uint32_t)(v - pmd);
		if (swapped_out(e->pt.e[lv]))
			w[n++] = (struct ra_page){ .vpn = v, .li = lv, .proc = proc };
	}
	return ra_read_all(e, w, n, li, a, err);
}

int vl_swap_in(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn, unsigned prot,
	       bool write, const struct vl_access *a, struct vl_error *err)
{
	uint32_t slot = SWPTE_SLOT(e->pt.e[li]);
	if (!e->sw.sync) { /* SWP_SYNCHRONOUS_IO reads the page alone (below) */
		if (e->sw.vma)
			VL_TRY(ra_vma(e, proc, li, vpn, a, err));
		else
			VL_TRY(ra_cluster(e, slot, li, a, err));
	}
	uint64_t pte = e->pt.e[li];
	if (swapped_out(pte)) /* no readahead, or its frames pushed the page out again */
		VL_TRY(sc_read(e, proc, li, vpn, false, a, err));
	pte = e->pt.e[li];
	if (!(pte & SWPTE_TRANS) || e->db.pfn[PTE_FRAME(pte)].loc != PFN_SWAPCACHE)
		return vl_err(err, VL_ESTATE, "swap-in of page 0x%llx left its PTE 0x%llx",
			      (unsigned long long)vpn, (unsigned long long)pte);
	count_fault(e, proc, FAULT_HARD); /* it had to read: major */
	uint32_t f = PTE_FRAME(pte);
	sc_map(e, proc, li, f, vpn, prot, write);
	if (e->sw.sync) {
		/* read past the swap cache, the slot freed (swap_free_nr): the
		 * page's only copy is in memory, written again when it leaves */
		struct vl_pfn *p = &e->db.pfn[f];
		if (p->slot != VL_NIL) {
			pf_release(&e->pf, p->slot);
			p->slot = VL_NIL;
		}
		p->flags |= PFN_F_MODIFIED;
	}
	return 0;
}

int vl_swap_hit(struct vl_engine *e, uint32_t proc, uint32_t li, uint32_t f, uint64_t vpn,
		unsigned prot, bool write, const struct vl_access *a, struct vl_error *err)
{
	(void)err;
	struct vl_swap *sw = &e->sw;
	bool ra = (e->db.pfn[f].flags & PFN_F_RA) != 0;
	sw->hits_cache++;
	if (ra)
		sw->ra_used++;
	/* swap_update_readahead */
	if (sw->vma) {
		uint64_t lo, hi;
		struct swap_ra *r = vma_ra(e, proc, vpn, &lo, &hi);
		uint32_t hits = r->hits;
		if (!r->vpn && !r->win && !r->hits)
			hits = 4;
		if (ra && hits < 63)
			hits++;
		*r = (struct swap_ra){ .vpn = vpn, .win = r->win, .hits = hits };
	} else if (ra) {
		sw->hits++;
	}
	count_fault(e, proc, FAULT_SOFT); /* found in memory: minor */
	sc_map(e, proc, li, f, vpn, prot, write);
	if (e->wants_access) { /* the policy held it already: this is a use */
		if (e->access_flist)
			vl_flist_move_head(e->access_flist, f);
		else
			e->repl_ops->on_access(&e->repl, f, a);
	}
	return 0;
}

void vl_swap_drop(struct vl_engine *e, uint32_t f)
{
	struct vl_pfn *p = &e->db.pfn[f];
	uint64_t pte = e->pt.e[p->pte];
	pt_set(&e->pt, p->pte, (pte & SWPTE_MKPROT(0x1f)) | SWPTE_PAGEFILE(p->slot));
	p->flags &= (uint8_t)~PFN_F_RA;
	e->sw.cached--;
	e->repl_ops->on_unmap(&e->repl, f);
}

/* ---- counters (configuration-dependent: present when swap.cache is on) ---- */

static const char *const sw_names[] = {
	"major_faults", "minor_faults", "swapcache_hits", "swap_ra_pages", "swap_ra_hits",
	"refault_activations",
};
static const char *const sw_help[] = {
	"faults that had to read (Linux's major faults: faults_hard)",
	"faults resolved without I/O (Linux's minor faults: faults - faults_hard)",
	"faults that found their page in the swap cache (minor)",
	"pages read by swap readahead besides the faulting page",
	"faults on a page swap readahead had read (readahead pages used)",
	"pages coming back that refault detection put on the active list (linux-lru.refault)",
};

size_t vl_swap_counters(struct vl_engine *e, const char **names, uint64_t *values, size_t max)
{
	if (!e->sw.on)
		return 0;
	const struct vl_counters *c = &e->ctr;
	uint64_t v[] = { c->faults_hard, c->faults - c->faults_hard, e->sw.hits_cache,
			 e->sw.ra_read, e->sw.ra_used, e->sw.refaults };
	size_t n = sizeof(v) / sizeof(v[0]);
	for (size_t i = 0; i < n && i < max; i++) {
		if (names)
			names[i] = sw_names[i];
		if (values)
			values[i] = v[i];
	}
	return n;
}

const char *vl_swap_counter_help(const struct vl_engine *e, size_t i)
{
	return e->sw.on && i < sizeof(sw_help) / sizeof(sw_help[0]) ? sw_help[i] : NULL;
}
