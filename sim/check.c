/* sim/check.c - the invariant checker (vl_engine_check, run.check = on).
 *
 * Walks every address space and the whole frame database and checks what
 * the model promises (sim/internal.h lists the invariants beside the data):
 * every valid PTE maps an active frame whose record points back; shared
 * frames are counted by the PTEs mapping them; transition PTEs name frames
 * on the page lists; list lengths, free, active, page-table and pinned
 * frame counts agree with their counters; commit charge equals committed
 * pages; then the buddy allocator, page-table deposits, the TLBs and
 * walk caches, large pages and the resident-set manager check their own.
 */
#include <stdlib.h>

#include "sim/internal.h"

struct check_ctx {
	struct vl_engine *e;
	uint32_t proc;
	uint32_t *maps;       /* per frame: valid PTEs mapping it */
	uint64_t valid;       /* valid PTEs (not the zero page) */
	uint64_t committed;   /* committed private pages of this process */
	uint64_t slots;       /* page-file slots PTEs and frames hold */
	uint64_t zero_vad_ptes; /* PTEs (non-zero) inside VAD_F_COMMITTED VADs */
	int rc;
	struct vl_error *err;
};

static void check_leaf(void *ctx, uint32_t li, uint64_t vpn)
{
	struct check_ctx *c = ctx;
	struct vl_engine *e = c->e;
	uint64_t pte = e->pt.e[li];
	if (c->rc)
		return;
	struct vl_vad *d = e->procs[c->proc].explicit_vm ? vl_vad_find(&e->procs[c->proc], vpn) : NULL;
	if (vad_commits_zero(d))
		c->zero_vad_ptes++; /* counted below by what it says; its VAD counts the rest */
	if (!(pte & PTE_P)) {
		bool com = pte && !(pte & SWPTE_PROTO) && pte != SWPTE_DECOMMIT;
		if (com && (!d || d->kind == VAD_PRIVATE))
			c->committed++;
		if (!(pte & (SWPTE_PROTO | SWPTE_TRANS)) && SWPTE_HAS_SLOT(pte))
			c->slots++;
		if (pte & SWPTE_TRANS) {
			uint32_t f = PTE_FRAME(pte);
			const struct vl_pfn *p = &e->db.pfn[f];
			if (f >= e->db.nframes ||
			    (p->loc != PFN_STANDBY && p->loc != PFN_MODIFIED &&
			     p->loc != PFN_SWAPCACHE) ||
			    p->pte != li || (p->flags & PFN_F_PROTO) ||
			    (p->loc == PFN_SWAPCACHE && (p->owner != c->proc || pfn_vpn(e, f) != vpn ||
							 p->slot == VL_NIL)))
				c->rc = vl_err(c->err, VL_ESTATE,
					       "pid %u page 0x%llx: transition PTE names frame %u, which "
					       "is not its standby/modified/swap-cache page",
					       e->procs[c->proc].pid, (unsigned long long)vpn, f);
		}
		return;
	}
	uint32_t f = PTE_FRAME(pte);
	if ((pte & PTE_PS) && f < e->db.nframes) { /* a piece of a large page */
		const struct vl_pfn *h = &e->db.pfn[f];
		unsigned order = PFN_LP_ORDER(h);
		if (!(h->flags & PFN_F_LARGE) || (order != 9 && order != 18) || f % (1u << order) ||
		    f + (1u << order) > e->db.nframes) {
			c->rc = vl_err(c->err, VL_ESTATE,
				       "pid %u page 0x%llx: large-page entry 0x%llx does not map an "
				       "aligned block of large-page frames",
				       e->procs[c->proc].pid, (unsigned long long)vpn,
				       (unsigned long long)pte);
			return;
		}
		f += (uint32_t)(vpn & ((1u << order) - 1));
	}
	if (f == e->zero_frame && e->zero_page) {
		if (!d || d->kind == VAD_PRIVATE)
			c->committed++;
		return;
	}
	if (f >= e->db.nframes + e->db.extra_used) {
		c->rc = vl_err(c->err, VL_ESTATE, "pid %u page 0x%llx maps frame %u of %u",
			       e->procs[c->proc].pid, (unsigned long long)vpn, f,
			       e->db.nframes + e->db.extra_used);
		return;
	}
	const struct vl_pfn *p = &e->db.pfn[f];
	/* an extra frame (outside memory.limit) holds a page-cache page the
	 * policy never hears of */
	if (f >= e->db.nframes && (!(p->flags & PFN_F_PROTO) || !(pte & PTE_SW_NOPOLICY))) {
		c->rc = vl_err(c->err, VL_ESTATE,
			       "pid %u page 0x%llx maps frame %u, outside memory.limit, %s",
			       e->procs[c->proc].pid, (unsigned long long)vpn, f,
			       (p->flags & PFN_F_PROTO) ? "without PTE_SW_NOPOLICY"
							: "as a private page");
		return;
	}
	/* a non-pageable large page is no resident-set manager's */
	if (!(p->flags & PFN_F_LARGE) || !(p->aux & PFN_AUX_LOCKED))
		c->valid++;
	c->maps[f]++;
	if (p->loc != PFN_ACTIVE) {
		c->rc = vl_err(c->err, VL_ESTATE, "pid %u page 0x%llx maps frame %u, which is not active",
			       e->procs[c->proc].pid, (unsigned long long)vpn, f);
		return;
	}
	if (p->flags & PFN_F_PROTO)
		return;
	if (!d || d->kind == VAD_PRIVATE)
		c->committed++;
	/* the page's number as the record gives it: the node's first page
	 * (pt.base) plus the entry's place */
	if (p->owner != c->proc || p->pte != li || pfn_vpn(e, f) != vpn)
		c->rc = vl_err(c->err, VL_ESTATE,
			       "pid %u page 0x%llx maps frame %u, whose owner does not point back "
			       "(owner %u, pte %u, page 0x%llx)",
			       e->procs[c->proc].pid, (unsigned long long)vpn, f, p->owner, p->pte,
			       (unsigned long long)pfn_vpn(e, f));
}

