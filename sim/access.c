/* sim/access.c - the access loop: each record of a batch, through the
 * TLBs or a page walk, to a translation or a fault.
 *
 * For each access record of a batch:
 *
 *   pid ─▶ process (one-entry cache, then a hash)       rare: new process
 *   va  ─▶ 4-level walk in the PT arena ─▶ leaf PTE      rare: missing node
 *   PTE valid   ─▶ set A (and D on a store); tell the policy if it asked
 *   PTE invalid ─▶ fault: demand-zero (PTE 0) or hard (page-file slot);
 *                  take a free frame, or evict the policy's victim first
 *
 * The hit path is array indexing only: no allocation, no I/O, at most one
 * indirect call (the policy's on_access, only for policies that want it).
 * Everything rare (new process, missing page-table node, fault, eviction)
 * lives in functions kept off the hot loop.
 *
 * Faults are resolved in sim/fault.c, address-space events (VADs, commit,
 * sections) in sim/vad.c; periodic work (the resident-set manager's pass,
 * the large-page policy's scan, khugepaged) runs from ticks() at exact
 * access counts.
 */
#include "sim/internal.h"
#include "sim/tlb_inline.h"

/* The trace switched process: find or create it, switch address spaces. */
static __attribute__((noinline)) int switch_proc(struct vl_engine *e, uint32_t pid,
						 struct vl_error *err)
{
	uint32_t proc = vl_proc_lookup(e, pid, err);
	if (proc == VL_NIL)
		return err ? err->code : VL_ENOMEM;
	e->last_pid = pid;
	e->last_proc = proc;
	xl_switch(e, proc);
	return 0;
}

/* Page-table nodes were freed (prune, exit): their indices may come back
 * for other addresses, so cached translations and walk-cache entries go. */
static inline void xl_after_slow(struct vl_engine *e)
{
	if (unlikely(e->pt.frees != e->xl.pt_frees))
		xl_flush_all(e);
}

/* vl_frame_get under a plain global manager: with memory full (nothing
 * free, on standby or reserved) the policy's victim's frame, handed over
 * by vl_global_take; anything else vl_frame_get's general way. */
static inline __attribute__((always_inline)) uint32_t
frame_get_fast(struct vl_engine *e, bool zero, const struct vl_access *a,
	       struct vl_error *err)
{
	if (likely(e->db.nfree == 0 && e->nstandby == 0 && e->resv_n == 0)) {
		int rc;
		uint32_t f = vl_global_take_fill(e, zero, a, &rc, err);
		if (f != VL_NIL || rc < 0)
			return f;
	}
	return vl_frame_get(e, zero, a, err);
}

/* vl_fault's two common cases under a plain global manager (textbook:
 * no large pages, no THP, no zero page, no swap cache; e->fast_fault),
 * for a process without address-space events (implicit commit): a
 * never-touched page (demand zero) and a page paged out to the page file
 * (a hard fault), with the same steps and counts as vl_fault in the same
 * order.  The page is mapped as vl_map_private maps it; the global
 * manager's `mapped` hook is the policy's on_map for a private frame, so
 * that is called directly.  1 when it resolved the fault, 0 when the PTE
 * is anything else (vl_fault then does), or an error. */
static inline __attribute__((always_inline)) int
fault_fast(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t va,
	   uint8_t op, struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	uint64_t pte = e->pt.e[li];
	bool write = op == VL_OP_WRITE || op == VL_OP_MODIFY;
	unsigned prot = VL_PROT_EXECUTE_READWRITE; /* implicit commit */
	if (pr->explicit_vm)
		return 0;
	if (pte == 0 && !e->overcommit && e->commit >= e->commit_limit)
		return 0; /* at the commit limit: vl_fault refuses or grows the page file */
	if (pte != 0) {
		if ((pte & (PTE_P | SWPTE_PROTO | SWPTE_TRANS)) || !SWPTE_HAS_SLOT(pte))
			return 0;
		prot = SWPTE_PROT(pte);
		if (!prot_usable(prot) || (prot & VL_PROT_GUARD) || (write && !prot_writable(prot)) ||
		    (op == VL_OP_IFETCH && !prot_exec(prot)))
			return 0; /* violations and guard pages: vl_fault */
	}
	uint64_t vpn = (va >> VL_PAGE_SHIFT) & VPN_MASK;
	struct vl_access a = vl_access_at(e, e->time, vpn, pr->pid, op);
	uint32_t f;
	bool dirty = false;
	if (pte) { /* T2: paged out */
		f = frame_get_fast(e, false, &a, err);
		if (f == VL_NIL)
			return err ? err->code : VL_ENOMEM;
		e->ctr.pagefile_reads++;
		count_fault(e, proc, FAULT_HARD);
	} else { /* T1: demand zero */
		count_commit(e, proc, 1);
		f = frame_get_fast(e, true, &a, err);
		if (f == VL_NIL)
			return err ? err->code : VL_ENOMEM;
		count_fault(e, proc, FAULT_DEMAND_ZERO);
		write = write || e->dz_dirty;
		dirty = e->dz_dirty;
	}
	map_private_pte(e, proc, li, f, vpn, prot, write, dirty);
	if (pte)
		e->db.pfn[f].slot = SWPTE_SLOT(pte);
	if (e->elist_on)
		elist_push_head(e, f);
	else
		e->repl_ops->on_map(&e->repl, f, &a);
	return 1;
}

/* The walk found no present leaf, or one that forbids the access: resolve
 * the fault (a large page, a page of a reservation, a 4 KiB page, copy-on-
 * write) or count the violation.  The fault path goes on from the entry
 * where the MMU's walk stopped (e->xl.stop), creating the tables below it,
 * instead of walking from the root again.  *retry: the access may now
 * proceed; *leaf: the 4 KiB leaf it now translates through, or VL_NIL when
 * the retry must walk to find it (a large page was mapped, tables went). */
