/* sim/largepage.c - the textbook large-page policies (largepage.policy):
 * mapping at fault, collapsing (promotion) and reservations, over the
 * large-page machinery of sim/hugepage.c (its representation: a PS entry
 * over a buddy block, one frame record per 4 KiB frame).
 *
 * The replacement policy keeps working on 4 KiB frames: it hears on_map
 * for each of the 512 (262144) frames, the faulting one last, and its
 * victim is a 4 KiB frame.  Evicting a frame of a large page first splits
 * the mapping (hp_split: 1 GiB -> 512 x 2 MiB -> 512 x 4 KiB PTEs,
 * large_page_splits), then evicts that 4 KiB page alone.  Counting stays
 * in base pages: resident and pages_zeroed grow by 512 for a 2 MiB fault,
 * faults by one.
 *
 * A large page is mapped only where no page table exists below the entry
 * yet (the range is untouched): like Linux's THP fault path, a range that
 * already has 4 KiB pages is left to promotion.  Non-pageable large pages
 * (madvise, Windows MEM_LARGE_PAGES) carry PFN_AUX_LOCKED and are never
 * given to the replacement policy.
 *
 * Reservations (Navarro et al., OSDI 2002).  A reservation owns an order-9
 * block for one 2 MiB range whose page table exists; unmapped frames of the
 * block are PFN_RESERVED, mapped ones ordinary ACTIVE 4 KiB pages.  A fault in
 * the range maps the page at its own place in the block; the 512th
 * promotes the range in place (no copy).  Evicting a page of a reservation
 * breaks it (its remaining frames go back to the buddy allocator), and so
 * does memory pressure before any page is evicted.  resv_of_node maps the
 * range's page-table node to its reservation.
 *
 * Large pages are made only for processes without address-space events
 * (under any personality, without page tables in frames: a split makes a
 * page table); a process's first event splits its large pages and breaks
 * its reservations (lp_forget).  The VAD code could handle them now (it
 * splits what it changes part of, sim/hugepage.c); the rule stays because
 * it is part of the results.  Collapsing releases the old pages through
 * vl_page_release (the zero page is zero-filled, not copied) and refuses a
 * range holding file pages.
 *
 * Memory fragmentation (memory.fragmentation = x): at start, one frame in
 * the middle of a fraction x of the 2 MiB blocks (spread evenly) is pinned
 * (PFN_PINNED), as unmovable kernel allocations pin real memory; those
 * blocks can never be 2 MiB pages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/internal.h"

/* Hardware bits of a page under implicit commit (processes without VAD
 * events: execute-read-write), protection kept in bits 52..56 as the
 * fault path expects when the page later leaves memory. */
#define LP_HW (prot_hw(VL_PROT_EXECUTE_READWRITE) | PTE_RW)

struct lp_resv {
	uint32_t proc, node, base, mapped;
	uint64_t vpn;        /* first vpn of the range */
	uint64_t last;       /* time of the last population */
};

/* ---- services for policies ---- */

static void each_range(void *ctx, void (*fn)(void *, uint32_t, uint64_t, uint32_t, uint32_t),
		       void *arg);
static int collapse(void *ctx, uint32_t proc, uint64_t vpn);

static const struct vl_lp_services lp_services = {
	.each_range = each_range,
	.collapse = collapse,
};

/* ---- set-up ---- */

static int fragment(struct vl_engine *e, double x, struct vl_error *err)
{
	uint32_t nblocks = e->db.nframes / 512;
	if (x <= 0 || nblocks == 0)
		return 0;
	bool *pin = calloc(nblocks, sizeof(*pin));
	if (!pin)
		return vl_err(err, VL_ENOMEM, "out of memory for memory.fragmentation");
	for (uint32_t b = 0; b < nblocks; b++)
		pin[b] = (uint64_t)((double)(b + 1) * x) > (uint64_t)((double)b * x);
	/* take every frame, give back all but the pinned ones */
	for (uint32_t i = 0; i < e->db.nframes; i++)
		(void)pfn_alloc(&e->db, 0);
	for (uint32_t f = 0; f < e->db.nframes; f++) {
		uint32_t b = f / 512;
		if (b < nblocks && pin[b] && f % 512 == 256) {
			e->db.pfn[f].loc = PFN_PINNED;
			e->pinned++;
			continue;
		}
		pfn_free(&e->db, f, 0);
	}
	free(pin);
	return 0;
}

