/* sim/vad.c - address-space events: VADs, commit charge, sections.
 *
 * Each process holds its VADs (virtual address descriptors) in an array
 * sorted by start page; lookups are binary searches (Windows keeps an AVL
 * tree: the same order, and our process counts are small).  Semantics
 * follow VirtualAlloc / VirtualFree / VirtualProtect / MapViewOfFile
 * (shared/reference A.9-A.12):
 *
 *   RESERVE   base rounded down to 64 KiB, end up to a page; no charge
 *   COMMIT    inside a private reservation, or reserving a free range at
 *             the same time; charges commit for pages not yet committed,
 *             all or nothing against the commit limit (commit_failures);
 *             committed pages get an invalid PTE holding the protection
 *             (demand-zero), so a reserved-only page (PTE 0) is an AV.
 *             A commit that reserves a free range writes no PTE (unless
 *             a large-page policy, which counts the PTEs of a range, is
 *             configured): its VAD is marked VAD_F_COMMITTED and a PTE 0
 *             in it reads as committed with the VAD's protection (Windows
 *             marks such a VAD MemCommit the same way), so it costs O(log VADs),
 *             not O(pages); DECOMMIT then writes "decommitted" PTEs and
 *             RELEASE follows the PTEs that exist
 *   DECOMMIT  frees frames and page-file slots, uncharges; the PTE becomes
 *             "decommitted"
 *   RELEASE   addr must be a reservation base: decommit all, drop the VAD
 *   PROTECT   committed pages (or view pages) only, within one VAD
 *   MAP       a view of file FILE_ID at a page-aligned offset; a
 *             copy-on-write view charges commit for the whole view
 *   UNMAP     addr must be a view base
 *   EXIT      everything of the process is freed; the pid may start anew
 *
 * A failed operation (overlap, range outside a reservation, bad base)
 * changes nothing and counts in event_failures, as the API call would
 * fail; a commit beyond the limit counts in commit_failures.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/internal.h"

#define GRANULARITY_PAGES 16 /* 64 KiB allocation granularity */

struct vl_vad *vl_vad_find(struct vl_proc *p, uint64_t vpn)
{
	uint32_t lo = 0, hi = p->nvads;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (p->vads[mid].end <= vpn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->nvads && p->vads[lo].start <= vpn && vpn < p->vads[lo].end)
		return &p->vads[lo];
	return NULL;
}

/* Does [start, end) meet a VAD, or a page touched before the process
 * declared its address space (implicitly committed, outside any VAD)? */
static bool overlaps_in(const struct vl_engine *e, const struct vl_proc *p, uint64_t start,
			uint64_t end)
{
	/* the first VAD ending after start (they are sorted and disjoint) */
	uint32_t lo = 0, hi = p->nvads;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (p->vads[mid].end <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->nvads && p->vads[lo].start < end)
		return true;
	/* cost follows the tables that exist, not the range's size (a reserve
	 * of 128 TiB took minutes page by page) */
	return pt_any_in(&e->pt, p->root, start, end);
}

static int vad_insert(struct vl_proc *p, const struct vl_vad *v)
{
	if (grow_array(&p->vads, p->nvads, &p->vads_cap, sizeof(*p->vads), 8) < 0)
		return VL_ENOMEM;
	uint32_t i = p->nvads;
	while (i > 0 && p->vads[i - 1].start > v->start) {
		p->vads[i] = p->vads[i - 1];
		i--;
	}
	p->vads[i] = *v;
	p->nvads++;
	return 0;
}

static void vad_delete(struct vl_proc *p, struct vl_vad *v)
{
	uint32_t i = (uint32_t)(v - p->vads);
	memmove(&p->vads[i], &p->vads[i + 1], (p->nvads - i - 1) * sizeof(*v));
	p->nvads--;
}

static int fail(struct vl_engine *e)
{
	e->ctr.event_failures++;
	return 0;
}

static bool committed(uint64_t pte)
{
	if (pte & PTE_P)
		return true;
	if (pte == 0 || (pte & SWPTE_PROTO))
		return false;
	return pte != SWPTE_DECOMMIT;
}

/* Is the page of VAD d (private, or NULL) with this PTE committed? */
static bool page_committed(const struct vl_vad *d, uint64_t pte)
{
	return pte ? committed(pte) : vad_commits_zero(d);
}

/* Leaf index for vpn, creating page-table nodes (and their frames). */
static uint32_t leaf(struct vl_engine *e, uint32_t proc, uint64_t vpn, struct vl_error *err)
{
	uint32_t li = pt_walk_create(&e->pt, e->procs[proc].root, va_of(vpn));
	if (li == VL_NIL) {
		pt_nomem(&e->pt, err);
		return VL_NIL;
	}
	if (vl_pt_frames(e, proc, err) < 0)
		return VL_NIL;
	return li;
}

static void uncharge(struct vl_engine *e, uint32_t proc, uint64_t pages)
{
	count_commit(e, proc, -(int64_t)pages);
}

static bool charge(struct vl_engine *e, uint32_t proc, uint64_t pages)
{
	return vl_commit_charge(e, proc, pages); /* may grow the page file */
}

/* Free whatever backs the page at li and set the PTE to val. */
static void release_page(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn,
			 uint64_t val)
{
	vl_page_release(e, proc, li, vpn);
	pt_set(&e->pt, li, val);
	if (!val)
		vl_pt_prune(e, li);
}

static int protect_page(struct vl_engine *e, uint32_t proc, const struct vl_vad *d, uint64_t v,
			unsigned prot, bool lazy, struct vl_error *err);

/* V COMMIT ... +large: VirtualAlloc(MEM_RESERVE | MEM_COMMIT |
 * MEM_LARGE_PAGES) (A.10, A.13).  Base and size must be multiples of
 * 2 MiB and the range free; the protection is read/write (with or without
 * execute).  The whole range is charged, and each 2 MiB gets a naturally
 * aligned block of 512 frames from the buddy allocator now, zero-filled,
 * mapped by a PS entry (sim/hugepage.c): non-pageable (PFN_AUX_LOCKED),
 * outside the working set and the policy (PTE_SW_NOPOLICY), so it never
 * faults.  When memory holds no free block for every 2 MiB the commit
 * fails (a commit failure; nothing is reserved or kept), as Windows fails
 * it when fragmentation leaves no contiguous run. */
