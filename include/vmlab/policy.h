/* vmlab/policy.h - the policy plug-in interface.  A policy author needs
 * nothing else.
 *
 * A replacement policy is a const ops table.  The engine owns frames, page
 * tables and counters; the policy only orders resident frames and picks
 * victims.  Frames are uint32_t indices in [0, nframes).
 *
 * Life of a frame as a policy sees it:
 *
 *   on_map(f, a)      page became resident in frame f because of access a
 *                     (the access counts as a use of the page)
 *   on_access(f, a)   a later access hit the resident page (only for
 *                     policies that set VL_REPL_WANTS_ACCESS; others learn
 *                     about use through the accessed bit, as an OS does)
 *   select_victims()  the engine needs frames: return resident frames
 *   on_unmap(f)       frame f left memory (chosen victim or not): forget it
 *
 * The engine calls on_unmap for every frame it evicts, including those the
 * policy itself returned from select_victims.  Between on_map and on_unmap a
 * frame is "resident"; select_victims must return only resident frames,
 * each at most once per call.
 */
#ifndef VMLAB_POLICY_H
#define VMLAB_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#if defined(__linux__)
#include <sys/mman.h> /* MADV_HUGEPAGE, where the feature macros show it */
#endif

#include "vmlab/api.h"
#include "vmlab/config.h"
#include "vmlab/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The plug-in ABI version.  It covers every struct a plug-in embeds,
 * fills or reads, and what the inline helpers below do with them:
 * vl_access, vl_evict_ctx, vl_mm_services, vl_repl, vl_repl_ops, the
 * containers (vl_flist, vl_pmap and vl_pmap_slot, vl_mlist and vl_mlink,
 * vl_fheap), vl_tlb_repl, vl_tlb_repl_ops, vl_lp_fault, vl_lp_services,
 * vl_lp, vl_lp_ops, vl_plugin, and vl_key_def (vmlab/config.h) for
 * parameters.  It is bumped whenever any of them changes shape or an
 * inline helper changes what it computes; the host refuses a plug-in
 * built for another version (its descriptor's api_version and each ops
 * table's).  No compiler-specific type appears in any of them.
 *   2: struct vl_plugin lists TLB and large-page policies
 *   3: vl_tlb_repl_ops.flags (VL_TLB_REPL_LRU); vl_rand_below without
 *      __int128 (same values); later, with no bump (no shape changed, and
 *      a host that does not know the flag calls the hooks as before):
 *      VL_REPL_ENGINE_LIST, vl_flist_alloc and vl_flist_reset
 *   4: vl_pmap_home takes the hash product's top bits (fewer collisions;
 *      the same keys and values, in other slots)
 *   5: prefetch hints: vl_repl_ops.will_fault (VL_REPL_HINT_FAULT),
 *      vl_repl.hit_hint and hit_hint_stride
 *   6: vl_mm_services.prefetch (vl_repl_prefetch, struct vl_lookahead):
 *      scans announce the frames they will ask about.  Only a service was
 *      added at the end of a struct the engine fills, so plug-ins built
 *      for 5 still load (VL_POLICY_API_MIN) */
#define VL_POLICY_API_VERSION 6
/* The oldest policy API version whose plug-ins this vmlab loads. */
#define VL_POLICY_API_MIN 5

#define VL_NEVER UINT64_MAX /* next_use of a page never accessed again */

/* The access being replayed. */
struct vl_access {
	uint64_t vpn;      /* virtual page number (addr >> 12) */
	uint64_t time;     /* index of this access among all accesses, from 0 */
	uint64_t next_use; /* VL_REPL_NEEDS_FUTURE only: time of the next access
			    * to the same page of the same process, or VL_NEVER */
	uint32_t pid;
	uint8_t op;        /* enum vl_op */
};

/* Why frames are wanted. */
struct vl_evict_ctx {
	const struct vl_access *cause; /* the faulting access; NULL for background trims */
	uint32_t pid;                  /* restrict to this process's frames; 0 = any */
};

/* Engine services a policy may call (never needed on the hit path). */
struct vl_mm_services {
	/* Was the page in frame f referenced (accessed bit set) since the last
	 * clear?  With clear, also clear the bit (and drop the translation from
	 * the TLBs, as an OS must).  f must be resident. */
	bool (*referenced)(void *ctx, uint32_t f, bool clear);
	/* Is the page in frame f dirty? */
	bool (*dirty)(void *ctx, uint32_t f);
	/* Owning process id and virtual page of resident frame f. */
	uint32_t (*owner)(void *ctx, uint32_t f, uint64_t *vpn);
	/* The policy did something the engine counts (enum vl_repl_event).
	 * May be NULL: nothing is counted. */
	void (*event)(void *ctx, unsigned what);
	/* API 6: a hint that referenced() or dirty() of resident frame f will
	 * be asked soon: the engine starts loading what they read (the
	 * frame's record, then its page-table entry), so that a scan over
	 * many frames waits for several such loads at once instead of one
	 * after another.  Announce each frame once, VL_REPL_PREFETCH_AHEAD
	 * frames before asking about it.  Changes nothing else; any frame
	 * number is accepted (a wrong one costs a useless load). */
	void (*prefetch)(void *ctx, uint32_t f);
};

/* What a policy reports through vl_repl_event, for the engine's counters. */
enum vl_repl_event {
	/* a page coming back into memory was put with the pages in use
	 * (refault detection, mm/workingset.c): refault_activations */
	VL_REPL_EV_REFAULT_ACTIVATION = 0,
};

