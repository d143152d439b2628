/* sim/release.c - pages and page tables going away for good, and page
 * tables in frames.
 *
 * A page is released (T10 of reference notes A.4) when its range is
 * decommitted, unmapped, made inaccessible or its process exits, and when
 * khugepaged replaces it by a piece of a huge page: its frame goes back to
 * the buddy allocator (or, shared, loses a mapper), its page-file slot is
 * freed, and nothing is written.  The resident-set manager hears of every
 * valid mapping that goes (vl_rsm_ops.unmapped, .idle).
 *
 * With memory.pt_frames each page-table node occupies a frame of its own
 * (PFN_PT), taken when the node is created and freed with it.
 */
#include <string.h>

#include "sim/internal.h"

void vl_page_release(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn)
{
	uint64_t pte = e->pt.e[li];
	struct vl_proc *pr = &e->procs[proc];
	if (pte_large(pte)) {
		hp_release(e, proc, li);
		return;
	}
	if (pte & PTE_P) {
		uint32_t f = PTE_FRAME(pte);
		xl_invlpg_pte(e, proc, li);
		if (f == e->zero_frame)
			return;
		struct vl_pfn *p = &e->db.pfn[f];
		pr->ctr.resident_pages--;
		e->rsm->unmapped(e, proc, vpn, f);
		if (p->flags & PFN_F_PROTO) {
			if (pte & PTE_D)
				p->flags |= PFN_F_MODIFIED;
			if (p->aux > 0)
				p->aux--;
			if (p->aux == 0)
				e->rsm->idle(e, f); /* last mapper gone: cached (T13) */
			return;
		}
		if (p->slot != VL_NIL)
			pf_release(&e->pf, p->slot);
		pfn_free(&e->db, f, 0);
		e->resident--;
		return;
	}
	if (pte & SWPTE_PROTO)
		return;
	if (pte & SWPTE_TRANS) {
		uint32_t f = PTE_FRAME(pte);
		if (e->db.pfn[f].loc == PFN_SWAPCACHE) { /* linux: in the swap cache */
			uint32_t slot = e->db.pfn[f].slot;
			vl_swap_drop(e, f);
			pf_release(&e->pf, slot);
			pfn_free(&e->db, f, 0);
			return;
		}
		vl_unlist(e, f);
		if (e->db.pfn[f].slot != VL_NIL)
			pf_release(&e->pf, e->db.pfn[f].slot);
		pfn_free(&e->db, f, 0);
		return;
	}
	if (SWPTE_HAS_SLOT(pte))
		pf_release(&e->pf, SWPTE_SLOT(pte));
}

int vl_pt_frames(struct vl_engine *e, uint32_t proc, struct vl_error *err)
{
	if (!e->pt_frames)
		return 0;
	uint32_t created[4], n = e->pt.ncreated;
	memcpy(created, e->pt.created, sizeof(created));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t f = vl_frame_get(e, true, NULL, err);
		if (f == VL_NIL)
			return err ? err->code : VL_ENOMEM;
		struct vl_pfn *p = &e->db.pfn[f];
		p->loc = PFN_PT;
		p->pte = created[i];
		p->owner = proc;
		e->pt.frame[created[i]] = f;
		count_pt_page(e, +1);
		if (e->commit_pt)
			count_commit(e, proc, 1); /* page tables are charged (A.9) */
	}
	return 0;
}

void vl_pt_node_release(struct vl_engine *e, uint32_t node)
{
	if (e->pt.frame[node] != VL_NIL) {
		if (e->commit_pt)
			count_commit(e, e->db.pfn[e->pt.frame[node]].owner, -1);
		pfn_free(&e->db, e->pt.frame[node], 0);
		count_pt_page(e, -1);
	}
	pt_node_free(&e->pt, node);
}

void vl_pt_prune(struct vl_engine *e, uint32_t li)
{
	uint32_t node = li / PT_ENTRIES;
	while (e->pt.used[node] == 0 && e->pt.parent[node] != VL_NIL) {
		uint32_t up = e->pt.parent[node];
		vl_pt_node_release(e, node);
		pt_set(&e->pt, up, 0);
		node = up / PT_ENTRIES;
	}
}

void vl_pt_free_tree(struct vl_engine *e, uint32_t node, unsigned level)
{
	if (level > 1)
		for (uint32_t i = 0; i < PT_ENTRIES; i++) {
			uint64_t ent = e->pt.e[node * PT_ENTRIES + i];
			if (ent & PTE_P)
				vl_pt_free_tree(e, PTE_FRAME(ent), level - 1);
		}
	vl_pt_node_release(e, node);
}