static int do_commit_large(struct vl_engine *e, uint32_t proc, const struct vl_event *ev,
			   unsigned prot, struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	const uint64_t two_mib = 2u << 20;
	uint64_t start = ev->addr >> VL_PAGE_SHIFT, n = ev->len >> VL_PAGE_SHIFT;
	if ((ev->addr | ev->len) & (two_mib - 1) || !ev->len ||
	    (prot != VL_PROT_READWRITE && prot != VL_PROT_EXECUTE_READWRITE) ||
	    start + n > (1ull << (VA_BITS - 1 - VL_PAGE_SHIFT)) || overlaps_in(e, pr, start, start + n))
		return fail(e);
	uint64_t blocks = n / PT_ENTRIES;
	uint32_t *f0 = malloc(blocks * sizeof(*f0));
	if (!f0)
		return vl_err(err, VL_ENOMEM, "out of memory for a large-page commit");
	if (!charge(e, proc, n)) {
		free(f0);
		return 0;
	}
	for (uint64_t b = 0; b < blocks; b++) {
		f0[b] = pfn_alloc(&e->db, 9);
		if (f0[b] == VL_NIL) { /* fragmented or full: the commit fails whole */
			while (b-- > 0)
				pfn_free(&e->db, f0[b], 9);
			free(f0);
			uncharge(e, proc, n);
			e->ctr.commit_failures++;
			count_large_fallback(e);
			return 0;
		}
	}
	struct vl_vad v = { .start = start, .end = start + n, .kind = VAD_PRIVATE,
			    .prot = (uint8_t)prot, .flags = VAD_F_LARGE };
	if (vad_insert(pr, &v) < 0) {
		free(f0);
		return vl_err(err, VL_ENOMEM, "out of memory for a VAD");
	}
	for (uint64_t b = 0; b < blocks; b++) {
		uint64_t vpn0 = start + b * PT_ENTRIES;
		uint32_t pde = pt_entry_create(&e->pt, pr->root, va_of(vpn0), 2);
		if (pde == VL_NIL || vl_pt_frames(e, proc, err) < 0) {
			free(f0);
			return err && err->code ? err->code : VL_ENOMEM;
		}
		hp_install(e, proc, pde, f0[b], 9, vpn0,
			   prot_hw(prot) | PTE_A | PTE_D | PTE_SW_NOPOLICY,
			   (uint16_t)(9 | PFN_AUX_LOCKED), 0, 0, false);
		count_large_page(e, false, 0);
		count_zero_fill(e, PT_ENTRIES);
		pr->ctr.resident_pages += PT_ENTRIES;
		count_resident(e, PT_ENTRIES);
	}
	free(f0);
	return 0;
}

static int do_commit(struct vl_engine *e, uint32_t proc, const struct vl_event *ev,
		     struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	uint64_t start = ev->addr >> VL_PAGE_SHIFT;
	uint64_t end = (ev->addr + ev->len + VL_PAGE_SIZE - 1) >> VL_PAGE_SHIFT;
	unsigned prot = ev->prot;
	if (prot & VL_PROT_LARGE)
		return do_commit_large(e, proc, ev, prot & ~(unsigned)VL_PROT_LARGE, err);
	if (!prot_usable(prot & ~VL_PROT_GUARD) && prot != VL_PROT_NOACCESS)
		return fail(e);
	/* copy-on-write exists only in views of sections: VirtualAlloc refuses
	 * PAGE_WRITECOPY (ERROR_INVALID_PARAMETER), as V PROTECT does here */
	if (prot_copy(prot))
		return fail(e);
	if (end <= start || end > (1ull << (VA_BITS - 1 - VL_PAGE_SHIFT)))
		return fail(e);
	struct vl_vad *d = vl_vad_find(pr, start);
	uint64_t need = 0;
	/* committing pages already committed sets their protection, as
	 * VirtualAlloc(MEM_COMMIT) does (A.10) */
	bool recommit = d != NULL;
	if (!d) { /* MEM_RESERVE | MEM_COMMIT on a free range */
		/* the reservation's base is rounded down to the 64 KiB
		 * granularity, the commit covers the pages asked for (A.10) */
		uint64_t base = start & ~(uint64_t)(GRANULARITY_PAGES - 1);
		if (overlaps_in(e, pr, base, end))
			return fail(e);
		if (!charge(e, proc, end - start))
			return 0; /* refused: nothing reserved either */
		/* the VAD says its pages are committed (VAD_F_COMMITTED): no
		 * PTE per page, so a commit of 1 TiB costs what one of a page
		 * does, under every personality: page tables (and, with
		 * memory.pt_frames, their frames) come when a page is first
		 * touched; THP's fault and khugepaged read a PTE 0 in such a
		 * VAD as an untouched committed page (sim/thp.c).  Where a
		 * large-page policy is configured (it counts a range's
		 * non-present PTEs), or the reservation's base was rounded
		 * below the commit, pages keep their own PTEs, as before. */
		bool lazy = !e->lp_any && base == start && prot_usable(prot) &&
			    !(prot & VL_PROT_GUARD);
		struct vl_vad v = { .start = base, .end = end, .kind = VAD_PRIVATE,
				    .prot = (uint8_t)prot, .flags = lazy ? VAD_F_COMMITTED : 0 };
		if (vad_insert(pr, &v) < 0)
			return vl_err(err, VL_ENOMEM, "out of memory for a VAD");
		if (lazy)
			return 0;
	} else {
		if (d->kind != VAD_PRIVATE || end > d->end || (d->flags & VAD_F_LARGE))
			return fail(e);
		for (uint64_t v = start; v < end; v++) {
			uint32_t li = pt_walk(&e->pt, pr->root, va_of(v));
			if (!page_committed(d, li == VL_NIL ? 0 : e->pt.e[li]))
				need++;
		}
		if (!charge(e, proc, need))
			return 0;
	}
	bool zero_ok = vad_commits_zero(d); /* d: NULL when just inserted */
	for (uint64_t v = start; v < end; v++) {
		uint32_t li;
		if (zero_ok) {
			/* an untouched page is committed already, with the VAD's
			 * protection; a recommit with another one records it */
			li = pt_walk(&e->pt, pr->root, va_of(v));
			if ((li == VL_NIL || e->pt.e[li] == 0) && prot == d->prot)
				continue;
		}
		li = leaf(e, proc, v, err);
		if (li == VL_NIL)
			return err ? err->code : VL_ENOMEM;
		if (!committed(e->pt.e[li]) || (zero_ok && e->pt.e[li] == 0))
			pt_set(&e->pt, li, SWPTE_MKPROT(prot));
		else if (recommit && (e->pt.e[li] & PTE_P ? VPTE_PROT(e->pt.e[li])
							   : SWPTE_PROT(e->pt.e[li])) != prot)
			VL_TRY(protect_page(e, proc, vl_vad_find(pr, v), v, prot, false, err));
	}
	return 0;
}

struct leaves {
	uint64_t start, end;
	uint32_t *li;
	uint64_t *vpn;
	size_t n, cap;
	bool oom;
};

