/* sim/pagefile.c - page-file slot allocation.
 *
 * Slots are handed out lowest-never-used first, freed slots reused LIFO.
 * A limit of 0 means the page file grows without bound (textbook runs).
 *
 * With the linux swap cache (pf->clustered) slots are handed out in the
 * order of Linux 6.18's allocator for a rotational swap device without
 * discard (mm/swapfile.c: cluster_alloc_swap_entry, alloc_swap_scan_cluster,
 * relocate_cluster, partial_free_cluster; order-0 pages), which decides
 * which pages share an aligned block of slots and so what swap cluster
 * readahead reads.  Linux numbers slots by offset, 0 being the swap header
 * (our slot s is offset s + 1), and groups them in clusters of PF_CLUSTER
 * offsets.  A cluster is on one of four lists, or on none (PF_NONE):
 *   free     no slot in use; never-used clusters come first, in index
 *            order (swapon puts them there so), then clusters that became
 *            empty, in the order they did (appended at the tail);
 *   nonfull  a slot of it was freed while it was not on this list (a
 *            cluster moves to the tail of this list then);
 *   frag     allocated from, neither empty nor full (moved to the tail
 *            after an allocation, if it is not there already);
 *   full     every slot in use.
 * Cluster 0 starts on nonfull, its offset 0 (the header) in use.  One
 * allocation:
 *   1. the cursor (global_cluster->next): scan its cluster upward from the
 *      cursor (from the cluster's start if the cluster is empty) for a
 *      free slot;
 *   2. else take the first nonfull cluster off its list and scan it from
 *      its start, as long as there are nonfull clusters (non-discarding
 *      devices prefer nonfull over free clusters, since 6.18);
 *   3. else the first free cluster;
 *   4. else the first frag cluster.
 * A scan that finds a slot sets the cursor to the next offset if the
 * cluster is not full and that offset is inside it, else to none; a scan
 * that finds none sets it to none.  After every scan the cluster goes to
 * free (empty), frag (partly used) or full, unless it is on that list
 * already.  Freeing a slot moves its cluster to the tail of free when it
 * becomes empty, else to the tail of nonfull unless it is on nonfull.
 * Not modelled: slots whose page is only in the swap cache are reclaimed
 * for allocation when swap is more than half full (vm_swap_full), and
 * per-CPU clusters (solid-state devices).
 */
#include <stdlib.h>
#include <string.h>

#include "sim/internal.h"

static void cl_del(struct vl_pagefile *pf, uint32_t c)
{
	struct pf_cluster *x = &pf->cl[c];
	if (x->flag == PF_NONE)
		return;
	struct pf_clist *l = &pf->lists[x->flag];
	if (x->prev != VL_NIL)
		pf->cl[x->prev].next = x->next;
	else
		l->head = x->next;
	if (x->next != VL_NIL)
		pf->cl[x->next].prev = x->prev;
	else
		l->tail = x->prev;
	x->prev = x->next = VL_NIL;
	x->flag = PF_NONE;
}

/* Move cluster c to the tail of list `to` (list_move_tail). */
static void cl_move_tail(struct vl_pagefile *pf, uint32_t c, uint8_t to)
{
	cl_del(pf, c);
	struct pf_cluster *x = &pf->cl[c];
	struct pf_clist *l = &pf->lists[to];
	x->flag = to;
	x->prev = l->tail;
	x->next = VL_NIL;
	if (l->tail != VL_NIL)
		pf->cl[l->tail].next = c;
	else
		l->head = c;
	l->tail = c;
}

/* The total of clusters the page file may have (its limit in slots, plus
 * the header), or UINT32_MAX / PF_CLUSTER unbounded. */
static uint32_t cl_total(const struct vl_pagefile *pf)
{
	if (!pf->limit)
		return (VL_NIL - 1) / PF_CLUSTER;
	return (uint32_t)(((uint64_t)pf->limit + 1 + PF_CLUSTER - 1) / PF_CLUSTER);
}

/* Make cluster c (the next never-used one, c == ncl) exist: PF_NONE, its
 * slots free (offset 0 of cluster 0: the header).  -1 out of memory. */
