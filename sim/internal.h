/* sim/internal.h - what the engine's modules share and users must not see.
 *
 * Pieces of the model and how they link (all links are 32-bit indices):
 *
 *   proc[i].root ──▶ page-table node (512 uint64_t PTEs in the PT arena)
 *   non-leaf PTE  = P|RW|US|A | node << 12       (node index in the arena)
 *   leaf PTE      = P|RW|US|A|D | frame << 12    (real x86-64 bit layout)
 *   invalid PTE   = software format (Valid=0), after Windows MMPTE_SOFTWARE:
 *                   0 = never touched (demand zero); page-file slot + 1 in
 *                   bits 32..63; transition/prototype bits reserved.
 *   pfn[frame]    = { vpn, pte (arena index of the leaf mapping it), proc,
 *                     slot (page-file copy), list links, location }
 *
 * Invariants (checked by vl_engine_check):
 *   - a frame is FREE (owned by the buddy allocator) or ACTIVE (or on a
 *     page list, a page table, pinned, reserved, or in the linux swap
 *     cache unmapped: PFN_SWAPCACHE, named by its transition PTE);
 *   - an ACTIVE frame f has pt[pfn[f].pte] valid and pointing at f, and
 *     pfn[f].proc/vpn name the process and page that PTE translates;
 *   - free + active == nframes; active == pages the policy holds;
 *   - an extra frame (past nframes, memory outside memory.limit: a
 *     page-cache page charged to another cgroup) is an active shared
 *     page that no policy holds, mapped only by PTE_SW_NOPOLICY PTEs.
 */
#ifndef VMLAB_SIM_INTERNAL_H
#define VMLAB_SIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "vmlab/config.h"
#include "vmlab/counters.h"
#include "vmlab/engine.h"
#include "vmlab/error.h"
#include "vmlab/policy.h"
#include "vmlab/trace.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define VL_NIL UINT32_MAX /* null 32-bit index */

/* Make room for element n of the growable array *arr (elem bytes each,
 * *cap allocated): doubled when full, first elements at the start.
 * 0, or VL_ENOMEM with the array unchanged. */
static inline int grow_array(void *arr, uint32_t n, uint32_t *cap, size_t elem, uint32_t first)
{
	if (n < *cap)
		return 0;
	uint32_t ncap = *cap ? *cap * 2 : first;
	void *na = realloc(*(void **)arr, (size_t)ncap * elem);
	if (!na)
		return VL_ENOMEM;
	*(void **)arr = na;
	*cap = ncap;
	return 0;
}

/* Ask for transparent huge pages (madvise MADV_HUGEPAGE) on the 2 MiB
 * pages inside [p, p + bytes) of a large array just allocated (before it
 * is first written): the frame database and the page-table arena are
 * read at random, one TLB miss per access on 4 KiB pages.  Only a hint:
 * nothing changes where the host does not offer huge pages. */
void vl_advise_huge(void *p, size_t bytes);

/* "a, b, c": the names of the registered policies that at(0), at(1), ...
 * return (NULL ends them), into the char array buf. */
#define POLICY_NAMES(buf, at)                                                               \
	do {                                                                                \
		size_t used_ = 0;                                                           \
		(buf)[0] = 0;                                                               \
		for (size_t i_ = 0; at(i_) && used_ < sizeof(buf); i_++)                    \
			used_ += (size_t)snprintf((buf) + used_, sizeof(buf) - used_, "%s%s", \
						  i_ ? ", " : "", at(i_)->name);            \
	} while (0)

/* ---- x86-64 PTE bits (Intel SDM vol. 3, 4.5) ---- */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
#define PTE_FRAME_MASK 0x000ffffffffff000ull
#define PTE_FRAME(e) ((uint32_t)(((e) & PTE_FRAME_MASK) >> 12))
#define PTE_MAKE(frame) ((uint64_t)(frame) << 12)

/* Invalid-PTE software format (Valid = 0), Windows-like placement
 * (MMPTE_SOFTWARE / MMPTE_TRANSITION / MMPTE_PROTOTYPE, ReactOS mmtypes.h):
 *   bits 5..9   protection (enum vl_prot); 0 = none recorded
 *   bit 10      prototype: a view page, resolved through the VAD's section
 *   bit 11      transition: the frame (bits 12..51) is on standby/modified
 *   bits 32..63 page-file slot + 1 (when neither bit 10 nor 11 is set)
 * Decoding order: 0 = never touched (consult the VAD, or implicit commit);
 * prototype; transition; slot = paged out; protection only = committed
 * demand-zero; VL_PROT_GUARD alone (no access bits) = decommitted. */
#define SWPTE_PROTO (1ull << 10)
#define SWPTE_TRANS (1ull << 11)
#define SWPTE_SLOT(e) ((uint32_t)((e) >> 32) - 1u) /* valid if (e >> 32) != 0 */
#define SWPTE_HAS_SLOT(e) (((e) >> 32) != 0)
#define SWPTE_PAGEFILE(slot) ((uint64_t)((slot) + 1u) << 32)
#define SWPTE_PROT(e) ((unsigned)((e) >> 5) & 0x1f)
#define SWPTE_MKPROT(p) ((uint64_t)((p) & 0x1f) << 5)
#define SWPTE_DECOMMIT SWPTE_MKPROT(VL_PROT_GUARD)

/* A valid PTE keeps its page's protection in bits 52..56, which the MMU
 * ignores (Windows keeps its WS index there), so it survives trimming. */
#define VPTE_PROT(e) ((unsigned)((e) >> 52) & 0x1f)
#define VPTE_MKPROT(p) ((uint64_t)((p) & 0x1f) << 52)

static inline unsigned prot_access(unsigned p)
{
	return p & 7;
}
/* Writable, possibly through copy-on-write. */
static inline bool prot_writable(unsigned p)
{
	return prot_access(p) >= VL_PROT_READWRITE && p != VL_PROT_NOACCESS;
}
static inline bool prot_copy(unsigned p)
{
	return prot_access(p) == VL_PROT_WRITECOPY || prot_access(p) == VL_PROT_EXECUTE_WRITECOPY;
}
static inline bool prot_exec(unsigned p)
{
	unsigned a = prot_access(p);
	return p != VL_PROT_NOACCESS &&
	       (a == VL_PROT_EXECUTE || a == VL_PROT_EXECUTE_READ || a == VL_PROT_EXECUTE_READWRITE ||
		a == VL_PROT_EXECUTE_WRITECOPY);
}
/* Can the page be accessed at all (committed, not NOACCESS/decommitted)? */
static inline bool prot_usable(unsigned p)
{
	return prot_access(p) != 0 && p != VL_PROT_NOACCESS;
}
/* Hardware bits of a valid PTE for protection p (x86 cannot do
 * execute-only: readable whenever present).  Copy-on-write pages are
 * mapped read-only until the first write. */
static inline uint64_t prot_hw(unsigned p)
{
	uint64_t hw = PTE_P | PTE_US | VPTE_MKPROT(p);
	if (prot_writable(p) && !prot_copy(p))
		hw |= PTE_RW;
	if (!prot_exec(p))
		hw |= PTE_NX;
	return hw;
}

#define PT_ENTRIES 512
#define VA_BITS 48
#define VPN_MASK ((1ull << (VA_BITS - 12)) - 1)

/* The canonical virtual address of page vpn (bit 47 extended). */
static inline uint64_t va_of(uint64_t vpn)
{
	uint64_t va = vpn << VL_PAGE_SHIFT;
	if (va & (1ull << (VA_BITS - 1)))
		va |= ~((1ull << VA_BITS) - 1);
	return va;
}

/* Index of va's entry in a node of level 4 (PML4) .. 1 (page table). */
static inline unsigned va_idx(uint64_t va, unsigned level)
{
	return (unsigned)(va >> (12 + 9 * (level - 1))) & (PT_ENTRIES - 1);
}

/* ---- frame database ---- */

enum pfn_loc {
	PFN_FREE = 0,     /* in the buddy allocator (zeroed or not) */
	PFN_ACTIVE = 1,   /* mapped by a valid PTE (private) or by >= 1 (shared) */
	PFN_STANDBY = 2,  /* clean, backing copy current; transition PTE points here */
	PFN_MODIFIED = 3, /* dirty, must be written before reuse */
	PFN_PT = 4,       /* holds a page-table node */
	PFN_PINNED = 5,   /* held from the start by memory.fragmentation (unmovable) */
	PFN_RESERVED = 6, /* in a 2 MiB reservation, not yet mapped (sim/largepage.c) */
	PFN_SWAPCACHE = 7, /* linux swap cache (swap.cache): a private page read from its
			    * page-file slot and mapped by no PTE (readahead, not yet
			    * touched); its PTE is SWPTE_TRANS | frame, the policy holds
			    * it, slot/pte/owner are set (sim/swap.c) */
};

/* A frame's page is not stored: a private page's number follows from its
 * PTE's arena index (pt_vpn: the node's first page plus the slot; a large
 * page's from its PS entry and the frame's place in the block), a shared
 * page's index in its section is kept in pte (with e->proto_hi for
 * sections past 2^32 pages).  pfn_vpn reads either. */
