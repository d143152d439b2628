/* sim/tlb.h - TLB hierarchy and page-walk caches (private to sim/).
 *
 * A structure (struct tlb) is sets x ways of cached translations held in
 * flat arrays: a 64-bit tag per way, the arena index of the page-table
 * entry it caches, and the time of its last hit; a narrow set (at most 8
 * ways) also a fingerprint byte per way and a live-way mask (below), a
 * wide one a chain index and, under lru, a recency list.  The same structure
 * serves as a TLB level (caching leaf entries of 4 KiB, 2 MiB or 1 GiB
 * pages) and as a page-walk cache (PML4E, PDPTE, PDE: caching upper-level
 * entries, Intel's "paging-structure caches").
 *
 * Tag layout (0 = invalid way):
 *   bit 63      valid
 *   bits 39..62 address-space tag: the process index with tlb.pcid = on,
 *               else a flush generation (a context switch bumps it, which
 *               invalidates every entry at once)
 *   bits 3..38  virtual page number at the structure's page size
 *   bits 1..2   page size (0 4K, 1 2M, 2 1G)
 *   bit 0       dirty: the leaf entry was dirty and writable when cached
 *               (or a store through this entry dirtied it), so a store
 *               through it needs no page-table work; a store through a
 *               clean entry re-checks RW (copy-on-write) before setting D.  A lookup matches when
 *               (tag ^ key) < 2, so the dirty bit never affects a match.
 *
 * Invariants (vl_engine_check): every valid entry of the current address
 * space names, through ref, the present page-table entry that a walk of
 * its virtual page reaches at its level, and that entry's accessed bit is
 * set (clearing A invalidates); a dirty entry's page is dirty.
 * Fetches re-check NX on a hit (a unified entry may have been filled by a
 * load of a no-execute page).
 * So an entry never outlives its mapping: eviction, a cleared accessed bit,
 * a split or a collapse invalidate the translations they change (INVLPG).
 */
#ifndef VMLAB_SIM_TLB_H
#define VMLAB_SIM_TLB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vmlab/policy.h"

#define XL_VALID (1ull << 63)
#define XL_ASID_SHIFT 39
#define XL_ASID_MASK 0xffffffu
#define XL_DIRTY 1ull
#define XL_KEY(asid, vpn, sz) (XL_VALID | (asid) | ((uint64_t)(vpn) << 3) | ((uint64_t)(sz) << 1))
#define XL_NSIZES 3
#define XL_TWO_48 1
#define XL_TWO_48S 2 /* XL_TWO_48 with the default walk caches (xl->psc_std) */

enum { XL_DATA = 0, XL_INSTR = 1 };