static void collect_leaf(void *ctx, uint32_t li, uint64_t vpn)
{
	struct leaves *l = ctx;
	if (vpn < l->start || vpn >= l->end || l->oom)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		uint32_t *a = realloc(l->li, cap * sizeof(*a));
		if (a)
			l->li = a;
		uint64_t *b = a ? realloc(l->vpn, cap * sizeof(*b)) : NULL;
		if (b)
			l->vpn = b;
		if (!a || !b) {
			l->oom = true;
			return;
		}
		l->cap = cap;
	}
	l->li[l->n] = li;
	l->vpn[l->n++] = vpn;
}

/* RELEASE of a VAD whose untouched pages are committed (VAD_F_COMMITTED):
 * cost follows the PTEs that exist, not the VAD's size.  Every page was
 * committed but those whose PTE says otherwise (decommitted). */
static int release_zero_committed(struct vl_engine *e, uint32_t proc, const struct vl_vad *d)
{
	struct vl_proc *pr = &e->procs[proc];
	struct leaves l = { .start = d->start, .end = d->end };
	pt_foreach_leaf(&e->pt, pr->root, collect_leaf, &l);
	if (l.oom) {
		free(l.li);
		free(l.vpn);
		return VL_ENOMEM;
	}
	uint64_t uncommitted = 0;
	for (size_t i = 0; i < l.n; i++)
		uncommitted += !committed(e->pt.e[l.li[i]]);
	uncharge(e, proc, (d->end - d->start) - uncommitted);
	for (size_t i = 0; i < l.n; i++) /* a node goes only with its last entry */
		release_page(e, proc, l.li[i], l.vpn[i], 0);
	free(l.li);
	free(l.vpn);
	return 0;
}

static int do_decommit(struct vl_engine *e, uint32_t proc, uint64_t start, uint64_t end,
		       bool release)
{
	struct vl_proc *pr = &e->procs[proc];
	const struct vl_vad *d = vl_vad_find(pr, start); /* the range is inside it */
	bool zero_ok = vad_commits_zero(d);
	if (zero_ok && release)
		return release_zero_committed(e, proc, d);
	for (uint64_t v = start; v < end; v++) {
		uint32_t li = pt_walk(&e->pt, pr->root, va_of(v));
		if (li == VL_NIL && zero_ok) {
			/* committed with its VAD: the PTE must say decommitted */
			li = leaf(e, proc, v, NULL);
			if (li == VL_NIL)
				return pt_nomem(&e->pt, NULL);
		}
		if (li == VL_NIL)
			continue;
		/* a large page wholly inside the range goes whole (zap_huge_pmd:
		 * no split counted), one partly inside is split first; either
		 * way its pages are then released one by one */
		if (pte_large(e->pt.e[li])) {
			bool whole = v % PT_ENTRIES == 0 && v + PT_ENTRIES <= end;
			li = hp_leaf(e, proc, li, v, !whole);
			if (li == VL_NIL)
				return VL_ENOMEM;
		}
		if (page_committed(d, e->pt.e[li]))
			uncharge(e, proc, 1);
		if (e->pt.e[li] || release || zero_ok)
			release_page(e, proc, li, v, release ? 0 : SWPTE_DECOMMIT);
	}
	return 0;
}

/* Give page v of proc (its VAD d) protection prot: a valid PTE gets the
 * new hardware bits, or, made inaccessible or guarded, leaves memory (or,
 * where the resident-set manager keeps it cached, its working set: the
 * contents stay, A.10's VirtualProtect); an invalid one records it.  lazy
 * (a linux VMA): a page with no entry is left alone (its VAD's protection
 * applies), and no page table is created for it. */
static int protect_page(struct vl_engine *e, uint32_t proc, const struct vl_vad *d, uint64_t v,
			unsigned prot, bool lazy, struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	uint32_t li;
	if (lazy) {
		li = pt_walk(&e->pt, pr->root, va_of(v));
		if (li == VL_NIL || e->pt.e[li] == 0)
			return 0;
	} else {
		li = pt_walk_create(&e->pt, pr->root, va_of(v));
		if (li == VL_NIL)
			return pt_nomem(&e->pt, err);
		VL_TRY(vl_pt_frames(e, proc, err));
	}
	uint64_t pte = e->pt.e[li];
	if (pte_large(pte)) {
		/* a large page keeps its entry when nothing changes for it;
		 * else it is split, as split_huge_pmd on mprotect */
		uint64_t npte = (pte & (PTE_FRAME_MASK | PTE_A | PTE_D)) | prot_hw(prot) | PTE_PS;
		if (!(prot & VL_PROT_GUARD) && prot_usable(prot) && npte == pte) {
			xl_invlpg(e, proc, v);
			return 0;
		}
		li = hp_leaf(e, proc, li, v, true);
		if (li == VL_NIL)
			return VL_ENOMEM;
		pte = e->pt.e[li];
	}
	if (pte & PTE_P) {
		uint64_t keep = pte & (PTE_FRAME_MASK | PTE_A | PTE_D | PTE_SW_NOPOLICY);
		if (prot & VL_PROT_GUARD || !prot_usable(prot)) {
			if (e->rsm->park && e->rsm->park(e, proc, li, v)) {
				/* cached: the transition (or prototype) PTE records it */
				e->pt.e[li] = (e->pt.e[li] & ~SWPTE_MKPROT(0x1f)) | SWPTE_MKPROT(prot);
				return 0;
			}
			/* a page made inaccessible (or guarded) is unmapped */
			vl_page_release(e, proc, li, v);
			pt_set(&e->pt, li, d->kind == VAD_MAPPED ? SWPTE_PROTO | SWPTE_MKPROT(prot)
								 : SWPTE_MKPROT(prot));
		} else {
			uint64_t npte = keep | prot_hw(prot);
			if (PTE_FRAME(pte) == e->zero_frame)
				npte &= ~PTE_RW;
			xl_invlpg(e, proc, v); /* permissions change: drop the old translation */
			if (npte != pte)
				pt_set(&e->pt, li, npte);
		}
	} else if (pte == 0 && d->kind == VAD_MAPPED) {
		pt_set(&e->pt, li, SWPTE_PROTO | SWPTE_MKPROT(prot)); /* view page */
	} else if (pte == 0) { /* committed with its VAD (VAD_F_COMMITTED) */
		pt_set(&e->pt, li, SWPTE_MKPROT(prot));
	} else {
		e->pt.e[li] = (pte & ~SWPTE_MKPROT(0x1f)) | SWPTE_MKPROT(prot);
	}
	return 0;
}

