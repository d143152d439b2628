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
 * Textbook personality: global replacement over all resident pages, every
 * miss is a fault, no standby list, every touched page is committed.  An
 * evicted page keeps a copy in the page file (a slot is assigned at its
 * first eviction); only dirty pages are written (writebacks), so a later
 * touch is a hard fault that reads the slot back.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/internal.h"

#define VICTIM_BATCH 64

/* ---- engine services handed to policies ---- */

static bool mm_referenced(void *ctx, uint32_t f, bool clear)
{
	struct vl_engine *e = ctx;
	uint64_t *pte = &e->pt.e[e->db.pfn[f].pte];
	bool ref = (*pte & PTE_A) != 0;
	if (clear)
		*pte &= ~PTE_A;
	return ref;
}

static bool mm_dirty(void *ctx, uint32_t f)
{
	struct vl_engine *e = ctx;
	return (e->pt.e[e->db.pfn[f].pte] & PTE_D) != 0;
}

static uint32_t mm_owner(void *ctx, uint32_t f, uint64_t *vpn)
{
	struct vl_engine *e = ctx;
	const struct vl_pfn *p = &e->db.pfn[f];
	if (vpn)
		*vpn = p->vpn;
	return e->procs[p->proc].pid;
}

static const struct vl_mm_services mm_services = {
	.referenced = mm_referenced,
	.dirty = mm_dirty,
	.owner = mm_owner,
};

/* ---- creation ---- */

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
	if (strcmp(os, "textbook")) {
		rc = vl_err(err, VL_EINVAL, "os.personality: '%s' is not available (known: textbook)", os);
		goto fail;
	}
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
	*out = e;
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
	pfn_fini(&e->db);
	pt_fini(&e->pt);
	pf_fini(&e->pf);
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

