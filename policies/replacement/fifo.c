/* policies/replacement/fifo.c - first in, first out.
 *
 * Evicts the page that has been resident longest, whatever its use
 * (Belady, "A study of replacement algorithms for a virtual-storage
 * computer", IBM Systems Journal 5(2), 1966).  Pages enter at the head;
 * the victim is the tail.  Shows Belady's anomaly on 1 2 3 4 1 2 5 1 2 3 4 5.
 */
#include "vmlab/policy.h"

static int fifo_init(struct vl_repl *r, struct vl_error *err)
{
	struct vl_flist *l = malloc(sizeof(*l));
	if (!l || vl_flist_init(l, r->nframes) < 0) {
		free(l);
		return vl_err(err, VL_ENOMEM, "fifo: out of memory for %u frames", r->nframes);
	}
	r->priv = l;
	return 0;
}

static void fifo_fini(struct vl_repl *r)
{
	vl_flist_free(r->priv);
	free(r->priv);
}

static void fifo_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	(void)a;
	vl_flist_push_head(r->priv, f);
}

static void fifo_unmap(struct vl_repl *r, uint32_t f)
{
	vl_flist_del(r->priv, f);
}

static size_t fifo_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			   size_t want)
{
	struct vl_flist *l = r->priv;
	size_t n = 0;
	(void)ctx;
	for (uint32_t f = l->tail; f != VL_FLIST_OUT && n < want; f = l->prev[f])
		out[n++] = f;
	return n;
}

const struct vl_repl_ops vl_repl_fifo = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "fifo",
	.help = "first in, first out: evict the page resident longest",
	.init = fifo_init,
	.fini = fifo_fini,
	.on_map = fifo_map,
	.on_unmap = fifo_unmap,
	.select_victims = fifo_victims,
};
