/* policies/tlb/lru.c - true LRU within a set.
 *
 * Each way carries the tick of its last use (insert or hit); the victim is
 * the way with the oldest tick.  O(ways) per victim, O(1) per use.
 * VL_TLB_REPL_LRU tells the engine so, and it then orders the ways from
 * its own use stamps without calling these hooks; they stay the
 * definition, and tests/unit/test_tlb.c runs them (a copy without the
 * flag) against the engine's inline order.
 */
#include "vmlab/policy.h"

struct lru {
	uint64_t tick;
	uint64_t *last; /* sets * ways */
};

static int lru_init(struct vl_tlb_repl *t, struct vl_error *err)
{
	struct lru *s = calloc(1, sizeof(*s));
	if (s)
		s->last = calloc((size_t)t->sets * t->ways, sizeof(*s->last));
	if (!s || !s->last) {
		free(s);
		return vl_err(err, VL_ENOMEM, "tlb lru: out of memory");
	}
	t->priv = s;
	return 0;
}

static void lru_fini(struct vl_tlb_repl *t)
{
	struct lru *s = t->priv;
	free(s->last);
	free(s);
}

static void lru_use(struct vl_tlb_repl *t, uint32_t set, uint32_t way)
{
	struct lru *s = t->priv;
	s->last[(size_t)set * t->ways + way] = ++s->tick;
}

static uint32_t lru_victim(struct vl_tlb_repl *t, uint32_t set)
{
	struct lru *s = t->priv;
	const uint64_t *l = s->last + (size_t)set * t->ways;
	uint32_t v = 0;
	for (uint32_t w = 1; w < t->ways; w++)
		if (l[w] < l[v])
			v = w;
	return v;
}

const struct vl_tlb_repl_ops vl_tlb_lru = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "lru",
	.help = "least recently used way of the set",
	.flags = VL_TLB_REPL_LRU, /* the engine keeps the order itself (sim/tlb.c) */
	.init = lru_init,
	.fini = lru_fini,
	.insert = lru_use,
	.touch = lru_use,
	.victim = lru_victim,
};
