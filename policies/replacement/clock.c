/* policies/replacement/clock.c - CLOCK (second chance).
 *
 * Corbato, "A paging experiment with the Multics system", 1968.  Resident
 * pages sit on a circle in load order with a hand at the oldest.  The hand
 * looks at the page's accessed bit (the PTE's A bit, set by the engine as
 * the hardware would): if set, clear it and move on (the page gets a second
 * chance); if clear, that page is the victim.  A page's reference bit is
 * set when it is loaded, because the faulting access sets A.
 *
 * The circle is a list: the hand is the tail, "moving past" a page is
 * moving it to the head, new pages enter at the head (just behind the hand).
 * The policy never hears hits; it reads the accessed bits, as an OS does.
 *
 * variant = clear: a page enters with its bit clear (on_map clears the bit
 * the faulting access set), as in caching simulators: libCacheSim's Clock
 * (libCacheSim/cache/eviction/Clock.c, one-bit counter, commit aa0fc40 of
 * 2024-10-07): insert at the head with freq 0, a hit sets freq 1, the
 * eviction takes the tail, moving pages with freq 1 to the head with 0.
 */
#include <string.h>

#include "vmlab/policy.h"

static const struct vl_key_def clock_params[] = {
	{ "variant", VL_KT_ENUM, "set",
	  "set: a page's reference bit is set by the access that loads it (the hardware's A bit); "
	  "clear: pages enter with it clear (libCacheSim's Clock)",
	  "set|clear", 0, 0, NULL },
};

static const struct vl_repl_ops clock_clear_ops;

static int clock_init(struct vl_repl *r, struct vl_error *err)
{
	struct vl_flist *l = malloc(sizeof(*l));
	if (!l || vl_flist_init(l, r->nframes) < 0) {
		free(l);
		return vl_err(err, VL_ENOMEM, "clock: out of memory for %u frames", r->nframes);
	}
	r->priv = l;
	if (!strcmp(vl_config_str(r->cfg, "replacement.clock.variant"), "clear"))
		r->ops = &clock_clear_ops;
	return 0;
}

static void clock_fini(struct vl_repl *r)
{
	vl_flist_free(r->priv);
	free(r->priv);
}

static void clock_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	(void)a;
	vl_flist_push_head(r->priv, f);
}

static void clock_map_clear(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	(void)a;
	vl_repl_referenced(r, f, true); /* enters with its bit clear */
	vl_flist_push_head(r->priv, f);
}

static void clock_unmap(struct vl_repl *r, uint32_t f)
{
	vl_flist_del(r->priv, f);
}

static size_t clock_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			    size_t want)
{
	struct vl_flist *l = r->priv;
	size_t n = 0;
	(void)ctx;
	if (want > l->len)
		want = l->len;
	/* Chosen victims move to the head with their bit clear; they stay on
	 * the circle until the engine unmaps them.  Each lap clears every bit,
	 * so the hand stops within two laps. */
	while (n < want) {
		uint32_t f = l->tail;
		bool chosen = false;
		for (size_t i = 0; i < n && !chosen; i++)
			chosen = out[i] == f;
		if (!chosen && !vl_repl_referenced(r, f, true))
			out[n++] = f;
		vl_flist_move_head(l, f);
	}
	return n;
}

const struct vl_repl_ops vl_repl_clock = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "clock",
	.help = "CLOCK / second chance over the accessed bits",
	.params = clock_params,
	.nparams = sizeof(clock_params) / sizeof(clock_params[0]),
	.init = clock_init,
	.fini = clock_fini,
	.on_map = clock_map,
	.on_unmap = clock_unmap,
	.select_victims = clock_victims,
};

static const struct vl_repl_ops clock_clear_ops = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "clock",
	.help = "CLOCK / second chance, pages entering with their bit clear",
	.params = clock_params,
	.nparams = sizeof(clock_params) / sizeof(clock_params[0]),
	.init = clock_init,
	.fini = clock_fini,
	.on_map = clock_map_clear,
	.on_unmap = clock_unmap,
	.select_victims = clock_victims,
};
