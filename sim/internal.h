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
 *   - a frame is FREE (owned by the buddy allocator) or ACTIVE;
 *   - an ACTIVE frame f has pt[pfn[f].pte] valid and pointing at f, and
 *     pfn[f].proc/vpn name the process and page that PTE translates;
 *   - free + active == nframes; active == pages the policy holds.
 */
#ifndef VMLAB_SIM_INTERNAL_H
#define VMLAB_SIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmlab/vmlab.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define VL_NIL UINT32_MAX /* null 32-bit index */

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

/* Invalid-PTE software format (Valid = 0), Windows-like placement:
 * Protection bits 5..9, Prototype bit 10, Transition bit 11,
 * PageFileHigh (slot + 1) bits 32..63. */
#define SWPTE_PROTO (1ull << 10)
#define SWPTE_TRANS (1ull << 11)
#define SWPTE_SLOT(e) ((uint32_t)((e) >> 32) - 1u) /* valid if (e >> 32) != 0 */
#define SWPTE_HAS_SLOT(e) (((e) >> 32) != 0)
#define SWPTE_PAGEFILE(slot) ((uint64_t)((slot) + 1u) << 32)

#define PT_ENTRIES 512
#define VA_BITS 48

/* ---- frame database ---- */

enum pfn_loc {
	PFN_FREE = 0,   /* in the buddy allocator */
	PFN_ACTIVE = 1, /* mapped by a valid PTE */
};

struct vl_pfn {            /* 32 bytes */
	uint64_t vpn;      /* virtual page mapped (ACTIVE) */
	uint32_t pte;      /* arena index of the leaf PTE mapping it (ACTIVE) */
	uint32_t proc;     /* owning process index (ACTIVE) */
	uint32_t flink, blink; /* buddy free lists (FREE block heads) */
	uint32_t slot;     /* page-file slot holding a copy, VL_NIL if none */
	uint8_t loc;       /* enum pfn_loc */
	uint8_t order;     /* buddy order of a free block head */
	uint16_t flags;
};

#define PFN_F_HEAD 0x1 /* FREE: first frame of a free buddy block */

#define BUDDY_MAX_ORDER 18 /* 2^18 pages = 1 GiB */

struct vl_pfndb {
	struct vl_pfn *pfn;
	uint32_t nframes;
	uint32_t nfree;                       /* frames in the buddy allocator */
	uint32_t head[BUDDY_MAX_ORDER + 1];   /* free block lists by order */
	uint32_t count[BUDDY_MAX_ORDER + 1];  /* blocks per order */
};

int pfn_init(struct vl_pfndb *db, uint32_t nframes, struct vl_error *err);
void pfn_fini(struct vl_pfndb *db);
/* Allocate a 2^order block; returns its first frame or VL_NIL. */
uint32_t pfn_alloc(struct vl_pfndb *db, unsigned order);
/* Return a 2^order block starting at frame f (coalescing buddies). */
void pfn_free(struct vl_pfndb *db, uint32_t f, unsigned order);
/* Check buddy lists against nfree; 0 or VL_ESTATE. */
int pfn_check(const struct vl_pfndb *db, struct vl_error *err);

/* ---- page-table arena ---- */

struct vl_ptarena {
	uint64_t *e;        /* nodes * 512 entries; node 0 unused */
	uint32_t nnodes;    /* nodes in use (including node 0) */
	uint32_t cap;       /* nodes allocated */
	uint32_t free_head; /* freed nodes, linked through entry 0 */
	uint32_t live;      /* nodes allocated and not freed (excluding node 0) */
};

int pt_init(struct vl_ptarena *a, struct vl_error *err);
void pt_fini(struct vl_ptarena *a);
/* New zeroed node; returns its index or 0 when out of memory.  May move a->e. */
uint32_t pt_node_new(struct vl_ptarena *a);
/* Arena index of the leaf PTE for va under root, creating missing nodes.
 * Returns VL_NIL when out of memory. */
uint32_t pt_walk_create(struct vl_ptarena *a, uint32_t root, uint64_t va);
/* Arena index of the leaf PTE for va, or VL_NIL when a level is missing. */
uint32_t pt_walk(const struct vl_ptarena *a, uint32_t root, uint64_t va);

/* ---- processes ---- */

struct vl_proc {
	uint32_t pid;
	uint32_t root;  /* PML4 node */
	struct vl_proc_counters ctr; /* accesses counted at snapshot from op counts */
	uint64_t accesses;
};

/* ---- page file ---- */

struct vl_pagefile {
	uint32_t next;       /* next never-used slot */
	uint32_t limit;      /* slots; 0 = unlimited */
	uint32_t *free;      /* freed slots (stack) */
	uint32_t nfree, free_cap;
	uint32_t used;
};

/* Allocate a slot; VL_NIL when the page file is full or out of memory. */
uint32_t pf_alloc(struct vl_pagefile *pf);
void pf_release(struct vl_pagefile *pf, uint32_t slot);
void pf_fini(struct vl_pagefile *pf);

/* ---- built-in presets (generated from configs/ at build time) ---- */

struct vl_preset {
	const char *kind, *name, *text;
};
extern const struct vl_preset vl_presets[];
extern const size_t vl_npresets;

/* ---- the engine ---- */

struct vl_engine {
	struct vl_config *cfg;
	struct vl_pfndb db;
	struct vl_ptarena pt;
	struct vl_pagefile pf;

	struct vl_proc *procs;
	uint32_t nprocs, procs_cap;
	uint32_t *pid_hash;       /* open addressing: proc index or VL_NIL */
	uint32_t pid_hash_mask;
	uint32_t last_pid, last_proc;

	const struct vl_repl_ops *repl_ops;
	struct vl_repl repl;
	bool repl_live;           /* init succeeded */
	bool wants_access;
	uint32_t *victims;        /* scratch for select_victims */

	const uint64_t *future;   /* next-use times, or NULL */
	uint64_t future_n;

	uint64_t time;            /* accesses replayed so far */
	uint64_t op_count[VL_OP_NACCESS];
	uint64_t resident;        /* active frames */
	bool check_each_batch;

	struct vl_counters ctr;   /* counters not derived at snapshot time */
	struct vl_counters snap;  /* last snapshot */
};

#endif