struct vl_pfn {            /* 24 bytes */
	/* first: a record may straddle two cache lines (2 in 8 do), and a
	 * hit's list move touches only these, in the line the walk loop's
	 * prefetch of &pfn[f] brings */
	uint32_t flink, blink; /* buddy lists (FREE heads), standby/modified lists;
				* resident under the global manager: the policy's
				* list when the engine keeps it (e->elist_on) */
	uint32_t pte;      /* private: arena index of its leaf PTE (large page: of
			    * its PS entry); PT: node index; shared: page index in
			    * its section, low 32 bits */
	uint32_t owner;    /* private/PT: process index; shared: section index */
	uint32_t slot;     /* page-file slot holding a copy, VL_NIL if none */
	uint16_t aux;      /* FREE head: buddy order; shared: valid PTEs mapping it */
	uint8_t loc;       /* enum pfn_loc */
	uint8_t flags;     /* PFN_F_* | priority << 5 */
};
_Static_assert(sizeof(struct vl_pfn) == 24, "the frame record is 24 bytes");

#define PFN_F_HEAD 0x1     /* FREE: first frame of a free buddy block */
#define PFN_F_ZEROED 0x2   /* FREE: contents known zero */
#define PFN_F_MODIFIED 0x4 /* content differs from its backing copy */
#define PFN_F_PROTO 0x8    /* shared page of a section (prototype PTE) */
#define PFN_PRIO(p) ((unsigned)((p)->flags >> 5))
#define PFN_F_LARGE 0x10   /* ACTIVE private: part of a large page; pte names its PS
			    * entry, aux its order (9 or 18) | PFN_AUX_LOCKED */
/* PFN_SWAPCACHE: read by swap readahead and not used since (PG_readahead);
 * the priority bits it shares are the windows standby lists' only */
#define PFN_F_RA 0x20
#define PFN_AUX_LOCKED 0x8000 /* large page: non-pageable, unknown to the policy */
#define PFN_LP_ORDER(p) ((unsigned)((p)->aux & 0x1f))

#define BUDDY_MAX_ORDER 18 /* 2^18 pages = 1 GiB */

struct vl_pfndb {
	struct vl_pfn *pfn;
	uint32_t nframes;
	/* frames [nframes, nframes + nextra): memory outside a memory cgroup's
	 * limit (memory.limit below memory.frames), for page-cache pages that
	 * were cached before the run and so are charged to another cgroup
	 * (sim/section.c); handed out in order by pfn_alloc_extra, never
	 * freed: nothing the cgroup does reclaims them */
	uint32_t nextra, extra_used;
	uint32_t nfree;                       /* frames in the buddy allocator */
	uint32_t nzeroed;                     /* of which known zero */
	uint32_t head[BUDDY_MAX_ORDER + 1];   /* free block lists by order */
	uint32_t count[BUDDY_MAX_ORDER + 1];  /* blocks per order */
};

int pfn_init(struct vl_pfndb *db, uint32_t nframes, uint32_t nextra, struct vl_error *err);
void pfn_fini(struct vl_pfndb *db);
/* Allocate a 2^order block; returns its first frame or VL_NIL.  The
 * frames' PFN_F_ZEROED flags are kept (nzeroed is adjusted). */
uint32_t pfn_alloc(struct vl_pfndb *db, unsigned order);
/* A frame outside the limit (an extra frame, above); VL_NIL when all are
 * used. */
static inline uint32_t pfn_alloc_extra(struct vl_pfndb *db)
{
	if (db->extra_used == db->nextra)
		return VL_NIL;
	uint32_t f = db->nframes + db->extra_used++;
	db->pfn[f] = (struct vl_pfn){ .flink = VL_NIL, .blink = VL_NIL, .pte = VL_NIL,
				      .owner = VL_NIL, .slot = VL_NIL };
	return f;
}
/* Return a 2^order block starting at frame f (coalescing buddies). */
void pfn_free(struct vl_pfndb *db, uint32_t f, unsigned order);
/* Mark every free frame zeroed; returns how many were zeroed now. */
uint32_t pfn_zero_free(struct vl_pfndb *db);
/* Check buddy lists against nfree; 0 or VL_ESTATE. */
int pfn_check(const struct vl_pfndb *db, struct vl_error *err);

/* ---- page-table arena ---- */

struct vl_ptarena {
	uint64_t *e;        /* nodes * 512 entries; node 0 unused */
	uint16_t *used;     /* per node: non-zero entries */
	uint32_t *parent;   /* per node: arena index of the entry pointing at it */
	uint32_t *frame;    /* per node: frame holding it, VL_NIL if not in memory */
	uint64_t *base;     /* per node: the first page number it maps (pt_vpn) */
	uint32_t nnodes;    /* nodes in use (including node 0) */
	uint32_t cap;       /* nodes allocated */
	uint32_t free_head; /* freed nodes, linked through entry 0 */
	uint32_t live;      /* nodes allocated and not freed (excluding node 0) */
	uint32_t created[4]; /* nodes created by the last pt_walk_create */
	uint32_t frees;     /* nodes ever freed: walk caches and TLBs flush when it moves */
	uint32_t ncreated;
	uint64_t budget;    /* run.max_memory (UINT64_MAX: none): growth past it fails */
	bool budget_default; /* the budget is run.max_memory's default */
	bool over_budget;   /* the last failed growth failed for the budget */
};

int pt_init(struct vl_ptarena *a, struct vl_error *err);
/* The error for a node that could not be had: the memory budget's, or
 * out of memory.  Returns the code. */
int pt_nomem(const struct vl_ptarena *a, struct vl_error *err);
void pt_fini(struct vl_ptarena *a);
/* New zeroed node; returns its index or 0 when out of memory.  May move a->e. */
uint32_t pt_node_new(struct vl_ptarena *a);
/* Return an empty node to the free list. */
void pt_node_free(struct vl_ptarena *a, uint32_t node);
/* An upper-level entry pointing at node n: present, writable, user, and
 * accessed (the walk that made it used it). */
#define PT_UPPER (PTE_P | PTE_RW | PTE_US | PTE_A)
/* Make a node for the non-present entry i (a->created lists it), whose
 * first page number is base (pt.base); the child index, or 0 when out of
 * memory.  May move a->e. */
uint32_t pt_make_child(struct vl_ptarena *a, uint32_t i, uint64_t base);
/* The page number leaf (level-1) entry li translates. */
static inline uint64_t pt_vpn(const struct vl_ptarena *a, uint32_t li)
{
	return a->base[li / PT_ENTRIES] + li % PT_ENTRIES;
}

/* ---- the page walker ----
 *
 * pt_descend is the one descent of the four-level table: the access loop
 * (without TLBs), the TLB model's walk, the fault path, large pages,
 * khugepaged, the working-set manager and the checker all walk through it.
 * From entry level `level` (4 = PML4 .. 1 = page table) of node `node` it
 * follows va's entries down and stops at the first entry that
 *   - is at level `stop`, or
 *   - is not present (with WALK_CREATE: a node is made for it instead,
 *     listed in a->created; VL_NIL when out of memory), or
 *   - maps a page: a PS entry (2 MiB at level 2, 1 GiB at level 3; the
 *     one representation of a large page, sim/hugepage.c).
 * Returns that entry's arena index and its level in *at; path[l], when
 * path is not NULL, gets the index of the entry visited at each level l
 * from `level` down to *at.  The walk reads only: accessed bits, walk
 * caches and reference counts are its callers' business. */
enum { WALK_CREATE = 1 };

static inline uint32_t pt_descend(struct vl_ptarena *a, uint32_t node, unsigned level, uint64_t va,
				  unsigned stop, unsigned flags, uint32_t *path, unsigned *at)
{
	if (flags & WALK_CREATE)
		a->ncreated = 0;
	for (; level > stop; level--) {
		uint32_t i = node * PT_ENTRIES + va_idx(va, level);
		uint64_t ent = a->e[i];
		if (path)
			path[level] = i;
		if (unlikely(!(ent & PTE_P))) {
			if (!(flags & WALK_CREATE)) {
				*at = level;
				return i;
			}
			node = pt_make_child(a, i,
					     (va >> VL_PAGE_SHIFT) & VPN_MASK &
						     ~((1ull << (9 * (level - 1))) - 1));
			if (!node)
				return VL_NIL;
			continue;
		}
		if (unlikely(ent & PTE_PS)) {
			*at = level;
			return i;
		}
		node = PTE_FRAME(ent);
	}
	uint32_t i = node * PT_ENTRIES + va_idx(va, stop);
	if (path)
		path[stop] = i;
	*at = stop;
	return i;
}

/* Arena index of the leaf PTE for va under root, creating missing nodes
 * (listed in a->created), or of the large-page (PS) entry mapping va.
 * VL_NIL when out of memory. */
static inline uint32_t pt_walk_create(struct vl_ptarena *a, uint32_t root, uint64_t va)
{
	unsigned at;
	return pt_descend(a, root, 4, va, 1, WALK_CREATE, NULL, &at);
}

/* Arena index of the leaf PTE for va, or of the large-page (PS) entry
 * mapping it; VL_NIL when a level above is missing. */
static inline uint32_t pt_walk(const struct vl_ptarena *a, uint32_t root, uint64_t va)
{
	unsigned at;
	uint32_t i = pt_descend((struct vl_ptarena *)a, root, 4, va, 1, 0, NULL, &at);
	return at > 1 && !(a->e[i] & PTE_P) ? VL_NIL : i;
}

