/* sim/thp.c - transparent huge pages (the linux rules) and khugepaged.
 *
 * The fault-count rules of the reference notes (A.14, B.6), as the kernel
 * applies them in do_anonymous_page / do_huge_pmd_anonymous_page:
 *   - a private VAD is eligible when thp.enabled = always, or = madvise and
 *     the VAD was given V ADVISE hugepage; never after ADVISE nohugepage;
 *   - a fault in an eligible VAD whose aligned 2 MiB range lies wholly in
 *     the VAD and whose page table is still empty (every PTE of the range
 *     untouched: committed demand-zero with one protection) is one fault
 *     for the whole range: a write maps a 2 MiB page (an order-9 block of
 *     the buddy allocator; when none is free it falls back to 4 KiB, as
 *     thp_fault_fallback), a read maps the huge zero page;
 *   - a write to the huge zero page allocates the 2 MiB page in one more
 *     fault (do_huge_zero_wp_pmd, kernels >= 6.12).
 * The 2 MiB page is the one large-page representation (sim/hugepage.c):
 * a PS entry over an order-9 block.  It is made in two steps: the 512
 * frames are first mapped as 4 KiB PTEs of the range's page table, in
 * order (so the resident-set manager hears each as for any page), then
 * hp_install turns that table into the PS entry, with the faulting page's
 * accessed bit and D set, and deposits the table (pgtable_trans_huge_
 * deposit) for a later split.  Changing part of it (evicting a frame,
 * mprotect or decommit of part of it) splits it first, reusing the
 * deposit, as split_huge_pmd does.
 *
 * thp.enabled (never by default; the linux preset says madvise) is the
 * only switch: the rules apply under any personality that enables it. */

#include "sim/internal.h"

static bool thp_eligible(const struct vl_engine *e, const struct vl_vad *d, uint64_t vpn)
{
	if (e->thp == THP_NEVER || !d || d->kind != VAD_PRIVATE || (d->flags & VAD_F_NOHUGE))
		return false;
	if (e->thp == THP_MADVISE && !(d->flags & VAD_F_HUGE))
		return false;
	uint64_t lo = vpn & ~(uint64_t)(PT_ENTRIES - 1);
	return lo >= d->start && lo + PT_ENTRIES <= d->end;
}

/* Is every PTE of li's node exactly pte (an untouched committed page)? */
static bool node_uniform(const struct vl_engine *e, uint32_t li, uint64_t pte)
{
	const uint64_t *n = &e->pt.e[(size_t)(li / PT_ENTRIES) * PT_ENTRIES];
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		if (n[i] != pte)
			return false;
	return true;
}

/* The 512 PTEs at l0 (vpn v0..), mapping an aligned order-9 block in
 * order with one protection and equal A and D bits, become one 2 MiB page
 * (its PDE a PS entry, the table deposited), counted (promoted: from
 * 4 KiB pages, copied of them copied). */
static void thp_make(struct vl_engine *e, uint32_t proc, uint32_t l0, uint64_t v0, bool promoted,
		     uint64_t copied)
{
	uint32_t node = l0 / PT_ENTRIES;
	uint64_t t0 = e->pt.e[l0];
	hp_install(e, proc, e->pt.parent[node], PTE_FRAME(t0), 9, v0, t0 & ~PTE_FRAME_MASK, 9,
		   (uint8_t)~PFN_F_LARGE, node, true);
	count_large_page(e, promoted, copied);
}

/* Map 512 fresh frames (an order-9 block) over li's node.  Returns 1 when
 * no block was free (the caller falls back to 4 KiB), 0 or an error. */
static int thp_map(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn, unsigned prot,
		   const struct vl_access *a, struct vl_error *err)
{
	uint32_t base = pfn_alloc(&e->db, 9);
	if (base == VL_NIL) {
		count_large_fallback(e);
		return 1;
	}
	uint32_t l0 = li & ~(uint32_t)(PT_ENTRIES - 1);
	uint64_t v0 = vpn & ~(uint64_t)(PT_ENTRIES - 1);
	for (uint32_t i = 0; i < PT_ENTRIES; i++) {
		struct vl_pfn *p = &e->db.pfn[base + i];
		if (!(p->flags & PFN_F_ZEROED))
			count_zero_fill(e, 1);
		p->flags = 0;
		p->slot = VL_NIL;
		p->aux = 0;
		/* the huge zero page's 4 KiB translations go (Linux flushes the
		 * range when it replaces the huge zero PMD) */
		if (e->pt.e[l0 + i] & PTE_P)
			xl_invlpg(e, proc, v0 + i);
		pt_set(&e->pt, l0 + i, 0);
		VL_TRY(vl_map_private(e, proc, l0 + i, base + i, v0 + i, prot, true, false, a, err));
	}
	/* one page from now on: its A (a policy's on_map may have cleared
	 * some) is the faulting page's, D is set (a write mapped it) */
	uint64_t *n = &e->pt.e[l0];
	bool acc = (e->pt.e[li] & PTE_A) != 0;
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		n[i] = acc ? n[i] | PTE_A : n[i] & ~PTE_A;
	thp_make(e, proc, l0, v0, false, 0);
	return 0;
}

