/* sim/pagetable.c - x86-64 4-level page tables in one arena.
 *
 * Every node (PML4, PDPT, PD, PT) is 512 uint64_t entries in one growable
 * array; a node is named by its index, so a PTE's location is one 32-bit
 * index (node * 512 + slot) that stays valid when the arena moves.  Upper
 * levels hold P|RW|US|A with the child node index in the frame field.
 * Memory is proportional to the address space touched: 4 KiB per node.
 * Freed nodes are kept on a free list threaded through their entry 0.
 */
#include <stdlib.h>
#include <string.h>

#include "core/memory.h"
#include "sim/internal.h"

int pt_init(struct vl_ptarena *a, struct vl_error *err)
{
	memset(a, 0, sizeof(*a));
	a->cap = 64;
	a->e = calloc((size_t)a->cap * PT_ENTRIES, sizeof(uint64_t));
	a->used = calloc(a->cap, sizeof(*a->used));
	a->parent = calloc(a->cap, sizeof(*a->parent));
	a->frame = calloc(a->cap, sizeof(*a->frame));
	a->base = calloc(a->cap, sizeof(*a->base));
	if (!a->e || !a->used || !a->parent || !a->frame || !a->base) {
		pt_fini(a);
		return vl_err(err, VL_ENOMEM, "out of memory for page tables");
	}
	a->nnodes = 1; /* node 0 is the null node */
	a->budget = UINT64_MAX;
	return 0;
}

int pt_nomem(const struct vl_ptarena *a, struct vl_error *err)
{
	if (!a->over_budget)
		return vl_err(err, VL_ENOMEM, "out of memory for page tables");
	uint64_t more = (uint64_t)a->cap * (PT_ENTRIES * sizeof(uint64_t) + 18);
	int rc = vl_memory_check(a->budget, a->budget_default, more, "page tables", err);
	return rc ? rc : vl_err(err, VL_ELIMIT, "run.max_memory: no room for more page tables");
}

void pt_fini(struct vl_ptarena *a)
{
	free(a->e);
	free(a->used);
	free(a->parent);
	free(a->frame);
	free(a->base);
	memset(a, 0, sizeof(*a));
}

uint32_t pt_node_new(struct vl_ptarena *a)
{
	uint32_t n;
	if (a->free_head) {
		n = a->free_head;
		a->free_head = (uint32_t)a->e[(size_t)n * PT_ENTRIES];
		a->e[(size_t)n * PT_ENTRIES] = 0;
		a->used[n] = 0;
	} else {
		if (a->nnodes == a->cap) {
			if (a->cap >= (VL_NIL / PT_ENTRIES) / 2)
				return 0;
			uint32_t ncap = a->cap * 2;
			/* growth is rare (doubling): the one place page tables
			 * ask the memory budget (node, used, parent, frame, base) */
			a->over_budget = false;
			if (a->budget != UINT64_MAX &&
			    vl_memory_check(a->budget, a->budget_default,
					    (uint64_t)a->cap * (PT_ENTRIES * sizeof(uint64_t) + 18),
					    "page tables", NULL) < 0) {
				a->over_budget = true;
				return 0;
			}
			uint64_t *ne = realloc(a->e, (size_t)ncap * PT_ENTRIES * sizeof(uint64_t));
			if (!ne)
				return 0;
			vl_advise_huge(ne, (size_t)ncap * PT_ENTRIES * sizeof(uint64_t));
			memset(ne + (size_t)a->cap * PT_ENTRIES, 0,
			       (size_t)(ncap - a->cap) * PT_ENTRIES * sizeof(uint64_t));
			a->e = ne;
			uint16_t *nu = realloc(a->used, ncap * sizeof(*nu));
			if (nu)
				a->used = nu;
			uint32_t *np = realloc(a->parent, ncap * sizeof(*np));
			if (np)
				a->parent = np;
			uint32_t *nf = realloc(a->frame, ncap * sizeof(*nf));
			if (nf)
				a->frame = nf;
			uint64_t *nb = realloc(a->base, ncap * sizeof(*nb));
			if (nb)
				a->base = nb;
			if (!nu || !np || !nf || !nb)
				return 0;
			a->cap = ncap;
		}
		n = a->nnodes++;
	}
	a->used[n] = 0;
	a->parent[n] = VL_NIL;
	a->frame[n] = VL_NIL;
	a->base[n] = 0;
	a->live++;
	return n;
}