/* Arena index of the entry at `level` on va's walk from root, creating the
 * tables above it (listed in a->created); VL_NIL when out of memory or
 * when a large page maps va above that level. */
static inline uint32_t pt_entry_create(struct vl_ptarena *a, uint32_t root, uint64_t va,
				       unsigned level)
{
	unsigned at;
	uint32_t i = pt_descend(a, root, 4, va, level, WALK_CREATE, NULL, &at);
	return i == VL_NIL || at != level ? VL_NIL : i;
}

/* Arena index of the entry at `level` on va's walk from root, VL_NIL when
 * a level above it is missing or maps a large page. */
static inline uint32_t pt_entry(const struct vl_ptarena *a, uint32_t root, uint64_t va,
				unsigned level)
{
	unsigned at;
	uint32_t i = pt_descend((struct vl_ptarena *)a, root, 4, va, level, 0, NULL, &at);
	return at != level ? VL_NIL : i;
}
/* Set entry i, keeping the node's count of non-zero entries. */
static inline void pt_set(struct vl_ptarena *a, uint32_t i, uint64_t v)
{
	uint64_t old = a->e[i];
	a->e[i] = v;
	if (!old != !v)
		a->used[i / PT_ENTRIES] += v ? 1 : (uint16_t)-1;
}
/* Does entry ent (level 2 or 3) map a large page (present, PS)?  A 4 KiB
 * PTE never has bit 7 (PAT) set while present; an invalid one may (its
 * protection bits), hence the test of P. */
static inline bool pte_large(uint64_t ent)
{
	return (ent & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS);
}
/* Call fn on every non-zero leaf entry under root (index, vpn). */
void pt_foreach_leaf(struct vl_ptarena *a, uint32_t root,
		     void (*fn)(void *ctx, uint32_t li, uint64_t vpn), void *ctx);
/* Does any page of [start, end) (page numbers) have a non-zero entry
 * under root: touched, committed, paged out or mapped by a large page? */
bool pt_any_in(const struct vl_ptarena *a, uint32_t root, uint64_t start, uint64_t end);
/* Call fn on every non-zero entry of `level` (4..1) under root (index, the
 * first vpn it maps), skipping large pages above that level. */
void pt_foreach_entry(struct vl_ptarena *a, uint32_t root, unsigned level,
		      void (*fn)(void *ctx, uint32_t i, uint64_t vpn), void *ctx);

/* ---- address space: VADs and sections ---- */

enum vad_kind { VAD_PRIVATE = 0, VAD_MAPPED = 1 };

/* Linux's VMA-based swap readahead state (vma->swap_readahead_info,
 * mm/swap_state.c): the page of the last swap fault or swap-cache hit,
 * the window it used, readahead hits since.  All 0: never used (Linux
 * then starts from 4 hits). */
struct swap_ra {
	uint64_t vpn;
	uint32_t win, hits;
};

struct vl_vad {
	uint64_t start, end;   /* vpn range [start, end) */
	uint64_t offset_pages; /* mapped: first section page of the view */
	uint32_t section;      /* mapped: section index */
	uint8_t kind;          /* enum vad_kind */
	uint8_t prot;          /* allocation protection */
	uint16_t flags;        /* VAD_F_* */
	struct swap_ra ra;     /* swap.vma_readahead */
};

#define VAD_F_HUGE 0x1   /* V ADVISE hugepage (MADV_HUGEPAGE) */
#define VAD_F_NOHUGE 0x2 /* V ADVISE nohugepage (MADV_NOHUGEPAGE) */
#define VAD_F_LARGE 0x4  /* committed with MEM_LARGE_PAGES (V COMMIT ... +large) */
/* Private, committed when made: a page whose PTE is 0 is committed with
 * the VAD's protection (demand-zero), as Windows marks a VAD of
 * MEM_RESERVE | MEM_COMMIT committed instead of writing a PTE per page,
 * so committing a range costs O(1), not O(pages) (sim/vad.c). */
#define VAD_F_COMMITTED 0x8

/* Is a page of VAD d (NULL: none) whose PTE is 0 committed? */
static inline bool vad_commits_zero(const struct vl_vad *d)
{
	return d && d->kind == VAD_PRIVATE && (d->flags & VAD_F_COMMITTED);
}
/* Linux VMAs (V MMAP and friends, sim/vad.c) */
#define VAD_F_ANON 0x40   /* private anonymous: every page committed with the VAD's
			   * protection, charged when first touched (no PTE needed) */
#define VAD_F_SHARED 0x80 /* a MAP_SHARED view: writable without copy-on-write */
#define VAD_F_HEAP 0x100  /* the brk heap (V BRK grows and shrinks it) */
#define VAD_F_VMA 0x200   /* made by V MMAP or V BRK: a range may be split off it
			   * (mprotect, munmap, madvise), as Linux splits VMAs */

/* A present PTE that maps the zero frame as part of a huge zero page
 * (linux THP read fault): bit 9, which the MMU ignores. */
#define PTE_SW_HUGEZERO (1ull << 9)
/* A present entry whose frame the replacement policy does not hold: the
 * zero page, or (a piece of) a non-pageable large page (PFN_AUX_LOCKED).
 * The access loop tells the policy nothing of accesses through it.  Bit
 * 10, which the MMU ignores in a present entry (in a non-present one it
 * is SWPTE_PROTO; every reader of that tests P first); splits and
 * protection changes keep it.  A low bit, so that the test on the hit
 * path is one instruction. */
#define PTE_SW_NOPOLICY (1ull << 10)

/* A file section: one prototype PTE per page.  A prototype PTE is 0 (page
 * in the file, not in memory), PTE_P | frame (resident, mapped by at least
 * one process or not), or SWPTE_TRANS | frame (on standby/modified). */
/* Prototype PTEs come in chunks of PROTO_CHUNK, allocated when a page of
 * the chunk is first read and found through an open-addressing table by
 * chunk number: memory follows the pages touched, not the file offsets
 * the views reach (a view at offset 1 TiB costs one chunk per chunk it
 * touches).  Accessors in sim/section.c. */
#define PROTO_CHUNK_SHIFT 9
#define PROTO_CHUNK (1u << PROTO_CHUNK_SHIFT)

struct proto_chunk {
	uint64_t key;        /* page index >> PROTO_CHUNK_SHIFT */
	uint64_t *pte;       /* PROTO_CHUNK prototype PTEs; NULL: empty slot */
};

struct vl_section {
	uint64_t file_id;
	uint64_t npages;     /* pages the views reach (largest offset + length) */
	uint32_t views;      /* mapped views */
	bool pagefile;       /* backed by the page file (file id VL_FILE_PAGEFILE): a
			      * prototype PTE of 0 is demand-zero, one holding a
			      * page-file slot (SWPTE_PAGEFILE) is paged out */
	struct proto_chunk *chunks; /* capacity a power of two, at most half full */
	uint32_t nchunks, chunks_cap;
	uint8_t fill;        /* enum sec_fill: where a page not in memory comes from */
};

/* Is frame p a page of a page-file-backed section? */
#define PFN_PAGEFILE_SECTION(e, p) \
	(((p)->flags & PFN_F_PROTO) && (e)->sections[(p)->owner].pagefile)

/* Where a section page with prototype PTE 0 comes from. */
enum sec_fill {
	SEC_FILL_READ = 0,   /* the file: a hard fault and a read */
	SEC_FILL_CACHED = 1, /* the page cache (pagecache.warm = all): a soft fault, no read */
	SEC_FILL_ZERO = 2,   /* nowhere: anonymous memory (shared anonymous mappings,
				* pages copied at a fork): zero-filled, a soft fault */
};

/* File ids of sections that are anonymous memory (V MMAP shared
 * anonymous, V FORK copies) carry this bit; trace file ids never do. */
#define SEC_ANON_ID (1ull << 63)

/* ---- processes ---- */

/* A live process: the state of its address space and its counters.  It
 * lives in a slot of e->procs; the slot's index is the "process index"
 * that frames (owner), TLB tags (with PCIDs) and every sim/ function name
 * it by.  A process that exits gives its slot back (vl_proc_retire): its
 * counters go, encoded, to the engine's record of exited processes, and a
 * later process may take the slot, so memory follows the processes alive,
 * not all the processes a trace ever had.  A free slot has root 0. */
struct vl_proc {
	uint32_t pid;
	uint32_t root;       /* PML4 node; 0 in a free slot */
	uint32_t row;        /* its number in order of first appearance (API index) */
	uint32_t order_pos;  /* its place in e->order; in a free slot the next free slot */
	bool explicit_vm;    /* the trace gave VAD events: no implicit commit */
	bool stopped;        /* --on-av=stop-process after an access violation */
	struct vl_proc_counters ctr;
	uint64_t accesses;
	struct vl_vad *vads; /* sorted by start, non-overlapping */
	uint32_t nvads, vads_cap;
	uint64_t commit;     /* committed pages charged to this process */
	/* working set (windows personality, sim/rsm_ws.c): entries
	 * vpn | age << 56 in the order they entered, WSL_HOLE where one
	 * left; ws_n live entries of ws_len, the clock hand, live entries
	 * per age, accesses at the last aging pass, and the working set's
	 * own instance of the replacement policy (NULL for ws-aging, which
	 * is the manager's own aging) */
	uint64_t *wsl;
	uint32_t ws_n, ws_cap, ws_hand, ws_len;
	uint32_t ws_hist[8];
	uint64_t ws_acc_mark;
	struct vl_repl *ws_repl;
	struct heap_proc *heap; /* heap layer (sim/heap.c): live blocks, model; NULL if none */
	struct swap_ra ra;   /* swap.vma_readahead of a process without VADs */
};

