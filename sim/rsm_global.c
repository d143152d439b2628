/* sim/rsm_global.c - the global resident-set manager (textbook, linux):
 * the replacement policy holds every resident frame and chooses victims
 * among all of them; a victim is evicted at once.
 *
 * Where an evicted page goes: a dirty private page is written to the page
 * file (writebacks; a slot is assigned at its first eviction and kept, so a
 * clean page evicted again is not written), a dirty file page to its file;
 * clean pages are dropped, their copy being current.  The PTE keeps the
 * slot, so a later touch is a hard fault.  A shared frame is unmapped from
 * every process first (through its section's views).  Nothing goes to the
 * standby or modified lists.  With the linux swap cache (swap.cache) the
 * policy also holds swap-cache pages no PTE maps (sim/swap.c); one chosen
 * is dropped, its PTE getting its slot back, and nothing is written.
 */
#include "sim/internal.h"

/* Evict resident frame f now (the general way; private pages through
 * global_evict_private, sim/internal.h). */
int vl_global_evict(struct vl_engine *e, uint32_t f, struct vl_error *err)
{
	if (e->db.pfn[f].loc == PFN_SWAPCACHE) {
		/* linux: a swap-cache page no PTE maps; its copy is in its slot */
		e->procs[e->db.pfn[f].owner].ctr.evictions++;
		e->ctr.evictions++;
		vl_swap_drop(e, f);
		pfn_free(&e->db, f, 0);
		return 0;
	}
	while (e->db.pfn[f].flags & PFN_F_LARGE) /* a piece of a large page: split first */
		VL_TRY(hp_split(e, e->db.pfn[f].pte, true, err));
	if (e->resv_n)
		lp_resv_drop(e, f);
	struct vl_pfn *p = &e->db.pfn[f];
	if (p->flags & PFN_F_PROTO) {
		bool dirty = (p->flags & PFN_F_MODIFIED) != 0;
		bool pagefile = PFN_PAGEFILE_SECTION(e, p);
		vl_shared_unmap_all(e, f, &dirty);
		if (pagefile) /* backed by the page file: its copy goes there */
			VL_TRY(vl_slot_ensure(e, f, err));
		if (dirty) {
			count_page_write(e, !pagefile);
			e->ctr.writebacks++;
		}
		*vl_proto_of(e, f) = pagefile ? SWPTE_PAGEFILE(p->slot) : 0;
		e->resident_shared--;
		e->ctr.evictions++;
		e->resident--;
		e->repl_ops->on_unmap(&e->repl, f);
	} else {
		VL_TRY(global_evict_private(e, f, p, err));
	}
	pfn_free(&e->db, f, 0);
	return 0;
}

/* The policy's victim, checked (make_room's part before the eviction);
 * VL_NIL with *rc set when there is none. */
uint32_t vl_global_pick(struct vl_engine *e, const struct vl_access *a, int *rc,
			    struct vl_error *err)
{
	*rc = 0;
	if (e->resident + e->sw.cached == 0) {
		*rc = vl_err(err, VL_ELIMIT,
			     "out of memory: all %u frames hold page tables (%llu) or are pinned, "
			     "no page can be evicted; give more %s",
			     e->db.nframes, (unsigned long long)e->ctr.pt_pages,
			     e->db.nextra ? "memory (memory.limit)" : "memory.frames");
		return VL_NIL;
	}
	struct vl_evict_ctx ctx = { .cause = a, .pid = 0 };
	size_t n;
	if (e->elist_on) { /* the list's tail */
		e->victims[0] = e->el_tail;
		n = e->el_tail != VL_NIL;
	} else {
		n = e->repl_ops->select_victims(&e->repl, &ctx, e->victims, 1);
	}
	if (n == 0 && e->resident) {
		*rc = vl_err(err, VL_ELIMIT, "out of memory: all %llu resident pages are non-pageable",
			     (unsigned long long)e->resident);
		return VL_NIL;
	}
	if (n != 1) {
		*rc = vl_err(err, VL_ESTATE,
			     "policy %s returned %zu victims when asked for 1 with %llu pages resident",
			     e->repl_ops->name, n, (unsigned long long)e->resident);
		return VL_NIL;
	}
	uint32_t v = e->victims[0];
	if (v >= e->db.nframes ||
	    (e->db.pfn[v].loc != PFN_ACTIVE && e->db.pfn[v].loc != PFN_SWAPCACHE)) {
		*rc = vl_err(err, VL_ESTATE, "policy %s chose frame %u, which is not resident",
			     e->repl_ops->name, v);
		return VL_NIL;
	}
	return v;
}

static int global_make_room(struct vl_engine *e, const struct vl_access *a, struct vl_error *err)
{
	int rc;
	uint32_t v = vl_global_pick(e, a, &rc, err);
	return v == VL_NIL ? rc : vl_global_evict(e, v, err);
}

/* The policy holds frames: a private frame from the moment a PTE maps it,
 * a shared one from the moment it is read (global_cached).  access.c's
 * fault_fast calls on_map itself for the private frames it maps. */
static int global_mapped(struct vl_engine *e, uint32_t proc, uint64_t vpn, uint32_t f,
			 const struct vl_access *a, struct vl_error *err)
{
	if (!(e->db.pfn[f].flags & PFN_F_PROTO))
		e->repl_ops->on_map(&e->repl, f, a);
	return 0;
}

static void global_cached(struct vl_engine *e, uint32_t f, const struct vl_access *a)
{
	e->repl_ops->on_map(&e->repl, f, a);
}

static void global_unmapped(struct vl_engine *e, uint32_t proc, uint64_t vpn, uint32_t f)
{
	if (!(e->db.pfn[f].flags & PFN_F_PROTO))
		e->repl_ops->on_unmap(&e->repl, f);
}

/* A shared frame no process maps stays resident for the policy to evict. */
static void global_idle(struct vl_engine *e, uint32_t f)
{
}

static void global_grow(struct vl_engine *e, uint32_t proc)
{
}

static int global_tick(struct vl_engine *e, struct vl_error *err)
{
	return 0;
}

static uint64_t global_ws_pages(const struct vl_engine *e)
{
	return e->resident;
}

static int global_check(const struct vl_engine *e, uint64_t valid, struct vl_error *err)
{
	return vl_elist_check(e, err);
}

const struct vl_rsm_ops vl_rsm_global = {
	.name = "global",
	.policy = true,
	.lists = false,
	.mapped = global_mapped,
	.cached = global_cached,
	.unmapped = global_unmapped,
	.idle = global_idle,
	.grow = global_grow,
	.make_room = global_make_room,
	.tick = global_tick,
	.ws_pages = global_ws_pages,
	.check = global_check,
};
