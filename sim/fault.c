/* sim/fault.c - fault resolution, frame allocation, page lists, trimming.
 *
 * The fault algorithm follows the Windows memory manager's MmAccessFault
 * (shared/reference A.6), with the other personalities as switches:
 *
 *   valid PTE, write to a read-only mapping ─▶ copy-on-write or violation
 *   invalid PTE ─▶ decode (A.3): never touched (VAD / implicit commit),
 *                  prototype (section page), transition (frame on standby or
 *                  modified: soft), page-file slot (hard), demand-zero
 *   protection checks: not committed / NOACCESS / decommitted / write to
 *   read-only / execute without X ─▶ access violation (not a fault);
 *   guard ─▶ one-shot guard exception, then the access is retried
 *
 * Where frames come from (vl_frame_get): the free lists (a zeroed frame
 * when a zero page is needed, else zeroing is counted), then - windows -
 * the standby lists (repurposing: the old owner's PTE gets its backing
 * location back), then room is made: textbook and linux evict the
 * replacement policy's victim (global replacement); windows trims working
 * sets and runs the modified page writer.
 *
 * Where pages go when they leave memory:
 *   textbook, linux  evicted at once: dirty private pages are written to
 *                    the page file (writebacks), dirty file pages to their
 *                    file; clean ones are dropped (their copy is current).
 *   windows          trimmed from a working set to the standby list
 *                    (clean) or the modified list (dirty: written later by
 *                    the modified page writer, then standby).  The PTE is a
 *                    transition PTE until the frame is repurposed.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/internal.h"

#define WSL_AGE_SHIFT 56
#define WSL_VPN(x) ((x) & VPN_MASK)
#define WSL_AGE(x) ((unsigned)((x) >> WSL_AGE_SHIFT) & 7)
#define AGE_MAX 7

static inline uint64_t va_of(uint64_t vpn)
{
	uint64_t va = vpn << VL_PAGE_SHIFT;
	if (va & (1ull << (VA_BITS - 1)))
		va |= ~((1ull << VA_BITS) - 1);
	return va;
}

/* ---- page lists ---- */

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

/* Take frame f off whichever page list holds it. */
static void unlist(struct vl_engine *e, uint32_t f)
{
	struct vl_pfn *p = &e->db.pfn[f];
	if (p->loc == PFN_STANDBY) {
		plist_del(e, &e->standby[PFN_PRIO(p)], f);
		e->nstandby--;
	} else if (p->loc == PFN_MODIFIED) {
		plist_del(e, &e->modified, f);
	}
}

uint64_t vl_available(const struct vl_engine *e)
{
	return e->db.nfree + e->nstandby;
}

static struct vl_proc_counters *pc_of(struct vl_engine *e, uint32_t proc)
{
	return &e->procs[proc].ctr;
}

/* Section prototype PTE of a shared frame. */
static uint64_t *proto_of(struct vl_engine *e, const struct vl_pfn *p)
{
	return &e->sections[p->owner].proto[p->vpn];
}

/* Free a frame that no PTE or list refers to any more. */
static void frame_free(struct vl_engine *e, uint32_t f)
{
	pfn_free(&e->db, f, 0);
}

/* Release a page-file slot held by a frame or PTE. */
static void slot_release(struct vl_engine *e, uint32_t slot)
{
	if (slot != VL_NIL)
		pf_release(&e->pf, slot);
}

/* ---- leaving memory ---- */

/* A standby frame is reused: give its old owner back the backing location
 * (T9), then hand the frame out. */
static void repurpose(struct vl_engine *e, uint32_t f)
{
	struct vl_pfn *p = &e->db.pfn[f];
	if (p->flags & PFN_F_PROTO) {
		*proto_of(e, p) = 0; /* back in its file (a clean page is simply dropped) */
	} else {
		uint64_t *pte = &e->pt.e[p->pte];
		unsigned prot = SWPTE_PROT(*pte);
		/* a clean page with no copy was never written: demand-zero again */
		*pte = SWPTE_MKPROT(prot) | (p->slot != VL_NIL ? SWPTE_PAGEFILE(p->slot) : 0);
	}
	e->ctr.standby_repurposed++;
}

/* Write a modified frame to its backing store (page file or file). */
static int write_out(struct vl_engine *e, uint32_t f, struct vl_error *err)
{
	struct vl_pfn *p = &e->db.pfn[f];
	if (p->flags & PFN_F_PROTO) {
		e->ctr.file_writes++;
	} else {
		if (p->slot == VL_NIL) {
			p->slot = pf_alloc(&e->pf);
			if (p->slot == VL_NIL)
				return vl_err(err, VL_ELIMIT,
					      "page file full: %u slots in use (pagefile.size = %s)",
					      e->pf.used, vl_config_str(e->cfg, "pagefile.size"));
		}
		e->ctr.pagefile_writes++;
	}
	p->flags &= (uint8_t)~PFN_F_MODIFIED;
	return 0;
}

/* Global eviction (textbook, linux) of a shared frame: every process PTE
 * mapping it goes back to "look up the VAD"; the frame leaves memory. */
static void unmap_shared_all(struct vl_engine *e, uint32_t f, bool *dirty);

/* Evict resident frame f now (textbook, linux). */
static int evict(struct vl_engine *e, uint32_t f, struct vl_error *err)
{
	while (e->db.pfn[f].flags & PFN_F_LARGE) /* a piece of a large page: split first */
		VL_TRY(lp_split(e, f, err));
	if (e->resv_n)
		lp_resv_drop(e, f);
	struct vl_pfn *p = &e->db.pfn[f];
	if (p->flags & PFN_F_PROTO) {
		bool dirty = (p->flags & PFN_F_MODIFIED) != 0;
		unmap_shared_all(e, f, &dirty);
		if (dirty) {
			e->ctr.file_writes++;
			e->ctr.writebacks++;
		}
		*proto_of(e, p) = 0;
		e->resident_shared--;
	} else {
		uint64_t *pte = &e->pt.e[p->pte];
		struct vl_proc_counters *pc = pc_of(e, p->owner);
		bool dirty = (*pte & PTE_D) || (p->flags & PFN_F_MODIFIED);
		if (p->slot == VL_NIL) {
			p->slot = pf_alloc(&e->pf);
			if (p->slot == VL_NIL)
				return vl_err(err, VL_ELIMIT,
					      "page file full: %u slots in use (pagefile.size = %s)",
					      e->pf.used, vl_config_str(e->cfg, "pagefile.size"));
		}
		if (dirty) {
			e->ctr.writebacks++;
			e->ctr.pagefile_writes++;
			pc->writebacks++;
		}
		/* pt_set: evicting a page of a huge page splits it */
		pt_set(&e->pt, p->pte, SWPTE_MKPROT(VPTE_PROT(*pte)) | SWPTE_PAGEFILE(p->slot));
		xl_invlpg(e, p->owner, p->vpn);
		pc->evictions++;
		pc->resident_pages--;
	}
	e->ctr.evictions++;
	e->resident--;
	e->repl_ops->on_unmap(&e->repl, f);
	frame_free(e, f);
	return 0;
}

