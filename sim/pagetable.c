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

#include "sim/internal.h"

#define UPPER_FLAGS (PTE_P | PTE_RW | PTE_US | PTE_A)

int pt_init(struct vl_ptarena *a, struct vl_error *err)
{
	memset(a, 0, sizeof(*a));
	a->cap = 64;
	a->e = calloc((size_t)a->cap * PT_ENTRIES, sizeof(uint64_t));
	if (!a->e)
		return vl_err(err, VL_ENOMEM, "out of memory for page tables");
	a->nnodes = 1; /* node 0 is the null node */
	return 0;
}

void pt_fini(struct vl_ptarena *a)
{
	free(a->e);
	memset(a, 0, sizeof(*a));
}

uint32_t pt_node_new(struct vl_ptarena *a)
{
	uint32_t n;
	if (a->free_head) {
		n = a->free_head;
		a->free_head = (uint32_t)a->e[(size_t)n * PT_ENTRIES];
		a->e[(size_t)n * PT_ENTRIES] = 0;
	} else {
		if (a->nnodes == a->cap) {
			if (a->cap >= (VL_NIL / PT_ENTRIES) / 2)
				return 0;
			uint32_t ncap = a->cap * 2;
			uint64_t *ne = realloc(a->e, (size_t)ncap * PT_ENTRIES * sizeof(uint64_t));
			if (!ne)
				return 0;
			memset(ne + (size_t)a->cap * PT_ENTRIES, 0,
			       (size_t)(ncap - a->cap) * PT_ENTRIES * sizeof(uint64_t));
			a->e = ne;
			a->cap = ncap;
		}
		n = a->nnodes++;
	}
	a->live++;
	return n;
}

static inline unsigned va_index(uint64_t va, unsigned level)
{
	/* level 4 = PML4 (bits 47..39) ... level 1 = PT (bits 20..12) */
	return (unsigned)(va >> (12 + 9 * (level - 1))) & (PT_ENTRIES - 1);
}

uint32_t pt_walk_create(struct vl_ptarena *a, uint32_t root, uint64_t va)
{
	uint32_t node = root;
	for (unsigned level = 4; level > 1; level--) {
		size_t i = (size_t)node * PT_ENTRIES + va_index(va, level);
		uint64_t ent = a->e[i];
		if (!(ent & PTE_P)) {
			uint32_t child = pt_node_new(a);
			if (!child)
				return VL_NIL;
			ent = PTE_MAKE(child) | UPPER_FLAGS;
			a->e[i] = ent; /* a->e may have moved: index again */
		}
		node = PTE_FRAME(ent);
	}
	return node * PT_ENTRIES + va_index(va, 1);
}

uint32_t pt_walk(const struct vl_ptarena *a, uint32_t root, uint64_t va)
{
	uint32_t node = root;
	for (unsigned level = 4; level > 1; level--) {
		uint64_t ent = a->e[(size_t)node * PT_ENTRIES + va_index(va, level)];
		if (!(ent & PTE_P))
			return VL_NIL;
		node = PTE_FRAME(ent);
	}
	return node * PT_ENTRIES + va_index(va, 1);
}
