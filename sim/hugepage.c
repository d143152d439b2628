/* sim/hugepage.c - the large-page machinery: one representation of a
 * 2 MiB / 1 GiB mapping, and the map (install), split, release and
 * deposit operations every large-page policy goes through.
 *
 * Representation (the x86 one).  A large page is one page-table entry with
 * PS set, a PDE for 2 MiB or a PDPTE for 1 GiB, pointing at a naturally
 * aligned buddy block of order 9 (18).  Its one A and one D bit are the
 * page's, as the hardware keeps them; its protection is the entry's
 * hardware bits plus bits 52..56, as for a 4 KiB PTE.  Every 4 KiB frame
 * of the block keeps its own frame-database record: ACTIVE, PFN_F_LARGE,
 * pte = the PS entry's arena index, aux = 9 (18) (| PFN_AUX_LOCKED for a
 * non-pageable page, unknown to the replacement policy), vpn = the 4 KiB
 * page it backs.  Counting stays in base pages.
 *
 * Who makes them (policies over this machinery):
 *   - the textbook largepage.* policies (sim/largepage.c): a fresh block
 *     at fault time (hp_install without a table), a reservation promoted
 *     in place, a populated range collapsed into a fresh block;
 *   - the linux THP rules (sim/thp.c): a fault-time THP and khugepaged's
 *     collapse first map the 512 frames as 4 KiB PTEs of the range's page
 *     table (so the resident-set manager hears each as it always did),
 *     then hp_install turns that table into the PS entry and deposits it.
 *
 * Deposits (Linux's pgtable_trans_huge_deposit).  A THP keeps the level-1
 * node that mapped its range (and, with memory.pt_frames, its frame),
 * emptied and unlinked, in hp_deposit[block]; splitting the page reuses it,
 * so making and splitting a THP neither allocates nor frees a page table,
 * and page-table counts are those of the range mapped by 4 KiB pages.
 * The textbook policies deposit nothing (a split allocates a node).
 *
 * Everything that works on 4 KiB PTEs splits a large page first when it
 * changes part of it (hp_leaf: eviction, trimming, mprotect, decommit),
 * as split_huge_pmd does; a page wholly decommitted is "zapped": split
 * without counting a split, then released page by page as before.  Reading
 * or clearing its accessed and dirty bits (policies, working-set aging,
 * the MMU model) works on the PS entry and never splits.  A process's exit
 * releases a large page whole (hp_release through vl_page_release).
 */
#include <stdlib.h>
#include <string.h>

#include "sim/internal.h"

int hp_init(struct vl_engine *e, struct vl_error *err)
{
	e->hp_deposit = calloc(e->db.nframes / PT_ENTRIES + 1, sizeof(*e->hp_deposit));
	if (!e->hp_deposit)
		return vl_err(err, VL_ENOMEM, "out of memory for page-table deposits");
	return 0;
}

void hp_fini(struct vl_engine *e)
{
	free(e->hp_deposit);
	e->hp_deposit = NULL;
}

void hp_install(struct vl_engine *e, uint32_t proc, uint32_t pde, uint32_t f0, unsigned order,
		uint64_t vpn0, uint64_t bits, uint16_t aux, uint8_t keep, uint32_t table, bool deposit)
{
	uint32_t n = 1u << order;
	for (uint32_t i = 0; i < n; i++) {
		struct vl_pfn *p = &e->db.pfn[f0 + i];
		p->pte = pde;
		p->owner = proc;
		p->slot = VL_NIL;
		p->aux = aux;
		p->flags = (uint8_t)((p->flags & keep) | PFN_F_LARGE);
	}
	if (table) {
		if (deposit) {
			memset(&e->pt.e[(size_t)table * PT_ENTRIES], 0, PT_ENTRIES * sizeof(uint64_t));
			e->pt.used[table] = 0;
			e->hp_deposit[f0 / PT_ENTRIES] = table;
		} else {
			vl_pt_node_release(e, table);
			e->xl.pt_frees = e->pt.frees; /* invalidated precisely: no flush for this free */
		}
	}
	pt_set(&e->pt, pde, PTE_MAKE(f0) | bits | PTE_PS);
	e->xl.lp_live[order == 9 ? 1 : 2]++;
	if (table) /* the walk cache's PDE entry named the table */
		xl_inval_pde(e, proc, vpn0);
}

