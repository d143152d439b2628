/* policies/replacement/nru.c - not recently used.
 *
 * Tanenbaum, "Modern Operating Systems" (section 3.4.2).  Each page has a
 * referenced bit R (the PTE's accessed bit) and a modified bit M (the
 * dirty bit); R is cleared periodically, M only by a write-back (here: by
 * eviction).  Pages fall in four classes, 2R + M:
 *   0 not referenced, clean; 1 not referenced, dirty;
 *   2 referenced, clean;     3 referenced, dirty.
 * The victim is a page of the lowest non-empty class.
 *
 * The periodic clearing: every `interval` accesses (0 = as many as there
 * are frames) the R bits of all resident pages are cleared.  It runs
 * lazily, when a victim is chosen after the interval has passed, and
 * after the choice (so the choice sees the references of the whole
 * interval).  Simplification: instead of a random page of the lowest
 * class of all resident pages, the first page of the lowest class among
 * the next `scan` pages under a rotating hand (like CLOCK's, but it does
 * not clear bits) is taken; the scan stops early at a class-0 page.
 * scan = 0 looks at every resident page (exact classes, O(frames) per
 * fault); the default 64 keeps a fault O(1).
 */
#include "vmlab/policy.h"

static const struct vl_key_def nru_params[] = {
	{ "interval", VL_KT_U64, "0", "accesses between clearings of the R bits (0 = frames)", NULL, 0,
	  0, NULL },
	{ "scan", VL_KT_U64, "64", "pages looked at per choice (0 = all resident pages)", NULL, 0, 0,
	  NULL },
};

struct nru {
	struct vl_flist l; /* the hand is the tail; passing a page moves it to the head */
	uint64_t interval, last_clear, scan;
	struct vl_lookahead ahead; /* along the hand's path */
};

static int nru_init(struct vl_repl *r, struct vl_error *err)
{
	struct nru *s = malloc(sizeof(*s));
	if (!s || vl_flist_init(&s->l, r->nframes) < 0) {
		free(s);
		return vl_err(err, VL_ENOMEM, "nru: out of memory for %u frames", r->nframes);
	}
	s->interval = vl_config_u64(r->cfg, "replacement.nru.interval");
	if (s->interval == 0)
		s->interval = r->nframes;
	s->last_clear = 0;
	s->scan = vl_config_u64(r->cfg, "replacement.nru.scan");
	s->ahead = (struct vl_lookahead)VL_LOOKAHEAD_INIT;
	r->priv = s;
	return 0;
}

static void nru_fini(struct vl_repl *r)
{
	struct nru *s = r->priv;
	vl_flist_free(&s->l);
	free(s);
}

static void nru_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct nru *s = r->priv;
	(void)a;
	vl_flist_push_head(&s->l, f);
}

static void nru_unmap(struct vl_repl *r, uint32_t f)
{
	struct nru *s = r->priv;
	vl_flist_del(&s->l, f);
}

static size_t nru_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			  size_t want)
{
	struct nru *s = r->priv;
	(void)want;
	if (s->l.len == 0)
		return 0;
	uint32_t best = VL_FLIST_OUT;
	unsigned best_class = 4;
	uint64_t n = s->scan && s->scan < s->l.len ? s->scan : s->l.len;
	for (uint64_t i = 0; i < n && best_class > 0; i++) {
		uint32_t f = s->l.tail;
		vl_lookahead_flist(r, &s->ahead, &s->l);
		unsigned cls = 2u * vl_repl_referenced(r, f, false) + vl_repl_dirty(r, f);
		if (cls < best_class) {
			best_class = cls;
			best = f;
		}
		vl_flist_move_head(&s->l, f);
	}
	out[0] = best;
	if (ctx && ctx->cause && ctx->cause->time - s->last_clear >= s->interval) {
		/* every page from the head, announced VL_REPL_PREFETCH_AHEAD ahead */
		uint32_t ahead = s->l.head;
		for (uint32_t k = 0; k < VL_REPL_PREFETCH_AHEAD && ahead != VL_FLIST_OUT; k++) {
			vl_repl_prefetch(r, ahead);
			ahead = s->l.next[ahead];
		}
		for (uint32_t f = s->l.head; f != VL_FLIST_OUT; f = s->l.next[f]) {
			if (ahead != VL_FLIST_OUT) {
				vl_repl_prefetch(r, ahead);
				ahead = s->l.next[ahead];
			}
			vl_repl_referenced(r, f, true);
		}
		s->last_clear = ctx->cause->time;
	}
	return 1;
}

const struct vl_repl_ops vl_repl_nru = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "nru",
	.help = "not recently used: lowest class of (referenced, modified), R cleared periodically",
	.params = nru_params,
	.nparams = sizeof(nru_params) / sizeof(nru_params[0]),
	.init = nru_init,
	.fini = nru_fini,
	.on_map = nru_map,
	.on_unmap = nru_unmap,
	.select_victims = nru_victims,
};