/* Put a frame that left every working set on its page list: modified when
 * its contents differ from the backing copy, else standby (T6). */
static void to_list(struct vl_engine *e, uint32_t f)
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

/* Windows: a shared frame no working set maps any more stays cached on the
 * standby or modified list under its transition prototype PTE (T6/T13).
 * Global personalities keep it resident for the policy to evict. */
static void shared_park(struct vl_engine *e, uint32_t f)
{
	struct vl_pfn *p = &e->db.pfn[f];
	if (e->os != OS_WINDOWS || p->aux != 0 || p->loc != PFN_ACTIVE)
		return;
	*proto_of(e, p) = SWPTE_TRANS | PTE_MAKE(f);
	e->resident_shared--;
	e->resident--;
	to_list(e, f);
}

/* Windows: page vpn of process proc leaves its working set (T6). */
static void trim_page(struct vl_engine *e, uint32_t proc, uint64_t vpn)
{
	struct vl_proc *pr = &e->procs[proc];
	uint32_t li = pt_walk(&e->pt, pr->root, va_of(vpn));
	if (li == VL_NIL || !(e->pt.e[li] & PTE_P) || PTE_FRAME(e->pt.e[li]) == e->zero_frame)
		return;
	uint64_t pte = e->pt.e[li];
	uint32_t f = PTE_FRAME(pte);
	struct vl_pfn *p = &e->db.pfn[f];
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
		shared_park(e, f);
	} else {
		pt_set(&e->pt, li, SWPTE_TRANS | PTE_MAKE(f) | SWPTE_MKPROT(VPTE_PROT(pte)));
		e->resident--;
		to_list(e, f);
	}
	e->ctr.evictions++;
}

/* Remove working-set entry i of proc (swap with the last). */
static void wsl_remove(struct vl_proc *pr, uint32_t i)
{
	pr->wsl[i] = pr->wsl[--pr->ws_n];
	if (pr->ws_hand >= pr->ws_n)
		pr->ws_hand = 0;
}

static int wsl_insert(struct vl_proc *pr, uint64_t vpn)
{
	if (pr->ws_n == pr->ws_cap) {
		uint32_t ncap = pr->ws_cap ? pr->ws_cap * 2 : 64;
		uint64_t *nw = realloc(pr->wsl, ncap * sizeof(*nw));
		if (!nw)
			return VL_ENOMEM;
		pr->wsl = nw;
		pr->ws_cap = ncap;
	}
	pr->wsl[pr->ws_n++] = vpn;
	return 0;
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
			pte_clear(&e->pt, li, PTE_A);
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

/* Write up to max modified pages (oldest first) and move them to standby. */
static int mpw_run(struct vl_engine *e, uint64_t max, struct vl_error *err)
{
	while (max-- > 0 && e->modified.head != VL_NIL) {
		uint32_t f = e->modified.head;
		plist_del(e, &e->modified, f);
		VL_TRY(write_out(e, f, err));
		e->ctr.modified_written++;
		to_list(e, f); /* clean now: standby */
	}
	return 0;
}

/* Windows: trim working sets until available >= target. force allows
 * going below the working-set minimum (memory is exhausted). */
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

int vl_wsm_tick(struct vl_engine *e, struct vl_error *err)
{
	if (e->os != OS_WINDOWS)
		return 0;
	for (uint32_t i = 0; i < e->nprocs; i++)
		wsl_age(e, &e->procs[i]);
	if (vl_available(e) < e->avail_target)
		wsm_trim(e, e->avail_target, false);
	if (e->modified.n > e->mpw_threshold)
		VL_TRY(mpw_run(e, e->modified.n, err));
	if (e->zero_thread)
		e->ctr.zeroed_pages += pfn_zero_free(&e->db);
	return 0;
}

/* ---- getting a frame ---- */

static uint32_t take_standby(struct vl_engine *e)
{
	for (unsigned prio = 0; prio < 8; prio++) {
		uint32_t f = e->standby[prio].head;
		if (f != VL_NIL) {
			plist_del(e, &e->standby[prio], f);
			e->nstandby--;
			repurpose(e, f);
			e->db.pfn[f].loc = PFN_ACTIVE;
			e->db.pfn[f].flags = 0;
			e->db.pfn[f].slot = VL_NIL;
			e->db.pfn[f].aux = 0;
			return f;
		}
	}
	return VL_NIL;
}

/* Make room for one frame. */
static int make_room(struct vl_engine *e, const struct vl_access *a, struct vl_error *err)
{
	if (e->os == OS_WINDOWS) {
		if (e->modified.n)
			return mpw_run(e, e->mpw_cluster, err);
		if (wsm_trim(e, 1, false) || wsm_trim(e, 1, true))
			return vl_available(e) || e->modified.n ? 0 : make_room(e, a, err);
		return vl_err(err, VL_ELIMIT,
			      "out of memory: all %u frames hold page tables (%llu) or are pinned, "
			      "no page can be trimmed; give more memory.frames",
			      e->db.nframes, (unsigned long long)e->ctr.pt_pages);
	}
	if (e->resident == 0)
		return vl_err(err, VL_ELIMIT,
			      "out of memory: all %u frames hold page tables (%llu) or are pinned, "
			      "no page can be evicted; give more memory.frames",
			      e->db.nframes, (unsigned long long)e->ctr.pt_pages);
	struct vl_evict_ctx ctx = { .cause = a, .pid = 0 };
	size_t n = e->repl_ops->select_victims(&e->repl, &ctx, e->victims, 1);
	if (n == 0 && e->resident)
		return vl_err(err, VL_ELIMIT, "out of memory: all %llu resident pages are non-pageable",
			      (unsigned long long)e->resident);
	if (n != 1)
		return vl_err(err, VL_ESTATE,
			      "policy %s returned %zu victims when asked for 1 with %llu pages resident",
			      e->repl_ops->name, n, (unsigned long long)e->resident);
	uint32_t v = e->victims[0];
	if (v >= e->db.nframes || e->db.pfn[v].loc != PFN_ACTIVE)
		return vl_err(err, VL_ESTATE, "policy %s chose frame %u, which is not resident",
			      e->repl_ops->name, v);
	return evict(e, v, err);
}

uint32_t vl_frame_get(struct vl_engine *e, bool zero, const struct vl_access *a,
		      struct vl_error *err)
{
	for (unsigned tries = 0; tries < 64; tries++) {
		uint32_t f = pfn_alloc(&e->db, 0);
		if (f == VL_NIL && e->os == OS_WINDOWS)
			f = take_standby(e);
		if (f != VL_NIL) {
			struct vl_pfn *p = &e->db.pfn[f];
			if (zero && !(p->flags & PFN_F_ZEROED) && e->os != OS_TEXTBOOK)
				e->ctr.zeroed_pages++;
			p->flags = 0;
			p->slot = VL_NIL;
			p->aux = 0;
			return f;
		}
		if (e->resv_n && lp_resv_break_one(e))
			continue; /* memory pressure breaks reservations first */
		if (make_room(e, a, err) < 0)
			return VL_NIL;
	}
	vl_err(err, VL_ESTATE, "no frame could be freed after 64 attempts");
	return VL_NIL;
}

/* ---- page tables in memory ---- */

/* Give the nodes just created by pt_walk_create frames of their own. */
int vl_pt_frames(struct vl_engine *e, uint32_t proc, struct vl_error *err)
{
	if (!e->pt_frames)
		return 0;
	uint32_t created[4], n = e->pt.ncreated;
	memcpy(created, e->pt.created, sizeof(created));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t f = vl_frame_get(e, true, NULL, err);
		if (f == VL_NIL)
			return err ? err->code : VL_ENOMEM;
		struct vl_pfn *p = &e->db.pfn[f];
		p->loc = PFN_PT;
		p->pte = created[i];
		p->owner = proc;
		e->pt.frame[created[i]] = f;
		e->ctr.pt_pages++;
	}
	return 0;
}