static __attribute__((noinline)) int fault_slow(struct vl_engine *e, const struct vl_rec *r,
						bool write, bool *retry, uint32_t *leaf,
						struct vl_error *err)
{
	uint32_t proc = e->last_proc;
	uint64_t va = r->addr;
	bool refused = false;
	*retry = false;
	*leaf = VL_NIL;
	if (e->lp_any) {
		struct vl_access a =
			vl_access_at(e, e->time, (va >> VL_PAGE_SHIFT) & VPN_MASK, r->pid, r->op);
		int h = lp_fault(e, proc, &a, write, &refused, err);
		if (h < 0)
			return h;
		if (h) {
			if (refused)
				count_violation(e, proc);
			*retry = !refused;
			return 0;
		}
	}
	unsigned at = 1;
	uint32_t li = e->xl.stop;
	if (e->xl.stop_level == 1) {
		e->pt.ncreated = 0; /* the leaf exists: nothing to create */
	} else {
		li = pt_descend(&e->pt, e->xl.stop / PT_ENTRIES, e->xl.stop_level, va, 1, WALK_CREATE,
				NULL, &at);
		if (li == VL_NIL)
			return pt_nomem(&e->pt, err);
		VL_TRY(vl_pt_frames(e, proc, err));
	}
	uint64_t pte = e->pt.e[li];
	bool ok = (pte & PTE_P) && !(write && !(pte & PTE_RW)) &&
		  !(r->op == VL_OP_IFETCH && (pte & PTE_NX));
	if (!ok) {
		uint32_t frees = e->pt.frees;
		int h = e->fast_fault && at == 1 ? fault_fast(e, proc, li, va, r->op, err) : 0;
		if (h < 0)
			return h;
		if (!h)
			VL_TRY(vl_fault(e, proc, li, va, r->op, err));
		xl_after_slow(e);
		if (e->pt.frees != frees || !(e->pt.e[li] & PTE_P)) {
			/* nodes went, or a large page replaced li's table (a THP
			 * deposits it, emptied): find the leaf again */
			li = pt_walk(&e->pt, e->procs[proc].root, va);
			at = 0;
		}
		pte = li == VL_NIL ? 0 : e->pt.e[li];
		ok = (pte & PTE_P) && !(write && !(pte & PTE_RW)) &&
		     !(r->op == VL_OP_IFETCH && (pte & PTE_NX));
	}
	*retry = ok; /* else a violation (counted by vl_fault) or a guard page */
	if (ok && at == 1)
		*leaf = li;
	return 0;
}

static inline bool canonical(uint64_t va);

/* V POPULATE: the pages of [ev->addr, ev->addr + ev->len) are made present
 * as a read (or, with VL_POP_WRITE, a write) of each would make them,
 * through the fault path of the personality (a zero-page or copy-on-write
 * mapping, a page-cache page with its fault-around, a page read back),
 * but without a page-fault event: Linux's get_user_pages (exec's
 * copy_strings, MAP_POPULATE, mlock, MADV_POPULATE_READ/WRITE) resolves
 * them with handle_mm_fault and no registers, so perf's page-fault
 * counters do not see them.  Each page that needed the fault path counts
 * in `populated` instead of the fault counters; a page already present
 * (and writable, for a write) is left alone.  A page the access may not
 * make present (no mapping, its protection) stops the population there and
 * counts in event_failures, as get_user_pages returns -EFAULT. */
static __attribute__((noinline)) int populate_slow(struct vl_engine *e, uint32_t pid,
						   uint32_t proc, const struct vl_event *ev,
						   struct vl_error *err)
{
	e->populate_seen = true;
	uint64_t va = ev->addr & ~(uint64_t)(VL_PAGE_SIZE - 1), end = ev->addr + ev->len;
	if (end < ev->addr || !canonical(va) || (ev->len && !canonical(end - 1))) {
		e->ctr.event_failures++;
		return 0;
	}
	bool write = ev->prot & VL_POP_WRITE;
	struct fault_ctrs {
		uint64_t faults, dz, soft, hard, cow, av, guard;
	};
	struct vl_counters *c = &e->ctr;
	for (; va < end; va += VL_PAGE_SIZE) {
		struct vl_proc *pr = &e->procs[proc];
		struct fault_ctrs g = { c->faults, c->faults_demand_zero, c->faults_soft,
						  c->faults_hard, c->faults_cow, c->access_violations,
						  c->faults_guard };
		struct fault_ctrs p = { pr->ctr.faults, pr->ctr.faults_demand_zero,
						  pr->ctr.faults_soft, pr->ctr.faults_hard,
						  pr->ctr.faults_cow, pr->ctr.access_violations, 0 };
		/* the fault path goes on from the root (as after a walk that
		 * stopped at the top level) */
		e->xl.stop = pr->root * PT_ENTRIES;
		e->xl.stop_level = 4;
		struct vl_rec r = { .addr = va, .pid = pid,
				    .op = write ? VL_OP_WRITE : VL_OP_READ };
		bool retry;
		uint32_t leaf;
		int rc = fault_slow(e, &r, write, &retry, &leaf, err);
		xl_after_slow(e);
		if (rc < 0)
			return rc;
		pr = &e->procs[proc];
		bool faulted = c->faults != g.faults;
		c->faults = g.faults;
		c->faults_demand_zero = g.dz;
		c->faults_soft = g.soft;
		c->faults_hard = g.hard;
		c->faults_cow = g.cow;
		c->access_violations = g.av;
		c->faults_guard = g.guard;
		pr->ctr.faults = p.faults;
		pr->ctr.faults_demand_zero = p.dz;
		pr->ctr.faults_soft = p.soft;
		pr->ctr.faults_hard = p.hard;
		pr->ctr.faults_cow = p.cow;
		pr->ctr.access_violations = p.av;
		if (!retry) {
			e->ctr.event_failures++;
			return 0;
		}
		if (faulted)
			e->populated++;
	}
	return 0;
}