static int do_protect(struct vl_engine *e, uint32_t proc, const struct vl_event *ev,
		      struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	uint64_t start = ev->addr >> VL_PAGE_SHIFT;
	uint64_t end = (ev->addr + ev->len + VL_PAGE_SIZE - 1) >> VL_PAGE_SHIFT;
	struct vl_vad *d = vl_vad_find(pr, start);
	if (!d || end > d->end || end <= start)
		return fail(e);
	unsigned prot = ev->prot;
	if (d->flags & VAD_F_LARGE)
		return fail(e); /* large pages are always read/write (A.13) */
	if (d->kind == VAD_PRIVATE) {
		if (prot_copy(prot))
			return fail(e); /* WRITECOPY only on views */
		for (uint64_t v = start; v < end; v++) {
			uint32_t li = pt_walk(&e->pt, pr->root, va_of(v));
			if (!page_committed(d, li == VL_NIL ? 0 : e->pt.e[li]))
				return fail(e); /* every page must be committed */
		}
	}
	for (uint64_t v = start; v < end; v++)
		VL_TRY(protect_page(e, proc, d, v, prot, false, err));
	return 0;
}

static uint32_t section_for(struct vl_engine *e, uint64_t file_id, uint64_t pages,
			    struct vl_error *err)
{
	uint32_t s;
	for (s = 0; s < e->nsections; s++)
		if (e->sections[s].file_id == file_id)
			break;
	if (s == e->nsections) {
		if (grow_array(&e->sections, e->nsections, &e->sections_cap, sizeof(*e->sections),
			       8) < 0)
			goto oom;
		e->sections[s] = (struct vl_section){ .file_id = file_id };
		e->nsections++;
	}
	struct vl_section *sec = &e->sections[s];
	if (pages > (1ull << 32) && !e->proto_hi) {
		/* a frame record keeps 32 bits of a shared page's index: the
		 * rest per frame from now on (untouched pages cost nothing) */
		e->proto_hi = calloc((size_t)e->db.nframes + e->db.nextra, sizeof(*e->proto_hi));
		if (!e->proto_hi)
			goto oom;
	}
	if (pages > sec->npages)
		sec->npages = pages; /* prototype PTEs come when pages are read */
	return s;
oom:
	vl_err(err, VL_ENOMEM, "out of memory for the section of file %llu",
	       (unsigned long long)file_id);
	return VL_NIL;
}

static int do_map(struct vl_engine *e, uint32_t proc, const struct vl_event *ev,
		  struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	uint64_t start = ev->addr >> VL_PAGE_SHIFT;
	uint64_t end = (ev->addr + ev->len + VL_PAGE_SIZE - 1) >> VL_PAGE_SHIFT;
	if (end <= start || (ev->offset & (VL_PAGE_SIZE - 1)) || overlaps_in(e, pr, start, end) ||
	    !prot_usable(ev->prot & ~VL_PROT_GUARD))
		return fail(e);
	uint64_t off = ev->offset >> VL_PAGE_SHIFT;
	if (ev->file_id == VL_FILE_PAGEFILE) {
		/* a section backed by the page file (CreateFileMapping with no
		 * file, SEC_COMMIT): its pages are charged as it is created (or
		 * grows), to the system, not to a process (A.9) */
		uint64_t have = 0;
		for (uint32_t k = 0; k < e->nsections; k++)
			if (e->sections[k].file_id == VL_FILE_PAGEFILE)
				have = e->sections[k].npages;
		if (off + (end - start) > have && !vl_commit_charge_section(e, off + (end - start) - have))
			return 0; /* refused: nothing is mapped */
	}
	if (prot_copy(ev->prot) && !charge(e, proc, end - start))
		return 0; /* a copy-on-write view charges all its pages */
	uint32_t s = section_for(e, ev->file_id, off + (end - start), err);
	if (s == VL_NIL)
		return err ? err->code : VL_ENOMEM;
	e->sections[s].pagefile = ev->file_id == VL_FILE_PAGEFILE;
	e->sections[s].views++;
	struct vl_vad v = { .start = start, .end = end, .offset_pages = off, .section = s,
			    .kind = VAD_MAPPED, .prot = (uint8_t)ev->prot };
	if (vad_insert(pr, &v) < 0)
		return vl_err(err, VL_ENOMEM, "out of memory for a VAD");
	return 0;
}

static int do_unmap(struct vl_engine *e, uint32_t proc, struct vl_vad *d)
{
	struct vl_proc *pr = &e->procs[proc];
	uint64_t start = d->start, end = d->end;
	bool copy = prot_copy(d->prot);
	uint32_t s = d->section;
	for (uint64_t v = start; v < end; v++) {
		uint32_t li = hp_leaf(e, proc, pt_walk(&e->pt, pr->root, va_of(v)), v, true);
		if (li != VL_NIL && e->pt.e[li])
			release_page(e, proc, li, v, 0);
	}
	if (copy)
		uncharge(e, proc, end - start);
	e->sections[s].views--;
	vad_delete(pr, d);
	return 0;
}

struct exit_ctx {
	struct vl_engine *e;
	uint32_t proc;
};

static void exit_page(void *ctx, uint32_t li, uint64_t vpn)
{
	struct exit_ctx *x = ctx;
	vl_page_release(x->e, x->proc, li, vpn);
}

static int do_exit(struct vl_engine *e, uint32_t proc)
{
	struct vl_proc *pr = &e->procs[proc];
	struct exit_ctx x = { e, proc };
	pr->ws_n = 0; /* the whole working set goes: no entry to look up per page */
	pt_foreach_leaf(&e->pt, pr->root, exit_page, &x);
	vl_pt_free_tree(e, pr->root, 4);
	for (uint32_t i = 0; i < pr->nvads; i++)
		if (pr->vads[i].kind == VAD_MAPPED)
			e->sections[pr->vads[i].section].views--;
	count_commit(e, proc, -(int64_t)pr->commit);
	pr->root = 0;
	pr->nvads = 0;
	pr->ws_n = 0;
	pr->ctr.resident_pages = 0;
	/* an exited process keeps only its counters: a million short-lived
	 * processes must not keep a million VAD arrays and working-set lists
	 * (grow_array starts them anew if the pid comes back) */
	free(pr->vads);
	pr->vads = NULL;
	pr->vads_cap = 0;
	free(pr->wsl);
	pr->wsl = NULL;
	pr->ws_cap = 0;
	pr->ws_hand = 0;
	vl_proc_retire(e, proc);
	return 0;
}