/* The leaf entry li just became zero: free its node if empty, and upward. */
void vl_pt_prune(struct vl_engine *e, uint32_t li)
{
	uint32_t node = li / PT_ENTRIES;
	while (e->pt.used[node] == 0 && e->pt.parent[node] != VL_NIL) {
		uint32_t up = e->pt.parent[node];
		if (e->pt.frame[node] != VL_NIL) {
			frame_free(e, e->pt.frame[node]);
			e->ctr.pt_pages--;
		}
		pt_node_free(&e->pt, node);
		pt_set(&e->pt, up, 0);
		node = up / PT_ENTRIES;
	}
}

/* ---- releasing pages (decommit, unmap, exit) ---- */

/* Page at leaf li of proc goes away for good (T10): frames freed, slots
 * released, shared pages lose a mapper.  The PTE is left for the caller to
 * rewrite.  Dirty private pages are not written. */
void vl_page_release(struct vl_engine *e, uint32_t proc, uint32_t li)
{
	uint64_t pte = e->pt.e[li];
	struct vl_proc *pr = &e->procs[proc];
	if (pte & PTE_P) {
		uint32_t f = PTE_FRAME(pte);
		xl_invlpg_pte(e, proc, li);
		if (f == e->zero_frame)
			return;
		struct vl_pfn *p = &e->db.pfn[f];
		pr->ctr.resident_pages--;
		if (p->flags & PFN_F_PROTO) {
			if (pte & PTE_D)
				p->flags |= PFN_F_MODIFIED;
			if (p->aux > 0)
				p->aux--;
			shared_park(e, f); /* last mapper gone: cached (T13) */
			return;
		}
		slot_release(e, p->slot);
		if (e->os != OS_WINDOWS)
			e->repl_ops->on_unmap(&e->repl, f);
		frame_free(e, f);
		e->resident--;
		return;
	}
	if (pte & SWPTE_PROTO)
		return;
	if (pte & SWPTE_TRANS) {
		uint32_t f = PTE_FRAME(pte);
		unlist(e, f);
		slot_release(e, e->db.pfn[f].slot);
		frame_free(e, f);
		return;
	}
	if (SWPTE_HAS_SLOT(pte))
		slot_release(e, SWPTE_SLOT(pte));
}

/* ---- shared pages under global replacement ---- */

struct shared_scan {
	struct vl_engine *e;
	uint32_t f;
	bool clear, dirty, referenced, unmap;
};

/* Visit every process PTE that maps shared frame f (through the VADs of
 * views of its section): a reverse map computed on demand, used only on
 * the rare paths (eviction, accessed-bit scans of shared pages). */
static void shared_visit(struct shared_scan *s)
{
	struct vl_engine *e = s->e;
	struct vl_pfn *p = &e->db.pfn[s->f];
	for (uint32_t i = 0; i < e->nprocs; i++) {
		struct vl_proc *pr = &e->procs[i];
		if (!pr->root)
			continue;
		for (uint32_t v = 0; v < pr->nvads; v++) {
			struct vl_vad *d = &pr->vads[v];
			if (d->kind != VAD_MAPPED || d->section != p->owner || p->vpn < d->offset_pages ||
			    p->vpn - d->offset_pages >= d->end - d->start)
				continue;
			uint64_t vpn = d->start + (p->vpn - d->offset_pages);
			uint32_t li = pt_walk(&e->pt, pr->root, va_of(vpn));
			if (li == VL_NIL)
				continue;
			uint64_t pte = e->pt.e[li];
			if (!(pte & PTE_P) || PTE_FRAME(pte) != s->f)
				continue;
			s->referenced |= (pte & PTE_A) != 0;
			s->dirty |= (pte & PTE_D) != 0;
			if ((s->clear && (pte & PTE_A)) || s->unmap)
				xl_invlpg(e, i, vpn);
			if (s->clear)
				e->pt.e[li] &= ~PTE_A;
			if (s->unmap) {
				pt_set(&e->pt, li, SWPTE_PROTO | SWPTE_MKPROT(VPTE_PROT(pte)));
				pr->ctr.evictions++;
				pr->ctr.resident_pages--;
			}
		}
	}
}

