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
 * State: the indexed frame heap of policy.h keyed on (VL_NEVER - next_use,
 * last use): the root is the page used furthest in the future, the least
 * recently used among those never used again.  Updates are O(log n).
 */
#include "vmlab/policy.h"

static int opt_init(struct vl_repl *r, struct vl_error *err)
{
	struct vl_fheap *h = malloc(sizeof(*h));
	if (!h || vl_fheap_init(h, r->nframes) < 0) {
		free(h);
		return vl_err(err, VL_ENOMEM, "opt: out of memory for %u frames", r->nframes);
	}
	r->priv = h;
	return 0;
}

static void opt_fini(struct vl_repl *r)
{
	vl_fheap_free(r->priv);
	free(r->priv);
}

static void keys(struct vl_fheap *h, uint32_t f, const struct vl_access *a)
{
	h->k1[f] = VL_NEVER - a->next_use; /* furthest next use first */
	h->k2[f] = a->time;                /* then least recently used */
}

static void opt_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	keys(r->priv, f, a);
	vl_fheap_push(r->priv, f);
}

static void opt_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	keys(r->priv, f, a);
	vl_fheap_update(r->priv, f);
}

static void opt_unmap(struct vl_repl *r, uint32_t f)
{
	vl_fheap_del(r->priv, f);
}

static size_t opt_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			  size_t want)
{
	struct vl_fheap *h = r->priv;
	(void)ctx;
	(void)want; /* the root only: textbook runs ask for one */
	if (h->n == 0)
		return 0;
	out[0] = h->heap[0];
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