/* ---- Linux address-space calls (V MMAP, MUNMAP, MPROTECT, BRK, MREMAP,
 * FORK) ----
 *
 * Linux VMAs on the VADs above.  A call covers any range and splits the
 * VADs at its ends, as Linux splits VMAs (adjacent VADs are not merged
 * again: nothing here depends on it).
 *   private anonymous   a VAD_PRIVATE with VAD_F_ANON: every page is
 *                       committed with the VAD's protection and charged
 *                       when first touched (a PTE 0 inside it is
 *                       demand-zero, sim/fault.c), so untouched ranges
 *                       need no page tables
 *   file, shared        a view (VAD_MAPPED) of the file's section; a
 *                       private writable file mapping is a copy-on-write
 *                       view, a private read-only one becomes one when
 *                       made writable; shared anonymous memory is a view
 *                       of a zero-filled section of its own
 * Sections of V MMAP files start in the page cache under pagecache.warm =
 * all (a first touch is a soft fault) and on disk under none.
 *
 * FORK: the child gets the parent's VADs.  A private anonymous VAD of the
 * parent becomes a copy-on-write view of a new zero-filled section that
 * takes over the parent's resident pages; parent and child both map them
 * read-only, so the first write of either is a copy-on-write fault (as
 * Linux write-protects anonymous pages at fork).  Views are shared as
 * they are; the child maps none of their pages yet (Linux copies no PTEs
 * of file VMAs either).  Not modelled: the private copies a parent
 * already made in a file view (the child faults the file page instead),
 * and parent pages in the page file (the child reads zeros).
 * MREMAP that moves a private anonymous range moves its pages with their
 * entries (Linux's move_page_tables: no fault at the new address); other
 * moved ranges drop their pages (they fault again). */

static uint64_t end_page(uint64_t addr, uint64_t len)
{
	return (addr + len + VL_PAGE_SIZE - 1) >> VL_PAGE_SHIFT;
}

static unsigned copy_prot(unsigned prot)
{
	if (prot_access(prot) == VL_PROT_READWRITE)
		return (prot & ~7u) | VL_PROT_WRITECOPY;
	if (prot_access(prot) == VL_PROT_EXECUTE_READWRITE)
		return (prot & ~7u) | VL_PROT_EXECUTE_WRITECOPY;
	return prot;
}

/* Make page at a VAD boundary, splitting the VAD holding it. */
static int split_at(struct vl_engine *e, uint32_t proc, uint64_t at, struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	struct vl_vad *d = vl_vad_find(pr, at);
	if (!d || d->start == at)
		return 0;
	struct vl_vad hi = *d;
	hi.start = at;
	if (d->kind == VAD_MAPPED) {
		hi.offset_pages += at - d->start;
		e->sections[d->section].views++;
	}
	d->end = at;
	return vad_insert(pr, &hi) < 0 ? vl_err(err, VL_ENOMEM, "out of memory for a VAD") : 0;
}

/* munmap: whatever lies in [start, end) goes. */
static int linux_unmap(struct vl_engine *e, uint32_t proc, uint64_t start, uint64_t end,
		       struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	VL_TRY(split_at(e, proc, start, err));
	VL_TRY(split_at(e, proc, end, err));
	for (uint32_t i = 0; i < pr->nvads;) {
		struct vl_vad *d = &pr->vads[i];
		if (d->end <= start) {
			i++;
			continue;
		}
		if (d->start >= end)
			break;
		if (d->kind == VAD_MAPPED) {
			VL_TRY(do_unmap(e, proc, d));
		} else {
			VL_TRY(do_decommit(e, proc, d->start, d->end, true));
			vad_delete(pr, &pr->vads[i]);
		}
	}
	return 0;
}

static uint32_t section_for(struct vl_engine *e, uint64_t file_id, uint64_t pages,
			    struct vl_error *err);

static int linux_mmap(struct vl_engine *e, uint32_t proc, const struct vl_event *ev,
		      struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	uint64_t start = ev->addr >> VL_PAGE_SHIFT, end = end_page(ev->addr, ev->len);
	unsigned prot = ev->prot & 0x1f;
	bool shared = (ev->prot & VL_MAP_SHARED) != 0;
	if (end <= start || end > (1ull << (VA_BITS - 1 - VL_PAGE_SHIFT)) ||
	    (ev->offset & (VL_PAGE_SIZE - 1)) || (ev->file_id & SEC_ANON_ID) ||
	    ((prot & VL_PROT_GUARD) && prot != VL_PROT_NOACCESS) || prot_copy(prot) ||
	    (!prot_usable(prot) && prot != VL_PROT_NOACCESS))
		return fail(e);
	VL_TRY(linux_unmap(e, proc, start, end, err));
	if (!ev->file_id && !shared) {
		struct vl_vad v = { .start = start, .end = end, .kind = VAD_PRIVATE,
				    .prot = (uint8_t)prot, .flags = VAD_F_ANON | VAD_F_VMA };
		return vad_insert(pr, &v) < 0 ? vl_err(err, VL_ENOMEM, "out of memory for a VAD") : 0;
	}
	uint64_t fid = ev->file_id ? ev->file_id : SEC_ANON_ID | e->nsections;
	uint32_t sec = section_for(e, fid, (ev->offset >> VL_PAGE_SHIFT) + (end - start), err);
	if (sec == VL_NIL)
		return err ? err->code : VL_ENOMEM;
	if (e->sections[sec].views == 0 && e->sections[sec].fill == SEC_FILL_READ)
		e->sections[sec].fill = !ev->file_id	    ? SEC_FILL_ZERO
					: e->pagecache_warm ? SEC_FILL_CACHED
							    : SEC_FILL_READ;
	struct vl_event m = { .kind = VL_EV_MAP, .prot = shared ? prot : copy_prot(prot),
			      .addr = ev->addr, .len = ev->len, .file_id = fid, .offset = ev->offset };
	if (!prot_usable(prot)) {
		/* PROT_NONE: a view do_map would refuse; map it readable, then
		 * take the access away */
		m.prot = VL_PROT_READONLY;
	}
	VL_TRY(do_map(e, proc, &m, err));
	struct vl_vad *d = vl_vad_find(pr, start);
	if (!d || d->start != start || d->kind != VAD_MAPPED)
		return 0; /* refused (counted) */
	d->flags |= VAD_F_VMA;
	if (shared)
		d->flags |= VAD_F_SHARED;
	d->prot = (uint8_t)m.prot;
	if (!prot_usable(prot))
		d->prot = VL_PROT_NOACCESS;
	return 0;
}