static void unmap_shared_all(struct vl_engine *e, uint32_t f, bool *dirty)
{
	struct shared_scan s = { .e = e, .f = f, .unmap = true };
	shared_visit(&s);
	*dirty |= s.dirty;
	e->db.pfn[f].aux = 0;
}

bool vl_shared_referenced(struct vl_engine *e, uint32_t f, bool clear);
bool vl_shared_referenced(struct vl_engine *e, uint32_t f, bool clear)
{
	struct shared_scan s = { .e = e, .f = f, .clear = clear };
	shared_visit(&s);
	if (s.dirty)
		e->db.pfn[f].flags |= PFN_F_MODIFIED;
	return s.referenced;
}

/* ---- fault resolution ---- */

static int violation(struct vl_engine *e, uint32_t proc)
{
	e->ctr.access_violations++;
	e->procs[proc].ctr.access_violations++;
	if (e->stop_on_av)
		e->procs[proc].stopped = true;
	return 0;
}

/* Map frame f at leaf li for proc, with protection prot. */
static int map_private(struct vl_engine *e, uint32_t proc, uint32_t li, uint32_t f, uint64_t vpn,
		       unsigned prot, bool write, bool dirty, const struct vl_access *a,
		       struct vl_error *err)
{
	struct vl_pfn *p = &e->db.pfn[f];
	struct vl_proc *pr = &e->procs[proc];
	p->loc = PFN_ACTIVE;
	p->vpn = vpn;
	p->pte = li;
	p->owner = proc;
	if (dirty)
		p->flags |= PFN_F_MODIFIED;
	pt_set(&e->pt, li, PTE_MAKE(f) | prot_hw(prot) | PTE_A | (write ? PTE_D : 0));
	pr->ctr.resident_pages++;
	if (++e->resident > e->ctr.resident_peak)
		e->ctr.resident_peak = e->resident;
	if (e->os == OS_WINDOWS)
		return wsl_insert(pr, vpn) < 0 ? vl_err(err, VL_ENOMEM, "out of memory for a working set")
					       : 0;
	e->repl_ops->on_map(&e->repl, f, a);
	return 0;
}

/* Windows: before a process's working set grows by a page, replace within
 * it when it is at its maximum and memory is not plentiful (A.7). */
static void ws_make_room(struct vl_engine *e, uint32_t proc)
{
	struct vl_proc *pr = &e->procs[proc];
	if (e->os == OS_WINDOWS && pr->ws_n >= e->ws_max && vl_available(e) < e->avail_target) {
		wsl_age(e, pr);
		wsl_trim(e, proc, 1, 0);
	}
}

/* Bring section page idx into memory (or find it there); returns its frame.
 * *how: 0 = already resident (valid), 1 = soft (transition), 2 = hard. */
static uint32_t section_page(struct vl_engine *e, uint32_t sec, uint64_t idx,
			     const struct vl_access *a, int *how, struct vl_error *err)
{
	struct vl_section *s = &e->sections[sec];
	uint64_t q = s->proto[idx];
	if (q & PTE_P) {
		*how = 0;
		return PTE_FRAME(q);
	}
	if (q & SWPTE_TRANS) {
		uint32_t f = PTE_FRAME(q);
		unlist(e, f);
		e->db.pfn[f].loc = PFN_ACTIVE;
		s = &e->sections[sec];
		s->proto[idx] = PTE_P | PTE_MAKE(f);
		e->resident_shared++;
		e->resident++;
		*how = 1;
		return f;
	}
	/* in the file: read it, plus a cluster of following non-resident pages
	 * that go to standby (windows read clustering, A.6) */
	uint32_t f = vl_frame_get(e, false, a, err);
	if (f == VL_NIL)
		return VL_NIL;
	s = &e->sections[sec];
	struct vl_pfn *p = &e->db.pfn[f];
	p->loc = PFN_ACTIVE;
	p->flags = PFN_F_PROTO;
	p->owner = sec;
	p->vpn = idx;
	p->pte = VL_NIL;
	p->aux = 0;
	s->proto[idx] = PTE_P | PTE_MAKE(f);
	e->resident_shared++;
	if (++e->resident > e->ctr.resident_peak)
		e->ctr.resident_peak = e->resident;
	e->ctr.file_reads++;
	if (e->os != OS_WINDOWS)
		e->repl_ops->on_map(&e->repl, f, a);
	for (uint32_t k = 1; k < e->file_cluster && e->os == OS_WINDOWS; k++) {
		uint64_t j = idx + k;
		if (j >= e->sections[sec].npages || e->sections[sec].proto[j] != 0 ||
		    vl_available(e) <= (uint64_t)e->file_cluster + 16)
			break;
		uint32_t g = vl_frame_get(e, false, a, err);
		if (g == VL_NIL)
			return VL_NIL;
		struct vl_pfn *gp = &e->db.pfn[g];
		gp->flags = PFN_F_PROTO;
		gp->owner = sec;
		gp->vpn = j;
		gp->pte = VL_NIL;
		gp->aux = 0;
		e->sections[sec].proto[j] = SWPTE_TRANS | PTE_MAKE(g);
		to_list(e, g); /* clean: standby */
		e->ctr.file_reads++;
	}
	*how = 2;
	return f;
}

/* Map section frame f (shared) at li. */
static int map_shared(struct vl_engine *e, uint32_t proc, uint32_t li, uint32_t f, uint64_t vpn,
		      unsigned prot, bool write, struct vl_error *err)
{
	struct vl_pfn *p = &e->db.pfn[f];
	struct vl_proc *pr = &e->procs[proc];
	p->aux++;
	pt_set(&e->pt, li, PTE_MAKE(f) | prot_hw(prot) | PTE_A | (write ? PTE_D : 0));
	pr->ctr.resident_pages++;
	if (e->os == OS_WINDOWS && wsl_insert(pr, vpn) < 0)
		return vl_err(err, VL_ENOMEM, "out of memory for a working set");
	return 0;
}

