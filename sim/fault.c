/* sim/fault.c - resolving a fault.
 *
 * The fault algorithm follows the Windows memory manager's MmAccessFault
 * (shared/reference A.6), with the other personalities as switches:
 *
 *   valid PTE, write to a read-only mapping ─▶ copy-on-write or violation
 *   invalid PTE ─▶ decode (A.3): never touched (VAD / implicit commit),
 *                  prototype (section page), transition (frame on standby or
 *                  modified: soft), page-file slot (hard), demand-zero
 *   protection checks: not committed / NOACCESS / decommitted / write to
 *   read-only / execute without X ─▶ access violation (not a fault);
 *   guard ─▶ one-shot guard exception, then the access is retried
 *
 * Frames come from vl_frame_get (sim/frames.c); which pages leave memory
 * to make room, and where they go, is the resident-set manager's business
 * (sim/rsm_global.c, sim/rsm_ws.c), told of every page mapped through
 * vl_rsm_ops.mapped.  File pages go through sim/section.c, the linux THP
 * rules through sim/thp.c, the linux swap cache through sim/swap.c.
 * Personalities differ here only through keys: anon.zero_page,
 * anon.dz_dirty, thp.enabled, file.fault_around, swap.cache.
 */
#include "sim/internal.h"

static int violation(struct vl_engine *e, uint32_t proc)
{
	count_violation(e, proc);
	if (e->stop_on_av)
		e->procs[proc].stopped = true;
	return 0;
}

int vl_map_private(struct vl_engine *e, uint32_t proc, uint32_t li, uint32_t f, uint64_t vpn,
		   unsigned prot, bool write, bool dirty, const struct vl_access *a,
		   struct vl_error *err)
{
	map_private_pte(e, proc, li, f, vpn, prot, write, dirty);
	return e->rsm->mapped(e, proc, vpn, f, a, err);
}

/* Copy-on-write: the page (shared frame src, or the zero page) gets a
 * private copy in this process. */
static int cow(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn, unsigned prot,
	       const struct vl_access *a, bool from_zero, struct vl_error *err)
{
	uint64_t old = e->pt.e[li];
	e->rsm->grow(e, proc);
	uint32_t f = vl_frame_get(e, from_zero, a, err);
	if (f == VL_NIL)
		return err ? err->code : VL_ENOMEM;
	old = e->pt.e[li];
	if ((old & PTE_P) && PTE_FRAME(old) != e->zero_frame) {
		uint32_t sf = PTE_FRAME(old);
		struct vl_pfn *src = &e->db.pfn[sf];
		if (src->aux)
			src->aux--;
		e->procs[proc].ctr.resident_pages--;
		e->rsm->unmapped(e, proc, vpn, sf); /* the view page leaves this process */
		if (src->aux == 0)
			e->rsm->idle(e, sf);
	}
	unsigned nprot = prot;
	if (prot_access(prot) == VL_PROT_WRITECOPY)
		nprot = (prot & ~7u) | VL_PROT_READWRITE;
	else if (prot_access(prot) == VL_PROT_EXECUTE_WRITECOPY)
		nprot = (prot & ~7u) | VL_PROT_EXECUTE_READWRITE;
	xl_invlpg(e, proc, vpn);
	pt_set(&e->pt, li, 0);
	count_fault(e, proc, FAULT_COW);
	return vl_map_private(e, proc, li, f, vpn, nprot, true, true, a, err);
}

/* A fault on page idx of d's file: when a read-ahead marked it, the mark
 * goes and the next window is read ahead (filemap_fault's
 * do_async_mmap_readahead; sim/pagecache.c, which does nothing for a page
 * not marked). */
static int mark_hit(struct vl_engine *e, const struct vl_vad *d, uint64_t idx,
		    struct vl_error *err)
{
	if (!e->npc_marks)
		return 0;
	return vl_pagecache_mark_hit(e, e->sections[d->section].file_id, idx, 1, true, err);
}

