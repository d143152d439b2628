/* sim/pfn.c - the physical frame database and its buddy allocator.
 *
 * One struct vl_pfn per frame.  Free memory is held by a binary buddy
 * allocator (Knowlton 1965; the Linux zone allocator's shape): free blocks
 * of 2^order frames, naturally aligned, on one doubly linked list per order,
 * threaded through pfn[].flink/blink by frame index.  Only a block's first
 * frame (PFN_F_HEAD) carries the order; the other frames of a free block
 * are PFN_FREE without the head flag.
 *
 * Allocation takes the smallest order that fits and splits it, returning
 * the upper halves; freeing coalesces with the buddy (f ^ 2^order) while
 * the buddy is a free head of the same order.  So contiguous 2 MiB (order 9)
 * and 1 GiB (order 18) blocks exist only while memory is unfragmented, as
 * on a real machine.  A frame count that is not a power of two is carved
 * into the largest aligned blocks that fit.
 *
 * Invariant: nfree == sum over orders of count[o] << o.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sim/internal.h"

static void list_push(struct vl_pfndb *db, uint32_t f, unsigned order)
{
	struct vl_pfn *p = &db->pfn[f];
	p->loc = PFN_FREE;
	p->flags |= PFN_F_HEAD;
	p->aux = (uint16_t)order;
	p->blink = VL_NIL;
	p->flink = db->head[order];
	if (p->flink != VL_NIL)
		db->pfn[p->flink].blink = f;
	db->head[order] = f;
	db->count[order]++;
}

static void list_del(struct vl_pfndb *db, uint32_t f)
{
	struct vl_pfn *p = &db->pfn[f];
	if (p->blink != VL_NIL)
		db->pfn[p->blink].flink = p->flink;
	else
		db->head[p->aux] = p->flink;
	if (p->flink != VL_NIL)
		db->pfn[p->flink].blink = p->blink;
	db->count[p->aux]--;
	p->flags &= (uint16_t)~PFN_F_HEAD;
	p->flink = p->blink = VL_NIL;
}

void vl_advise_huge(void *p, size_t bytes)
{
	const uintptr_t huge = 2u << 20;
	uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1), hi = ((uintptr_t)p + bytes) & ~(huge - 1);
	if (p && hi > lo)
		madvise((void *)lo, hi - lo, MADV_HUGEPAGE); /* a hint: failure changes nothing */
}

int pfn_init(struct vl_pfndb *db, uint32_t nframes, uint32_t nextra, struct vl_error *err)
{
	memset(db, 0, sizeof(*db));
	if (nframes == 0 || nframes >= VL_NIL || nextra >= VL_NIL - nframes)
		return vl_err(err, VL_EINVAL, "memory.frames: %u frames is out of range",
			      nframes + nextra);
	uint32_t all = nframes + nextra;
	db->pfn = calloc(all, sizeof(*db->pfn));
	if (!db->pfn)
		return vl_err(err, VL_ENOMEM, "out of memory for %u frame records", all);
	vl_advise_huge(db->pfn, (size_t)all * sizeof(*db->pfn));
	db->nframes = nframes;
	db->nextra = nextra;
	for (unsigned o = 0; o <= BUDDY_MAX_ORDER; o++)
		db->head[o] = VL_NIL;
	/* the extra frames' records are set as they are handed out
	 * (pfn_alloc_extra): the machine above a small limit can be large,
	 * and calloc's pages are not touched until then */
	for (uint32_t f = 0; f < nframes; f++) {
		db->pfn[f].slot = VL_NIL;
		db->pfn[f].flink = db->pfn[f].blink = VL_NIL;
		db->pfn[f].pte = VL_NIL;
		db->pfn[f].owner = VL_NIL;
		db->pfn[f].flags = PFN_F_ZEROED; /* memory starts zeroed */
	}
	/* Carve [0, nframes) into maximal aligned blocks, lowest addresses
	 * first; push in reverse so the lowest block of an order is allocated
	 * first (deterministic, address-ordered start). */
	uint32_t f = nframes;
	while (f > 0) {
		/* largest order o with the block [f - 2^o, f) aligned and in range */
		unsigned o = 0;
		while (o < BUDDY_MAX_ORDER && ((f - (1u << (o + 1))) & ((1u << (o + 1)) - 1)) == 0 &&
		       f >= (1u << (o + 1)))
			o++;
		f -= 1u << o;
		list_push(db, f, o);
		db->nfree += 1u << o;
	}
	db->nzeroed = nframes;
	return 0;
}