struct tlb {
	uint64_t *tag;      /* sets * ways */
	uint32_t *ref;      /* arena index of the cached page-table entry */
	uint64_t *used;     /* time + 1 of the last fill or hit */
	uint64_t *synced;   /* per set: hits up to this time were told to the policy */
	uint32_t set_mask;  /* sets - 1 when sets is a power of two, else UINT32_MAX:
			     * a page's set is then vpn % sets */
	uint32_t sets;      /* entries / ways; any count (AMD Zen 4: 3072-entry L2 DTLBs) */
	uint32_t ways;
	/* wide sets (more than 8 ways): per set, a hash index of its ways by
	 * page number (the bits above the set index pick a chain: hint holds
	 * the first global way of each chain, hnext the next, XL_LRU_END ends
	 * them); every valid way is on the chain of its tag's page number, so
	 * a lookup, hit or miss, reads only that chain: no scan of the set */
	uint32_t *hint, *hnext;
	uint32_t hint_mask;
	uint8_t hint_bits, set_bits;
	/* wide sets under the built-in lru: the set's ways in recency order,
	 * a doubly linked list of global way indices per set, most recent at
	 * lru_head, the victim at lru_tail (invalidated ways go there), so a
	 * fill needs no scan.  The use stamps are kept as well; the checker
	 * verifies the two orders agree.  NULL otherwise. */
	uint32_t *lru_prev, *lru_next, *lru_head, *lru_tail;
	/* narrow sets (at most 8 ways): per set, the flush generation of its
	 * last fill in the high 32 bits and a bit per live way below (a way
	 * holding an entry of the current generation, or with PCIDs any
	 * entry), so a fill finds the first free way without reading tags;
	 * a set whose generation is not the current one has no live way.
	 * NULL for wide sets. */
	uint64_t *live;
	uint32_t full;      /* the mask of every way of a narrow set */
	/* narrow sets: a byte per way, xl_fp of the tag it held when filled
	 * (sets * ways bytes and 8 of padding), so a probe compares the
	 * set's bytes in one word and reads a tag only where one matches;
	 * fpmask has the top bit of each of the set's bytes */
	uint8_t *fp;
	uint64_t fpmask;
	/* narrow lru structures that no kind probes at its first level (the
	 * engine's first-level hit loops stamp used[] only): per set, its
	 * ways in recency order, a nibble each, nibble 0 the least recently
	 * filled or hit, nibble ways - 1 the most (xl_ord_front), so that the
	 * fill of a full set takes nibble 0 instead of comparing the ways'
	 * stamps (the same way: stamps are distinct within a structure, and
	 * every stamp moves its way to the top).  NULL otherwise. */
	uint32_t *ord;
	uint8_t sizes;      /* bit per page size held */
	uint8_t kinds;      /* bit XL_DATA / XL_INSTR served */
	uint8_t level;      /* configured level, 1 = first probed */
	bool native_lru;    /* the policy says VL_TLB_REPL_LRU: done inline from used[] */
	bool narrow_lru;    /* native_lru in narrow sets: filled inline (tlb.c fill_one) */
	bool fa_lru;        /* native_lru, wide, one set, no filter count: tlb.c fill_fa */
	uint64_t hits;      /* TLBs only (a walk cache's hits are counted nowhere: the
			     * walks that start below the root are e->ctr.psc_hits);
			     * a TLB's misses come from miss_upto (xl_counters) */
	uint16_t *cnt;      /* a TLB: the engine's INVLPG filter (vl_xlat.inv_cnt), kept
			     * up to date by every change of a tag; NULL for walk
			     * caches and when the filter is off */
	uint8_t dlevel[2];  /* per kind: its dense level index, 0xff when it serves not that kind */
	uint32_t last;      /* walk caches: global way of the last fill or hit, a way index,
			     * any content (the walk checks its tag first); only the walk
			     * reads it, and a TLB's need not be kept */
	const struct vl_tlb_repl_ops *ops;
	struct vl_tlb_repl repl;
	bool repl_live;
	char name[40];
	char cname[2][64];  /* "tlb_NAME_hits", "tlb_NAME_misses" */
	char chelp[2][112]; /* what they count, with the geometry */
};

/* One lookup a level makes: structure t for page size sz. */
struct xl_probe {
	struct tlb *t;
	uint8_t sz, shift;
	uint64_t vmask;     /* vpn bits at this size (48-bit VA) */
	uint64_t keysz;     /* XL_VALID | sz << 1 */
};

struct vl_engine;

