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
 * Counting needs every hit (VL_REPL_WANTS_ACCESS).  State: the indexed
 * frame heap of policy.h keyed on (count, last use); a hit only raises its
 * page's key, so it sifts down: O(log frames) per hit, no allocation.
 */
#include "vmlab/policy.h"

static int lfu_init(struct vl_repl *r, struct vl_error *err)
{
	struct vl_fheap *h = malloc(sizeof(*h));
	if (!h || vl_fheap_init(h, r->nframes) < 0) {
		free(h);
		return vl_err(err, VL_ENOMEM, "lfu: out of memory for %u frames", r->nframes);
	}
	r->priv = h;
	return 0;
}

static void lfu_fini(struct vl_repl *r)
{
	vl_fheap_free(r->priv);
	free(r->priv);
}

static void lfu_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct vl_fheap *h = r->priv;
	h->k1[f] = 1;       /* references since load */
	h->k2[f] = a->time; /* last use */
	vl_fheap_push(h, f);
}

static void lfu_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct vl_fheap *h = r->priv;
	h->k1[f]++;
	h->k2[f] = a->time;
	vl_fheap_down(h, h->pos[f]); /* the key only grew */
}

static void lfu_unmap(struct vl_repl *r, uint32_t f)
{
	vl_fheap_del(r->priv, f);
}

static size_t lfu_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			  size_t want)
{
	struct vl_fheap *h = r->priv;
	(void)ctx;
	(void)want;
	if (h->n == 0)
		return 0;
	out[0] = h->heap[0];
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