/* An event record: the address-space operations of sim/vad.c. */
static __attribute__((noinline)) int event_slow(struct vl_engine *e, const struct vl_batch *b,
						const struct vl_rec *r, struct vl_error *err)
{
	if (r->op != VL_OP_EVENT || r->addr >= b->n_events)
		return vl_err(err, VL_EINVAL, "record with op %u names event %llu of %zu", r->op,
			      (unsigned long long)r->addr, b->n_events);
	const struct vl_event *ev = &b->events[r->addr];
	if (ev->kind >= VL_EV_HEAP_ALLOC && ev->kind <= VL_EV_HEAP_REALLOC)
		return vl_heap_event(e, r->pid, ev, err); /* not an address-space event */
	if (ev->kind == VL_EV_FREAD) /* a file read: the page cache only (linux) */
		return e->fread_cache && !e->pagecache_warm
			       ? vl_pagecache_fread(e, ev->file_id, ev->offset, ev->len, err) : 0;
	e->ctr.events++;
	uint32_t proc = vl_proc_lookup(e, r->pid, err);
	if (proc == VL_NIL)
		return err ? err->code : VL_ENOMEM;
	e->last_pid = r->pid;
	e->last_proc = proc;
	xl_switch(e, proc);
	if (e->lp_any && !e->procs[proc].explicit_vm)
		VL_TRY(lp_forget(e, proc, err)); /* the process's first event */
	if (ev->kind == VL_EV_POPULATE) {
		int rc = populate_slow(e, r->pid, proc, ev, err);
		xl_after_slow(e);
		return rc;
	}
	int rc = vl_event(e, proc, ev, err); /* EXIT frees the heap too (vl_proc_retire) */
	if (rc == 0 && ev->kind == VL_EV_FORK && ev->addr <= UINT32_MAX)
		rc = vl_heap_fork(e, proc, (uint32_t)ev->addr, err);
	xl_after_slow(e);
	return rc;
}

static inline bool canonical(uint64_t va)
{
	int64_t hi = (int64_t)va >> (VA_BITS - 1);
	return hi == 0 || hi == -1;
}

/* Periodic work due before access number e->time: the large-page
 * policy's scan every largepage.interval accesses, the working-set
 * manager's pass every wsm.interval accesses and khugepaged's scan every
 * thp.khugepaged.interval accesses, each at exact multiples of its
 * interval, so that results do not depend on how a trace was cut into
 * batches. */
void vl_tick_at_update(struct vl_engine *e)
{
	uint64_t t = e->next_tick < e->lp_next_tick ? e->next_tick : e->lp_next_tick;
	e->tick_at = t < e->khp_next ? t : e->khp_next;
}

static __attribute__((noinline)) int ticks(struct vl_engine *e, struct vl_error *err)
{
	if (e->time >= e->lp_next_tick) {
		lp_tick(e);
		xl_after_slow(e);
	}
	if (e->time >= e->next_tick) {
		e->next_tick += e->wsm_interval;
		VL_TRY(e->rsm->tick(e, err));
		xl_after_slow(e);
	}
	if (e->time >= e->khp_next) {
		e->khp_next += e->khp_interval;
		VL_TRY(vl_khugepaged_scan(e, err));
		xl_after_slow(e);
	}
	vl_tick_at_update(e);
	return 0;
}

/* The policy hears access a to frame f: LRU-like policies whose
 * on_access only moves f to the head of their frame list
 * (VL_REPL_ACCESS_MOVES_HEAD) are served inline, in the list the engine
 * keeps for them (VL_REPL_ENGINE_LIST) or in theirs, others through
 * on_access. */
static inline __attribute__((always_inline)) void hear_access(struct vl_engine *e, uint32_t f,
								 const struct vl_access *a)
{
	if (e->elist_on) { /* the list the engine keeps (VL_REPL_ENGINE_LIST) */
		elist_move_head(e, f);
		return;
	}
	struct vl_flist *l = e->access_flist;
	if (l) {
		vl_flist_move_head(l, f);
		return;
	}
	e->repl_ops->on_access(&e->repl, f, a);
}

/* A policy that asked to hear every access (VL_REPL_WANTS_ACCESS) hears
 * this one, through leaf entry pte of a page of 1 << shift bytes: the
 * 4 KiB frame va falls in, unless the entry says the policy holds no
 * frame of it (PTE_SW_NOPOLICY: the zero page, a non-pageable large page). */
static inline void tell_policy(struct vl_engine *e, const uint64_t *future, uint64_t pte, uint64_t va,
			       unsigned shift, uint64_t time, uint32_t pid, uint8_t op)
{
	if (!(pte & PTE_SW_NOPOLICY)) {
		uint32_t f = PTE_FRAME(pte) +
			     (uint32_t)((va >> VL_PAGE_SHIFT) & ((1ull << (shift - 12)) - 1));
		struct vl_access a = vl_access_of(future, time, (va >> VL_PAGE_SHIFT) & VPN_MASK, pid, op);
		hear_access(e, f, &a);
	}
}

static __attribute__((noinline)) int fault_and_retry(struct vl_engine *e, const struct vl_rec *r,
						     unsigned kind, bool write, uint64_t *tr,
						     struct vl_error *err);

/* The leaf entry's index of va's four-level walk from root, 0 when a
 * table is missing or a large page maps it (no accessed bits, nothing
 * counted: for prefetching and the walk loop's own walk). */
static inline uint64_t walk_upper(const uint64_t *pt, uint32_t root, uint64_t va)
{
	uint64_t e4 = pt[(size_t)root * PT_ENTRIES + va_idx(va, 4)];
	if (unlikely((e4 & (PTE_P | PTE_PS)) != PTE_P))
		return 0;
	uint64_t e3 = pt[(size_t)PTE_FRAME(e4) * PT_ENTRIES + va_idx(va, 3)];
	if (unlikely((e3 & (PTE_P | PTE_PS)) != PTE_P))
		return 0;
	uint64_t e2 = pt[(size_t)PTE_FRAME(e3) * PT_ENTRIES + va_idx(va, 2)];
	if (unlikely((e2 & (PTE_P | PTE_PS)) != PTE_P))
		return 0;
	return (uint64_t)PTE_FRAME(e2) * PT_ENTRIES + va_idx(va, 1);
}

/* The leaf index of record q's page if q is the current process's and
 * its upper levels are present (0 if not), with the leaf entry
 * prefetched: the loops look records ahead this way. */
