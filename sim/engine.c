/* sim/engine.c - the engine's life: creation from a configuration, the
 * services policies call, processes, and the counters it reports.
 *
 * Where the rest lives (sim/internal.h has the shared structures):
 *   access.c      the access loop (vl_engine_feed), periodic work
 *   fault.c       resolving a fault; thp.c the linux THP rules, khugepaged
 *   frames.c      page lists and handing out frames
 *   rsm_global.c  global replacement (textbook, linux): the policy decides
 *   rsm_ws.c      working sets, trimming, modified page writer (windows)
 *   release.c     pages and page tables going away
 *   section.c     file sections (shared pages)
 *   vad.c         address-space events: VADs, commit, protection, views
 *   hugepage.c    the large-page machinery: one representation (a PS entry),
 *                 install, split, release, page-table deposits
 *   largepage.c   the textbook large-page policies: placement, promotion,
 *                 reservations
 *   pagetable.c, pfn.c, pagefile.c, tlb.c   the structures themselves
 *   check.c       the invariant checker
 *
 * Textbook personality: every miss is a fault, no standby list, every
 * touched page is committed.  An evicted page keeps a copy in the page file
 * (a slot is assigned at its first eviction); only dirty pages are written
 * (writebacks), so a later touch is a hard fault that reads the slot back.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/memory.h"
#include "core/sized.h"
#include "sim/internal.h"

#define VICTIM_BATCH 64

/* ---- engine services handed to policies ---- */

static bool mm_referenced(void *ctx, uint32_t f, bool clear)
{
	struct vl_engine *e = ctx;
	if (e->db.pfn[f].flags & PFN_F_PROTO)
		return vl_shared_referenced(e, f, clear);
	const struct vl_pfn *p = &e->db.pfn[f];
	if (p->loc == PFN_SWAPCACHE)
		return false; /* in the swap cache, mapped by no PTE: never referenced */
	uint64_t *pte = &e->pt.e[p->pte];
	bool ref = (*pte & PTE_A) != 0;
	if (clear && ref) {
		/* as an OS must: the TLBs may not keep a translation whose
		 * accessed bit is clear, or the next use would not set it */
		*pte &= ~PTE_A;
		if (e->xl.nt) /* TLBs to drop it from (--machine none has none) */
			xl_invlpg(e, p->owner, pfn_vpn(e, f));
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
	if (p->loc == PFN_SWAPCACHE)
		return false; /* its copy in its slot is current */
	return (e->pt.e[p->pte] & PTE_D) != 0 || (p->flags & PFN_F_MODIFIED);
}

static uint32_t mm_owner(void *ctx, uint32_t f, uint64_t *vpn)
{
	struct vl_engine *e = ctx;
	const struct vl_pfn *p = &e->db.pfn[f];
	if (vpn)
		*vpn = pfn_vpn(e, f);
	if (p->flags & PFN_F_PROTO)
		return 0; /* a shared page of a file section: no single owner */
	return e->procs[p->owner].pid;
}

/* A scan's hint, in two stages: the frame record of f now, and the
 * page-table entry of the frame announced PF_RING hints ago, whose record
 * the first stage brought in meanwhile.  A policy announcing the frames
 * it will ask about 2 * PF_RING ahead (vl_repl_prefetch) finds both in
 * the caches when it asks.  A frame that changed since it was announced
 * costs a useless prefetch at most (its entry index is checked). */
static void mm_prefetch(void *ctx, uint32_t f)
{
	struct vl_engine *e = ctx;
	if (f >= e->db.nframes)
		return;
	__builtin_prefetch(&e->db.pfn[f]);
	uint32_t g = e->pf_ring[e->pf_pos];
	e->pf_ring[e->pf_pos] = f;
	e->pf_pos = (e->pf_pos + 1) % PF_RING;
	if (g >= e->db.nframes)
		return;
	const struct vl_pfn *p = &e->db.pfn[g];
	if (p->loc == PFN_ACTIVE && !(p->flags & PFN_F_PROTO) &&
	    p->pte < (uint64_t)e->pt.cap * PT_ENTRIES)
		__builtin_prefetch(&e->pt.e[p->pte], 1);
}

static void mm_event(void *ctx, unsigned what)
{
	struct vl_engine *e = ctx;
	if (what == VL_REPL_EV_REFAULT_ACTIVATION)
		e->sw.refaults++;
}

static const struct vl_mm_services mm_services = {
	.referenced = mm_referenced,
	.dirty = mm_dirty,
	.owner = mm_owner,
	.event = mm_event,
	.prefetch = mm_prefetch,
};

/* ---- creation ---- */

static void warn(struct vl_engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct vl_engine *e, const char *fmt, ...)
{
	size_t used = strlen(e->warning);
	if (used + 2 >= sizeof(e->warning))
		return;
	if (used)
		e->warning[used++] = '\n';
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->warning + used, sizeof(e->warning) - used, fmt, ap);
	va_end(ap);
}

