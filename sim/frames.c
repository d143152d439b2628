/* sim/frames.c - page lists and where frames come from.
 *
 * A frame that no valid PTE maps but whose contents are still wanted sits
 * on one of the page lists (Windows's, reference notes A.4): standby
 * (clean: its backing copy is current; 8 priorities, repurposed lowest
 * first) or modified (dirty: written by the modified page writer before
 * reuse).  The PTE that mapped it is a transition PTE naming the frame, so
 * a touch brings it back with a soft fault.  Lists link frames through the
 * frame database's flink/blink (32-bit indices).  Only the working-set
 * manager puts frames on them; under global replacement they stay empty.
 *
 * vl_frame_get is the one place frames are handed out: the buddy
 * allocator's free frames first, then a standby frame (repurposed: its old
 * owner's PTE gets its backing location back, T9), then a reservation
 * broken under pressure, then the resident-set manager makes room.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/internal.h"

void plist_push(struct vl_engine *e, struct plist *l, uint32_t f)
{
	struct vl_pfn *p = &e->db.pfn[f];
	p->flink = VL_NIL;
	p->blink = l->tail;
	if (l->tail != VL_NIL)
		e->db.pfn[l->tail].flink = f;
	else
		l->head = f;
	l->tail = f;
	l->n++;
}

void plist_del(struct vl_engine *e, struct plist *l, uint32_t f)
{
	struct vl_pfn *p = &e->db.pfn[f];
	if (p->blink != VL_NIL)
		e->db.pfn[p->blink].flink = p->flink;
	else
		l->head = p->flink;
	if (p->flink != VL_NIL)
		e->db.pfn[p->flink].blink = p->blink;
	else
		l->tail = p->blink;
	p->flink = p->blink = VL_NIL;
	l->n--;
}

void vl_unlist(struct vl_engine *e, uint32_t f)
{
	struct vl_pfn *p = &e->db.pfn[f];
	if (p->loc == PFN_STANDBY) {
		plist_del(e, &e->standby[PFN_PRIO(p)], f);
		e->nstandby--;
	} else if (p->loc == PFN_MODIFIED) {
		plist_del(e, &e->modified, f);
	}
}

void vl_to_list(struct vl_engine *e, uint32_t f)
{
	struct vl_pfn *p = &e->db.pfn[f];
	if (p->flags & PFN_F_MODIFIED) {
		p->loc = PFN_MODIFIED;
		plist_push(e, &e->modified, f);
	} else {
		p->loc = PFN_STANDBY;
		plist_push(e, &e->standby[PFN_PRIO(p)], f);
		e->nstandby++;
	}
}

uint64_t vl_available(const struct vl_engine *e)
{
	return e->db.nfree + e->nstandby;
}

uint64_t *vl_proto_of(struct vl_engine *e, uint32_t f)
{
	const struct vl_pfn *p = &e->db.pfn[f];
	return proto_ref(&e->sections[p->owner], pfn_vpn(e, f)); /* its chunk exists: it holds f */
}

int vl_slot_ensure(struct vl_engine *e, uint32_t f, struct vl_error *err)
{
	struct vl_pfn *p = &e->db.pfn[f];
	if (p->slot != VL_NIL)
		return 0;
	p->slot = pf_alloc(&e->pf);
	if (p->slot == VL_NIL && (vl_pagefile_grow(e, 1) || vl_pagefile_steal(e, f)))
		p->slot = pf_alloc(&e->pf); /* grown, or a resident page's copy given up */
	if (p->slot == VL_NIL)
		return vl_err(err, VL_ELIMIT, "page file full: %u slots in use (pagefile.size = %s)",
			      e->pf.used, vl_config_str(e->cfg, "pagefile.size"));
	return 0;
}

/* A standby frame is reused: give its old owner back the backing location
 * (T9), then hand the frame out. */
static void repurpose(struct vl_engine *e, uint32_t f)
{
	struct vl_pfn *p = &e->db.pfn[f];
	if (p->flags & PFN_F_PROTO) {
		/* back in its file (a clean page is simply dropped), or, backed by
		 * the page file, in its slot (the slot moves to the prototype PTE) */
		*vl_proto_of(e, f) = PFN_PAGEFILE_SECTION(e, p) && p->slot != VL_NIL
					     ? SWPTE_PAGEFILE(p->slot)
					     : 0;
	} else {
		uint64_t *pte = &e->pt.e[p->pte];
		unsigned prot = SWPTE_PROT(*pte);
		/* a clean page with no copy was never written: demand-zero again */
		*pte = SWPTE_MKPROT(prot) | (p->slot != VL_NIL ? SWPTE_PAGEFILE(p->slot) : 0);
	}
	e->ctr.standby_repurposed++;
}