/* Demand-zero fault at li: handle it as a THP fault if the rules allow.
 * Returns 1 when they do not (the caller goes on with 4 KiB), else 0 or
 * an error. */
int vl_thp_fault(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn, uint64_t pte,
		     unsigned prot, bool write, const struct vl_access *a, struct vl_error *err)
{
	if (prot & VL_PROT_GUARD)
		return 1;
	const struct vl_vad *d = vl_vad_find(&e->procs[proc], vpn);
	/* untouched: a demand-zero PTE, or PTE 0 in a VAD committed whole
	 * (VAD_F_COMMITTED, where every page of the range is committed with
	 * the VAD's protection, as eligibility keeps the range inside it) or
	 * in a linux anonymous VMA (VAD_F_ANON: the same, charged at the first
	 * touch; the caller charged the faulting page, the range's other 511
	 * are charged here, as their PTEs become present) */
	bool lazy = pte == 0 && d && d->kind == VAD_PRIVATE && (d->flags & VAD_F_ANON);
	if ((pte == 0 && !vad_commits_zero(d) && !lazy) || !thp_eligible(e, d, vpn) ||
	    !node_uniform(e, li, pte))
		return 1;
	if ((write || e->thp_zero) && lazy && !vl_commit_charge(e, proc, PT_ENTRIES - 1))
		return 1;
	if (write) {
		int r = thp_map(e, proc, li, vpn, prot, a, err);
		if (r != 0) {
			if (lazy)
				count_commit(e, proc, -(int64_t)(PT_ENTRIES - 1));
			return r;
		}
		count_fault(e, proc, FAULT_DEMAND_ZERO);
		return 0;
	}
	if (!e->thp_zero)
		return 1;
	uint32_t l0 = li & ~(uint32_t)(PT_ENTRIES - 1);
	uint64_t hz = PTE_MAKE(e->zero_frame) | (prot_hw(prot) & ~PTE_RW) | PTE_SW_HUGEZERO |
		      PTE_SW_NOPOLICY;
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		pt_set(&e->pt, l0 + i, hz | (l0 + i == li ? PTE_A : 0));
	count_fault(e, proc, FAULT_DEMAND_ZERO);
	return 0;
}

/* A write to the huge zero page: allocate the 2 MiB page in one fault.
 * Returns 1 when it cannot (the 4 KiB copy-on-write path takes over). */
int vl_thp_zero_wp(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn,
		       unsigned prot, const struct vl_access *a, struct vl_error *err)
{
	const struct vl_vad *d = vl_vad_find(&e->procs[proc], vpn);
	if (!thp_eligible(e, d, vpn))
		return 1;
	const uint64_t *n = &e->pt.e[(size_t)(li / PT_ENTRIES) * PT_ENTRIES];
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		if (!(n[i] & PTE_SW_HUGEZERO) || PTE_FRAME(n[i]) != e->zero_frame)
			return 1;
	int r = thp_map(e, proc, li, vpn, prot, a, err);
	if (r != 0)
		return r;
	count_fault(e, proc, FAULT_COW);
	return 0;
}

/* ---- khugepaged (linux) ----
 *
 * thp.khugepaged = on: every thp.khugepaged.interval accesses a scan looks
 * at up to thp.khugepaged.pages_to_scan PTEs (whole 2 MiB ranges), going
 * round the processes and their THP-eligible private VADs from where the
 * last scan stopped, as khugepaged does (mm/khugepaged.c,
 * hpage_collapse_scan_pmd and collapse_huge_page).  A range collapses
 * into a huge page when its page table exists and is not a huge page
 * already, at most thp.khugepaged.max_ptes_none of its PTEs are empty or
 * map the zero page, none is paged out (max_ptes_swap = 0 here: the
 * kernel would read up to 64 back), all have one usable, writable, private
 * protection, and at least one present page was accessed.  Present pages
 * are copied (large_page_copies), the rest zero-filled; the old frames are
 * freed (vl_page_release) and their translations invalidated; the huge
 * page is dirty and accessed, installed as a fault-time THP is.  Counted in large_page_promotions and large_pages_mapped; an
 * order-9 block that is not free counts in large_page_fallbacks.  The
 * replacement policy hears on_unmap for the old frames and on_map for the
 * 512 new ones (with no next-use time: OPT treats them as never used
 * again, as after a textbook promotion). */