/* ---- page file ---- */

struct vl_pagefile {
	uint32_t next;       /* next never-used slot */
	uint32_t limit;      /* slots; 0 = unlimited */
	uint32_t *free;      /* freed slots (stack) */
	uint32_t nfree, free_cap;
	uint32_t used;
	/* Linux's cluster allocator (swap.cache; sim/pagefile.c): slots in
	 * clusters of PF_CLUSTER, handed out from a cursor and from lists of
	 * clusters, which decides what swap cluster readahead reads; inuse
	 * has one byte per slot below next (next covers every cluster used so
	 * far), the stack is unused */
	bool clustered;
	uint8_t *inuse;
	uint32_t inuse_cap;
	struct pf_cluster *cl; /* clusters 0 .. ncl - 1 (used so far) */
	uint32_t ncl, cl_cap;
	struct pf_clist {
		uint32_t head, tail;
	} lists[4];          /* PF_FREE (freed ones), PF_NONFULL, PF_FRAG, PF_FULL */
	uint32_t cursor;     /* Linux offset of the global cluster's next slot; 0: none */
};

#define PF_CLUSTER 512u /* SWAPFILE_CLUSTER: HPAGE_PMD_NR with CONFIG_THP_SWAP */
enum { PF_FREE, PF_NONFULL, PF_FRAG, PF_FULL, PF_NONE };
struct pf_cluster {
	uint32_t prev, next; /* on lists[flag] (flag < PF_NONE) */
	uint16_t count;      /* slots in use (the swap header counts in cluster 0) */
	uint8_t flag;
};

/* Grow the page file by at least pages slots (commit or a write needs
 * them), up to pagefile.max; the commit limit follows.  False when it is
 * unlimited or at its maximum already. */
bool vl_pagefile_grow(struct vl_engine *e, uint64_t pages);
/* Charge proc pages of commit against the limit, growing the page file if
 * need be (A.9); false (a commit failure, counted) when they do not fit. */
bool vl_commit_charge(struct vl_engine *e, uint32_t proc, uint64_t pages);
/* Charge a page-file-backed section's new pages (system commit, no
 * process's), as vl_commit_charge. */
bool vl_commit_charge_section(struct vl_engine *e, uint64_t pages);
/* The page file is full at its maximum: free the slot of a resident page
 * whose copy is only a copy (it becomes modified, to be written again
 * when it leaves); false when none has one. */
bool vl_pagefile_steal(struct vl_engine *e, uint32_t except);
/* Allocate a slot; VL_NIL when the page file is full or out of memory. */
uint32_t pf_alloc(struct vl_pagefile *pf);
void pf_release(struct vl_pagefile *pf, uint32_t slot);
void pf_fini(struct vl_pagefile *pf);

/* ---- page lists (standby by priority, modified) ---- */

struct plist {
	uint32_t head, tail, n;
};

#include "sim/tlb.h"

/* ---- the engine ---- */

enum thp_mode { THP_NEVER = 0, THP_MADVISE = 1, THP_ALWAYS = 2 };

struct vl_engine {
	struct vl_config *cfg;
	struct vl_pfndb db;
	struct vl_ptarena pt;
	struct vl_pagefile pf;

	/* processes (sim/engine.c): slots of live processes (nslots used,
	 * free ones chained from free_slot); the live ones in order of first
	 * appearance in order[] (VL_NIL where one exited: holes, compacted
	 * when there are more of them than live processes), with each
	 * entry's row in order_row[] (holes keep theirs, so order_row is
	 * increasing); per row (every process ever seen: nrows) ROW_LIVE |
	 * slot, or the offset of its counters in plog, LEB128 varints in the
	 * order of struct vl_proc_counters (pid, accesses, ...) */
	struct vl_proc *procs;
	uint32_t nslots, procs_cap, free_slot;
	uint32_t *order, *order_row;
	uint32_t norder, order_cap, nlive;
	uint64_t *row_loc;
	uint32_t nrows, rows_cap;
	uint8_t *plog;
	size_t plog_len, plog_cap;
	uint32_t *pid_hash;       /* open addressing: slot of a live process or VL_NIL */
	uint32_t pid_hash_mask;
	uint32_t last_pid, last_proc;

	struct vl_section *sections;
	uint32_t nsections, sections_cap;

	const struct vl_repl_ops *repl_ops;
	struct vl_repl repl;
	/* the policy's prefetch hints (mm_prefetch, sim/engine.c): the last
	 * PF_RING frames announced, whose page-table entries are fetched
	 * when they leave the ring (their frame records are cached by then) */
#define PF_RING 16
	uint32_t pf_ring[PF_RING];
	unsigned pf_pos;
	bool repl_live;           /* init succeeded */
	bool wants_access;
	/* the global manager without large pages, THP or the zero page: the
	 * access loop resolves plain faults itself (sim/access.c fault_fast) */
	bool fast_fault;
	/* VL_REPL_ACCESS_MOVES_HEAD: the policy's list, moved inline on a hit */
	struct vl_flist *access_flist;
	/* the policy's prefetch hints under the global manager (NULL: none):
	 * will_fault (VL_REPL_HINT_FAULT) and repl.hit_hint */
	void (*will_fault)(struct vl_repl *r, uint32_t pid, uint64_t vpn);
	const char *hit_hint;
	size_t hit_hint_stride;
	/* VL_REPL_ENGINE_LIST under the global manager: the policy's list is
	 * kept here (sim/frames.c, elist_*), threaded through the frame
	 * records' flink (toward the tail) and blink (toward the head), which
	 * a resident frame does not otherwise use there; repl_ops is then
	 * elist_mux, the policy's table with the list's four hooks */
	bool elist_on;
	uint32_t el_head, el_tail, el_len; /* VL_NIL ends */
	struct vl_repl_ops elist_mux;
	uint32_t *victims;        /* scratch for select_victims */

	const uint64_t *future;   /* next-use times, or NULL */
	uint64_t future_n;

	/* model settings, resolved from the configuration at creation */
	const struct vl_rsm_ops *rsm; /* os.personality: who decides what leaves memory */
	bool count_zeroing;       /* anon.count_zeroing: count 4 KiB zero fills */
	bool pt_frames;           /* page-table nodes occupy frames */
	bool zero_page;           /* anonymous read faults map the shared zero page */
	uint8_t thp;              /* thp.enabled: THP_NEVER, THP_MADVISE, THP_ALWAYS */
	bool thp_zero;            /* thp.use_zero_page (and zero_page) */
	/* khugepaged (thp.khugepaged.*): scans every khp_interval accesses */
	uint64_t khp_interval, khp_next, khp_pages, khp_max_none;
	uint32_t khp_row;         /* where the last scan stopped: process row, vpn */
	uint64_t khp_vpn;
	bool dz_dirty;            /* demand-zero pages start dirty (Windows) */
	bool overcommit;          /* no commit limit */
	bool commit_pt;           /* commit.pt_pages: page-table frames are charged */
	double cost_file_read, cost_file_write; /* cycles per mapped-file page I/O */
	bool stop_on_av;
	uint32_t zero_frame;      /* frame number of the shared zero page (not a real frame) */
	uint32_t file_cluster;    /* pages read per hard fault on a mapped file */
	uint32_t fault_around;    /* linux: pages mapped around a file read fault */
	uint32_t fa_phase;        /* file.fault_around_phase: the window's alignment offset */
	bool pagecache_warm;      /* pagecache.warm = all: V MMAP files start cached */
	bool fread_cache;         /* linux: V FREAD pages enter the page cache */
	uint64_t populated;       /* pages V POPULATE made present (`populated`) */
	bool populate_seen;       /* a V POPULATE was replayed: list `populated` */
	uint32_t readaround;      /* file.readaround: pages read around a hard file fault */
	bool cow_read_major;      /* file.cow_read_major: a COW fault that reads is hard */
	struct vl_pc_file *pc_files; /* pagecache.resident (sim/pagecache.c) */
	size_t npc_files;
	uint64_t npc_marks;       /* PG_readahead marks set (sim/pagecache.c) */
	uint64_t commit_limit;    /* pages (frames + current page-file size); UINT64_MAX = none */
	uint32_t pf_max;          /* slots the page file may grow to (pagefile.max) */
	uint32_t pf_steal;        /* where the last slot steal stopped (sim/pagefile.c) */
	uint64_t commit;          /* pages charged system-wide */
	uint64_t commit_sections; /* of which page-file-backed sections (no process's) */
	uint32_t ws_min, ws_max;
	uint64_t avail_target;    /* the WSM wakes when available pages fall below this */
	uint64_t trim_goal;       /* and trims until available reaches this */
	uint64_t mpw_threshold;   /* write when the modified list exceeds this */
	uint32_t mpw_cluster;
	uint64_t wsm_interval;    /* accesses between working-set manager passes;
				   * 0: once per wsm_period of the model clock */
	double wsm_period;        /* cycles between passes on the model clock */
	double wsm_due;           /* model-clock time of the next pass */
	unsigned ws_age_max;      /* oldest working-set age (ws-aging max_age, <= 7) */
	const struct vl_repl_ops *ws_policy; /* per-working-set policy, NULL: ws-aging */
	struct vl_repl_ops ws_mux; /* e->repl_ops under working sets with a policy */
	struct ws_key *ws_order;  /* scratch: processes in trimming order (rsm_ws.c) */
	uint32_t ws_order_cap;
	char warning[512];        /* configured values that cannot work ("" if none) */
	uint64_t next_tick;       /* time of the next pass, UINT64_MAX for none */
	uint64_t tick_at;         /* min(next_tick, lp_next_tick): periodic work due */
	bool zero_thread;

