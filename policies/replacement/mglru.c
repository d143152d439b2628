/* policies/replacement/mglru.c - multi-generational LRU, simplified.
 *
 * After Linux's MGLRU (Yu Zhao, mm/vmscan.c "lru_gen", Linux 6.1;
 * Documentation/mm/multigen_lru.rst).  Resident pages belong to
 * generations numbered min_seq .. max_seq (at most `gens` of them); a page
 * enters the youngest, max_seq.
 *
 *   aging:    opens a new youngest generation (max_seq + 1) when there is
 *             room, and scans the accessed bits of every resident page:
 *             pages accessed since the last look move to the new
 *             generation, their bits cleared.  It runs when only one
 *             generation is left (as Linux ages when eviction would run
 *             out of generations) and, with room, every `interval`
 *             accesses (0 = as many as there are frames).
 *   eviction: takes the oldest page of generation min_seq; if its
 *             accessed bit is set it is cleared and the page moves to the
 *             youngest generation instead (Linux's check at eviction).
 *             An empty oldest generation retires (min_seq + 1).
 *
 * Simplifications: no tiers, no refault feedback (PID controller), no
 * anon/file split, no page-table walks or Bloom filters: aging reads the
 * accessed bit of each resident page through the engine.  Scans run
 * lazily when a victim is chosen.  The policy hears no hits.
 */
#include "vmlab/policy.h"

static const struct vl_key_def mglru_params[] = {
	{ "gens", VL_KT_U64, "4", "maximum number of generations (Linux MAX_NR_GENS = 4)", NULL, 2,
	  64, NULL },
	{ "interval", VL_KT_U64, "0", "accesses between agings when there is room (0 = frames)", NULL,
	  0, 0, NULL },
};

struct mglru {
	struct vl_mlist g; /* list k holds generation seq with seq % gens == k; head = youngest */
	uint32_t gens;
	uint64_t min_seq, max_seq;
	uint64_t interval, last_aging;
	struct vl_lookahead ahead; /* along the oldest generation, for eviction */
};

static int mglru_init(struct vl_repl *r, struct vl_error *err)
{
	struct mglru *s = calloc(1, sizeof(*s));
	uint32_t gens = (uint32_t)vl_config_u64(r->cfg, "replacement.mglru.gens");
	if (!s || vl_mlist_init(&s->g, r->nframes, gens) < 0) {
		free(s);
		return vl_err(err, VL_ENOMEM, "mglru: out of memory for %u frames", r->nframes);
	}
	s->gens = gens;
	s->ahead = (struct vl_lookahead)VL_LOOKAHEAD_INIT;
	s->interval = vl_config_u64(r->cfg, "replacement.mglru.interval");
	if (s->interval == 0)
		s->interval = r->nframes;
	r->priv = s;
	return 0;
}

static void mglru_fini(struct vl_repl *r)
{
	struct mglru *s = r->priv;
	vl_mlist_free(&s->g);
	free(s);
}

static inline uint32_t gen(const struct mglru *s, uint64_t seq)
{
	return (uint32_t)(seq % s->gens);
}

static void mglru_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct mglru *s = r->priv;
	(void)a;
	vl_mlist_push_head(&s->g, gen(s, s->max_seq), f);
}

static void mglru_unmap(struct vl_repl *r, uint32_t f)
{
	struct mglru *s = r->priv;
	vl_mlist_del(&s->g, f);
}

/* Open generation max_seq + 1 and move accessed pages into it. */
static void age(struct vl_repl *r, struct mglru *s)
{
	uint32_t young = gen(s, ++s->max_seq);
	struct vl_lookahead ahead = VL_LOOKAHEAD_INIT;
	for (uint64_t seq = s->min_seq; seq < s->max_seq; seq++) {
		struct vl_mlist *l = &s->g;
		uint32_t k = gen(s, seq);
		for (uint32_t f = l->tail[k], n = l->len[k]; n-- > 0;) {
			vl_lookahead_mlist(r, &ahead, l, k);
			uint32_t up = l->link[f].prev;
			if (vl_repl_referenced(r, f, true)) {
				vl_mlist_del(l, f);
				vl_mlist_push_head(l, young, f);
			}
			f = up;
		}
	}
	vl_lookahead_reset(&s->ahead); /* the lists were reordered */
}

static size_t mglru_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			    size_t want)
{
	struct mglru *s = r->priv;
	(void)want;
	uint32_t total = 0;
	for (uint32_t k = 0; k < s->gens; k++)
		total += s->g.len[k];
	if (total == 0)
		return 0;
	if (ctx && ctx->cause && ctx->cause->time - s->last_aging >= s->interval &&
	    s->max_seq - s->min_seq + 1 < s->gens) {
		age(r, s);
		s->last_aging = ctx->cause->time;
	}
	for (;;) {
		while (s->g.len[gen(s, s->min_seq)] == 0 && s->min_seq < s->max_seq)
			s->min_seq++;
		if (s->min_seq == s->max_seq) {
			age(r, s);
			continue;
		}
		uint32_t k = gen(s, s->min_seq), f = s->g.tail[k];
		vl_lookahead_mlist(r, &s->ahead, &s->g, k);
		if (!vl_repl_referenced(r, f, true)) {
			out[0] = f;
			return 1;
		}
		vl_mlist_del(&s->g, f);
		vl_mlist_push_head(&s->g, gen(s, s->max_seq), f);
	}
}

const struct vl_repl_ops vl_repl_mglru = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "mglru",
	.help = "multi-generational LRU (Linux 6.1), simplified: generations aged by accessed bits",
	.params = mglru_params,
	.nparams = sizeof(mglru_params) / sizeof(mglru_params[0]),
	.init = mglru_init,
	.fini = mglru_fini,
	.on_map = mglru_map,
	.on_unmap = mglru_unmap,
	.select_victims = mglru_victims,
};