static int khp_collapse(struct vl_engine *e, uint32_t proc, uint64_t v0, struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	uint32_t li = pt_walk(&e->pt, pr->root, va_of(v0));
	if (li == VL_NIL)
		return 0; /* no page table: nothing mapped to collapse */
	if (pte_large(e->pt.e[li]))
		return 0; /* a large page already */
	uint32_t l0 = li & ~(uint32_t)(PT_ENTRIES - 1), node = l0 / PT_ENTRIES;
	if (e->pt_frames && e->pt.frame[node] == VL_NIL)
		return 0;
	const struct vl_vad *d = vl_vad_find(pr, v0); /* the range lies in it */
	unsigned prot = 0, none = 0, referenced = 0;
	for (uint32_t i = 0; i < PT_ENTRIES; i++) {
		uint64_t pte = e->pt.e[l0 + i];
		unsigned pp;
		if (pte & PTE_P) {
			pp = VPTE_PROT(pte);
			if (PTE_FRAME(pte) == e->zero_frame) {
				none++;
			} else {
				if (e->db.pfn[PTE_FRAME(pte)].flags & PFN_F_PROTO)
					return 0; /* a file page: not anonymous memory */
				referenced += (pte & PTE_A) != 0;
			}
		} else if (pte == 0 && vad_commits_zero(d)) {
			pp = d->prot; /* untouched, committed with its VAD */
			none++;
		} else if (pte == 0 || (pte & (SWPTE_PROTO | SWPTE_TRANS)) || SWPTE_HAS_SLOT(pte)) {
			return 0; /* not committed, a view, or paged out */
		} else {
			pp = SWPTE_PROT(pte);
			none++;
		}
		if (i == 0)
			prot = pp;
		if (pp != prot)
			return 0;
	}
	if (!prot_usable(prot) || (prot & VL_PROT_GUARD) || !prot_writable(prot) ||
	    prot_copy(prot) || none > e->khp_max_none || !referenced)
		return 0;
	uint32_t base = pfn_alloc(&e->db, 9);
	if (base == VL_NIL) {
		count_large_fallback(e);
		return 0;
	}
	struct vl_access a = vl_access_none(e, pr->pid);
	uint64_t copied = 0;
	for (uint32_t i = 0; i < PT_ENTRIES; i++) {
		uint64_t pte = e->pt.e[l0 + i];
		struct vl_pfn *p = &e->db.pfn[base + i];
		if ((pte & PTE_P) && PTE_FRAME(pte) != e->zero_frame)
			copied++;
		else if (!(p->flags & PFN_F_ZEROED))
			count_zero_fill(e, 1);
		vl_page_release(e, proc, l0 + i, v0 + i); /* frees the old frame, INVLPG */
		pt_set(&e->pt, l0 + i, 0);
		p->flags = 0;
		p->slot = VL_NIL;
		p->aux = 0;
		a.vpn = v0 + i;
		VL_TRY(vl_map_private(e, proc, l0 + i, base + i, v0 + i, prot, true, true, &a, err));
	}
	/* one page: accessed (a page of it was) and dirty, in all 512 PTEs */
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		e->pt.e[l0 + i] |= PTE_A | PTE_D;
	thp_make(e, proc, l0, v0, true, copied);
	return 0;
}

int vl_khugepaged_scan(struct vl_engine *e, struct vl_error *err)
{
	uint64_t budget = e->khp_pages;
	uint32_t empty_visits = 0; /* processes passed without a range to look at */
	/* the scan goes round the rows (processes in order of first
	 * appearance); an exited process's row is passed as one without a
	 * range, a run of them at once */
	while (budget >= PT_ENTRIES && e->nrows && empty_visits <= e->nrows) {
		if (e->khp_row >= e->nrows) {
			e->khp_row = 0;
			e->khp_vpn = 0;
		}
		uint32_t row = e->khp_row, slot = vl_proc_from_row(e, &row);
		if (row > e->khp_row) { /* exited processes first */
			uint32_t pass = row - e->khp_row, left = e->nrows + 1 - empty_visits;
			if (pass > left)
				pass = left;
			e->khp_row += pass;
			e->khp_vpn = 0;
			empty_visits += pass;
			continue;
		}
		struct vl_proc *pr = &e->procs[slot];
		uint64_t v0 = VL_NEVER;
		for (uint32_t k = 0; k < pr->nvads && v0 == VL_NEVER; k++) {
			const struct vl_vad *d = &pr->vads[k];
			uint64_t lo = d->start > e->khp_vpn ? d->start : e->khp_vpn;
			lo = (lo + PT_ENTRIES - 1) & ~(uint64_t)(PT_ENTRIES - 1);
			if (lo + PT_ENTRIES <= d->end && thp_eligible(e, d, lo))
				v0 = lo;
		}
		if (v0 == VL_NEVER) { /* this process is done: the next one */
			e->khp_row++;
			e->khp_vpn = 0;
			empty_visits++;
			continue;
		}
		empty_visits = 0;
		budget -= PT_ENTRIES;
		e->khp_vpn = v0 + PT_ENTRIES;
		VL_TRY(khp_collapse(e, slot, v0, err));
	}
	return 0;
}