	struct plist standby[8];  /* by priority, repurposed 0 first */
	struct plist modified;
	uint64_t nstandby;

	uint64_t time;            /* accesses replayed so far */
	uint64_t op_count[VL_OP_NACCESS];
	uint64_t resident;        /* pages mapped by valid PTEs (shared frames once) */
	uint64_t resident_shared; /* shared frames active */
	bool check_each_batch;

	struct vl_xlat xl;        /* TLBs and walk caches (sim/tlb.c) */
	const struct vl_lp_ops *lp_ops; /* large pages (sim/largepage.c) */
	struct vl_lp lp;
	bool lp_live_init, lp_any;      /* init done; policy is not "none" */
	uint64_t lp_next_tick, lp_interval;
	struct lp_resv *resv;           /* live reservations, dense */
	uint32_t resv_cap, resv_n;
	uint32_t *resv_node;            /* page-table node -> reservation, VL_NIL */
	uint32_t resv_node_cap;
	uint32_t pinned;                /* frames PFN_PINNED */
	/* per 2 MiB block of memory (frame >> 9): the page-table node
	 * deposited for the 2 MiB page mapping that block, 0 for none
	 * (sim/hugepage.c); NULL until the first deposit */
	uint32_t *hp_deposit;
	uint32_t *proto_hi;       /* per frame: a shared page's index >> 32; NULL until a
				   * section passes 2^32 pages (sim/vad.c section_for) */

	/* the heap layer (sim/heap.c); heap_xlate: a heap model moves heap
	 * accesses, so vl_engine_feed goes through vl_heap_feed */
	struct vl_heap *heap;
	bool heap_xlate, heap_warned;
	/* the linux swap cache and swap readahead (swap.*, sim/swap.c) */
	struct vl_swap {
		bool on;              /* swap.cache */
		bool vma;             /* VMA-based readahead (swap.vma_readahead and
				       * not swap.rotational), else cluster readahead */
		uint32_t max_pages;   /* 1 << swap.page_cluster */
		bool sync;            /* swap.synchronous: swap-ins skip the cache */
		uint64_t cached;      /* PFN_SWAPCACHE frames */
		/* per slot: the leaf PTE and process of the page paged out to
		 * it (valid while that PTE holds the slot), for cluster
		 * readahead, which reads slots, not pages */
		uint32_t *slot_pte, *slot_owner;
		uint32_t slots_cap;
		/* cluster readahead's global state (swapin_nr_pages) */
		uint64_t prev_offset;
		uint32_t hits, last_pages;
		/* counters reported when on */
		uint64_t hits_cache, ra_read, ra_used;
		uint64_t refaults;    /* refault activations the policy reported */
	} sw;

	struct vl_counters ctr;   /* counters not derived at snapshot time */
	struct vl_counters snap;  /* last snapshot */
};

/* The page frame f holds: a shared page's index in its section; a
 * private page's number, from its PTE's place (a piece of a large page:
 * its PS entry's first page plus the frame's place in the block, which is
 * aligned to its order).  Valid while the record names its PTE: active,
 * standby or modified, in the swap cache. */
static inline uint64_t pfn_vpn(const struct vl_engine *e, uint32_t f)
{
	const struct vl_pfn *p = &e->db.pfn[f];
	if (p->flags & PFN_F_PROTO)
		return p->pte | (e->proto_hi ? (uint64_t)e->proto_hi[f] << 32 : 0);
	if (p->flags & PFN_F_LARGE) {
		unsigned order = PFN_LP_ORDER(p);
		return e->pt.base[p->pte / PT_ENTRIES] + ((uint64_t)(p->pte % PT_ENTRIES) << order) +
		       (f & ((1u << order) - 1));
	}
	return pt_vpn(&e->pt, p->pte);
}

/* Frame f now holds page idx of a section (its owner). */
static inline void pfn_set_proto_index(struct vl_engine *e, uint32_t f, uint64_t idx)
{
	e->db.pfn[f].pte = (uint32_t)idx;
	if (e->proto_hi)
		e->proto_hi[f] = (uint32_t)(idx >> 32);
}

/* ---- resident-set managers (sim/rsm_global.c, sim/rsm_ws.c) ----
 *
 * What distinguishes the personalities under memory pressure is who decides
 * which pages leave memory and where they go.  The fault path, the VAD code
 * and large pages tell the engine's resident-set manager what happened
 * through these hooks and ask it for room; none of them tests the
 * personality.  Two managers:
 *   global        (textbook, linux) the replacement policy holds every
 *                 resident frame and picks victims among all of them; a
 *                 victim is evicted at once (sim/rsm_global.c);
 *   working sets  (windows) per-process working-set lists aged by accessed
 *                 bits; trimmed pages go to the standby or modified list
 *                 and stay there, still in memory, until repurposed
 *                 (sim/rsm_ws.c).
 * Hooks may be called in any personality; a manager ignores what it does
 * not track. */
struct vl_rsm_ops {
	const char *name;
	/* true: the replacement policy chooses victims (it hears on_map,
	 * on_unmap and, if it asks, on_access) */
	bool policy;
	/* true: the manager keeps pages out of every working set on the
	 * standby and modified lists, so a read cluster (file.read_cluster)
	 * can be cached there; a global manager has no such lists */
	bool lists;
	/* proc's PTE for page vpn became valid, mapping frame f (a private
	 * frame, or a shared frame of a section); a: the access that caused
	 * it (NULL for fault-around).  0 or VL_ENOMEM. */
	int (*mapped)(struct vl_engine *e, uint32_t proc, uint64_t vpn, uint32_t f,
		      const struct vl_access *a, struct vl_error *err);
	/* a section page came into memory in frame f (read for access a) */
	void (*cached)(struct vl_engine *e, uint32_t f, const struct vl_access *a);
	/* proc's valid PTE for vpn, mapping f, goes away for good (release,
	 * protection change, copy-on-write of a view page); called before
	 * the frame is freed */
	void (*unmapped)(struct vl_engine *e, uint32_t proc, uint64_t vpn, uint32_t f);
	/* shared frame f just lost its last mapping PTE */
	void (*idle)(struct vl_engine *e, uint32_t f);
	/* proc's page vpn, mapped at leaf li, is made inaccessible (V PROTECT
	 * to NOACCESS or GUARD): the manager may take it out of the working
	 * set and keep its contents cached (Windows: a transition PTE, so the
	 * next touch once accessible is a soft fault); true if it did, false
	 * for the caller to release the page.  May be NULL. */
	bool (*park)(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn);
	/* proc's resident set is about to grow by one page */
	void (*grow)(struct vl_engine *e, uint32_t proc);
	/* no frame is free: make room for one (a is the faulting access, or
	 * NULL for a page-table page); 0 or an error when nothing can leave */
	int (*make_room)(struct vl_engine *e, const struct vl_access *a, struct vl_error *err);
	/* periodic pass every wsm.interval accesses */
	int (*tick)(struct vl_engine *e, struct vl_error *err);
	/* pages in working sets (the timeline's ws_pages gauge) */
	uint64_t (*ws_pages)(const struct vl_engine *e);
	/* invariants of the manager's own structures; valid = valid PTEs
	 * mapping real frames, counted by the checker */
	int (*check)(const struct vl_engine *e, uint64_t valid, struct vl_error *err);
};

extern const struct vl_rsm_ops vl_rsm_global, vl_rsm_ws;

/* sim/rsm_ws.c: an access the policy hears (VL_REPL_WANTS_ACCESS) goes to
 * the current process's working-set instance of it (e->ws_mux) */
void vl_ws_policy_access(struct vl_repl *r, uint32_t f, const struct vl_access *a);
/* Free proc's working-set instance of the policy, if any. */
void vl_ws_policy_free(struct vl_engine *e, struct vl_proc *pr);
/* sim/rsm_global.c: the policy's victim, checked (VL_NIL with *rc set
 * when there is none), and resident frame f evicted the general way
 * (vl_global_take, below, is the common case inline). */
uint32_t vl_global_pick(struct vl_engine *e, const struct vl_access *a, int *rc,
			struct vl_error *err);
int vl_global_evict(struct vl_engine *e, uint32_t f, struct vl_error *err);

/* The policy's view of access number `time` by pid to page vpn (with its
 * next use when the run has a future pre-pass). */
static inline struct vl_access vl_access_of(const uint64_t *future, uint64_t time, uint64_t vpn,
					    uint32_t pid, uint8_t op)
{
	return (struct vl_access){
		.vpn = vpn,
		.time = time,
		.next_use = future ? future[time] : 0,
		.pid = pid,
		.op = op,
	};
}

