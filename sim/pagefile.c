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
	pf->free = NULL;
	pf->nfree = pf->free_cap = 0;
}
