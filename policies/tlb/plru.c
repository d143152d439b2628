/* policies/tlb/plru.c - tree pseudo-LRU.
 *
 * The classic binary-tree PLRU of set-associative caches and TLBs (e.g.
 * the i486 cache; Al-Zoubi et al., "Performance evaluation of cache
 * replacement policies for the SPEC CPU2000 benchmark suite", 2004): ways
 * are the leaves of a complete binary tree with one bit per inner node
 * pointing towards the less recently used half.  A use of a way sets the
 * bits on its path to point away from it; the victim is found by
 * following the bits from the root.  ways must be a power of two (one way
 * is allowed: the tree is empty).  Node i's children are 2i+1 and 2i+2;
 * bit 0 means "go left".
 */
#include "vmlab/policy.h"

struct plru {
	uint8_t *bits; /* sets * (ways - 1) */
	unsigned depth;
};

static int plru_init(struct vl_tlb_repl *t, struct vl_error *err)
{
	if (t->ways & (t->ways - 1))
		return vl_err(err, VL_EINVAL, "plru needs a power-of-two number of ways, not %u",
			      t->ways);
	struct plru *s = calloc(1, sizeof(*s));
	if (s)
		s->bits = calloc((size_t)t->sets * t->ways, 1);
	if (!s || !s->bits) {
		free(s);
		return vl_err(err, VL_ENOMEM, "tlb plru: out of memory");
	}
	while ((1u << s->depth) < t->ways)
		s->depth++;
	t->priv = s;
	return 0;
}

static void plru_fini(struct vl_tlb_repl *t)
{
	struct plru *s = t->priv;
	free(s->bits);
	free(s);
}

static void plru_use(struct vl_tlb_repl *t, uint32_t set, uint32_t way)
{
	struct plru *s = t->priv;
	uint8_t *b = s->bits + (size_t)set * t->ways;
	uint32_t node = 0;
	for (unsigned d = s->depth; d-- > 0;) {
		unsigned right = (way >> d) & 1;
		b[node] = (uint8_t)!right; /* point at the other half */
		node = 2 * node + 1 + right;
	}
}

static uint32_t plru_victim(struct vl_tlb_repl *t, uint32_t set)
{
	struct plru *s = t->priv;
	const uint8_t *b = s->bits + (size_t)set * t->ways;
	uint32_t node = 0, way = 0;
	for (unsigned d = 0; d < s->depth; d++) {
		unsigned right = b[node];
		way = (way << 1) | right;
		node = 2 * node + 1 + right;
	}
	return way;
}

const struct vl_tlb_repl_ops vl_tlb_plru = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "plru",
	.help = "tree pseudo-LRU (one bit per inner node; ways a power of two)",
	.init = plru_init,
	.fini = plru_fini,
	.insert = plru_use,
	.touch = plru_use,
	.victim = plru_victim,
};
