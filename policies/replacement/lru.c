/* policies/replacement/lru.c - exact least recently used.
 *
 * Every access moves the page to the head of one list; the victim is the
 * tail (Mattson et al., "Evaluation techniques for storage hierarchies",
 * IBM Systems Journal 9(2), 1970: LRU is a stack algorithm).  Exact, so it
 * hears every access (VL_REPL_WANTS_ACCESS): O(1) per access.
 */
#include "vmlab/policy.h"

/* The list.  A host that keeps it itself (VL_REPL_ENGINE_LIST: vmlab's
 * global manager) never calls the hooks below, so the arrays are
 * allocated at init but written only from the first on_map: their pages
 * then cost no memory. */
struct lru {
	struct vl_flist l; /* first: r->priv is the list */
	bool ready;        /* l's arrays reset */
};

static int lru_init(struct vl_repl *r, struct vl_error *err)
{
	struct lru *s = calloc(1, sizeof(*s));
	if (!s || vl_flist_alloc(&s->l, r->nframes) < 0) {
		free(s);
		return vl_err(err, VL_ENOMEM, "lru: out of memory for %u frames", r->nframes);
	}
	r->priv = s;
	return 0;
}

static void lru_fini(struct vl_repl *r)
{
	struct lru *s = r->priv;
	vl_flist_free(&s->l);
	free(s);
}

static void lru_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct lru *s = r->priv;
	(void)a;
	if (!s->ready) {
		vl_flist_reset(&s->l, r->nframes);
		s->ready = true;
	}
	vl_flist_push_head(&s->l, f);
}

static void lru_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	(void)a;
	vl_flist_move_head(r->priv, f);
}

static void lru_unmap(struct vl_repl *r, uint32_t f)
{
	vl_flist_del(r->priv, f);
}

static size_t lru_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			  size_t want)
{
	struct vl_flist *l = r->priv;
	size_t n = 0;
	(void)ctx;
	for (uint32_t f = l->tail; f != VL_FLIST_OUT && n < want; f = l->prev[f])
		out[n++] = f;
	return n;
}

const struct vl_repl_ops vl_repl_lru = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "lru",
	.help = "exact least recently used (hears every access)",
	/* r->priv is the list; the engine may keep it instead */
	.flags = VL_REPL_WANTS_ACCESS | VL_REPL_ACCESS_MOVES_HEAD | VL_REPL_ENGINE_LIST,
	.init = lru_init,
	.fini = lru_fini,
	.on_map = lru_map,
	.on_unmap = lru_unmap,
	.on_access = lru_access,
	.select_victims = lru_victims,
};