/* Linux fault-around: map the cached pages of the aligned window around a
 * file read fault, without faults of their own. */
static void fault_around(struct vl_engine *e, uint32_t proc, const struct vl_vad *d, uint64_t vpn,
			 unsigned prot)
{
	uint64_t lo = vpn & ~(uint64_t)(e->fault_around - 1), hi = lo + e->fault_around;
	if (lo < d->start)
		lo = d->start;
	if (hi > d->end)
		hi = d->end;
	struct vl_section *s = &e->sections[d->section];
	for (uint64_t v = lo; v < hi; v++) {
		if (v == vpn || (v >> 9) != (vpn >> 9))
			continue; /* stays inside the faulting page table */
		uint64_t idx = d->offset_pages + (v - d->start);
		if (idx >= s->npages || !(s->proto[idx] & PTE_P))
			continue;
		uint32_t li = pt_walk(&e->pt, e->procs[proc].root, va_of(v));
		if (li == VL_NIL || e->pt.e[li] & PTE_P)
			continue;
		uint64_t old = e->pt.e[li];
		if (old != 0 && !(old & SWPTE_PROTO))
			continue; /* a private copy or an explicit protection */
		unsigned pprot = old ? SWPTE_PROT(old) : prot;
		if (!prot_usable(pprot) || (pprot & VL_PROT_GUARD))
			continue;
		struct vl_pfn *p = &e->db.pfn[PTE_FRAME(s->proto[idx])];
		if (e->os == OS_WINDOWS && wsl_insert(&e->procs[proc], v) < 0)
			return;
		p->aux++;
		pt_set(&e->pt, li, s->proto[idx] | prot_hw(pprot)); /* A clear: not accessed yet */
		e->procs[proc].ctr.resident_pages++;
	}
}

/* Copy-on-write: the page (shared frame src, or the zero page) gets a
 * private copy in this process. */
static int cow(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn, unsigned prot,
	       const struct vl_access *a, bool from_zero, struct vl_error *err)
{
	uint64_t old = e->pt.e[li];
	ws_make_room(e, proc);
	uint32_t f = vl_frame_get(e, from_zero, a, err);
	if (f == VL_NIL)
		return err ? err->code : VL_ENOMEM;
	old = e->pt.e[li];
	if ((old & PTE_P) && PTE_FRAME(old) != e->zero_frame) {
		uint32_t sf = PTE_FRAME(old);
		struct vl_pfn *src = &e->db.pfn[sf];
		if (src->aux)
			src->aux--;
		e->procs[proc].ctr.resident_pages--;
		if (e->os == OS_WINDOWS) { /* the view page leaves this working set */
			struct vl_proc *pr = &e->procs[proc];
			for (uint32_t i = 0; i < pr->ws_n; i++)
				if (WSL_VPN(pr->wsl[i]) == vpn) {
					wsl_remove(pr, i);
					break;
				}
		}
		shared_park(e, sf);
	}
	unsigned nprot = prot;
	if (prot_access(prot) == VL_PROT_WRITECOPY)
		nprot = (prot & ~7u) | VL_PROT_READWRITE;
	else if (prot_access(prot) == VL_PROT_EXECUTE_WRITECOPY)
		nprot = (prot & ~7u) | VL_PROT_EXECUTE_READWRITE;
	xl_invlpg(e, proc, vpn);
	pt_set(&e->pt, li, 0);
	e->ctr.faults_cow++;
	e->ctr.faults++;
	e->procs[proc].ctr.faults++;
	e->procs[proc].ctr.faults_cow++;
	return map_private(e, proc, li, f, vpn, nprot, true, true, a, err);
}

static void count_fault(struct vl_engine *e, uint32_t proc, int kind)
{
	struct vl_proc_counters *pc = pc_of(e, proc);
	e->ctr.faults++;
	pc->faults++;
	switch (kind) {
	case 0: e->ctr.faults_demand_zero++; pc->faults_demand_zero++; break;
	case 1: e->ctr.faults_soft++; pc->faults_soft++; break;
	default: e->ctr.faults_hard++; pc->faults_hard++; break;
	}
}

/* ---- transparent huge pages (linux) ----
 *
 * The fault-count rules of the reference notes (A.14, B.6), as the kernel
 * applies them in do_anonymous_page / do_huge_pmd_anonymous_page:
 *   - a private VAD is eligible when thp.enabled = always, or = madvise and
 *     the VAD was given V ADVISE hugepage; never after ADVISE nohugepage;
 *   - a fault in an eligible VAD whose aligned 2 MiB range lies wholly in
 *     the VAD and whose page table is still empty (every PTE of the range
 *     untouched: committed demand-zero with one protection) is one fault
 *     for the whole range: a write maps a 2 MiB page (an order-9 block of
 *     the buddy allocator; when none is free it falls back to 4 KiB, as
 *     thp_fault_fallback), a read maps the huge zero page;
 *   - a write to the huge zero page allocates the 2 MiB page in one more
 *     fault (do_huge_zero_wp_pmd, kernels >= 6.12).
 * The 2 MiB page is 512 PTEs of one page-table node flagged as a huge
 * page (vl_ptarena.thp): the policy still sees 512 frames, but the MMU
 * model walks it as a PMD leaf (3 references, a 2 MiB TLB entry) and its
 * accessed and dirty bits are one bit each (pte_or, pte_clear), as a huge
 * PMD's are.  Changing any of its PTEs (evicting a frame, mprotect or
 * decommit of part of it) splits it first, as split_huge_pmd does; after
 * that each frame lives on its own.  The leaf node keeps its frame. */

static bool thp_eligible(const struct vl_engine *e, const struct vl_vad *d, uint64_t vpn)
{
	if (e->thp == THP_NEVER || !d || d->kind != VAD_PRIVATE || (d->flags & VAD_F_NOHUGE))
		return false;
	if (e->thp == THP_MADVISE && !(d->flags & VAD_F_HUGE))
		return false;
	uint64_t lo = vpn & ~(uint64_t)(PT_ENTRIES - 1);
	return lo >= d->start && lo + PT_ENTRIES <= d->end;
}