struct vl_xlat {
	struct tlb *t;             /* configured TLB structures, by (level, name) */
	uint32_t nt;
	/* per access kind: probes ordered by level; level d (dense, from 0)
	 * spans probe[k][lvl[k][d] .. lvl[k][d+1]); its distinct structures
	 * are ltab[k][lt[k][d] .. lt[k][d+1]) */
	struct xl_probe *probe[2];
	uint32_t lvl[2][10], nlvl[2];
	struct tlb **ltab[2];
	uint32_t lt[2][10];
	/* fills: per kind and page size, the structures holding that size in
	 * level order; those of levels below d are fill[k][s][0 .. fend[k][s][d]) */
	struct tlb **fill[2][XL_NSIZES];
	uint32_t fend[2][XL_NSIZES][10];
	/* INVLPG: per page size, every structure holding it */
	struct tlb **inv[XL_NSIZES];
	uint32_t ninv[XL_NSIZES];
	/* INVLPG filter: per bucket (xl_bucket: low bits of the page
	 * number), how many ways of the TLBs hold a tag of that bucket, of
	 * any page size and address space, live or stale (every nonzero tag
	 * counts), so an INVLPG of a 4 KiB page whose bucket is 0 probes no
	 * 4 KiB structure.  NULL when the TLBs hold 65,535 entries or more
	 * (a bucket could overflow). */
	uint16_t *inv_cnt;
	struct tlb psc[3];         /* 0 PML4E (va >> 39), 1 PDPTE (>> 30), 2 PDE (>> 21) */
	bool psc_on[3], any_psc;
	bool psc_std;              /* the default machine's walk caches (tlb.c walk_std) */
	bool on;                   /* any TLB or walk cache configured */
	bool pcid;
	uint64_t asid;             /* current tag << XL_ASID_SHIFT */
	uint32_t gen;              /* flush generation (pcid off) */
	uint32_t cur_proc;         /* process the asid belongs to */
	uint32_t lp_live[XL_NSIZES]; /* mapped large pages by size: skip empty probes */
	uint64_t level_misses;     /* TLB levels missed, all accesses (cost model) */
	/* per kind, lookups that missed levels [0, d) and no more (a hit at
	 * level d, or d = the level count: a walk), so one increment counts a
	 * lookup; the misses of a structure at dense level l are the sum over
	 * d > l (xl_counters) */
	uint64_t miss_upto[2][10];
	/* per kind: XL_TWO_48 when its TLBs have the shape tlb.c's miss_two
	 * serves (two levels, one 4 KiB structure each, narrow lru, 4 and 8
	 * ways), else 0 */
	uint8_t two[2];
	uint32_t pt_frees;         /* e->pt.frees at the last flush */
	uint32_t stop;             /* where the last faulting walk stopped: entry index */
	unsigned stop_level;       /* and its level (4..1); the fault path goes on there */
	double cost_tlb_hit, cost_tlb_miss, cost_walk_ref, cost_dirty, cost_flush, cost_fault,
		cost_zero, cost_copy, cost_pf_read, cost_pf_write;
};

/* Build the hierarchy and walk caches from e->cfg.  0 or VL_EINVAL naming
 * the key / VL_ENOMEM. */
int xl_init(struct vl_engine *e, struct vl_error *err);
void xl_fini(struct vl_xlat *xl);

#define XL_LRU_END UINT32_MAX

static inline void tlb_lru_unlink(struct tlb *t, uint32_t set, uint32_t g)
{
	uint32_t p = t->lru_prev[g], n = t->lru_next[g];
	if (p != XL_LRU_END)
		t->lru_next[p] = n;
	else
		t->lru_head[set] = n;
	if (n != XL_LRU_END)
		t->lru_prev[n] = p;
	else
		t->lru_tail[set] = p;
}

/* Global way g of set becomes the most recently used. */
static inline void tlb_lru_front(struct tlb *t, uint32_t set, uint32_t g)
{
	uint32_t h = t->lru_head[set];
	if (h == g)
		return;
	tlb_lru_unlink(t, set, g);
	t->lru_prev[g] = XL_LRU_END;
	t->lru_next[g] = h;
	t->lru_prev[h] = g;
	t->lru_head[set] = g;
}

/* Global way g of set becomes the next victim (it was invalidated). */
static inline void tlb_lru_back(struct tlb *t, uint32_t set, uint32_t g)
{
	uint32_t tl = t->lru_tail[set];
	if (tl == g)
		return;
	tlb_lru_unlink(t, set, g);
	t->lru_next[g] = XL_LRU_END;
	t->lru_prev[g] = tl;
	t->lru_next[tl] = g;
	t->lru_tail[set] = g;
}

/* The set of page vpn: its low bits (the mask fast path), or vpn modulo
 * the set count where that is not a power of two. */
static inline uint32_t tlb_set(const struct tlb *t, uint64_t vpn)
{
	uint32_t m = t->set_mask; /* one load on the fast path */
	if (__builtin_expect(m == UINT32_MAX, 0))
		return (uint32_t)(vpn % t->sets);
	return (uint32_t)vpn & m;
}

#define XL_BUCKETS (1u << 14)

