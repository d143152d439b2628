/* policies/replacement/aging.c - aging (NFU with shifting counters).
 *
 * Tanenbaum, "Modern Operating Systems" (section 3.4.7, "Simulating LRU
 * in software").  Each resident page has a `bits`-bit counter.  At every
 * clock tick each counter is shifted right one bit and the page's R bit
 * (the PTE's accessed bit) enters at the left; R is then cleared.  The
 * victim is the page with the lowest counter; ties go to the page loaded
 * first.
 *
 * The tick: every `interval` accesses (0 = as many as there are frames).
 * It runs lazily at the first choice of a victim after it is due; if k
 * ticks are due at once the counters shift k places and R enters at the
 * left (the references are taken to be in the last interval).  A page
 * loaded since the last tick has counter 0 and its R bit set by the load;
 * until the next tick it ranks as if that tick had already happened
 * (counter = top bit), which is exactly what the tick will make it, so a
 * just-loaded page is not the next victim.
 *
 * State: the indexed frame heap of policy.h keyed on (counter, load order),
 * rebuilt at each tick (O(frames) per tick, which is O(1) per access with
 * the default interval).  The policy hears no hits.
 */
#include "vmlab/policy.h"

static const struct vl_key_def aging_params[] = {
	{ "bits", VL_KT_U64, "8", "counter width in bits", NULL, 1, 32, NULL },
	{ "interval", VL_KT_U64, "0", "accesses between ticks (0 = frames)", NULL, 0, 0, NULL },
};

struct aging {
	struct vl_fheap h; /* k1 = counter as ranked, k2 = load order */
	uint32_t *counter;
	uint32_t top;
	uint32_t bits;
	uint64_t interval, last_tick, next_seq;
};

static void aging_free(struct aging *o)
{
	vl_fheap_free(&o->h);
	free(o->counter);
	free(o);
}

static int aging_init(struct vl_repl *r, struct vl_error *err)
{
	struct aging *o = calloc(1, sizeof(*o));
	if (!o || vl_fheap_init(&o->h, r->nframes) < 0) {
		free(o);
		return vl_err(err, VL_ENOMEM, "aging: out of memory for %u frames", r->nframes);
	}
	o->counter = malloc((size_t)r->nframes * sizeof(*o->counter));
	if (!o->counter) {
		aging_free(o);
		return vl_err(err, VL_ENOMEM, "aging: out of memory for %u frames", r->nframes);
	}
	o->bits = (uint32_t)vl_config_u64(r->cfg, "replacement.aging.bits");
	o->top = 1u << (o->bits - 1);
	o->interval = vl_config_u64(r->cfg, "replacement.aging.interval");
	if (o->interval == 0)
		o->interval = r->nframes;
	r->priv = o;
	return 0;
}

static void aging_fini(struct vl_repl *r)
{
	aging_free(r->priv);
}

static void aging_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct aging *o = r->priv;
	(void)a;
	o->counter[f] = 0;
	o->h.k1[f] = o->top; /* what the next tick will make it */
	o->h.k2[f] = o->next_seq++;
	vl_fheap_push(&o->h, f);
}

static void aging_unmap(struct vl_repl *r, uint32_t f)
{
	struct aging *o = r->priv;
	vl_fheap_del(&o->h, f);
}

static void tick(struct vl_repl *r, struct aging *o, uint64_t k)
{
	for (uint32_t i = 0; i < o->h.n; i++) {
		uint32_t f = o->h.heap[i];
		uint32_t c = k >= o->bits ? 0 : o->counter[f] >> k;
		if (vl_repl_referenced(r, f, true))
			c |= o->top;
		o->counter[f] = c;
		o->h.k1[f] = c;
	}
	vl_fheap_rebuild(&o->h);
}

static size_t aging_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			    size_t want)
{
	struct aging *o = r->priv;
	(void)want;
	if (o->h.n == 0)
		return 0;
	if (ctx && ctx->cause && ctx->cause->time - o->last_tick >= o->interval) {
		uint64_t k = (ctx->cause->time - o->last_tick) / o->interval;
		tick(r, o, k);
		o->last_tick += k * o->interval;
	}
	out[0] = o->h.heap[0];
	return 1;
}

const struct vl_repl_ops vl_repl_aging = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "aging",
	.help = "aging: NFU with counters shifted at each tick, R bit entering at the left",
	.params = aging_params,
	.nparams = sizeof(aging_params) / sizeof(aging_params[0]),
	.init = aging_init,
	.fini = aging_fini,
	.on_map = aging_map,
	.on_unmap = aging_unmap,
	.select_victims = aging_victims,
};