static inline __attribute__((always_inline)) uint64_t leaf_ahead(const uint64_t *pt, uint32_t root,
								 uint32_t pid,
								 const struct vl_rec *q)
{
	if (likely(q->pid == pid && canonical(q->addr))) {
		uint64_t lq = walk_upper(pt, root, q->addr);
		if (lq)
			__builtin_prefetch(&pt[lq], 1);
		return lq;
	}
	return 0;
}

/* xl_miss, with its dispatch to the two-level shape's path inline. */
static inline __attribute__((always_inline)) uint64_t tlb_miss(struct vl_engine *e, uint64_t va,
							       unsigned kind, bool write, bool retry)
{
	const struct vl_xlat *xl = &e->xl;
	if (xl->two[kind] && !(xl->lp_live[1] | xl->lp_live[2])) {
		if (xl->two[kind] == XL_TWO_48S)
			return retry ? xl_miss_48s_retry(e, va, kind, write) : xl_miss_48s(e, va, kind, write);
		return retry ? xl_miss_48_retry(e, va, kind, write) : xl_miss_48(e, va, kind, write);
	}
	return xl_miss(e, va, kind, write, retry);
}

/* fault_and_retry for a fault that fault_fast resolves, where the MMU's
 * walk reached the leaf (xl.stop_level 1): the same steps as fault_slow
 * and fault_and_retry take for it, without their general cases, and
 * without feed_hits writing its counts back first (fault_fast reads the
 * clock only, as in feed_walk).  1 when it resolved the fault (*tr: the
 * retried access's translation, or XL_FAULT when it does not proceed), 0
 * when fault_fast does not take it (nothing changed: fault_and_retry
 * does), or an error.  s48: the kind has the default machine's shape
 * (XL_TWO_48S), whose retry runs inline (xl_retry_48s). */
static inline __attribute__((always_inline)) int fault_retry(struct vl_engine *e,
							      const struct vl_rec *r, unsigned kind,
							      bool write, uint64_t *tr,
							      struct vl_error *err, const bool s48)
{
	uint32_t proc = e->last_proc, li = e->xl.stop, frees = e->pt.frees;
	e->pt.ncreated = 0; /* the leaf exists: nothing to create */
	int h = fault_fast(e, proc, li, r->addr, r->op, err);
	if (h <= 0)
		return h;
	xl_after_slow(e);
	if (e->pt.frees != frees || !(e->pt.e[li] & PTE_P))
		li = pt_walk(&e->pt, e->procs[proc].root, r->addr);
	uint64_t pte = li == VL_NIL ? 0 : e->pt.e[li];
	bool ok = (pte & PTE_P) && !(write && !(pte & PTE_RW)) &&
		  !(r->op == VL_OP_IFETCH && (pte & PTE_NX));
	if (!ok) {
		*tr = XL_FAULT;
		return 1;
	}
	const struct vl_xlat *xl = &e->xl;
	if (s48 && likely(xl->two[kind] == XL_TWO_48S && !(xl->lp_live[1] | xl->lp_live[2])))
		*tr = xl_retry_48s(e, r->addr, kind, write, li);
	else
		*tr = tlb_miss(e, r->addr, kind, write, true);
	if (*tr == XL_FAULT)
		return vl_err(err, VL_ESTATE, "pid %u va 0x%llx: still not accessible after its fault",
			      r->pid, (unsigned long long)r->addr);
	return 1;
}

/* fault_retry compiled twice: for the default machine's shape, with its
 * retry inline, and for any other, which then keeps its registers. */
static __attribute__((noinline)) int fault_retry_fast(struct vl_engine *e, const struct vl_rec *r,
						      unsigned kind, bool write, uint64_t *tr,
						      struct vl_error *err)
{
	if (e->xl.two[kind] == XL_TWO_48S)
		return fault_retry(e, r, kind, write, tr, err, true);
	return fault_retry(e, r, kind, write, tr, err, false);
}

/* feed_hits' counts written back to the engine: ops[] and the accesses
 * of the first n records of the run, *done of which were written back
 * before. */
static inline void hits_flush(struct vl_engine *e, uint32_t proc, uint64_t *ops, size_t n,
			      size_t *done)
{
	for (unsigned k = 0; k < VL_OP_NACCESS; k++) {
		e->op_count[k] += ops[k];
		ops[k] = 0;
	}
	e->procs[proc].accesses += n - *done;
	*done = n;
}

/* The TLB path: a run of ordinary accesses by the current process.  A
 * first-level hit needing no page-table work (no store through a clean
 * entry, no fetch through a no-execute one) changes nothing the next
 * access finds but the entries' use stamps; a miss goes to xl_miss (the
 * lower levels, the walk, the fills); a miss that faults to
 * fault_retry_fast when fault_fast takes it, else to fault_and_retry with
 * the counts written back first (the general fault path may read the
 * counters).  The loop keeps the clock, the op counts and the process's
 * access count in registers, and while misses come it prefetches what the
 * walks of the records ahead will read (as feed_walk does).  Stops,
 * without consuming it, at the first record that needs anything else (an
 * event, another process, a hit that must walk, a large-page tick, the
 * end of the pre-pass's future), and after a fault that stopped the
 * process or mapped a large page; returns the number of records consumed
 * (*rc < 0: an error, the record not consumed); vl_engine_feed's general
 * loop then takes the next record.  Same counts as the general loop,
 * record for record (tests/golden/test_hit_path.c compares both). */