struct vl_repl_ops;

/* A policy instance. */
struct vl_repl {
	const struct vl_repl_ops *ops;
	void *priv;                        /* policy state, owned by the policy */
	uint32_t nframes;                  /* frame ids are < nframes */
	uint64_t seed;                     /* run seed, for randomized policies */
	const struct vl_config *cfg;       /* parameters: replacement.<name>.* */
	const struct vl_mm_services *mm;
	void *mm_ctx;
	/* Prefetch hint for hits, set by init (the engine sets it NULL
	 * first): a few accesses before a hit on resident frame f, the
	 * engine may start loading the byte at (char *)hit_hint + f *
	 * hit_hint_stride (the policy's per-frame record that its on_access
	 * reads), with no call.  A hint only: nothing the policy computes
	 * may depend on it.  Hosts without a look-ahead ignore it. */
	const void *hit_hint;
	size_t hit_hint_stride;
};

enum vl_repl_flags {
	VL_REPL_WANTS_ACCESS = 1u << 0, /* call on_access on every hit */
	VL_REPL_NEEDS_FUTURE = 1u << 1, /* fill vl_access.next_use (pre-pass over the trace) */
	/* With VL_REPL_WANTS_ACCESS: on_access(f) does nothing but
	 * vl_flist_move_head on the struct vl_flist that r->priv points at, so
	 * the engine may do that itself, without a call per access. */
	VL_REPL_ACCESS_MOVES_HEAD = 1u << 2,
	/* The policy is one list of its resident frames, which the engine may
	 * keep itself: on_map puts f at the head, on_unmap takes it out,
	 * on_access (with VL_REPL_WANTS_ACCESS, which then needs
	 * VL_REPL_ACCESS_MOVES_HEAD too) moves it to the head, select_victims
	 * returns frames from the tail, victim first.  A host that keeps the
	 * list (vmlab's global resident-set manager does, in its frame
	 * records, with no per-frame memory and no call) calls none of those
	 * four hooks, so the policy should touch no per-frame state before
	 * its first on_map; the hooks must still work for hosts that do not
	 * (a working set's own instance, tests). */
	VL_REPL_ENGINE_LIST = 1u << 3,
	/* The host may call will_fault (a prefetch hint, see there); an ops
	 * table with this flag and no will_fault is refused. */
	VL_REPL_HINT_FAULT = 1u << 4,
};

struct vl_repl_ops {
	unsigned api_version;  /* VL_POLICY_API_VERSION */
	const char *name;      /* config name: replacement.policy = name */
	const char *help;      /* one line for `vmlab policies` */
	unsigned flags;        /* enum vl_repl_flags */
	/* Parameters, declared as keys relative to replacement.<name>. */
	const struct vl_key_def *params;
	size_t nparams;

	/* Allocate state for r->nframes frames into r->priv.  Return 0, or a
	 * negative VL_E* code with err filled (nothing to free then).  init
	 * may set r->ops to another table of the same name and api_version
	 * (a variant chosen by a parameter, with its own flags and hooks); the
	 * engine calls that table's hooks, fini included, from then on.  A
	 * table of another name or version, or missing a hook it needs, fails
	 * the engine's creation (VL_ESTATE), after that table's fini. */
	int (*init)(struct vl_repl *r, struct vl_error *err);
	/* Free r->priv.  May be NULL. */
	void (*fini)(struct vl_repl *r);
	void (*on_map)(struct vl_repl *r, uint32_t f, const struct vl_access *a);
	void (*on_unmap)(struct vl_repl *r, uint32_t f);
	/* Only with VL_REPL_WANTS_ACCESS; may be NULL otherwise. */
	void (*on_access)(struct vl_repl *r, uint32_t f, const struct vl_access *a);
	/* Write up to want (>= 1) resident frames to out, best victim first.
	 * Return how many were written; 0 only when nothing is resident. */
	size_t (*select_victims)(struct vl_repl *r, const struct vl_evict_ctx *ctx,
				 uint32_t *out, size_t want);
	/* Only with VL_REPL_HINT_FAULT; may be NULL otherwise.  A hint: an
	 * access of process pid to page vpn, not resident now, comes a few
	 * accesses from now and will likely fault (the engine's access loop
	 * reads records ahead), so the policy may start loading what its
	 * select_victims and on_map will read for that page (its ghost-map
	 * slot: vl_pmap_prefetch, __builtin_prefetch).  It must change
	 * nothing that any result depends on: hosts call it for some
	 * faults, not all (only where they look ahead, a page may be
	 * hinted and then not fault, or fault unhinted), never for others. */
	void (*will_fault)(struct vl_repl *r, uint32_t pid, uint64_t vpn);
};

static inline bool vl_repl_referenced(struct vl_repl *r, uint32_t f, bool clear)
{
	return r->mm->referenced(r->mm_ctx, f, clear);
}

/* How far ahead of its questions a scan announces frames (prefetch). */
#define VL_REPL_PREFETCH_AHEAD 32

static inline void vl_repl_prefetch(struct vl_repl *r, uint32_t f)
{
	r->mm->prefetch(r->mm_ctx, f);
}

static inline bool vl_repl_dirty(struct vl_repl *r, uint32_t f)
{
	return r->mm->dirty(r->mm_ctx, f);
}

/* Deterministic 64-bit PRNG (splitmix64 step) for randomized policies. */
static inline uint64_t vl_rand_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The high 64 bits of the 128-bit product a * b, from 32-bit halves (no
 * 128-bit type needed): a*b = hh 2^64 + (hl + lh) 2^32 + ll, and the middle
 * sum plus the carry out of ll cannot overflow 64 bits. */
