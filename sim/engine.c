/* sim/engine.c - the access pipeline.
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
 * Faults, frames and page lists are in sim/fault.c; address-space events
 * (VADs, commit, sections) in sim/vad.c.  The personality (os.personality)
 * selects how pages leave memory: textbook and linux evict the replacement
 * policy's victims at once (global replacement); windows trims working sets
 * onto standby and modified lists (sim/fault.c explains both).
 *
 * Textbook personality: every miss is a fault, no standby list, every
 * touched page is committed.  An evicted page keeps a copy in the page file
 * (a slot is assigned at its first eviction); only dirty pages are written
 * (writebacks), so a later touch is a hard fault that reads the slot back.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/internal.h"

#define VICTIM_BATCH 64

/* ---- engine services handed to policies ---- */

bool vl_shared_referenced(struct vl_engine *e, uint32_t f, bool clear);

static bool mm_referenced(void *ctx, uint32_t f, bool clear)
{
	struct vl_engine *e = ctx;
	if (e->db.pfn[f].flags & PFN_F_PROTO)
		return vl_shared_referenced(e, f, clear);
	const struct vl_pfn *p = &e->db.pfn[f];
	uint64_t *pte = &e->pt.e[p->pte];
	bool ref = (*pte & PTE_A) != 0;
	if (clear && ref) {
		/* as an OS must: the TLBs may not keep a translation whose
		 * accessed bit is clear, or the next use would not set it */
		pte_clear(&e->pt, p->pte, PTE_A);
		xl_invlpg(e, p->owner, p->vpn);
	}
	return ref;
}

static bool mm_dirty(void *ctx, uint32_t f)
{
	struct vl_engine *e = ctx;
	const struct vl_pfn *p = &e->db.pfn[f];
	if (p->flags & PFN_F_PROTO) {
		vl_shared_referenced(e, f, false); /* folds mappers' D bits in */
		return (p->flags & PFN_F_MODIFIED) != 0;
	}
	return (e->pt.e[p->pte] & PTE_D) != 0 || (p->flags & PFN_F_MODIFIED);
}

static uint32_t mm_owner(void *ctx, uint32_t f, uint64_t *vpn)
{
	struct vl_engine *e = ctx;
	const struct vl_pfn *p = &e->db.pfn[f];
	if (vpn)
		*vpn = p->vpn;
	if (p->flags & PFN_F_PROTO)
		return 0; /* a shared page of a file section: no single owner */
	return e->procs[p->owner].pid;
}

static const struct vl_mm_services mm_services = {
	.referenced = mm_referenced,
	.dirty = mm_dirty,
	.owner = mm_owner,
};

/* ---- creation ---- */

static void tick_at_update(struct vl_engine *e);