static uint64_t list_len(struct vl_engine *e, const struct plist *l, unsigned loc, int *bad)
{
	uint64_t n = 0;
	for (uint32_t f = l->head; f != VL_NIL && n <= e->db.nframes; f = e->db.pfn[f].flink) {
		if (e->db.pfn[f].loc != loc)
			*bad = (int)f;
		n++;
	}
	return n;
}

/* Active shared frame f, mapped by maps PTEs: its prototype PTE points
 * back and its share count is right. */
static int check_shared(const struct vl_engine *e, uint32_t f, uint32_t maps, struct vl_error *err)
{
	const struct vl_pfn *p = &e->db.pfn[f];
	const struct vl_section *s = &e->sections[p->owner];
	uint64_t idx = pfn_vpn(e, f);
	if (idx >= s->npages || proto_get(s, idx) != (PTE_P | PTE_MAKE(f)))
		return vl_err(err, VL_ESTATE, "shared frame %u: its prototype PTE does not point back",
			      f);
	if (p->aux != maps)
		return vl_err(err, VL_ESTATE, "shared frame %u: share count %u, but %u PTEs map it", f,
			      p->aux, maps);
	return 0;
}

int vl_engine_check(struct vl_engine *e, struct vl_error *err)
{
	struct check_ctx c = { .e = e, .err = err };
	c.maps = calloc((size_t)e->db.nframes + e->db.extra_used, sizeof(*c.maps));
	if (!c.maps)
		return vl_err(err, VL_ENOMEM, "out of memory checking invariants");
	if (vl_proc_table_check(e, err) < 0) {
		free(c.maps);
		return err ? err->code : VL_ESTATE;
	}
	uint64_t commit = 0;
	/* commit.pt_pages: each process is charged its page-table frames */
	uint32_t *ptc = calloc(e->nslots ? e->nslots : 1, sizeof(*ptc));
	if (!ptc) {
		free(c.maps);
		return vl_err(err, VL_ENOMEM, "out of memory checking invariants");
	}
	for (uint32_t f = 0; f < e->db.nframes && !c.rc; f++) {
		const struct vl_pfn *p = &e->db.pfn[f];
		if (p->loc != PFN_PT)
			continue;
		/* a page-table frame belongs to a live process (one that
		 * exited freed them all before its slot went) */
		if (p->owner >= e->nslots || !e->procs[p->owner].root)
			c.rc = vl_err(err, VL_ESTATE, "page-table frame %u belongs to no live process (slot %u)",
				      f, p->owner);
		else if (e->commit_pt)
			ptc[p->owner]++;
	}
	for (uint32_t k = 0, i; !c.rc && proc_next(e, &k, &i);) {
		struct vl_proc *pr = &e->procs[i];
		c.proc = i;
		c.committed = ptc[i];
		c.zero_vad_ptes = 0;
		pt_foreach_leaf(&e->pt, pr->root, check_leaf, &c);
		/* a VAD_F_COMMITTED VAD's pages with PTE 0 are committed */
		for (uint32_t v = 0; v < pr->nvads; v++)
			if (vad_commits_zero(&pr->vads[v]))
				c.committed += pr->vads[v].end - pr->vads[v].start;
		c.committed -= c.zero_vad_ptes;
		for (uint32_t v = 0; v < pr->nvads; v++)
			if (pr->vads[v].kind == VAD_MAPPED && prot_copy(pr->vads[v].prot))
				c.committed += pr->vads[v].end - pr->vads[v].start;
		/* large pages charge no commit (sim/largepage.c) */
		if (!c.rc && !e->lp_any && c.committed != pr->commit)
			c.rc = vl_err(err, VL_ESTATE, "pid %u: %llu pages committed, charge says %llu",
				      pr->pid, (unsigned long long)c.committed,
				      (unsigned long long)pr->commit);
		commit += pr->commit;
	}
	free(ptc);
	uint64_t count[PFN_SWAPCACHE + 1] = { 0 }, shared = 0;
	for (uint32_t f = 0; f < e->db.nframes && !c.rc; f++) {
		const struct vl_pfn *p = &e->db.pfn[f];
		if (p->loc > PFN_SWAPCACHE) {
			c.rc = vl_err(err, VL_ESTATE, "frame %u has unknown location %u", f, p->loc);
			break;
		}
		count[p->loc]++;
		if ((p->loc == PFN_ACTIVE || p->loc == PFN_STANDBY || p->loc == PFN_MODIFIED ||
		     p->loc == PFN_SWAPCACHE) &&
		    (!(p->flags & PFN_F_PROTO) || PFN_PAGEFILE_SECTION(e, p)) && p->slot != VL_NIL)
			c.slots++;
		if (p->loc == PFN_ACTIVE && (p->flags & PFN_F_PROTO)) {
			shared++;
			c.rc = check_shared(e, f, c.maps[f], err);
		} else if (p->loc == PFN_ACTIVE && c.maps[f] != 1) {
			c.rc = vl_err(err, VL_ESTATE, "private frame %u is mapped by %u PTEs", f,
				      c.maps[f]);
		} else if (p->loc == PFN_ACTIVE && (p->flags & PFN_F_LARGE) &&
			   !(e->pt.e[p->pte] & PTE_PS)) {
			c.rc = vl_err(err, VL_ESTATE, "frame %u of a large page: its entry is not a large page",
				      f);
		} else if ((p->loc == PFN_STANDBY || p->loc == PFN_MODIFIED) && (p->flags & PFN_F_PROTO)) {
			const struct vl_section *s = &e->sections[p->owner];
			if (proto_get(s, pfn_vpn(e, f)) != (SWPTE_TRANS | PTE_MAKE(f)))
				c.rc = vl_err(err, VL_ESTATE,
					      "listed shared frame %u: prototype PTE is not its transition PTE",
					      f);
		} else if (p->loc == PFN_PT && e->pt.frame[p->pte] != f) {
			c.rc = vl_err(err, VL_ESTATE, "frame %u claims page-table node %u, which "
				      "does not name it", f, p->pte);
		}
	}
	/* the extra frames handed out: page-cache pages outside the limit */
	for (uint32_t f = e->db.nframes; f < e->db.nframes + e->db.extra_used && !c.rc; f++) {
		const struct vl_pfn *p = &e->db.pfn[f];
		if (p->loc != PFN_ACTIVE || !(p->flags & PFN_F_PROTO))
			c.rc = vl_err(err, VL_ESTATE,
				      "frame %u, outside memory.limit, is not an active shared page", f);
		else
			c.rc = check_shared(e, f, c.maps[f], err);
	}
	free(c.maps);
	if (c.rc)
		return c.rc;
	int bad = -1;
	uint64_t standby = 0;
	for (unsigned i = 0; i < 8; i++)
		standby += list_len(e, &e->standby[i], PFN_STANDBY, &bad);
	uint64_t modified = list_len(e, &e->modified, PFN_MODIFIED, &bad);
	if (bad >= 0)
		return vl_err(err, VL_ESTATE, "frame %d is on a page list it does not say it is on", bad);
	if (standby != count[PFN_STANDBY] || standby != e->nstandby ||
	    modified != count[PFN_MODIFIED])
		return vl_err(err, VL_ESTATE,
			      "list lengths: standby %llu (frames say %llu), modified %llu (frames say %llu)",
			      (unsigned long long)standby, (unsigned long long)count[PFN_STANDBY],
			      (unsigned long long)modified, (unsigned long long)count[PFN_MODIFIED]);
	if (count[PFN_FREE] != e->db.nfree)
		return vl_err(err, VL_ESTATE, "%llu frames free, free lists hold %u",
			      (unsigned long long)count[PFN_FREE], e->db.nfree);
	if (count[PFN_ACTIVE] != e->resident || shared != e->resident_shared)
		return vl_err(err, VL_ESTATE, "%llu frames active, resident count says %llu",
			      (unsigned long long)count[PFN_ACTIVE], (unsigned long long)e->resident);
	if (count[PFN_SWAPCACHE] != e->sw.cached)
		return vl_err(err, VL_ESTATE, "%llu swap-cache frames, the count says %llu",
			      (unsigned long long)count[PFN_SWAPCACHE],
			      (unsigned long long)e->sw.cached);
	if (count[PFN_PT] != e->ctr.pt_pages)
		return vl_err(err, VL_ESTATE, "%llu page-table frames, pt_pages says %llu",
			      (unsigned long long)count[PFN_PT], (unsigned long long)e->ctr.pt_pages);
	if (commit + e->commit_sections != e->commit)
		return vl_err(err, VL_ESTATE,
			      "commit charge %llu != sum over processes %llu + sections %llu",
			      (unsigned long long)e->commit, (unsigned long long)commit,
			      (unsigned long long)e->commit_sections);
	for (uint32_t k = 0; k < e->nsections; k++) { /* paged-out pages of sections */
		const struct vl_section *s = &e->sections[k];
		for (uint32_t j = 0; j < s->chunks_cap && s->pagefile; j++)
			for (uint32_t i = 0; s->chunks[j].pte && i < PROTO_CHUNK; i++) {
				uint64_t q = s->chunks[j].pte[i];
				if (!(q & (PTE_P | SWPTE_TRANS)) && SWPTE_HAS_SLOT(q))
					c.slots++;
			}
	}
	/* every slot in use is held by one paged-out PTE or one frame; the
	 * page file stays within its maximum, and the commit limit is the
	 * frames plus its current size */
	if (c.slots != e->pf.used)
		return vl_err(err, VL_ESTATE, "page file: %u slots in use, PTEs and frames hold %llu",
			      e->pf.used, (unsigned long long)c.slots);
	if (e->pf.limit && (e->pf.limit > e->pf_max || e->pf.used > e->pf.limit ||
			    e->commit_limit != (uint64_t)e->db.nframes + e->pf.limit))
		return vl_err(err, VL_ESTATE,
			      "page file: %u slots (maximum %u, %u in use), commit limit %llu",
			      e->pf.limit, e->pf_max, e->pf.used, (unsigned long long)e->commit_limit);
	VL_TRY(e->rsm->check(e, c.valid, err));
	if (count[PFN_PINNED] != e->pinned)
		return vl_err(err, VL_ESTATE, "%llu frames pinned, memory.fragmentation pinned %u",
			      (unsigned long long)count[PFN_PINNED], e->pinned);
	VL_TRY(pfn_check(&e->db, err));
	VL_TRY(hp_check(e, err));
	VL_TRY(xl_check(e, err));
	return lp_check(e, err);
}