static inline uint64_t vl_mul_hi64(uint64_t a, uint64_t b)
{
	uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
	uint64_t ll = al * bl, hl = ah * bl, lh = al * bh, hh = ah * bh;
	uint64_t mid = (ll >> 32) + (uint32_t)hl + lh;
	return hh + (hl >> 32) + (mid >> 32);
}

/* Uniform value in [0, n), n > 0 (Lemire's multiply-shift; bias < 2^-32). */
static inline uint64_t vl_rand_below(uint64_t *state, uint64_t n)
{
	return vl_mul_hi64(vl_rand_next(state), n);
}

/* For a helper whose only effect is a prefetch: inlined first.  GCC 12's
 * mod-ref analysis takes such a function for one without effects and
 * deletes the calls to it that are not inlined yet (vl_pmap_prefetch
 * compiled to nothing there until 0.8.3). */
#if defined(__GNUC__) || defined(__clang__)
#define VL_PREFETCH_INLINE static inline __attribute__((always_inline))
#else
#define VL_PREFETCH_INLINE static inline
#endif

/* Start loading the cache line holding p (a hint; nothing where the
 * compiler offers no prefetch). */
VL_PREFETCH_INLINE void vl_prefetch(const void *p)
{
#if defined(__GNUC__) || defined(__clang__)
	__builtin_prefetch(p);
#else
	(void)p;
#endif
}

/* Memory for a large array read at random (per-frame links, ghost maps,
 * heaps): from 1 MiB up, whole 2 MiB blocks advised for transparent huge
 * pages (MADV_HUGEPAGE, a hint that changes no result), so that the reads
 * do not each miss the TLB; smaller ones, and hosts or compilations
 * without MADV_HUGEPAGE, from malloc.  Contents uninitialised; free with
 * free().  NULL when out of memory. */
static inline void *vl_alloc_big(size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
	const size_t huge = (size_t)2 << 20;
	if (bytes >= huge / 2 && bytes <= SIZE_MAX - huge) {
		size_t sz = (bytes + huge - 1) & ~(huge - 1);
		void *p = NULL;
		if (posix_memalign(&p, huge, sz) != 0)
			return NULL;
		madvise(p, sz, MADV_HUGEPAGE); /* failure changes nothing */
		return p;
	}
#endif
	return malloc(bytes);
}

/* ---- frame lists: the building block of most policies ----
 *
 * A doubly linked list of frames threaded through two arrays indexed by
 * frame (no pointers, no allocation after init).  A frame is on at most one
 * list of a given vl_flist; membership is O(1) (vl_flist_has).  head is the
 * most recently pushed end by convention of the push_head users. */
#define VL_FLIST_OUT UINT32_MAX

struct vl_flist {
	uint32_t *next, *prev;
	uint32_t head, tail; /* VL_FLIST_OUT when empty */
	uint32_t len;
};

/* Allocate for frames [0, nframes), writing nothing into the arrays (so
 * their pages stay untouched until vl_flist_reset); the list is empty and
 * must be reset before its first use.  Returns 0 or VL_ENOMEM (nothing to
 * free then). */
static inline int vl_flist_alloc(struct vl_flist *l, uint32_t nframes)
{
	l->next = (uint32_t *)vl_alloc_big((size_t)nframes * sizeof(uint32_t));
	l->prev = (uint32_t *)vl_alloc_big((size_t)nframes * sizeof(uint32_t));
	if (!l->next || !l->prev) {
		free(l->next);
		free(l->prev);
		l->next = l->prev = NULL;
		return VL_ENOMEM;
	}
	l->head = l->tail = VL_FLIST_OUT;
	l->len = 0;
	return 0;
}

/* Empty the list: all frames [0, nframes) off it. */
static inline void vl_flist_reset(struct vl_flist *l, uint32_t nframes)
{
	for (uint32_t i = 0; i < nframes; i++)
		l->next[i] = l->prev[i] = VL_FLIST_OUT - 1; /* "not on the list" */
	l->head = l->tail = VL_FLIST_OUT;
	l->len = 0;
}

/* Allocate for frames [0, nframes); all frames start off the list.
 * Returns 0 or VL_ENOMEM (list left empty, nothing to free). */
static inline int vl_flist_init(struct vl_flist *l, uint32_t nframes)
{
	if (vl_flist_alloc(l, nframes) < 0)
		return VL_ENOMEM;
	vl_flist_reset(l, nframes);
	return 0;
}

static inline void vl_flist_free(struct vl_flist *l)
{
	free(l->next);
	free(l->prev);
	l->next = l->prev = NULL;
}

static inline bool vl_flist_has(const struct vl_flist *l, uint32_t f)
{
	return l->prev[f] != VL_FLIST_OUT - 1;
}

/* (The list operations read head and the arrays into locals once: a
 * store through next[] or prev[] could otherwise be taken to change them,
 * and each would be loaded again after it.) */
static inline void vl_flist_push_head(struct vl_flist *l, uint32_t f)
{
	uint32_t *next = l->next, *prev = l->prev, h = l->head;
	prev[f] = VL_FLIST_OUT;
	next[f] = h;
	if (h != VL_FLIST_OUT)
		prev[h] = f;
	else
		l->tail = f;
	l->head = f;
	l->len++;
}