static uint32_t take_standby(struct vl_engine *e)
{
	if (!e->nstandby)
		return VL_NIL;
	for (unsigned prio = 0; prio < 8; prio++) {
		uint32_t f = e->standby[prio].head;
		if (f != VL_NIL) {
			plist_del(e, &e->standby[prio], f);
			e->nstandby--;
			repurpose(e, f);
			e->db.pfn[f].loc = PFN_ACTIVE;
			e->db.pfn[f].flags = 0; /* its contents are not known zero */
			return f;
		}
	}
	return VL_NIL;
}

uint32_t vl_frame_get(struct vl_engine *e, bool zero, const struct vl_access *a,
		      struct vl_error *err)
{
	if (e->db.nfree == 0 && e->nstandby == 0 && e->resv_n == 0 && e->rsm == &vl_rsm_global) {
		/* memory full under global replacement (the common fault of a
		 * textbook run): the victim's frame, handed over directly */
		int rc;
		uint32_t f = vl_global_take_fill(e, zero, a, &rc, err);
		if (f != VL_NIL || rc < 0)
			return f;
	}
	for (unsigned tries = 0; tries < 64; tries++) {
		uint32_t f = pfn_alloc(&e->db, 0);
		if (f == VL_NIL)
			f = take_standby(e);
		if (f != VL_NIL) {
			struct vl_pfn *p = &e->db.pfn[f];
			if (zero && !(p->flags & PFN_F_ZEROED) && e->count_zeroing)
				count_zero_fill(e, 1);
			p->flags = 0;
			p->slot = VL_NIL;
			p->aux = 0;
			return f;
		}
		if (e->resv_n && lp_resv_break_one(e))
			continue; /* memory pressure breaks reservations first */
		if (e->rsm->make_room(e, a, err) < 0)
			return VL_NIL;
	}
	vl_err(err, VL_ESTATE, "no frame could be freed after 64 attempts");
	return VL_NIL;
}

/* ---- the policy's list kept by the engine (VL_REPL_ENGINE_LIST) ----
 * The policy's four list hooks, as the engine's: what calls them through
 * repl_ops (the global manager's general paths, the swap cache) reaches
 * the list in the frame records; the hot paths (access.c, rsm_global.c)
 * use elist_* inline. */
static void elist_on_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	(void)a;
	elist_push_head(r->mm_ctx, f);
}

static void elist_on_unmap(struct vl_repl *r, uint32_t f)
{
	elist_del(r->mm_ctx, f);
}

static void elist_on_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	(void)a;
	elist_move_head(r->mm_ctx, f);
}

static size_t elist_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			    size_t want)
{
	const struct vl_engine *e = r->mm_ctx;
	size_t n = 0;
	(void)ctx;
	for (uint32_t f = e->el_tail; f != VL_NIL && n < want; f = e->db.pfn[f].blink)
		out[n++] = f;
	return n;
}

void vl_elist_setup(struct vl_engine *e)
{
	unsigned fl = e->repl_ops->flags;
	if (e->rsm != &vl_rsm_global || !(fl & VL_REPL_ENGINE_LIST) ||
	    ((fl & VL_REPL_WANTS_ACCESS) && !(fl & VL_REPL_ACCESS_MOVES_HEAD)))
		return;
	e->elist_mux = *e->repl_ops;
	e->elist_mux.on_map = elist_on_map;
	e->elist_mux.on_unmap = elist_on_unmap;
	e->elist_mux.on_access = (fl & VL_REPL_WANTS_ACCESS) ? elist_on_access : NULL;
	e->elist_mux.select_victims = elist_victims;
	e->elist_mux.flags &= ~(unsigned)VL_REPL_ACCESS_MOVES_HEAD; /* r->priv is not the list */
	e->repl_ops = &e->elist_mux;
	e->elist_on = true;
	e->el_head = e->el_tail = VL_NIL;
	e->el_len = 0;
}

int vl_elist_check(const struct vl_engine *e, struct vl_error *err)
{
	if (!e->elist_on)
		return 0;
	uint32_t n = 0, prev = VL_NIL;
	for (uint32_t f = e->el_head; f != VL_NIL; f = e->db.pfn[f].flink) {
		if (f >= e->db.nframes || n > e->el_len)
			return vl_err(err, VL_ESTATE, "policy list: link to frame %u after %u frames", f, n);
		const struct vl_pfn *p = &e->db.pfn[f];
		if (p->blink != prev)
			return vl_err(err, VL_ESTATE, "policy list: frame %u links back to %u, not %u", f,
				      p->blink, prev);
		if (p->loc != PFN_ACTIVE && p->loc != PFN_SWAPCACHE)
			return vl_err(err, VL_ESTATE, "policy list: frame %u is not resident (state %u)",
				      f, p->loc);
		prev = f;
		n++;
	}
	if (prev != e->el_tail || n != e->el_len)
		return vl_err(err, VL_ESTATE, "policy list: %u frames ending at %u, recorded %u ending at %u",
			      n, prev, e->el_len, e->el_tail);
	return 0;
}
