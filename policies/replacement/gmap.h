/* policies/replacement/gmap.h - the ghost map of the policies with ghosts.
 *
 * (pid, vpn) -> ghost id, for arc, car and clock-pro: vl_pmap's open
 * addressing (linear probing, backward-shift deletion) with 8-byte slots
 * instead of 16: a 32-bit hash of the page and the ghost id.  The page
 * itself is in the ghost's record, kept by the policy, which the map
 * compares through the policy's `same` (inlined: every caller passes a
 * static function) when the hashes match; the home slot is a function of
 * the hash alone, so a deletion finds each later slot's home without its
 * record, and a probe that misses touches no record.  At most a quarter
 * full (vl_pmap: half): the probe runs' lengths are random, and each
 * run's end is a mispredicted branch; a quarter-full map has shorter runs
 * (on the bench's Zipf trace a tenth fewer mispredicted branches in
 * callgrind's model, about 6 % less CPU time for arc) for twice its
 * memory (4 MiB instead of 2 at the bench's 98,139 frames;
 * docs/benchmarks.md, "The single run's chunk" and "The ghost map
 * shared").  Where the map puts a page changes no result: ghost ids come
 * from the policies' own pools.
 */
#ifndef VMLAB_POLICIES_GMAP_H
#define VMLAB_POLICIES_GMAP_H

#include "vmlab/policy.h"

struct gslot {
	uint32_t hash, g; /* g = VL_PMAP_NONE: empty */
};

struct gmap {
	struct gslot *slot;
	uint32_t mask; /* slots - 1 */
};

/* A ghost's page, for the policies that keep it apart from the ghost's
 * links (car, clock-pro): both halves in one cache line. */
struct gkey {
	uint64_t vpn;
	uint32_t pid;
};

/* The lookups are inlined with the policy's `same`, a constant at every
 * call: through a call, each probe that meets a matching hash would pay
 * one (arc: 11 % slower on the bench's Zipf trace). */
#if defined(__GNUC__) || defined(__clang__)
#define GMAP_INLINE static inline __attribute__((always_inline))
#else
#define GMAP_INLINE static inline
#endif

/* Is ghost g's page (pid, vpn)?  From the policy's record of g. */
typedef bool (*gmap_same_fn)(const void *owner, uint32_t g, uint32_t pid, uint64_t vpn);

/* gmap_same_fn for a policy that keeps its ghosts' pages in an array of
 * struct gkey indexed by ghost id: owner is that array. */
static inline bool gkey_same(const void *owner, uint32_t g, uint32_t pid, uint64_t vpn)
{
	const struct gkey *k = (const struct gkey *)owner + g;
	return k->vpn == vpn && k->pid == pid;
}

static inline int gmap_init(struct gmap *m, uint32_t max_entries)
{
	size_t slots = 16;
	while (slots < 4 * (size_t)max_entries + 4)
		slots <<= 1;
	m->slot = vl_alloc_big(slots * sizeof(*m->slot));
	m->mask = (uint32_t)(slots - 1);
	if (!m->slot)
		return VL_ENOMEM;
	for (size_t i = 0; i < slots; i++)
		m->slot[i].g = VL_PMAP_NONE;
	return 0;
}

static inline void gmap_free(struct gmap *m)
{
	free(m->slot);
	m->slot = NULL;
}

static inline uint32_t gmap_hash(uint32_t pid, uint64_t vpn)
{
	uint64_t h = (vpn ^ ((uint64_t)pid << 40) ^ ((uint64_t)pid >> 24)) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32);
}

static inline uint32_t gmap_home(const struct gmap *m, uint32_t hash)
{
	return (uint32_t)(((uint64_t)hash * ((uint64_t)m->mask + 1)) >> 32);
}

/* Start loading the slot where a lookup of (pid, vpn) begins (a hint). */
VL_PREFETCH_INLINE void gmap_prefetch(const struct gmap *m, uint32_t pid, uint64_t vpn)
{
	vl_prefetch(&m->slot[gmap_home(m, gmap_hash(pid, vpn))]);
}

/* The slot holding (pid, vpn) (hash hv), or the empty slot ending its
 * probe run. */
GMAP_INLINE uint32_t gmap_find(const struct gmap *m, uint32_t hv, uint32_t pid, uint64_t vpn,
				 gmap_same_fn same, const void *owner)
{
	for (uint32_t i = gmap_home(m, hv);; i = (i + 1) & m->mask) {
		const struct gslot *e = &m->slot[i];
		if (e->g == VL_PMAP_NONE)
			return i;
		if (e->hash == hv && same(owner, e->g, pid, vpn))
			return i;
	}
}

/* Ghost id of (pid, vpn), or VL_PMAP_NONE. */
GMAP_INLINE uint32_t gmap_get(const struct gmap *m, uint32_t pid, uint64_t vpn,
				gmap_same_fn same, const void *owner)
{
	return m->slot[gmap_find(m, gmap_hash(pid, vpn), pid, vpn, same, owner)].g;
}

/* (pid, vpn) -> g, replacing any id it had.  g's record may hold the page
 * already; the map has room while it holds at most max_entries. */
GMAP_INLINE void gmap_put(struct gmap *m, uint32_t pid, uint64_t vpn, uint32_t g,
			    gmap_same_fn same, const void *owner)
{
	uint32_t hv = gmap_hash(pid, vpn);
	struct gslot *e = &m->slot[gmap_find(m, hv, pid, vpn, same, owner)];
	e->hash = hv;
	e->g = g;
}

/* Remove ghost g, whose page is (pid, vpn), if there: found by its id, so
 * no record is read (vl_pmap_del's backward shift). */
static inline void gmap_del(struct gmap *m, uint32_t pid, uint64_t vpn, uint32_t g)
{
	uint32_t hv = gmap_hash(pid, vpn), hole = gmap_home(m, hv);
	for (;; hole = (hole + 1) & m->mask) {
		if (m->slot[hole].g == VL_PMAP_NONE)
			return;
		if (m->slot[hole].g == g && m->slot[hole].hash == hv)
			break;
	}
	for (uint32_t j = (hole + 1) & m->mask; m->slot[j].g != VL_PMAP_NONE; j = (j + 1) & m->mask) {
		uint32_t home = gmap_home(m, m->slot[j].hash);
		if (((j - home) & m->mask) >= ((j - hole) & m->mask)) {
			m->slot[hole] = m->slot[j];
			hole = j;
		}
	}
	m->slot[hole].g = VL_PMAP_NONE;
}

#endif
