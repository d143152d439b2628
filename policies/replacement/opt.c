/* policies/replacement/opt.c - Belady's MIN (optimal replacement).
 *
 * Belady, "A study of replacement algorithms for a virtual-storage
 * computer", IBM Systems Journal 5(2), 1966; Mattson et al. 1970 prove it
 * optimal for fault count.  Evict the resident page whose next use lies
 * furthest in the future.  It needs the future: the engine runs a pre-pass
 * over the trace (VL_REPL_NEEDS_FUTURE) and hands each access its next-use
 * time.
 *
 * Ties: only pages never used again can tie (every access time belongs to
 * one page).  Among those, the page whose last use is oldest goes first
 * (LRU among the dead).  The fault count does not depend on this rule; the
 * write-back count does, so it is fixed and documented.
 *
 * State: a binary min-heap of resident frames keyed on (VL_NEVER -
 * next_use, last use): the root is the page used furthest in the future,
 * the least recently used among those never used again.  It is the
 * indexed frame heap of policy.h (vl_fheap) step for step, so it picks the
 * same victim even among pages that tie on both keys (the frames of one
 * large page), but each heap slot carries its keys, packed into one
 * 64-bit key of the same order (struct opt_slot), beside its frame: a
 * sift compares keys it has in hand instead of loading them from
 * per-frame arrays, one cache line per level.  Updates are O(log n).
 */
#include "vmlab/policy.h"

/* A heap slot: the frame and one 64-bit key ordered as the pair (k1, k2)
 * = (VL_NEVER - next use, last use) is, lexicographically (16 bytes, four
 * to a cache line, where the pair took 24):
 *
 *   next use VL_NEVER (k1 = 0):            key = last use
 *   next use 0, no future (k1 = VL_NEVER): key = 2^63 + last use
 *   otherwise (0 < k1 < VL_NEVER):         key = 2^63 - 1 - next use
 *
 * Times are below 2^62, so the three ranges are disjoint and in k1's
 * order.  Within the first and second, k1 ties and the key is k2's order;
 * within the third, the key is k1's order, and two frames with the same
 * next use have the same last use too (a time's access is to one page,
 * so they are frames of one page, heard at the same accesses): the
 * pair's comparisons and the key's agree on every pair of slots, and the
 * heap makes the moves it made with the pair. */
struct opt_slot {
	uint64_t key;
	uint32_t f;
};

static inline uint64_t opt_key(uint64_t next_use, uint64_t last_use)
{
	if (next_use == VL_NEVER)
		return last_use;
	if (next_use == 0)
		return (1ull << 63) + last_use;
	return (1ull << 63) - 1 - next_use;
}

struct opt {
	/* heap = mem + 1: logical slot i at mem[i + 1], so that the two
	 * children of a slot (2i + 1 and 2i + 2, at mem[2i + 2] and
	 * mem[2i + 3]) start at an even index and share a cache line */
	struct opt_slot *mem, *heap;
	uint32_t *pos; /* frame -> heap index */
	uint32_t n;
};

static int opt_init(struct vl_repl *r, struct vl_error *err)
{
	struct opt *h = malloc(sizeof(*h));
	if (h) {
		h->mem = vl_alloc_big(((size_t)r->nframes + 2) * sizeof(*h->mem));
		h->heap = h->mem + 1;
		h->pos = vl_alloc_big(((size_t)r->nframes + 1) * sizeof(*h->pos));
		h->n = 0;
	}
	if (!h || !h->mem || !h->pos) {
		if (h) {
			free(h->mem);
			free(h->pos);
		}
		free(h);
		return vl_err(err, VL_ENOMEM, "opt: out of memory for %u frames", r->nframes);
	}
	r->priv = h;
	return 0;
}

static void opt_fini(struct vl_repl *r)
{
	struct opt *h = r->priv;
	free(h->mem);
	free(h->pos);
	free(h);
}

static inline bool less(const struct opt_slot *a, const struct opt_slot *b)
{
	return a->key < b->key;
}

static inline void place(struct opt *h, uint32_t i, const struct opt_slot *x)
{
	h->heap[i] = *x;
	h->pos[x->f] = i;
}

static inline void up(struct opt *h, uint32_t i)
{
	struct opt_slot x = h->heap[i];
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!less(&x, &h->heap[p]))
			break;
		place(h, i, &h->heap[p]);
		i = p;
	}
	place(h, i, &x);
}

static inline void down(struct opt *h, uint32_t i)
{
	struct opt_slot x = h->heap[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && less(&h->heap[c + 1], &h->heap[c]))
			c++;
		if (!less(&h->heap[c], &x))
			break;
		place(h, i, &h->heap[c]);
		i = c;
	}
	place(h, i, &x);
}

/* down() for a slot that came from the bottom (the last leaf moved into a
 * hole): walk the path of smaller children to a leaf, one comparison a
 * level, then climb back to where the slot belongs.  The path is sorted,
 * so the slot lands where down() puts it, ties included: below every
 * path slot less than it, above every other (Floyd's heapsort trick). */
static inline void down_from_bottom(struct opt *h, uint32_t i)
{
	struct opt_slot x = h->heap[i];
	uint32_t top = i;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && less(&h->heap[c + 1], &h->heap[c]))
			c++;
		place(h, i, &h->heap[c]);
		i = c;
	}
	while (i > top) {
		uint32_t p = (i - 1) / 2;
		if (less(&h->heap[p], &x))
			break;
		place(h, i, &h->heap[p]);
		i = p;
	}
	place(h, i, &x);
}

static void opt_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct opt *h = r->priv;
	struct opt_slot x = { opt_key(a->next_use, a->time), f };
	place(h, h->n++, &x);
	up(h, h->n - 1);
}

static void opt_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct opt *h = r->priv;
	uint32_t i = h->pos[f];
	h->heap[i].key = opt_key(a->next_use, a->time); /* furthest next use first,
							   * then least recently used */
	/* up() then down(), as vl_fheap_update; a slot that rises has
	 * nothing below it to pass, so down() is asked only when it did not */
	if (i > 0 && less(&h->heap[i], &h->heap[(i - 1) / 2]))
		up(h, i);
	else
		down(h, i);
}

static void opt_unmap(struct vl_repl *r, uint32_t f)
{
	struct opt *h = r->priv;
	uint32_t i = h->pos[f];
	if (i == --h->n)
		return;
	place(h, i, &h->heap[h->n]);
	/* up() then down(), as vl_fheap_del: a slot that rises stays there
	 * (the slot it rose past, and so its subtree, is not less than it) */
	if (i > 0 && less(&h->heap[i], &h->heap[(i - 1) / 2]))
		up(h, i);
	else
		down_from_bottom(h, i);
}

static size_t opt_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			  size_t want)
{
	struct opt *h = r->priv;
	(void)ctx;
	(void)want; /* the root only: textbook runs ask for one */
	if (h->n == 0)
		return 0;
	out[0] = h->heap[0].f;
	return 1;
}

const struct vl_repl_ops vl_repl_opt = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "opt",
	.help = "Belady's MIN: evict the page used furthest in the future (pre-pass)",
	.flags = VL_REPL_WANTS_ACCESS | VL_REPL_NEEDS_FUTURE,
	.init = opt_init,
	.fini = opt_fini,
	.on_map = opt_map,
	.on_unmap = opt_unmap,
	.on_access = opt_access,
	.select_victims = opt_victims,
};
