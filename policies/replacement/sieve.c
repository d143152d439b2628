/* policies/replacement/sieve.c - SIEVE.
 *
 * Zhang, Yang, Yue, Vigfusson and Rashmi, "SIEVE is Simpler than LRU: an
 * Efficient Turn-Key Eviction Algorithm for Web Caches", NSDI 2024.
 *
 * One FIFO queue, newest at the head, and a hand that starts at the tail
 * and moves toward the head.  Each page has a visited bit, set by a hit
 * and not by the load.  To evict: while the page under the hand is
 * visited, clear the bit and move the hand toward the head (wrapping from
 * the head to the tail); the first unvisited page is the victim and the
 * hand stays at its neighbour toward the head.  Pages never move in the
 * queue: survivors keep their place ("lazy promotion"), new pages enter at
 * the head.
 *
 * The visited bit is the PTE's accessed bit, read and cleared through the
 * engine as an OS would; the policy hears no hits.  Because the faulting
 * access sets A, on_map clears it: in SIEVE a newly inserted object is
 * not visited.  (Clearing A also drops the page's translation from the
 * TLBs, as the engine's service does for every clear.)
 */
#include "vmlab/policy.h"

struct sieve {
	struct vl_flist q; /* head = newest */
	uint32_t hand;     /* VL_FLIST_OUT = start at the tail */
};

static int sieve_init(struct vl_repl *r, struct vl_error *err)
{
	struct sieve *s = malloc(sizeof(*s));
	if (!s || vl_flist_init(&s->q, r->nframes) < 0) {
		free(s);
		return vl_err(err, VL_ENOMEM, "sieve: out of memory for %u frames", r->nframes);
	}
	s->hand = VL_FLIST_OUT;
	r->priv = s;
	return 0;
}

static void sieve_fini(struct vl_repl *r)
{
	struct sieve *s = r->priv;
	vl_flist_free(&s->q);
	free(s);
}

static void sieve_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct sieve *s = r->priv;
	(void)a;
	vl_repl_referenced(r, f, true); /* inserted unvisited */
	vl_flist_push_head(&s->q, f);
}

static void sieve_unmap(struct vl_repl *r, uint32_t f)
{
	struct sieve *s = r->priv;
	if (s->hand == f)
		s->hand = s->q.prev[f]; /* toward the head; OUT wraps to the tail */
	vl_flist_del(&s->q, f);
}

static size_t sieve_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			    size_t want)
{
	struct sieve *s = r->priv;
	(void)ctx;
	(void)want;
	if (s->q.len == 0)
		return 0;
	/* One lap clears every bit, so this ends within two laps. */
	uint32_t o = s->hand != VL_FLIST_OUT ? s->hand : s->q.tail;
	while (vl_repl_referenced(r, o, true)) {
		o = s->q.prev[o];
		if (o == VL_FLIST_OUT)
			o = s->q.tail;
	}
	s->hand = s->q.prev[o];
	out[0] = o;
	return 1;
}

const struct vl_repl_ops vl_repl_sieve = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "sieve",
	.help = "SIEVE (NSDI'24): FIFO with a visited bit and a hand that never moves pages",
	.init = sieve_init,
	.fini = sieve_fini,
	.on_map = sieve_map,
	.on_unmap = sieve_unmap,
	.select_victims = sieve_victims,
};
