/* mru.c - an out-of-tree replacement policy for vmlab: most recently used.
 *
 * MRU evicts the page used most recently (Chou and DeWitt, "An Evaluation
 * of Buffer Management Strategies for Relational Database Systems", VLDB
 * 1985: the right choice for a loop larger than memory, where LRU faults
 * on every reference).  The parameter replacement.mru.depth generalises it:
 * evict the page at that depth from the most recent end (0 = MRU).
 *
 * Build against installed vmlab headers and load it:
 *   make VMLAB_PREFIX=/usr/local
 *   vmlab run --plugin ./mru.so -s replacement.policy=mru TRACE
 * docs/writing-a-policy.md walks through this file.
 */
#include <vmlab/policy.h>

static const struct vl_key_def mru_params[] = {
	{ "depth", VL_KT_U64, "0", "evict the page this far from the most recent (0 = MRU)", NULL, 0,
	  1000000, NULL },
};

struct mru {
	struct vl_flist l; /* head = most recently used */
	uint64_t depth;
};

static int mru_init(struct vl_repl *r, struct vl_error *err)
{
	struct mru *s = malloc(sizeof(*s));
	if (!s || vl_flist_init(&s->l, r->nframes) < 0) {
		free(s);
		return vl_err(err, VL_ENOMEM, "mru: out of memory for %u frames", r->nframes);
	}
	s->depth = vl_config_u64(r->cfg, "replacement.mru.depth");
	r->priv = s;
	return 0;
}

static void mru_fini(struct vl_repl *r)
{
	struct mru *s = r->priv;
	vl_flist_free(&s->l);
	free(s);
}

/* The faulting access is a use: the page goes to the most recent end. */
static void mru_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct mru *s = r->priv;
	(void)a;
	vl_flist_push_head(&s->l, f);
}

static void mru_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct mru *s = r->priv;
	(void)a;
	vl_flist_move_head(&s->l, f);
}

static void mru_unmap(struct vl_repl *r, uint32_t f)
{
	struct mru *s = r->priv;
	vl_flist_del(&s->l, f);
}

static size_t mru_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			  size_t want)
{
	struct mru *s = r->priv;
	(void)ctx;
	(void)want;
	if (s->l.len == 0)
		return 0;
	uint32_t f = s->l.head;
	for (uint64_t d = 0; d < s->depth && s->l.next[f] != VL_FLIST_OUT; d++)
		f = s->l.next[f];
	out[0] = f;
	return 1;
}

static const struct vl_repl_ops mru_ops = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "mru",
	.help = "most recently used (example plug-in; replacement.mru.depth generalises it)",
	.flags = VL_REPL_WANTS_ACCESS,
	.params = mru_params,
	.nparams = sizeof(mru_params) / sizeof(mru_params[0]),
	.init = mru_init,
	.fini = mru_fini,
	.on_map = mru_map,
	.on_unmap = mru_unmap,
	.on_access = mru_access,
	.select_victims = mru_victims,
};

static const struct vl_repl_ops *const mru_list[] = { &mru_ops, NULL };

const struct vl_plugin vl_plugin = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "mru example",
	.repl = mru_list,
};