#define HIT_PROBES 4
#define TLB_AHEAD 8
static size_t feed_hits(struct vl_engine *e, const struct vl_rec *r0, const struct vl_rec *end,
			int *rc, struct vl_error *err)
{
	const struct vl_xlat *xl = &e->xl;
	uint32_t proc = e->last_proc;
	if (proc == VL_NIL || !e->procs[proc].root || e->procs[proc].stopped)
		return 0;
	/* the first level's structures per kind, without sizes nothing maps */
	const struct xl_probe *fp[2][HIT_PROBES];
	unsigned nfp[2];
	for (unsigned k = 0; k < 2; k++) {
		nfp[k] = 0;
		for (uint32_t j = 0; j < xl->lvl[k][1]; j++) {
			const struct xl_probe *p = &xl->probe[k][j];
			if (p->sz && !xl->lp_live[p->sz])
				continue;
			if (nfp[k] == HIT_PROBES)
				return 0; /* an odd machine: the general loop copes */
			fp[k][nfp[k]++] = p;
		}
	}
	const uint32_t pid = e->last_pid;
	const uint64_t asid = xl->asid;
	const uint32_t lp1 = xl->lp_live[1], lp2 = xl->lp_live[2];
	const bool fast = e->fast_fault;
	/* the data side's one first-level probe when it is a 4-way, 4 KiB
	 * structure with a power-of-two set count (the default machine) */
	const struct xl_probe *d4 = nfp[XL_DATA] == 1 && fp[XL_DATA][0]->sz == 0 &&
					    fp[XL_DATA][0]->t->ways == 4 &&
					    fp[XL_DATA][0]->t->set_mask != UINT32_MAX
				    ? fp[XL_DATA][0] : NULL;
	const uint64_t *d4tag = d4 ? d4->t->tag : NULL;
	const uint64_t d4key = d4 ? asid | d4->keysz : 0, d4vmask = d4 ? d4->vmask : 0;
	const uint32_t d4mask = d4 ? d4->t->set_mask : 0;
	const uint32_t root = e->procs[proc].root;
	const bool pf_frame = e->wants_access && e->elist_on;
	const struct vl_pfn *db = e->db.pfn;
	const uint32_t nframes = e->db.nframes;
	uint64_t ahead[TLB_AHEAD];
	size_t ahead_ok = TLB_AHEAD;
	uint64_t recent = 1; /* a bit per recent record that missed: prefetch while any */
	const uint64_t *pte = e->pt.e;
	const uint64_t *future = e->future;
	uint64_t limit = e->tick_at;
	if (future && e->future_n < limit)
		limit = e->future_n;
	uint64_t time = e->time;
	uint64_t ops[VL_OP_NACCESS] = { 0 };
	size_t done = 0;
	const struct vl_rec *r = r0;
	for (; r < end; r++) {
		/* while misses come (any in the last 64 records), the leaf entry
		 * of record r + TLB_AHEAD into the cache, which a miss's walk
		 * reads, and the frame record of record r + TLB_AHEAD / 2, whose
		 * leaf came TLB_AHEAD / 2 records ago (the policy's list moves it
		 * on a hit); prefetches only: nothing is counted or set.
		 * ahead[i % TLB_AHEAD]: the leaf index found for record i, 0 for
		 * none, valid from record ahead_ok on. */
		if (recent) {
			size_t i = (size_t)(r - r0);
			if (likely(r + TLB_AHEAD < end)) {
				ahead[i % TLB_AHEAD] = leaf_ahead(pte, root, pid, r + TLB_AHEAD);
			}
			if (pf_frame && i + TLB_AHEAD / 2 >= ahead_ok && likely(r + TLB_AHEAD / 2 < end)) {
				uint64_t lh = ahead[(i + TLB_AHEAD / 2) % TLB_AHEAD];
				uint64_t eh = lh ? pte[lh] : 0;
				/* frame 0's record when the page is not present:
				 * no branch on it (half the pages ahead of a
				 * faulting run are not, at random) */
				uint32_t fa = PTE_FRAME(eh);
				fa &= -(uint32_t)((uint32_t)eh & (fa < nframes) & PTE_P);
				__builtin_prefetch(&db[fa], 1);
			}
			recent <<= 1;
		} else {
			ahead_ok = (size_t)(r - r0) + TLB_AHEAD;
		}
		unsigned op = r->op;
		uint64_t va = r->addr;
		if (unlikely(op >= VL_OP_NACCESS || r->pid != pid || time >= limit || !canonical(va)))
			break;
		unsigned kind = op == VL_OP_IFETCH ? XL_INSTR : XL_DATA;
		/* XL_DIRTY for the ops that store (WRITE 1, MODIFY 3) */
		uint64_t store = (0xAu >> op) & XL_DIRTY;
		const struct xl_probe *hp = NULL;
		uint32_t w = UINT32_MAX;
		uint64_t hvpn = 0;
		if (d4 && kind == XL_DATA) {
			/* the data side's one 4-way 4 KiB structure (the else
			 * branch's loop, with its fields in registers) */
			uint64_t vpn = (va >> 12) & d4vmask;
			uint64_t key = d4key | vpn << 3;
			uint32_t i = ((uint32_t)vpn & d4mask) * 4;
#pragma GCC unroll 4
			for (uint32_t q = 0; q < 4; q++)
				w = (d4tag[i + q] ^ key) < 2 ? i + q : w;
			if (w != UINT32_MAX) {
				hp = d4;
				hvpn = vpn;
			}
		} else {
			for (unsigned j = 0; j < nfp[kind]; j++) {
				const struct xl_probe *p = fp[kind][j];
				const struct tlb *pt = p->t;
				uint64_t vpn = (va >> p->shift) & p->vmask;
				uint64_t key = asid | p->keysz | vpn << 3;
				uint32_t i = tlb_set(pt, vpn) * pt->ways, ie = i + pt->ways;
				if (pt->ways == 4) {
					/* the same with the count known: unrolled */
#pragma GCC unroll 4
					for (uint32_t q = 0; q < 4; q++)
						w = (pt->tag[i + q] ^ key) < 2 ? i + q : w;
				} else if (pt->ways <= 8) {
					/* every way, without an early exit (see tlb_find) */
					for (; i < ie; i++)
						w = (pt->tag[i] ^ key) < 2 ? i : w;
				} else {
					int64_t hit = tlb_find(pt, key, vpn);
					w = hit < 0 ? UINT32_MAX : (uint32_t)hit;
				}
				if (w != UINT32_MAX) {
					hp = p;
					hvpn = vpn;
					break;
				}
			}
		}
		if (!hp) {
			/* a miss: the lower levels and the walk (xl_miss reads
			 * the clock) */
			recent |= 1;
			e->time = time;
			uint64_t tr = tlb_miss(e, va, kind, store != 0, false);
			if (likely(tr != XL_FAULT)) {
				ops[op]++;
				if (e->wants_access)
					tell_policy(e, future, pte[(uint32_t)tr], va,
						    (unsigned)(tr >> 32), time, pid, (uint8_t)op);
				time++;
				continue;
			}
			/* the fault: fault_fast's cases here (the retry's
			 * walk ends at the leaf just mapped) */
			if (fast && xl->stop_level == 1) {
				int h = fault_retry_fast(e, r, kind, store != 0, &tr, err);
				if (unlikely(h < 0)) {
					*rc = h;
					break;
				}
				if (h) {
					ops[op]++;
					time++;
					continue;
				}
			}
			/* the others: the general loop's state first (this
			 * record's op counted, its access not yet) */
			ops[op]++;
			hits_flush(e, proc, ops, (size_t)(r - r0), &done);
			*rc = fault_and_retry(e, r, kind, store != 0, &tr, err);
			if (*rc < 0)
				break;
			e->procs[proc].accesses++;
			done++;
			time = e->time + 1;
			ahead_ok = (size_t)(r - r0) + 1 + TLB_AHEAD; /* the tables may have changed */
			/* the fault may have moved the arena or the periodic
			 * work, stopped the process or mapped a large page */
			pte = e->pt.e;
			limit = e->tick_at;
			if (future && e->future_n < limit)
				limit = e->future_n;
			if (unlikely(e->procs[proc].stopped || !e->procs[proc].root ||
				     xl->lp_live[1] != lp1 || xl->lp_live[2] != lp2 ||
				     xl->asid != asid)) {
				r++;
				break;
			}
			continue;
		}
		struct tlb *t = hp->t;
		if (unlikely((store & ~t->tag[w]) || (kind == XL_INSTR && (pte[t->ref[w]] & PTE_NX))))
			break;
		t->hits++;
		tlb_touch(t, hvpn, w, time + 1);
		ops[op]++;
		if (e->wants_access)
			tell_policy(e, future, pte[t->ref[w]], va, hp->shift, time, pid, (uint8_t)op);
		time++;
	}
	size_t n = (size_t)(r - r0);
	e->time = time;
	hits_flush(e, proc, ops, n, &done);
	return n;
}