/* mprotect over every VAD in the range. */
static int linux_mprotect(struct vl_engine *e, uint32_t proc, uint64_t start, uint64_t end,
			  unsigned prot, struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	if (end <= start || ((prot & VL_PROT_GUARD) && prot != VL_PROT_NOACCESS) || prot_copy(prot) ||
	    (!prot_usable(prot) && prot != VL_PROT_NOACCESS))
		return fail(e);
	VL_TRY(split_at(e, proc, start, err));
	VL_TRY(split_at(e, proc, end, err));
	for (uint32_t i = 0; i < pr->nvads; i++) {
		struct vl_vad *d = &pr->vads[i];
		if (d->end <= start)
			continue;
		if (d->start >= end)
			break;
		unsigned np = prot;
		if (d->kind == VAD_MAPPED && !(d->flags & VAD_F_SHARED))
			np = copy_prot(np);
		if (d->kind == VAD_MAPPED && prot_copy(np) != prot_copy(d->prot)) {
			/* a copy-on-write view charges all its pages */
			if (prot_copy(np))
				count_commit(e, proc, (int64_t)(d->end - d->start));
			else
				uncharge(e, proc, d->end - d->start);
		}
		d->prot = (uint8_t)np;
		for (uint64_t v = d->start; v < d->end; v++)
			VL_TRY(protect_page(e, proc, d, v, np, true, err));
	}
	return 0;
}

static int linux_brk(struct vl_engine *e, uint32_t proc, const struct vl_event *ev,
		     struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	struct vl_vad *d = NULL;
	for (uint32_t i = 0; i < pr->nvads && !d; i++)
		if (pr->vads[i].flags & VAD_F_HEAP)
			d = &pr->vads[i];
	uint64_t start = d ? d->start : ev->addr >> VL_PAGE_SHIFT;
	uint64_t end = end_page(ev->addr, ev->len);
	if (end < start)
		end = start;
	if (!d) {
		if (end == start)
			return 0;
		if (overlaps_in(e, pr, start, end))
			return fail(e);
		struct vl_vad v = { .start = start, .end = end, .kind = VAD_PRIVATE,
				    .prot = VL_PROT_READWRITE,
				    .flags = VAD_F_ANON | VAD_F_HEAP | VAD_F_VMA };
		return vad_insert(pr, &v) < 0 ? vl_err(err, VL_ENOMEM, "out of memory for a VAD") : 0;
	}
	if (end > d->end) {
		if (overlaps_in(e, pr, d->end, end))
			return fail(e);
		if (d->kind == VAD_MAPPED) { /* a heap copied at a fork */
			struct vl_section *sec = &e->sections[d->section];
			if (section_for(e, sec->file_id, d->offset_pages + (end - d->start), err) == VL_NIL)
				return err ? err->code : VL_ENOMEM;
			if (prot_copy(d->prot))
				count_commit(e, proc, (int64_t)(end - d->end));
		}
		d->end = end;
		return 0;
	}
	if (end < d->end)
		return linux_unmap(e, proc, end, d->end, err);
	return 0;
}

/* Whether a large page maps any of pages [s, e) of pr. */
static bool large_in(struct vl_engine *e, const struct vl_proc *pr, uint64_t s, uint64_t end)
{
	for (uint64_t v = s & ~(uint64_t)(PT_ENTRIES - 1); v < end; v += PT_ENTRIES) {
		uint32_t li = pt_walk(&e->pt, pr->root, va_of(v));
		if (li != VL_NIL && pte_large(e->pt.e[li]))
			return true;
	}
	return false;
}

static int linux_mremap(struct vl_engine *e, uint32_t proc, const struct vl_event *ev,
			struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	uint64_t os = ev->addr >> VL_PAGE_SHIFT, oe = end_page(ev->addr, ev->len);
	uint64_t ns = ev->offset >> VL_PAGE_SHIFT, ne = end_page(ev->offset, ev->file_id);
	struct vl_vad *d = vl_vad_find(pr, os);
	if (!d || oe > d->end || oe <= os || ne <= ns || (ev->addr & (VL_PAGE_SIZE - 1)) ||
	    (ev->offset & (VL_PAGE_SIZE - 1)))
		return fail(e);
	if (ns == os && ne <= oe)
		return linux_unmap(e, proc, ne, oe, err);
	VL_TRY(split_at(e, proc, os, err));
	VL_TRY(split_at(e, proc, oe, err));
	d = vl_vad_find(pr, os);
	struct vl_vad v = *d;
	if (ns == os) { /* grows in place */
		if (overlaps_in(e, pr, oe, ne))
			return fail(e);
	} else if (v.kind == VAD_PRIVATE && (v.flags & VAD_F_ANON) && !large_in(e, pr, os, oe)) {
		/* moves, as Linux's move_page_tables: the pages go with their
		 * entries (no fault at the new address, dirty state and
		 * charge kept) */
		VL_TRY(linux_unmap(e, proc, ns, ne, err));
		if (overlaps_in(e, pr, ns, ne))
			return fail(e);
		for (uint64_t o = os; o < oe && o - os < ne - ns; o++) {
			if (pt_walk(&e->pt, pr->root, va_of(o)) == VL_NIL)
				continue;
			uint32_t ni = leaf(e, proc, ns + (o - os), err); /* may move the arena */
			if (ni == VL_NIL)
				return err ? err->code : VL_ENOMEM;
			uint32_t li = pt_walk(&e->pt, pr->root, va_of(o));
			uint64_t pte = e->pt.e[li];
			if (!pte)
				continue;
			if ((pte & PTE_P) ? PTE_FRAME(pte) != e->zero_frame : (pte & SWPTE_TRANS) != 0) {
				struct vl_pfn *pf = &e->db.pfn[PTE_FRAME(pte)];
				if (!(pf->flags & PFN_F_PROTO) && pf->pte == li)
					pf->pte = ni; /* its page number follows (pt_vpn) */
			}
			pt_set(&e->pt, ni, pte);
			pt_set(&e->pt, li, 0);
			if (pte & PTE_P)
				xl_invlpg(e, proc, o);
		}
		VL_TRY(linux_unmap(e, proc, os, oe, err));
		v.start = ns;
	} else { /* moves: the old range goes, with its pages */
		VL_TRY(linux_unmap(e, proc, os, oe, err));
		VL_TRY(linux_unmap(e, proc, ns, ne, err));
		if (overlaps_in(e, pr, ns, ne))
			return fail(e);
		v.start = ns;
		if (v.kind == VAD_MAPPED) {
			e->sections[v.section].views++;
			if (prot_copy(v.prot))
				count_commit(e, proc, (int64_t)(oe - os));
		}
	}
	uint64_t grow = (ne - ns) > (oe - os) ? (ne - ns) - (oe - os) : 0;
	v.end = ne;
	if (v.kind == VAD_MAPPED) {
		uint64_t fid = e->sections[v.section].file_id;
		if (section_for(e, fid, v.offset_pages + (ne - ns), err) == VL_NIL)
			return err ? err->code : VL_ENOMEM;
		if (prot_copy(v.prot))
			count_commit(e, proc, (int64_t)grow);
		else if ((ne - ns) < (oe - os) && prot_copy(v.prot))
			uncharge(e, proc, (oe - os) - (ne - ns));
	}
	if (ns == os) {
		vl_vad_find(pr, os)->end = ne;
		return 0;
	}
	return vad_insert(pr, &v) < 0 ? vl_err(err, VL_ENOMEM, "out of memory for a VAD") : 0;
}