static inline void vl_flist_push_tail(struct vl_flist *l, uint32_t f)
{
	uint32_t *next = l->next, *prev = l->prev, t = l->tail;
	next[f] = VL_FLIST_OUT;
	prev[f] = t;
	if (t != VL_FLIST_OUT)
		next[t] = f;
	else
		l->head = f;
	l->tail = f;
	l->len++;
}

/* Remove f, which must be on the list. */
static inline void vl_flist_del(struct vl_flist *l, uint32_t f)
{
	uint32_t *next = l->next, *prev = l->prev;
	uint32_t n = next[f], p = prev[f];
	if (p != VL_FLIST_OUT)
		next[p] = n;
	else
		l->head = n;
	if (n != VL_FLIST_OUT)
		prev[n] = p;
	else
		l->tail = p;
	next[f] = prev[f] = VL_FLIST_OUT - 1;
	l->len--;
}

/* f, which must be on the list, to its head: vl_flist_del then
 * vl_flist_push_head, in one pass (the same links after). */
static inline void vl_flist_move_head(struct vl_flist *l, uint32_t f)
{
	uint32_t h = l->head;
	if (h == f)
		return;
	/* f is on the list and not its head: it has a prev, and h is a frame */
	uint32_t *next = l->next, *prev = l->prev;
	uint32_t n = next[f], p = prev[f];
	next[p] = n;
	if (n != VL_FLIST_OUT)
		prev[n] = p;
	else
		l->tail = p;
	prev[f] = VL_FLIST_OUT;
	next[f] = h;
	prev[h] = f;
	l->head = f;
}

/* Tell the engine of event `what` (enum vl_repl_event). */
static inline void vl_repl_event(struct vl_repl *r, unsigned what)
{
	if (r->mm->event)
		r->mm->event(r->mm_ctx, what);
}

/* Owning process id and virtual page of resident frame f (the page's
 * identity, for policies that remember pages after eviction). */
static inline uint32_t vl_repl_owner(struct vl_repl *r, uint32_t f, uint64_t *vpn)
{
	return r->mm->owner(r->mm_ctx, f, vpn);
}

/* ---- page maps: (pid, vpn) -> 32-bit value, for ghost history ----
 *
 * Policies that remember evicted pages (ARC's B1/B2, 2Q's A1out, LIRS's
 * non-resident HIR blocks, ...) must key them by page identity, not by
 * frame: a frame is reused for another page at once.  A vl_pmap is an
 * open-addressing hash table (linear probing, backward-shift deletion, so
 * no tombstones) of fixed capacity chosen at init: at most max_entries
 * keys, table at most half full.  Nothing is allocated after init, so it
 * may be used on the hit path.  Values are the policy's own ids (ghost
 * slots); VL_PMAP_NONE means "absent" and cannot be stored. */
#define VL_PMAP_NONE UINT32_MAX

struct vl_pmap_slot { /* one cache-line-friendly probe */
	uint64_t vpn;
	uint32_t pid;
	uint32_t val; /* VL_PMAP_NONE = empty slot */
};

struct vl_pmap {
	struct vl_pmap_slot *slot;
	uint32_t mask;      /* slots - 1 */
	uint32_t n, max;    /* keys held, capacity */
};

/* Allocate room for max_entries keys.  Returns 0 or VL_ENOMEM (map left
 * empty; vl_pmap_free is still safe). */
static inline int vl_pmap_init(struct vl_pmap *m, uint32_t max_entries)
{
	size_t slots = 16;
	while (slots < 2 * (size_t)max_entries + 2)
		slots <<= 1;
	m->slot = (struct vl_pmap_slot *)vl_alloc_big(slots * sizeof(struct vl_pmap_slot));
	m->n = 0;
	m->max = m->slot ? max_entries : 0;
	m->mask = (uint32_t)(slots - 1);
	if (!m->slot)
		return VL_ENOMEM;
	for (size_t i = 0; i < slots; i++)
		m->slot[i].val = VL_PMAP_NONE;
	return 0;
}

static inline void vl_pmap_free(struct vl_pmap *m)
{
	free(m->slot);
	m->slot = NULL;
}

static inline uint32_t vl_pmap_home(const struct vl_pmap *m, uint32_t pid, uint64_t vpn)
{
	uint64_t h = (vpn ^ ((uint64_t)pid << 40) ^ ((uint64_t)pid >> 24)) * 0x9e3779b97f4a7c15ull;
	/* the product's top bits (its best mixed): h >> (64 - log2(slots)) */
	return (uint32_t)(((h >> 32) * ((uint64_t)m->mask + 1)) >> 32);
}

/* Start loading the slot where (pid, vpn) would be (a hint: select_victims
 * knows the faulting page before on_map looks it up). */
VL_PREFETCH_INLINE void vl_pmap_prefetch(const struct vl_pmap *m, uint32_t pid, uint64_t vpn)
{
#if defined(__GNUC__) || defined(__clang__)
	__builtin_prefetch(&m->slot[vl_pmap_home(m, pid, vpn)]);
#else
	(void)m, (void)pid, (void)vpn;
#endif
}

/* Value stored for (pid, vpn), or VL_PMAP_NONE. */
static inline uint32_t vl_pmap_get(const struct vl_pmap *m, uint32_t pid, uint64_t vpn)
{
	for (uint32_t s = vl_pmap_home(m, pid, vpn);; s = (s + 1) & m->mask) {
		const struct vl_pmap_slot *e = &m->slot[s];
		if (e->val == VL_PMAP_NONE)
			return VL_PMAP_NONE;
		if (e->vpn == vpn && e->pid == pid)
			return e->val;
	}
}