static inline struct vl_access vl_access_at(const struct vl_engine *e, uint64_t time, uint64_t vpn,
					    uint32_t pid, uint8_t op)
{
	return vl_access_of(e->future, time, vpn, pid, op);
}

/* The access context of work the engine does on its own (a collapse):
 * no page, no next use. */
static inline struct vl_access vl_access_none(const struct vl_engine *e, uint32_t pid)
{
	return (struct vl_access){ .vpn = VL_NEVER, .time = e->time, .next_use = VL_NEVER,
				   .pid = pid, .op = VL_OP_READ };
}

/* ---- the policy's list kept by the engine (VL_REPL_ENGINE_LIST) ----
 * Resident frames, most recent at el_head, the victim at el_tail, linked
 * through pfn flink (toward the tail) and blink (toward the head).  The
 * same operations as vl_flist's push_head, del and move_head, so the
 * policy's choices are those of its own list. */
static inline void elist_push_head(struct vl_engine *e, uint32_t f)
{
	struct vl_pfn *p = &e->db.pfn[f];
	p->blink = VL_NIL;
	p->flink = e->el_head;
	if (e->el_head != VL_NIL)
		e->db.pfn[e->el_head].blink = f;
	else
		e->el_tail = f;
	e->el_head = f;
	e->el_len++;
}

static inline __attribute__((always_inline)) void elist_del(struct vl_engine *e, uint32_t f)
{
	struct vl_pfn *p = &e->db.pfn[f];
	uint32_t n = p->flink, b = p->blink;
	if (b != VL_NIL)
		e->db.pfn[b].flink = n;
	else
		e->el_head = n;
	if (n != VL_NIL)
		e->db.pfn[n].blink = b;
	else
		e->el_tail = b;
	p->flink = p->blink = VL_NIL;
	e->el_len--;
}

static inline void elist_move_head(struct vl_engine *e, uint32_t f)
{
	uint32_t h = e->el_head;
	if (h == f)
		return;
	/* f is not the head: it has a predecessor b, and the list a head */
	struct vl_pfn *db = e->db.pfn, *p = &db[f];
	uint32_t n = p->flink, b = p->blink;
	db[b].flink = n;
	if (n != VL_NIL)
		db[n].blink = b;
	else
		e->el_tail = b;
	p->blink = VL_NIL;
	p->flink = h;
	db[h].blink = f;
	e->el_head = f;
}
/* Switch e to keeping its policy's list when the policy allows it and
 * the global manager is in charge (sim/frames.c). */
void vl_elist_setup(struct vl_engine *e);
/* run.check: the list's links, length and members (resident frames). */
int vl_elist_check(const struct vl_engine *e, struct vl_error *err);

/* ---- counting: each kind of event is counted here and nowhere else ---- */

enum fault_kind { FAULT_DEMAND_ZERO, FAULT_SOFT, FAULT_HARD, FAULT_COW };

/* A fault of proc resolved, of the given kind. */
static inline void count_fault(struct vl_engine *e, uint32_t proc, enum fault_kind kind)
{
	struct vl_proc_counters *pc = &e->procs[proc].ctr;
	e->ctr.faults++;
	pc->faults++;
	switch (kind) {
	case FAULT_DEMAND_ZERO: e->ctr.faults_demand_zero++; pc->faults_demand_zero++; break;
	case FAULT_SOFT: e->ctr.faults_soft++; pc->faults_soft++; break;
	case FAULT_HARD: e->ctr.faults_hard++; pc->faults_hard++; break;
	case FAULT_COW: e->ctr.faults_cow++; pc->faults_cow++; break;
	}
}

/* An access of proc (VL_NIL: an address no process can have) violated
 * its protection, or found no committed page. */
static inline void count_violation(struct vl_engine *e, uint32_t proc)
{
	e->ctr.access_violations++;
	if (proc != VL_NIL)
		e->procs[proc].ctr.access_violations++;
}

/* pages more frames became resident (mapped or cached). */
static inline void count_resident(struct vl_engine *e, uint64_t pages)
{
	e->resident += pages;
	if (e->resident > e->ctr.resident_peak)
		e->ctr.resident_peak = e->resident;
}

/* pages frames were zero-filled (always counted: large pages, collapses,
 * the zero page writer). */
static inline void count_zero_fill(struct vl_engine *e, uint64_t pages)
{
	e->ctr.zeroed_pages += pages;
}

/* A dirty page was written to its backing store: the page file, or its
 * file (a section page). */
static inline void count_page_write(struct vl_engine *e, bool file)
{
	if (file)
		e->ctr.file_writes++;
	else
		e->ctr.pagefile_writes++;
}

/* proc's commit charge changes by pages (negative: uncharged). */
static inline void count_commit(struct vl_engine *e, uint32_t proc, int64_t pages)
{
	e->commit += (uint64_t)pages;
	e->procs[proc].commit += (uint64_t)pages;
	if (e->commit > e->ctr.commit_peak)
		e->ctr.commit_peak = e->commit;
}

/* A large page was mapped; promoted: by collapsing or filling a range
 * that had 4 KiB pages (copied of them copied into it). */
static inline void count_large_page(struct vl_engine *e, bool promoted, uint64_t copied)
{
	e->ctr.large_pages_mapped++;
	if (promoted)
		e->ctr.large_page_promotions++;
	e->ctr.large_page_copies += copied;
}

/* A large page was wanted and no free block of its size was found. */
static inline void count_large_fallback(struct vl_engine *e)
{
	e->ctr.large_page_fallbacks++;
}

/* The MMU completed a walk of refs memory references (a walk that faults
 * is part of the fault's cost, not counted). */
static inline void count_walk(struct vl_engine *e, unsigned refs)
{
	e->ctr.walks++;
	e->ctr.walk_refs += refs;
}

/* Page-table pages in frames came (+1) or went (-1). */
static inline void count_pt_page(struct vl_engine *e, int delta)
{
	e->ctr.pt_pages += (uint64_t)(int64_t)delta;
}

/* sim/fault.c: resolving a fault */
int vl_fault(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t va, uint8_t op,
	     struct vl_error *err);
/* vl_map_private's work but telling the manager: frame f's record and
 * leaf li's PTE (prot; write sets D, dirty marks the frame modified),
 * the resident counts.  The fault path of a plain global configuration
 * (access.c's fault_fast) then tells the policy itself. */
static inline __attribute__((always_inline)) void
map_private_pte(struct vl_engine *e, uint32_t proc, uint32_t li, uint32_t f, uint64_t vpn,
		unsigned prot, bool write, bool dirty)
{
	struct vl_pfn *p = &e->db.pfn[f];
	p->loc = PFN_ACTIVE;
	p->pte = li;
	p->owner = proc;
	if (dirty)
		p->flags |= PFN_F_MODIFIED;
	uint64_t hw = prot_hw(prot);
	if (p->slot != VL_NIL && e->rsm->lists) {
		/* a page with a page-file copy (read back, or off standby):
		 * written now, the copy is stale and its slot goes; read, it is
		 * mapped clean, and its first write is a dirty-bit fault (A.2) */
		if (write) {
			pf_release(&e->pf, p->slot);
			p->slot = VL_NIL;
		} else {
			hw &= ~PTE_RW;
		}
	}
	pt_set(&e->pt, li, PTE_MAKE(f) | hw | PTE_A | (write ? PTE_D : 0));
	e->procs[proc].ctr.resident_pages++;
	count_resident(e, 1);
}
/* Map frame f at leaf li as proc's private page vpn, with protection prot;
 * write sets D, dirty marks the frame modified; tells the manager. */
int vl_map_private(struct vl_engine *e, uint32_t proc, uint32_t li, uint32_t f, uint64_t vpn,
		   unsigned prot, bool write, bool dirty, const struct vl_access *a,
		   struct vl_error *err);

/* sim/frames.c: page lists and where frames come from */
void plist_del(struct vl_engine *e, struct plist *l, uint32_t f);
void plist_push(struct vl_engine *e, struct plist *l, uint32_t f);
/* Take frame f off the standby or modified list holding it. */
void vl_unlist(struct vl_engine *e, uint32_t f);
/* Put frame f, mapped by no valid PTE, on the modified list if its
 * contents differ from the backing copy, else on standby (T6). */
void vl_to_list(struct vl_engine *e, uint32_t f);
uint64_t vl_available(const struct vl_engine *e);
/* A frame for the access a (NULL for a page-table page), zero: the page
 * must be zero-filled.  VL_NIL with err set when none can be had. */
uint32_t vl_frame_get(struct vl_engine *e, bool zero, const struct vl_access *a,
		      struct vl_error *err);
/* Give frame f a page-file slot if it has none; 0 or VL_ELIMIT. */
int vl_slot_ensure(struct vl_engine *e, uint32_t f, struct vl_error *err);
/* Section prototype PTE of shared frame f. */
uint64_t *vl_proto_of(struct vl_engine *e, uint32_t f);

/* sim/release.c: pages and page tables going away */
/* Page vpn at leaf li of proc goes away for good (T10): frames freed,
 * slots released, shared pages lose a mapper.  The PTE is left for the
 * caller to rewrite.  Dirty private pages are not written.  When li is a
 * large page's PS entry the whole large page goes and the entry is
 * cleared (hp_release: a process's exit). */
