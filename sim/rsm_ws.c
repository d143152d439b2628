/* sim/rsm_ws.c - the working-set manager (windows): per-process working
 * sets, trimming onto the standby and modified lists, the modified page
 * writer and the zero page thread (reference notes A.7, A.8).
 *
 * Working sets.  Each process has a working-set list (WSLE array) of the
 * pages its valid PTEs map, one entry vpn | age << 56 (a shared page can
 * be in several working sets; frames link into one page list only, so the
 * list is per process, not through the frame database).  A page enters
 * the list when a PTE of the process maps it and leaves it when trimmed or
 * released.
 *
 * Aging and trimming.  A pass every wsm.interval accesses ages each list
 * by accessed bits (A set: age 0 and A cleared, with an INVLPG; clear: one
 * older, up to 7) and, when available memory (free + standby) is below
 * wsm.available_pages, trims the oldest pages first, never below
 * ws.min_pages.  Before a process's working set grows past ws.max_pages
 * while memory is not plentiful, it replaces within itself.  A trimmed
 * page leaves the working set for the standby list (clean) or the modified
 * list (dirty); its PTE becomes a transition PTE, so a touch before the
 * frame is repurposed is a soft fault.  A shared page is parked on a list
 * only when it leaves the last working set holding it.
 *
 * Making room.  With no free or standby frame: the modified page writer
 * writes a cluster (mpw.cluster_pages) to the page file, making it
 * standby; else working sets are trimmed (past their minimum if need be).
 *
 * The replacement policy is not consulted (docs/design.md says why).
 */
#include <stdlib.h>

#include "sim/internal.h"

#define WSL_AGE_SHIFT 56
#define WSL_VPN(x) ((x) & VPN_MASK)
#define WSL_AGE(x) ((unsigned)((x) >> WSL_AGE_SHIFT) & 7)
#define AGE_MAX 7

/* Remove working-set entry i of proc (swap with the last). */
static void wsl_remove(struct vl_proc *pr, uint32_t i)
{
	pr->wsl[i] = pr->wsl[--pr->ws_n];
	if (pr->ws_hand >= pr->ws_n)
		pr->ws_hand = 0;
}

/* Remove vpn from proc's working set, if it is there. */
static void ws_forget(struct vl_proc *pr, uint64_t vpn)
{
	for (uint32_t i = 0; i < pr->ws_n; i++)
		if (WSL_VPN(pr->wsl[i]) == vpn) {
			wsl_remove(pr, i);
			return;
		}
}

static int wsl_insert(struct vl_proc *pr, uint64_t vpn)
{
	if (grow_array(&pr->wsl, pr->ws_n, &pr->ws_cap, sizeof(*pr->wsl), 64) < 0)
		return VL_ENOMEM;
	pr->wsl[pr->ws_n++] = vpn;
	return 0;
}

/* A shared frame no working set maps any more stays cached on the standby
 * or modified list under its transition prototype PTE (T6/T13). */
static void ws_idle(struct vl_engine *e, uint32_t f)
{
	struct vl_pfn *p = &e->db.pfn[f];
	if (p->aux != 0 || p->loc != PFN_ACTIVE)
		return;
	*vl_proto_of(e, f) = SWPTE_TRANS | PTE_MAKE(f);
	e->resident_shared--;
	e->resident--;
	vl_to_list(e, f);
}

