/* policies/replacement/random.c - uniformly random victim.
 *
 * The classic baseline (Belady 1966).  Resident frames are kept in a dense
 * array with each frame's position, so picking, adding and removing are
 * O(1).  Seeded from run.seed: the same seed gives the same victims.
 */
#include "vmlab/policy.h"

struct rnd {
	uint32_t *set;  /* resident frames, dense */
	uint32_t *pos;  /* frame -> index in set */
	uint32_t n;
	uint64_t state;
	uint64_t peek; /* state, VL_REPL_PREFETCH_AHEAD draws later (each draw
			* is one step of the generator, whatever the range) */
};

static int random_init(struct vl_repl *r, struct vl_error *err)
{
	struct rnd *s = calloc(1, sizeof(*s));
	if (s) {
		s->set = malloc((size_t)r->nframes * sizeof(*s->set));
		s->pos = malloc((size_t)r->nframes * sizeof(*s->pos));
	}
	if (!s || !s->set || !s->pos) {
		if (s) {
			free(s->set);
			free(s->pos);
		}
		free(s);
		return vl_err(err, VL_ENOMEM, "random: out of memory for %u frames", r->nframes);
	}
	s->state = r->seed ^ 0x72616e646f6dull; /* "random" */
	s->peek = s->state;
	for (int i = 0; i < VL_REPL_PREFETCH_AHEAD; i++)
		(void)vl_rand_next(&s->peek);
	r->priv = s;
	return 0;
}

static void random_fini(struct vl_repl *r)
{
	struct rnd *s = r->priv;
	free(s->set);
	free(s->pos);
	free(s);
}

static void random_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct rnd *s = r->priv;
	(void)a;
	s->pos[f] = s->n;
	s->set[s->n++] = f;
}

static void random_unmap(struct vl_repl *r, uint32_t f)
{
	struct rnd *s = r->priv;
	uint32_t i = s->pos[f], last = s->set[--s->n];
	s->set[i] = last;
	s->pos[last] = i;
}

static size_t random_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			     size_t want)
{
	struct rnd *s = r->priv;
	(void)ctx;
	if (want > s->n)
		want = s->n;
	/* Partial Fisher-Yates over the tail of set: distinct victims. */
	for (size_t k = 0; k < want; k++) {
		uint32_t end = s->n - (uint32_t)k;
		uint32_t i = (uint32_t)vl_rand_below(&s->state, end);
		uint32_t f = s->set[i], g = s->set[end - 1];
		s->set[i] = g;
		s->pos[g] = i;
		s->set[end - 1] = f;
		s->pos[f] = end - 1;
		out[k] = f;
		/* announce the victim of the draw VL_REPL_PREFETCH_AHEAD from
		 * now, as it will be if memory stays as full and that part of
		 * the set unmoved (a hint: its frame record and page-table
		 * entry, which the eviction reads) */
		vl_repl_prefetch(r, s->set[vl_rand_below(&s->peek, s->n)]);
	}
	return want;
}

const struct vl_repl_ops vl_repl_random = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "random",
	.help = "uniformly random victim (seeded by run.seed)",
	.init = random_init,
	.fini = random_fini,
	.on_map = random_map,
	.on_unmap = random_unmap,
	.select_victims = random_victims,
};