/* Store val for (pid, vpn), replacing any value.  Returns 0, or VL_ELIMIT
 * when the key is new and the map already holds max_entries keys (the map
 * is unchanged then). */
static inline int vl_pmap_put(struct vl_pmap *m, uint32_t pid, uint64_t vpn, uint32_t val)
{
	uint32_t s = vl_pmap_home(m, pid, vpn);
	for (; m->slot[s].val != VL_PMAP_NONE; s = (s + 1) & m->mask) {
		if (m->slot[s].vpn == vpn && m->slot[s].pid == pid) {
			m->slot[s].val = val;
			return 0;
		}
	}
	if (m->n == m->max)
		return VL_ELIMIT;
	m->slot[s].vpn = vpn;
	m->slot[s].pid = pid;
	m->slot[s].val = val;
	m->n++;
	return 0;
}

/* Remove (pid, vpn); returns the value it held, or VL_PMAP_NONE. */
static inline uint32_t vl_pmap_del(struct vl_pmap *m, uint32_t pid, uint64_t vpn)
{
	uint32_t s = vl_pmap_home(m, pid, vpn);
	for (;; s = (s + 1) & m->mask) {
		if (m->slot[s].val == VL_PMAP_NONE)
			return VL_PMAP_NONE;
		if (m->slot[s].vpn == vpn && m->slot[s].pid == pid)
			break;
	}
	uint32_t old = m->slot[s].val;
	/* Backward shift: pull later members of the probe run into the hole
	 * when their home slot does not lie (cyclically) in (hole, j]. */
	uint32_t hole = s;
	for (uint32_t j = (s + 1) & m->mask; m->slot[j].val != VL_PMAP_NONE; j = (j + 1) & m->mask) {
		uint32_t home = vl_pmap_home(m, m->slot[j].pid, m->slot[j].vpn);
		if (((j - home) & m->mask) >= ((j - hole) & m->mask)) {
			m->slot[hole] = m->slot[j];
			hole = j;
		}
	}
	m->slot[hole].val = VL_PMAP_NONE;
	m->n--;
	return old;
}

/* ---- multi-lists: several frame lists sharing one link array ----
 *
 * An id (frame, or ghost slot) < n is on at most one of nlists lists at a
 * time; vl_mlist_which() says which (VL_FLIST_OUT: none).  Used for
 * generations, age buckets, ARC's lists and the like.  Links of one id
 * sit together (one cache line per id touched).  Same conventions as
 * vl_flist: push_head puts an id at the head, the tail is the oldest;
 * link[id].prev leads toward the head. */
struct vl_mlink {
	uint32_t next, prev, which;
};

struct vl_mlist {
	struct vl_mlink *link;
	uint32_t *head, *tail, *len; /* per list */
	uint32_t nlists;
};