int vl_fault(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t va, uint8_t op,
	     struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	uint64_t vpn = (va >> VL_PAGE_SHIFT) & VPN_MASK;
	bool write = op == VL_OP_WRITE || op == VL_OP_MODIFY;
	bool exec = op == VL_OP_IFETCH;
	struct vl_access a = vl_access_at(e, e->time, vpn, pr->pid, op);
	uint64_t pte = e->pt.e[li];

	if (pte & PTE_P) { /* protection fault on a present page */
		unsigned prot = VPTE_PROT(pte);
		if (exec && (pte & PTE_NX))
			return violation(e, proc);
		if (write && !(pte & PTE_RW)) {
			bool zero = PTE_FRAME(pte) == e->zero_frame;
			if (zero && (pte & PTE_SW_HUGEZERO) && prot_writable(prot) && !prot_copy(prot)) {
				int r = vl_thp_zero_wp(e, proc, li, vpn, prot, &a, err);
				if (r <= 0)
					return r;
			}
			if (zero && prot_writable(prot) && !prot_copy(prot))
				return cow(e, proc, li, vpn, prot, &a, true, err);
			if (prot_copy(prot))
				return cow(e, proc, li, vpn, prot, &a, false, err);
			if (prot_writable(prot) && !zero && !(pte & PTE_PS)) {
				/* the dirty-bit fault (A.2, Windows x64): the first
				 * write to a writable page mapped clean because it
				 * has a page-file copy: the copy is stale, its slot
				 * is freed, the page becomes writable and dirty */
				struct vl_pfn *p = &e->db.pfn[PTE_FRAME(pte)];
				if (p->slot != VL_NIL && !(p->flags & PFN_F_PROTO)) {
					pf_release(&e->pf, p->slot);
					p->slot = VL_NIL;
				}
				e->pt.e[li] |= PTE_RW | PTE_D;
				xl_invlpg(e, proc, vpn);
				count_fault(e, proc, FAULT_SOFT);
				return 0;
			}
			return violation(e, proc);
		}
		return 0; /* spurious: nothing to do */
	}

	/* decode the invalid PTE */
	const struct vl_vad *d = NULL;
	unsigned prot;
	bool lazy = false; /* a linux anonymous VMA's untouched page: committed by its VAD */
	if (pte == 0 || (pte & SWPTE_PROTO)) {
		if (!pr->explicit_vm) {
			prot = VL_PROT_EXECUTE_READWRITE; /* implicit commit */
		} else {
			d = vl_vad_find(pr, vpn);
			if (pte == 0 && vad_commits_zero(d)) {
				prot = d->prot; /* committed with its VAD: demand zero */
				d = NULL;
			} else if (d && pte == 0 && d->kind == VAD_PRIVATE && (d->flags & VAD_F_ANON)) {
				prot = d->prot;
				d = NULL;
				lazy = true;
			} else {
				if (!d || d->kind != VAD_MAPPED)
					return violation(e, proc); /* free, or reserved but not committed */
				prot = pte ? SWPTE_PROT(pte) : d->prot;
			}
		}
	} else {
		prot = SWPTE_PROT(pte);
	}
	if (!prot_usable(prot))
		return violation(e, proc);
	if (prot & VL_PROT_GUARD) {
		/* one-shot: the guard exception fires, the page loses its guard
		 * bit, and the access is retried (A.11) */
		prot &= ~(unsigned)VL_PROT_GUARD;
		e->ctr.faults_guard++;
		uint64_t npte = (pte == 0 || (pte & SWPTE_PROTO))
					? SWPTE_PROTO | SWPTE_MKPROT(prot)
					: (pte & ~SWPTE_MKPROT(0x1f)) | SWPTE_MKPROT(prot);
		pt_set(&e->pt, li, npte);
		pte = npte;
		if (!prot_usable(prot))
			return violation(e, proc);
	}
	if (write && !prot_writable(prot))
		return violation(e, proc);
	if (exec && !prot_exec(prot))
		return violation(e, proc);

	if (d || (pte & SWPTE_PROTO)) { /* a view page, through its section */
		if (!d)
			d = vl_vad_find(pr, vpn);
		if (!d)
			return violation(e, proc);
		uint64_t idx = d->offset_pages + (vpn - d->start);
		int how;
		/* a read that will have to go to the file: Linux tries
		 * fault-around first (do_read_fault), which maps the window's
		 * pages cached before this fault, none of those its read-around
		 * is about to read */
		bool around_first = e->fault_around > 1 && !write && e->readaround > 1 &&
				    vl_section_will_read(e, d->section, idx);
		if (around_first)
			vl_fault_around(e, proc, d, vpn, d->prot);
		e->rsm->grow(e, proc);
		uint32_t f = vl_section_page(e, d->section, idx, d, &a, &how, err);
		if (f == VL_NIL)
			return err ? err->code : VL_ENOMEM;
		if (write && prot_copy(prot)) {
			/* first write to a copy-on-write view page: one fault that
			 * reads the shared page if needed (file_reads) and copies
			 * it; with a read it is a hard (major) fault where
			 * file.cow_read_major says so (Linux's do_cow_fault
			 * returns VM_FAULT_MAJOR) */
			pt_set(&e->pt, li, 0);
			count_fault(e, proc,
				    how == FAULT_HARD && e->cow_read_major ? FAULT_HARD : FAULT_COW);
			/* pin the source (a reference, as Windows's ReferenceCount)
			 * so making room cannot trim and repurpose it meanwhile */
			e->db.pfn[f].aux++;
			uint32_t g = vl_frame_get(e, false, &a, err);
			e->db.pfn[f].aux--;
			if (g == VL_NIL)
				return err ? err->code : VL_ENOMEM;
			unsigned nprot = (prot & ~7u) | (prot_access(prot) == VL_PROT_WRITECOPY
								 ? VL_PROT_READWRITE
								 : VL_PROT_EXECUTE_READWRITE);
			VL_TRY(vl_map_private(e, proc, li, g, vpn, nprot, true, true, &a, err));
			if (e->db.pfn[f].aux == 0)
				e->rsm->idle(e, f);
			return mark_hit(e, d, idx, err);
		}
		count_fault(e, proc, how == FAULT_HARD || how == FAULT_DEMAND_ZERO ? how : FAULT_SOFT);
		VL_TRY(vl_map_shared(e, proc, li, f, vpn, prot, write, err));
		if (e->fault_around > 1 && !write && !around_first)
			vl_fault_around(e, proc, d, vpn, d->prot);
		return mark_hit(e, d, idx, err);
	}

	if (pte & SWPTE_TRANS) { /* T3: back from standby or modified */
		uint32_t f = PTE_FRAME(pte);
		if (e->db.pfn[f].loc == PFN_SWAPCACHE) /* linux: in the swap cache */
			return vl_swap_hit(e, proc, li, f, vpn, prot, write, &a, err);
		e->rsm->grow(e, proc);
		pte = e->pt.e[li];
		if (pte & SWPTE_TRANS) {
			vl_unlist(e, f);
			count_fault(e, proc, FAULT_SOFT);
			return vl_map_private(e, proc, li, f, vpn, prot, write, false, &a, err);
		}
		/* the frame was repurposed while we made room: fall through */
	}

	e->rsm->grow(e, proc);
	pte = e->pt.e[li];
	if (SWPTE_HAS_SLOT(pte) && e->sw.on) /* T2, linux: through the swap cache */
		return vl_swap_in(e, proc, li, vpn, prot, write, &a, err);
	if (SWPTE_HAS_SLOT(pte)) { /* T2: paged out */
		uint32_t slot = SWPTE_SLOT(pte);
		/* a page file full at its maximum (only where the manager keeps
		 * page lists): the page read back gives its slot up at once, so
		 * that the writer has one for the page that makes room; it is
		 * modified from now on (its one copy is in memory) */
		bool give_up = e->rsm->lists && e->pf.limit && e->pf.used >= e->pf.limit &&
			       e->pf.limit >= e->pf_max;
		if (give_up) {
			pf_release(&e->pf, slot);
			slot = VL_NIL;
			pt_set(&e->pt, li, SWPTE_MKPROT(prot));
		}
		uint32_t f = vl_frame_get(e, false, &a, err);
		if (f == VL_NIL)
			return err ? err->code : VL_ENOMEM;
		e->ctr.pagefile_reads++;
		count_fault(e, proc, FAULT_HARD);
		e->db.pfn[f].slot = slot;
		return vl_map_private(e, proc, li, f, vpn, prot, write, give_up, &a, err);
	}

	/* T1: demand zero */
	/* implicit commit (a trace without address-space events) and a linux
	 * VMA's page: charged at the first touch, against the limit like any
	 * commit (A.9); refused, it is a commit failure and the access an
	 * access violation */
	if (pte == 0 && (!pr->explicit_vm || lazy) && !vl_commit_charge(e, proc, 1))
		return violation(e, proc);
	if (e->thp != THP_NEVER) {
		int r = vl_thp_fault(e, proc, li, vpn, pte, prot, write, &a, err);
		if (r <= 0)
			return r;
	}
	if (e->zero_page && !write) {
		/* linux: a read maps the shared zero page, read-only */
		count_fault(e, proc, FAULT_DEMAND_ZERO);
		pt_set(&e->pt, li, PTE_MAKE(e->zero_frame) | (prot_hw(prot) & ~PTE_RW) | PTE_A |
				    PTE_SW_NOPOLICY);
		return 0;
	}
	uint32_t f = vl_frame_get(e, true, &a, err);
	if (f == VL_NIL)
		return err ? err->code : VL_ENOMEM;
	count_fault(e, proc, FAULT_DEMAND_ZERO);
	/* Windows marks demand-zero pages dirty: they have no copy anywhere */
	return vl_map_private(e, proc, li, f, vpn, prot, write || e->dz_dirty, e->dz_dirty, &a, err);
}