static int cl_add(struct vl_pagefile *pf)
{
	uint32_t c = pf->ncl;
	if (grow_array(&pf->cl, c, &pf->cl_cap, sizeof(*pf->cl), 16) < 0)
		return -1;
	uint32_t slots = (c + 1) * PF_CLUSTER - 1; /* model slots of clusters 0..c */
	while (pf->inuse_cap < slots)
		if (grow_array(&pf->inuse, pf->inuse_cap, &pf->inuse_cap, 1, 4096) < 0)
			return -1;
	memset(pf->inuse + (c ? c * PF_CLUSTER - 1 : 0), 0, c ? PF_CLUSTER : PF_CLUSTER - 1);
	pf->cl[c] = (struct pf_cluster){ .prev = VL_NIL, .next = VL_NIL, .count = c ? 0 : 1,
					 .flag = PF_NONE };
	pf->ncl = c + 1;
	pf->next = slots;
	return 0;
}

/* isolate_lock_cluster: the first cluster of list l, taken off it; the
 * free list yields the never-used clusters first.  VL_NIL when none. */
static uint32_t cl_isolate(struct vl_pagefile *pf, uint8_t l)
{
	uint32_t c = pf->lists[l].head;
	if (l == PF_FREE && pf->ncl < cl_total(pf)) {
		if (cl_add(pf) < 0)
			return VL_NIL;
		return pf->ncl - 1;
	}
	if (c != VL_NIL)
		cl_del(pf, c);
	return c;
}

/* relocate_cluster: after a scan, c goes to free, frag or full. */
static void cl_relocate(struct vl_pagefile *pf, uint32_t c)
{
	struct pf_cluster *x = &pf->cl[c];
	uint8_t to = !x->count ? PF_FREE : x->count == PF_CLUSTER ? PF_FULL : PF_FRAG;
	if (x->flag != to)
		cl_move_tail(pf, c, to);
}

/* alloc_swap_scan_cluster: the first free offset of cluster c at or
 * after off, allocated; the cursor follows.  0 when none. */
static uint32_t cl_scan(struct vl_pagefile *pf, uint32_t c, uint32_t off)
{
	struct pf_cluster *x = &pf->cl[c];
	uint32_t end = (c + 1) * PF_CLUSTER; /* exclusive */
	uint32_t found = 0, next = 0;
	if (pf->limit && end > pf->limit + 1)
		end = pf->limit + 1;
	if (x->count < PF_CLUSTER)
		for (uint32_t o = off ? off : 1; o < end; o++)
			if (!pf->inuse[o - 1]) {
				pf->inuse[o - 1] = 1;
				x->count++;
				found = o;
				if (x->count < PF_CLUSTER && o + 1 < end)
					next = o + 1;
				break;
			}
	cl_relocate(pf, c);
	pf->cursor = next;
	return found;
}

/* cluster_alloc_swap_entry for one page: a slot, or VL_NIL. */
static uint32_t alloc_clustered(struct vl_pagefile *pf)
{
	uint32_t found = 0;
	if (!pf->ncl) { /* swapon: cluster 0 holds the header */
		if (cl_add(pf) < 0)
			return VL_NIL;
		cl_move_tail(pf, 0, PF_NONFULL);
	}
	if (pf->cursor) {
		uint32_t c = pf->cursor / PF_CLUSTER;
		uint32_t off = pf->cl[c].count ? pf->cursor : c * PF_CLUSTER;
		if (pf->cl[c].flag != PF_FULL)
			found = cl_scan(pf, c, off);
	}
	for (uint32_t c; !found && (c = cl_isolate(pf, PF_NONFULL)) != VL_NIL;)
		found = cl_scan(pf, c, c * PF_CLUSTER);
	if (!found) {
		uint32_t c = cl_isolate(pf, PF_FREE);
		if (c != VL_NIL)
			found = cl_scan(pf, c, c * PF_CLUSTER);
	}
	if (!found) {
		uint32_t c = cl_isolate(pf, PF_FRAG);
		if (c != VL_NIL)
			found = cl_scan(pf, c, c * PF_CLUSTER);
	}
	if (!found)
		return VL_NIL;
	pf->used++;
	return found - 1;
}

static void release_clustered(struct vl_pagefile *pf, uint32_t slot)
{
	uint32_t c = (slot + 1) / PF_CLUSTER;
	pf->inuse[slot] = 0;
	pf->used--;
	if (!--pf->cl[c].count)
		cl_move_tail(pf, c, PF_FREE); /* free_cluster */
	else if (pf->cl[c].flag != PF_NONFULL)
		cl_move_tail(pf, c, PF_NONFULL); /* partial_free_cluster */
}

uint32_t pf_alloc(struct vl_pagefile *pf)
{
	uint32_t s;
	if (pf->clustered)
		return alloc_clustered(pf);
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
	if (pf->clustered) {
		release_clustered(pf, slot);
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
	free(pf->cl);
	pf->cl = NULL;
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