/* The working-set manager's thresholds, derived from the memory size as
 * Windows derives them (docs/config.md states the rules and sources):
 *   goal (wsm.available_pages): MmPlentyFreePages, 400 pages, doubled on
 *     machines of 63 MiB or more (WRK MiAdjustWorkingSetManagerParameters),
 *     at most 1/8 of memory (below Windows's own minimum machine);
 *   the trim target: 1.5 x the goal (WRK DesiredFreeGoal);
 *   ws.min_pages: 50 (WI7), at most 1/16 of memory;
 *   ws.max_pages: 345 (WI7), a soft limit;
 *   mpw.threshold_pages: min(frames / 16, 16,384) (WI6's trigger,
 *     reference notes A.8).
 * A configured value wins; one that cannot work for this memory is
 * warned about, naming the key. */
static void ws_thresholds(struct vl_engine *e, const struct vl_config *cfg)
{
	uint64_t frames = e->db.nframes;
	uint64_t plenty = frames >= (63u << 20) / VL_PAGE_SIZE ? 800 : 400;
	uint64_t goal = plenty < frames / 8 ? plenty : frames / 8;
	uint64_t wsmin = 50 < frames / 16 ? 50 : frames / 16;
	uint64_t mpw = frames / 16 < 16384 ? frames / 16 : 16384;
	bool ws = e->rsm == &vl_rsm_ws;
	if (goal == 0)
		goal = 1;
	if (vl_config_isset(cfg, "wsm.available_pages")) {
		uint64_t v = vl_config_u64(cfg, "wsm.available_pages");
		if (ws && v * 2 > frames)
			warn(e, "wsm.available_pages = %llu cannot work with %llu frames: the working-set "
				"manager would trim all the time (derived: %llu)",
			     (unsigned long long)v, (unsigned long long)frames, (unsigned long long)goal);
		goal = v;
	}
	if (vl_config_isset(cfg, "ws.min_pages")) {
		uint64_t v = vl_config_u64(cfg, "ws.min_pages");
		if (ws && v * 2 > frames)
			warn(e, "ws.min_pages = %llu cannot work with %llu frames: working sets at their "
				"minimum fill memory (derived: %llu)",
			     (unsigned long long)v, (unsigned long long)frames, (unsigned long long)wsmin);
		wsmin = v;
	}
	if (vl_config_isset(cfg, "mpw.threshold_pages")) {
		uint64_t v = vl_config_u64(cfg, "mpw.threshold_pages");
		if (ws && v >= frames)
			warn(e, "mpw.threshold_pages = %llu cannot work with %llu frames: the modified "
				"list never reaches it (derived: %llu)",
			     (unsigned long long)v, (unsigned long long)frames, (unsigned long long)mpw);
		mpw = v;
	}
	uint64_t wsmax = vl_config_u64(cfg, "ws.max_pages");
	if (wsmax == 0)
		wsmax = 345;
	e->avail_target = goal;
	e->trim_goal = goal + goal / 2;
	e->ws_min = (uint32_t)(wsmin > UINT32_MAX ? UINT32_MAX : wsmin);
	e->ws_max = (uint32_t)(wsmax > UINT32_MAX ? UINT32_MAX : wsmax);
	e->mpw_threshold = mpw;
}

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
	/* what leaves memory: the replacement policy's victims (textbook,
	 * linux) or working-set trimming (windows); the rest is keys */
	e->rsm = !strcmp(os, "windows") ? &vl_rsm_ws : &vl_rsm_global;
	uint64_t frames = vl_config_u64(cfg, "memory.frames");
	if (vl_config_isset(cfg, "memory.size")) {
		frames = vl_config_u64(cfg, "memory.size") / VL_PAGE_SIZE;
		if (frames == 0 || frames > 2147483647u) {
			rc = vl_err(err, VL_EINVAL, "memory.size: %s gives %llu frames (need 1 to 2^31-1)",
				    vl_config_str(cfg, "memory.size"), (unsigned long long)frames);
			goto fail;
		}
	}
	/* a memory cgroup's limit (memory.limit): what the cgroup charges is
	 * what the model's frames hold (anonymous, page-cache, swap-cache and
	 * page-table pages of the traced processes), so the limit is the
	 * frames they may have.  Under global replacement (textbook, linux)
	 * the rest of the machine's memory stays as extra frames, for the
	 * page-cache pages the run finds cached before it: Linux charges a
	 * page to the cgroup whose read brought it into the cache, so those
	 * are charged elsewhere and the limit does not reclaim them
	 * (sim/section.c, cached_frame) */
	uint64_t nextra = 0;
	if (vl_config_isset(cfg, "memory.limit") &&
	    vl_config_u64(cfg, "memory.limit") / VL_PAGE_SIZE < frames) {
		uint64_t lim = vl_config_u64(cfg, "memory.limit") / VL_PAGE_SIZE;
		if (e->rsm == &vl_rsm_global)
			nextra = frames - lim;
		frames = lim;
	}
	/* the memory budget (run.max_memory): the frame database is allocated
	 * whole, so a configuration it cannot hold is refused here; page
	 * tables ask it as they grow, the driver between batches */
	uint64_t budget = vl_memory_budget(cfg);
	bool bdefault = !vl_config_u64(cfg, "run.max_memory");
	char what[96];
	snprintf(what, sizeof(what), "the frame database of %llu frames (%llu MiB of memory)",
		 (unsigned long long)frames, (unsigned long long)(frames >> 8));
	/* (the extra frames' records are touched only as they are used) */
	if ((rc = vl_memory_check(budget, bdefault, frames * sizeof(struct vl_pfn), what, err)) < 0)
		goto fail;
	/* more simulated memory than the host has: its frame database and the
	 * policy's per-frame state grow with the configured size (24 bytes
	 * and more a frame), whatever the trace touches; allowed only when
	 * run.max_memory is set, by someone who has done the sum */
	uint64_t host = vl_host_memory();
	if (bdefault && host && frames * VL_PAGE_SIZE > host) {
		rc = vl_err(err, VL_ELIMIT,
			    "memory: %llu MiB simulated is more than this host's %llu MiB, and its "
			    "frame database alone needs %llu MiB (%u bytes a frame) whatever the trace "
			    "touches; simulate less memory, or set run.max_memory to allow it",
			    (unsigned long long)(frames >> 8), (unsigned long long)(host >> 20),
			    (unsigned long long)(frames * sizeof(struct vl_pfn) >> 20),
			    (unsigned)sizeof(struct vl_pfn));
		goto fail;
	}
	if ((rc = pfn_init(&e->db, (uint32_t)frames, (uint32_t)nextra, err)) < 0 ||
	    (rc = pt_init(&e->pt, err)) < 0)
		goto fail;
	e->pt.budget = budget;
	e->pt.budget_default = bdefault;
	{
		/* the page file: pagefile.size slots, growing to pagefile.max;
		 * system-managed (Microsoft Learn, "How to determine the
		 * appropriate page file size for 64-bit versions of Windows"):
		 * initial 1 x RAM (1.5 x below 1 GiB), maximum max(3 x RAM, 4 GiB) */
		uint64_t size = vl_config_u64(cfg, "pagefile.size") / VL_PAGE_SIZE;
		uint64_t max = size;
		bool managed = vl_config_bool(cfg, "pagefile.managed") && size == 0 &&
			       vl_config_u64(cfg, "pagefile.size") == 0;
		if (vl_config_u64(cfg, "pagefile.size") && !size) {
			rc = vl_err(err, VL_EINVAL, "pagefile.size: %s is less than one page",
				    vl_config_str(cfg, "pagefile.size"));
			goto fail;
		}
		if (managed) {
			size = frames < (1u << 30) / VL_PAGE_SIZE ? frames + frames / 2 : frames;
			max = 3 * frames > (4ull << 30) / VL_PAGE_SIZE ? 3 * frames
								       : (4ull << 30) / VL_PAGE_SIZE;
		}
		if (vl_config_isset(cfg, "pagefile.max")) {
			max = vl_config_u64(cfg, "pagefile.max") / VL_PAGE_SIZE;
			if (size == 0 || max < size) {
				rc = vl_err(err, VL_EINVAL,
					    "pagefile.max: %s is below pagefile.size (%llu pages), or the "
					    "page file is unlimited",
					    vl_config_str(cfg, "pagefile.max"), (unsigned long long)size);
				goto fail;
			}
		}
		if (max > UINT32_MAX - 2)
			max = UINT32_MAX - 2;
		if (size > max)
			size = max;
		e->pf.limit = (uint32_t)size;
		e->pf_max = (uint32_t)max;
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
	e->free_slot = VL_NIL;

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
	e->repl.hit_hint = NULL;
	e->repl.hit_hint_stride = 0;
	if ((rc = e->repl_ops->init(&e->repl, err)) < 0)
		goto fail;
	e->repl_live = true;
	/* init may have chosen one of the policy's variants: another ops table
	 * of the same name, used from now on (so a variant's choices cost
	 * nothing per access) */
	if (e->repl.ops != e->repl_ops) {
		const struct vl_repl_ops *v = e->repl.ops;
		if (!v || v->api_version != VL_POLICY_API_VERSION || !v->name ||
		    strcmp(v->name, e->repl_ops->name) || !v->on_map || !v->on_unmap ||
		    !v->select_victims || ((v->flags & VL_REPL_WANTS_ACCESS) && !v->on_access) ||
		    ((v->flags & VL_REPL_HINT_FAULT) && !v->will_fault)) {
			rc = vl_err(err, VL_ESTATE, "policy %s: init chose an invalid variant ops table",
				    e->repl_ops->name);
			/* the state is the variant's: its own fini frees it */
			if (v && v->fini)
				v->fini(&e->repl);
			e->repl_live = false;
			goto fail;
		}
		e->repl_ops = v;
	}
	if (e->rsm == &vl_rsm_ws) {
		/* under working sets the policy chooses within each working set
		 * (sim/rsm_ws.c): ws-aging is the manager's own aging; any other
		 * gets an instance per working set, reached through ws_mux */
		unsigned age_max = (unsigned)vl_config_u64(cfg, "replacement.ws-aging.max_age");
		e->ws_age_max = age_max > 7 ? 7 : age_max;
		if (strcmp(e->repl_ops->name, "ws-aging") != 0) {
			e->ws_policy = e->repl_ops;
			e->ws_mux = *e->repl_ops;
			e->ws_mux.on_access = vl_ws_policy_access;
			/* each working set's instance has its own list: no inline move */
			e->ws_mux.flags &= ~(unsigned)VL_REPL_ACCESS_MOVES_HEAD;
			e->repl_ops = &e->ws_mux;
		}
	}
	vl_elist_setup(e); /* the global manager keeps a list policy's list */
	e->wants_access = (e->repl_ops->flags & VL_REPL_WANTS_ACCESS) &&
			  (e->rsm->policy || e->ws_policy);
	if (e->wants_access && (e->repl_ops->flags & VL_REPL_ACCESS_MOVES_HEAD))
		e->access_flist = e->repl.priv;
	/* prefetch hints, for the one instance of the global manager (the
	 * working sets' instances and the engine's own list have none) */
	if (e->rsm->policy && !e->ws_policy && !e->elist_on) {
		if ((e->repl_ops->flags & VL_REPL_HINT_FAULT) && e->repl_ops->will_fault)
			e->will_fault = e->repl_ops->will_fault;
		if (e->wants_access && e->repl.hit_hint) {
			e->hit_hint = e->repl.hit_hint;
			e->hit_hint_stride = e->repl.hit_hint_stride;
		}
	}
	e->check_each_batch = vl_config_bool(cfg, "run.check");
	e->count_zeroing = vl_config_bool(cfg, "anon.count_zeroing");
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
	e->cost_file_read = vl_config_double(cfg, "cost.file_read");
	e->cost_file_write = vl_config_double(cfg, "cost.file_write");
	e->commit_pt = vl_config_bool(cfg, "commit.pt_pages") && e->pt_frames;
	e->stop_on_av = !strcmp(vl_config_str(cfg, "run.on_av"), "stop-process");
	/* not a real frame: never allocated or listed (past the extra ones) */
	e->zero_frame = e->db.nframes + e->db.nextra;
	e->file_cluster = (uint32_t)vl_config_u64(cfg, "file.read_cluster");
	e->fault_around = (uint32_t)vl_config_u64(cfg, "file.fault_around");
	e->fa_phase = (uint32_t)vl_config_u64(cfg, "file.fault_around_phase");
	e->pagecache_warm = !strcmp(vl_config_str(cfg, "pagecache.warm"), "all");
	e->readaround = (uint32_t)vl_config_u64(cfg, "file.readaround");
	e->fread_cache = !strcmp(vl_config_str(cfg, "os.personality"), "linux");
	e->cow_read_major = vl_config_bool(cfg, "file.cow_read_major");
	if (vl_config_str(cfg, "pagecache.resident")[0] &&
	    (rc = vl_pagecache_load(e, vl_config_str(cfg, "pagecache.resident"), err)) < 0)
		goto fail;
	e->commit_limit = e->pf.limit ? (uint64_t)e->db.nframes + e->pf.limit : UINT64_MAX;
	e->mpw_cluster = (uint32_t)vl_config_u64(cfg, "mpw.cluster_pages");
	e->wsm_interval = vl_config_u64(cfg, "wsm.interval");
	ws_thresholds(e, cfg);
	if (e->rsm == &vl_rsm_ws) {
		/* the model clock drives the working-set manager: once per
		 * wsm.period simulated seconds (cost.hz cycles each) */
		e->wsm_period = vl_config_double(cfg, "wsm.period") * vl_config_double(cfg, "cost.hz");
		if (e->wsm_period < 1)
			e->wsm_period = 1;
		e->wsm_due = e->wsm_period;
		e->next_tick = e->wsm_interval ? e->wsm_interval : 1;
	} else {
		e->next_tick = UINT64_MAX; /* the global manager has no periodic work */
	}
	e->zero_thread = vl_config_bool(cfg, "wsm.zero_thread");
	for (unsigned i = 0; i < 8; i++)
		e->standby[i] = (struct plist){ VL_NIL, VL_NIL, 0 };
	e->modified = (struct plist){ VL_NIL, VL_NIL, 0 };
	if ((rc = xl_init(e, err)) < 0 || (rc = hp_init(e, err)) < 0 ||
	    (rc = lp_init(e, err)) < 0 || (rc = vl_swap_init(e, err)) < 0 ||
	    (rc = vl_heap_init(e, err)) < 0)
		goto fail;
	/* Splitting a large page of the largepage.* policies makes a page
	 * table (they deposit none, unlike THP); with page tables in frames
	 * that would take a frame while making room for one. */
	if (e->lp_any && e->pt_frames) {
		rc = vl_err(err, VL_EINVAL,
			    "largepage.policy = %s: the large-page policies need memory.pt_frames = off",
			    vl_config_str(cfg, "largepage.policy"));
		goto fail;
	}
	e->fast_fault = e->rsm == &vl_rsm_global && !e->lp_any && e->thp == THP_NEVER &&
			!e->zero_page && !e->sw.on;
	*out = e;
	vl_tick_at_update(e);
	return 0;
fail:
	vl_engine_free(e);
	return rc;
}