/* Is every PTE of li's node exactly pte (an untouched committed page)? */
static bool node_uniform(const struct vl_engine *e, uint32_t li, uint64_t pte)
{
	const uint64_t *n = &e->pt.e[(size_t)(li / PT_ENTRIES) * PT_ENTRIES];
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		if (n[i] != pte)
			return false;
	return true;
}

/* The 512 PTEs at l0 (vpn v0..), mapping an aligned order-9 block in
 * order with one protection and equal A and D bits, become one huge page:
 * flag the node, count it, and drop the PDE walk-cache entry (the PDE is
 * a leaf to the MMU now). */
static void thp_make(struct vl_engine *e, uint32_t proc, uint32_t l0, uint64_t v0)
{
	e->pt.thp[l0 / PT_ENTRIES] = 1;
	e->ctr.large_pages_mapped++;
	e->xl.lp_live[1]++; /* 2 MiB TLB probes are worth making (never decreased for THP) */
	xl_inval_pde(e, proc, v0);
}

/* Map 512 fresh frames (an order-9 block) over li's node.  Returns 1 when
 * no block was free (the caller falls back to 4 KiB), 0 or an error. */
static int thp_map(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn, unsigned prot,
		   const struct vl_access *a, struct vl_error *err)
{
	uint32_t base = pfn_alloc(&e->db, 9);
	if (base == VL_NIL) {
		e->ctr.large_page_fallbacks++;
		return 1;
	}
	uint32_t l0 = li & ~(uint32_t)(PT_ENTRIES - 1);
	uint64_t v0 = vpn & ~(uint64_t)(PT_ENTRIES - 1);
	for (uint32_t i = 0; i < PT_ENTRIES; i++) {
		struct vl_pfn *p = &e->db.pfn[base + i];
		if (!(p->flags & PFN_F_ZEROED))
			e->ctr.zeroed_pages++;
		p->flags = 0;
		p->slot = VL_NIL;
		p->aux = 0;
		/* the huge zero page's 4 KiB translations go (Linux flushes the
		 * range when it replaces the huge zero PMD) */
		if (e->pt.e[l0 + i] & PTE_P)
			xl_invlpg(e, proc, v0 + i);
		pt_set(&e->pt, l0 + i, 0);
		VL_TRY(map_private(e, proc, l0 + i, base + i, v0 + i, prot, true, false, a, err));
	}
	/* one page from now on: its A (a policy's on_map may have cleared
	 * some) is the faulting page's, D is set (a write mapped it) */
	uint64_t *n = &e->pt.e[l0];
	bool acc = (e->pt.e[li] & PTE_A) != 0;
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		n[i] = acc ? n[i] | PTE_A : n[i] & ~PTE_A;
	thp_make(e, proc, l0, v0);
	return 0;
}

/* Every node flagged as a huge page maps an aligned order-9 block in
 * order, with one protection and one A and D; 0 or VL_ESTATE. */
int vl_thp_check(const struct vl_engine *e, struct vl_error *err)
{
	for (uint32_t n = 1; n < e->pt.nnodes; n++) {
		if (!e->pt.thp[n])
			continue;
		const uint64_t *t = &e->pt.e[(size_t)n * PT_ENTRIES];
		uint32_t base = PTE_FRAME(t[0]);
		if (!(t[0] & PTE_P) || base % PT_ENTRIES || base + PT_ENTRIES > e->db.nframes)
			return vl_err(err, VL_ESTATE, "huge page node %u: entry 0 is 0x%llx", n,
				      (unsigned long long)t[0]);
		for (uint32_t i = 0; i < PT_ENTRIES; i++) {
			const struct vl_pfn *p = &e->db.pfn[base + i];
			if (t[i] != (t[0] & ~PTE_FRAME_MASK) + PTE_MAKE(base + i) ||
			    p->loc != PFN_ACTIVE || p->pte != n * PT_ENTRIES + i)
				return vl_err(err, VL_ESTATE,
					      "huge page node %u: entry %u (0x%llx) is not frame %u "
					      "with entry 0's bits",
					      n, i, (unsigned long long)t[i], base + i);
		}
	}
	return 0;
}

/* Demand-zero fault at li: handle it as a THP fault if the rules allow.
 * Returns 1 when they do not (the caller goes on with 4 KiB), else 0 or
 * an error. */
static int thp_fault(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn, uint64_t pte,
		     unsigned prot, bool write, const struct vl_access *a, struct vl_error *err)
{
	if (e->os != OS_LINUX || (prot & VL_PROT_GUARD) || pte == 0)
		return 1;
	const struct vl_vad *d = vl_vad_find(&e->procs[proc], vpn);
	if (!thp_eligible(e, d, vpn) || !node_uniform(e, li, pte))
		return 1;
	if (write) {
		int r = thp_map(e, proc, li, vpn, prot, a, err);
		if (r != 0)
			return r;
		count_fault(e, proc, 0);
		return 0;
	}
	if (!e->thp_zero)
		return 1;
	uint32_t l0 = li & ~(uint32_t)(PT_ENTRIES - 1);
	uint64_t hz = PTE_MAKE(e->zero_frame) | (prot_hw(prot) & ~PTE_RW) | PTE_SW_HUGEZERO;
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		pt_set(&e->pt, l0 + i, hz | (l0 + i == li ? PTE_A : 0));
	count_fault(e, proc, 0);
	return 0;
}

/* A write to the huge zero page: allocate the 2 MiB page in one fault.
 * Returns 1 when it cannot (the 4 KiB copy-on-write path takes over). */
static int thp_zero_wp(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn,
		       unsigned prot, const struct vl_access *a, struct vl_error *err)
{
	const struct vl_vad *d = vl_vad_find(&e->procs[proc], vpn);
	if (!thp_eligible(e, d, vpn))
		return 1;
	const uint64_t *n = &e->pt.e[(size_t)(li / PT_ENTRIES) * PT_ENTRIES];
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		if (!(n[i] & PTE_SW_HUGEZERO) || PTE_FRAME(n[i]) != e->zero_frame)
			return 1;
	int r = thp_map(e, proc, li, vpn, prot, a, err);
	if (r != 0)
		return r;
	e->ctr.faults_cow++;
	e->ctr.faults++;
	e->procs[proc].ctr.faults++;
	e->procs[proc].ctr.faults_cow++;
	return 0;
}