int lp_init(struct vl_engine *e, struct vl_error *err)
{
	const char *name = vl_config_str(e->cfg, "largepage.policy");
	e->lp_ops = vl_lp_find(name);
	if (!e->lp_ops) {
		char list[200];
		POLICY_NAMES(list, vl_lp_at);
		return vl_err(err, VL_ENOENT, "largepage.policy: unknown policy '%s' (known: %s)", name,
			      list);
	}
	e->lp = (struct vl_lp){ .ops = e->lp_ops, .cfg = e->cfg, .mm = &lp_services, .mm_ctx = e };
	if (e->lp_ops->init)
		VL_TRY(e->lp_ops->init(&e->lp, err));
	e->lp_live_init = true;
	e->lp_any = strcmp(name, "none") != 0;
	e->lp_interval = vl_config_u64(e->cfg, "largepage.interval");
	e->lp_next_tick = e->lp_ops->tick ? e->lp_interval : UINT64_MAX;
	return fragment(e, vl_config_double(e->cfg, "memory.fragmentation"), err);
}

void lp_fini(struct vl_engine *e)
{
	if (e->lp_live_init && e->lp_ops->fini)
		e->lp_ops->fini(&e->lp);
	e->lp_live_init = false;
	free(e->resv);
	free(e->resv_node);
	e->resv = NULL;
	e->resv_node = NULL;
}

/* ---- mapping ---- */

/* A demand-zero fault of proc mapped pages frames. */
static void lp_count_fault(struct vl_engine *e, uint32_t proc, uint32_t pages)
{
	count_fault(e, proc, FAULT_DEMAND_ZERO);
	if (pages > 1)
		count_zero_fill(e, pages); /* a large zero fill is counted in any personality */
	e->procs[proc].ctr.resident_pages += pages;
	count_resident(e, pages);
}

/* Tell the policy about n new frames from f0 backing pages from vpn0; the
 * page of access a (if inside) last, so that it is the most recent. */
static void announce(struct vl_engine *e, uint32_t proc, uint32_t f0, uint32_t n, uint64_t vpn0,
		     const struct vl_access *a)
{
	struct vl_access o = *a;
	uint32_t mine = (a->vpn >= vpn0 && a->vpn < vpn0 + n) ? (uint32_t)(a->vpn - vpn0) : n;
	for (uint32_t i = 0; i < n; i++) {
		if (i == mine)
			continue;
		o.vpn = vpn0 + i;
		e->rsm->mapped(e, proc, o.vpn, f0 + i, &o, NULL);
	}
	if (mine < n)
		e->rsm->mapped(e, proc, a->vpn, f0 + mine, a, NULL);
}

/* Map the block at f0 (order 9 or 18) through entry idx for process proc. */
static void map_large(struct vl_engine *e, uint32_t proc, size_t idx, uint32_t f0,
		      unsigned order, uint64_t vpn0, const struct vl_access *a, bool write,
		      bool pinned)
{
	uint32_t n = 1u << order;
	hp_install(e, proc, (uint32_t)idx, f0, order, vpn0,
		   LP_HW | PTE_A | (write ? PTE_D : 0) | (pinned ? PTE_SW_NOPOLICY : 0),
		   (uint16_t)(order | (pinned ? PFN_AUX_LOCKED : 0)), 0, 0, false);
	count_large_page(e, false, 0);
	lp_count_fault(e, proc, n);
	if (!pinned)
		announce(e, proc, f0, n, vpn0, a);
}

/* Entry index at `level` for va, creating the tables above it. */
static uint32_t ensure(struct vl_engine *e, uint32_t proc, uint64_t va, unsigned level)
{
	return pt_entry_create(&e->pt, e->procs[proc].root, va, level);
}

static struct lp_resv *resv_find(struct vl_engine *e, uint32_t node)
{
	if (!e->resv_n || node >= e->resv_node_cap || e->resv_node[node] == VL_NIL)
		return NULL;
	return &e->resv[e->resv_node[node]];
}

