/* policies/replacement/lfu.c - least frequently used.
 *
 * The classic frequency policy (e.g. Coffman and Denning, "Operating
 * Systems Theory", 1973, ch. 7; Tanenbaum, "Modern Operating Systems",
 * NFU/LFU).  Evict the resident page with the fewest references since it
 * was loaded ("in-cache" LFU: a page's count starts at 1 when it is loaded
 * and is forgotten when it leaves).  Ties go to the least recently used
 * page, so the order is total and the result does not depend on frame
 * numbers.
 *
 * Counting needs every hit (VL_REPL_WANTS_ACCESS).  State: a binary
 * min-heap of resident frames keyed on (count, last use) with each
 * frame's heap position; a hit only raises its page's key, so it sifts
 * down: O(log frames) per hit, no allocation.
 */
#include "vmlab/policy.h"

struct lfu {
	uint32_t *heap, *pos;
	uint64_t *count, *last;
	uint32_t n;
};

static inline bool less(const struct lfu *o, uint32_t a, uint32_t b)
{
	if (o->count[a] != o->count[b])
		return o->count[a] < o->count[b];
	return o->last[a] < o->last[b];
}

static inline void place(struct lfu *o, uint32_t i, uint32_t f)
{
	o->heap[i] = f;
	o->pos[f] = i;
}

static void sift_up(struct lfu *o, uint32_t i)
{
	uint32_t f = o->heap[i];
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!less(o, f, o->heap[p]))
			break;
		place(o, i, o->heap[p]);
		i = p;
	}
	place(o, i, f);
}

static void sift_down(struct lfu *o, uint32_t i)
{
	uint32_t f = o->heap[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= o->n)
			break;
		if (c + 1 < o->n && less(o, o->heap[c + 1], o->heap[c]))
			c++;
		if (!less(o, o->heap[c], f))
			break;
		place(o, i, o->heap[c]);
		i = c;
	}
	place(o, i, f);
}

static void lfu_free(struct lfu *o)
{
	free(o->heap);
	free(o->pos);
	free(o->count);
	free(o->last);
	free(o);
}

static int lfu_init(struct vl_repl *r, struct vl_error *err)
{
	struct lfu *o = calloc(1, sizeof(*o));
	if (o) {
		o->heap = malloc((size_t)r->nframes * sizeof(*o->heap));
		o->pos = malloc((size_t)r->nframes * sizeof(*o->pos));
		o->count = malloc((size_t)r->nframes * sizeof(*o->count));
		o->last = malloc((size_t)r->nframes * sizeof(*o->last));
	}
	if (!o || !o->heap || !o->pos || !o->count || !o->last) {
		if (o)
			lfu_free(o);
		return vl_err(err, VL_ENOMEM, "lfu: out of memory for %u frames", r->nframes);
	}
	r->priv = o;
	return 0;
}

static void lfu_fini(struct vl_repl *r)
{
	lfu_free(r->priv);
}

static void lfu_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct lfu *o = r->priv;
	o->count[f] = 1;
	o->last[f] = a->time;
	place(o, o->n++, f);
	sift_up(o, o->n - 1);
}

static void lfu_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct lfu *o = r->priv;
	o->count[f]++;
	o->last[f] = a->time;
	sift_down(o, o->pos[f]);
}

static void lfu_unmap(struct vl_repl *r, uint32_t f)
{
	struct lfu *o = r->priv;
	uint32_t i = o->pos[f];
	o->n--;
	if (i == o->n)
		return;
	uint32_t g = o->heap[o->n];
	place(o, i, g);
	sift_up(o, i);
	sift_down(o, o->pos[g]);
}

static size_t lfu_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			  size_t want)
{
	struct lfu *o = r->priv;
	(void)ctx;
	(void)want;
	if (o->n == 0)
		return 0;
	out[0] = o->heap[0];
	return 1;
}

const struct vl_repl_ops vl_repl_lfu = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "lfu",
	.help = "least frequently used since load, ties to the least recent (hears every access)",
	.flags = VL_REPL_WANTS_ACCESS,
	.init = lfu_init,
	.fini = lfu_fini,
	.on_map = lfu_map,
	.on_unmap = lfu_unmap,
	.on_access = lfu_access,
	.select_victims = lfu_victims,
};
