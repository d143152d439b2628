/* policies/tlb/fifo.c - first in, first out within a set.
 *
 * A per-set round-robin pointer: the victim is the way filled longest ago.
 * Hits do not matter (touch is NULL).  Because the engine fills invalid
 * ways first, the pointer alone is not enough after an invalidation; each
 * way keeps its fill tick and the victim is the oldest.
 */
#include "vmlab/policy.h"

struct fifo {
	uint64_t tick;
	uint64_t *filled; /* sets * ways */
};

static int fifo_init(struct vl_tlb_repl *t, struct vl_error *err)
{
	struct fifo *s = calloc(1, sizeof(*s));
	if (s)
		s->filled = calloc((size_t)t->sets * t->ways, sizeof(*s->filled));
	if (!s || !s->filled) {
		free(s);
		return vl_err(err, VL_ENOMEM, "tlb fifo: out of memory");
	}
	t->priv = s;
	return 0;
}

static void fifo_fini(struct vl_tlb_repl *t)
{
	struct fifo *s = t->priv;
	free(s->filled);
	free(s);
}

static void fifo_insert(struct vl_tlb_repl *t, uint32_t set, uint32_t way)
{
	struct fifo *s = t->priv;
	s->filled[(size_t)set * t->ways + way] = ++s->tick;
}

static uint32_t fifo_victim(struct vl_tlb_repl *t, uint32_t set)
{
	struct fifo *s = t->priv;
	const uint64_t *f = s->filled + (size_t)set * t->ways;
	uint32_t v = 0;
	for (uint32_t w = 1; w < t->ways; w++)
		if (f[w] < f[v])
			v = w;
	return v;
}

const struct vl_tlb_repl_ops vl_tlb_fifo = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "fifo",
	.help = "first in, first out: replace the way filled longest ago",
	.init = fifo_init,
	.fini = fifo_fini,
	.insert = fifo_insert,
	.victim = fifo_victim,
};