static int resv_new(struct vl_engine *e, uint32_t proc, uint32_t node, uint32_t base, uint64_t vpn)
{
	if (!e->resv) {
		/* at most one reservation per 2 MiB block of memory */
		e->resv_cap = e->db.nframes / 512 + 1;
		e->resv = calloc(e->resv_cap, sizeof(*e->resv));
		if (!e->resv)
			return VL_ENOMEM;
	}
	if (node >= e->resv_node_cap) {
		uint32_t ncap = e->resv_node_cap ? e->resv_node_cap : 64;
		while (ncap <= node)
			ncap *= 2;
		uint32_t *no = realloc(e->resv_node, ncap * sizeof(*no));
		if (!no)
			return VL_ENOMEM;
		memset(no + e->resv_node_cap, 0xff, (ncap - e->resv_node_cap) * sizeof(*no));
		e->resv_node = no;
		e->resv_node_cap = ncap;
	}
	uint32_t i = e->resv_n++;
	e->resv[i] = (struct lp_resv){ .proc = proc, .node = node, .base = base, .vpn = vpn,
				       .last = e->time };
	e->resv_node[node] = i;
	for (uint32_t k = 0; k < 512; k++) {
		e->db.pfn[base + k].loc = PFN_RESERVED;
		e->db.pfn[base + k].flags = 0;
		e->db.pfn[base + k].owner = proc;
	}
	return 0;
}

static void resv_remove(struct vl_engine *e, struct lp_resv *r)
{
	uint32_t i = (uint32_t)(r - e->resv);
	e->resv_node[r->node] = VL_NIL;
	e->resv_n--;
	if (i != e->resv_n) {
		e->resv[i] = e->resv[e->resv_n];
		e->resv_node[e->resv[i].node] = i;
	}
}

/* Break r: unmapped frames back to the buddy allocator. */
static void resv_break(struct vl_engine *e, struct lp_resv *r)
{
	for (uint32_t k = 0; k < 512; k++) {
		struct vl_pfn *p = &e->db.pfn[r->base + k];
		if (p->loc == PFN_RESERVED) {
			p->loc = PFN_ACTIVE; /* pfn_free expects an allocated frame */
			pfn_free(&e->db, r->base + k, 0);
		}
	}
	e->ctr.reservations_broken++;
	resv_remove(e, r);
}

void lp_resv_drop(struct vl_engine *e, uint32_t f)
{
	const struct vl_pfn *p = &e->db.pfn[f];
	if (p->loc != PFN_ACTIVE || (p->flags & (PFN_F_PROTO | PFN_F_LARGE)))
		return;
	struct lp_resv *r = resv_find(e, p->pte / PT_ENTRIES);
	if (r && f >= r->base && f < r->base + 512)
		resv_break(e, r);
}

bool lp_resv_break_one(struct vl_engine *e)
{
	if (!e->resv_n)
		return false;
	struct lp_resv *old = &e->resv[0];
	for (uint32_t i = 1; i < e->resv_n; i++)
		if (e->resv[i].last < old->last)
			old = &e->resv[i];
	resv_break(e, old);
	return true;
}

/* All 512 pages of r are mapped: turn the range into one 2 MiB page. */
static void resv_promote(struct vl_engine *e, struct lp_resv *r)
{
	uint32_t proc = r->proc, node = r->node, base = r->base;
	uint64_t vpn0 = r->vpn, flags = 0;
	size_t pde = ensure(e, proc, va_of(vpn0), 2);
	for (uint32_t k = 0; k < 512; k++)
		flags |= e->pt.e[(size_t)node * PT_ENTRIES + k] & (PTE_A | PTE_D);
	resv_remove(e, r);
	for (uint32_t k = 0; k < 512; k++)
		xl_invlpg(e, proc, vpn0 + k);
	hp_install(e, proc, (uint32_t)pde, base, 9, vpn0, LP_HW | flags, 9, 0, node, false);
	count_large_page(e, true, 0);
}