/* The INVLPG filter's bucket of a tag, or of a 4 KiB page number
 * vpn as xl_bucket(vpn << 3): the low bits of the tag's page number. */
static inline uint32_t xl_bucket(uint64_t tag)
{
	return (uint32_t)(tag >> 3) & (XL_BUCKETS - 1);
}

/* A way of t held tag old (0: none) and now holds tag key (not 0): the filter's
 * counts follow (branch-free: an invalid old tag takes 0 off bucket 0). */
static inline void xl_cnt_swap(struct tlb *t, uint64_t old, uint64_t key)
{
	uint16_t *c = t->cnt;
	if (!c)
		return;
	c[xl_bucket(old)] -= old != 0;
	c[xl_bucket(key)]++;
}

/* Recency word o of a set of `ways` ways with way w moved to the top:
 * its nibble (the lowest nibble equal to w: exact, no borrow reaches
 * below it) leaves, the nibbles above it move down one. */
static inline uint32_t xl_ord_front(uint32_t o, uint32_t w, unsigned ways)
{
	uint32_t x = o ^ (w * 0x11111111u);
	unsigned p = (unsigned)__builtin_ctz((x - 0x11111111u) & ~x & 0x88888888u) & ~3u;
	uint64_t lo = o & ((1u << p) - 1), hi = (uint64_t)o >> (p + 4);
	return (uint32_t)(lo | hi << p | (uint64_t)w << (4 * (ways - 1)));
}

/* The page number's bits above its set index (vpn / sets). */
static inline uint64_t tlb_above(const struct tlb *t, uint64_t vpn)
{
	if (__builtin_expect(t->set_mask == UINT32_MAX, 0))
		return vpn / t->sets;
	return vpn >> t->set_bits;
}

/* A hit on global way g holding page vpn: stamp it (all structures) and,
 * in a wide lru set, move it to the front of its list. */
static inline void tlb_touch(struct tlb *t, uint64_t vpn, uint32_t g, uint64_t now)
{
	t->used[g] = now;
	if (t->lru_next)
		tlb_lru_front(t, tlb_set(t, vpn), g);
}

/* The chain head of page vpn in a wide structure. */
static inline uint32_t *tlb_hint(const struct tlb *t, uint64_t vpn)
{
	return &t->hint[((size_t)tlb_set(t, vpn) << t->hint_bits) |
			(tlb_above(t, vpn) & t->hint_mask)];
}

/* Take global way g off its chain (before its tag changes). */
static inline void tlb_chain_del(struct tlb *t, uint32_t g)
{
	uint64_t old = t->tag[g];
	if (!old)
		return; /* an invalid way is on no chain */
	uint32_t *pp = tlb_hint(t, (old >> 3) & ((1ull << 36) - 1));
	while (*pp != g)
		pp = &t->hnext[*pp];
	*pp = t->hnext[g];
}

/* Put global way g, now holding page vpn, on its chain. */
static inline void tlb_chain_add(struct tlb *t, uint32_t g, uint64_t vpn)
{
	uint32_t *h = tlb_hint(t, vpn);
	t->hnext[g] = *h;
	*h = g;
}

/* A tag's fingerprint: 8 bits of a multiplicative hash of everything
 * but its dirty bit, repeated in every byte of the result.  Equal tags
 * (but for D) have equal fingerprints; the converse is checked on the
 * tag itself. */
static inline uint64_t xl_fp(uint64_t key)
{
	return (((key >> 1) * 0x9E3779B97F4A7C15ull) >> 56) * 0x0101010101010101ull;
}

/* The ways of a narrow set at base whose fingerprint byte is the one
 * repeated in bfp: the top bit of each such byte (exact: no carries
 * between bytes). */
static inline uint64_t tlb_fp_match(const struct tlb *t, uint32_t base, uint64_t bfp)
{
	uint64_t w;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(&w, t->fp + base, 8);
#else
	w = 0;
	for (unsigned b = 0; b < 8; b++)
		w |= (uint64_t)t->fp[base + b] << (8 * b);
#endif
	const uint64_t lo7 = 0x7f7f7f7f7f7f7f7full;
	uint64_t x = w ^ bfp;
	return ~(((x & lo7) + lo7) | x | lo7) & t->fpmask;
}

