/* sim/heap_util.h - what the heap models share (sim/heap_nt.c,
 * heap_segment.c, heap_glibc.c): an ordered map, sets of address ranges
 * and the page arithmetic of committing and decommitting through
 * struct vl_heap_os.
 *
 * Host memory stays proportional to what is mapped: one node per live
 * block, per free range, per committed range.  Every lookup is O(log n)
 * (a treap whose priorities are a hash of the key, so the shape, and with
 * it everything the models decide, is deterministic).
 */
#ifndef VMLAB_SIM_HEAP_UTIL_H
#define VMLAB_SIM_HEAP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "heap.h"

#define VL_HEAP_PAGE 4096u
/* Larger requests (or alignments) fail as if the OS refused: 2^46 bytes
 * is past any user address space the personalities model, and keeps every
 * sum of sizes, headers and alignments far from overflowing. */
#define VL_HEAP_MAX_REQUEST (1ull << 46)

static inline uint64_t vl_hup(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }
static inline uint64_t vl_hdown(uint64_t x, uint64_t a) { return x & ~(a - 1); }

/* ---- ordered map keyed by (k1, k2), two values per entry ---- */

struct vl_hnode {
	uint64_t k1, k2; /* key, ordered by k1 then k2 */
	uint64_t v, w;   /* the owner's values */
	struct vl_hnode *l, *r;
	uint32_t prio;
};

struct vl_hmap {
	struct vl_hnode *root;
	size_t n;
};

/* Insert a key that is absent.  Returns the node, or NULL when out of host
 * memory (the map unchanged). */
struct vl_hnode *vl_hmap_put(struct vl_hmap *m, uint64_t k1, uint64_t k2, uint64_t v, uint64_t w);
/* The node with exactly this key, or NULL. */
struct vl_hnode *vl_hmap_get(const struct vl_hmap *m, uint64_t k1, uint64_t k2);
/* Remove a key that is present. */
void vl_hmap_del(struct vl_hmap *m, uint64_t k1, uint64_t k2);
/* The smallest key >= (k1, k2), or NULL. */
struct vl_hnode *vl_hmap_ceil(const struct vl_hmap *m, uint64_t k1, uint64_t k2);
/* The largest key <= (k1, k2), or NULL. */
struct vl_hnode *vl_hmap_floor(const struct vl_hmap *m, uint64_t k1, uint64_t k2);
/* Free every node. */
void vl_hmap_clear(struct vl_hmap *m);

/* ---- a set of disjoint address ranges ----
 * Adjacent ranges merge on insertion.  With sized set, a second index by
 * (length, address) answers best fit: the shortest range that is long
 * enough, the lowest address among equals. */
struct vl_hranges {
	struct vl_hmap by_addr; /* k1 = start, v = length */
	struct vl_hmap by_len;  /* k1 = length, k2 = start (only when sized) */
	int sized;
	uint64_t bytes; /* total length */
};

/* Add [a, a + len), disjoint from the set, merging with neighbours; *ma and
 * *mlen (may be NULL) receive the merged range.  -1 when out of host memory. */
int vl_hranges_add(struct vl_hranges *s, uint64_t a, uint64_t len, uint64_t *ma, uint64_t *mlen);
/* Remove [a, a + len), which lies inside one range of the set. -1: no memory. */
int vl_hranges_take(struct vl_hranges *s, uint64_t a, uint64_t len);
/* The range containing addr (start <= addr < end), or NULL (node: k1 start, v length). */
struct vl_hnode *vl_hranges_at(const struct vl_hranges *s, uint64_t addr);
/* The range starting exactly at a, or NULL. */
struct vl_hnode *vl_hranges_starting(const struct vl_hranges *s, uint64_t a);
/* Best fit (sized sets): the shortest range of length >= len, lowest address
 * among equals; NULL when none (node of by_len: k1 length, k2 start). */
struct vl_hnode *vl_hranges_best(const struct vl_hranges *s, uint64_t len);
void vl_hranges_clear(struct vl_hranges *s);

/* ---- commit bookkeeping ----
 * The committed pages of a model, a range set.  vl_hcommit makes every page
 * of [lo, hi) (page-aligned, inside one reservation) committed, calling
 * os->commit once per uncommitted gap; if the OS refuses one, what this call
 * committed is decommitted again and -1 returned (nothing changed).
 * vl_hdecommit decommits every committed page of [lo, hi), once per
 * committed piece. */
int vl_hcommit(const struct vl_heap_os *os, struct vl_hranges *c, uint64_t lo, uint64_t hi);
void vl_hdecommit(const struct vl_heap_os *os, struct vl_hranges *c, uint64_t lo, uint64_t hi);

/* The models (one file each), listed in sim/heap_models.c. */
extern const struct vl_heap_model_ops vl_heap_nt, vl_heap_segment, vl_heap_glibc;

#endif