int lp_fault(struct vl_engine *e, uint32_t proc, const struct vl_access *a, bool write,
	     bool *violation, struct vl_error *err)
{
	if (!e->lp_any || e->procs[proc].explicit_vm)
		return 0;
	uint64_t va = va_of(a->vpn);
	uint32_t i3 = ensure(e, proc, va, 3);
	if (i3 == VL_NIL)
		return pt_nomem(&e->pt, err);
	uint64_t e3 = e->pt.e[i3];
	uint64_t e2 = 0;
	uint32_t i2 = VL_NIL;
	if (e3 & PTE_P) {
		if (e3 & PTE_PS)
			return 0;
		unsigned at;
		i2 = pt_descend(&e->pt, PTE_FRAME(e3), 2, va, 2, 0, NULL, &at);
		e2 = e->pt.e[i2];
	}
	if (e2 & PTE_P) {
		if (e2 & PTE_PS)
			return 0;
		/* a page table exists: a page of a reservation, or plain 4 KiB */
		struct lp_resv *r = resv_find(e, PTE_FRAME(e2));
		if (!r)
			return 0;
		uint32_t f = r->base + (uint32_t)(a->vpn & 511);
		size_t li = (size_t)r->node * PT_ENTRIES + (a->vpn & 511);
		struct vl_pfn *p = &e->db.pfn[f];
		if (p->loc != PFN_RESERVED || e->pt.e[li] != 0)
			return vl_err(err, VL_ESTATE, "reservation frame %u is not reserved", f);
		p->loc = PFN_ACTIVE;
		p->pte = (uint32_t)li;
		p->owner = proc;
		p->slot = VL_NIL;
		p->aux = 0;
		p->flags = 0;
		pt_set(&e->pt, (uint32_t)li, PTE_MAKE(f) | LP_HW | PTE_A | (write ? PTE_D : 0));
		lp_count_fault(e, proc, 1);
		e->rsm->mapped(e, proc, a->vpn, f, a, NULL);
		r->last = e->time;
		if (++r->mapped == 512)
			resv_promote(e, r);
		return 1;
	}
	struct vl_lp_fault lf = { .vpn = a->vpn, .pid = a->pid, .op = a->op, .can_1g = !(e3 & PTE_P) };
	unsigned ans = e->lp_ops->fault_size(&e->lp, &lf);
	unsigned size = ans & 3;
	bool fell = false;
	if (size == VL_LP_4K)
		return 0;
	if (size == VL_LP_1G && lf.can_1g) {
		uint32_t f0 = pfn_alloc(&e->db, 18);
		if (f0 != VL_NIL) {
			map_large(e, proc, i3, f0, 18, a->vpn & ~((1ull << 18) - 1), a, write,
				  (ans & VL_LP_PINNED) != 0);
			return 1;
		}
		fell = true;
	}
	if (i2 == VL_NIL && (i2 = ensure(e, proc, va, 2)) == VL_NIL)
		return pt_nomem(&e->pt, err);
	uint32_t f0 = pfn_alloc(&e->db, 9);
	if (f0 == VL_NIL) {
		count_large_fallback(e);
		if (ans & VL_LP_NOFALLBACK) {
			*violation = true;
			return 1;
		}
		return 0;
	}
	if (fell)
		count_large_fallback(e);
	uint64_t vpn0 = a->vpn & ~511ull;
	if (ans & VL_LP_RESERVE) {
		uint32_t li = ensure(e, proc, va, 1);
		if (li == VL_NIL) {
			pfn_free(&e->db, f0, 9);
			return pt_nomem(&e->pt, err);
		}
		if (resv_new(e, proc, li / PT_ENTRIES, f0, vpn0) < 0) {
			pfn_free(&e->db, f0, 9);
			return vl_err(err, VL_ENOMEM, "out of memory for reservations");
		}
		return lp_fault(e, proc, a, write, violation, err); /* now maps inside it */
	}
	map_large(e, proc, i2, f0, 9, vpn0, a, write, (ans & VL_LP_PINNED) != 0);
	return 1;
}

/* ---- promotion services ---- */

struct range_visit {
	struct vl_engine *e;
	uint32_t proc;
	void (*fn)(void *, uint32_t, uint64_t, uint32_t, uint32_t);
	void *arg;
};

/* One PDE: a 2 MiB range mapped through a page table, not a reservation. */
static void range_visit(void *ctx, uint32_t i2, uint64_t vpn)
{
	struct range_visit *v = ctx;
	struct vl_engine *e = v->e;
	uint64_t e2 = e->pt.e[i2];
	if (!(e2 & PTE_P) || (e2 & PTE_PS) || resv_find(e, PTE_FRAME(e2)))
		return;
	const uint64_t *pte = e->pt.e + (size_t)PTE_FRAME(e2) * PT_ENTRIES;
	uint32_t res = 0, out = 0;
	for (uint32_t k = 0; k < 512; k++) {
		res += (pte[k] & PTE_P) != 0;
		out += pte[k] && !(pte[k] & PTE_P);
	}
	v->fn(v->arg, v->proc, vpn, res, out);
}

static void each_range(void *ctx, void (*fn)(void *, uint32_t, uint64_t, uint32_t, uint32_t),
		       void *arg)
{
	struct vl_engine *e = ctx;
	struct range_visit v = { .e = e, .fn = fn, .arg = arg };
	for (uint32_t k = 0; proc_next(e, &k, &v.proc);)
		pt_foreach_entry(&e->pt, e->procs[v.proc].root, 2, range_visit, &v);
}