/* Process index for pid, creating the process on first sight. */
static uint32_t proc_lookup(struct vl_engine *e, uint32_t pid, struct vl_error *err)
{
	uint32_t s = pid_slot(pid, e->pid_hash_mask);
	while (e->pid_hash[s] != VL_NIL) {
		if (e->procs[e->pid_hash[s]].pid == pid)
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

/* ---- frames and faults ---- */

static int evict(struct vl_engine *e, uint32_t f, struct vl_error *err)
{
	struct vl_pfn *p = &e->db.pfn[f];
	uint64_t *pte = &e->pt.e[p->pte];
	if (p->slot == VL_NIL) {
		p->slot = pf_alloc(&e->pf);
		if (p->slot == VL_NIL)
			return vl_err(err, VL_ELIMIT,
				      "page file full: %u slots in use (pagefile.size = %s)", e->pf.used,
				      vl_config_str(e->cfg, "pagefile.size"));
	}
	struct vl_proc *owner = &e->procs[p->proc];
	if (*pte & PTE_D) {
		e->ctr.writebacks++;
		e->ctr.pagefile_writes++;
		owner->ctr.writebacks++;
	}
	owner->ctr.evictions++;
	owner->ctr.resident_pages--;
	*pte = SWPTE_PAGEFILE(p->slot);
	e->ctr.evictions++;
	e->resident--;
	e->repl_ops->on_unmap(&e->repl, f);
	pfn_free(&e->db, f, 0);
	return 0;
}

static uint32_t frame_for(struct vl_engine *e, const struct vl_access *a, struct vl_error *err)
{
	uint32_t f = pfn_alloc(&e->db, 0);
	if (likely(f != VL_NIL))
		return f;
	struct vl_evict_ctx ctx = { .cause = a, .pid = 0 };
	size_t n = e->repl_ops->select_victims(&e->repl, &ctx, e->victims, 1);
	if (n == 0 || n > 1) {
		vl_err(err, VL_ESTATE, "policy %s returned %zu victims when asked for 1 with %llu pages resident",
		       e->repl_ops->name, n, (unsigned long long)e->resident);
		return VL_NIL;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t v = e->victims[i];
		if (v >= e->db.nframes || e->db.pfn[v].loc != PFN_ACTIVE) {
			vl_err(err, VL_ESTATE, "policy %s chose frame %u, which is not resident",
			       e->repl_ops->name, v);
			return VL_NIL;
		}
		if (evict(e, v, err) < 0)
			return VL_NIL;
	}
	f = pfn_alloc(&e->db, 0);
	if (f == VL_NIL)
		vl_err(err, VL_ESTATE, "no free frame after eviction");
	return f;
}

/* Resolve a fault on the leaf PTE at arena index li. */
static __attribute__((noinline)) int fault(struct vl_engine *e, uint32_t proc, uint32_t li,
					   const struct vl_access *a, bool write,
					   struct vl_error *err)
{
	uint64_t old = e->pt.e[li];
	uint32_t f = frame_for(e, a, err);
	if (f == VL_NIL)
		return err ? err->code : VL_ESTATE;
	struct vl_pfn *p = &e->db.pfn[f];
	p->vpn = a->vpn;
	p->pte = li;
	p->proc = proc;
	p->slot = VL_NIL;
	struct vl_proc_counters *pc = &e->procs[proc].ctr;
	if (old == 0) {
		e->ctr.faults_demand_zero++;
		pc->faults_demand_zero++;
	} else {
		/* paged out: read the copy back; the slot keeps it (clean) */
		e->ctr.faults_hard++;
		e->ctr.pagefile_reads++;
		pc->faults_hard++;
		p->slot = SWPTE_SLOT(old);
	}
	e->ctr.faults++;
	pc->faults++;
	pc->resident_pages++;
	e->pt.e[li] = PTE_MAKE(f) | PTE_P | PTE_RW | PTE_US | PTE_A | (write ? PTE_D : 0);
	if (++e->resident > e->ctr.resident_peak)
		e->ctr.resident_peak = e->resident;
	e->repl_ops->on_map(&e->repl, f, a);
	return 0;
}

/* Slow path of one access: process switch, missing node, or fault. */
static __attribute__((noinline)) int access_slow(struct vl_engine *e, const struct vl_rec *r,
						 struct vl_error *err)
{
	uint32_t proc = e->last_proc;
	if (r->pid != e->last_pid || proc == VL_NIL) {
		proc = proc_lookup(e, r->pid, err);
		if (proc == VL_NIL)
			return VL_ENOMEM;
		e->last_pid = r->pid;
		e->last_proc = proc;
	}
	uint64_t va = r->addr;
	e->procs[proc].accesses++;
	uint32_t li = pt_walk_create(&e->pt, e->procs[proc].root, va);
	if (li == VL_NIL)
		return vl_err(err, VL_ENOMEM, "out of memory for page tables");
	bool write = r->op == VL_OP_WRITE || r->op == VL_OP_MODIFY;
	uint64_t pte = e->pt.e[li];
	struct vl_access a = {
		.vpn = (va >> VL_PAGE_SHIFT) & ((1ull << (VA_BITS - VL_PAGE_SHIFT)) - 1),
		.time = e->time,
		.next_use = e->future ? e->future[e->time] : 0,
		.pid = r->pid,
		.op = r->op,
	};
	if (pte & PTE_P) { /* only the process lookup was slow */
		e->pt.e[li] = pte | PTE_A | (write ? PTE_D : 0);
		if (e->wants_access)
			e->repl_ops->on_access(&e->repl, PTE_FRAME(pte), &a);
		return 0;
	}
	return fault(e, proc, li, &a, write, err);
}

static inline bool canonical(uint64_t va)
{
	int64_t hi = (int64_t)va >> (VA_BITS - 1);
	return hi == 0 || hi == -1;
}

int vl_engine_feed(struct vl_engine *e, const struct vl_batch *b, struct vl_error *err)
{
	const struct vl_rec *r = b->recs, *end = b->recs + b->n;
	for (; r < end; r++) {
		if (unlikely(r->op >= VL_OP_NACCESS)) {
			e->ctr.events++;
			continue;
		}
		e->op_count[r->op]++;
		if (unlikely(e->future && e->time >= e->future_n))
			return vl_err(err, VL_EINVAL,
				      "trace has more accesses than its pre-pass counted (%llu)",
				      (unsigned long long)e->future_n);
		uint64_t va = r->addr;
		if (unlikely(!canonical(va))) {
			e->ctr.access_violations++;
			e->time++;
			continue;
		}
		if (likely(r->pid == e->last_pid && e->last_proc != VL_NIL)) {
			/* the hot path: walk the four levels */
			const uint64_t *pt = e->pt.e;
			uint32_t node = e->procs[e->last_proc].root;
			uint64_t ent = pt[(size_t)node * PT_ENTRIES + ((va >> 39) & 511)];
			if (!(ent & PTE_P))
				goto slow;
			ent = pt[(size_t)PTE_FRAME(ent) * PT_ENTRIES + ((va >> 30) & 511)];
			if (!(ent & PTE_P))
				goto slow;
			ent = pt[(size_t)PTE_FRAME(ent) * PT_ENTRIES + ((va >> 21) & 511)];
			if (!(ent & PTE_P))
				goto slow;
			size_t li = (size_t)PTE_FRAME(ent) * PT_ENTRIES + ((va >> 12) & 511);
			uint64_t pte = pt[li];
			if (!(pte & PTE_P))
				goto slow;
			bool write = r->op == VL_OP_WRITE || r->op == VL_OP_MODIFY;
			e->pt.e[li] = pte | PTE_A | (write ? PTE_D : 0);
			e->procs[e->last_proc].accesses++;
			if (e->wants_access) {
				struct vl_access a = {
					.vpn = (va >> VL_PAGE_SHIFT) & ((1ull << (VA_BITS - VL_PAGE_SHIFT)) - 1),
					.time = e->time,
					.next_use = e->future ? e->future[e->time] : 0,
					.pid = r->pid,
					.op = r->op,
				};
				e->repl_ops->on_access(&e->repl, PTE_FRAME(pte), &a);
			}
			e->time++;
			continue;
		}
	slow:
		VL_TRY(access_slow(e, r, err));
		e->time++;
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
	return n;
}

void vl_engine_gauges(const struct vl_engine *e, struct vl_gauges *g)
{
	g->resident_pages = e->resident;
	g->free_frames = e->db.nfree;
	g->ws_pages = e->resident;
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
	return 0;
}

int vl_engine_check(struct vl_engine *e, struct vl_error *err)
{
	uint64_t active = 0;
	for (uint32_t f = 0; f < e->db.nframes; f++) {
		const struct vl_pfn *p = &e->db.pfn[f];
		if (p->loc == PFN_FREE)
			continue;
		if (p->loc != PFN_ACTIVE)
			return vl_err(err, VL_ESTATE, "frame %u has unknown location %u", f, p->loc);
		active++;
		if (p->proc >= e->nprocs)
			return vl_err(err, VL_ESTATE, "active frame %u names no process", f);
		uint64_t va = p->vpn << VL_PAGE_SHIFT;
		if (va & (1ull << (VA_BITS - 1)))
			va |= ~((1ull << VA_BITS) - 1); /* sign-extend */
		uint32_t li = pt_walk(&e->pt, e->procs[p->proc].root, va);
		if (li == VL_NIL || li != p->pte)
			return vl_err(err, VL_ESTATE,
				      "frame %u: pid %u page 0x%llx is not mapped by the PTE the frame names",
				      f, e->procs[p->proc].pid, (unsigned long long)p->vpn);
		uint64_t pte = e->pt.e[li];
		if (!(pte & PTE_P) || PTE_FRAME(pte) != f)
			return vl_err(err, VL_ESTATE,
				      "frame %u: its PTE (0x%llx) does not point back at it", f,
				      (unsigned long long)pte);
	}
	if (active != e->resident)
		return vl_err(err, VL_ESTATE, "%llu frames active, resident count says %llu",
			      (unsigned long long)active, (unsigned long long)e->resident);
	if (active + e->db.nfree != e->db.nframes)
		return vl_err(err, VL_ESTATE, "active %llu + free %u != %u frames",
			      (unsigned long long)active, e->db.nfree, e->db.nframes);
	return pfn_check(&e->db, err);
}