void pfn_fini(struct vl_pfndb *db)
{
	free(db->pfn);
	memset(db, 0, sizeof(*db));
}

uint32_t pfn_alloc(struct vl_pfndb *db, unsigned order)
{
	if (db->nfree < (1u << order))
		return VL_NIL; /* the common case when memory is full: no list scan */
	unsigned o = order;
	while (o <= BUDDY_MAX_ORDER && db->head[o] == VL_NIL)
		o++;
	if (o > BUDDY_MAX_ORDER)
		return VL_NIL;
	uint32_t f = db->head[o];
	list_del(db, f);
	while (o > order) { /* split: keep the lower half, free the upper */
		o--;
		list_push(db, f + (1u << o), o);
	}
	for (uint32_t i = 0; i < (1u << order); i++) {
		struct vl_pfn *p = &db->pfn[f + i];
		if (p->flags & PFN_F_ZEROED)
			db->nzeroed--;
		p->loc = PFN_ACTIVE;
		p->aux = 0;
	}
	db->nfree -= 1u << order;
	return f;
}

void pfn_free(struct vl_pfndb *db, uint32_t f, unsigned order)
{
	/* with nothing free before, no buddy can be free: no need to look
	 * at it (a cache miss on every eviction of a full memory) */
	bool alone = db->nfree == 0;
	db->nfree += 1u << order;
	for (uint32_t i = 0; i < (1u << order); i++) {
		struct vl_pfn *p = &db->pfn[f + i];
		p->loc = PFN_FREE;
		p->flags = 0; /* contents are garbage until zeroed */
		p->pte = VL_NIL;
		p->owner = VL_NIL;
		p->slot = VL_NIL;
		p->aux = 0;
	}
	while (!alone && order < BUDDY_MAX_ORDER) {
		uint32_t b = f ^ (1u << order);
		if (b >= db->nframes || b + (1u << order) > db->nframes)
			break;
		struct vl_pfn *bp = &db->pfn[b];
		if (bp->loc != PFN_FREE || !(bp->flags & PFN_F_HEAD) || bp->aux != order)
			break;
		list_del(db, b);
		f = f < b ? f : b;
		order++;
	}
	list_push(db, f, order);
}

uint32_t pfn_zero_free(struct vl_pfndb *db)
{
	uint32_t n = 0;
	for (unsigned o = 0; o <= BUDDY_MAX_ORDER; o++)
		for (uint32_t f = db->head[o]; f != VL_NIL; f = db->pfn[f].flink)
			for (uint32_t i = 0; i < (1u << o); i++)
				if (!(db->pfn[f + i].flags & PFN_F_ZEROED)) {
					db->pfn[f + i].flags |= PFN_F_ZEROED;
					n++;
				}
	db->nzeroed += n;
	return n;
}

int pfn_check(const struct vl_pfndb *db, struct vl_error *err)
{
	uint64_t total = 0;
	for (unsigned o = 0; o <= BUDDY_MAX_ORDER; o++) {
		uint32_t n = 0, prev = VL_NIL;
		for (uint32_t f = db->head[o]; f != VL_NIL; f = db->pfn[f].flink) {
			const struct vl_pfn *p = &db->pfn[f];
			if (p->loc != PFN_FREE || !(p->flags & PFN_F_HEAD) || p->aux != o ||
			    p->blink != prev || (f & ((1u << o) - 1)) != 0)
				return vl_err(err, VL_ESTATE,
					      "frame %u on the order-%u free list is not a "
					      "well-formed free block head", f, o);
			if (++n > db->count[o])
				break;
			prev = f;
		}
		if (n != db->count[o])
			return vl_err(err, VL_ESTATE, "order-%u free list holds %u blocks, count says %u",
				      o, n, db->count[o]);
		total += (uint64_t)n << o;
	}
	if (total != db->nfree)
		return vl_err(err, VL_ESTATE, "free lists hold %llu frames, nfree says %u",
			      (unsigned long long)total, db->nfree);
	return 0;
}