/* No TLB, no walk cache, the current process: a run of accesses whose
 * four-level walk ends at a present 4 KiB leaf that allows the access
 * (the common case of `--machine none`), walked without a loop, with the
 * clock, op counts, walk counts and the process's access count kept in
 * registers.  While handling record i it prefetches the leaf entry of
 * record i + WALK_AHEAD (its upper levels are few and cached) so that the
 * cache miss on the leaf overlaps with the work of the records between.
 * A record whose walk faults is resolved here (fault_and_retry) and ends
 * the run; anything else unusual (an event, another process, a large page,
 * periodic work, the end of the pre-pass's future) stops the run before
 * that record, which vl_engine_feed's general loop then takes.  Returns
 * the records consumed; same counts as the general loop, record for
 * record. */
#define WALK_AHEAD 8

/* feed_walk's counts written back to the engine: ops[] and the first n
 * accesses of the run, *done of which were written back before, *nfault
 * of those since faulted (a faulted access's walk is its retry's). */
static void walk_flush(struct vl_engine *e, uint32_t proc, uint64_t *ops, size_t n, size_t *done,
		       size_t *nfault)
{
	size_t walked = n - *done - *nfault;
	for (unsigned k = 0; k < VL_OP_NACCESS; k++) {
		e->op_count[k] += ops[k];
		ops[k] = 0;
	}
	e->procs[proc].accesses += n - *done;
	e->ctr.walks += walked;
	e->ctr.walk_refs += 4 * (uint64_t)walked;
	*done = n;
	*nfault = 0;
}