static int collapse(void *ctx, uint32_t proc, uint64_t vpn)
{
	struct vl_engine *e = ctx;
	uint64_t vpn0 = vpn & ~511ull, va = va_of(vpn0);
	if (proc >= e->nslots || !e->procs[proc].root)
		return VL_EINVAL;
	uint32_t i2 = pt_entry(&e->pt, e->procs[proc].root, va, 2);
	if (i2 == VL_NIL || !(e->pt.e[i2] & PTE_P) || (e->pt.e[i2] & PTE_PS))
		return VL_EINVAL;
	uint32_t node = PTE_FRAME(e->pt.e[i2]);
	if (resv_find(e, node))
		return VL_EINVAL;
	const uint64_t *pte = e->pt.e + (size_t)node * PT_ENTRIES;
	for (uint32_t k = 0; k < 512; k++) {
		if (pte[k] && !(pte[k] & PTE_P))
			return VL_EINVAL; /* paged out: collapsing would need a swap-in */
		if ((pte[k] & PTE_P) && PTE_FRAME(pte[k]) != e->zero_frame &&
		    (e->db.pfn[PTE_FRAME(pte[k])].flags & PFN_F_PROTO))
			return VL_EINVAL; /* a file page: not this process's to copy */
	}
	uint32_t f0 = pfn_alloc(&e->db, 9);
	if (f0 == VL_NIL)
		return VL_ENOMEM;
	struct vl_proc_counters *pc = &e->procs[proc].ctr;
	uint32_t copied = 0;
	for (uint32_t k = 0; k < 512; k++) {
		uint64_t ent = e->pt.e[(size_t)node * PT_ENTRIES + k];
		if (!(ent & PTE_P))
			continue;
		copied += PTE_FRAME(ent) != e->zero_frame; /* the zero page is zero-filled */
		vl_page_release(e, proc, node * PT_ENTRIES + k, vpn0 + k);
	}
	for (uint32_t k = 0; k < 512; k++)
		xl_invlpg(e, proc, vpn0 + k);
	/* the copy exists only in memory now: dirty */
	hp_install(e, proc, i2, f0, 9, vpn0, LP_HW | PTE_A | PTE_D, 9, 0, node, false);
	pc->resident_pages += 512;
	count_resident(e, 512);
	count_large_page(e, true, copied);
	count_zero_fill(e, 512 - copied);
	struct vl_access a = vl_access_none(e, e->procs[proc].pid);
	announce(e, proc, f0, 512, vpn0, &a);
	return 0;
}

bool lp_names(const struct vl_engine *e, uint32_t proc)
{
	for (uint32_t i = 0; i < e->resv_n; i++)
		if (e->resv[i].proc == proc)
			return true;
	return false;
}

int lp_forget(struct vl_engine *e, uint32_t proc, struct vl_error *err)
{
	for (uint32_t i = 0; i < e->resv_n;) {
		if (e->resv[i].proc == proc)
			resv_break(e, &e->resv[i]); /* moves the last record to i */
		else
			i++;
	}
	for (uint32_t f = 0; f < e->db.nframes; f++)
		while (e->db.pfn[f].loc == PFN_ACTIVE && (e->db.pfn[f].flags & PFN_F_LARGE) &&
		       e->db.pfn[f].owner == proc)
			VL_TRY(hp_split(e, e->db.pfn[f].pte, true, err));
	return 0;
}

void lp_tick(struct vl_engine *e)
{
	e->lp_next_tick += e->lp_interval;
	if (e->lp_ops->tick)
		e->lp_ops->tick(&e->lp);
}

int lp_check(struct vl_engine *e, struct vl_error *err)
{
	for (uint32_t i = 0; i < e->resv_n; i++) {
		const struct lp_resv *r = &e->resv[i];
		uint32_t mapped = 0;
		for (uint32_t k = 0; k < 512; k++) {
			const struct vl_pfn *p = &e->db.pfn[r->base + k];
			uint64_t ent = e->pt.e[(size_t)r->node * PT_ENTRIES + k];
			if ((p->loc == PFN_ACTIVE) != ((ent & PTE_P) && PTE_FRAME(ent) == r->base + k) ||
			    (p->loc != PFN_ACTIVE && p->loc != PFN_RESERVED))
				return vl_err(err, VL_ESTATE,
					      "reservation at frame %u: frame %u disagrees with its PTE",
					      r->base, r->base + k);
			mapped += p->loc == PFN_ACTIVE;
		}
		if (mapped != r->mapped)
			return vl_err(err, VL_ESTATE, "reservation at frame %u: %u pages mapped, record says %u",
				      r->base, mapped, r->mapped);
	}
	return 0;
}