/* Page vpn of process proc leaves its working set (T6). */
static void trim_page(struct vl_engine *e, uint32_t proc, uint64_t vpn)
{
	struct vl_proc *pr = &e->procs[proc];
	uint32_t li = pt_walk(&e->pt, pr->root, va_of(vpn));
	if (li == VL_NIL || !(e->pt.e[li] & PTE_P) || PTE_FRAME(e->pt.e[li]) == e->zero_frame)
		return;
	li = hp_leaf(e, proc, li, vpn, true); /* a piece of a large page: split first */
	if (li == VL_NIL)
		return;
	uint64_t pte = e->pt.e[li];
	uint32_t f = PTE_FRAME(pte);
	struct vl_pfn *p = &e->db.pfn[f];
	if (e->resv_n)
		lp_resv_drop(e, f); /* a page of a reservation leaves: the reservation breaks */
	e->ctr.pages_trimmed++;
	pr->ctr.evictions++;
	pr->ctr.resident_pages--;
	xl_invlpg(e, proc, vpn);
	if (pte & PTE_D)
		p->flags |= PFN_F_MODIFIED;
	if (p->flags & PFN_F_PROTO) {
		pt_set(&e->pt, li, SWPTE_PROTO | SWPTE_MKPROT(VPTE_PROT(pte)));
		if (--p->aux > 0)
			return; /* still in other working sets */
		ws_idle(e, f);
	} else {
		pt_set(&e->pt, li, SWPTE_TRANS | PTE_MAKE(f) | SWPTE_MKPROT(VPTE_PROT(pte)));
		e->resident--;
		vl_to_list(e, f);
	}
	e->ctr.evictions++;
}

/* Age one working set: the accessed bit of each page resets its age, a
 * clear bit makes it older (A.7).  Clearing A is what an OS does. */
static void wsl_age(struct vl_engine *e, struct vl_proc *pr)
{
	for (uint32_t i = 0; i < pr->ws_n; i++) {
		uint64_t vpn = WSL_VPN(pr->wsl[i]);
		uint32_t li = pt_walk(&e->pt, pr->root, va_of(vpn));
		unsigned age = WSL_AGE(pr->wsl[i]);
		if (li != VL_NIL && (e->pt.e[li] & PTE_A)) {
			e->pt.e[li] &= ~PTE_A; /* a large page's one A bit: no split */
			xl_invlpg(e, (uint32_t)(pr - e->procs), vpn); /* A means something again */
			age = 0;
		} else if (age < AGE_MAX) {
			age++;
		}
		pr->wsl[i] = vpn | ((uint64_t)age << WSL_AGE_SHIFT);
	}
}

/* Trim up to want pages of proc, oldest first, never below floor pages.
 * Returns pages trimmed. */
static uint64_t wsl_trim(struct vl_engine *e, uint32_t proc, uint64_t want, uint32_t floor)
{
	struct vl_proc *pr = &e->procs[proc];
	uint64_t done = 0;
	for (int age = AGE_MAX; age >= 0 && done < want; age--) {
		for (uint32_t i = 0; i < pr->ws_n && done < want && pr->ws_n > floor;) {
			if ((int)WSL_AGE(pr->wsl[i]) == age) {
				uint64_t vpn = WSL_VPN(pr->wsl[i]);
				wsl_remove(pr, i);
				trim_page(e, proc, vpn);
				done++;
			} else {
				i++;
			}
		}
	}
	if (done)
		e->ctr.ws_trims++;
	return done;
}

/* Write a modified frame to its backing store (page file or file). */
static int write_out(struct vl_engine *e, uint32_t f, struct vl_error *err)
{
	struct vl_pfn *p = &e->db.pfn[f];
	bool file = (p->flags & PFN_F_PROTO) != 0;
	if (!file)
		VL_TRY(vl_slot_ensure(e, f, err));
	count_page_write(e, file);
	p->flags &= (uint8_t)~PFN_F_MODIFIED;
	return 0;
}

/* Write up to max modified pages (oldest first) and move them to standby. */
static int mpw_run(struct vl_engine *e, uint64_t max, struct vl_error *err)
{
	while (max-- > 0 && e->modified.head != VL_NIL) {
		uint32_t f = e->modified.head;
		plist_del(e, &e->modified, f);
		VL_TRY(write_out(e, f, err));
		e->ctr.modified_written++;
		vl_to_list(e, f); /* clean now: standby */
	}
	return 0;
}

/* Trim working sets until available >= target. force allows going below
 * the working-set minimum (memory is exhausted). */