int vl_engine_new(struct vl_engine **out, const struct vl_config *cfg, struct vl_error *err)
{
	struct vl_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return vl_err(err, VL_ENOMEM, "out of memory for the engine");
	int rc;
	e->cfg = vl_config_dup(cfg);
	if (!e->cfg) {
		rc = vl_err(err, VL_ENOMEM, "out of memory copying the configuration");
		goto fail;
	}
	const char *os = vl_config_str(cfg, "os.personality");
	e->os = !strcmp(os, "windows") ? OS_WINDOWS : !strcmp(os, "linux") ? OS_LINUX : OS_TEXTBOOK;
	uint64_t frames = vl_config_u64(cfg, "memory.frames");
	if (vl_config_isset(cfg, "memory.size")) {
		frames = vl_config_u64(cfg, "memory.size") / VL_PAGE_SIZE;
		if (frames == 0 || frames > 2147483647u) {
			rc = vl_err(err, VL_EINVAL, "memory.size: %s gives %llu frames (need 1 to 2^31-1)",
				    vl_config_str(cfg, "memory.size"), (unsigned long long)frames);
			goto fail;
		}
	}
	if ((rc = pfn_init(&e->db, (uint32_t)frames, err)) < 0 || (rc = pt_init(&e->pt, err)) < 0)
		goto fail;
	e->pf.limit = (uint32_t)(vl_config_u64(cfg, "pagefile.size") / VL_PAGE_SIZE);
	if (vl_config_u64(cfg, "pagefile.size") && !e->pf.limit) {
		rc = vl_err(err, VL_EINVAL, "pagefile.size: %s is less than one page",
			    vl_config_str(cfg, "pagefile.size"));
		goto fail;
	}

	e->pid_hash_mask = 63;
	e->pid_hash = malloc((e->pid_hash_mask + 1) * sizeof(*e->pid_hash));
	e->victims = malloc(VICTIM_BATCH * sizeof(*e->victims));
	if (!e->pid_hash || !e->victims) {
		rc = vl_err(err, VL_ENOMEM, "out of memory for the engine");
		goto fail;
	}
	memset(e->pid_hash, 0xff, (e->pid_hash_mask + 1) * sizeof(*e->pid_hash));
	e->last_proc = VL_NIL;

	const char *pname = vl_config_str(cfg, "replacement.policy");
	e->repl_ops = vl_repl_find(pname);
	if (!e->repl_ops) {
		rc = vl_err(err, VL_ENOENT, "replacement.policy: unknown policy '%s'", pname);
		goto fail;
	}
	e->repl.ops = e->repl_ops;
	e->repl.nframes = e->db.nframes;
	e->repl.seed = vl_config_u64(cfg, "run.seed");
	e->repl.cfg = e->cfg;
	e->repl.mm = &mm_services;
	e->repl.mm_ctx = e;
	if ((rc = e->repl_ops->init(&e->repl, err)) < 0)
		goto fail;
	e->repl_live = true;
	e->wants_access = (e->repl_ops->flags & VL_REPL_WANTS_ACCESS) != 0;
	e->check_each_batch = vl_config_bool(cfg, "run.check");
	/* under windows, working-set aging decides: the policy is not used */
	if (e->os == OS_WINDOWS)
		e->wants_access = false;
	e->pt_frames = vl_config_bool(cfg, "memory.pt_frames");
	e->zero_page = vl_config_bool(cfg, "anon.zero_page");
	{
		const char *thp = vl_config_str(cfg, "thp.enabled");
		e->thp = !strcmp(thp, "always") ? THP_ALWAYS : !strcmp(thp, "madvise") ? THP_MADVISE
											 : THP_NEVER;
		e->thp_zero = e->zero_page && vl_config_bool(cfg, "thp.use_zero_page");
		e->khp_interval = vl_config_u64(cfg, "thp.khugepaged.interval");
		e->khp_next = vl_config_bool(cfg, "thp.khugepaged") ? e->khp_interval : UINT64_MAX;
		e->khp_pages = vl_config_u64(cfg, "thp.khugepaged.pages_to_scan");
		e->khp_max_none = vl_config_u64(cfg, "thp.khugepaged.max_ptes_none");
	}
	e->dz_dirty = vl_config_bool(cfg, "anon.dz_dirty");
	e->overcommit = vl_config_bool(cfg, "commit.overcommit");
	e->stop_on_av = !strcmp(vl_config_str(cfg, "run.on_av"), "stop-process");
	e->zero_frame = e->db.nframes; /* not a real frame: never allocated or listed */
	e->file_cluster = (uint32_t)vl_config_u64(cfg, "file.read_cluster");
	e->fault_around = (uint32_t)vl_config_u64(cfg, "file.fault_around");
	e->commit_limit = e->pf.limit ? (uint64_t)e->db.nframes + e->pf.limit : UINT64_MAX;
	e->ws_min = (uint32_t)vl_config_u64(cfg, "ws.min_pages");
	e->ws_max = (uint32_t)vl_config_u64(cfg, "ws.max_pages");
	e->avail_target = vl_config_u64(cfg, "wsm.available_pages");
	e->mpw_threshold = vl_config_u64(cfg, "mpw.threshold_pages");
	e->mpw_cluster = (uint32_t)vl_config_u64(cfg, "mpw.cluster_pages");
	e->wsm_interval = vl_config_u64(cfg, "wsm.interval");
	e->next_tick = e->wsm_interval ? e->wsm_interval : UINT64_MAX;
	e->zero_thread = vl_config_bool(cfg, "wsm.zero_thread");
	for (unsigned i = 0; i < 8; i++)
		e->standby[i] = (struct plist){ VL_NIL, VL_NIL, 0 };
	e->modified = (struct plist){ VL_NIL, VL_NIL, 0 };
	if ((rc = xl_init(e, err)) < 0 || (rc = lp_init(e, err)) < 0)
		goto fail;
	if (e->lp_any && (e->os != OS_TEXTBOOK || e->pt_frames)) {
		rc = vl_err(err, VL_EINVAL,
			    "largepage.policy = %s: large pages are modelled under os.personality = "
			    "textbook without memory.pt_frames only (got %s)",
			    vl_config_str(cfg, "largepage.policy"), os);
		goto fail;
	}
	if (e->khp_next != UINT64_MAX && e->os != OS_LINUX) {
		rc = vl_err(err, VL_EINVAL,
			    "thp.khugepaged = on: khugepaged is modelled under os.personality = linux "
			    "only (got %s)", os);
		goto fail;
	}
	*out = e;
	tick_at_update(e);
	return 0;
fail:
	vl_engine_free(e);
	return rc;
}

