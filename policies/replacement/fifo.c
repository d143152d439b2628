/* policies/replacement/fifo.c - first in, first out.
 *
 * Evicts the page that has been resident longest, whatever its use
 * (Belady, "A study of replacement algorithms for a virtual-storage
 * computer", IBM Systems Journal 5(2), 1966).  Pages enter at the head;
 * the victim is the tail.  Shows Belady's anomaly on 1 2 3 4 1 2 5 1 2 3 4 5.
 */
#include "vmlab/policy.h"

/* The list.  A host that keeps it itself (VL_REPL_ENGINE_LIST: vmlab's
 * global manager) never calls the hooks below, so the arrays are
 * allocated at init but written only from the first on_map: their pages
 * then cost no memory. */
struct fifo {
	struct vl_flist l; /* first: r->priv is the list */
	bool ready;        /* l's arrays reset */
};

static int fifo_init(struct vl_repl *r, struct vl_error *err)
{
	struct fifo *s = calloc(1, sizeof(*s));
	if (!s || vl_flist_alloc(&s->l, r->nframes) < 0) {
		free(s);
		return vl_err(err, VL_ENOMEM, "fifo: out of memory for %u frames", r->nframes);
	}
	r->priv = s;
	return 0;
}

static void fifo_fini(struct vl_repl *r)
{
	struct fifo *s = r->priv;
	vl_flist_free(&s->l);
	free(s);
}

static void fifo_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct fifo *s = r->priv;
	(void)a;
	if (!s->ready) {
		vl_flist_reset(&s->l, r->nframes);
		s->ready = true;
	}
	vl_flist_push_head(&s->l, f);
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
	.flags = VL_REPL_ENGINE_LIST, /* the engine may keep the list */
	.init = fifo_init,
	.fini = fifo_fini,
	.on_map = fifo_map,
	.on_unmap = fifo_unmap,
	.select_victims = fifo_victims,
};