static uint64_t wsm_trim(struct vl_engine *e, uint64_t target, bool force)
{
	uint64_t total = 0;
	for (int pass = 0; pass < 2 && vl_available(e) < target; pass++) {
		for (uint32_t i = 0; i < e->nprocs && vl_available(e) < target; i++) {
			struct vl_proc *pr = &e->procs[i];
			uint32_t floor = force ? 0 : e->ws_min;
			if (pr->ws_n <= floor)
				continue;
			uint64_t want = target - vl_available(e);
			/* the modified list does not count as available: trim
			 * generously, the writer turns them into standby */
			total += wsl_trim(e, i, want, floor);
		}
		if (!force)
			break;
	}
	return total;
}

static int ws_tick(struct vl_engine *e, struct vl_error *err)
{
	for (uint32_t i = 0; i < e->nprocs; i++)
		wsl_age(e, &e->procs[i]);
	if (vl_available(e) < e->avail_target)
		wsm_trim(e, e->avail_target, false);
	if (e->modified.n > e->mpw_threshold)
		VL_TRY(mpw_run(e, e->modified.n, err));
	if (e->zero_thread)
		count_zero_fill(e, pfn_zero_free(&e->db));
	return 0;
}

static int ws_make_room(struct vl_engine *e, const struct vl_access *a, struct vl_error *err)
{
	if (e->modified.n)
		return mpw_run(e, e->mpw_cluster, err);
	if (wsm_trim(e, 1, false) || wsm_trim(e, 1, true))
		return vl_available(e) || e->modified.n ? 0 : ws_make_room(e, a, err);
	return vl_err(err, VL_ELIMIT,
		      "out of memory: all %u frames hold page tables (%llu) or are pinned, "
		      "no page can be trimmed; give more memory.frames",
		      e->db.nframes, (unsigned long long)e->ctr.pt_pages);
}

static int ws_mapped(struct vl_engine *e, uint32_t proc, uint64_t vpn, uint32_t f,
		     const struct vl_access *a, struct vl_error *err)
{
	if (wsl_insert(&e->procs[proc], vpn) < 0)
		return vl_err(err, VL_ENOMEM, "out of memory for a working set");
	return 0;
}

static void ws_cached(struct vl_engine *e, uint32_t f, const struct vl_access *a)
{
}

static void ws_unmapped(struct vl_engine *e, uint32_t proc, uint64_t vpn, uint32_t f)
{
	ws_forget(&e->procs[proc], vpn);
}

/* Before a process's working set grows by a page, replace within it when
 * it is at its maximum and memory is not plentiful (A.7). */
static void ws_grow(struct vl_engine *e, uint32_t proc)
{
	struct vl_proc *pr = &e->procs[proc];
	if (pr->ws_n >= e->ws_max && vl_available(e) < e->avail_target) {
		wsl_age(e, pr);
		wsl_trim(e, proc, 1, 0);
	}
}

static uint64_t ws_pages(const struct vl_engine *e)
{
	uint64_t ws = 0;
	for (uint32_t i = 0; i < e->nprocs; i++)
		ws += e->procs[i].ws_n;
	return ws;
}

static int ws_check(const struct vl_engine *e, uint64_t valid, struct vl_error *err)
{
	uint64_t ws = ws_pages(e);
	if (ws != valid)
		return vl_err(err, VL_ESTATE, "working sets hold %llu entries, %llu PTEs are valid",
			      (unsigned long long)ws, (unsigned long long)valid);
	return 0;
}

const struct vl_rsm_ops vl_rsm_ws = {
	.name = "working-set",
	.policy = false,
	.lists = true,
	.mapped = ws_mapped,
	.cached = ws_cached,
	.unmapped = ws_unmapped,
	.idle = ws_idle,
	.grow = ws_grow,
	.make_room = ws_make_room,
	.tick = ws_tick,
	.ws_pages = ws_pages,
	.check = ws_check,
};