void vl_page_release(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn);
/* Give the nodes just created by pt_walk_create frames of their own. */
int vl_pt_frames(struct vl_engine *e, uint32_t proc, struct vl_error *err);
/* The leaf entry li just became zero: free its node if empty, and upward. */
void vl_pt_prune(struct vl_engine *e, uint32_t li);
/* Free node's frame (if it has one) and the node. */
void vl_pt_node_release(struct vl_engine *e, uint32_t node);
/* Free the whole page-table tree below node (level 4..1) and the node. */
void vl_pt_free_tree(struct vl_engine *e, uint32_t node, unsigned level);

/* sim/section.c: file sections (shared pages) */
/* Prototype PTE of page idx: 0 when its chunk was never touched. */
uint64_t proto_get(const struct vl_section *s, uint64_t idx);
/* Where page idx's prototype PTE lives, allocating its chunk; NULL when
 * out of memory (nothing changed). */
uint64_t *proto_ref(struct vl_section *s, uint64_t idx);
void proto_free(struct vl_section *s);
/* Bring section page idx into memory (or find it there); returns its
 * frame, *how = FAULT_SOFT / FAULT_HARD when it was not valid, or -1. */
uint32_t vl_section_page(struct vl_engine *e, uint32_t sec, uint64_t idx, const struct vl_vad *d,
			 const struct vl_access *a, int *how, struct vl_error *err);
/* Map shared frame f at li as proc's page vpn. */
int vl_map_shared(struct vl_engine *e, uint32_t proc, uint32_t li, uint32_t f, uint64_t vpn,
		  unsigned prot, bool write, struct vl_error *err);
/* Linux fault-around: map the cached pages of the aligned window around a
 * file read fault at vpn, without faults of their own. */
/* pagecache.resident (sim/pagecache.c): the pages of a file cached at
 * the start, as a bitmap */
struct vl_pc_file {
	uint64_t file_id;
	uint64_t npages; /* bits allocated */
	uint64_t *bits;
	uint64_t nread;  /* read bits allocated */
	uint64_t *read;  /* of bits: pages the run read (not cached before it) */
	uint64_t nmark;  /* mark bits allocated */
	uint64_t *mark;  /* PG_readahead: pages a read-ahead marked */
	/* the file's read-ahead state (struct file_ra_state; one per file,
	 * as if every open of it shared it): the last window read */
	uint64_t ra_start, ra_size, ra_async;
};
int vl_pagecache_load(struct vl_engine *e, const char *path, struct vl_error *err);
bool vl_pagecache_has(const struct vl_engine *e, uint64_t file_id, uint64_t idx);
/* Page idx of the file was cached before the run (pagecache.resident),
 * not read by it. */
bool vl_pagecache_before(const struct vl_engine *e, uint64_t file_id, uint64_t idx);
int vl_pagecache_fread(struct vl_engine *e, uint64_t file_id, uint64_t offset, uint64_t len,
		       struct vl_error *err);
bool vl_pagecache_marked(const struct vl_engine *e, uint64_t file_id, uint64_t idx);
int vl_pagecache_window(struct vl_engine *e, uint64_t file_id, uint64_t start, uint64_t size,
			uint64_t async, bool marked, unsigned order, uint64_t end);
int vl_pagecache_mark_hit(struct vl_engine *e, uint64_t file_id, uint64_t idx, uint64_t req,
			  bool count, struct vl_error *err);
void vl_pagecache_free(struct vl_engine *e);

/* Whether a fault on page idx of section sec will read it from its file
 * (not in memory, not cached, the file its source). */
bool vl_section_will_read(struct vl_engine *e, uint32_t sec, uint64_t idx);

void vl_fault_around(struct vl_engine *e, uint32_t proc, const struct vl_vad *d, uint64_t vpn,
		     unsigned prot);
/* Accessed bit of shared frame f over every PTE mapping it (clearing it
 * when clear); folds the mappers' dirty bits into the frame. */
bool vl_shared_referenced(struct vl_engine *e, uint32_t f, bool clear);
/* Every process PTE mapping shared frame f goes back to its prototype
 * marker; *dirty |= any of them was dirty. */
void vl_shared_unmap_all(struct vl_engine *e, uint32_t f, bool *dirty);


/* sim/thp.c: transparent huge pages (linux rules) and khugepaged */
/* Demand-zero fault at li: a THP fault if the rules allow.  1 when they
 * do not (4 KiB path), else 0 or an error. */
int vl_thp_fault(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn, uint64_t pte,
		 unsigned prot, bool write, const struct vl_access *a, struct vl_error *err);
/* A write to the huge zero page: allocate the 2 MiB page in one fault.
 * 1 when it cannot (the 4 KiB copy-on-write path takes over). */
int vl_thp_zero_wp(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn,
		   unsigned prot, const struct vl_access *a, struct vl_error *err);
/* One khugepaged scan (thp.khugepaged = on); 0 or an error. */
int vl_khugepaged_scan(struct vl_engine *e, struct vl_error *err);

/* sim/swap.c: the linux swap cache and swap readahead (swap.cache) */
int vl_swap_init(struct vl_engine *e, struct vl_error *err);
void vl_swap_fini(struct vl_engine *e);
/* proc's page vpn at leaf li, paged out to slot, is touched (op): read it
 * and its readahead window into the swap cache and map it (a major
 * fault).  0 or an error. */
int vl_swap_in(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn, unsigned prot,
	       bool write, const struct vl_access *a, struct vl_error *err);
/* The transition PTE at li names swap-cache frame f: map it (a minor
 * fault, a swap-cache hit).  0 or an error. */
int vl_swap_hit(struct vl_engine *e, uint32_t proc, uint32_t li, uint32_t f, uint64_t vpn,
		unsigned prot, bool write, const struct vl_access *a, struct vl_error *err);
/* proc's private page at leaf li was just paged out to slot. */
void vl_swap_paged_out(struct vl_engine *e, uint32_t proc, uint32_t li, uint32_t slot);
/* Swap-cache frame f leaves memory (reclaimed: its PTE gets its slot back;
 * released: the caller frees the slot); the policy hears on_unmap.  The
 * frame is left for the caller to free. */
void vl_swap_drop(struct vl_engine *e, uint32_t f);
/* The configuration-dependent counters of the swap cache (names, values
 * from index 0; max entries); returns how many there are (0 when off). */
size_t vl_swap_counters(struct vl_engine *e, const char **names, uint64_t *values, size_t max);
const char *vl_swap_counter_help(const struct vl_engine *e, size_t i);

/* sim/vad.c */
int vl_event(struct vl_engine *e, uint32_t proc, const struct vl_event *ev, struct vl_error *err);
struct vl_vad *vl_vad_find(struct vl_proc *p, uint64_t vpn);

/* sim/engine.c */
/* The model clock: estimated cycles so far (est_cycles, from the cost.*
 * keys); simulated seconds are this over cost.hz. */
double vl_engine_cycles(const struct vl_engine *e);
/* Slot of the live process pid, creating it (a new row) when there is
 * none; VL_NIL on out of memory (err filled). */
uint32_t vl_proc_lookup(struct vl_engine *e, uint32_t pid, struct vl_error *err);
/* Process index of live pid, or VL_NIL (never creates one). */
uint32_t vl_proc_find(const struct vl_engine *e, uint32_t pid);

/* sim/heap.c: the heap layer (docs/heap.md) */
/* heap.model from the configuration; 0 or VL_EINVAL (unknown model, the
 * message lists the choices) / VL_ENOMEM. */
int vl_heap_init(struct vl_engine *e, struct vl_error *err);
void vl_heap_fini(struct vl_engine *e);
/* One heap event (VL_EV_HEAP_*) of pid: counters, live blocks, the model.
 * Bad input is counted in heap_errors, not an error; returns 0, or
 * VL_ENOMEM / an engine error from the model's OS calls. */
int vl_heap_event(struct vl_engine *e, uint32_t pid, const struct vl_event *ev,
		  struct vl_error *err);
/* proc starts as a fork of process ppid (V FORK): it inherits the parent's
 * live blocks, at the addresses the parent's model gave them. */
int vl_heap_fork(struct vl_engine *e, uint32_t proc, uint32_t ppid, struct vl_error *err);
/* proc exited: its heap state goes (no OS calls); vl_proc_retire calls it. */
void vl_heap_exit(struct vl_engine *e, uint32_t proc);
/* Pages the heap holds committed now, all processes (the level whose peak
 * is heap_committed_peak). */
uint64_t vl_heap_committed(const struct vl_engine *e);
/* vl_engine_feed when a model is on (e->heap_xlate): accesses inside live
 * blocks moved to the model's blocks, heap events applied in order. */
int vl_heap_feed(struct vl_engine *e, const struct vl_batch *b, struct vl_error *err);
/* sim/access.c: the access loop itself (vl_engine_feed without the heap
 * layer's translation) */
int vl_engine_feed_plain(struct vl_engine *e, const struct vl_batch *b, struct vl_error *err);
/* Process proc has exited and freed its address space: its counters go to
 * the record of exited processes and its slot becomes free (sim/vad.c,
 * at the end of V EXIT; nothing may name the slot afterwards). */
void vl_proc_retire(struct vl_engine *e, uint32_t proc);
/* The process table agrees with itself (vl_engine_check): live slots in
 * order[] with their rows, found by pid, free slots chained. */