void vl_engine_free(struct vl_engine *e)
{
	if (!e)
		return;
	if (e->repl_live && e->repl_ops->fini)
		e->repl_ops->fini(&e->repl);
	lp_fini(e);
	xl_fini(&e->xl);
	pfn_fini(&e->db);
	pt_fini(&e->pt);
	pf_fini(&e->pf);
	for (uint32_t i = 0; i < e->nprocs; i++) {
		free(e->procs[i].vads);
		free(e->procs[i].wsl);
	}
	for (uint32_t i = 0; i < e->nsections; i++)
		free(e->sections[i].proto);
	free(e->sections);
	free(e->procs);
	free(e->pid_hash);
	free(e->victims);
	vl_config_free(e->cfg);
	free(e);
}

bool vl_engine_needs_future(const struct vl_engine *e)
{
	return (e->repl_ops->flags & VL_REPL_NEEDS_FUTURE) != 0;
}

void vl_engine_set_future(struct vl_engine *e, const uint64_t *next_use, uint64_t n)
{
	e->future = next_use;
	e->future_n = n;
}

const struct vl_config *vl_engine_config(const struct vl_engine *e)
{
	return e->cfg;
}

/* ---- processes ---- */

static inline uint32_t pid_slot(uint32_t pid, uint32_t mask)
{
	return (pid * 0x9e3779b1u) & mask;
}

static int pid_hash_grow(struct vl_engine *e)
{
	uint32_t nmask = e->pid_hash_mask * 2 + 1;
	uint32_t *nh = malloc(((size_t)nmask + 1) * sizeof(*nh));
	if (!nh)
		return VL_ENOMEM;
	memset(nh, 0xff, ((size_t)nmask + 1) * sizeof(*nh));
	for (uint32_t i = 0; i < e->nprocs; i++) {
		uint32_t s = pid_slot(e->procs[i].pid, nmask);
		while (nh[s] != VL_NIL)
			s = (s + 1) & nmask;
		nh[s] = i;
	}
	free(e->pid_hash);
	e->pid_hash = nh;
	e->pid_hash_mask = nmask;
	return 0;
}

/* Process index for pid, creating the process on first sight (and anew
 * after it exited: the old record keeps its counters). */
uint32_t vl_proc_lookup(struct vl_engine *e, uint32_t pid, struct vl_error *err)
{
	uint32_t s = pid_slot(pid, e->pid_hash_mask);
	while (e->pid_hash[s] != VL_NIL) {
		struct vl_proc *p = &e->procs[e->pid_hash[s]];
		if (p->pid == pid && p->root)
			goto found;
		s = (s + 1) & e->pid_hash_mask;
	}
	if (e->nprocs == e->procs_cap) {
		uint32_t ncap = e->procs_cap ? e->procs_cap * 2 : 16;
		struct vl_proc *np = realloc(e->procs, ncap * sizeof(*np));
		if (!np)
			goto oom;
		e->procs = np;
		e->procs_cap = ncap;
	}
	uint32_t root = pt_node_new(&e->pt);
	if (!root)
		goto oom;
	e->procs[e->nprocs] = (struct vl_proc){ .pid = pid, .root = root, .ctr.pid = pid };
	e->pid_hash[s] = e->nprocs++;
	e->pt.created[0] = root;
	e->pt.ncreated = 1;
	if (vl_pt_frames(e, e->nprocs - 1, err) < 0)
		return VL_NIL;
	if (e->nprocs * 2 > e->pid_hash_mask) {
		if (pid_hash_grow(e) < 0)
			goto oom;
		return e->nprocs - 1;
	}
found:
	return e->pid_hash[s];
oom:
	vl_err(err, VL_ENOMEM, "out of memory creating process %u", pid);
	return VL_NIL;
}

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

/* The walk found no present leaf, or one that forbids the access: resolve
 * the fault (a large page, a page of a reservation, a 4 KiB page, copy-on-
 * write) or count the violation.  *retry: the access may now proceed. */
