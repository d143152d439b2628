/* policies/tlb/random.c - a uniformly random way, from the run seed. */
#include "vmlab/policy.h"

static int rnd_init(struct vl_tlb_repl *t, struct vl_error *err)
{
	uint64_t *s = malloc(sizeof(*s));
	if (!s)
		return vl_err(err, VL_ENOMEM, "tlb random: out of memory");
	*s = t->seed;
	t->priv = s;
	return 0;
}

static void rnd_fini(struct vl_tlb_repl *t)
{
	free(t->priv);
}

static void rnd_insert(struct vl_tlb_repl *t, uint32_t set, uint32_t way)
{
	(void)t;
	(void)set;
	(void)way;
}

static uint32_t rnd_victim(struct vl_tlb_repl *t, uint32_t set)
{
	(void)set;
	return (uint32_t)vl_rand_below(t->priv, t->ways);
}

const struct vl_tlb_repl_ops vl_tlb_random = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "random",
	.help = "a uniformly random way (seeded by run.seed)",
	.init = rnd_init,
	.fini = rnd_fini,
	.insert = rnd_insert,
	.victim = rnd_victim,
};