/* Returns 0 or VL_ENOMEM (nothing to free then; vl_mlist_free is safe). */
static inline int vl_mlist_init(struct vl_mlist *l, uint32_t n, uint32_t nlists)
{
	l->link = (struct vl_mlink *)vl_alloc_big(((size_t)n + 1) * sizeof(struct vl_mlink));
	l->head = (uint32_t *)malloc((size_t)nlists * sizeof(uint32_t));
	l->tail = (uint32_t *)malloc((size_t)nlists * sizeof(uint32_t));
	l->len = (uint32_t *)malloc((size_t)nlists * sizeof(uint32_t));
	l->nlists = nlists;
	if (!l->link || !l->head || !l->tail || !l->len) {
		free(l->link);
		free(l->head);
		free(l->tail);
		free(l->len);
		l->link = NULL;
		l->head = l->tail = l->len = NULL;
		return VL_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		l->link[i].which = VL_FLIST_OUT;
	for (uint32_t k = 0; k < nlists; k++) {
		l->head[k] = l->tail[k] = VL_FLIST_OUT;
		l->len[k] = 0;
	}
	return 0;
}

static inline void vl_mlist_free(struct vl_mlist *l)
{
	free(l->link);
	free(l->head);
	free(l->tail);
	free(l->len);
	l->link = NULL;
	l->head = l->tail = l->len = NULL;
}

/* The list id f is on, or VL_FLIST_OUT. */
static inline uint32_t vl_mlist_which(const struct vl_mlist *l, uint32_t f)
{
	return l->link[f].which;
}

/* (The list operations read the struct's pointers into locals once: a
 * store through link[] could otherwise be taken to change them, and each
 * would be loaded again after it.) */
static inline void vl_mlist_push_head(struct vl_mlist *l, uint32_t k, uint32_t f)
{
	struct vl_mlink *link = l->link;
	uint32_t *head = l->head, h = head[k];
	struct vl_mlink *x = &link[f];
	x->which = k;
	x->prev = VL_FLIST_OUT;
	x->next = h;
	if (h != VL_FLIST_OUT)
		link[h].prev = f;
	else
		l->tail[k] = f;
	head[k] = f;
	l->len[k]++;
}

static inline void vl_mlist_push_tail(struct vl_mlist *l, uint32_t k, uint32_t f)
{
	struct vl_mlink *link = l->link;
	uint32_t *tail = l->tail, t = tail[k];
	struct vl_mlink *x = &link[f];
	x->which = k;
	x->next = VL_FLIST_OUT;
	x->prev = t;
	if (t != VL_FLIST_OUT)
		link[t].next = f;
	else
		l->head[k] = f;
	tail[k] = f;
	l->len[k]++;
}

/* Remove f from whichever list holds it (no-op when on none). */
static inline void vl_mlist_del(struct vl_mlist *l, uint32_t f)
{
	struct vl_mlink *link = l->link;
	struct vl_mlink *x = &link[f];
	uint32_t k = x->which, p = x->prev, n = x->next;
	if (k == VL_FLIST_OUT)
		return;
	if (p != VL_FLIST_OUT)
		link[p].next = n;
	else
		l->head[k] = n;
	if (n != VL_FLIST_OUT)
		link[n].prev = p;
	else
		l->tail[k] = p;
	x->which = VL_FLIST_OUT;
	l->len[k]--;
}

/* ---- announcing a scan's frames (vl_repl_prefetch) ----
 *
 * A policy that asks referenced() or dirty() of many frames in a row, in
 * the order of one of its lists from the tail (a clock hand, an aging
 * pass, a trim), waits for a cache miss on each frame's page-table entry
 * unless it announces the frames ahead.  A lookahead does it: call its
 * step once for every frame the scan takes from the tail of a list (or,
 * walking from the tail towards the head, passes), and it announces the
 * frames VL_REPL_PREFETCH_AHEAD ahead of the scan.  It
 * keeps its place between calls while the scan goes on where it stopped
 * (the frames it passed left the tail: evicted, or moved elsewhere) and
 * starts again from the tail when the list changed under it.  Hints only:
 * what the policy decides does not depend on them. */
struct vl_lookahead {
	uint32_t f;    /* the next frame to announce, VL_FLIST_OUT at the list's head */
	uint32_t list; /* the list it runs along, VL_FLIST_OUT: none yet */
	uint32_t idle; /* steps since it reached the head */
};
#define VL_LOOKAHEAD_INIT { VL_FLIST_OUT, VL_FLIST_OUT, 0 }

/* Forget the place (the lists were reordered, an aging pass). */
static inline void vl_lookahead_reset(struct vl_lookahead *a)
{
	a->list = VL_FLIST_OUT;
}

/* The scan takes a frame from the tail of list k of l. */
static inline void vl_lookahead_mlist(struct vl_repl *r, struct vl_lookahead *a,
				      const struct vl_mlist *l, uint32_t k)
{
	uint32_t n = 1;
	if (a->list != k ||
	    (a->f != VL_FLIST_OUT ? vl_mlist_which(l, a->f) != k
				  : ++a->idle >= VL_REPL_PREFETCH_AHEAD)) {
		a->list = k;
		a->f = l->tail[k];
		a->idle = 0;
		n = VL_REPL_PREFETCH_AHEAD;
	}
	for (; n && a->f != VL_FLIST_OUT; n--) {
		vl_repl_prefetch(r, a->f);
		a->f = l->link[a->f].prev;
	}
	if (a->f != VL_FLIST_OUT) /* the next step's link (a list in frame order is rare) */
		vl_prefetch(&l->link[a->f]);
}

/* The scan takes a frame from the tail of l (list 0 for the place). */
static inline void vl_lookahead_flist(struct vl_repl *r, struct vl_lookahead *a,
				      const struct vl_flist *l)
{
	uint32_t n = 1;
	if (a->list != 0 ||
	    (a->f != VL_FLIST_OUT ? !vl_flist_has(l, a->f)
				  : ++a->idle >= VL_REPL_PREFETCH_AHEAD)) {
		a->list = 0;
		a->f = l->tail;
		a->idle = 0;
		n = VL_REPL_PREFETCH_AHEAD;
	}
	for (; n && a->f != VL_FLIST_OUT; n--) {
		vl_repl_prefetch(r, a->f);
		a->f = l->prev[a->f];
	}
	if (a->f != VL_FLIST_OUT)
		vl_prefetch(&l->prev[a->f]);
}

/* ---- TLB in-set replacement (policies/tlb/) ----
 *
 * A TLB level (or a page-walk cache) is sets x ways of translations.  The
 * engine owns tags and lookups; the policy only orders the ways of a set
 * and picks the way to refill.  Life of a way as a policy sees it:
 *
 *   insert(set, way)  a new translation was written into way (after the
 *                     engine used an invalid way or the one victim() chose)
 *   touch(set, way)   a lookup hit way
 *   victim(set)       every way of set is valid: which one to replace?
 *
 * Hits are on the engine's fastest path, so touches are delivered lazily:
 * the engine stamps each hit and, before the next insert or victim call on
 * that set, calls touch once for every way hit since, in order of last
 * use.  A policy must therefore depend only on the order of the last uses
 * between fills; LRU, tree pseudo-LRU and SRRIP hit promotion do (a later
 * touch of a way overrides what an earlier one of the same way did), and
 * FIFO and random ignore hits (touch may be NULL).  Invalid ways are
 * always filled first, without asking the policy. */
struct vl_tlb_repl_ops;

struct vl_tlb_repl {
	const struct vl_tlb_repl_ops *ops;
	void *priv;            /* policy state, owned by the policy */
	uint32_t sets, ways;   /* sets is a power of two; ways >= 1 */
	uint64_t seed;         /* run seed mixed with the structure's name */
};

enum vl_tlb_repl_flags {
	/* victim(set) is always the least recently used way of the set (the
	 * oldest insert or touch), ties impossible.  The engine may then keep
	 * the recency order itself, from its own use stamps (and, in sets of
	 * more than 8 ways, a recency list), and not call insert, touch or
	 * victim at all; init and fini are still called.  True LRU only: the
	 * built-in lru sets it, and a test checks the hooks give the same
	 * answers without it. */
	VL_TLB_REPL_LRU = 1u << 0,
};

struct vl_tlb_repl_ops {
	unsigned api_version;  /* VL_POLICY_API_VERSION */
	const char *name;      /* config name: tlb.NAME.replacement = name */
	const char *help;      /* one line */
	unsigned flags;        /* enum vl_tlb_repl_flags */
	/* Allocate state for t->sets x t->ways into t->priv.  Return 0 or a
	 * negative VL_E* code with err filled (nothing to free then). */
	int (*init)(struct vl_tlb_repl *t, struct vl_error *err);
	void (*fini)(struct vl_tlb_repl *t);      /* may be NULL */
	void (*insert)(struct vl_tlb_repl *t, uint32_t set, uint32_t way);
	void (*touch)(struct vl_tlb_repl *t, uint32_t set, uint32_t way); /* may be NULL */
	uint32_t (*victim)(struct vl_tlb_repl *t, uint32_t set);           /* < ways */
};

/* Register a TLB replacement policy; find one by name (NULL when unknown);
 * the i-th (NULL past the end).  Returns as vl_repl_register. */
VL_API int vl_tlb_repl_register(const struct vl_tlb_repl_ops *ops, struct vl_error *err);
VL_API const struct vl_tlb_repl_ops *vl_tlb_repl_find(const char *name);
VL_API const struct vl_tlb_repl_ops *vl_tlb_repl_at(size_t i);

/* ---- large-page policies (policies/largepage/) ----
 *
 * At a first touch of a page whose aligned 2 MiB (1 GiB) range has no page
 * table below it yet, the engine asks the policy which page size to map.
 * The engine then tries the buddy allocator for a block of that size and
 * falls back to the next smaller size when none is free (counted in
 * large_page_fallbacks), unless the policy said VL_LP_NOFALLBACK.
 * Policies that act later (promotion, reservations) get tick() every
 * largepage.interval accesses and act through the services below. */
enum vl_lp_size { VL_LP_4K = 0, VL_LP_2M = 1, VL_LP_1G = 2 };

enum vl_lp_flags {
	VL_LP_NOFALLBACK = 1u << 4, /* or-ed into fault_size's answer: fail the access instead */
	VL_LP_PINNED = 1u << 5,     /* or-ed in: the large page is non-pageable (Windows
				     * MEM_LARGE_PAGES): never given to the replacement policy */
	VL_LP_RESERVE = 1u << 6,    /* or-ed into VL_LP_2M: reserve the 2 MiB block but map
				     * only this 4 KiB page in it; promote in place once all
				     * 512 are mapped; break the reservation under pressure */
};

struct vl_lp_fault {
	uint64_t vpn;       /* faulting 4 KiB page */
	uint32_t pid;
	uint8_t op;
	bool can_1g;        /* the aligned 1 GiB range is untouched (no page table below) */
};

/* Engine services for policies that act after the fault. */
struct vl_lp_services {
	/* Visit every process's 2 MiB ranges mapped by 4 KiB pages: fn gets
	 * the process index, the range's first vpn and how many of its 512
	 * pages are resident / paged out. */
	void (*each_range)(void *ctx, void (*fn)(void *arg, uint32_t proc, uint64_t vpn,
						  uint32_t resident, uint32_t paged_out),
			   void *arg);
	/* Collapse that range into one 2 MiB page (copying the resident pages,
	 * zero-filling the rest).  Returns 0, or VL_ENOMEM when no free 2 MiB
	 * block exists, or VL_EINVAL when the range cannot be collapsed. */
	int (*collapse)(void *ctx, uint32_t proc, uint64_t vpn);
};

struct vl_lp_ops;

struct vl_lp {
	const struct vl_lp_ops *ops;
	void *priv;
	const struct vl_config *cfg;   /* parameters: largepage.<name>.* */
	const struct vl_lp_services *mm;
	void *mm_ctx;
};

struct vl_lp_ops {
	unsigned api_version;  /* VL_POLICY_API_VERSION */
	const char *name;      /* largepage.policy = name */
	const char *help;
	const struct vl_key_def *params; /* keys relative to largepage.<name> */
	size_t nparams;
	int (*init)(struct vl_lp *lp, struct vl_error *err);   /* may be NULL */
	void (*fini)(struct vl_lp *lp);                        /* may be NULL */
	/* Page size for this first touch: enum vl_lp_size, optionally or-ed
	 * with enum vl_lp_flags. */
	unsigned (*fault_size)(struct vl_lp *lp, const struct vl_lp_fault *f);
	void (*tick)(struct vl_lp *lp);                        /* may be NULL */
};

/* Register a large-page policy; find one by name; the i-th.  As above. */
VL_API int vl_lp_register(const struct vl_lp_ops *ops, struct vl_error *err);
VL_API const struct vl_lp_ops *vl_lp_find(const char *name);
VL_API const struct vl_lp_ops *vl_lp_at(size_t i);

/* ---- an indexed min-heap of frames ----
 *
 * Frames ordered by two keys per frame, smaller (k1, then k2) first: the
 * root is the best victim.  Each frame's heap position is kept, so a frame
 * whose keys change is re-placed in O(log n) and any frame can leave.  The
 * caller sets k1[f] and k2[f] before push and before update.  No
 * allocation after init. */
struct vl_fheap {
	uint32_t *heap, *pos; /* heap[i] = frame; pos[frame] = i */
	uint64_t *k1, *k2;    /* per frame */
	uint32_t n;
};

/* Allocate for frames [0, nframes).  Returns 0 or VL_ENOMEM (nothing to free). */
static inline int vl_fheap_init(struct vl_fheap *h, uint32_t nframes)
{
	h->heap = (uint32_t *)vl_alloc_big((size_t)nframes * sizeof(uint32_t));
	h->pos = (uint32_t *)vl_alloc_big((size_t)nframes * sizeof(uint32_t));
	h->k1 = (uint64_t *)vl_alloc_big((size_t)nframes * sizeof(uint64_t));
	h->k2 = (uint64_t *)vl_alloc_big((size_t)nframes * sizeof(uint64_t));
	h->n = 0;
	if (!h->heap || !h->pos || !h->k1 || !h->k2) {
		free(h->heap);
		free(h->pos);
		free(h->k1);
		free(h->k2);
		return VL_ENOMEM;
	}
	return 0;
}

static inline void vl_fheap_free(struct vl_fheap *h)
{
	free(h->heap);
	free(h->pos);
	free(h->k1);
	free(h->k2);
}

static inline bool vl_fheap_less(const struct vl_fheap *h, uint32_t a, uint32_t b)
{
	return h->k1[a] != h->k1[b] ? h->k1[a] < h->k1[b] : h->k2[a] < h->k2[b];
}

static inline void vl_fheap_place(struct vl_fheap *h, uint32_t i, uint32_t f)
{
	h->heap[i] = f;
	h->pos[f] = i;
}

static inline void vl_fheap_up(struct vl_fheap *h, uint32_t i)
{
	uint32_t f = h->heap[i];
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!vl_fheap_less(h, f, h->heap[p]))
			break;
		vl_fheap_place(h, i, h->heap[p]);
		i = p;
	}
	vl_fheap_place(h, i, f);
}