void vl_engine_free(struct vl_engine *e)
{
	if (!e)
		return;
	for (uint32_t i = 0; i < e->nslots; i++)
		vl_ws_policy_free(e, &e->procs[i]);
	vl_heap_fini(e);
	if (e->repl_live && e->repl_ops->fini)
		e->repl_ops->fini(&e->repl);
	lp_fini(e);
	hp_fini(e);
	free(e->proto_hi);
	vl_swap_fini(e);
	xl_fini(&e->xl);
	pfn_fini(&e->db);
	pt_fini(&e->pt);
	pf_fini(&e->pf);
	for (uint32_t i = 0; i < e->nslots; i++) {
		free(e->procs[i].vads);
		free(e->procs[i].wsl);
	}
	free(e->order);
	free(e->order_row);
	free(e->row_loc);
	free(e->plog);
	for (uint32_t i = 0; i < e->nsections; i++)
		proto_free(&e->sections[i]);
	free(e->sections);
	vl_pagecache_free(e);
	free(e->procs);
	free(e->pid_hash);
	free(e->victims);
	free(e->ws_order);
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

/* ---- processes ----
 *
 * A live process has a slot (struct vl_proc, e->procs[slot]); a process
 * that exits gives it back (vl_proc_retire) and the next new process takes
 * it (last freed, first taken).  Its TLB entries went with its page-table
 * nodes (a freed node flushes every TLB, sim/access.c), nothing else names
 * the slot by then: every frame of it was freed.  Rows number every
 * process ever seen in order of first appearance, the index of the
 * results' per-process rows: per row, the live slot or where its
 * counters lie in plog, 12 LEB128 varints (pid, accesses, faults, the four
 * fault kinds, access_violations, evictions, writebacks, resident_pages,
 * commit_pages), 12 to 20 bytes for a short-lived process instead of the
 * 300 bytes of a slot.  So memory is O(live processes) plus 8 bytes of
 * row_loc and those few bytes per exited one. */

#define ROW_LIVE (1ull << 63)

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
	for (uint32_t k = 0, i; proc_next(e, &k, &i);) {
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

uint32_t vl_proc_find(const struct vl_engine *e, uint32_t pid)
{
	uint32_t s = pid_slot(pid, e->pid_hash_mask);
	while (e->pid_hash[s] != VL_NIL) {
		const struct vl_proc *p = &e->procs[e->pid_hash[s]];
		if (p->pid == pid && p->root)
			return e->pid_hash[s];
		s = (s + 1) & e->pid_hash_mask;
	}
	return VL_NIL;
}

/* Process index for pid, creating the process on first sight (and anew
 * after it exited: the old record keeps its counters). */
/* Remove the live pid of slot proc from the hash (linear probing: the
 * entries after it that would no longer be found move back). */
static void pid_hash_remove(struct vl_engine *e, uint32_t proc)
{
	uint32_t mask = e->pid_hash_mask, i = pid_slot(e->procs[proc].pid, mask);
	while (e->pid_hash[i] != proc)
		i = (i + 1) & mask;
	for (uint32_t j = i;;) {
		j = (j + 1) & mask;
		if (e->pid_hash[j] == VL_NIL)
			break;
		uint32_t home = pid_slot(e->procs[e->pid_hash[j]].pid, mask);
		/* the entry at j stays unless its home lies cyclically in (i, j] */
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (!stays) {
			e->pid_hash[i] = e->pid_hash[j];
			i = j;
		}
	}
	e->pid_hash[i] = VL_NIL;
}

/* Drop the holes of order[] (processes that exited). */
static void order_compact(struct vl_engine *e)
{
	uint32_t n = 0;
	for (uint32_t k = 0; k < e->norder; k++) {
		uint32_t s = e->order[k];
		if (s == VL_NIL)
			continue;
		e->order[n] = s;
		e->order_row[n] = e->order_row[k];
		e->procs[s].order_pos = n++;
	}
	e->norder = n;
}

/* A new process pid in a free slot (or a new one); VL_NIL on out of memory. */
static uint32_t proc_new(struct vl_engine *e, uint32_t pid)
{
	if (e->nrows == UINT32_MAX - 1)
		return VL_NIL;
	if (grow_array(&e->row_loc, e->nrows, &e->rows_cap, sizeof(*e->row_loc), 64) < 0)
		return VL_NIL;
	if (e->norder == e->order_cap && e->norder > 2 * e->nlive)
		order_compact(e); /* half of it holes: no need to grow */
	if (e->norder == e->order_cap) {
		uint32_t cap = e->order_cap ? 2 * e->order_cap : 16;
		uint32_t *o = realloc(e->order, (size_t)cap * sizeof(*o));
		if (o)
			e->order = o; /* bigger than it needs if the next fails: harmless */
		uint32_t *r = o ? realloc(e->order_row, (size_t)cap * sizeof(*r)) : NULL;
		if (!r)
			return VL_NIL;
		e->order_row = r;
		e->order_cap = cap;
	}
	uint32_t slot = e->free_slot;
	if (slot == VL_NIL) {
		if (grow_array(&e->procs, e->nslots, &e->procs_cap, sizeof(*e->procs), 16) < 0)
			return VL_NIL;
		slot = e->nslots;
	}
	uint32_t root = pt_node_new(&e->pt);
	if (!root)
		return VL_NIL;
	if (slot == e->nslots)
		e->nslots++;
	else
		e->free_slot = e->procs[slot].order_pos;
	e->procs[slot] = (struct vl_proc){ .pid = pid, .root = root, .ctr.pid = pid,
					   .row = e->nrows, .order_pos = e->norder };
	e->row_loc[e->nrows++] = ROW_LIVE | slot;
	e->order[e->norder] = slot;
	e->order_row[e->norder++] = e->procs[slot].row;
	e->nlive++;
	return slot;
}

uint32_t vl_proc_lookup(struct vl_engine *e, uint32_t pid, struct vl_error *err)
{
	uint32_t s = pid_slot(pid, e->pid_hash_mask);
	while (e->pid_hash[s] != VL_NIL) {
		if (e->procs[e->pid_hash[s]].pid == pid)
			return e->pid_hash[s];
		s = (s + 1) & e->pid_hash_mask;
	}
	uint32_t slot = proc_new(e, pid);
	if (slot == VL_NIL) {
		vl_err(err, VL_ENOMEM, "out of memory creating process %u", pid);
		return VL_NIL;
	}
	e->pid_hash[s] = slot;
	e->pt.created[0] = e->procs[slot].root;
	e->pt.ncreated = 1;
	if (vl_pt_frames(e, slot, err) < 0)
		return VL_NIL;
	if (e->nlive * 2 > e->pid_hash_mask && pid_hash_grow(e) < 0) {
		vl_err(err, VL_ENOMEM, "out of memory creating process %u", pid);
		return VL_NIL;
	}
	return slot;
}

static void put_varint(uint8_t **p, uint64_t v)
{
	while (v >= 0x80) {
		*(*p)++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*(*p)++ = (uint8_t)v;
}

static uint64_t get_varint(const uint8_t **p)
{
	uint64_t v = 0;
	for (unsigned shift = 0;; shift += 7) {
		uint8_t b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
}

/* The counters of the process in slot proc, whole. */
static struct vl_proc_counters proc_ctr(const struct vl_engine *e, uint32_t proc)
{
	struct vl_proc_counters c = e->procs[proc].ctr;
	c.size = sizeof(c);
	c.accesses = e->procs[proc].accesses;
	c.commit_pages = e->procs[proc].commit;
	return c;
}

#define PROC_NFIELDS 19

void vl_proc_retire(struct vl_engine *e, uint32_t proc)
{
	vl_heap_exit(e, proc); /* before the slot is wiped for reuse */
	struct vl_proc *pr = &e->procs[proc];
	struct vl_proc_counters c = proc_ctr(e, proc);
	const uint64_t v[PROC_NFIELDS] = { c.pid, c.accesses, c.faults, c.faults_demand_zero,
					   c.faults_soft, c.faults_hard, c.faults_cow,
					   c.access_violations, c.evictions, c.writebacks,
					   c.resident_pages, c.commit_pages, c.heap_allocs,
					   c.heap_frees, c.heap_bytes_peak, c.heap_committed_peak,
					   c.heap_decommits, c.heap_releases, c.heap_errors };
	uint8_t buf[PROC_NFIELDS * 10], *p = buf;
	for (unsigned i = 0; i < PROC_NFIELDS; i++)
		put_varint(&p, v[i]);
	size_t n = (size_t)(p - buf);
	bool stored = false;
	if (e->plog_len + n > e->plog_cap) {
		size_t cap = e->plog_cap ? e->plog_cap * 2 : 4096;
		while (cap < e->plog_len + n)
			cap *= 2;
		uint8_t *np = realloc(e->plog, cap);
		if (np) {
			e->plog = np;
			e->plog_cap = cap;
		}
	}
	if (e->plog_len + n <= e->plog_cap) {
		memcpy(e->plog + e->plog_len, buf, n);
		e->row_loc[pr->row] = e->plog_len;
		e->plog_len += n;
		stored = true;
	}
	pid_hash_remove(e, proc);
	e->order[pr->order_pos] = VL_NIL;
	e->nlive--;
	if (e->norder - e->nlive > e->nlive + 16)
		order_compact(e);
	vl_ws_policy_free(e, pr);
	if (e->xl.cur_proc == proc)
		e->xl.cur_proc = VL_NIL - 1; /* an address space that is gone: the next switch flushes */
	/* a slot that a large-page reservation still names, or whose
	 * counters found no room, is not given out again */
	if (!stored || lp_names(e, proc)) {
		pr->root = 0;
		pr->order_pos = VL_NIL;
		return;
	}
	*pr = (struct vl_proc){ .order_pos = e->free_slot };
	e->free_slot = proc;
}

int vl_proc_table_check(const struct vl_engine *e, struct vl_error *err)
{
	uint32_t live = 0, prev_row = 0;
	for (uint32_t k = 0; k < e->norder; k++) {
		if (k && e->order_row[k] <= prev_row)
			return vl_err(err, VL_ESTATE, "process order: rows not increasing at %u", k);
		prev_row = e->order_row[k];
		uint32_t s = e->order[k];
		if (s == VL_NIL)
			continue;
		live++;
		const struct vl_proc *pr = &e->procs[s];
		if (s >= e->nslots || !pr->root || pr->order_pos != k || pr->row != e->order_row[k] ||
		    pr->row >= e->nrows || e->row_loc[pr->row] != (ROW_LIVE | s))
			return vl_err(err, VL_ESTATE, "process order entry %u (slot %u) is not its process's",
				      k, s);
		uint32_t h = pid_slot(pr->pid, e->pid_hash_mask);
		while (e->pid_hash[h] != VL_NIL && e->pid_hash[h] != s)
			h = (h + 1) & e->pid_hash_mask;
		if (e->pid_hash[h] != s)
			return vl_err(err, VL_ESTATE, "pid %u (slot %u) is not found by its pid", pr->pid, s);
	}
	if (live != e->nlive)
		return vl_err(err, VL_ESTATE, "%u live processes in order, %u counted", live, e->nlive);
	for (uint32_t f = e->free_slot, n = 0; f != VL_NIL; f = e->procs[f].order_pos, n++)
		if (f >= e->nslots || e->procs[f].root || n > e->nslots)
			return vl_err(err, VL_ESTATE, "free slot list broken at slot %u", f);
	return 0;
}

uint32_t vl_proc_from_row(const struct vl_engine *e, uint32_t *row)
{
	/* order_row is increasing: the first entry at or past row, then the
	 * first live one from there */
	uint32_t lo = 0, hi = e->norder;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (e->order_row[mid] < *row)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < e->norder; lo++)
		if (e->order[lo] != VL_NIL) {
			*row = e->order_row[lo];
			return e->order[lo];
		}
	*row = e->nrows;
	return VL_NIL;
}

/* ---- counters ---- */

double vl_engine_cycles(const struct vl_engine *e)
{
	const struct vl_xlat *x = &e->xl;
	const struct vl_counters *c = &e->ctr;
	double accesses = (double)(e->op_count[VL_OP_READ] + e->op_count[VL_OP_WRITE] +
				   e->op_count[VL_OP_MODIFY] + e->op_count[VL_OP_IFETCH]);
	return accesses * x->cost_tlb_hit + (double)x->level_misses * x->cost_tlb_miss +
	       (double)c->walk_refs * x->cost_walk_ref + (double)c->dirty_updates * x->cost_dirty +
	       (double)c->tlb_flushes * x->cost_flush + (double)c->faults * x->cost_fault +
	       (double)c->zeroed_pages * x->cost_zero + (double)c->large_page_copies * x->cost_copy +
	       (double)c->pagefile_reads * x->cost_pf_read +
	       (double)c->pagefile_writes * x->cost_pf_write +
	       (double)c->file_reads * e->cost_file_read +
	       (double)c->file_writes * e->cost_file_write;
}

const char *vl_engine_warning(const struct vl_engine *e)
{
	return e->warning[0] ? e->warning : NULL;
}

const struct vl_counters *vl_engine_counters(struct vl_engine *e)
{
	e->snap = e->ctr;
	e->snap.reads = e->op_count[VL_OP_READ];
	e->snap.writes = e->op_count[VL_OP_WRITE] + e->op_count[VL_OP_MODIFY];
	e->snap.ifetches = e->op_count[VL_OP_IFETCH];
	e->snap.modifies = e->op_count[VL_OP_MODIFY];
	e->snap.accesses = e->snap.reads + e->snap.writes + e->snap.ifetches;
	e->snap.processes = e->nrows;
	e->snap.pt_nodes = e->pt.live;
	e->snap.commit_charge = e->commit;
	e->snap.est_cycles = (uint64_t)(vl_engine_cycles(e) + 0.5);
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
	n += xl_counters(&e->xl, names ? names + (n < max ? n : max) : NULL,
			 values ? values + (n < max ? n : max) : NULL, max > n ? max - n : 0);
	/* then the swap cache's, when it is on (sim/swap.c) */
	n += vl_swap_counters(e, names ? names + (n < max ? n : max) : NULL,
			      values ? values + (n < max ? n : max) : NULL, max > n ? max - n : 0);
	/* then `populated`, once the trace populated pages (V POPULATE) */
	if (e->populate_seen) {
		if (n < max && names)
			names[n] = "populated";
		if (n < max && values)
			values[n] = e->populated;
		n++;
	}
	return n;
}

const char *vl_engine_counter_help(const struct vl_engine *e, size_t i)
{
	size_t n = vl_counter_count();
	if (i < n)
		return vl_counter_help(i);
	size_t nt = xl_counters(&e->xl, NULL, NULL, 0);
	if (i < n + nt)
		return xl_counter_help(&e->xl, i - n);
	size_t ns = vl_swap_counters((struct vl_engine *)e, NULL, NULL, 0);
	if (i < n + nt + ns)
		return vl_swap_counter_help(e, i - n - nt);
	return e->populate_seen && i == n + nt + ns
		       ? "pages V POPULATE made present without a fault (Linux's get_user_pages, "
			 "MAP_POPULATE, MADV_POPULATE_*: no page-fault event)"
		       : NULL;
}

void vl_engine_gauges(const struct vl_engine *e, struct vl_gauges *g)
{
	struct vl_gauges full = { .size = sizeof(full) };
	full.resident_pages = e->resident;
	full.free_frames = e->db.nfree;
	full.ws_pages = e->rsm->ws_pages(e);
	full.heap_committed = vl_heap_committed(e);
	sized_out(g, &full, sizeof(full)); /* what the caller's size covers */
}

size_t vl_engine_nprocs(const struct vl_engine *e)
{
	return e->nrows;
}

int vl_engine_proc_counters(const struct vl_engine *e, size_t i, struct vl_proc_counters *out)
{
	if (i >= e->nrows || sized_check(out, sizeof(*out), "struct vl_proc_counters", NULL) < 0)
		return VL_EINVAL;
	struct vl_proc_counters full = { .size = sizeof(full) };
	uint64_t loc = e->row_loc[i];
	if (loc & ROW_LIVE) {
		full = proc_ctr(e, (uint32_t)loc);
	} else { /* exited: decode its record */
		const uint8_t *p = e->plog + loc;
		uint64_t v[PROC_NFIELDS];
		for (unsigned k = 0; k < PROC_NFIELDS; k++)
			v[k] = get_varint(&p);
		full.pid = (uint32_t)v[0];
		full.accesses = v[1];
		full.faults = v[2];
		full.faults_demand_zero = v[3];
		full.faults_soft = v[4];
		full.faults_hard = v[5];
		full.faults_cow = v[6];
		full.access_violations = v[7];
		full.evictions = v[8];
		full.writebacks = v[9];
		full.resident_pages = v[10];
		full.commit_pages = v[11];
		full.heap_allocs = v[12];
		full.heap_frees = v[13];
		full.heap_bytes_peak = v[14];
		full.heap_committed_peak = v[15];
		full.heap_decommits = v[16];
		full.heap_releases = v[17];
		full.heap_errors = v[18];
	}
	sized_out(out, &full, sizeof(full)); /* out->size stays the caller's */
	return 0;
}