static size_t feed_walk(struct vl_engine *e, const struct vl_rec *r0, const struct vl_rec *end,
			int *rc, struct vl_error *err)
{
	uint32_t proc = e->last_proc;
	if (proc == VL_NIL || !e->procs[proc].root || e->procs[proc].stopped)
		return 0;
	const uint32_t pid = e->last_pid;
	const uint32_t root = e->procs[proc].root;
	uint64_t *pt = e->pt.e;
	const uint64_t *future = e->future;
	const bool wants = e->wants_access;
	const bool fast = e->fast_fault;
	/* hints for record i + WALK_AHEAD / 2: a coming hit's record at
	 * hit_base + frame * hit_stride (the engine's frame record when it
	 * keeps the policy's list, or the policy's hit_hint), a coming fault
	 * told to the policy (will_fault) */
	void (*const will_fault)(struct vl_repl *, uint32_t, uint64_t) = e->will_fault;
	static const char no_hint;
	uintptr_t hit_base = (uintptr_t)&no_hint;
	size_t hit_stride = 0;
	if (wants && e->elist_on) {
		hit_base = (uintptr_t)e->db.pfn;
		hit_stride = sizeof(struct vl_pfn);
	} else if (e->hit_hint) {
		hit_base = (uintptr_t)e->hit_hint;
		hit_stride = e->hit_hint_stride;
	}
	const bool look = hit_stride || will_fault;
	uint64_t limit = e->tick_at;
	if (future && e->future_n < limit)
		limit = e->future_n;
	uint64_t time = e->time;
	uint64_t ops[VL_OP_NACCESS] = { 0 };
	const struct vl_rec *r = r0;
	size_t nfault = 0, done = 0;
	/* ahead[i % WALK_AHEAD]: the leaf index the prefetch walk found for
	 * record i, 0 for none (another process, a missing table, a large
	 * page, past the end, or not looked up: the first WALK_AHEAD
	 * records).  Only faults resolved the general way can change the
	 * tables above a leaf (fault_fast maps and unmaps leaves only), so
	 * they alone clear it. */
	uint64_t ahead[WALK_AHEAD] = { 0 };
	for (; r < end; r++) {
		size_t i = (size_t)(r - r0);
		uint64_t li = ahead[i % WALK_AHEAD];
		ahead[i % WALK_AHEAD] =
			likely(r + WALK_AHEAD < end) ? leaf_ahead(pt, root, pid, r + WALK_AHEAD) : 0;
		/* record i + WALK_AHEAD / 2, whose leaf the walk above
		 * prefetched WALK_AHEAD / 2 records ago (hints only: a
		 * prefetch of whatever a present entry names faults on nothing) */
		if (look) {
			uint64_t lh = ahead[(i + WALK_AHEAD / 2) % WALK_AHEAD];
			if (lh) {
				uint64_t eh = pt[lh];
				if (eh & PTE_P)
					__builtin_prefetch((const void *)(hit_base + PTE_FRAME(eh) * hit_stride), 1);
				else if (will_fault)
					will_fault(&e->repl, pid,
						   (r[WALK_AHEAD / 2].addr >> VL_PAGE_SHIFT) & VPN_MASK);
			}
		}
		unsigned op = r->op;
		uint64_t va = r->addr;
		if (unlikely(op >= VL_OP_NACCESS || r->pid != pid || time >= limit || !canonical(va)))
			break;
		if (!li)
			li = walk_upper(pt, root, va);
		if (unlikely(!li))
			break; /* a missing table or a large page: the general loop */
		uint64_t ent = pt[li];
		bool write = op == VL_OP_WRITE || op == VL_OP_MODIFY;
		if (unlikely(!(ent & PTE_P) || (write && !(ent & PTE_RW)) ||
			     (op == VL_OP_IFETCH && (ent & PTE_NX)))) {
			if (fast) {
				/* a plain configuration's demand-zero or hard
				 * fault, resolved here (fault_fast reads the clock
				 * only; nothing it does reads the counters kept in
				 * registers, frees page-table nodes or moves the
				 * periodic work).  The retry's walk ends at the
				 * leaf just mapped: this record counts as walked. */
				e->time = time;
				int h = fault_fast(e, proc, (uint32_t)li, va, (uint8_t)op, err);
				if (unlikely(h < 0)) {
					*rc = h;
					break;
				}
				if (h) {
					ops[op]++;
					time++;
					continue;
				}
			}
			/* the fault: as the general loop would, with the state
			 * written back first (the fault path reads the clock, and
			 * the working-set manager the counters and the model's
			 * cycles, which count accesses and walks) */
			walk_flush(e, proc, ops, (size_t)(r - r0), &done, &nfault);
			ops[op]++;
			e->time = time;
			e->xl.stop = (uint32_t)li;
			e->xl.stop_level = 1;
			uint64_t tr;
			*rc = fault_and_retry(e, r, op == VL_OP_IFETCH ? XL_INSTR : XL_DATA, write, &tr,
					      err);
			if (*rc < 0)
				break;
			nfault++;
			memset(ahead, 0, sizeof(ahead)); /* the tables may have changed */
			time = e->time + 1;
			/* the fault may have moved the arena, stopped the process
			 * or moved the periodic work */
			pt = e->pt.e;
			limit = e->tick_at;
			if (future && e->future_n < limit)
				limit = e->future_n;
			if (unlikely(e->procs[proc].stopped || !e->procs[proc].root)) {
				r++;
				break;
			}
			continue;
		}
		uint64_t need = PTE_A | (write ? PTE_D : 0);
		if (unlikely((ent & need) != need))
			pt[li] = ent | need;
		ops[op]++;
		if (wants && !(ent & PTE_SW_NOPOLICY)) {
			struct vl_access a = vl_access_of(future, time, (va >> VL_PAGE_SHIFT) & VPN_MASK,
							  pid, (uint8_t)op);
			hear_access(e, PTE_FRAME(ent), &a);
		}
		time++;
	}
	size_t n = (size_t)(r - r0);
	e->time = time;
	walk_flush(e, proc, ops, n, &done, &nfault);
	return n;
}

/* No TLB, no walk cache: the MMU walks the four levels (pt_descend).
 * Returns XL_TRANSLATION(leaf, page shift) with the leaf's A (and, for a
 * store, D) set unless this is the retry of a faulted access (its fault
 * set them), or XL_FAULT, with xl.stop and xl.stop_level where the walk
 * stopped: not present, a store to a read-only mapping, or a fetch from a
 * no-execute page. */
static inline __attribute__((always_inline)) uint64_t walk_only(struct vl_engine *e, uint64_t va, unsigned kind, bool write,
				 bool retry)
{
	unsigned at;
	uint32_t idx = pt_descend(&e->pt, e->procs[e->last_proc].root, 4, va, 1, 0, NULL, &at);
	uint64_t ent = e->pt.e[idx];
	if (unlikely(!(ent & PTE_P) || (write && !(ent & PTE_RW)) ||
		     (kind == XL_INSTR && (ent & PTE_NX)))) {
		e->xl.stop = idx;
		e->xl.stop_level = at;
		return XL_FAULT;
	}
	uint64_t need = PTE_A | (write ? PTE_D : 0);
	if (likely(!retry) && unlikely((ent & need) != need))
		e->pt.e[idx] = ent | need;
	count_walk(e, 5 - at); /* 4 for 4K, 3 for 2M, 2 for 1G */
	return XL_TRANSLATION(idx, 3 + 9 * at);
}

#define XL_MISS (XL_FAULT - 1)

/* The first-level TLB structures of the access's kind.  A hit returns
 * XL_TRANSLATION and does the hardware's work: a store through a clean
 * entry sets D in the PTE (a dirty update), no accessed-bit work (the walk
 * that filled the entry set A).  XL_MISS when no entry matches, or when
 * one does but the access must walk: a fetch through a data translation
 * of a no-execute page, a store to a read-only page (copy-on-write). */