/* ---- khugepaged (linux) ----
 *
 * thp.khugepaged = on: every thp.khugepaged.interval accesses a scan looks
 * at up to thp.khugepaged.pages_to_scan PTEs (whole 2 MiB ranges), going
 * round the processes and their THP-eligible private VADs from where the
 * last scan stopped, as khugepaged does (mm/khugepaged.c,
 * hpage_collapse_scan_pmd and collapse_huge_page).  A range collapses
 * into a huge page when its page table exists and is not a huge page
 * already, at most thp.khugepaged.max_ptes_none of its PTEs are empty or
 * map the zero page, none is paged out (max_ptes_swap = 0 here: the
 * kernel would read up to 64 back), all have one usable, writable, private
 * protection, and at least one present page was accessed.  Present pages
 * are copied (large_page_copies), the rest zero-filled; the old frames are
 * freed and their translations invalidated; the huge page is dirty and
 * accessed.  Counted in large_page_promotions and large_pages_mapped; an
 * order-9 block that is not free counts in large_page_fallbacks.  The
 * replacement policy hears on_unmap for the old frames and on_map for the
 * 512 new ones (with no next-use time: OPT treats them as never used
 * again, as after a textbook promotion). */
static int khp_collapse(struct vl_engine *e, uint32_t proc, uint64_t v0, struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	uint32_t li = pt_walk(&e->pt, pr->root, va_of(v0));
	if (li == VL_NIL)
		return 0; /* no page table: nothing mapped to collapse */
	uint32_t l0 = li & ~(uint32_t)(PT_ENTRIES - 1), node = l0 / PT_ENTRIES;
	if (e->pt.thp[node] || (e->pt_frames && e->pt.frame[node] == VL_NIL))
		return 0;
	unsigned prot = 0, none = 0, referenced = 0;
	for (uint32_t i = 0; i < PT_ENTRIES; i++) {
		uint64_t pte = e->pt.e[l0 + i];
		unsigned pp;
		if (pte & PTE_P) {
			pp = VPTE_PROT(pte);
			if (PTE_FRAME(pte) == e->zero_frame) {
				none++;
			} else {
				if (e->db.pfn[PTE_FRAME(pte)].flags & PFN_F_PROTO)
					return 0; /* a file page: not anonymous memory */
				referenced += (pte & PTE_A) != 0;
			}
		} else if (pte == 0 || (pte & (SWPTE_PROTO | SWPTE_TRANS)) || SWPTE_HAS_SLOT(pte)) {
			return 0; /* not committed, a view, or paged out */
		} else {
			pp = SWPTE_PROT(pte);
			none++;
		}
		if (i == 0)
			prot = pp;
		if (pp != prot)
			return 0;
	}
	if (!prot_usable(prot) || (prot & VL_PROT_GUARD) || !prot_writable(prot) ||
	    prot_copy(prot) || none > e->khp_max_none || !referenced)
		return 0;
	uint32_t base = pfn_alloc(&e->db, 9);
	if (base == VL_NIL) {
		e->ctr.large_page_fallbacks++;
		return 0;
	}
	struct vl_access a = { .vpn = VL_NEVER, .time = e->time, .next_use = VL_NEVER,
			       .pid = pr->pid, .op = VL_OP_READ };
	for (uint32_t i = 0; i < PT_ENTRIES; i++) {
		uint64_t pte = e->pt.e[l0 + i];
		struct vl_pfn *p = &e->db.pfn[base + i];
		if ((pte & PTE_P) && PTE_FRAME(pte) != e->zero_frame)
			e->ctr.large_page_copies++;
		else if (!(p->flags & PFN_F_ZEROED))
			e->ctr.zeroed_pages++;
		vl_page_release(e, proc, l0 + i); /* frees the old frame, INVLPG */
		pt_set(&e->pt, l0 + i, 0);
		p->flags = 0;
		p->slot = VL_NIL;
		p->aux = 0;
		a.vpn = v0 + i;
		VL_TRY(map_private(e, proc, l0 + i, base + i, v0 + i, prot, true, true, &a, err));
	}
	/* one page: accessed (a page of it was) and dirty, in all 512 PTEs */
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		e->pt.e[l0 + i] |= PTE_A | PTE_D;
	thp_make(e, proc, l0, v0);
	e->ctr.large_page_promotions++;
	return 0;
}

int vl_khugepaged_scan(struct vl_engine *e, struct vl_error *err)
{
	uint64_t budget = e->khp_pages;
	uint32_t empty_visits = 0; /* processes passed without a range to look at */
	while (budget >= PT_ENTRIES && e->nprocs && empty_visits <= e->nprocs) {
		if (e->khp_proc >= e->nprocs) {
			e->khp_proc = 0;
			e->khp_vpn = 0;
		}
		struct vl_proc *pr = &e->procs[e->khp_proc];
		uint64_t v0 = VL_NEVER;
		for (uint32_t k = 0; pr->root && k < pr->nvads && v0 == VL_NEVER; k++) {
			const struct vl_vad *d = &pr->vads[k];
			uint64_t lo = d->start > e->khp_vpn ? d->start : e->khp_vpn;
			lo = (lo + PT_ENTRIES - 1) & ~(uint64_t)(PT_ENTRIES - 1);
			if (lo + PT_ENTRIES <= d->end && thp_eligible(e, d, lo))
				v0 = lo;
		}
		if (v0 == VL_NEVER) { /* this process is done: the next one */
			e->khp_proc++;
			e->khp_vpn = 0;
			empty_visits++;
			continue;
		}
		empty_visits = 0;
		budget -= PT_ENTRIES;
		e->khp_vpn = v0 + PT_ENTRIES;
		VL_TRY(khp_collapse(e, e->khp_proc, v0, err));
	}
	return 0;
}