static inline void vl_fheap_down(struct vl_fheap *h, uint32_t i)
{
	uint32_t f = h->heap[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && vl_fheap_less(h, h->heap[c + 1], h->heap[c]))
			c++;
		if (!vl_fheap_less(h, h->heap[c], f))
			break;
		vl_fheap_place(h, i, h->heap[c]);
		i = c;
	}
	vl_fheap_place(h, i, f);
}

/* Add frame f (its keys set). */
static inline void vl_fheap_push(struct vl_fheap *h, uint32_t f)
{
	vl_fheap_place(h, h->n++, f);
	vl_fheap_up(h, h->n - 1);
}

/* Re-place frame f after its keys changed (either way). */
static inline void vl_fheap_update(struct vl_fheap *h, uint32_t f)
{
	vl_fheap_up(h, h->pos[f]);
	vl_fheap_down(h, h->pos[f]);
}

/* Remove frame f, which must be in the heap. */
static inline void vl_fheap_del(struct vl_fheap *h, uint32_t f)
{
	uint32_t i = h->pos[f];
	if (i == --h->n)
		return;
	uint32_t g = h->heap[h->n];
	vl_fheap_place(h, i, g);
	vl_fheap_update(h, g);
}

/* Restore heap order after many keys changed: O(n). */
static inline void vl_fheap_rebuild(struct vl_fheap *h)
{
	for (uint32_t i = h->n / 2; i-- > 0;)
		vl_fheap_down(h, i);
}