void pt_node_free(struct vl_ptarena *a, uint32_t node)
{
	memset(&a->e[(size_t)node * PT_ENTRIES], 0, PT_ENTRIES * sizeof(uint64_t));
	a->e[(size_t)node * PT_ENTRIES] = a->free_head;
	a->free_head = node;
	a->used[node] = 0;
	a->frame[node] = VL_NIL;
	a->live--;
	a->frees++;
}

uint32_t pt_make_child(struct vl_ptarena *a, uint32_t i, uint64_t base)
{
	uint32_t child = pt_node_new(a);
	if (!child)
		return 0;
	pt_set(a, i, PTE_MAKE(child) | PT_UPPER); /* a->e may have moved: index again */
	a->parent[child] = i;
	a->base[child] = base;
	a->created[a->ncreated++] = child;
	return child;
}

/* Visit every non-zero entry of level `target` below node (of `level`),
 * with the first page number it maps.  A large page above level 1 is one
 * call per 4 KiB piece, all naming its entry, when target is 1, and is
 * skipped otherwise. */
static void foreach_level(struct vl_ptarena *a, uint32_t node, unsigned level, unsigned target,
			  uint64_t vpn_base, void (*fn)(void *ctx, uint32_t li, uint64_t vpn),
			  void *ctx)
{
	for (uint32_t i = 0; i < PT_ENTRIES; i++) {
		uint32_t idx = node * PT_ENTRIES + i;
		uint64_t ent = a->e[idx];
		if (!ent)
			continue;
		uint64_t vpn = vpn_base | ((uint64_t)i << (9 * (level - 1)));
		if (level == target) {
			fn(ctx, idx, vpn);
		} else if ((ent & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS)) {
			for (uint64_t k = 0; target == 1 && k < (1ull << (9 * (level - 1))); k++)
				fn(ctx, idx, vpn + k);
		} else {
			foreach_level(a, PTE_FRAME(ent), level - 1, target, vpn, fn, ctx);
		}
	}
}

/* Is an entry of level `level` at node (whose first page is base) non-zero
 * for a page of [start, end)?  Visits only the entries that meet the range
 * and the tables below them that exist. */
static bool any_in(const struct vl_ptarena *a, uint32_t node, unsigned level, uint64_t base,
		   uint64_t start, uint64_t end)
{
	uint64_t span = 1ull << (9 * (level - 1)); /* pages one entry maps */
	uint64_t lo = start > base ? (start - base) / span : 0;
	uint64_t hi = (end - base + span - 1) / span;
	if (hi > PT_ENTRIES)
		hi = PT_ENTRIES;
	for (uint64_t i = lo; i < hi; i++) {
		uint64_t ent = a->e[(size_t)node * PT_ENTRIES + i];
		if (!ent)
			continue;
		if (level == 1 || (ent & (PTE_P | PTE_PS)) != PTE_P)
			return true; /* a leaf, a large page, or a non-present entry */
		if (any_in(a, PTE_FRAME(ent), level - 1, base + i * span, start, end))
			return true;
	}
	return false;
}

bool pt_any_in(const struct vl_ptarena *a, uint32_t root, uint64_t start, uint64_t end)
{
	return start < end && any_in(a, root, 4, 0, start, end);
}

void pt_foreach_leaf(struct vl_ptarena *a, uint32_t root,
		     void (*fn)(void *ctx, uint32_t li, uint64_t vpn), void *ctx)
{
	foreach_level(a, root, 4, 1, 0, fn, ctx);
}

void pt_foreach_entry(struct vl_ptarena *a, uint32_t root, unsigned level,
		      void (*fn)(void *ctx, uint32_t i, uint64_t vpn), void *ctx)
{
	foreach_level(a, root, 4, level, 0, fn, ctx);
}
