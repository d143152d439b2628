/* sim/tlb_inline.h - the TLB model's steps that the access loop inlines
 * (private to sim/; after sim/internal.h).
 *
 * The narrow lru fill of a known geometry (fill_v / fill_w, with the
 * victims' tournament over the use stamps; fill_two for both levels of
 * the two-level shape) and the retry of an access after fault_fast
 * resolved its fault on the default machine's shape (xl_retry_48s),
 * which sim/access.c's fault path runs inline instead of calling
 * sim/tlb.c's general retry.  sim/tlb.c's miss paths use the same fills.
 */
#ifndef VMLAB_SIM_TLB_INLINE_H
#define VMLAB_SIM_TLB_INLINE_H

#include "sim/internal.h"

/* The same for 4 and 8 ways as a tournament: pairs, then pairs of
 * winners (a tie goes to the lower way, as in the scan). */
static inline uint32_t pick(uint32_t x, uint32_t y, bool take_y)
{
	/* take_y ? y : x without a branch (which way is older is random: a
	 * branch here mispredicts about every other fill) */
	return x ^ ((x ^ y) & -(uint32_t)take_y);
}

static inline uint32_t oldest_pairs(const uint64_t *u, unsigned ways)
{
	uint32_t a = u[1] < u[0], b = 2 + (u[3] < u[2]);
	uint32_t ab = pick(a, b, u[b] < u[a]);
	if (ways == 4)
		return ab;
	uint32_t c = 4 + (u[5] < u[4]), d = 6 + (u[7] < u[6]);
	uint32_t cd = pick(c, d, u[d] < u[c]);
	return pick(ab, cd, u[cd] < u[ab]);
}

/* fill_one of a narrow lru structure of W ways (a constant) whose set
 * count is a power of two: the same steps with the loop bounds, masks
 * and the victim's tournament known to the compiler.  gen is xl->gen,
 * cnt the structure's filter counts (t->cnt), passed in so that a caller
 * filling two structures reads them once (count_key: add the new tag's
 * count here, else the caller does). */
static inline __attribute__((always_inline)) void fill_v(struct tlb *t, uint32_t gen, uint16_t *cnt,
							 uint64_t key, uint64_t bfp, uint64_t vpn,
							 uint32_t ref, uint64_t now, const unsigned W,
							 const bool count_key)
{
	uint32_t set = (uint32_t)vpn & t->set_mask, base = set * W;
	uint64_t s = t->live[set];
	const uint32_t full = (1u << W) - 1;
	uint32_t m = (uint32_t)(s >> 32) == gen ? (uint32_t)s : 0;
	uint32_t way;
	if (t->ord) {
		uint32_t o = t->ord[set];
		if (likely(m == full)) {
			way = o & 15;
			o = o >> 4 | way << (4 * (W - 1));
		} else {
			way = (uint32_t)__builtin_ctz(~m);
			o = xl_ord_front(o, way, W);
		}
		t->ord[set] = o;
	} else {
		way = m != full ? (uint32_t)__builtin_ctz(~m) : oldest_pairs(t->used + base, W);
	}
	t->live[set] = (uint64_t)gen << 32 | m | 1u << way;
	t->fp[base + way] = (uint8_t)bfp;
	if (cnt) {
		uint64_t old = t->tag[base + way];
		cnt[xl_bucket(old)] -= old != 0;
		if (count_key)
			cnt[xl_bucket(key)]++;
	}
	t->tag[base + way] = key;
	t->ref[base + way] = ref;
	t->used[base + way] = now;
	/* (last: read by the walk for walk caches only) */
}

static inline __attribute__((always_inline)) void fill_w(struct vl_xlat *xl, struct tlb *t,
							 uint64_t key, uint64_t bfp, uint64_t vpn,
							 uint32_t ref, uint64_t now, const unsigned W,
							 const bool count_key)
{
	fill_v(t, xl->gen, t->cnt, key, bfp, vpn, ref, now, W, count_key);
}

/* Both TLB levels of the two-level shape (t1 of W1 ways, t2 of W2) filled
 * with key, a 4 KiB translation through leaf li: fill_w of each, the
 * flush generation and the INVLPG filter read once (every TLB's cnt is
 * xl->inv_cnt), the filter's count of the new tag added once for both
 * (+2) after the victims' are taken off. */
static inline __attribute__((always_inline)) void fill_two(struct vl_xlat *xl, struct tlb *t1,
							   struct tlb *t2, uint64_t key, uint64_t vpn,
							   uint32_t li, uint64_t now, const unsigned W1,
							   const unsigned W2)
{
	const uint32_t gen = xl->gen;
	uint16_t *const cnt = xl->inv_cnt;
	const uint64_t bfp = xl_fp(key);
	fill_v(t1, gen, cnt, key, bfp, vpn, li, now, W1, false);
	fill_v(t2, gen, cnt, key, bfp, vpn, li, now, W2, false);
	if (cnt)
		cnt[xl_bucket(key)] += 2;
}

/* xl_miss_48s_retry after a fault that fault_fast resolved at leaf li,
 * where the faulting walk reached li: it hit or filled the PDE cache's
 * entry of va on the way (pde->last), and unless the fault took that
 * entry out (an INVLPG of a PDE, a flush, another fill) walk_std finds it
 * there again and descends one level to li.  Then only what that walk and
 * miss_two change is done here, in the same order: the PDE cache's use
 * stamp and recency list, the stop, the checks, the walk's counts, the
 * fills of both TLB levels.  Anything else (the entry gone, a leaf other
 * than li) goes to xl_miss_48s_retry, nothing changed before. */
static inline __attribute__((always_inline)) uint64_t xl_retry_48s(struct vl_engine *e, uint64_t va,
								     unsigned kd, bool write,
								     uint32_t li)
{
	struct vl_xlat *xl = &e->xl;
	struct tlb *const pde = &xl->psc[2];
	uint64_t *pt = e->pt.e;
	const uint64_t asid = xl->asid;
	const uint64_t v2 = (va >> 21) & ((1ull << 27) - 1);
	uint32_t g = pde->last;
	if (unlikely(pde->tag[g] != XL_KEY(asid, v2, 0) ||
		     PTE_FRAME(pt[pde->ref[g]]) * PT_ENTRIES + va_idx(va, 1) != li))
		return xl_miss_48s_retry(e, va, kd, write);
	/* walk_std's PDE-cache hit (its last way: pde->last stays) */
	const uint64_t now = e->time + 1;
	pde->used[g] = now;
	tlb_lru_front(pde, 0, g);
	/* std_end at the leaf, from level 1: no walk-cache fill */
	uint64_t ent = pt[li];
	xl->stop = li;
	xl->stop_level = 1;
	if (!(ent & PTE_P) || (write && !(ent & PTE_RW)) || (kd == XL_INSTR && (ent & PTE_NX)))
		return XL_FAULT;
	count_walk(e, 1);
	e->ctr.psc_hits++;
	/* miss_two's fills of a 4 KiB leaf */
	if (ent & PTE_A) {
		struct tlb *t1 = xl->fill[kd][0][0], *t2 = xl->fill[kd][0][1];
		const uint64_t vpn = (va >> 12) & ((1ull << 36) - 1);
		uint64_t key = XL_KEY(asid, vpn, 0) |
			       ((ent & (PTE_D | PTE_RW)) == (PTE_D | PTE_RW) ? XL_DIRTY : 0);
		fill_two(xl, t1, t2, key, vpn, li, now, 4, 8);
	}
	return XL_TRANSLATION(li, 12);
}

#endif