/* ---- registry ---- */

/* Each kind of policy (replacement here, TLB and large-page above) is
 * looked up by name among the built-ins, in the order the policies layer
 * lists them (policies/builtin.c), then the registered ones in order of
 * registration.
 *
 * Register a replacement policy.  Returns 0, VL_EVERSION (api_version
 * mismatch), VL_EINVAL (a required hook missing, name taken) or VL_ELIMIT
 * (too many); the registry is unchanged on failure. */
VL_API int vl_repl_register(const struct vl_repl_ops *ops, struct vl_error *err);

/* Find a policy by name; NULL when unknown. */
VL_API const struct vl_repl_ops *vl_repl_find(const char *name);

/* The i-th registered policy (registration order), NULL past the end. */
VL_API const struct vl_repl_ops *vl_repl_at(size_t i);

/* A plug-in shared object exports one symbol, VL_PLUGIN_SYMBOL, of this
 * type: the host checks api_version and registers the listed policies.
 * (The built-in policies are one such descriptor too, linked in.) */
struct vl_plugin {
	unsigned api_version;                   /* VL_POLICY_API_VERSION */
	const char *name;                       /* for messages */
	const struct vl_repl_ops *const *repl;  /* NULL-terminated list, or NULL */
	const struct vl_tlb_repl_ops *const *tlb; /* TLB in-set policies, NULL-terminated, or NULL */
	const struct vl_lp_ops *const *lp;      /* large-page policies, NULL-terminated, or NULL */
};
#define VL_PLUGIN_SYMBOL "vl_plugin"
/* For a plug-in compiled with -fvisibility=hidden: keeps its descriptor
 * visible (VL_PLUGIN_EXPORT const struct vl_plugin vl_plugin = { ... };). */
#define VL_PLUGIN_EXPORT VL_API

/* Host side: dlopen the shared object at path (a name without '/' is
 * ./NAME when that file exists, else dlopen searches the library path),
 * check its vl_plugin descriptor and register its policies; an object
 * already registered is not registered again (returns 0).  Call before
 * building a configuration, so that their parameters are declared.  Returns 0;
 * VL_ENOENT (cannot load), VL_EINVAL (no descriptor, empty, or a name
 * already taken) or VL_EVERSION (built for another API version), with err
 * naming the file; nothing is registered then. */
VL_API int vl_plugin_load(const char *path, struct vl_error *err);

#ifdef __cplusplus
}
#endif

#endif
