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
 * State: a binary min-heap keyed on (counter, load order), rebuilt at each
 * tick (O(frames) per tick, which is O(1) per access with the default
 * interval).  The policy hears no hits.
 */
#include "vmlab/policy.h"

static const struct vl_key_def aging_params[] = {
	{ "bits", VL_KT_U64, "8", "counter width in bits", NULL, 1, 32, NULL },
	{ "interval", VL_KT_U64, "0", "accesses between ticks (0 = frames)", NULL, 0, 0, NULL },
};

struct aging {
	uint32_t *heap, *pos;
	uint32_t *counter, *key;
	uint64_t *seq;
	uint32_t n, top;
	uint32_t bits;
	uint64_t interval, last_tick, next_seq;
};

static inline bool less(const struct aging *o, uint32_t a, uint32_t b)
{
	if (o->key[a] != o->key[b])
		return o->key[a] < o->key[b];
	return o->seq[a] < o->seq[b];
}

static inline void place(struct aging *o, uint32_t i, uint32_t f)
{
	o->heap[i] = f;
	o->pos[f] = i;
}

static void sift_up(struct aging *o, uint32_t i)
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

static void sift_down(struct aging *o, uint32_t i)
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

static void aging_free(struct aging *o)
{
	free(o->heap);
	free(o->pos);
	free(o->counter);
	free(o->key);
	free(o->seq);
	free(o);
}

static int aging_init(struct vl_repl *r, struct vl_error *err)
{
	struct aging *o = calloc(1, sizeof(*o));
	size_t n = r->nframes;
	if (o) {
		o->heap = malloc(n * sizeof(*o->heap));
		o->pos = malloc(n * sizeof(*o->pos));
		o->counter = malloc(n * sizeof(*o->counter));
		o->key = malloc(n * sizeof(*o->key));
		o->seq = malloc(n * sizeof(*o->seq));
	}
	if (!o || !o->heap || !o->pos || !o->counter || !o->key || !o->seq) {
		if (o)
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
	o->key[f] = o->top; /* what the next tick will make it */
	o->seq[f] = o->next_seq++;
	place(o, o->n++, f);
	sift_up(o, o->n - 1);
}

static void aging_unmap(struct vl_repl *r, uint32_t f)
{
	struct aging *o = r->priv;
	uint32_t i = o->pos[f];
	o->n--;
	if (i == o->n)
		return;
	uint32_t g = o->heap[o->n];
	place(o, i, g);
	sift_up(o, i);
	sift_down(o, o->pos[g]);
}

static void tick(struct vl_repl *r, struct aging *o, uint64_t k)
{
	for (uint32_t i = 0; i < o->n; i++) {
		uint32_t f = o->heap[i];
		uint32_t c = k >= o->bits ? 0 : o->counter[f] >> k;
		if (vl_repl_referenced(r, f, true))
			c |= o->top;
		o->counter[f] = o->key[f] = c;
	}
	for (uint32_t i = o->n / 2; i-- > 0;)
		sift_down(o, i);
}

static size_t aging_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			    size_t want)
{
	struct aging *o = r->priv;
	(void)want;
	if (o->n == 0)
		return 0;
	if (ctx && ctx->cause && ctx->cause->time - o->last_tick >= o->interval) {
		uint64_t k = (ctx->cause->time - o->last_tick) / o->interval;
		tick(r, o, k);
		o->last_tick += k * o->interval;
	}
	out[0] = o->heap[0];
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