/* tlb_find in a narrow set, with the key's xl_fp. */
static inline int64_t tlb_find_narrow(const struct tlb *t, uint64_t key, uint64_t vpn, uint64_t bfp)
{
	uint32_t base = tlb_set(t, vpn) * t->ways;
	for (uint64_t m = tlb_fp_match(t, base, bfp); m; m &= m - 1) {
		uint32_t g = base + (uint32_t)__builtin_ctzll(m) / 8;
		if ((t->tag[g] ^ key) < 2)
			return (int64_t)g;
	}
	return -1;
}

/* Position of the way holding key in t, or -1: the fingerprint word of a
 * narrow set, the chain of a wide one.  (The first-level probes of the
 * engine, sim/access.c, compare a small set's tags without an early exit
 * instead: which way matches is random, and a mispredicted exit costs
 * more than the few extra compares.) */
static inline int64_t tlb_find(const struct tlb *t, uint64_t key, uint64_t vpn)
{
	if (t->ways <= 8)
		return tlb_find_narrow(t, key, vpn, xl_fp(key));
	for (uint32_t g = *tlb_hint(t, vpn); g != XL_LRU_END; g = t->hnext[g])
		if ((t->tag[g] ^ key) < 2)
			return (int64_t)g;
	return -1;
}

/* Translate va after a first-level miss: probe the lower levels, walk
 * with the walk caches, fill.  Returns XL_TRANSLATION(leaf entry's arena
 * index, page shift), or XL_FAULT when the walk found a non-present entry
 * (the walk is not counted).  retry: the same access again after its
 * fault: each access counts one lookup, so the levels are not probed (nor
 * counted) a second time. */
#define XL_FAULT UINT64_MAX
#define XL_TRANSLATION(li, shift) ((uint64_t)(shift) << 32 | (li))
uint64_t xl_miss(struct vl_engine *e, uint64_t va, unsigned kind, bool write, bool retry);
/* xl_miss where xl->two[kind] is XL_TWO_48 and no large page is mapped
 * (the engine's loop tests that itself and calls these directly). */
uint64_t xl_miss_48(struct vl_engine *e, uint64_t va, unsigned kind, bool write);
uint64_t xl_miss_48_retry(struct vl_engine *e, uint64_t va, unsigned kind, bool write);
/* the same where xl->two[kind] is XL_TWO_48S */
uint64_t xl_miss_48s(struct vl_engine *e, uint64_t va, unsigned kind, bool write);
uint64_t xl_miss_48s_retry(struct vl_engine *e, uint64_t va, unsigned kind, bool write);

/* Switch the current address space to process proc (flushes without PCID). */
void xl_switch(struct vl_engine *e, uint32_t proc);

/* INVLPG: drop every cached translation of 4 KiB page vpn of process proc
 * (of any page size covering it). */
void xl_invlpg(struct vl_engine *e, uint32_t proc, uint64_t vpn);

/* INVLPG for the leaf entry at arena index li (its page number comes from
 * the page-table parents). */
void xl_invlpg_pte(struct vl_engine *e, uint32_t proc, uint32_t li);

/* Drop every cached translation and walk-cache entry: page-table nodes
 * were freed (their indices may come back for other addresses), as an OS
 * flushes when it frees page tables. */
void xl_flush_all(struct vl_engine *e);

/* Drop the PDE walk-cache entry for the 2 MiB range of vpn (its PDE changed). */
void xl_inval_pde(struct vl_engine *e, uint32_t proc, uint64_t vpn);

/* Dynamic counters (two per TLB structure). */
size_t xl_counters(const struct vl_xlat *xl, const char **names, uint64_t *values, size_t max);
/* Description of dynamic counter i, or NULL past the end. */
const char *xl_counter_help(const struct vl_xlat *xl, size_t i);

/* Check the invariants above; 0 or VL_ESTATE. */
int xl_check(struct vl_engine *e, struct vl_error *err);

#endif