/* madvise(MADV_DONTNEED): the range's pages go; anonymous ones read back
 * as zeros, file ones from the page cache. */
static int linux_dontneed(struct vl_engine *e, uint32_t proc, uint64_t start, uint64_t end)
{
	struct vl_proc *pr = &e->procs[proc];
	for (uint32_t i = 0; i < pr->nvads; i++) {
		struct vl_vad *d = &pr->vads[i];
		if (d->end <= start)
			continue;
		if (d->start >= end)
			break;
		if (d->kind == VAD_PRIVATE && !(d->flags & VAD_F_ANON))
			return fail(e); /* not a Linux VMA */
		uint64_t s = d->start > start ? d->start : start, t = d->end < end ? d->end : end;
		if (d->kind == VAD_PRIVATE) {
			VL_TRY(do_decommit(e, proc, s, t, true)); /* uncharges the touched pages */
			continue;
		}
		for (uint64_t v = s; v < t; v++) { /* a view: its charge stays */
			uint32_t li = pt_walk(&e->pt, pr->root, va_of(v));
			if (li == VL_NIL)
				continue;
			li = hp_leaf(e, proc, li, v, true);
			if (li != VL_NIL && e->pt.e[li])
				release_page(e, proc, li, v, 0);
		}
	}
	return 0;
}

/* V FORK: proc starts as a copy of process ppid's address space. */
static int linux_fork(struct vl_engine *e, uint32_t proc, uint64_t ppid, struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	uint32_t pp = VL_NIL;
	for (uint32_t k = 0, i; proc_next(e, &k, &i);)
		if (i != proc && e->procs[i].pid == ppid)
			pp = i;
	if (pp == VL_NIL || pr->nvads || pt_any_in(&e->pt, pr->root, 0, 1ull << (VA_BITS - VL_PAGE_SHIFT)))
		return fail(e);
	for (uint32_t i = 0; i < e->procs[pp].nvads; i++) {
		struct vl_vad *d = &e->procs[pp].vads[i];
		if (d->kind == VAD_PRIVATE && (d->flags & VAD_F_ANON)) {
			/* the parent's anonymous pages become a zero-filled section
			 * that both map copy-on-write */
			uint64_t n = d->end - d->start, s0 = d->start;
			uint32_t sec = section_for(e, SEC_ANON_ID | e->nsections, n, err);
			if (sec == VL_NIL)
				return err ? err->code : VL_ENOMEM;
			e->sections[sec].fill = SEC_FILL_ZERO;
			d = &e->procs[pp].vads[i];
			unsigned cp = copy_prot(d->prot);
			for (uint64_t v = s0; v < s0 + n; v++) {
				uint32_t li = pt_walk(&e->pt, e->procs[pp].root, va_of(v));
				if (li == VL_NIL || e->pt.e[li] == 0)
					continue;
				if (pte_large(e->pt.e[li])) {
					li = hp_leaf(e, pp, li, v, true);
					if (li == VL_NIL)
						return vl_err(err, VL_ENOMEM, "out of memory splitting a large page");
				}
				uint64_t pte = e->pt.e[li];
				if (!(pte & PTE_P))
					continue; /* paged out: stays the parent's (see above) */
				uint32_t f = PTE_FRAME(pte);
				uint64_t keep = pte & (PTE_A | PTE_D | PTE_SW_NOPOLICY | PTE_SW_HUGEZERO);
				xl_invlpg(e, pp, v);
				uncharge(e, pp, 1); /* now covered by the view's charge */
				uint32_t cl = leaf(e, proc, v, err);
				if (cl == VL_NIL)
					return err ? err->code : VL_ENOMEM;
				li = pt_walk(&e->pt, e->procs[pp].root, va_of(v)); /* the arena may move */
				if (f == e->zero_frame) {
					uint64_t z = PTE_MAKE(f) | ((prot_hw(cp) & ~PTE_RW) | keep);
					pt_set(&e->pt, li, z);
					pt_set(&e->pt, cl, z);
					continue;
				}
				uint64_t *qp = proto_ref(&e->sections[sec], v - s0);
				if (!qp)
					return vl_err(err, VL_ENOMEM, "out of memory for prototype PTEs");
				struct vl_pfn *p = &e->db.pfn[f];
				if (pte & PTE_D)
					p->flags |= PFN_F_MODIFIED;
				p->flags |= PFN_F_PROTO;
				p->owner = sec;
				pfn_set_proto_index(e, f, v - s0);
				p->aux = 1;
				*qp = PTE_P | PTE_MAKE(f);
				e->resident_shared++;
				pt_set(&e->pt, li, PTE_MAKE(f) | prot_hw(cp) | (pte & PTE_A));
				VL_TRY(vl_map_shared(e, proc, cl, f, v, cp, false, err));
			}
			d = &e->procs[pp].vads[i];
			d->kind = VAD_MAPPED;
			d->section = sec;
			d->offset_pages = 0;
			d->prot = (uint8_t)cp;
			d->flags &= (uint16_t)~VAD_F_ANON;
			e->sections[sec].views++;
			if (prot_copy(cp))
				count_commit(e, pp, (int64_t)n);
		}
		struct vl_vad c = e->procs[pp].vads[i];
		if (c.kind == VAD_MAPPED) {
			e->sections[c.section].views++;
			if (prot_copy(c.prot))
				count_commit(e, proc, (int64_t)(c.end - c.start));
		}
		if (vad_insert(pr, &c) < 0)
			return vl_err(err, VL_ENOMEM, "out of memory for a VAD");
	}
	return 0;
}

static int linux_event(struct vl_engine *e, uint32_t proc, const struct vl_event *ev,
		       struct vl_error *err)
{
	uint64_t start = ev->addr >> VL_PAGE_SHIFT, end = end_page(ev->addr, ev->len);
	switch (ev->kind) {
	case VL_EV_MMAP:
		return linux_mmap(e, proc, ev, err);
	case VL_EV_MUNMAP:
		if (end <= start || (ev->addr & (VL_PAGE_SIZE - 1)))
			return fail(e);
		return linux_unmap(e, proc, start, end, err);
	case VL_EV_MPROTECT:
		if (ev->addr & (VL_PAGE_SIZE - 1))
			return fail(e);
		return linux_mprotect(e, proc, start, end, ev->prot, err);
	case VL_EV_BRK:
		return linux_brk(e, proc, ev, err);
	case VL_EV_MREMAP:
		return linux_mremap(e, proc, ev, err);
	case VL_EV_FORK:
		return linux_fork(e, proc, ev->addr, err);
	default:
		return vl_err(err, VL_EINVAL, "unknown event kind %u", ev->kind);
	}
}