int hp_split(struct vl_engine *e, uint32_t pde, bool count, struct vl_error *err)
{
	uint64_t ent = e->pt.e[pde];
	uint32_t f0 = PTE_FRAME(ent);
	const struct vl_pfn *p = &e->db.pfn[f0];
	unsigned order = PFN_LP_ORDER(p), sub = order - 9;
	uint16_t locked = p->aux & PFN_AUX_LOCKED;
	uint32_t proc = p->owner;
	uint64_t vpn0 = pfn_vpn(e, f0);
	uint32_t child = sub ? 0 : e->hp_deposit[f0 / PT_ENTRIES];
	if (child)
		e->hp_deposit[f0 / PT_ENTRIES] = 0;
	else if (!(child = pt_node_new(&e->pt)))
		return vl_err(err, VL_ENOMEM, "out of memory splitting a large page");
	uint64_t keep = ent & ~(PTE_FRAME_MASK | PTE_PS);
	for (uint32_t i = 0; i < PT_ENTRIES; i++) {
		uint32_t fi = f0 + (i << sub);
		pt_set(&e->pt, child * PT_ENTRIES + i, PTE_MAKE(fi) | keep | (sub ? PTE_PS : 0));
		for (uint32_t j = 0; j < (1u << sub); j++) {
			struct vl_pfn *q = &e->db.pfn[fi + j];
			q->pte = child * PT_ENTRIES + i;
			q->aux = sub ? (uint16_t)(sub | locked) : 0;
			if (!sub)
				q->flags &= (uint8_t)~PFN_F_LARGE;
		}
	}
	e->pt.parent[child] = pde;
	e->pt.base[child] = vpn0;
	e->pt.e[pde] = PTE_MAKE(child) | PT_UPPER;
	xl_invlpg(e, proc, vpn0);
	e->xl.lp_live[order == 9 ? 1 : 2]--;
	if (sub)
		e->xl.lp_live[1] += PT_ENTRIES;
	if (count)
		e->ctr.large_page_splits++;
	return 0;
}

uint32_t hp_leaf(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn, bool count)
{
	while (li != VL_NIL && pte_large(e->pt.e[li])) {
		if (hp_split(e, li, count, NULL) < 0)
			return VL_NIL;
		li = pt_walk(&e->pt, e->procs[proc].root, va_of(vpn));
	}
	return li;
}

void hp_release(struct vl_engine *e, uint32_t proc, uint32_t pde)
{
	uint32_t f0 = PTE_FRAME(e->pt.e[pde]);
	const struct vl_pfn *h = &e->db.pfn[f0];
	unsigned order = PFN_LP_ORDER(h);
	bool locked = (h->aux & PFN_AUX_LOCKED) != 0;
	uint64_t vpn0 = pfn_vpn(e, f0);
	uint32_t n = 1u << order;
	struct vl_proc *pr = &e->procs[proc];
	xl_invlpg(e, proc, vpn0);
	for (uint32_t i = 0; i < n; i++) {
		pr->ctr.resident_pages--;
		if (!locked)
			e->rsm->unmapped(e, proc, vpn0 + i, f0 + i);
		e->db.pfn[f0 + i].flags = 0;
		pfn_free(&e->db, f0 + i, 0);
		e->resident--;
	}
	if (order == 9 && e->hp_deposit[f0 / PT_ENTRIES]) {
		vl_pt_node_release(e, e->hp_deposit[f0 / PT_ENTRIES]);
		e->hp_deposit[f0 / PT_ENTRIES] = 0;
	}
	e->xl.lp_live[order == 9 ? 1 : 2]--;
	pt_set(&e->pt, pde, 0);
}

int hp_check(const struct vl_engine *e, struct vl_error *err)
{
	for (uint32_t b = 0; b < e->db.nframes / PT_ENTRIES; b++) {
		uint32_t node = e->hp_deposit[b], f0 = b * PT_ENTRIES;
		if (!node)
			continue;
		const struct vl_pfn *p = &e->db.pfn[f0];
		if (p->loc != PFN_ACTIVE || !(p->flags & PFN_F_LARGE) || PFN_LP_ORDER(p) != 9 ||
		    PTE_FRAME(e->pt.e[p->pte]) != f0 || !pte_large(e->pt.e[p->pte]))
			return vl_err(err, VL_ESTATE,
				      "page table %u is deposited for frame %u, which is not the "
				      "first frame of a mapped 2 MiB page",
				      node, f0);
		if (node >= e->pt.nnodes || e->pt.used[node] != 0 || e->pt.parent[node] != p->pte)
			return vl_err(err, VL_ESTATE,
				      "page table %u deposited for the 2 MiB page at frame %u is not "
				      "an empty table of its entry",
				      node, f0);
	}
	return 0;
}
