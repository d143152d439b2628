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
 * State: no heap.  Between two ticks no counter changes (the policy hears
 * no hits), so the victim order is fixed there: the pages resident at the
 * last tick, sorted by (counter, load order) at the tick (a stable radix
 * sort of the pages taken in load order, 8 bits of counter a pass), read
 * through with a cursor; and the pages loaded since, which all rank as
 * the top bit in load order, so after every old page of counter <= top
 * and before the others.  The victim is the first of the two sequences.
 * A page that leaves is marked and skipped when the cursor reaches it.
 * O(frames) per tick as before (O(1) per access with the default
 * interval), O(1) amortized per victim.  The policy hears no hits.
 */
#include "vmlab/policy.h"

static const struct vl_key_def aging_params[] = {
	{ "bits", VL_KT_U64, "8", "counter width in bits", NULL, 1, 32, NULL },
	{ "interval", VL_KT_U64, "0", "accesses between ticks (0 = frames)", NULL, 0, 0, NULL },
};

enum { OUT, OLD, FRESH }; /* a frame: not resident; sorted at the last tick; loaded since */

struct aging {
	struct vl_flist all;   /* resident pages in load order: head oldest */
	struct vl_flist fresh; /* pages loaded since the last tick: head oldest */
	uint32_t *counter;
	uint8_t *state;
	uint32_t *order, *tmp; /* order[cur .. n_order): old pages by (counter, load) */
	uint32_t n_order, cur;
	uint32_t top;
	uint32_t bits;
	uint64_t interval, last_tick;
};

static void aging_free(struct aging *o)
{
	vl_flist_free(&o->all);
	vl_flist_free(&o->fresh);
	free(o->counter);
	free(o->state);
	free(o->order);
	free(o->tmp);
	free(o);
}

static int aging_init(struct vl_repl *r, struct vl_error *err)
{
	struct aging *o = calloc(1, sizeof(*o));
	size_t n = (size_t)r->nframes + 1;
	if (!o)
		goto oom;
	int rc = vl_flist_init(&o->all, r->nframes);
	rc |= vl_flist_init(&o->fresh, r->nframes);
	o->counter = malloc(n * sizeof(*o->counter));
	o->state = calloc(n, 1);
	o->order = malloc(n * sizeof(*o->order));
	o->tmp = malloc(n * sizeof(*o->tmp));
	if (rc || !o->counter || !o->state || !o->order || !o->tmp) {
		aging_free(o);
		goto oom;
	}
	o->bits = (uint32_t)vl_config_u64(r->cfg, "replacement.aging.bits");
	o->top = 1u << (o->bits - 1);
	o->interval = vl_config_u64(r->cfg, "replacement.aging.interval");
	if (o->interval == 0)
		o->interval = r->nframes;
	r->priv = o;
	return 0;
oom:
	return vl_err(err, VL_ENOMEM, "aging: out of memory for %u frames", r->nframes);
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
	o->state[f] = FRESH;
	vl_flist_push_tail(&o->all, f);
	vl_flist_push_tail(&o->fresh, f);
}

static void aging_unmap(struct vl_repl *r, uint32_t f)
{
	struct aging *o = r->priv;
	vl_flist_del(&o->all, f);
	if (o->state[f] == FRESH)
		vl_flist_del(&o->fresh, f);
	o->state[f] = OUT; /* an OLD entry in order[] is skipped from now on */
}

static void tick(struct vl_repl *r, struct aging *o, uint64_t k)
{
	uint32_t n = 0;
	for (uint32_t f = o->all.head; f != VL_FLIST_OUT; f = o->all.next[f]) {
		uint32_t c = k >= o->bits ? 0 : o->counter[f] >> k;
		if (vl_repl_referenced(r, f, true))
			c |= o->top;
		o->counter[f] = c;
		o->state[f] = OLD;
		o->order[n++] = f;
	}
	/* stable LSD radix sort on the counter: load order breaks ties */
	uint32_t *a = o->order, *b = o->tmp;
	for (uint32_t shift = 0; shift < o->bits; shift += 8) {
		uint32_t cnt[257] = { 0 };
		for (uint32_t i = 0; i < n; i++)
			cnt[((o->counter[a[i]] >> shift) & 0xff) + 1]++;
		if (cnt[1] == n) /* every digit 0: nothing moves */
			continue;
		for (uint32_t d = 1; d < 257; d++)
			cnt[d] += cnt[d - 1];
		for (uint32_t i = 0; i < n; i++)
			b[cnt[(o->counter[a[i]] >> shift) & 0xff]++] = a[i];
		uint32_t *t = a;
		a = b;
		b = t;
	}
	o->order = a;
	o->tmp = b;
	o->n_order = n;
	o->cur = 0;
	while (o->fresh.len)
		vl_flist_del(&o->fresh, o->fresh.head);
}

static size_t aging_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			    size_t want)
{
	struct aging *o = r->priv;
	(void)want;
	if (o->all.len == 0)
		return 0;
	if (ctx && ctx->cause && ctx->cause->time - o->last_tick >= o->interval) {
		uint64_t k = (ctx->cause->time - o->last_tick) / o->interval;
		tick(r, o, k);
		o->last_tick += k * o->interval;
	}
	while (o->cur < o->n_order && o->state[o->order[o->cur]] != OLD)
		o->cur++;
	/* the first old page, unless the pages loaded since rank before it */
	if (o->cur < o->n_order && (o->fresh.len == 0 || o->counter[o->order[o->cur]] <= o->top))
		out[0] = o->order[o->cur];
	else
		out[0] = o->fresh.head;
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
