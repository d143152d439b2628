/* sim/pagefile.c - page-file slot allocation.
 *
 * Slots are handed out lowest-never-used first, freed slots reused LIFO.
 * A limit of 0 means the page file grows without bound (textbook runs).
 *
 * With the linux swap cache (pf->next_fit) slots are handed out in
 * Linux's order instead: upward from a cursor (mm/swapfile.c allocates
 * each CPU's pages from the free slots of its current cluster, in offset
 * order, then moves to a free cluster), so pages written one after
 * another get neighbouring slots; the cursor wraps to the start when the
 * page file is at its limit or at least half of the slots below `next`
 * are free, else the page file grows.  Cluster readahead depends on this
 * order; the counts of the other personalities do not.
 */
#include <stdlib.h>

#include "sim/internal.h"

/* Next fit: the first free slot at or after the cursor. */
static uint32_t alloc_next_fit(struct vl_pagefile *pf)
{
	uint32_t s = VL_NIL;
	bool full = (pf->limit && pf->next >= pf->limit) || pf->next == VL_NIL - 1;
	uint32_t nfree = pf->next - pf->used;
	if (pf->cursor >= pf->next && nfree && (full || nfree >= pf->next / 2))
		pf->cursor = 0; /* wrap: reuse the holes */
	for (uint32_t i = pf->cursor; i < pf->next; i++)
		if (!pf->inuse[i]) {
			s = i;
			break;
		}
	if (s == VL_NIL && nfree && full)
		for (uint32_t i = 0; i < pf->cursor && i < pf->next; i++)
			if (!pf->inuse[i]) {
				s = i;
				break;
			}
	if (s == VL_NIL) {
		if (full || grow_array(&pf->inuse, pf->next, &pf->inuse_cap, 1, 4096) < 0)
			return VL_NIL;
		s = pf->next++;
	}
	pf->inuse[s] = 1;
	pf->cursor = s + 1;
	pf->used++;
	return s;
}

uint32_t pf_alloc(struct vl_pagefile *pf)
{
	uint32_t s;
	if (pf->next_fit)
		return alloc_next_fit(pf);
	if (pf->nfree) {
		s = pf->free[--pf->nfree];
	} else {
		if ((pf->limit && pf->next >= pf->limit) || pf->next == VL_NIL - 1)
			return VL_NIL;
		s = pf->next++;
	}
	pf->used++;
	return s;
}

void pf_release(struct vl_pagefile *pf, uint32_t slot)
{
	if (pf->next_fit) {
		pf->inuse[slot] = 0;
		pf->used--;
		return;
	}
	if (grow_array(&pf->free, pf->nfree, &pf->free_cap, sizeof(*pf->free), 1024) < 0) {
		pf->used--; /* leak the slot rather than fail: it only costs space */
		return;
	}
	pf->free[pf->nfree++] = slot;
	pf->used--;
}

void pf_fini(struct vl_pagefile *pf)
{
	free(pf->free);
	free(pf->inuse);
	pf->inuse = NULL;
	pf->free = NULL;
	pf->nfree = pf->free_cap = 0;
}

/* ---- the page file as Windows keeps it (reference notes A.8, A.9) ----
 *
 * The commit limit is the frames plus the page file's current size; a
 * commit that would pass it first grows the page file (by what it needs,
 * at least an eighth of its size, as Windows extends in steps) up to
 * pagefile.max, and only then fails.  A write that finds no free slot
 * grows the page file too; at its maximum, it takes the slot of a
 * resident page whose copy is not needed (the page then counts as
 * modified and is written again when it leaves memory), so a run never
 * stops on a full page file while its commit charge fits the limit. */

bool vl_pagefile_grow(struct vl_engine *e, uint64_t pages)
{
	struct vl_pagefile *pf = &e->pf;
	if (!pf->limit || pf->limit >= e->pf_max)
		return false;
	uint64_t step = pages > pf->limit / 8 ? pages : pf->limit / 8;
	uint64_t to = (uint64_t)pf->limit + step;
	pf->limit = (uint32_t)(to < e->pf_max ? to : e->pf_max);
	e->commit_limit = (uint64_t)e->db.nframes + pf->limit;
	return true;
}

bool vl_commit_charge(struct vl_engine *e, uint32_t proc, uint64_t pages)
{
	if (!e->overcommit && e->commit + pages > e->commit_limit &&
	    (!vl_pagefile_grow(e, e->commit + pages - e->commit_limit) ||
	     e->commit + pages > e->commit_limit)) {
		e->ctr.commit_failures++;
		return false;
	}
	count_commit(e, proc, (int64_t)pages);
	return true;
}

bool vl_commit_charge_section(struct vl_engine *e, uint64_t pages)
{
	if (!e->overcommit && e->commit + pages > e->commit_limit &&
	    (!vl_pagefile_grow(e, e->commit + pages - e->commit_limit) ||
	     e->commit + pages > e->commit_limit)) {
		e->ctr.commit_failures++;
		return false;
	}
	e->commit += pages;
	e->commit_sections += pages;
	if (e->commit > e->ctr.commit_peak)
		e->ctr.commit_peak = e->commit;
	return true;
}

bool vl_pagefile_steal(struct vl_engine *e, uint32_t except)
{
	for (uint32_t n = 0; n < e->db.nframes; n++) {
		uint32_t f = e->pf_steal++;
		if (e->pf_steal >= e->db.nframes)
			e->pf_steal = 0;
		struct vl_pfn *p = &e->db.pfn[f];
		if (f == except || p->loc != PFN_ACTIVE || p->slot == VL_NIL ||
		    (p->flags & PFN_F_LARGE))
			continue;
		pf_release(&e->pf, p->slot);
		p->slot = VL_NIL;
		p->flags |= PFN_F_MODIFIED;
		return true;
	}
	return false;
}
