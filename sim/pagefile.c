/* sim/pagefile.c - page-file slot allocation.
 *
 * Slots are handed out lowest-never-used first, freed slots reused LIFO.
 * A limit of 0 means the page file grows without bound (textbook runs).
 */
#include <stdlib.h>

#include "sim/internal.h"

uint32_t pf_alloc(struct vl_pagefile *pf)
{
	uint32_t s;
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
	if (pf->nfree == pf->free_cap) {
		uint32_t ncap = pf->free_cap ? pf->free_cap * 2 : 1024;
		uint32_t *nf = realloc(pf->free, ncap * sizeof(*nf));
		if (!nf) { /* leak the slot rather than fail: it only costs space */
			pf->used--;
			return;
		}
		pf->free = nf;
		pf->free_cap = ncap;
	}
	pf->free[pf->nfree++] = slot;
	pf->used--;
}

void pf_fini(struct vl_pagefile *pf)
{
	free(pf->free);
	pf->free = NULL;
	pf->nfree = pf->free_cap = 0;
}