int vl_proc_table_check(const struct vl_engine *e, struct vl_error *err);
/* The first live process whose row is at least row: its slot, *row set
 * to its row; VL_NIL (and *row = e->nrows) when none. */
uint32_t vl_proc_from_row(const struct vl_engine *e, uint32_t *row);

/* Iterate over live processes in order of first appearance:
 *   for (uint32_t k = 0, i; proc_next(e, &k, &i);) ... e->procs[i] ... */
static inline bool proc_next(const struct vl_engine *e, uint32_t *k, uint32_t *slot)
{
	while (*k < e->norder) {
		uint32_t s = e->order[(*k)++];
		if (s != VL_NIL) {
			*slot = s;
			return true;
		}
	}
	return false;
}

/* sim/access.c: recompute tick_at, the access count of the next periodic
 * work, after an interval changed */
void vl_tick_at_update(struct vl_engine *e);

/* sim/check.c: the invariant checker (vl_engine_check) */

/* ---- the large-page machinery (sim/hugepage.c) ----
 *
 * One representation for every large page, whoever made it (the textbook
 * largepage.* policies, the linux THP rules, khugepaged): a PS entry at
 * level 2 (2 MiB) or 3 (1 GiB) over a naturally aligned buddy block whose
 * frames are ACTIVE, PFN_F_LARGE, pte = the PS entry, aux = order
 * (| PFN_AUX_LOCKED). */

/* Make PS entry pde of proc map the block at f0 (order 9 or 18) for pages
 * from vpn0, with hardware bits `bits` (A, D, protection; PS is added).
 * keep: frame flags kept besides PFN_F_LARGE (0 for a fresh block,
 * PFN_F_MODIFIED for frames mapped in place).  table: the level-1 node
 * that mapped the range until now (0 for none); it is emptied and
 * deposited for a later split when deposit, else freed (with its frame).
 * Tells nobody and counts nothing: callers count (count_large_page) and
 * tell the resident-set manager in their own order. */
int hp_init(struct vl_engine *e, struct vl_error *err);
void hp_fini(struct vl_engine *e);
void hp_install(struct vl_engine *e, uint32_t proc, uint32_t pde, uint32_t f0, unsigned order,
		uint64_t vpn0, uint64_t bits, uint16_t aux, uint8_t keep, uint32_t table, bool deposit);
/* Split the large page at PS entry pde one level down (1 GiB -> 512 x 2 MiB,
 * 2 MiB -> 512 x 4 KiB PTEs, reusing its deposited table if it has one),
 * each piece with the entry's A, D and protection bits.  count: a split
 * (large_page_splits), not a whole page zapped.  0 or VL_ENOMEM. */
int hp_split(struct vl_engine *e, uint32_t pde, bool count, struct vl_error *err);
/* The 4 KiB leaf of proc's page vpn, whose walk ended at entry li: li
 * itself, or, when li maps a large page, the leaf after splitting it
 * down (count as hp_split).  VL_NIL when out of memory. */
uint32_t hp_leaf(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn, bool count);
/* proc's large page at PS entry pde goes away whole (its process exits):
 * its frames are freed (the resident-set manager hears of each pageable
 * one), its deposit too, and the entry is cleared. */
void hp_release(struct vl_engine *e, uint32_t proc, uint32_t pde);
/* Deposits agree with the page tables; 0 or VL_ESTATE. */
int hp_check(const struct vl_engine *e, struct vl_error *err);

/* ---- large-page policies (sim/largepage.c) ---- */

int lp_init(struct vl_engine *e, struct vl_error *err);
void lp_fini(struct vl_engine *e);
/* Fault on a page whose walk found no present leaf: map a large page (or a
 * page in a reservation) when the policy asks and memory allows.  Returns
 * 1 when it handled the fault, 0 to take the 4 KiB path, or a negative
 * code.  *violation is set when the policy refused the access. */
int lp_fault(struct vl_engine *e, uint32_t proc, const struct vl_access *a, bool write,
	     bool *violation, struct vl_error *err);
/* Frame f of a reservation is leaving memory: break its reservation. */
void lp_resv_drop(struct vl_engine *e, uint32_t f);
/* Break the least recently populated reservation; false when none. */
bool lp_resv_break_one(struct vl_engine *e);
void lp_tick(struct vl_engine *e);
/* Process proc gets address-space events: split its large pages, break
 * its reservations (the VAD code works on 4 KiB pages). */
int lp_forget(struct vl_engine *e, uint32_t proc, struct vl_error *err);
/* Does a large-page reservation name process proc? */
bool lp_names(const struct vl_engine *e, uint32_t proc);
int lp_check(struct vl_engine *e, struct vl_error *err);

/* ---- the global manager's eviction, inline for the fault path ---- */

/* Evict private 4 KiB frame f (record p) under the global manager: a
 * dirty page is written to the page file (a slot is given at its first
 * eviction and kept), the PTE keeps the slot; f stays allocated. */
static inline __attribute__((always_inline)) int
global_evict_private(struct vl_engine *e, uint32_t f, struct vl_pfn *p, struct vl_error *err)
{
	uint64_t *pte = &e->pt.e[p->pte];
	struct vl_proc_counters *pc = &e->procs[p->owner].ctr;
	bool dirty = (*pte & PTE_D) || (p->flags & PFN_F_MODIFIED);
	if (p->slot == VL_NIL) { /* its first eviction */
		p->slot = pf_alloc(&e->pf);
		if (unlikely(p->slot == VL_NIL)) /* the page file is full: grow it, or steal */
			VL_TRY(vl_slot_ensure(e, f, err));
	}
	if (dirty) {
		e->ctr.writebacks++;
		count_page_write(e, false);
		pc->writebacks++;
	}
	pt_set(&e->pt, p->pte, SWPTE_MKPROT(VPTE_PROT(*pte)) | SWPTE_PAGEFILE(p->slot));
	if (e->sw.on) /* swap cluster readahead finds the page by its slot */
		vl_swap_paged_out(e, p->owner, p->pte, p->slot);
	if (e->xl.nt)
		xl_invlpg(e, p->owner, pt_vpn(&e->pt, p->pte));
	pc->evictions++;
	pc->resident_pages--;
	e->ctr.evictions++;
	e->resident--;
	if (e->elist_on)
		elist_del(e, f);
	else
		e->repl_ops->on_unmap(&e->repl, f);
	return 0;
}

/* Global manager, memory full (no free frame, no standby page): evict the
 * policy's victim and hand its frame over directly, in the state
 * pfn_free and pfn_alloc would leave it.  VL_NIL when it could not: *rc
 * is then 0 (a victim was evicted the general way: allocate again) or an
 * error. */
static inline __attribute__((always_inline)) uint32_t
vl_global_take(struct vl_engine *e, const struct vl_access *a, int *rc, struct vl_error *err)
{
	uint32_t f;
	if (e->elist_on && e->el_tail != VL_NIL) { /* the list's tail (run.check checks it) */
		f = e->el_tail;
		*rc = 0;
		/* The next victims, ahead of time (a hint only; hits may still
		 * move them): the record after the next one, and the next one's
		 * PTE, whose record this prefetch made cached one fault ago.
		 * The tail's record and PTE are then in cache when taken. */
		uint32_t b1 = e->db.pfn[f].blink;
		if (likely(b1 != VL_NIL)) {
			const struct vl_pfn *q = &e->db.pfn[b1];
			if (likely(q->blink != VL_NIL))
				__builtin_prefetch(&e->db.pfn[q->blink], 1);
			if (likely(q->pte < (uint64_t)e->pt.cap * PT_ENTRIES))
				__builtin_prefetch(&e->pt.e[q->pte], 1);
		}
	} else {
		f = vl_global_pick(e, a, rc, err);
		if (f == VL_NIL)
			return VL_NIL;
	}
	struct vl_pfn *p = &e->db.pfn[f];
	if ((p->flags & (PFN_F_LARGE | PFN_F_PROTO)) || p->loc != PFN_ACTIVE || e->resv_n ||
	    e->db.nfree) {
		*rc = vl_global_evict(e, f, err); /* the general way; the caller allocates */
		return VL_NIL;
	}
	/* the private 4 KiB case, and then the frame as pfn_free and
	 * pfn_alloc would hand it back with nothing else free */
	if ((*rc = global_evict_private(e, f, p, err)) < 0)
		return VL_NIL;
	p->loc = PFN_ACTIVE;
	p->flags = 0;
	p->pte = VL_NIL;
	p->owner = VL_NIL;
	p->slot = VL_NIL;
	p->aux = 0;
	p->flink = p->blink = VL_NIL;
	return f;
}

/* vl_frame_get's first case (memory full under the global manager), for
 * it and for the walk loop's inlined copy: the victim's frame, counted as
 * a zero fill when one is asked for (pfn_free would have left it not
 * known zero); VL_NIL as vl_global_take. */
static inline __attribute__((always_inline)) uint32_t
vl_global_take_fill(struct vl_engine *e, bool zero, const struct vl_access *a, int *rc,
		    struct vl_error *err)
{
	uint32_t f = vl_global_take(e, a, rc, err);
	if (f != VL_NIL && zero && e->count_zeroing)
		count_zero_fill(e, 1);
	return f;
}

#endif