static __attribute__((noinline)) int fault_slow(struct vl_engine *e, const struct vl_rec *r,
						bool write, bool *retry, struct vl_error *err)
{
	uint32_t proc = e->last_proc;
	uint64_t va = r->addr;
	bool refused = false;
	*retry = false;
	if (e->lp_any) {
		struct vl_access a = {
			.vpn = (va >> VL_PAGE_SHIFT) & VPN_MASK,
			.time = e->time,
			.next_use = e->future ? e->future[e->time] : 0,
			.pid = r->pid,
			.op = r->op,
		};
		int h = lp_fault(e, proc, &a, write, &refused, err);
		if (h < 0)
			return h;
		if (h) {
			if (refused) {
				e->ctr.access_violations++;
				e->procs[proc].ctr.access_violations++;
			}
			*retry = !refused;
			return 0;
		}
	}
	struct vl_proc *pr = &e->procs[proc];
	uint32_t li = pt_walk_create(&e->pt, pr->root, va);
	if (li == VL_NIL)
		return vl_err(err, VL_ENOMEM, "out of memory for page tables");
	VL_TRY(vl_pt_frames(e, proc, err));
	uint64_t pte = e->pt.e[li];
	bool ok = (pte & PTE_P) && !(write && !(pte & PTE_RW)) &&
		  !(r->op == VL_OP_IFETCH && (pte & PTE_NX));
	if (!ok) {
		uint32_t frees = e->pt.frees;
		VL_TRY(vl_fault(e, proc, li, va, r->op, err));
		xl_after_slow(e);
		if (e->pt.frees != frees) /* nodes went: find the leaf again */
			li = pt_walk(&e->pt, e->procs[proc].root, va);
		pte = li == VL_NIL ? 0 : e->pt.e[li];
		ok = (pte & PTE_P) && !(write && !(pte & PTE_RW)) &&
		     !(r->op == VL_OP_IFETCH && (pte & PTE_NX));
	}
	*retry = ok; /* else a violation (counted by vl_fault) or a guard page */
	return 0;
}

/* An event record: the address-space operations of sim/vad.c. */
static __attribute__((noinline)) int event_slow(struct vl_engine *e, const struct vl_batch *b,
						const struct vl_rec *r, struct vl_error *err)
{
	e->ctr.events++;
	if (r->op != VL_OP_EVENT || r->addr >= b->n_events)
		return vl_err(err, VL_EINVAL, "record with op %u names event %llu of %zu", r->op,
			      (unsigned long long)r->addr, b->n_events);
	uint32_t proc = vl_proc_lookup(e, r->pid, err);
	if (proc == VL_NIL)
		return err ? err->code : VL_ENOMEM;
	e->last_pid = r->pid;
	e->last_proc = proc;
	xl_switch(e, proc);
	if (e->lp_any)
		VL_TRY(lp_forget(e, proc, err));
	int rc = vl_event(e, proc, &b->events[r->addr], err);
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
static void tick_at_update(struct vl_engine *e)
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
		VL_TRY(vl_wsm_tick(e, err));
		xl_after_slow(e);
	}
	if (e->time >= e->khp_next) {
		e->khp_next += e->khp_interval;
		VL_TRY(vl_khugepaged_scan(e, err));
		xl_after_slow(e);
	}
	tick_at_update(e);
	return 0;
}

/* The TLB-hit path: a run of ordinary accesses by the current process
 * that hit a first-level TLB entry needing no page-table work (no store
 * through a clean entry, no fetch through a no-execute one).  Nothing it
 * does can change what the next access finds except the entries' use
 * stamps, so the loop keeps the clock, the op counts and the process's
 * access count in registers and writes them back once.  Stops, without
 * consuming it, at the first record that needs anything else (an event,
 * another process, a miss, a large-page tick, the end of the pre-pass's
 * future) and returns the number of records consumed; vl_engine_feed's
 * general loop then takes that record.  Same counts as the general loop,
 * record for record (tests/golden/test_hit_path.c compares both). */