int vl_fault(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t va, uint8_t op,
	     struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	uint64_t vpn = (va >> VL_PAGE_SHIFT) & VPN_MASK;
	bool write = op == VL_OP_WRITE || op == VL_OP_MODIFY;
	bool exec = op == VL_OP_IFETCH;
	struct vl_access a = {
		.vpn = vpn,
		.time = e->time,
		.next_use = e->future ? e->future[e->time] : 0,
		.pid = pr->pid,
		.op = op,
	};
	uint64_t pte = e->pt.e[li];

	if (pte & PTE_P) { /* protection fault on a present page */
		unsigned prot = VPTE_PROT(pte);
		if (exec && (pte & PTE_NX))
			return violation(e, proc);
		if (write && !(pte & PTE_RW)) {
			bool zero = PTE_FRAME(pte) == e->zero_frame;
			if (zero && (pte & PTE_SW_HUGEZERO) && prot_writable(prot) && !prot_copy(prot)) {
				int r = thp_zero_wp(e, proc, li, vpn, prot, &a, err);
				if (r <= 0)
					return r;
			}
			if (zero && prot_writable(prot) && !prot_copy(prot))
				return cow(e, proc, li, vpn, prot, &a, true, err);
			if (prot_copy(prot))
				return cow(e, proc, li, vpn, prot, &a, false, err);
			return violation(e, proc);
		}
		return 0; /* spurious: nothing to do */
	}

	/* decode the invalid PTE */
	const struct vl_vad *d = NULL;
	unsigned prot;
	if (pte == 0 || (pte & SWPTE_PROTO)) {
		if (!pr->explicit_vm) {
			prot = VL_PROT_EXECUTE_READWRITE; /* implicit commit */
		} else {
			d = vl_vad_find(pr, vpn);
			if (!d || d->kind != VAD_MAPPED)
				return violation(e, proc); /* free, or reserved but not committed */
			prot = pte ? SWPTE_PROT(pte) : d->prot;
		}
	} else {
		prot = SWPTE_PROT(pte);
	}
	if (!prot_usable(prot))
		return violation(e, proc);
	if (prot & VL_PROT_GUARD) {
		/* one-shot: the guard exception fires, the page loses its guard
		 * bit, and the access is retried (A.11) */
		prot &= ~(unsigned)VL_PROT_GUARD;
		e->ctr.faults_guard++;
		uint64_t npte = (pte == 0 || (pte & SWPTE_PROTO))
					? SWPTE_PROTO | SWPTE_MKPROT(prot)
					: (pte & ~SWPTE_MKPROT(0x1f)) | SWPTE_MKPROT(prot);
		pt_set(&e->pt, li, npte);
		pte = npte;
		if (!prot_usable(prot))
			return violation(e, proc);
	}
	if (write && !prot_writable(prot))
		return violation(e, proc);
	if (exec && !prot_exec(prot))
		return violation(e, proc);

	if (d || (pte & SWPTE_PROTO)) { /* a view page, through its section */
		if (!d)
			d = vl_vad_find(pr, vpn);
		if (!d)
			return violation(e, proc);
		uint64_t idx = d->offset_pages + (vpn - d->start);
		int how;
		ws_make_room(e, proc);
		uint32_t f = section_page(e, d->section, idx, &a, &how, err);
		if (f == VL_NIL)
			return err ? err->code : VL_ENOMEM;
		if (write && prot_copy(prot)) {
			/* first write to a copy-on-write view page: one fault that
			 * reads the shared page if needed (file_reads) and copies it */
			pt_set(&e->pt, li, 0);
			e->ctr.faults_cow++;
			e->ctr.faults++;
			e->procs[proc].ctr.faults++;
			e->procs[proc].ctr.faults_cow++;
			/* pin the source (a reference, as Windows's ReferenceCount)
			 * so making room cannot trim and repurpose it meanwhile */
			e->db.pfn[f].aux++;
			uint32_t g = vl_frame_get(e, false, &a, err);
			e->db.pfn[f].aux--;
			if (g == VL_NIL)
				return err ? err->code : VL_ENOMEM;
			unsigned nprot = (prot & ~7u) | (prot_access(prot) == VL_PROT_WRITECOPY
								 ? VL_PROT_READWRITE
								 : VL_PROT_EXECUTE_READWRITE);
			VL_TRY(map_private(e, proc, li, g, vpn, nprot, true, true, &a, err));
			shared_park(e, f);
			return 0;
		}
		count_fault(e, proc, how == 2 ? 2 : 1);
		VL_TRY(map_shared(e, proc, li, f, vpn, prot, write, err));
		if (e->fault_around > 1 && !write)
			fault_around(e, proc, d, vpn, d->prot);
		return 0;
	}

	if (pte & SWPTE_TRANS) { /* T3: back from standby or modified */
		uint32_t f = PTE_FRAME(pte);
		ws_make_room(e, proc);
		pte = e->pt.e[li];
		if (pte & SWPTE_TRANS) {
			unlist(e, f);
			count_fault(e, proc, 1);
			return map_private(e, proc, li, f, vpn, prot, write, false, &a, err);
		}
		/* the frame was repurposed while we made room: fall through */
	}

	ws_make_room(e, proc);
	pte = e->pt.e[li];
	if (SWPTE_HAS_SLOT(pte)) { /* T2: paged out */
		uint32_t slot = SWPTE_SLOT(pte);
		uint32_t f = vl_frame_get(e, false, &a, err);
		if (f == VL_NIL)
			return err ? err->code : VL_ENOMEM;
		e->ctr.pagefile_reads++;
		count_fault(e, proc, 2);
		VL_TRY(map_private(e, proc, li, f, vpn, prot, write, false, &a, err));
		e->db.pfn[f].slot = slot;
		return 0;
	}

	/* T1: demand zero */
	if (pte == 0 && !pr->explicit_vm) {
		e->commit++;
		pr->commit++;
		if (e->commit > e->ctr.commit_peak)
			e->ctr.commit_peak = e->commit;
	}
	if (e->thp != THP_NEVER) {
		int r = thp_fault(e, proc, li, vpn, pte, prot, write, &a, err);
		if (r <= 0)
			return r;
	}
	if (e->zero_page && !write) {
		/* linux: a read maps the shared zero page, read-only */
		count_fault(e, proc, 0);
		pt_set(&e->pt, li, PTE_MAKE(e->zero_frame) | (prot_hw(prot) & ~PTE_RW) | PTE_A);
		return 0;
	}
	uint32_t f = vl_frame_get(e, true, &a, err);
	if (f == VL_NIL)
		return err ? err->code : VL_ENOMEM;
	count_fault(e, proc, 0);
	/* Windows marks demand-zero pages dirty: they have no copy anywhere */
	return map_private(e, proc, li, f, vpn, prot, write || e->dz_dirty, e->dz_dirty, &a, err);
}