int vl_event(struct vl_engine *e, uint32_t proc, const struct vl_event *ev, struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	uint64_t start = ev->addr >> VL_PAGE_SHIFT;
	switch (ev->kind) {
	case VL_EV_ROI_BEGIN:
	case VL_EV_ROI_END:
		return 0;
	case VL_EV_EXIT:
		return do_exit(e, proc);
	default:
		break;
	}
	pr->explicit_vm = true;
	/* MEM_LARGE_PAGES goes with a commit only */
	if ((ev->prot & VL_PROT_LARGE) && ev->kind != VL_EV_COMMIT && ev->kind != VL_EV_ADVISE)
		return fail(e);
	switch (ev->kind) {
	case VL_EV_RESERVE: {
		uint64_t base = start & ~(uint64_t)(GRANULARITY_PAGES - 1);
		uint64_t end = (ev->addr + ev->len + VL_PAGE_SIZE - 1) >> VL_PAGE_SHIFT;
		if (end <= base || overlaps_in(e, pr, base, end) || prot_copy(ev->prot) ||
		    end > (1ull << (VA_BITS - 1 - VL_PAGE_SHIFT)))
			return fail(e); /* WRITECOPY only in views, as for V COMMIT */
		struct vl_vad v = { .start = base, .end = end, .kind = VAD_PRIVATE,
				    .prot = (uint8_t)(ev->prot ? ev->prot : VL_PROT_READWRITE) };
		return vad_insert(pr, &v) < 0 ? vl_err(err, VL_ENOMEM, "out of memory for a VAD") : 0;
	}
	case VL_EV_COMMIT:
		return do_commit(e, proc, ev, err);
	case VL_EV_DECOMMIT: {
		uint64_t end = (ev->addr + ev->len + VL_PAGE_SIZE - 1) >> VL_PAGE_SHIFT;
		struct vl_vad *d = vl_vad_find(pr, start);
		/* large pages are released whole, never decommitted (A.13) */
		if (!d || d->kind != VAD_PRIVATE || end > d->end || end <= start ||
		    (d->flags & VAD_F_LARGE))
			return fail(e);
		return do_decommit(e, proc, start, end, false);
	}
	case VL_EV_RELEASE: {
		struct vl_vad *d = vl_vad_find(pr, start);
		if (!d || d->kind != VAD_PRIVATE || d->start != start ||
		    (ev->addr & (VL_PAGE_SIZE - 1)))
			return fail(e);
		uint64_t s = d->start, t = d->end;
		do_decommit(e, proc, s, t, true);
		vad_delete(pr, vl_vad_find(pr, s));
		return 0;
	}
	case VL_EV_PROTECT:
		return do_protect(e, proc, ev, err);
	case VL_EV_MAP:
		return do_map(e, proc, ev, err);
	case VL_EV_MMAP: case VL_EV_MUNMAP: case VL_EV_MPROTECT: case VL_EV_BRK:
	case VL_EV_MREMAP: case VL_EV_FORK:
		return linux_event(e, proc, ev, err);
	case VL_EV_ADVISE: {
		/* madvise(MADV_[NO]HUGEPAGE): over Linux VMAs (V MMAP, V BRK) any
		 * range, splitting the VMAs it covers in part, as madvise_update_vma
		 * does (adjacent VMAs it leaves alike are not merged back: a 2 MiB
		 * range across two of them stays ineligible, where Linux's merged
		 * VMA would allow it); over other VADs (V COMMIT) only whole private
		 * ones, since a reservation cannot be split */
		uint64_t end = (ev->addr + ev->len + VL_PAGE_SIZE - 1) >> VL_PAGE_SHIFT;
		if (ev->prot == VL_ADV_DONTNEED)
			return end <= start ? fail(e) : linux_dontneed(e, proc, start, end);
		if (end <= start || (ev->prot != VL_ADV_HUGEPAGE && ev->prot != VL_ADV_NOHUGEPAGE))
			return fail(e);
		uint32_t hits = 0, vmas = 0;
		for (uint32_t i = 0; i < pr->nvads; i++) {
			struct vl_vad *d = &pr->vads[i];
			if (d->end <= start || d->start >= end)
				continue;
			hits++;
			vmas += (d->flags & VAD_F_VMA) != 0;
		}
		if (!hits)
			return fail(e);
		if (vmas == hits) {
			/* a 2 MiB page across a new boundary is split first
			 * (split_huge_pmd from vma_adjust_trans_huge) */
			for (int k = 0; k < 2; k++) {
				uint64_t v = k ? end : start;
				uint32_t li = (v & (PT_ENTRIES - 1))
						      ? pt_walk(&e->pt, pr->root, va_of(v))
						      : VL_NIL;
				if (li != VL_NIL && pte_large(e->pt.e[li]) &&
				    hp_leaf(e, proc, li, v, true) == VL_NIL)
					return vl_err(err, VL_ENOMEM,
						      "out of memory splitting a large page");
			}
			VL_TRY(split_at(e, proc, start, err));
			VL_TRY(split_at(e, proc, end, err));
		}
		for (uint32_t i = 0; vmas != hits && i < pr->nvads; i++) {
			const struct vl_vad *d = &pr->vads[i];
			if (d->end > start && d->start < end &&
			    (d->start < start || d->end > end || d->kind != VAD_PRIVATE))
				return fail(e);
		}
		for (uint32_t i = 0; i < pr->nvads; i++) {
			struct vl_vad *d = &pr->vads[i];
			if (d->end <= start || d->start >= end)
				continue;
			d->flags &= (uint16_t)~(VAD_F_HUGE | VAD_F_NOHUGE);
			d->flags |= ev->prot == VL_ADV_HUGEPAGE ? VAD_F_HUGE : VAD_F_NOHUGE;
		}
		return 0;
	}
	case VL_EV_UNMAP: {
		struct vl_vad *d = vl_vad_find(pr, start);
		if (!d || d->kind != VAD_MAPPED || d->start != start)
			return fail(e);
		return do_unmap(e, proc, d);
	}
	default:
		return vl_err(err, VL_EINVAL, "unknown event kind %u", ev->kind);
	}
}