#define HIT_PROBES 4
static size_t feed_hits(struct vl_engine *e, const struct vl_rec *r0, const struct vl_rec *end)
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
	const uint64_t *pte = e->pt.e;
	const uint64_t *future = e->future;
	uint64_t limit = e->tick_at;
	if (future && e->future_n < limit)
		limit = e->future_n;
	uint64_t time = e->time;
	uint64_t ops[VL_OP_NACCESS] = { 0 };
	const struct vl_rec *r = r0;
	for (; r < end; r++) {
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
		for (unsigned j = 0; j < nfp[kind]; j++) {
			const struct xl_probe *p = fp[kind][j];
			const struct tlb *pt = p->t;
			uint64_t vpn = (va >> p->shift) & p->vmask;
			uint64_t key = asid | p->keysz | vpn << 3;
			uint32_t i = (uint32_t)(vpn & pt->set_mask) * pt->ways, ie = i + pt->ways;
			if (pt->ways <= 8) {
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
		if (unlikely(!hp))
			break;
		struct tlb *t = hp->t;
		if (unlikely((store & ~t->tag[w]) || (kind == XL_INSTR && (pte[t->ref[w]] & PTE_NX))))
			break;
		t->hits++;
		tlb_touch(t, hvpn, w, time + 1);
		ops[op]++;
		if (e->wants_access) {
			uint32_t f = PTE_FRAME(pte[t->ref[w]]) +
				     (uint32_t)((va >> VL_PAGE_SHIFT) & ((1ull << (hp->shift - 12)) - 1));
			if (f < e->db.nframes) {
				struct vl_access a = {
					.vpn = (va >> VL_PAGE_SHIFT) & VPN_MASK,
					.time = time,
					.next_use = future ? future[time] : 0,
					.pid = pid,
					.op = (uint8_t)op,
				};
				e->repl_ops->on_access(&e->repl, f, &a);
			}
		}
		time++;
	}
	size_t n = (size_t)(r - r0);
	e->time = time;
	for (unsigned k = 0; k < VL_OP_NACCESS; k++)
		e->op_count[k] += ops[k];
	e->procs[proc].accesses += n;
	return n;
}

/* Per access (the hot path is the first-level TLB hit):
 *   first-level TLB probe ─hit─▶ dirty-bit update if a store finds a clean
 *   entry; no accessed-bit work (the walk that filled the entry set it)
 *   miss ─▶ xl_miss: lower levels, walk with walk caches, fill
 *   walk finds no present leaf (or one forbidding the access) ─▶ fault,
 *   then the access is retried, so its translation fills the TLBs like any
 *   other.  Without TLBs or walk caches every access walks inline. */
int vl_engine_feed(struct vl_engine *e, const struct vl_batch *b, struct vl_error *err)
{
	const struct vl_rec *r = b->recs, *end = b->recs + b->n;
	struct vl_xlat *xl = &e->xl;
	for (; r < end; r++) {
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
			e->ctr.access_violations++;
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
		bool faulted = false, l1hit = false;
		uint32_t li;
		unsigned shift;
	again:
		if (!xl->on) {
			/* no TLB, no walk cache: every access walks the four levels */
			uint64_t *pt = e->pt.e;
			uint64_t ent = pt[(size_t)e->procs[e->last_proc].root * PT_ENTRIES + ((va >> 39) & 511)];
			if (unlikely(!(ent & PTE_P)))
				goto fault;
			size_t idx = (size_t)PTE_FRAME(ent) * PT_ENTRIES + ((va >> 30) & 511);
			ent = pt[idx];
			shift = 30;
			if (likely((ent & (PTE_P | PTE_PS)) == PTE_P)) {
				idx = (size_t)PTE_FRAME(ent) * PT_ENTRIES + ((va >> 21) & 511);
				ent = pt[idx];
				shift = 21;
				if (likely((ent & (PTE_P | PTE_PS)) == PTE_P)) {
					idx = (size_t)PTE_FRAME(ent) * PT_ENTRIES + ((va >> 12) & 511);
					ent = pt[idx];
					shift = 12;
				}
			}
			/* not present, a store to a read-only mapping, or a fetch
			 * from a no-execute page: the fault path decides */
			if (unlikely(!(ent & PTE_P) || (write && !(ent & PTE_RW)) ||
				     (kind == XL_INSTR && (ent & PTE_NX))))
				goto fault;
			uint64_t need = PTE_A | (write ? PTE_D : 0);
			/* a retried access's fault set A/D already */
			if (likely(!faulted) && unlikely((ent & need) != need))
				pte_or(&e->pt, (uint32_t)idx, need);
			li = (uint32_t)idx;
			e->ctr.walks++;
			/* 4 for 4K, 3 for 2M (a transparent huge page's PDE is its
			 * leaf to the MMU), 2 for 1G */
			e->ctr.walk_refs += 1 + (39 - shift) / 9 - (shift == 12 && e->pt.thp[idx / PT_ENTRIES]);
			goto translated;
		}
		/* first-level TLB structures of this kind */
		const struct xl_probe *p = xl->probe[kind], *pe = p + xl->lvl[kind][1];
		for (; p < pe; p++) {
			if (p->sz && !xl->lp_live[p->sz])
				continue;
			struct tlb *t = p->t;
			uint64_t vpn = (va >> p->shift) & p->vmask;
			uint64_t key = xl->asid | p->keysz | vpn << 3;
			uint32_t i = (uint32_t)(vpn & t->set_mask) * t->ways, ie = i + t->ways;
			if (t->ways <= 8) {
				/* small sets: compare every way without branching on
				 * which one matches (random hits mispredict an early exit) */
				uint32_t hit = UINT32_MAX;
				for (uint32_t w = i; w < ie; w++)
					hit = (t->tag[w] ^ key) < 2 ? w : hit;
				if (hit == UINT32_MAX)
					continue;
				i = hit;
				ie = i + 1;
			} else {
				int64_t hit = tlb_find(t, key, vpn); /* its hint, then a scan */
				if (hit < 0)
					continue;
				i = (uint32_t)hit;
				ie = i + 1;
			}
			for (; i < ie; i++) {
				if ((t->tag[i] ^ key) < 2) {
					li = t->ref[i];
					shift = p->shift;
					if (unlikely(kind == XL_INSTR && (e->pt.e[li] & PTE_NX)))
						goto miss; /* a data translation of a no-execute page */
					if (write && !(t->tag[i] & XL_DIRTY)) {
						/* the first store through this entry: the
						 * hardware sets D in the PTE (if it may) */
						if (!(e->pt.e[li] & PTE_RW))
							goto miss; /* copy-on-write: fault */
						pte_or(&e->pt, li, PTE_D);
						t->tag[i] |= XL_DIRTY;
						e->ctr.dirty_updates++;
					}
					t->hits++;
					tlb_touch(t, vpn, i, e->time + 1);
					l1hit = true;
					goto translated;
				}
			}
		}
	miss:;
		uint64_t tr = xl_miss(e, va, kind, write, faulted);
		li = (uint32_t)tr;
		shift = (unsigned)(tr >> 32);
		if (unlikely(tr == XL_FAULT)) {
		fault:;
			bool retry;
			if (faulted)
				return vl_err(err, VL_ESTATE, "pid %u va 0x%llx: still not accessible after its fault",
					      r->pid, (unsigned long long)va);
			VL_TRY(fault_slow(e, r, write, &retry, err));
			xl_after_slow(e);
			if (!retry) {
				e->procs[e->last_proc].accesses++;
				e->time++;
				continue;
			}
			faulted = true;
			goto again;
		}
	translated:
		e->procs[e->last_proc].accesses++;
		if (e->wants_access && !faulted) {
			uint32_t f = PTE_FRAME(e->pt.e[li]) +
				     (uint32_t)((va >> VL_PAGE_SHIFT) & ((1ull << (shift - 12)) - 1));
			if (f < e->db.nframes) {
				struct vl_access a = {
					.vpn = (va >> VL_PAGE_SHIFT) & VPN_MASK,
					.time = e->time,
					.next_use = e->future ? e->future[e->time] : 0,
					.pid = r->pid,
					.op = r->op,
				};
				e->repl_ops->on_access(&e->repl, f, &a);
			}
		}
		e->time++;
		if (l1hit)
			r += feed_hits(e, r + 1, end);
	}
	if (unlikely(e->check_each_batch))
		return vl_engine_check(e, err);
	return 0;
}

/* ---- counters and checks ---- */

const struct vl_counters *vl_engine_counters(struct vl_engine *e)
{
	e->snap = e->ctr;
	e->snap.reads = e->op_count[VL_OP_READ];
	e->snap.writes = e->op_count[VL_OP_WRITE] + e->op_count[VL_OP_MODIFY];
	e->snap.ifetches = e->op_count[VL_OP_IFETCH];
	e->snap.modifies = e->op_count[VL_OP_MODIFY];
	e->snap.accesses = e->snap.reads + e->snap.writes + e->snap.ifetches;
	e->snap.processes = e->nprocs;
	e->snap.pt_nodes = e->pt.live;
	e->snap.large_page_splits += e->pt.thp_splits;
	e->snap.commit_charge = e->commit;
	const struct vl_xlat *x = &e->xl;
	const struct vl_counters *c = &e->snap;
	e->snap.est_cycles = (uint64_t)(
		(double)c->accesses * x->cost_tlb_hit + (double)x->level_misses * x->cost_tlb_miss +
		(double)c->walk_refs * x->cost_walk_ref + (double)c->dirty_updates * x->cost_dirty +
		(double)c->tlb_flushes * x->cost_flush + (double)c->faults * x->cost_fault +
		(double)c->zeroed_pages * x->cost_zero + (double)c->large_page_copies * x->cost_copy +
		(double)c->pagefile_reads * x->cost_pf_read +
		(double)c->pagefile_writes * x->cost_pf_write + 0.5);
	return &e->snap;
}

size_t vl_engine_counter_list(struct vl_engine *e, const char **names, uint64_t *values,
			      size_t max)
{
	const struct vl_counters *c = vl_engine_counters(e);
	size_t n = vl_counter_count();
	for (size_t i = 0; i < n && i < max; i++) {
		if (names)
			names[i] = vl_counter_name(i);
		if (values)
			values[i] = vl_counter_get(c, i);
	}
	/* then two per configured TLB structure: tlb_NAME_hits, tlb_NAME_misses */
	return n + xl_counters(&e->xl, names ? names + (n < max ? n : max) : NULL,
			       values ? values + (n < max ? n : max) : NULL, max > n ? max - n : 0);
}

const char *vl_engine_counter_help(const struct vl_engine *e, size_t i)
{
	size_t n = vl_counter_count();
	return i < n ? vl_counter_help(i) : xl_counter_help(&e->xl, i - n);
}

void vl_engine_gauges(const struct vl_engine *e, struct vl_gauges *g)
{
	g->resident_pages = e->resident;
	g->free_frames = e->db.nfree;
	uint64_t ws = 0;
	for (uint32_t i = 0; i < e->nprocs; i++)
		ws += e->procs[i].ws_n;
	g->ws_pages = e->os == OS_WINDOWS ? ws : e->resident;
}

size_t vl_engine_nprocs(const struct vl_engine *e)
{
	return e->nprocs;
}

int vl_engine_proc_counters(const struct vl_engine *e, size_t i, struct vl_proc_counters *out)
{
	if (i >= e->nprocs)
		return VL_EINVAL;
	*out = e->procs[i].ctr;
	out->accesses = e->procs[i].accesses;
	out->commit_pages = e->procs[i].commit;
	return 0;
}

struct check_ctx {
	struct vl_engine *e;
	uint32_t proc;
	uint32_t *maps;       /* per frame: valid PTEs mapping it */
	uint64_t valid;       /* valid PTEs (not the zero page) */
	uint64_t committed;   /* committed private pages of this process */
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
	if (!(pte & PTE_P)) {
		bool com = pte && !(pte & SWPTE_PROTO) && pte != SWPTE_DECOMMIT;
		if (com && (!d || d->kind == VAD_PRIVATE))
			c->committed++;
		if (pte & SWPTE_TRANS) {
			uint32_t f = PTE_FRAME(pte);
			const struct vl_pfn *p = &e->db.pfn[f];
			if (f >= e->db.nframes || (p->loc != PFN_STANDBY && p->loc != PFN_MODIFIED) ||
			    p->pte != li || (p->flags & PFN_F_PROTO))
				c->rc = vl_err(c->err, VL_ESTATE,
					       "pid %u page 0x%llx: transition PTE names frame %u, which "
					       "is not its standby/modified page",
					       e->procs[c->proc].pid, (unsigned long long)vpn, f);
		}
		return;
	}
	uint32_t f = PTE_FRAME(pte);
	if ((pte & PTE_PS) && f < e->db.nframes) /* a piece of a large page */
		f += (uint32_t)(vpn & ((1u << PFN_LP_ORDER(&e->db.pfn[f])) - 1));
	if (f == e->zero_frame && e->zero_page) {
		if (!d || d->kind == VAD_PRIVATE)
			c->committed++;
		return;
	}
	if (f >= e->db.nframes) {
		c->rc = vl_err(c->err, VL_ESTATE, "pid %u page 0x%llx maps frame %u of %u",
			       e->procs[c->proc].pid, (unsigned long long)vpn, f, e->db.nframes);
		return;
	}
	const struct vl_pfn *p = &e->db.pfn[f];
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
	if (p->owner != c->proc || p->pte != li || p->vpn != vpn)
		c->rc = vl_err(c->err, VL_ESTATE,
			       "pid %u page 0x%llx maps frame %u, whose owner does not point back "
			       "(owner %u, pte %u, page 0x%llx)",
			       e->procs[c->proc].pid, (unsigned long long)vpn, f, p->owner, p->pte,
			       (unsigned long long)p->vpn);
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

int vl_engine_check(struct vl_engine *e, struct vl_error *err)
{
	struct check_ctx c = { .e = e, .err = err };
	c.maps = calloc(e->db.nframes, sizeof(*c.maps));
	if (!c.maps)
		return vl_err(err, VL_ENOMEM, "out of memory checking invariants");
	uint64_t commit = 0, ws = 0;
	for (uint32_t i = 0; i < e->nprocs && !c.rc; i++) {
		struct vl_proc *pr = &e->procs[i];
		if (!pr->root)
			continue;
		c.proc = i;
		c.committed = 0;
		pt_foreach_leaf(&e->pt, pr->root, check_leaf, &c);
		for (uint32_t v = 0; v < pr->nvads; v++)
			if (pr->vads[v].kind == VAD_MAPPED && prot_copy(pr->vads[v].prot))
				c.committed += pr->vads[v].end - pr->vads[v].start;
		if (!c.rc && e->os != OS_TEXTBOOK && c.committed != pr->commit)
			c.rc = vl_err(err, VL_ESTATE, "pid %u: %llu pages committed, charge says %llu",
				      pr->pid, (unsigned long long)c.committed,
				      (unsigned long long)pr->commit);
		commit += pr->commit;
		ws += pr->ws_n;
	}
	uint64_t count[PFN_RESERVED + 1] = { 0 }, shared = 0;
	for (uint32_t f = 0; f < e->db.nframes && !c.rc; f++) {
		const struct vl_pfn *p = &e->db.pfn[f];
		if (p->loc > PFN_RESERVED) {
			c.rc = vl_err(err, VL_ESTATE, "frame %u has unknown location %u", f, p->loc);
			break;
		}
		count[p->loc]++;
		if (p->loc == PFN_ACTIVE && (p->flags & PFN_F_PROTO)) {
			shared++;
			const struct vl_section *s = &e->sections[p->owner];
			if (p->vpn >= s->npages || s->proto[p->vpn] != (PTE_P | PTE_MAKE(f)))
				c.rc = vl_err(err, VL_ESTATE,
					      "shared frame %u: its prototype PTE does not point back", f);
			else if (p->aux != c.maps[f])
				c.rc = vl_err(err, VL_ESTATE,
					      "shared frame %u: share count %u, but %u PTEs map it", f,
					      p->aux, c.maps[f]);
		} else if (p->loc == PFN_ACTIVE && c.maps[f] != 1) {
			c.rc = vl_err(err, VL_ESTATE, "private frame %u is mapped by %u PTEs", f,
				      c.maps[f]);
		} else if (p->loc == PFN_ACTIVE && (p->flags & PFN_F_LARGE) &&
			   !(e->pt.e[p->pte] & PTE_PS)) {
			c.rc = vl_err(err, VL_ESTATE, "frame %u of a large page: its entry is not a large page",
				      f);
		} else if ((p->loc == PFN_STANDBY || p->loc == PFN_MODIFIED) && (p->flags & PFN_F_PROTO)) {
			const struct vl_section *s = &e->sections[p->owner];
			if (s->proto[p->vpn] != (SWPTE_TRANS | PTE_MAKE(f)))
				c.rc = vl_err(err, VL_ESTATE,
					      "listed shared frame %u: prototype PTE is not its transition PTE",
					      f);
		} else if (p->loc == PFN_PT && e->pt.frame[p->pte] != f) {
			c.rc = vl_err(err, VL_ESTATE, "frame %u claims page-table node %u, which "
				      "does not name it", f, p->pte);
		}
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
	if (count[PFN_PT] != e->ctr.pt_pages)
		return vl_err(err, VL_ESTATE, "%llu page-table frames, pt_pages says %llu",
			      (unsigned long long)count[PFN_PT], (unsigned long long)e->ctr.pt_pages);
	if (commit != e->commit)
		return vl_err(err, VL_ESTATE, "commit charge %llu != sum over processes %llu",
			      (unsigned long long)e->commit, (unsigned long long)commit);
	if (e->os == OS_WINDOWS && ws != c.valid)
		return vl_err(err, VL_ESTATE, "working sets hold %llu entries, %llu PTEs are valid",
			      (unsigned long long)ws, (unsigned long long)c.valid);
	if (count[PFN_PINNED] != e->pinned)
		return vl_err(err, VL_ESTATE, "%llu frames pinned, memory.fragmentation pinned %u",
			      (unsigned long long)count[PFN_PINNED], e->pinned);
	VL_TRY(pfn_check(&e->db, err));
	VL_TRY(vl_thp_check(e, err));
	VL_TRY(xl_check(e, err));
	return lp_check(e, err);
}