static inline __attribute__((always_inline)) uint64_t l1_lookup(struct vl_engine *e, uint64_t va, unsigned kind, bool write)
{
	struct vl_xlat *xl = &e->xl;
	const struct xl_probe *p = xl->probe[kind], *pe = p + xl->lvl[kind][1];
	for (; p < pe; p++) {
		if (p->sz && !xl->lp_live[p->sz])
			continue;
		struct tlb *t = p->t;
		uint64_t vpn = (va >> p->shift) & p->vmask;
		uint64_t key = xl->asid | p->keysz | vpn << 3;
		uint32_t i = tlb_set(t, vpn) * t->ways, ie = i + t->ways;
		uint32_t hit = UINT32_MAX;
		if (t->ways <= 8) {
			/* small sets: compare every way without branching on which
			 * one matches (random hits mispredict an early exit) */
			for (uint32_t w = i; w < ie; w++)
				hit = (t->tag[w] ^ key) < 2 ? w : hit;
		} else {
			int64_t h = tlb_find(t, key, vpn); /* its chain of the set's index */
			hit = h < 0 ? UINT32_MAX : (uint32_t)h;
		}
		if (hit == UINT32_MAX)
			continue;
		uint32_t li = t->ref[hit];
		if (unlikely(kind == XL_INSTR && (e->pt.e[li] & PTE_NX)))
			return XL_MISS; /* a data translation of a no-execute page */
		if (write && !(t->tag[hit] & XL_DIRTY)) {
			/* the first store through this entry: the hardware sets
			 * D in the PTE (if it may) */
			if (!(e->pt.e[li] & PTE_RW))
				return XL_MISS; /* copy-on-write: fault */
			e->pt.e[li] |= PTE_D;
			t->tag[hit] |= XL_DIRTY;
			e->ctr.dirty_updates++;
		}
		t->hits++;
		tlb_touch(t, vpn, hit, e->time + 1);
		return XL_TRANSLATION(li, p->shift);
	}
	return XL_MISS;
}

/* An access faulted: resolve the fault and retry it.  *tr: the retried
 * access's translation, or XL_FAULT when it does not proceed (an access
 * violation, counted by the fault path, or a guard page). */
static __attribute__((noinline)) int fault_and_retry(struct vl_engine *e, const struct vl_rec *r,
						     unsigned kind, bool write, uint64_t *tr,
						     struct vl_error *err)
{
	bool retry;
	uint32_t leaf;
	VL_TRY(fault_slow(e, r, write, &retry, &leaf, err));
	xl_after_slow(e);
	if (!retry) {
		*tr = XL_FAULT;
		return 0;
	}
	if (!e->xl.on && leaf != VL_NIL) {
		/* the retry's walk ends at the leaf the fault mapped (its A and
		 * D set): counted, not walked again */
		count_walk(e, 4);
		*tr = XL_TRANSLATION(leaf, 12);
		return 0;
	}
	/* with TLBs the MMU walks again, as after the page-fault handler
	 * returns: that walk uses and fills the walk caches */
	*tr = e->xl.on ? xl_miss(e, r->addr, kind, write, true)
		       : walk_only(e, r->addr, kind, write, true);
	if (*tr == XL_FAULT)
		return vl_err(err, VL_ESTATE, "pid %u va 0x%llx: still not accessible after its fault",
			      r->pid, (unsigned long long)r->addr);
	return 0;
}

/* Per access (the hot path is the first-level TLB hit):
 *   first-level TLB probe ─hit─▶ translated (l1_lookup)
 *   miss ─▶ xl_miss: lower levels, walk with walk caches, fill
 *   walk finds no present leaf (or one forbidding the access) ─▶ fault,
 *   then the access is retried, so its translation fills the TLBs like any
 *   other.  Without TLBs or walk caches every access walks (walk_only). */
int vl_engine_feed_plain(struct vl_engine *e, const struct vl_batch *b, struct vl_error *err)
{
	const struct vl_rec *r = b->recs, *end = b->recs + b->n;
	const struct vl_xlat *xl = &e->xl;
	for (; r < end; r++) {
		if (!xl->on) {
			int rc = 0;
			size_t n = feed_walk(e, r, end, &rc, err);
			if (rc < 0)
				return rc;
			if (n) {
				r += n - 1;
				continue;
			}
		}
		if (unlikely(r->op >= VL_OP_NACCESS)) {
			VL_TRY(event_slow(e, b, r, err));
			continue;
		}
		e->op_count[r->op]++;
		if (unlikely(e->future && e->time >= e->future_n))
			return vl_err(err, VL_EINVAL,
				      "trace has more accesses than its pre-pass counted (%llu)",
				      (unsigned long long)e->future_n);
		if (unlikely(e->time >= e->tick_at))
			VL_TRY(ticks(e, err));
		uint64_t va = r->addr;
		if (unlikely(!canonical(va))) {
			count_violation(e, VL_NIL);
			e->time++;
			continue;
		}
		if (unlikely(r->pid != e->last_pid || e->last_proc == VL_NIL ||
			     !e->procs[e->last_proc].root))
			VL_TRY(switch_proc(e, r->pid, err));
		if (unlikely(e->procs[e->last_proc].stopped)) {
			e->ctr.accesses_skipped++;
			e->time++;
			continue;
		}
		bool write = r->op == VL_OP_WRITE || r->op == VL_OP_MODIFY;
		unsigned kind = r->op == VL_OP_IFETCH ? XL_INSTR : XL_DATA;
		bool l1hit = false, faulted = false;
		uint64_t tr;
		if (!xl->on) {
			tr = walk_only(e, va, kind, write, false);
		} else {
			tr = l1_lookup(e, va, kind, write);
			l1hit = tr != XL_MISS;
			if (!l1hit)
				tr = xl_miss(e, va, kind, write, false);
		}
		if (unlikely(tr == XL_FAULT)) {
			VL_TRY(fault_and_retry(e, r, kind, write, &tr, err));
			faulted = true;
		}
		e->procs[e->last_proc].accesses++;
		if (e->wants_access && !faulted)
			tell_policy(e, e->future, e->pt.e[(uint32_t)tr], va, (unsigned)(tr >> 32), e->time,
				    r->pid, r->op);
		e->time++;
		if (xl->on) {
			int rc = 0;
			r += feed_hits(e, r + 1, end, &rc, err);
			if (rc < 0)
				return rc;
		}
	}
	if (unlikely(e->check_each_batch))
		return vl_engine_check(e, err);
	return 0;
}


/* With a heap model the batch goes through the heap layer, which moves
 * heap accesses and feeds the result here; with heap.model = captured the
 * access loop runs as it is: one test per batch, none per access. */
int vl_engine_feed(struct vl_engine *e, const struct vl_batch *b, struct vl_error *err)
{
	if (unlikely(e->heap_xlate))
		return vl_heap_feed(e, b, err);
	return vl_engine_feed_plain(e, b, err);
}
